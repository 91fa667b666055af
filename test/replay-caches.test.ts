/**
 * Issue 17: writing outputs keeps the caches on — for IPv6 too (a dual-stack capture). `replayCapture` with `outDir` at the default levels (the wire's
 * capture and the summary trace) and with a report serves established flows and repeated ARP requests from the
 * caches (new clients' first ARP requests too), and writes byte for byte what the uncached run writes; the report's steps are recorded only for the
 * frames it embeds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterFrom, DEFAULT_CLUSTER, defaultObjects, loadManifests, replayCapture, withDefaults, type K8sObject, type SimulatedCluster } from '@vippath/cluster';
import { memorySink, PcapWriter } from '@vippath/pcap';
import { buildFrame } from '@vippath/wire';

const VIP = '10.180.204.252';
const dir = mkdtempSync(join(tmpdir(), 'vippath-replay-caches-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Clients that ARP for the VIP (twice), open a connection, send pure ACKs, and a request, and a frame on another VLAN; 1 ms apart. */
function capture(clients: number): string {
  const sink = memorySink();
  const w = new PcapWriter(sink);
  let t = 1_700_000_000_000_000_000n;
  const put = (data: Uint8Array): void => {
    w.write({ timestamp: t, data });
    t += 1_000_000n;
  };
  for (let c = 0; c < clients; c++) {
    const ip = `10.181.0.${10 + c}`;
    const mac = `52:54:00:cc:00:${(10 + c).toString(16).padStart(2, '0')}`;
    const arp = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: mac, vlans: [341], arp: { op: 1, senderMac: mac, senderIp: ip, targetMac: '00:00:00:00:00:00', targetIp: VIP }, padTo: 60 });
    const tcp = (flags: number, payload?: string): Uint8Array => buildFrame({ dst: '52:54:00:bb:00:03', src: mac, vlans: [341], ipv4: { src: ip, dst: VIP }, tcp: { srcPort: 40000 + c, dstPort: 80, flags, seq: 1001, ack: 1, ...(payload ? { payload: new TextEncoder().encode(payload) } : {}) } });
    put(arp);
    put(arp);
    put(tcp(0x02));
    for (let i = 0; i < 6; i++) put(tcp(0x10));
    put(tcp(0x18, 'GET /clientip HTTP/1.1\r\n\r\n'));
    put(arp);
    // On another VLAN: flooded, dropped by every NIC.
    put(buildFrame({ dst: '52:54:00:bb:00:03', src: mac, vlans: [100], ipv4: { src: ip, dst: VIP }, tcp: { srcPort: 50000 + c, dstPort: 80, flags: 0x02 } }));
  }
  const path = join(dir, `clients-${clients}.pcap`);
  writeFileSync(path, sink.bytes());
  return path;
}

const VIP6 = 'fd00:10:180::fc';
const DUAL = readFileSync(new URL('./fixtures/manifests/dual-stack.yaml', import.meta.url), 'utf8');
const dualObjects = (): K8sObject[] => withDefaults(loadManifests(DUAL, 'dual-stack.yaml').objects);

/**
 * A dual-stack capture: clients (behind three MACs) that solicit the IPv6 VIP's owner (twice), open a connection to it (the first
 * SYN to the owner node3's MAC, learned from its advertisement), send pure ACKs and a request — each client also
 * an IPv4 connection with ACKs to the IPv4 VIP; 1 ms apart.
 */
function capture6(clients: number): string {
  const sink = memorySink();
  const w = new PcapWriter(sink);
  let t = 1_700_000_000_000_000_000n;
  const put = (data: Uint8Array): void => {
    w.write({ timestamp: t, data });
    t += 1_000_000n;
  };
  const owner = '52:54:00:bb:00:03';
  for (let c = 0; c < clients; c++) {
    // Three MACs (clients behind three routers): the pods' answers to one share a way-back entry.
    const mac = `52:54:00:cc:00:${(10 + (c % 3)).toString(16).padStart(2, '0')}`;
    const ip6 = `fd00:10:180::${(0x80 + c).toString(16)}`;
    const ns = buildFrame({ dst: '33:33:ff:00:00:fc', src: mac, vlans: [341], ipv6: { src: ip6, dst: 'ff02::1:ff00:fc', hopLimit: 255 }, ndp: { type: 135, router: false, solicited: false, override: false, target: VIP6, options: [{ type: 1, data: Uint8Array.from(mac.split(':').map((x) => parseInt(x, 16))) }] } });
    const tcp6 = (flags: number, payload?: string): Uint8Array => buildFrame({ dst: owner, src: mac, vlans: [341], ipv6: { src: ip6, dst: VIP6, flowLabel: c }, tcp: { srcPort: 40000 + c, dstPort: 80, flags, seq: 1001, ack: 1, ...(payload ? { payload: new TextEncoder().encode(payload) } : {}) } });
    const tcp4 = (flags: number): Uint8Array => buildFrame({ dst: owner, src: mac, vlans: [341], ipv4: { src: `10.181.0.${10 + c}`, dst: VIP }, tcp: { srcPort: 41000 + c, dstPort: 80, flags, seq: 1001, ack: 1 } });
    put(ns);
    put(ns);
    put(tcp6(0x02));
    for (let i = 0; i < 6; i++) put(tcp6(0x10));
    put(tcp6(0x18, 'GET /clientip HTTP/1.1\r\n\r\n'));
    put(ns);
    put(tcp4(0x02));
    for (let i = 0; i < 3; i++) put(tcp4(0x10));
  }
  const path = join(dir, `clients6-${clients}.pcap`);
  writeFileSync(path, sink.bytes());
  return path;
}

describe('replayCapture with outputs, caches on', () => {
  const pcap = capture(12);

  it('--out at the default levels: the same wire.pcapng, trace.jsonl and summary as without the caches, with the caches used', async () => {
    const files = ['wire.pcapng', 'trace.jsonl', 'summary.json'];
    const out = async (flowCache: boolean): Promise<{ bytes: Buffer[]; hits: number; arpHits: number; newArpHits: number }> => {
      const outDir = join(dir, `out-${flowCache}`);
      const { sim } = await replayCapture(pcap, defaultObjects(), DEFAULT_CLUSTER, { outDir, simulation: { flowCache } });
      const c = sim.cacheStats();
      return { bytes: files.map((f) => readFileSync(join(outDir, f))), hits: c.hits, arpHits: c.arpHits, newArpHits: c.newArpHits };
    };
    const cached = await out(true);
    const uncached = await out(false);
    for (let i = 0; i < files.length; i++) expect(cached.bytes[i]!.equals(uncached.bytes[i]!), files[i]).toBe(true);
    // 12 clients × 5 ACKs after each flow's first, and the ARP requests after each client's first two.
    expect(cached.hits).toBeGreaterThanOrEqual(12 * 4);
    expect(cached.arpHits).toBeGreaterThanOrEqual(12);
    // Each client's first request is a new client's: the first makes the new-ARP entry, the other 11 are served by it.
    expect(cached.newArpHits).toBe(11);
    expect(uncached.hits + uncached.arpHits + uncached.newArpHits).toBe(0);
    // Without outputs the replay takes process()'s path (drops counted, not listed): the same verdicts and drops.
    const plain = (await replayCapture(pcap, defaultObjects(), DEFAULT_CLUSTER)).summary;
    const written = JSON.parse(cached.bytes[2]!.toString('utf8')) as typeof plain;
    expect(plain.verdicts).toEqual(written.verdicts);
    expect(plain.dropCodes).toEqual(written.dropCodes);
    expect(plain.verdicts.dropped).toBeGreaterThan(0);
  });

  it('--report: steps for the frames the page embeds only, then the caches; the same page and summary as without them', async () => {
    const run = async (flowCache: boolean): Promise<{ page: string; summary: unknown; hits: number; tracing: boolean }> => {
      const report = join(dir, `report-${flowCache}.html`);
      const { sim, summary } = await replayCapture(pcap, defaultObjects(), DEFAULT_CLUSTER, { report, reportFrames: 20, simulation: { flowCache } });
      return { page: readFileSync(report, 'utf8'), summary, hits: sim.cacheStats().hits + sim.cacheStats().arpHits, tracing: sim.tracing };
    };
    const cached = await run(true);
    const uncached = await run(false);
    expect(cached.summary).toEqual(uncached.summary);
    expect(cached.page).toBe(uncached.page);
    // Past the 20 embedded frames nothing records steps, and the caches serve what they can.
    expect(cached.tracing).toBe(false);
    expect(cached.hits).toBeGreaterThan(40);
    // The page embeds 20 traced frames, each with its steps.
    const embedded = cached.page.match(/"stages":\[\{/g) ?? [];
    expect(embedded.length).toBeGreaterThanOrEqual(15);
  });

  it('a dual-stack capture (IPv6 NS, connections and requests to the IPv6 VIP, IPv4 beside them): the same files as without the caches, IPv6 served', async () => {
    const pcap6 = capture6(12);
    const files = ['wire.pcapng', 'trace.jsonl', 'summary.json'];
    const objects = dualObjects();
    const cluster = clusterFrom(objects);
    const out = async (flowCache: boolean): Promise<{ bytes: Buffer[]; stats: ReturnType<SimulatedCluster['cacheStats']> }> => {
      const outDir = join(dir, `out6-${flowCache}`);
      const { sim } = await replayCapture(pcap6, dualObjects(), cluster, { outDir, simulation: { flowCache } });
      return { bytes: files.map((f) => readFileSync(join(outDir, f))), stats: sim.cacheStats() };
    };
    const cached = await out(true);
    const uncached = await out(false);
    for (let i = 0; i < files.length; i++) expect(cached.bytes[i]!.equals(uncached.bytes[i]!), files[i]).toBe(true);
    const summary = JSON.parse(cached.bytes[2]!.toString('utf8')) as { verdicts: Record<string, number>; backends: Record<string, Record<string, number>>; edges: Array<{ from: string; to: string; frames: number }> };
    expect(summary.verdicts.delivered).toBeGreaterThan(12);
    // The LB's selections count both families: each client's IPv6 and IPv4 SYN, all to node3's own pod (prefer-local
    // for the IPv6 VIP too). IPv4 alone would give 12.
    expect(summary.backends).toEqual({ node3: { 'deploy-169402624-2': 24 } });
    // The LB step shows on the IPv6 frames' way (DNAT in, un-DNAT out): more than the 12 × (SYN + 3 ACKs) IPv4 give.
    const lbIn = summary.edges.find((e) => e.from === 'node3/underlay-subnet' && e.to === 'node3/lb-dnat')?.frames ?? 0;
    expect(lbIn).toBeGreaterThan(12 * 4);
    // Per client: the IPv6 ACKs and request after the entry is made, the IPv4 ACKs; the third NS of each client
    // (its second makes the entry). IPv4 alone would give 12 × 3 hits at most.
    expect(cached.stats.hits).toBeGreaterThan(12 * 3 + 12 * 5);
    // No ARP in this capture: these are neighbor solicitations answered from the ARP cache.
    expect(cached.stats.arpHits).toBeGreaterThanOrEqual(12);
    expect(cached.stats.backHits).toBeGreaterThan(0);
    expect(uncached.stats.hits + uncached.stats.arpHits).toBe(0);
  });
});
