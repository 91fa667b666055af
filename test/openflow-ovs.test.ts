/**
 * Differential test: vippath's OpenFlow bridge against the real ovs-vswitchd (dummy datapath) on
 * fast-check-generated flow tables and packets. Same flows, same packet in, same ports and bytes out.
 * Cases: VIPPATH_OVS_CASES (default 300 tables of 1–3 packets each, ~600 packets, in CI); the seed is printed for replays
 * (VIPPATH_OVS_SEED).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bridge, parseFlows } from '@vippath/openflow';
import { buildFrame, type FrameSpec } from '@vippath/wire';
import { LOCAL, OvsOracle, ovsUnavailable } from './ovs-harness.js';

const unavailable = ovsUnavailable();
if (unavailable) console.warn(`OVS differential test skipped: ${unavailable}`);
const CASES = Number(process.env.VIPPATH_OVS_CASES ?? 300);
// CI runs a fixed seed, so a submission's result does not depend on luck; `VIPPATH_OVS_SEED=random` explores new cases
// (and prints the seed of any failure), `VIPPATH_OVS_SEED=<n>` replays one.
const SEED = process.env.VIPPATH_OVS_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_OVS_SEED ?? 20261124);
const PORTS = [1, 2, 3];

const MACS = ['52:54:00:aa:00:64', '52:54:00:bb:00:01', '52:54:00:bb:00:03', 'ff:ff:ff:ff:ff:ff'];
const IPS = ['10.180.204.100', '10.180.204.252', '10.180.204.11', '10.0.0.1'];
const TPORTS = [80, 40000, 53];

const packetArb = fc.record({
  kind: fc.constantFrom('tcp', 'udp', 'icmp', 'arp', 'tcp6'),
  vlan: fc.constantFrom<number | undefined>(undefined, undefined, 341, 100),
  dst: fc.constantFrom(...MACS),
  src: fc.constantFrom(...MACS.slice(0, 3)),
  ipSrc: fc.constantFrom(...IPS),
  ipDst: fc.constantFrom(...IPS),
  sport: fc.constantFrom(...TPORTS),
  dport: fc.constantFrom(...TPORTS),
  ttl: fc.constantFrom(64, 1, 2),
  inPort: fc.constantFrom(1, 2, 3, LOCAL),
}).map((p) => {
  const base: FrameSpec = { dst: p.dst, src: p.src, ...(p.vlan !== undefined ? { vlans: [p.vlan] } : {}) };
  let spec: FrameSpec;
  switch (p.kind) {
    case 'arp':
      spec = { ...base, arp: { op: 1, senderMac: p.src, senderIp: p.ipSrc, targetMac: '00:00:00:00:00:00', targetIp: p.ipDst } };
      break;
    case 'tcp6':
      spec = { ...base, ipv6: { src: 'fd00::100', dst: 'fd00::252', hopLimit: p.ttl }, tcp: { srcPort: p.sport, dstPort: p.dport } };
      break;
    case 'icmp':
      spec = { ...base, ipv4: { src: p.ipSrc, dst: p.ipDst, ttl: p.ttl }, icmp: { type: 8, code: 0, body: new Uint8Array(8) } };
      break;
    case 'udp':
      spec = { ...base, ipv4: { src: p.ipSrc, dst: p.ipDst, ttl: p.ttl }, udp: { srcPort: p.sport, dstPort: p.dport, payload: Uint8Array.of(1, 2, 3) } };
      break;
    default:
      spec = { ...base, ipv4: { src: p.ipSrc, dst: p.ipDst, ttl: p.ttl }, tcp: { srcPort: p.sport, dstPort: p.dport, flags: 0x02 } };
  }
  return { inPort: p.inPort, frame: buildFrame(spec) };
});

/** Mostly absent: a flow with every field set would almost never match a packet. */
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const matchArb = fc.record({
  inPort: sometimes(fc.constantFrom('1', '2', '3', 'LOCAL')),
  proto: sometimes(fc.constantFrom('ip', 'tcp', 'udp', 'icmp', 'arp', 'tcp6', 'ipv6')),
  dlDst: sometimes(fc.constantFrom(...MACS, '01:00:00:00:00:00/01:00:00:00:00:00')),
  dlSrc: sometimes(fc.constantFrom(...MACS.slice(0, 3))),
  nwDst: sometimes(fc.constantFrom(...IPS, '10.180.204.0/24')),
  tpDst: sometimes(fc.constantFrom(...TPORTS.map(String), '0x0/0xff00')),
  vlan: sometimes(fc.constantFrom('341', '100', '0xffff')),
  reg0: sometimes(fc.constantFrom('0x1', '0x2')),
  arpOp: sometimes(fc.constantFrom('1', '2')),
  icmpType: sometimes(fc.constantFrom('8', '0')),
}).map((m) => {
  const parts: string[] = [];
  if (m.proto) parts.push(m.proto);
  if (m.inPort) parts.push(`in_port=${m.inPort}`);
  if (m.dlDst) parts.push(`dl_dst=${m.dlDst}`);
  if (m.dlSrc) parts.push(`dl_src=${m.dlSrc}`);
  // Only fields whose prerequisites hold: OVS would otherwise drop them (tested separately).
  if (m.nwDst && (m.proto === 'ip' || m.proto === 'tcp' || m.proto === 'udp' || m.proto === 'icmp')) parts.push(`nw_dst=${m.nwDst}`);
  if (m.nwDst && m.proto === 'arp') parts.push(`arp_tpa=${m.nwDst}`);
  if (m.tpDst && (m.proto === 'tcp' || m.proto === 'udp' || m.proto === 'tcp6')) parts.push(`tp_dst=${m.tpDst}`);
  if (m.vlan) parts.push(`dl_vlan=${m.vlan}`);
  if (m.reg0) parts.push(`reg0=${m.reg0}`);
  if (m.arpOp && m.proto === 'arp') parts.push(`arp_op=${m.arpOp}`);
  if (m.icmpType && m.proto === 'icmp') parts.push(`icmp_type=${m.icmpType}`);
  return { text: parts.join(','), proto: m.proto };
});

const actionArb = fc.constantFrom(
  'output:1', 'output:2', 'output:3', 'LOCAL', 'IN_PORT', 'FLOOD', 'ALL', 'NORMAL',
  'mod_dl_dst:00:00:00:01:00:01', 'mod_dl_src:52:54:00:cc:00:01', 'mod_nw_dst:10.180.204.12', 'mod_nw_src:10.180.204.99',
  'mod_tp_dst:8080', 'mod_tp_src:1234', 'mod_vlan_vid:341', 'mod_vlan_pcp:5', 'strip_vlan', 'mod_nw_tos:32',
  'load:0x1->NXM_NX_REG0[]', 'load:0x2->NXM_NX_REG0[]', 'resubmit(,1)', 'dec_ttl', 'move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]',
);

const tableArb = fc.record({
  t0: fc.array(fc.tuple(matchArb, fc.array(actionArb, { minLength: 1, maxLength: 4 }), fc.boolean()), { minLength: 1, maxLength: 4 }),
  t1: fc.array(fc.tuple(matchArb, fc.array(actionArb.filter((a) => a !== 'resubmit(,1)'), { minLength: 1, maxLength: 3 }), fc.boolean()), { maxLength: 2 }),
}).map(({ t0, t1 }) => {
  // Distinct priorities per table: OVS leaves ties between overlapping flows undefined.
  // ovs-ofctl (OpenFlow 1.0 + NXM) refuses IPv4 rewrites on flows that match another EtherType
  // (OFPBAC_MATCH_INCONSISTENT) — vippath refuses them too (tested in packages/openflow); keep to what both load.
  const ipv4Only = new Set(['mod_nw_dst:10.180.204.12', 'mod_nw_src:10.180.204.99', 'mod_nw_tos:32', 'dec_ttl']);
  const fits = (proto: string | undefined, a: string): boolean => !ipv4Only.has(a) || proto === undefined || ['ip', 'tcp', 'udp', 'icmp'].includes(proto);
  const lines = (table: number, flows: Array<[{ text: string; proto: string | undefined }, string[], boolean]>): string[] =>
    flows.map(([match, actions, drop], i) => {
      const acts = actions.filter((a) => fits(match.proto, a));
      return `table=${table},priority=${100 - i * 10}${match.text ? `,${match.text}` : ''},actions=${drop && i === flows.length - 1 || acts.length === 0 ? 'drop' : acts.join(',')}`;
    });
  return [...lines(0, t0), ...lines(1, t1)];
});

function group(outputs: Array<{ port: number; packet: Uint8Array }>): Map<number, string[]> {
  const m = new Map<number, string[]>();
  for (const o of outputs) {
    if (!m.has(o.port)) m.set(o.port, []);
    m.get(o.port)!.push(Buffer.from(o.packet).toString('hex'));
  }
  return m;
}

const sorted = (m: Map<number, string[]>): Array<[number, string[]]> => [...m].sort((a, b) => a[0] - b[0]);

describe.skipIf(unavailable !== undefined)('br-provider against the real ovs-vswitchd', () => {
  let ovs: OvsOracle;
  beforeAll(() => {
    ovs = new OvsOracle(PORTS);
  });
  afterAll(() => ovs?.stop());

  it('the Kube-OVN rule and NORMAL: same ports, same bytes', async () => {
    const flows = [
      'cookie=0x1000,priority=10000,in_port=1,tcp,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2',
      'priority=0,actions=NORMAL',
    ];
    expect(ovs.setFlows(flows)).toBeUndefined();
    const br = new Bridge('br0', PORTS.map((p) => ({ name: `p${p}`, ofport: p })));
    br.addFlows(flows.join('\n'));
    const syn = buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', ipv4: { src: '10.180.204.100', dst: '10.180.204.252' }, tcp: { srcPort: 40000, dstPort: 80 } });
    const arp = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: '52:54:00:aa:00:64', arp: { op: 1, senderMac: '52:54:00:aa:00:64', senderIp: '10.180.204.100', targetMac: '00:00:00:00:00:00', targetIp: '10.180.204.252' } });
    for (const frame of [syn, arp]) {
      const real = await ovs.send(1, frame);
      const mine = group(br.process(frame, 1).outputs);
      expect(sorted(mine)).toEqual(sorted(real));
    }
  }, 60_000);

  it(`generated flow tables and packets (seed ${SEED}, ${CASES} tables)`, async () => {
    const mismatches: string[] = [];
    let packets = 0;
    let forwarded = 0;
    await fc.assert(
      fc.asyncProperty(tableArb, fc.array(packetArb, { minLength: 1, maxLength: 3 }), async (lines, pkts) => {
        const refused = ovs.setFlows(lines);
        expect(refused, `OVS refused flows vippath accepted:\n${lines.join('\n')}`).toBeUndefined();
        const br = new Bridge('br0', PORTS.map((p) => ({ name: `p${p}`, ofport: p })));
        br.addFlows(parseFlows(lines.join('\n')));
        for (const p of pkts) {
          packets++;
          const real = await ovs.send(p.inPort, p.frame);
          const mine = group(br.process(p.frame, p.inPort, { now: packets }).outputs);
          if (mine.size) forwarded++;
          if (JSON.stringify(sorted(mine)) !== JSON.stringify(sorted(real))) {
            mismatches.push(`earlier packets: ${pkts.slice(0, pkts.indexOf(p)).map((q) => `${q.inPort}:${Buffer.from(q.frame).toString("hex")}`).join(" ")}\nflows:\n  ${lines.join("\n  ")}\nin_port ${p.inPort} packet ${Buffer.from(p.frame).toString("hex")}\n  ovs:     ${JSON.stringify(sorted(real))}\n  vippath: ${JSON.stringify(sorted(mine))}`);
            return false;
          }
        }
        return true;
      }),
      { numRuns: CASES, seed: SEED, endOnFailure: true },
    ).catch((e: unknown) => {
      throw new Error(`${mismatches.slice(0, 3).join('\n\n')}\n\nreplay with VIPPATH_OVS_SEED=${SEED}\n${(e as Error).message.split('\n').slice(0, 4).join('\n')}`);
    });
    expect(packets).toBeGreaterThan(CASES);
    // Not vacuous: a good share of the generated packets must hit a flow that sends them somewhere.
    expect(forwarded / packets).toBeGreaterThan(0.15);
  }, 600_000);
});
