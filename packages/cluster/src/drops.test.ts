import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { memorySink, PcapWriter } from '@vippath/pcap';
import { DropReason } from '@vippath/ovn';
import { buildFrame } from '@vippath/wire';
import { DROP_KEY, DROP_TEXT, isDropCode, METALLB_DROP_CODE, ovnDropCode, POD_DROP_CODE } from './drops.js';
import { replayCapture } from './replay.js';
import { DEFAULT_CLUSTER, defaultObjects } from './scenario.js';

const ADDRESS = /\d+\.\d+\.\d+\.\d+|[0-9a-f]{2}(:[0-9a-f]{2}){5}/i;

/** Frames that are dropped for reasons which used to carry an address or a number in their words. */
function hostile(n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const c = `10.${181 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    const mac = `52:54:00:cc:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    // Another VLAN each time (1..4094 but 341), an ARP for an address nobody holds, a frame to an unknown MAC.
    const vid = 1 + (i % 4093) + (1 + (i % 4093) >= 341 ? 1 : 0);
    out.push(buildFrame({ dst: '52:54:00:bb:00:03', src: mac, vlans: [vid], ipv4: { src: c, dst: '10.180.204.252' }, tcp: { srcPort: 1024 + i, dstPort: 80 } }));
    out.push(buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: mac, vlans: [341], arp: { op: 1, senderMac: mac, senderIp: c, targetMac: '00:00:00:00:00:00', targetIp: `10.180.204.${(i % 200) + 20}` }, padTo: 60 }));
    out.push(buildFrame({ dst: `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, src: mac, vlans: [341], ipv4: { src: c, dst: `10.180.204.${(i % 200) + 20}` }, udp: { srcPort: 1000 + i, dstPort: 53 } }));
  }
  return out;
}

function capture(frames: Uint8Array[]): Readable {
  const sink = memorySink();
  const w = new PcapWriter(sink);
  frames.forEach((f, i) => w.write({ timestamp: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, data: f }));
  return Readable.from([sink.bytes()]);
}

describe('coded drop reasons', () => {
  it('the table: every code is <stage>.<what>, its words and summary key hold no address', () => {
    const codes = Object.keys(DROP_TEXT);
    for (const code of codes) {
      expect(code).toMatch(/^(wire|nic|br-provider|metallb|host|ovn|pod)\.[A-Za-z0-9-]+$/);
      expect(isDropCode(code)).toBe(true);
      expect(DROP_KEY[code as keyof typeof DROP_TEXT]).not.toMatch(ADDRESS);
    }
    expect(isDropCode('toString')).toBe(false);
    // The executor's DropReason numbers, in order; anything else is "no output".
    const R = DropReason;
    expect([R.DROP_ACTION, R.NO_MATCH, R.ACTIONS_END, R.NULL_OUTPORT, R.LOOPBACK, R.UNKNOWN_OUTPORT, R.UNBOUND, R.LOCALNET_TAG, R.TOO_DEEP, R.UNMODELLED_ACTION, R.TTL_EXCEEDED].map(ovnDropCode)).toEqual(['ovn.drop-action', 'ovn.no-match', 'ovn.actions-end', 'ovn.null-outport', 'ovn.loopback', 'ovn.unknown-outport', 'ovn.unbound', 'ovn.localnet-tag', 'ovn.too-deep', 'ovn.unmodelled-action', 'ovn.ttl-exceeded']);
    expect(Object.keys(R)).toHaveLength(11);
    expect(ovnDropCode(-1)).toBe('ovn.no-output');
    expect(ovnDropCode(99)).toBe('ovn.no-output');
    // Every responder reason and pod refusal has its code (a missing one would count as undefined).
    for (const r of ['arpReply', 'ethernetDestination', 'notMatchInterface', 'announceIP', 'messageType', 'noSourceLL', 'ownLinkLocal', 'notListening', 'noResponder', 'malformed']) expect(METALLB_DROP_CODE[r]).toBe(`metallb.${r}`);
    for (const r of ['malformed', 'not-its-mac', 'arp-reply', 'arp-not-its-ip', 'ipv6', 'ethertype', 'not-its-ip', 'ip-proto', 'rst-closed-port'] as const) expect(POD_DROP_CODE[r]).toBe(`pod.${r}`);
  });

  it('summary keys stay bounded by the table, whatever addresses and VLANs the capture holds; counts agree by words and by code', async () => {
    const small = (await replayCapture(capture(hostile(40)), defaultObjects(), DEFAULT_CLUSTER)).summary;
    const big = (await replayCapture(capture(hostile(1500)), defaultObjects(), DEFAULT_CLUSTER)).summary;
    expect(big.verdicts.dropped).toBeGreaterThan(small.verdicts.dropped * 10);
    // 37× the frames, the same keys: none grows with the addresses seen.
    expect(Object.keys(big.drops).sort()).toEqual(Object.keys(small.drops).sort());
    expect(Object.keys(big.dropCodes).sort()).toEqual(Object.keys(small.dropCodes).sort());
    expect(Object.keys(big.dropCodes).length).toBeLessThanOrEqual(Object.keys(DROP_TEXT).length);
    for (const k of Object.keys(big.drops)) expect(k).not.toMatch(ADDRESS);
    expect(big.dropCodes['nic.other-vlan']).toBeGreaterThanOrEqual(1500);
    const sum = (r: Record<string, number | undefined>): number => Object.values(r).reduce<number>((a, b) => a + (b ?? 0), 0);
    expect(sum(big.drops)).toBe(sum(big.dropCodes));
    for (const code of Object.keys(big.dropCodes)) expect(isDropCode(code)).toBe(true);
    expect(JSON.stringify(big.drops).length).toBeLessThan(4096);
    // Clients: every source address counted (two IPv4 frames each), the top list bounded.
    expect(big.clients.addresses).toBe(1500);
    expect(big.clients.addressesCapped).toBeUndefined();
    expect(big.clients.top).toHaveLength(10);
    expect(big.clients.top[0]).toEqual({ address: '10.181.0.0', frames: 2 });
    // ≈ 2.4 s of CPU (two replays, 3 080 frames); 7.3–11 s wall at load 16–24 on this 2-core machine (session 18).
  }, 30_000);

  it('traces keep the particulars in the words, and the code beside them', async () => {
    const { traces } = await replayCapture(capture(hostile(3)), defaultObjects(), DEFAULT_CLUSTER, { keepTraces: true });
    const drops = traces!.flatMap((t) => t.drops);
    expect(drops.find((d) => d.code === 'nic.other-vlan')?.reason).toMatch(/^VLAN \d+: not for underlay0\.341$/);
    expect(drops.find((d) => d.code === 'pod.arp-not-its-ip')?.reason).toMatch(/^pod: ARP for 10\.180\.204\.\d+, not its address$/);
    for (const d of drops) expect(isDropCode(d.code)).toBe(true);
  });
});
