import { describe, expect, it } from 'vitest';
import { buildFrame, parseFrame, type DecodedFrame, type FrameSpec } from '@vippath/wire';
import { CtNat, CtRequest, CtState, type ConntrackEngine, type CtResult } from './ct-api.js';
import { TraceConntrack, parseCtFlags } from './ct-trace.js';
import { DNAT_ZONE, DropReason, LflowExecutor, SNAT_ZONE, microflowEnv, parseLbDst } from './executor.js';
import { parseActions } from './actions.js';
import { parseMicroflow } from './microflow.js';
import { formatFlow } from './packet.js';
import { formatTrace } from './trace.js';
import { parseLflowList, sbFromLflowList } from './lflow-text.js';
import type { LogicalFlow, SouthboundState } from './types.js';

const P1 = { mac: '00:00:00:00:00:01', ip: '10.0.0.1' };
const P2 = { mac: '00:00:00:00:00:02', ip: '10.0.0.2' };
const VIP = '10.0.0.100';

/** A switch with the given ingress flows (table 0 …) and a pass-through egress; every flow has a uuid. */
function switchOf(ingress: Array<[number, number, string, string]>, egress: Array<[number, number, string, string]> = [[0, 0, '1', 'output;']]): SouthboundState {
  let n = 0;
  const mk = (pipeline: 'ingress' | 'egress') => ([table, priority, match, actions]: [number, number, string, string]): LogicalFlow => ({ pipeline, table, stage: `ls_${pipeline === 'ingress' ? 'in' : 'out'}_t${table}`, priority, match, actions, uuid: `${(++n).toString(16).padStart(8, '0')}-0000-0000-0000-000000000000` });
  return {
    datapaths: [{ name: 'ls', tunnelKey: 1 }],
    flows: new Map([['ls', [...ingress.map(mk('ingress')), ...egress.map(mk('egress'))]]]),
    portBindings: [
      { logicalPort: 'ln', type: 'localnet', mac: ['unknown'], portSecurity: [], tunnelKey: 1, options: { network_name: 'provider' }, tag: 341, datapath: 'ls' },
      { logicalPort: 'p1', type: '', mac: [`${P1.mac} ${P1.ip}`], portSecurity: [`${P1.mac} ${P1.ip}`], tunnelKey: 2, chassis: 'node1', options: {}, datapath: 'ls' },
      { logicalPort: 'p2', type: '', mac: [`${P2.mac} ${P2.ip}`], portSecurity: [`${P2.mac} ${P2.ip}`], tunnelKey: 3, chassis: 'node2', options: {}, datapath: 'ls' },
      { logicalPort: 'p3', type: '', mac: ['00:00:00:00:00:03 10.0.0.3'], portSecurity: [], tunnelKey: 4, options: {}, datapath: 'ls' },
    ],
    multicastGroups: [
      { name: '_MC_flood', datapath: 'ls', tunnelKey: 32768, ports: ['ln', 'p1', 'p2', 'p3'] },
      { name: '_MC_unknown', datapath: 'ls', tunnelKey: 32769, ports: ['ln'] },
    ],
    loadBalancers: [{ name: 'lb', protocol: 'tcp', vips: { [`${VIP}:80`]: `${P1.ip}:80,${P2.ip}:80` }, options: {}, datapaths: ['ls'] }],
    fdb: [{ mac: '00:00:00:00:00:09', datapath: 'ls', port: 'p3' }],
    options: {},
    addressSets: new Map(),
    portGroups: new Map(),
  };
}

const syn = (from = P1, to = VIP, sport = 40000): FrameSpec => ({ src: from.mac, dst: P2.mac, ipv4: { src: from.ip, dst: to }, tcp: { srcPort: sport, dstPort: 80 } });

/** Records every ct() request and answers with a fixed state. */
class RecordingCt implements ConntrackEngine {
  readonly calls: Array<Omit<CtRequest, 'reset' | 'natAddrMin' | 'natAddrMax' | 'labelValue' | 'labelMask'> & { addr: string; label: number[]; labelMask: number[] }> = [];
  constructor(private readonly state = CtState.NEW | CtState.TRK) {}
  execute(_f: Uint8Array, _l: number, _d: DecodedFrame, r: CtRequest, res: CtResult): void {
    this.calls.push({ action: r.action, zone: r.zone, commit: r.commit, force: r.force, nat: r.nat, natIpv6: r.natIpv6, natPortMin: r.natPortMin, natPortMax: r.natPortMax, setMark: r.setMark, markValue: r.markValue, markMask: r.markMask, setLabel: r.setLabel, addr: [...r.natAddrMin.subarray(0, 4)].join('.'), label: [...r.labelValue], labelMask: [...r.labelMask] });
    res.state = this.state;
  }
}

function run(sb: SouthboundState, inport: string, spec: FrameSpec, opts: ConstructorParameters<typeof LflowExecutor>[2] = {}): ReturnType<LflowExecutor['runFrame']> & { ex: LflowExecutor } {
  const ex = new LflowExecutor(sb, 'ls', opts);
  const f = buildFrame(spec);
  const buf = new Uint8Array(f.length + 8);
  buf.set(f);
  return Object.assign(ex.runFrame(buf, f.length, inport, 0, true), { ex });
}
const outPorts = (r: { outputs: Array<{ port: string }> }): string[] => r.outputs.map((o) => o.port);

describe('actions', () => {
  it('parse to ovn-trace\'s canonical text, with the prerequisites they add', () => {
    const { actions, prereqs } = parseActions('reg0[15] = check_in_port_sec(); reg1 = 10.0.0.1; reg2[0..15] = 80; eth.dst <-> eth.src; eth.dst = eth.src; arp.op = 2; /* c */ ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; ct_lb_mark(backends=10.0.0.1:80,[fd00::1]:80; hash_fields="ip_src"); next(pipeline=egress, table=3); outport = get_fdb(eth.dst); put_fdb(inport, eth.src); reg0[6] = chk_lb_hairpin(); commit_lb_aff(vip = "10.0.0.1:80", backend = "10.0.0.2:80", proto = tcp, timeout = 30); nd_na { eth.src = 00:00:00:00:00:01; output; }; handle_svc_check(inport); output;', 'ingress', 4);
    expect(actions.map((a) => a.text)).toEqual([
      'reg0[15] = check_in_port_sec();', 'reg1 = 10.0.0.1;', 'reg2[0..15] = 80;', 'eth.dst <-> eth.src;', 'eth.dst = eth.src;', 'arp.op = 2;',
      'ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; };', 'ct_lb_mark(backends=10.0.0.1:80,[fd00::1]:80; hash_fields="ip_src");',
      'next(pipeline=egress, table=3);', 'outport = get_fdb(eth.dst);', 'put_fdb(inport, eth.src);', 'reg0[6] = chk_lb_hairpin();',
      'commit_lb_aff(vip = "10.0.0.1:80", backend = "10.0.0.2:80", proto = tcp, timeout = 30);', 'nd_na { eth.src = 00:00:00:00:00:01; output; };', 'handle_svc_check(inport);', 'output;',
    ]);
    expect(prereqs).toEqual(expect.arrayContaining(['arp', 'ip', 'nd_ns']));
    // Every action ends with its `;` (ovn-trace 23.03: "Syntax error at end of input expecting `;'").
    expect(() => parseActions('reg0 = 1', 'ingress', 0)).toThrow(/expecting ';'/);
    expect(() => parseActions('reg0[40] = 1;', 'ingress', 0)).toThrow();
    expect(() => parseActions('reg0 = eth.src;', 'ingress', 0)).toThrow();
    expect(() => parseActions('frobnicate;', 'ingress', 0)).toThrow();
  });

  it('load, move, exchange and register bits change exactly those bits', () => {
    const sb = switchOf([
      [0, 0, '1', `reg0[3] = 1; reg1 = 10.0.0.1; xxreg1 = fd00::1; reg2[0..15] = tcp.dst; eth.dst <-> eth.src; next;`],
      [1, 10, `reg0 == 8 && reg1 == 10.0.0.1 && xxreg1 == fd00::1 && reg2 == 80 && eth.src == ${P2.mac} && eth.dst == ${P1.mac}`, 'outport = "p3"; output;'],
      [1, 0, '1', 'drop;'],
    ]);
    const r = run(sb, 'p1', syn());
    expect(outPorts(r)).toEqual(['p3']);
    expect(parseFrame(r.outputs[0]!.frame.subarray(0, r.outputs[0]!.length)).eth.dst).toBe(P1.mac);
  });

  it('next(pipeline=, table=) jumps; output with outport == inport is dropped unless flags.loopback', () => {
    const sb = switchOf([[0, 0, '1', 'next(pipeline=egress, table=1);']], [[0, 0, '1', 'drop;'], [1, 0, '1', 'outport = "p2"; output;']]);
    expect(outPorts(run(sb, 'p1', syn()))).toEqual(['p2']);
    const loop = switchOf([[0, 0, '1', 'outport = inport; output;']]);
    const r = run(loop, 'p1', syn());
    expect(outPorts(r)).toEqual([]);
    expect(r.drops.map((d) => d.reason)).toContain(DropReason.LOOPBACK);
    expect(outPorts(run(switchOf([[0, 0, '1', 'outport = inport; flags.loopback = 1; output;']]), 'p1', syn()))).toEqual(['p1']);
  });

  it('ct_next asks for the packet\'s zone without commit; the next table sees the answer', () => {
    const ct = new RecordingCt(CtState.EST | CtState.TRK);
    const sb = switchOf([[0, 0, '1', 'ct_next;'], [1, 10, 'ct.est', 'outport = "p3"; output;'], [1, 0, '1', 'drop;']]);
    expect(outPorts(run(sb, 'p1', syn(), { ct }))).toEqual(['p3']);
    expect(ct.calls).toMatchObject([{ zone: 2, commit: false, nat: CtNat.NONE }]);
  });

  it('ct_lb_mark with backends commits a DNAT to one backend (5-tuple hash, or --lb-dst) and marks it natted', () => {
    const sb = switchOf([[0, 0, '1', `ct_lb_mark(backends=${P1.ip}:80,${P2.ip}:80; hash_fields="ip_src,ip_dst,tp_src,tp_dst");`], [1, 0, '1', 'outport = "p3"; output;']]);
    const picks = new Set<string>();
    for (let sport = 40000; sport < 40016; sport++) {
      const ct = new RecordingCt();
      run(sb, 'ln', syn({ mac: '52:54:00:00:00:64', ip: '10.0.0.50' }, VIP, sport), { ct });
      expect(ct.calls[0]).toMatchObject({ commit: true, nat: CtNat.DNAT, natPortMin: 80, setMark: true, markValue: 2, markMask: 2 });
      picks.add(ct.calls[0]!.addr);
    }
    expect([...picks].sort()).toEqual([P1.ip, P2.ip]);
    const pinned = new RecordingCt();
    run(sb, 'ln', syn(), { ct: pinned, lbDst: parseLbDst(`${P2.ip}:80`) });
    expect(pinned.calls[0]!.addr).toBe(P2.ip);
    const bare = new RecordingCt();
    run(switchOf([[0, 0, '1', 'ct_lb_mark;'], [1, 0, '1', 'drop;']]), 'p1', syn(), { ct: bare });
    expect(bare.calls[0]).toMatchObject({ commit: false, nat: CtNat.APPLY });
  });

  it('ct_commit { … } writes mark and label bits; ct_commit_nat, ct_dnat and ct_snat apply the connection\'s NAT', () => {
    const ct = new RecordingCt();
    run(switchOf([[0, 0, '1', 'reg3 = 7; ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; next;'], [1, 0, '1', 'drop;']]), 'p1', syn(), { ct });
    expect(ct.calls[0]).toMatchObject({ commit: true, setMark: true, markValue: 0, markMask: 1, setLabel: true, label: [0, 0, 0, 7], labelMask: [0, 0, 0, 0xffffffff] });
    for (const a of ['ct_commit_nat;', 'ct_dnat;', 'ct_snat;']) {
      const c = new RecordingCt();
      run(switchOf([[0, 0, '1', a], [1, 0, '1', 'drop;']]), 'p1', syn(), { ct: c });
      expect(c.calls[0], a).toMatchObject({ nat: CtNat.APPLY, commit: a === 'ct_commit_nat;', zone: a === 'ct_dnat;' ? DNAT_ZONE : a === 'ct_snat;' ? SNAT_ZONE : 2 });
    }
    const to = new RecordingCt();
    run(switchOf([[0, 0, '1', 'ct_dnat(10.9.9.9);'], [1, 0, '1', 'drop;']]), 'p1', syn(), { ct: to });
    expect(to.calls[0]).toMatchObject({ nat: CtNat.DNAT, commit: true, addr: '10.9.9.9' });
  });

  it('hairpin: chk_lb_hairpin sees a DNAT back to the sender; ct_snat_to_vip SNATs to the VIP in the SNAT zone', () => {
    const sb = switchOf([
      [0, 0, '1', 'ct_lb_mark;'],
      [1, 0, '1', 'reg0[6] = chk_lb_hairpin(); reg0[12] = chk_lb_hairpin_reply(); next;'],
      [2, 10, 'reg0[6] == 1', 'ct_snat_to_vip; outport = inport; flags.loopback = 1; output;'],
      [2, 0, '1', 'drop;'],
    ]);
    const r = run(sb, 'p1', syn(P1, VIP), { ct: new TraceConntrack([parseCtFlags('new')]), lbDst: parseLbDst(`${P1.ip}:80`) });
    expect(outPorts(r)).toEqual(['p1']);
    expect(formatTrace([r.trace!], 'minimal')).toContain('reg0[6] = 1');
    expect(formatTrace([r.trace!], 'detailed')).toContain(`/* nat(src=${VIP}) */`);
    const other = run(sb, 'p1', syn(P1, VIP), { ct: new TraceConntrack([parseCtFlags('new')]), lbDst: parseLbDst(`${P2.ip}:80`) });
    expect(outPorts(other)).toEqual([]);
  });

  it('chk_lb_aff/commit_lb_aff: with a chassis the first packet is dropped after learning, the next goes to the learned backend (ovn-trace: no-ops)', () => {
    // The flows real ovn-northd 23.03 writes for options:affinity_timeout=60 (ls_in_lb_aff_check, ls_in_lb 150, ls_in_lb_aff_learn).
    const aff = (b: typeof P1): Array<[number, number, string, string]> => [
      [2, 150, `reg9[6] == 1 && ct.new && ip4 && reg4 == ${b.ip} && reg8[0..15] == 80`, `reg0[1] = 0; reg1 = ${VIP}; reg2[0..15] = 80; ct_lb_mark(backends=${b.ip}:80);`],
      [3, 100, `reg9[6] == 0 && ct.new && ip4 && reg1 == ${VIP} && reg2[0..15] == 80 && ip4.dst == ${b.ip} && tcp.dst == 80`, `commit_lb_aff(vip = "${VIP}:80", backend = "${b.ip}:80", proto = tcp, timeout = 60); /* drop */`],
    ];
    const sb = switchOf([
      [0, 0, '1', 'ct_next;'],
      [1, 100, `ct.new && ip4 && ip4.dst == ${VIP} && tcp.dst == 80`, `reg1 = ${VIP}; reg2[0..15] = 80; reg9[6] = chk_lb_aff(); next;`],
      [1, 0, '1', 'next;'],
      ...aff(P1), ...aff(P2),
      [2, 120, `ct.new && ip4.dst == ${VIP} && tcp.dst == 80`, `ct_lb_mark(backends=${P1.ip}:80,${P2.ip}:80);`],
      [2, 0, '1', 'next;'],
      [3, 0, '1', 'next;'],
      [4, 0, '1', 'outport = "p1"; output;'],
    ]);
    const client = { mac: '52:54:00:00:00:64', ip: '10.0.0.50' };
    const ex = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: new TraceConntrack([parseCtFlags('new'), parseCtFlags('new')]) });
    const send = (sport: number, now: number): ReturnType<LflowExecutor['runFrame']> => {
      const f = buildFrame(syn(client, VIP, sport));
      return ex.runFrame(f, f.length, 'p2', now, true);
    };
    const first = send(40000, 0);
    expect(outPorts(first)).toEqual([]);
    expect(first.drops.map((d) => d.stage)).toEqual(['ls_in_t3']);
    const learned = first.ct.find((c) => c.backend)!.backend;
    for (let sport = 40001; sport < 40006; sport++) {
      const r = send(sport, 1000);
      expect(outPorts(r)).toEqual(['p1']);
      expect(r.ct.find((c) => c.backend)!.backend).toBe(learned);
      expect(r.stages.find((s) => s.stage === 'ls_in_t2')!.priority).toBe(150);
    }
    expect(outPorts(send(40010, 1000 + 61_000))).toEqual([]); // idle longer than the timeout: learned again
    const traceMode = new LflowExecutor(sb, 'ls', { ct: new TraceConntrack([parseCtFlags('new'), parseCtFlags('new')]) });
    for (const sport of [1, 2]) {
      const f = buildFrame(syn(client, VIP, sport));
      expect(outPorts(traceMode.runFrame(f, f.length, 'p2'))).toEqual([]);
    }
  });

  it('check_in_port_sec / check_out_port_sec as ovn-trace computes them', () => {
    const sb = switchOf([[0, 0, '1', 'reg0[15] = check_in_port_sec(); next;'], [1, 50, 'reg0[15] == 1', 'drop;'], [1, 0, '1', 'outport = "p2"; output;']], [[0, 0, '1', 'reg0[15] = check_out_port_sec(); next;'], [1, 50, 'reg0[15] == 1', 'drop;'], [1, 0, '1', 'output;']]);
    expect(outPorts(run(sb, 'p1', { ...syn(P1, P2.ip) }))).toEqual(['p2']);
    expect(outPorts(run(sb, 'p1', syn({ mac: P1.mac, ip: '10.0.0.66' }, P2.ip)))).toEqual([]); // spoofed source IP
    expect(outPorts(run(sb, 'p1', { src: P1.mac, dst: P2.mac, ipv4: { src: '0.0.0.0', dst: '255.255.255.255' }, udp: { srcPort: 68, dstPort: 67 } }))).toEqual(['p2']); // DHCP discover
    expect(outPorts(run(sb, 'p1', { src: P1.mac, dst: 'ff:ff:ff:ff:ff:ff', arp: { op: 1, senderMac: P1.mac, senderIp: '10.0.0.66', targetMac: '00:00:00:00:00:00', targetIp: P2.ip } }))).toEqual([]); // spoofed arp.spa
    expect(outPorts(run(sb, 'p1', { src: P1.mac, dst: P2.mac, ipv6: { src: 'fe80::200:ff:fe00:1', dst: 'fd00::2' }, udp: { srcPort: 1, dstPort: 2 } }))).toEqual([]); // IPv6 to a port with only IPv4 port security
    expect(outPorts(run(sb, 'p1', syn(P1, '10.0.0.77')))).toEqual([]); // egress: not p2's address
  });

  it('get_fdb, lookup_fdb and put_fdb (learning only where ovn-controller would, with a chassis)', () => {
    const sb = switchOf([[0, 0, '1', 'put_fdb(inport, eth.src); reg0[8] = lookup_fdb(inport, eth.src); next;'], [1, 0, '1', 'outport = get_fdb(eth.dst); next;'], [2, 10, 'outport == "none"', 'drop;'], [2, 0, '1', 'output;']]);
    expect(outPorts(run(sb, 'ln', { src: '52:54:00:00:00:07', dst: '00:00:00:00:00:09', ipv4: { src: '1.1.1.1', dst: '10.0.0.3' }, udp: { srcPort: 1, dstPort: 2 } }))).toEqual(['p3']);
    const ex = new LflowExecutor(sb, 'ls', { chassis: 'node1' });
    const a = buildFrame({ src: '52:54:00:00:00:07', dst: '00:00:00:00:00:09', vlans: [341], ipv4: { src: '1.1.1.1', dst: '10.0.0.3' }, udp: { srcPort: 1, dstPort: 2 } });
    ex.runFrame(a.slice(), a.length, 'ln');
    const back = buildFrame({ src: P1.mac, dst: '52:54:00:00:00:07', ipv4: { src: P1.ip, dst: '1.1.1.1' }, udp: { srcPort: 2, dstPort: 1 } });
    expect(outPorts(ex.runFrame(back.slice(), back.length, 'p1'))).toEqual(['ln']);
  });

  it('arp { … } and nd_na { … } answer with a new packet built from the request', () => {
    const sb = switchOf([
      [0, 50, `arp.tpa == ${P2.ip} && arp.op == 1`, `eth.dst = eth.src; eth.src = ${P2.mac}; arp.op = 2; arp.tha = arp.sha; arp.sha = ${P2.mac}; arp.tpa = arp.spa; arp.spa = ${P2.ip}; outport = inport; flags.loopback = 1; output;`],
      [0, 40, 'nd_ns && nd.target == fd00::2', `nd_na { eth.src = ${P2.mac}; ip6.src = fd00::2; nd.target = fd00::2; nd.tll = ${P2.mac}; outport = inport; flags.loopback = 1; output; };`],
      [0, 30, 'ip4', 'arp { eth.dst = ff:ff:ff:ff:ff:ff; outport = "p2"; output; };'],
      [0, 0, '1', 'drop;'],
    ]);
    const r = run(sb, 'p1', { src: P1.mac, dst: 'ff:ff:ff:ff:ff:ff', arp: { op: 1, senderMac: P1.mac, senderIp: P1.ip, targetMac: '00:00:00:00:00:00', targetIp: P2.ip } });
    expect(outPorts(r)).toEqual(['p1']);
    expect(parseFrame(r.outputs[0]!.frame.subarray(0, r.outputs[0]!.length)).arp).toEqual({ op: 2, senderMac: P2.mac, senderIp: P2.ip, targetMac: P1.mac, targetIp: P1.ip });
    const na = run(sb, 'p1', { src: P1.mac, dst: '33:33:ff:00:00:02', ipv6: { src: 'fd00::1', dst: 'ff02::1:ff00:2', hopLimit: 255 }, ndp: { type: 135, router: false, solicited: false, override: false, target: 'fd00::2', options: [] } });
    expect(outPorts(na)).toEqual(['p1']);
    const f = parseFrame(na.outputs[0]!.frame.subarray(0, na.outputs[0]!.length));
    expect(f.ndp?.type).toBe(136);
    expect(f.ipv6?.src).toBe('fd00::2');
    expect(f.eth.dst).toBe(P1.mac);
    const req = run(sb, 'p1', syn(P1, P2.ip));
    expect(parseFrame(req.outputs[0]!.frame.subarray(0, req.outputs[0]!.length)).arp).toMatchObject({ op: 1, senderMac: P1.mac, targetIp: P2.ip });
  });
});

describe('table lookup', () => {
  it('an index on a pinned field (here eth.dst) keeps priority order with the flows it does not cover', () => {
    const macs = ['00:00:00:00:00:01', '00:00:00:00:00:02', '00:00:00:00:00:0a', '00:00:00:00:00:0b', '00:00:00:00:00:0c'];
    const sb = switchOf([
      [0, 100, 'inport == "p1" && ip4.dst == 10.0.0.77', 'outport = "p3"; output;'],
      ...macs.map((mac, i): [number, number, string, string] => [0, 50, `eth.dst == ${mac}`, `outport = "${i % 2 ? 'p2' : 'p1'}"; output;`]),
      [0, 40, 'eth.dst == 00:00:00:00:00:0b && ip4', 'drop;'],
      [0, 0, '1', 'drop;'],
    ]);
    expect(outPorts(run(sb, 'p1', syn(P1, '10.0.0.77')))).toEqual(['p3']);
    expect(outPorts(run(sb, 'p3', { ...syn(P1, '10.0.0.77'), dst: '00:00:00:00:00:0b' }))).toEqual(['p2']);
    expect(outPorts(run(sb, 'p3', { ...syn(P1, '10.0.0.77'), dst: '00:00:00:00:00:0d' }))).toEqual([]);
  });
});

describe('the physical side (chassis mode)', () => {
  const l2 = switchOf([[0, 70, 'eth.mcast', 'outport = "_MC_flood"; output;'], [0, 50, `eth.dst == ${P1.mac}`, 'outport = "p1"; output;'], [0, 50, `eth.dst == ${P2.mac}`, 'outport = "p2"; output;'], [0, 0, '1', 'outport = "_MC_unknown"; output;']]);
  const tagged = (spec: FrameSpec): FrameSpec => ({ ...spec, vlans: [341] });

  it('a port bound on another chassis is reached through the localnet port, and from the localnet port the loopback check drops it', () => {
    const fromP1 = run(l2, 'p1', { ...syn(P1, P2.ip), dst: P2.mac }, { chassis: 'node1' });
    expect(outPorts(fromP1)).toEqual(['ln']);
    expect(fromP1.outputs[0]!.tag).toBe(341);
    expect(parseFrame(fromP1.outputs[0]!.frame.subarray(0, fromP1.outputs[0]!.length)).eth.vlans[0]?.vid).toBe(341);
    const fromLn = run(l2, 'ln', tagged({ src: '52:54:00:00:00:64', dst: P2.mac, ipv4: { src: '10.0.0.50', dst: P2.ip }, tcp: { srcPort: 1, dstPort: 80 } }), { chassis: 'node1' });
    expect(outPorts(fromLn)).toEqual([]);
    expect(fromLn.drops.map((d) => d.reason)).toContain(DropReason.LOOPBACK);
    // ovn-trace's view (no chassis): delivered.
    expect(outPorts(run(l2, 'ln', { src: '52:54:00:00:00:64', dst: P2.mac, ipv4: { src: '10.0.0.50', dst: P2.ip }, tcp: { srcPort: 1, dstPort: 80 } }))).toEqual(['p2']);
    // A port bound nowhere is not reachable.
    const unbound = run(switchOf([[0, 0, '1', 'outport = "p3"; output;']]), 'p1', syn(), { chassis: 'node1' });
    expect(unbound.drops.map((d) => d.reason)).toEqual([DropReason.UNBOUND]);
  });

  it('the localnet tag is stripped on the way in (other tags dropped); multicast groups reach this chassis\' ports only', () => {
    const bcast = tagged({ src: '52:54:00:00:00:64', dst: 'ff:ff:ff:ff:ff:ff', arp: { op: 1, senderMac: '52:54:00:00:00:64', senderIp: '10.0.0.50', targetMac: '00:00:00:00:00:00', targetIp: P1.ip } });
    const r = run(l2, 'ln', bcast, { chassis: 'node1' });
    expect(outPorts(r)).toEqual(['p1']);
    expect(parseFrame(r.outputs[0]!.frame.subarray(0, r.outputs[0]!.length)).eth.vlans).toEqual([]);
    expect(outPorts(run(l2, 'ln', bcast, { chassis: 'node2' }))).toEqual(['p2']);
    const wrong = run(l2, 'ln', { ...bcast, vlans: [342] }, { chassis: 'node1' });
    expect(wrong.drops.map((d) => d.reason)).toEqual([DropReason.LOCALNET_TAG]);
    // ovn-trace's view: every member but the inport.
    expect(outPorts(run(l2, 'ln', { ...bcast, vlans: [] }))).toEqual(['p1', 'p2', 'p3']);
  });

  it('is_chassis_resident() is evaluated for the packet\'s chassis (ovn-trace: true for every port)', () => {
    const sb = switchOf([[0, 140, 'is_chassis_resident("p2")', 'outport = "p2"; output;'], [0, 0, '1', 'outport = "p1"; output;']]);
    expect(outPorts(run(sb, 'p3', syn(), { chassis: 'node2' }))).toEqual(['p2']);
    expect(outPorts(run(sb, 'p3', syn(), { chassis: 'node1' }))).toEqual(['p1']);
    expect(outPorts(run(sb, 'p3', syn()))).toEqual(['p2']);
    // Not bound in the data but requested on node2 (Kube-OVN's requested-chassis): resident there.
    const req = switchOf([[0, 140, 'is_chassis_resident("p3")', 'outport = "p1"; output;'], [0, 0, '1', 'drop;']]);
    req.portBindings.find((p) => p.logicalPort === 'p3')!.options['requested-chassis'] = 'node1';
    expect(outPorts(run(req, 'p2', syn(), { chassis: 'node1' }))).toEqual(['p1']);
    expect(outPorts(run(req, 'p2', syn(), { chassis: 'node2' }))).toEqual([]);
    // A port of another datapath (Kube-OVN's VIP-node marker names the node's join-switch port node-<name>).
    const other = switchOf([[0, 140, 'is_chassis_resident("node-node2")', 'outport = "p2"; output;'], [0, 0, '1', 'outport = "p1"; output;']]);
    other.portBindings.push({ logicalPort: 'node-node2', type: '', mac: [], portSecurity: [], tunnelKey: 1, chassis: 'node2', options: {}, datapath: 'join' });
    expect(outPorts(run(other, 'p3', syn(), { chassis: 'node2' }))).toEqual(['p2']);
    expect(outPorts(run(other, 'p3', syn(), { chassis: 'node1' }))).toEqual(['p1']);
    expect(outPorts(run(other, 'p3', syn()))).toEqual(['p2']);
    // An unknown port is resident nowhere, in ovn-trace's view too.
    other.portBindings.pop();
    expect(outPorts(run(other, 'p3', syn()))).toEqual(['p1']);
  });
});

describe('conntrack as ovn-trace answers', () => {
  it('--ct states are consumed one per ct action, est|trk after the last; DNAT rewrites the frame with checksums', () => {
    const sb = switchOf([[0, 0, '1', 'ct_next;'], [1, 0, '1', 'ct_lb_mark;'], [2, 0, 'ct.new && ct.est && ct.dnat', 'outport = "p3"; output;']]);
    const r = run(sb, 'ln', syn({ mac: '52:54:00:00:00:64', ip: '10.0.0.50' }), { ct: new TraceConntrack([parseCtFlags('new')]), lbDst: parseLbDst(`${P2.ip}:8080`) });
    expect(outPorts(r)).toEqual(['p3']);
    const f = parseFrame(r.outputs[0]!.frame.subarray(0, r.outputs[0]!.length));
    expect(f.ipv4?.dst).toBe(P2.ip);
    expect(f.tcp?.dstPort).toBe(8080);
    expect(f.checksum).toBe('ok');
    expect(formatTrace([r.trace!], 'detailed')).toContain('ct_lb_mark /* default (use --ct to customize) */');
    expect(() => parseCtFlags('est|rpl')).toThrow();
    expect(parseCtFlags('est,rpl')).toBe(CtState.EST | CtState.RPL | CtState.TRK);
  });
});

describe('microflows and lflow-list text', () => {
  it('a microflow fills in prerequisites (nd_ns → ttl 255, IPv6 from ip6.*), printed as OVS prints flows', () => {
    const sb = switchOf([[0, 0, '1', 'drop;']]);
    const ex = new LflowExecutor(sb, 'ls');
    expect(formatFlow(parseMicroflow('inport == "p1" && nd_ns && ip6.src == fd00::1 && nd.target == fd00::2', microflowEnv(ex, sb)))).toBe(
      'icmp6,reg14=0x2,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,ipv6_src=fd00::1,ipv6_dst=::,ipv6_label=0x00000,nw_tos=0,nw_ecn=0,nw_ttl=255,nw_frag=no,icmp_type=135,icmp_code=0,nd_target=fd00::2,nd_sll=00:00:00:00:00:00,nd_tll=00:00:00:00:00:00');
    expect(formatFlow(parseMicroflow('tcp.dst == 80 && ip6.dst == fd00::1', microflowEnv(ex, sb)))).toMatch(/^tcp6,/);
    expect(() => parseMicroflow('ip4 && ip6', microflowEnv(ex, sb))).toThrow(/no packet/);
  });

  it('lflow-list text, with and without --uuid, parses back into rows', () => {
    const text = `Datapath: "ls" (14250f3e-2685-467a-98ae-932e029f5395)  Pipeline: ingress
  table=0 (ls_in_check_port_sec), priority=100  , match=(eth.src[40]), action=(drop;)
  uuid=0x26860587, table=25(ls_in_l2_lkup      ), priority=50   , match=(eth.dst == 00:00:00:b4:cc:01), action=(outport = "pod1"; output;)
Datapath: "ls" (14250f3e-2685-467a-98ae-932e029f5395)  Pipeline: egress
  table=9 (ls_out_apply_port_sec), priority=0    , match=(1), action=(output;)
`;
    const flows = parseLflowList(text).get('ls')!;
    expect(flows.map((f) => [f.pipeline, f.table, f.stage, f.priority, f.uuid])).toEqual([['ingress', 0, 'ls_in_check_port_sec', 100, undefined], ['ingress', 25, 'ls_in_l2_lkup', 50, '26860587'], ['egress', 9, 'ls_out_apply_port_sec', 0, undefined]]);
    expect(sbFromLflowList(text).portBindings.map((p) => p.logicalPort)).toEqual(['pod1']);
    expect(() => parseLflowList('table=0 nonsense')).toThrow(/line 1/);
  });
});
