/**
 * Differential test of what `vippath trace` shows at br-provider against `ovs-appctl ofproto/trace` of the real
 * ovs-vswitchd (dummy datapath): node3's bridge in the default scenario is loaded with fast-check-generated flow
 * tables (the testing kit's `flowTableArb`, resubmits included) and a generated packet enters it from the VLAN
 * interface or LOCAL; the cluster's trace of that visit (`TraceStep.openflow`) must print the same rules (table,
 * match, priority, cookie) and actions, in the same order and at the same indentation, as OVS does, and — where no NORMAL or controller is
 * involved — the same datapath actions. Cases: VIPPATH_OVS_TRACE_CASES (default 150); seed printed
 * (VIPPATH_OVS_SEED=<n>|random).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster, type BridgeTrace } from '@vippath/cluster';
import { flowTableArb } from '@vippath/testing';
import { buildFrame, type FrameSpec } from '@vippath/wire';
import { LOCAL, OvsOracle, ovsUnavailable } from './ovs-harness.js';

const unavailable = ovsUnavailable();
if (unavailable) console.warn(`ofproto/trace differential test skipped: ${unavailable}`);
const CASES = Number(process.env.VIPPATH_OVS_TRACE_CASES ?? 150);
const SEED = process.env.VIPPATH_OVS_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_OVS_SEED ?? 20261201);

const MACS = ['52:54:00:aa:00:64', '52:54:00:bb:00:03', '00:00:00:b4:cc:04', 'ff:ff:ff:ff:ff:ff'];
const IPS = ['10.180.204.100', '10.180.204.252', '10.180.204.4', '10.0.0.1'];
const TPORTS = [80, 40000, 53];

const packetArb = fc.record({
  kind: fc.constantFrom('tcp', 'udp', 'icmp', 'arp'),
  vlan: fc.constantFrom<number | undefined>(undefined, undefined, undefined, 100),
  dst: fc.constantFrom(...MACS),
  src: fc.constantFrom(...MACS.slice(0, 3)),
  ipSrc: fc.constantFrom(...IPS),
  ipDst: fc.constantFrom(...IPS),
  sport: fc.constantFrom(...TPORTS),
  dport: fc.constantFrom(...TPORTS),
  ttl: fc.constantFrom(64, 2),
  local: fc.boolean(),
}).map((p) => {
  const base: FrameSpec = { dst: p.dst, src: p.src, ...(p.vlan !== undefined ? { vlans: [p.vlan] } : {}) };
  const ip = { src: p.ipSrc, dst: p.ipDst, ttl: p.ttl };
  const spec: FrameSpec = p.kind === 'arp' ? { ...base, arp: { op: 1, senderMac: p.src, senderIp: p.ipSrc, targetMac: '00:00:00:00:00:00', targetIp: p.ipDst } }
    : p.kind === 'icmp' ? { ...base, ipv4: ip, icmp: { type: 8, code: 0, body: new Uint8Array(8) } }
    : p.kind === 'udp' ? { ...base, ipv4: ip, udp: { srcPort: p.sport, dstPort: p.dport, payload: Uint8Array.of(1, 2, 3) } }
    : { ...base, ipv4: ip, tcp: { srcPort: p.sport, dstPort: p.dport, flags: 0x02 } };
  return { local: p.local, frame: buildFrame(spec) };
});

const tableArb = flowTableArb({ ports: [1, 2], macs: MACS, ipv4: IPS, tpPorts: TPORTS });

/** The rule and action lines of a trace, indentation included, without NORMAL's and the drops' notes. */
function ruleLines(lines: string[]): string[] {
  return lines.filter((l) => l.trim() !== '' && !/^\s*(->|>>)/.test(l));
}

/** OVS's trace between the bridge header and the blank line before `Final flow`. */
function ovsRuleLines(text: string): string[] {
  const body = text.split(/\n-+\n/)[1] ?? '';
  return ruleLines(body.split(/\n\n/)[0]!.split('\n'));
}

describe.skipIf(unavailable !== undefined)('vippath trace at br-provider against ofproto/trace', () => {
  let ovs: OvsOracle;
  beforeAll(() => {
    ovs = new OvsOracle([1, 2]);
  });
  afterAll(() => ovs?.stop());

  it(`generated flow tables and packets (seed ${SEED}, ${CASES} cases)`, async () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
    const bridge = sim.bridges.get('node3')!;
    // OVS's datapath port numbers, named as the cluster names node3's bridge ports.
    const dpName = new Map<number, string>();
    for (const [ofport, dp] of ovs.datapathPorts()) dpName.set(dp, ofport === LOCAL ? 'LOCAL' : ofport === 1 ? 'underlay0.341' : ofport === 2 ? 'patch-localnet.underlay-subnet-to-br-int' : `?${ofport}`);
    let now = 0;
    let compared = 0;
    let datapaths = 0;
    let resubmits = 0;
    let failure = '';
    await fc.assert(
      fc.asyncProperty(tableArb, packetArb, async (lines, p) => {
        expect(ovs.setFlows(lines), `OVS refused:\n${lines.join('\n')}`).toBeUndefined();
        bridge.clearFlows();
        bridge.addFlows(lines.join('\n'));
        bridge.flushMacs();
        now += 10;
        const ingress = p.local ? 'node3/br-provider' : 'node3/underlay0.341';
        const stage = sim.inject(new Uint8Array(p.frame), now, ingress).stages.find((s) => s.stage === 'br-provider');
        const mine: BridgeTrace = stage!.openflow!;
        const real = ovs.trace(p.local ? LOCAL : 1, p.frame);
        const report = (what: string): boolean => {
          failure = `${what}\nflows:\n  ${lines.join('\n  ')}\nin_port ${p.local ? 'LOCAL' : 1} packet ${Buffer.from(p.frame).toString('hex')}\n--- ovs-vswitchd:\n${real}\n--- vippath:\n${mine.lines.join('\n')}`;
          return false;
        };
        compared++;
        if (mine.rules.length > 1) resubmits++;
        if (JSON.stringify(ruleLines(mine.lines.slice(0, -2))) !== JSON.stringify(ovsRuleLines(real))) return report('rules and actions differ');
        // NORMAL's learning state and flood order, and packets to the controller, are outside this comparison.
        const normal = mine.rules.some((r) => r.actions.includes('NORMAL'));
        const controller = /controller|userspace/.test(real) || mine.datapathActions.includes('userspace');
        if (!normal && !controller) {
          datapaths++;
          let ovsActions = /^Datapath actions: (.*)$/m.exec(real)![1]!.split(',').map((a) => (/^\d+$/.test(a) ? dpName.get(Number(a)) ?? a : a));
          let myActions = mine.datapathActions.split(',');
          // FLOOD and ALL go out in the bridge's port order, which vippath does not copy (neither does the
          // forwarding differential, test/openflow-ovs.test.ts): compare those as sets.
          if (mine.rules.some((r) => r.actions.includes('FLOOD') || r.actions.includes('ALL'))) {
            ovsActions = [...ovsActions].sort();
            myActions = [...myActions].sort();
          }
          if (ovsActions.join(',') !== myActions.join(',')) return report(`datapath actions differ: ovs ${ovsActions.join(',')}, vippath ${myActions.join(',')}`);
        }
        return true;
      }),
      { numRuns: CASES, seed: SEED, endOnFailure: true },
    ).catch((e: unknown) => {
      throw new Error(`${failure}\n\nreplay with VIPPATH_OVS_SEED=${SEED}\n${(e as Error).message.split('\n').slice(0, 4).join('\n')}`);
    });
    console.log(`ofproto/trace differential: seed ${SEED}, ${compared} packets, ${resubmits} through more than one table, ${datapaths} datapath-action comparisons`);
    expect(compared).toBe(CASES);
    // Not vacuous: resubmits and datapath actions were compared too.
    expect(resubmits).toBeGreaterThan(2);
    expect(datapaths).toBeGreaterThan(CASES / 4);
  }, 600_000);
});
