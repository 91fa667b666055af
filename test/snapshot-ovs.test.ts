/**
 * A collected snapshot's br-provider against the real ovs-vswitchd: the fixture's `dump-flows --names` text (quoted
 * names, the patch port cut to 15 characters, the node's own port numbers 3 and 5) as `loadSnapshot` reads it
 * drives the simulated node's bridge; the same flows, by number, drive OVS. Generated frames in on every port:
 * same ports and bytes out. Seed printed (VIPPATH_OVS_SEED).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadSnapshot, SimulatedCluster } from '@vippath/cluster';
import { formatFlow, parseFlows } from '@vippath/openflow';
import { buildFrame, type FrameSpec } from '@vippath/wire';
import { LOCAL, OvsOracle, ovsUnavailable } from './ovs-harness.js';

const unavailable = ovsUnavailable();
const SEED = Number(process.env.VIPPATH_OVS_SEED ?? 20261218);
const fixture = fileURLToPath(new URL('./fixtures/snapshot/', import.meta.url));

const packetArb = fc.record({
  kind: fc.constantFrom('tcp', 'udp', 'arp'),
  dst: fc.constantFrom('52:54:00:bb:00:01', 'ff:ff:ff:ff:ff:ff', '00:00:00:6c:1a:11'),
  src: fc.constantFrom('52:54:00:aa:00:64', '00:00:00:6c:1a:12'),
  ipDst: fc.constantFrom('10.180.204.252', '10.180.204.11', '10.180.204.1'),
  dport: fc.constantFrom(80, 443),
  inPort: fc.constantFrom(3, 5, LOCAL),
}).map((p) => {
  const base: FrameSpec = { dst: p.dst, src: p.src };
  const spec: FrameSpec = p.kind === 'arp'
    ? { ...base, arp: { op: 1, senderMac: p.src, senderIp: '10.180.204.100', targetMac: '00:00:00:00:00:00', targetIp: p.ipDst } }
    : p.kind === 'udp'
      ? { ...base, ipv4: { src: '10.180.204.100', dst: p.ipDst }, udp: { srcPort: 40000, dstPort: p.dport, payload: Uint8Array.of(1) } }
      : { ...base, ipv4: { src: '10.180.204.100', dst: p.ipDst }, tcp: { srcPort: 40000, dstPort: p.dport, flags: 0x02 } };
  return { inPort: p.inPort, frame: buildFrame(spec) };
});

const sorted = (m: Map<number, string[]>): Array<[number, string[]]> => [...m].map(([k, v]) => [k, [...v].sort()] as [number, string[]]).sort((a, b) => a[0] - b[0]);

describe.skipIf(unavailable !== undefined)(`a snapshot's br-provider against ovs-vswitchd${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let ovs: OvsOracle;
  beforeAll(() => {
    ovs = new OvsOracle([3, 5]);
  });
  afterAll(() => ovs?.stop());

  it(`node1 of the fixture: 60 generated frames (seed ${SEED})`, async () => {
    const { objects, cluster } = loadSnapshot(fixture);
    const sim = new SimulatedCluster(objects, cluster);
    const br = sim.bridges.get('node1')!;
    const snap = cluster.brProvider!.node1!;
    // OVS gets the same flows by number (ovs-ofctl itself cannot resolve the cut name "patch-localnet.").
    const numeric = parseFlows(snap.flows, { ports: br.portNames }).map((f) => formatFlow(f, { stats: false }).trim());
    expect(numeric).toEqual(['cookie=0x1000, table=0, priority=10000,tcp,in_port=3,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:5', 'cookie=0x0, table=0, priority=0 actions=NORMAL']);
    expect(ovs.setFlows(numeric.map((l) => l.replace(/^cookie=(\S+), table=(\d+), /, 'cookie=$1,table=$2,')))).toBeUndefined();
    let n = 0;
    let toPatch = 0;
    await fc.assert(
      fc.asyncProperty(packetArb, async (p) => {
        n++;
        const real = await ovs.send(p.inPort, p.frame);
        const mine = new Map<number, string[]>();
        for (const o of br.process(p.frame, p.inPort, { now: n }).outputs) mine.set(o.port, [...(mine.get(o.port) ?? []), Buffer.from(o.packet).toString('hex')]);
        if (mine.has(5)) toPatch++;
        expect(sorted(mine), `in_port ${p.inPort} ${Buffer.from(p.frame).toString('hex')} (seed ${SEED})`).toEqual(sorted(real));
      }),
      { numRuns: 60, seed: SEED, endOnFailure: true },
    );
    // Not vacuous: the Kube-OVN rule (to the patch port) was hit.
    expect(toPatch).toBeGreaterThan(0);
  }, 120_000);
});
