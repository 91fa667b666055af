/**
 * The megaflow cache is invisible: a bridge with it and one without, given the same flow tables and the same
 * packets, give the same outputs (ports and bytes), counters, MAC tables and effects — whatever the rules read,
 * whatever NORMAL learned, moved or aged, whatever flows came and went between packets. Cases:
 * VIPPATH_MEGAFLOW_CASES (default 1 000 sequences, ~10–25 s), seed VIPPATH_MEGAFLOW_SEED (printed; `random` for a new one).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame, type FrameSpec } from '@vippath/wire';
import { Port } from './actions.js';
import { Bridge, BridgeEffects, BridgeOutcome, type BridgePort } from './bridge.js';
import { parseFlow, type Flow } from './flow.js';
import { kubeOvnProviderFlows } from './kubeovn.js';

const CASES = Number(process.env.VIPPATH_MEGAFLOW_CASES ?? 1000);
const SEED = process.env.VIPPATH_MEGAFLOW_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_MEGAFLOW_SEED ?? 20261201);

// A trunk for every VLAN, the patch port, an access port of VLAN 341 and a trunk of VLAN 341 only (NORMAL's port modes).
const PORTS: BridgePort[] = [
  { name: 'underlay0.341', ofport: 1 },
  { name: 'patch-localnet', ofport: 2 },
  { name: 'access341', ofport: 3, tag: 341 },
  { name: 'trunk341', ofport: 4, trunks: [341] },
];
const IN_PORTS = [1, 2, 3, 4, Port.LOCAL];
const MACS = ['52:54:00:aa:00:64', '52:54:00:bb:00:01', '52:54:00:bb:00:03', '00:00:00:01:00:01'];
const DSTS = [...MACS, 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01'];
const IPS = ['10.180.204.100', '10.180.204.252', '10.180.204.11', '10.0.0.1'];
const TP = [80, 443, 53, 8080];

const opt = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 2 });

/** One flow line: Kube-OVN's shape (in_port, tcp, nw_dst, tp_dst → mod_dl_dst, output) among others. */
const flowArb = fc.record({
  table: fc.constantFrom(0, 0, 0, 1, 2),
  priority: fc.constantFrom(0, 10, 100, 100, 10000),
  inPort: opt(fc.constantFrom('1', '2', '3', '4', 'LOCAL')),
  proto: opt(fc.constantFrom('ip', 'tcp', 'udp', 'icmp', 'arp', 'tcp6')),
  dlSrc: opt(fc.constantFrom(...MACS, '01:00:00:00:00:00/01:00:00:00:00:00')),
  dlDst: opt(fc.constantFrom(...DSTS, '01:00:00:00:00:00/01:00:00:00:00:00', '52:54:00:bb:00:00/ff:ff:ff:ff:ff:00')),
  vlan: opt(fc.constantFrom('dl_vlan=341', 'dl_vlan=100', 'dl_vlan=0xffff', 'vlan_tci=0x1000/0x1000', 'dl_vlan_pcp=5')),
  nwSrc: opt(fc.constantFrom(...IPS, '10.180.204.0/24', '10.0.0.0/8', '10.180.204.96/28')),
  nwDst: opt(fc.constantFrom(...IPS, '10.180.204.0/24', '10.180.0.0/16', '10.180.204.248/29')),
  tpDst: opt(fc.constantFrom(...TP.map(String), '0x0/0xff00', '0x50/0xfff0')),
  reg: opt(fc.constantFrom('reg0=0x1', 'reg0=0x2', 'reg1=0xab4cc00/0xffffff00', 'reg1=0x50/0xffff')),
  actions: fc.array(
    fc.constantFrom(
      'output:1', 'output:2', 'output:3', 'output:4', 'LOCAL', 'IN_PORT', 'FLOOD', 'ALL', 'NORMAL', 'NORMAL', 'CONTROLLER',
      'mod_dl_dst:00:00:00:01:00:01', 'mod_dl_src:52:54:00:cc:00:01', 'mod_nw_dst:10.180.204.12', 'mod_nw_src:10.180.204.99',
      'mod_tp_dst:8080', 'mod_tp_src:1234', 'mod_vlan_vid:341', 'mod_vlan_vid:100', 'mod_vlan_pcp:5', 'strip_vlan', 'push_vlan:0x8100',
      'mod_nw_tos:32', 'dec_ttl', 'load:0x1->NXM_NX_REG0[]', 'load:0x2->NXM_NX_REG0[]', 'resubmit(,1)', 'resubmit(,2)', 'resubmit(2,1)',
      'move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]', 'move:NXM_OF_IP_SRC[]->NXM_NX_REG1[]', 'move:NXM_OF_TCP_DST[]->NXM_NX_REG1[0..15]',
      'load:0x5->NXM_OF_ETH_DST[0..7]', 'load:0x1155->NXM_OF_VLAN_TCI[]', 'load:0->NXM_OF_VLAN_TCI[]', 'load:0x2->NXM_OF_IN_PORT[]',
    ),
    { minLength: 1, maxLength: 4 },
  ),
  drop: fc.boolean(),
}).map((f) => {
  const m: string[] = [`table=${f.table}`, `priority=${f.priority}`];
  if (f.proto) m.push(f.proto);
  if (f.inPort) m.push(`in_port=${f.inPort}`);
  if (f.dlSrc) m.push(`dl_src=${f.dlSrc}`);
  if (f.dlDst) m.push(`dl_dst=${f.dlDst}`);
  if (f.vlan) m.push(f.vlan);
  const ip4 = f.proto === 'ip' || f.proto === 'tcp' || f.proto === 'udp' || f.proto === 'icmp';
  if (f.nwSrc && ip4) m.push(`nw_src=${f.nwSrc}`);
  if (f.nwDst && ip4) m.push(`nw_dst=${f.nwDst}`);
  if (f.nwDst && f.proto === 'arp') m.push(`arp_tpa=${f.nwDst}`);
  if (f.tpDst && (f.proto === 'tcp' || f.proto === 'udp' || f.proto === 'tcp6')) m.push(`tp_dst=${f.tpDst}`);
  if (f.reg) m.push(f.reg);
  // Resubmits only to later tables: loops end in OVS's limits, which the cache does not take anyway.
  const acts = f.actions.filter((a) => !/resubmit\(.*,(\d)\)/.test(a) || Number(/,(\d)\)/.exec(a)![1]) > f.table);
  return `${m.join(',')},actions=${f.drop || acts.length === 0 ? 'drop' : acts.join(',')}`;
});

/**
 * Rule pairs where a later lookup reads what an earlier action wrote or read (a rewritten port, a popped or pushed
 * tag, a TTL, a moved MAC or address): the wildcards of such chains are the subtle ones, so cases draw them often.
 */
const CHAINS: string[][] = [
  ['table=0,priority=50,tcp,actions=mod_tp_dst:8080,resubmit(,1)', 'table=1,priority=10,tcp,tp_dst=8080,actions=output:2', 'table=1,priority=5,actions=output:3'],
  ['table=0,priority=50,actions=strip_vlan,output:2'],
  ['table=0,priority=50,ip,actions=dec_ttl,output:2'],
  ['table=0,priority=50,actions=push_vlan:0x8100,resubmit(,1)', 'table=1,priority=10,actions=NORMAL'],
  ['table=0,priority=50,actions=mod_vlan_vid:100,resubmit(,1)', 'table=1,priority=10,dl_vlan=100,dl_vlan_pcp=5,actions=output:2', 'table=1,priority=5,actions=NORMAL'],
  ['table=0,priority=50,actions=strip_vlan,resubmit(,1)', 'table=1,priority=10,dl_vlan=100,actions=output:2', 'table=1,priority=5,actions=output:4'],
  ['table=0,priority=50,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],resubmit(,1)', 'table=1,priority=10,dl_dst=52:54:00:aa:00:64,actions=output:2', 'table=1,priority=5,actions=NORMAL'],
  ['table=0,priority=50,ip,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG1[],resubmit(,1)', 'table=1,priority=10,reg1=0xab4cc00/0xffffff00,actions=output:3', 'table=1,priority=5,actions=output:2'],
  ['table=0,priority=50,actions=load:0x1155->NXM_OF_VLAN_TCI[],resubmit(,1)', 'table=1,priority=10,dl_vlan=341,actions=NORMAL'],
  // The entry is keyed by the packet as it came: a packet already carrying the rewritten MAC goes elsewhere.
  ['table=0,priority=60,dl_dst=52:54:00:bb:00:01,actions=mod_dl_dst:00:00:00:01:00:01,output:2', 'table=0,priority=55,dl_dst=00:00:00:01:00:01,actions=output:3'],
  ['table=0,priority=50,in_port=1,actions=resubmit(2,1)', 'table=1,priority=10,in_port=2,actions=NORMAL', 'table=1,priority=5,actions=output:3'],
];

/** A flow line as a flow, or undefined when the parser refuses it (an IPv4 rewrite on an ARP flow…). */
function flowOf(line: string): Flow | undefined {
  try {
    return parseFlow(line);
  } catch {
    return undefined;
  }
}

/** A packet's headers, as choices. */
const headersArb = fc.record({
  kind: fc.constantFrom('tcp', 'tcp', 'udp', 'icmp', 'arp', 'garp', 'tcp6', 'frag', 'other'),
  vlans: fc.constantFrom<number[]>([], [], [341], [341], [100], [0], [341, 100]),
  pcp: fc.constantFrom(0, 5),
  src: fc.constantFrom(...MACS, MACS[0]!, '01:00:5e:00:00:02'),
  dst: fc.constantFrom(...DSTS),
  ipSrc: fc.constantFrom(...IPS),
  ipDst: fc.constantFrom(...IPS, IPS[1]!),
  sport: fc.constantFrom(...TP, 40000),
  dport: fc.constantFrom(...TP, 80),
  ttl: fc.constantFrom(64, 64, 1, 2),
  payload: fc.constantFrom(0, 0, 3, 100),
  inPort: fc.constantFrom(...IN_PORTS, 1, 2),
});
type Headers = typeof headersArb extends fc.Arbitrary<infer T> ? T : never;

function specOf(p: Headers): { inPort: number; spec: FrameSpec } {
  const vlans = p.vlans.map((vid, i) => (i === 0 ? { tpid: 0x8100, pcp: p.pcp, dei: 0, vid } : vid));
  const base: FrameSpec = { dst: p.dst, src: p.src, vlans };
  const payload = new Uint8Array(p.payload).fill(7);
  let spec: FrameSpec;
  switch (p.kind) {
    case 'arp':
    case 'garp':
      spec = { ...base, arp: { op: 1, senderMac: p.src, senderIp: p.ipSrc, targetMac: '00:00:00:00:00:00', targetIp: p.kind === 'garp' ? p.ipSrc : p.ipDst } };
      break;
    case 'tcp6':
      spec = { ...base, ipv6: { src: 'fd00::100', dst: 'fd00::252', hopLimit: p.ttl }, tcp: { srcPort: p.sport, dstPort: p.dport, payload } };
      break;
    case 'icmp':
      spec = { ...base, ipv4: { src: p.ipSrc, dst: p.ipDst, ttl: p.ttl }, icmp: { type: 8, code: 0, body: new Uint8Array(8 + p.payload) } };
      break;
    case 'udp':
      spec = { ...base, ipv4: { src: p.ipSrc, dst: p.ipDst, ttl: p.ttl }, udp: { srcPort: p.sport, dstPort: p.dport, payload } };
      break;
    case 'frag':
      // A later fragment of a TCP segment: same protocol, but no transport header to read or rewrite.
      spec = { ...base, ipv4: { src: p.ipSrc, dst: p.ipDst, ttl: p.ttl, fragmentOffset: 8, moreFragments: false, dontFragment: false }, tcp: { srcPort: p.sport, dstPort: p.dport, payload } };
      break;
    case 'other':
      spec = { ...base, ethertype: 0x88b5, payload: new Uint8Array(46 + p.payload) };
      break;
    default:
      spec = { ...base, ipv4: { src: p.ipSrc, dst: p.ipDst, ttl: p.ttl }, tcp: { srcPort: p.sport, dstPort: p.dport, flags: 0x10, payload } };
  }
  return { inPort: p.inPort, spec };
}

/**
 * The packets of a case: one drawn freely and variants of it that differ in one or two fields (a port, a MAC, the
 * TTL, the tag…), sent many times each. A megaflow is only as good as the fields it matches: a packet like an
 * earlier one but for a field the translation read must miss, and one differing only elsewhere should hit.
 */
const FIELDS = ['kind', 'vlans', 'vlans', 'pcp', 'src', 'src', 'dst', 'dst', 'ipSrc', 'ipDst', 'sport', 'dport', 'ttl', 'ttl', 'payload', 'inPort', 'inPort'] as const;
const fieldArb = fc.constantFrom(...FIELDS);
const templatesArb = fc.tuple(headersArb, fc.array(fc.tuple(headersArb, fc.uniqueArray(fieldArb, { minLength: 1, maxLength: 2 })), { maxLength: 6 })).map(([base, variants]) => [
  specOf(base),
  ...variants.map(([other, fields]) => specOf({ ...base, ...Object.fromEntries(fields.map((f) => [f, other[f]])) })),
]);

const packetArb = fc.record({
  template: fc.nat(),
  /** Another input port now and then: the same source MAC moving. */
  inPort: opt(fc.constantFrom(...IN_PORTS)),
  /** Lengths vary within a megaflow: the rules' byte counters must count each packet's own. */
  padTo: fc.constantFrom(60, 60, 60, 61, 150),
  /** Simulated milliseconds since the previous event: MAC entries age out after 300 s. */
  advance: fc.constantFrom(0, 0, 0, 1000, 200_000, 400_000),
  into: fc.boolean(),
}).map((p) => ({ kind: 'packet' as const, ...p }));

const eventArb = fc.oneof(
  { weight: 24, arbitrary: packetArb },
  { weight: 1, arbitrary: flowArb.map((line) => ({ kind: 'add' as const, line })) },
  { weight: 1, arbitrary: fc.nat(40).map((index) => ({ kind: 'remove' as const, index })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
);

const caseArb = fc.record({
  kubeOvn: fc.boolean(),
  chains: fc.subarray(CHAINS, { maxLength: 2 }),
  flows: fc.array(flowArb, { maxLength: 6 }),
  templates: templatesArb,
  events: fc.array(eventArb, { minLength: 8, maxLength: 80 }),
  // A small MAC table makes NORMAL evict.
  macLimit: fc.constantFrom(8192, 8192, 3),
});

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** What one packet did, as comparable data: outputs, counters of the outcome, and the effects recorded. */
function run(br: Bridge, frame: Uint8Array, inPort: number, now: number, into: boolean, out: BridgeOutcome): unknown {
  br.effects = new BridgeEffects();
  let result: unknown;
  if (into) {
    br.processInto(frame, frame.length, inPort, now, out);
    result = { outputs: Array.from({ length: out.count }, (_, i) => [out.ports[i], hex(out.packets[i]!)]), controller: out.controller, error: out.error };
  } else {
    const r = br.process(frame, inPort, { now });
    result = { outputs: r.outputs.map((o) => [o.port, hex(o.packet)]), controller: r.controller, error: r.error };
  }
  const fx = br.effects;
  br.effects = undefined;
  return { ...(result as object), rules: fx.rules.map((f, i) => `${f.table}/${f.seq}/${fx.bytes[i]}`), macs: fx.macs.map((m) => [m.mac, m.port, m.created]), normal: fx.normal };
}

function state(br: Bridge): unknown {
  return { flows: br.dumpFlows({ stats: true }), macs: br.learnedMacs(), evictions: br.macEvictions };
}

describe('megaflow cache: a bridge with it is indistinguishable from one without', () => {
  it(`generated rule sets and packet sequences (seed ${SEED}, ${CASES} sequences): same outputs, counters, MAC tables, effects`, () => {
    let packets = 0;
    let hits = 0;
    let forwarded = 0;
    let normalHits = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const cached = new Bridge('br-provider', PORTS);
        const plain = new Bridge('br-provider', PORTS, { megaflows: false });
        const outA = new BridgeOutcome();
        const outB = new BridgeOutcome();
        const lines = [...(c.kubeOvn ? kubeOvnProviderFlows({ subnet: { name: 'underlay-subnet', vlan: 'vlan341', enableExternalLBAddress: true }, services: [{ name: 'nginx-lb', ingress: ['10.180.204.252'], ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }], underlayOfport: 1, patchOfport: 2 }).flows : []), ...c.chains.flat(), ...c.flows];
        for (const br of [cached, plain]) {
          br.macLimit = c.macLimit;
          br.addFlows(lines.map(flowOf).filter((f): f is Flow => f !== undefined));
        }
        let now = 0;
        for (const e of c.events) {
          switch (e.kind) {
            case 'add':
              for (const br of [cached, plain]) {
                const f = flowOf(e.line);
                if (f) br.addFlows([f]);
              }
              break;
            case 'remove':
              for (const br of [cached, plain]) {
                const all = br.flows();
                if (all.length) expect(br.removeFlow(all[e.index % all.length]!)).toBe(true);
              }
              break;
            case 'flush':
              cached.flushMacs();
              plain.flushMacs();
              break;
            case 'packet': {
              now += e.advance;
              packets++;
              const t = c.templates[e.template % c.templates.length]!;
              const frame = buildFrame({ ...t.spec, padTo: e.padTo });
              const inPort = e.inPort ?? t.inPort;
              const before = cached.megaflowStats().hits;
              const a = run(cached, frame, inPort, now, e.into, outA);
              const b = run(plain, frame, inPort, now, e.into, outB);
              expect(a, `in_port ${inPort} at ${now} ms: ${hex(frame)}\nflows:\n${cached.dumpFlows({ stats: false })}`).toEqual(b);
              if (cached.megaflowStats().hits > before) {
                hits++;
                if ((a as { normal: number }).normal > 0) normalHits++;
              }
              if ((a as { outputs: unknown[] }).outputs.length) forwarded++;
              expect(state(cached)).toEqual(state(plain));
            }
          }
        }
        expect(plain.megaflowStats().hits).toBe(0);
      }),
      { numRuns: CASES, seed: SEED },
    );
    console.log(`megaflow property: ${packets} packets, ${hits} hits (${normalHits} through NORMAL), ${forwarded} forwarded (seed ${SEED})`);
    // Not vacuous: many packets were served from the cache, NORMAL's among them, and many went somewhere.
    expect(hits / packets).toBeGreaterThan(0.15);
    expect(normalHits).toBeGreaterThan(CASES / 2);
    expect(forwarded / packets).toBeGreaterThan(0.25);
  }, 120_000);
});

/**
 * Floods from sources the bridge has not seen (an on-link client's first ARP, flooded to every node): an entry
 * is kept without the source, keyed on it being unknown, and a hit learns the packet's own. Sources from a pool of
 * 40 MACs (so many are new, some come back after an eviction, an ageing or a flush), destinations mostly broadcast
 * or multicast, rules from the property above (source rewrites and moves, two NORMALs, VLAN edits, in_port loads).
 */
const NEW_SRC_CASES = Math.max(50, Math.round(CASES / 5));
const poolMac = (i: number): string => `52:54:00:b5:00:${i.toString(16).padStart(2, '0')}`;
const floodArb = fc.record({
  src: fc.integer({ min: 0, max: 39 }),
  dst: fc.constantFrom('ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', MACS[1]!, poolMac(3)),
  kind: fc.constantFrom('arp', 'arp', 'arp', 'arp', 'garp', 'udp', 'other'),
  vlans: fc.constantFrom<number[]>([], [], [], [], [], [341], [100]),
  ip: fc.integer({ min: 0, max: 3 }),
  inPort: fc.constantFrom(...IN_PORTS, 1, 1, 1, 1, 1, 1, 1, 1),
  advance: fc.constantFrom(0, 0, 0, 1000, 400_000),
  flush: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
});

describe('megaflow cache: floods from new sources', () => {
  it(`generated floods from 40 sources under generated rules (${NEW_SRC_CASES} sequences): as without the cache`, () => {
    let learnedOnHit = 0;
    fc.assert(
      fc.property(fc.array(flowArb, { maxLength: 3 }), fc.boolean(), fc.array(floodArb, { minLength: 10, maxLength: 80 }), fc.constantFrom(8192, 8192, 4), (flows, normalFirst, packets, macLimit) => {
        const cached = new Bridge('br-provider', PORTS);
        const plain = new Bridge('br-provider', PORTS, { megaflows: false });
        // NORMAL in table 0 under the generated rules, or at the top of it (then the generated rules are mostly unreached).
        const lines = [normalFirst ? 'table=0,priority=65535,actions=NORMAL' : 'table=0,priority=1,actions=NORMAL', ...flows];
        for (const br of [cached, plain]) {
          br.macLimit = macLimit;
          br.addFlows(lines.map(flowOf).filter((f): f is Flow => f !== undefined));
        }
        const outA = new BridgeOutcome();
        const outB = new BridgeOutcome();
        let now = 0;
        for (const p of packets) {
          now += p.advance;
          if (p.flush) {
            cached.flushMacs();
            plain.flushMacs();
          }
          const src = poolMac(p.src);
          const ip = IPS[p.ip]!;
          const spec: FrameSpec =
            p.kind === 'arp' || p.kind === 'garp'
              ? { dst: p.dst, src, vlans: p.vlans, arp: { op: 1, senderMac: src, senderIp: ip, targetMac: '00:00:00:00:00:00', targetIp: p.kind === 'garp' ? ip : IPS[1]! } }
              : p.kind === 'udp'
                ? { dst: p.dst, src, vlans: p.vlans, ipv4: { src: ip, dst: IPS[1]! }, udp: { srcPort: 1, dstPort: 2 } }
                : { dst: p.dst, src, vlans: p.vlans, ethertype: 0x88b5, payload: new Uint8Array(46) };
          const frame = buildFrame({ ...spec, padTo: 60 });
          const before = cached.megaflowStats().hits;
          const a = run(cached, frame, p.inPort, now, true, outA);
          const b = run(plain, frame, p.inPort, now, true, outB);
          expect(a, `in_port ${p.inPort} at ${now} ms: ${hex(frame)}\nflows:\n${cached.dumpFlows({ stats: false })}`).toEqual(b);
          expect(state(cached)).toEqual(state(plain));
          if (cached.megaflowStats().hits > before && (a as { macs: Array<[number, number, boolean]> }).macs.some((m) => m[2])) learnedOnHit++;
        }
      }),
      { numRuns: NEW_SRC_CASES, seed: SEED },
    );
    console.log(`new-source floods: ${learnedOnHit} hits learned a source anew (seed ${SEED})`);
    // Not vacuous: entries kept without the source served many new ones.
    expect(learnedOnHit).toBeGreaterThan(NEW_SRC_CASES / 2);
  }, 120_000);

  it('an on-link client\'s first ARP, per node: one entry floods every new client\'s; the MAC table as without it', () => {
    const make = (megaflows: boolean): Bridge => {
      const br = new Bridge('br-provider', PORTS, { megaflows });
      br.addFlows('priority=0,actions=NORMAL');
      return br;
    };
    const cached = make(true);
    const plain = make(false);
    const out = new BridgeOutcome();
    for (let i = 0; i < 20; i++) {
      const src = poolMac(i);
      const arp = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src, arp: { op: 1, senderMac: src, senderIp: `10.180.204.${i + 10}`, targetMac: '00:00:00:00:00:00', targetIp: IPS[1]! }, padTo: 60 });
      for (const br of [cached, plain]) {
        br.effects = new BridgeEffects();
        br.processInto(arp, arp.length, 1, i, out);
        expect(out.count).toBe(3);
        expect(br.effects.macs.map((m) => [m.mac, m.port, m.created])).toEqual([[Number(`0x${src.replaceAll(':', '')}`), 1, true]]);
        br.effects = undefined;
      }
    }
    expect(cached.learnedMacs()).toEqual(plain.learnedMacs());
    // The first ARP made the VLAN's table: its translation is not kept (the key's sign found no table to look in).
    expect(cached.megaflowStats()).toMatchObject({ hits: 18, misses: 2, uncacheable: 1, entries: 1 });
    expect(cached.dumpFlows({ stats: true })).toBe(plain.dumpFlows({ stats: true }));
  });

  it('two NORMALs: the second refreshes what the first learned — such a translation is not kept without the source', () => {
    const make = (megaflows: boolean): Bridge => {
      const br = new Bridge('br-provider', PORTS, { megaflows });
      br.addFlows('priority=0,actions=NORMAL,NORMAL');
      return br;
    };
    const cached = make(true);
    const plain = make(false);
    const out = new BridgeOutcome();
    for (let i = 0; i < 6; i++) {
      const frame = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: poolMac(i), ethertype: 0x88b5, payload: new Uint8Array(46) });
      expect(run(cached, frame, 1, i, true, out)).toEqual(run(plain, frame, 1, i, true, out));
    }
    expect(cached.learnedMacs()).toEqual(plain.learnedMacs());
  });

  it('a source a rule rewrote is not learned as the packet\'s own: the entry keeps the source', () => {
    const make = (megaflows: boolean): Bridge => {
      const br = new Bridge('br-provider', PORTS, { megaflows });
      br.addFlows('priority=10,in_port=1,actions=mod_dl_src:52:54:00:b5:00:01,NORMAL\npriority=0,actions=NORMAL');
      return br;
    };
    const cached = make(true);
    const plain = make(false);
    const out = new BridgeOutcome();
    const flood = (i: number): Uint8Array => buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: poolMac(i), ethertype: 0x88b5, payload: new Uint8Array(46) });
    // The untagged VLAN's table made by a frame on the patch port; then on the uplink a frame whose own source is
    // the one the rule writes (NORMAL learns it anew, as the packet's own would be), then one from another new
    // source: NORMAL refreshes the rewritten source — it learns nothing anew.
    for (const [i, port] of [[9, 2], [1, 1], [2, 1], [3, 1]] as const) {
      for (const br of [cached, plain]) br.processInto(flood(i), 60, port, i, out);
      expect(cached.learnedMacs()).toEqual(plain.learnedMacs());
    }
    expect(plain.learnedMacs().map((m) => [m.mac, m.port])).toEqual([[0x525400b50001, 1], [0x525400b50009, 2]]);
  });
});

describe('megaflow cache: what an entry matches and rests on', () => {
  const kube = (): Bridge => {
    const br = new Bridge('br-provider', PORTS);
    br.addFlows(kubeOvnProviderFlows({ subnet: { name: 'underlay-subnet', vlan: 'vlan341', enableExternalLBAddress: true }, services: [{ name: 'nginx-lb', ingress: ['10.180.204.252'], ports: [{ port: 80 }] }], underlayOfport: 1, patchOfport: 2 }).flows.join('\n'));
    return br;
  };
  const syn = (sport: number, src = MACS[0]!, length = 60): Uint8Array =>
    buildFrame({ dst: MACS[2]!, src, ipv4: { src: '10.180.204.100', dst: '10.180.204.252' }, tcp: { srcPort: sport, dstPort: 80 }, padTo: length });

  it('the Kube-OVN rule: one entry for every client port, as the rule reads no source port; counters as the tables would', () => {
    const br = kube();
    const out = new BridgeOutcome();
    for (let p = 1000; p < 1100; p++) br.processInto(syn(p), syn(p).length, 1, 0, out);
    br.processInto(syn(5, MACS[0], 200), 200, 1, 0, out);
    expect(out.count).toBe(1);
    expect(out.ports[0]).toBe(2);
    expect(hex(out.packets[0]!.subarray(0, 6))).toBe('000000010001');
    expect(br.megaflowStats()).toMatchObject({ hits: 100, misses: 1, entries: 1, masks: 1 });
    const rule = br.flows()[0]!;
    expect([rule.nPackets, rule.nBytes]).toEqual([101, 100 * syn(1).length + 200]);
  });

  it('NORMAL: an entry per MAC pair; a MAC move, a new destination and ageing each go back to the tables', () => {
    const br = new Bridge('br0', PORTS);
    br.addFlows('priority=0,actions=NORMAL');
    const frame = (src: string, dst: string): Uint8Array => buildFrame({ dst, src, vlans: [341], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { srcPort: 1, dstPort: 2 } });
    const out = new BridgeOutcome();
    const A = MACS[0]!;
    const B = MACS[1]!;
    br.processInto(frame(B, A), 64, 2, 0, out); // B learned on 2 (a change: not cached)
    br.processInto(frame(A, B), 64, 1, 0, out); // A learned on 1, B known: to 2 (a change: not cached)
    expect(br.megaflowStats()).toMatchObject({ misses: 2, uncacheable: 2, entries: 0 });
    br.processInto(frame(A, B), 64, 1, 1000, out); // only a refresh: installed
    br.processInto(frame(A, B), 64, 1, 2000, out);
    expect(br.megaflowStats()).toMatchObject({ hits: 1, entries: 1 });
    expect([out.count, out.ports[0]]).toEqual([1, 2]);
    // B moves to port 4: the entry forwarding to 2 no longer stands.
    br.processInto(frame(B, A), 64, 4, 3000, out);
    br.processInto(frame(A, B), 64, 1, 4000, out);
    expect([out.count, out.ports[0]]).toEqual([1, 4]);
    expect(br.megaflowStats().stale).toBe(1);
    // B ages out (300 s): A's frames flood again, as the tables decide.
    br.processInto(frame(A, B), 64, 1, 5000, out);
    const hits = br.megaflowStats().hits;
    br.processInto(frame(A, B), 64, 1, 4000 + 301_000, out);
    expect(br.megaflowStats().hits).toBe(hits);
    expect(out.count).toBeGreaterThan(1);
  });

  it('a flow added or removed voids every entry', () => {
    const br = kube();
    const out = new BridgeOutcome();
    br.processInto(syn(1), 60, 1, 0, out);
    br.processInto(syn(2), 60, 1, 0, out);
    expect(br.megaflowStats().hits).toBe(1);
    const [drop] = br.addFlows('priority=20000,tcp,tp_src=3,actions=drop');
    br.processInto(syn(3), 60, 1, 0, out);
    expect(out.count).toBe(0);
    br.processInto(syn(4), 60, 1, 0, out);
    expect(out.count).toBe(1);
    br.removeFlow(drop!);
    br.processInto(syn(3), 60, 1, 0, out);
    expect(out.count).toBe(1);
  });

  it('a later fragment does not take its flow\'s entry: the frame\'s layout is part of every key', () => {
    // The rewritten port decides table 1, so no entry matches the packet's own port; a fragment has no port to
    // rewrite, and only the layout word tells it from the segment whose entry rests on the rewrite.
    const br = new Bridge('br0', PORTS);
    br.addFlows(['table=0,priority=50,tcp,actions=mod_tp_dst:8080,resubmit(,1)', 'table=1,priority=10,tcp,tp_dst=8080,actions=output:2', 'table=1,priority=5,actions=output:3'].join('\n'));
    const seg = (fragmentOffset: number): Uint8Array => buildFrame({ dst: MACS[1]!, src: MACS[0]!, ipv4: { src: '10.0.0.1', dst: '10.0.0.2', fragmentOffset, dontFragment: false }, tcp: { srcPort: 1, dstPort: 80 } });
    const out = new BridgeOutcome();
    br.processInto(seg(0), seg(0).length, 1, 0, out);
    br.processInto(seg(0), seg(0).length, 1, 0, out);
    expect([out.ports[0], br.megaflowStats().hits]).toEqual([2, 1]);
    br.processInto(seg(8), seg(8).length, 1, 0, out);
    expect([out.count, out.ports[0]]).toEqual([1, 3]);
  });

  it('off: every packet through the tables', () => {
    const br = new Bridge('br-provider', PORTS, { megaflows: false });
    br.addFlows('priority=0,actions=output:2');
    for (let i = 0; i < 3; i++) br.process(syn(i), 1);
    expect(br.megaflowStats()).toMatchObject({ hits: 0, misses: 0, entries: 0 });
  });
});
