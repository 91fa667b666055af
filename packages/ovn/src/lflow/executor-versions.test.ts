/**
 * What the interpreter learned for OVN 24.03/25.03's switch flows (sources at each piece): the ct original-tuple
 * loads `ct_nw_dst()`/`ct_ip6_dst()`/`ct_tp_dst()` that ls_in_lb uses for IP fragments, the 24.03+ symbols
 * (`flags.tunnel_rx`, 25.03's ct_mark/ct_label observation fields), ACL tiers and `pass` as northd 24.03 writes
 * them, 25.03's `ct_commit` of `allow_established`/`acl_id`, and where a learned affinity puts the backend
 * (register_consolidation). No 24.03/25.03 binary is installed: these follow the source, not a run.
 */
import { describe, expect, it } from 'vitest';
import { buildFrame, type DecodedFrame, type FrameSpec } from '@vippath/wire';
import { OvsConntrack } from '../ct/index.js';
import { northd } from '../northd/northd.js';
import { ovnVersionOfFlows } from '../northd/stages.js';
import type { NbAcl, NorthboundDb } from '../northd/nb.js';
import { CtState, type ConntrackEngine, type CtRequest, type CtResult } from './ct-api.js';
import { LflowExecutor } from './executor.js';
import { parseActions } from './actions.js';
import { resolveField } from './fields.js';
import type { LogicalFlow, SouthboundState } from './types.js';

const P1 = { mac: '00:00:00:00:00:01', ip: '10.0.0.1', ip6: 'fd00::1' };
const P2 = { mac: '00:00:00:00:00:02', ip: '10.0.0.2', ip6: 'fd00::2' };

/** A switch with the given ingress flows and an egress that outputs; ports p1/p2 bound on node1. */
function switchOf(ingress: Array<[number, number, string, string]>, options: Record<string, string> = {}): SouthboundState {
  const mk = (pipeline: 'ingress' | 'egress') => ([table, priority, match, actions]: [number, number, string, string]): LogicalFlow => ({ pipeline, table, stage: `t${table}`, priority, match, actions });
  return {
    datapaths: [{ name: 'ls', tunnelKey: 1 }],
    flows: new Map([['ls', [...ingress.map(mk('ingress')), mk('egress')([0, 0, '1', 'output;'])]]]),
    portBindings: [
      { logicalPort: 'p1', type: '', mac: [`${P1.mac} ${P1.ip}`], portSecurity: [], tunnelKey: 1, chassis: 'node1', options: {}, datapath: 'ls' },
      { logicalPort: 'p2', type: '', mac: [`${P2.mac} ${P2.ip}`], portSecurity: [], tunnelKey: 2, chassis: 'node1', options: {}, datapath: 'ls' },
    ],
    multicastGroups: [],
    loadBalancers: [],
    fdb: [],
    options,
    addressSets: new Map(),
    portGroups: new Map(),
  };
}

/** Answers every ct() with a fixed state and original destination (what OVS keeps for a committed connection). */
class FixedCt implements ConntrackEngine {
  constructor(private readonly state: number, private readonly dst: number[], private readonly port: number, private readonly v6 = false) {}
  execute(_f: Uint8Array, _l: number, _d: DecodedFrame, _r: CtRequest, res: CtResult): void {
    res.state = this.state;
    res.hasOriginal = true;
    res.originalIpv6 = this.v6;
    res.originalDst.fill(0);
    res.originalDst.set(this.dst);
    res.originalDstPort = this.port;
  }
}

const send = (ex: LflowExecutor, spec: FrameSpec, inport = 'p1', now = 0): ReturnType<LflowExecutor['runFrame']> => {
  const f = buildFrame(spec);
  const buf = new Uint8Array(f.length + 64);
  buf.set(f);
  return ex.runFrame(buf, f.length, inport, now, true);
};
const ports = (r: ReturnType<LflowExecutor['runFrame']>): string[] => r.outputs.map((o) => o.port);

describe('ct_nw_dst() / ct_ip6_dst() / ct_tp_dst() (OVN 24.03 ls_in_lb 110, fragments)', () => {
  // ls_in_lb 110 of northd 24.03 (build_lb_hairpin) then a stage that forwards only the VIP's connection.
  const flows = (reg: string): Array<[number, number, string, string]> => [
    [0, 0, '1', 'ct_next;'],
    [1, 110, 'ct.trk && !ct.rpl && ip4', `${reg} = ct_nw_dst(); reg2[0..15] = ct_tp_dst(); next;`],
    [1, 110, 'ct.trk && !ct.rpl && ip6', 'xxreg1 = ct_ip6_dst(); reg2[0..15] = ct_tp_dst(); next;'],
    [2, 100, `ip4 && ${reg} == 10.0.0.100 && reg2[0..15] == 80`, 'outport = "p2"; output;'],
    [2, 100, 'ip6 && xxreg1 == fd00::100 && reg2[0..15] == 80', 'outport = "p2"; output;'],
    [2, 0, '1', 'drop;'],
  ];
  const frag: FrameSpec = { src: P1.mac, dst: P2.mac, ipv4: { src: P1.ip, dst: P2.ip, protocol: 17, dontFragment: false, fragmentOffset: 100 }, payload: new Uint8Array(16) };
  const frag6: FrameSpec = { src: P1.mac, dst: P2.mac, ipv6: { src: P1.ip6, dst: P2.ip6 }, udp: { srcPort: 5000, dstPort: 9 } };
  const est = CtState.TRK | CtState.EST;

  it('loads the connection\'s original destination for a tracked, established packet (24.03 reg1, 25.03 reg4)', () => {
    for (const reg of ['reg1', 'reg4']) {
      const ex = new LflowExecutor(switchOf(flows(reg)), 'ls', { chassis: 'node1', ct: new FixedCt(est, [10, 0, 0, 100], 80) });
      expect(ports(send(ex, frag)), reg).toEqual(['p2']);
    }
    const ex6 = new LflowExecutor(switchOf(flows('reg1')), 'ls', { chassis: 'node1', ct: new FixedCt(est, [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], 80, true) });
    expect(ports(send(ex6, frag6))).toEqual(['p2']);
  });

  it('loads 0 when the packet is not established (physical.c tables 81–83 match ct_state=+trk+est)', () => {
    const ex = new LflowExecutor(switchOf(flows('reg1')), 'ls', { chassis: 'node1', ct: new FixedCt(CtState.TRK | CtState.NEW, [10, 0, 0, 100], 80) });
    const r = send(ex, frag);
    expect(ports(r)).toEqual([]);
    expect(r.drops[0]?.stage ?? r.drops[0]).toBeDefined();
  });

  it('an IPv4 load on an IPv6 packet gives 0 (table 81 matches ip4 only), the port still loads', () => {
    const fl: Array<[number, number, string, string]> = [[0, 0, '1', 'ct_next;'], [1, 0, '1', 'reg1 = 0xffffffff; reg1 = ct_nw_dst(); reg2[0..15] = ct_tp_dst(); next;'], [2, 100, 'reg1 == 0 && reg2[0..15] == 80', 'outport = "p2"; output;'], [2, 0, '1', 'drop;']];
    const ex = new LflowExecutor(switchOf(fl), 'ls', { chassis: 'node1', ct: new FixedCt(est, [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], 80, true) });
    expect(ports(send(ex, frag6))).toEqual(['p2']);
  });

  it('is a no-op in ovn-trace mode (ovn-trace 24.03 execute_actions: OVNACT_CT_ORIG_* do nothing)', () => {
    const ex = new LflowExecutor(switchOf(flows('reg1')), 'ls', { ct: new FixedCt(est, [10, 0, 0, 100], 80) });
    expect(ports(send(ex, frag))).toEqual([]);
  });

  it('parses as OVN formats it and rejects a destination of the wrong width (parse_ovnact_result__)', () => {
    expect(parseActions('reg1 = ct_nw_dst(); xxreg1 = ct_ip6_dst(); reg2[0..15] = ct_tp_dst();', 'ingress', 13).actions.map((a) => a.text)).toEqual(['reg1 = ct_nw_dst();', 'xxreg1 = ct_ip6_dst();', 'reg2[0..15] = ct_tp_dst();']);
    expect(() => parseActions('reg2 = ct_tp_dst();', 'ingress', 13)).toThrow(/16-bit destination/);
    expect(() => parseActions('reg1 = ct_ip6_dst();', 'ingress', 13)).toThrow(/128-bit destination/);
  });
});

describe('24.03/25.03 symbols', () => {
  it('names the bits logical-fields.c gives them', () => {
    const at = (n: string): [number, number] => {
      const r = resolveField(n)!;
      return [r.lo, r.width];
    };
    expect(at('flags.tunnel_rx')).toEqual([16, 1]);
    expect(at('flags.icmp_snat')).toEqual([17, 1]);
    expect(at('ct_mark.obs_stage')).toEqual([4, 2]);
    expect(at('ct_mark.allow_established')).toEqual([6, 1]);
    expect(at('ct_mark.obs_collector_id')).toEqual([16, 8]);
    expect(at('ct_label.obs_point_id')).toEqual([96, 32]);
    expect(at('ct_label.acl_id')).toEqual([80, 16]);
    expect(at('rarp.op')).toEqual([0, 16]);
  });

  it('flags.tunnel_rx is 0 on a localnet switch: the ICMP too-big turn-back (24.03 ls_in_check_port_sec 110) does not fire', () => {
    const icmp = '((ip4 && icmp4.type == 3 && icmp4.code == 4) || (ip6 && icmp6.type == 2 && icmp6.code == 0))';
    const sb = switchOf([[0, 110, `${icmp} && flags.tunnel_rx == 1`, 'outport <-> inport; outport = "p1"; output;'], [0, 100, `${icmp} && flags.tunnel_rx == 0`, 'outport = "p2"; output;']]);
    const ex = new LflowExecutor(sb, 'ls', { chassis: 'node1' });
    expect(ports(send(ex, { src: P1.mac, dst: P2.mac, ipv4: { src: P1.ip, dst: P2.ip }, icmp: { type: 3, code: 4, body: new Uint8Array(8) } }))).toEqual(['p2']);
  });
});

// A switch with a localnet port and two pods bound on node1, for northd-written flows.
const nbWith = (acls: NbAcl[], extra: Partial<NorthboundDb> = {}): NorthboundDb => ({
  switches: [{
    name: 'ls',
    ports: [
      { name: 'ln', type: 'localnet', addresses: ['unknown'], options: { network_name: 'provider' } },
      { name: 'p1', addresses: [`${P1.mac} ${P1.ip}`], options: { 'requested-chassis': 'node1' } },
      { name: 'p2', addresses: [`${P2.mac} ${P2.ip}`], options: { 'requested-chassis': 'node1' } },
    ],
    acls,
    ...(extra.loadBalancers ? { loadBalancers: extra.loadBalancers.map((l) => l.name) } : {}),
  }],
  ...extra,
});
const tcp = (src: { mac: string; ip: string }, dst: { mac: string; ip: string }, dport = 80, sport = 40000, flags = 0x002): FrameSpec => ({ src: src.mac, dst: dst.mac, ipv4: { src: src.ip, dst: dst.ip }, tcp: { srcPort: sport, dstPort: dport, seq: 1000, flags } });
const P3 = { mac: '52:54:00:00:00:03', ip: '10.0.0.3' };
const P4 = { mac: '52:54:00:00:00:04', ip: '10.0.0.4' };

describe('ACL tiers and pass (northd 24.03 build_acl_action_lflows, consider_acl)', () => {
  // tier 0: allow from .3, pass from .4; tier 1: drop everything to p2. Unmatched and passed traffic goes to tier 1.
  const acls: NbAcl[] = [
    { direction: 'to-lport', priority: 1000, match: `ip4.src == ${P3.ip}`, action: 'allow-related', tier: 0 },
    { direction: 'to-lport', priority: 1000, match: `ip4.src == ${P4.ip}`, action: 'pass', tier: 0 },
    { direction: 'to-lport', priority: 900, match: 'outport == "p2" && ip4', action: 'drop', tier: 1 },
  ];
  for (const v of ['24.03', '25.03'] as const) {
    it(`${v}: allow in tier 0 wins; pass and no match fall through to tier 1's drop`, () => {
      const sb = northd(nbWith(acls), { ovnVersion: v });
      const ex = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: new OvsConntrack() });
      expect(ports(send(ex, tcp(P3, P2), 'ln'))).toEqual(['p2']);
      const passed = send(ex, tcp(P4, P2), 'ln');
      expect(ports(passed)).toEqual([]);
      // The eval stage ran twice: tier 0 (pass, no verdict), then tier 1 (drop).
      expect(passed.stages.filter((s) => s.stage === 'ls_out_acl_eval').map((s) => s.priority)).toEqual([2000, 1900]);
      expect(ports(send(ex, tcp(P1, P2), 'p1'))).toEqual([]);
      // Tier 1 drops only traffic to p2.
      expect(ports(send(ex, tcp(P2, P1), 'p2'))).toEqual(['p1']);
    });
  }

  it('25.03 commits the observation stage and point id with the connection (build_stateful); the reply is est', () => {
    const sb = northd(nbWith([{ direction: 'to-lport', priority: 1000, match: 'ip4', action: 'allow-related', label: 7 }]), { ovnVersion: '25.03' });
    const ct = new OvsConntrack();
    const ex = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct });
    expect(ports(send(ex, tcp(P1, P2), 'p1'))).toEqual(['p2']);
    // The label is the observation point id: committed into ct_label[96..127] of both zones.
    // In p2's zone (to-lport): ct_mark.obs_stage = reg8[19..20] = 2 (bits 4..5 → mark 0x20), allow_established =
    // reg0[20] = 0, ct_label.obs_point_id = reg9 = 7 (bits 96..127). p1's zone commits no observation ids.
    const dump = ct.formatDump(0);
    expect(dump.find((l) => l.includes('zone=3,'))).toContain('zone=3,mark=32,labels=0x7000000000000000000000000,');
    expect(dump.find((l) => l.includes('zone=2,'))).not.toContain('mark=');
    const back = send(ex, tcp(P2, P1, 40000, 80, 0x012), 'p2', 1);
    expect(ports(back)).toEqual(['p1']);
  });
});

describe('hairpin on a chassis (hairpin_orig_tuple: the VIP in reg1, [25.03] reg4 with register_consolidation)', () => {
  for (const v of ['23.03', '24.03', '25.03'] as const) {
    it(`${v}: a pod reaching its own VIP gets its SYN back, SNATed to the VIP`, () => {
      const lb = { name: 'lb', protocol: 'tcp' as const, vips: { '10.0.0.100:80': `${P1.ip}:8080` } };
      const sb = northd(nbWith([], { loadBalancers: [lb] }), { ovnVersion: v });
      const ex = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: new OvsConntrack() });
      const r = send(ex, tcp(P1, { mac: '00:00:00:01:00:01', ip: '10.0.0.100' }, 80, 40000), 'p1');
      expect(ports(r)).toEqual(['p1']);
      expect(r.stages.filter((s) => s.stage === 'ls_in_nat_hairpin' || s.stage === 'ls_in_hairpin').length).toBe(2);
      const out = r.outputs[0]!.words;
      // ip4.src (the SNAT to the VIP) and ip4.dst (the backend) as flow words.
      expect([out[30], out[31]]).toEqual([(10 << 24 | 100) >>> 0, (10 << 24 | 1) >>> 0]);
    });
  }
});

describe('ovnVersionOfFlows', () => {
  it('names the release whose stage table a switch\'s rows follow, undefined for another table', () => {
    for (const v of ['23.03', '24.03', '25.03'] as const) expect(ovnVersionOfFlows(northd(nbWith([{ direction: 'to-lport', priority: 1000, match: 'ip4', action: 'allow-related' }]), { ovnVersion: v }).flows.get('ls')!)).toBe(v);
    expect(ovnVersionOfFlows([{ pipeline: 'ingress', table: 3, stage: 'ls_in_acl' }])).toBeUndefined();
    expect(ovnVersionOfFlows([])).toBeUndefined();
  });
});

describe('affinity registers (commit_lb_aff / chk_lb_aff)', () => {
  const lb = { name: 'lb', protocol: 'tcp' as const, vips: { '10.0.0.100:80': `${P1.ip}:8080,${P2.ip}:8080` }, options: { affinity_timeout: '60' } };
  for (const v of ['23.03', '24.03', '25.03'] as const) {
    it(`${v}: the first SYN is learned and dropped, later connections of the client stick to its backend`, () => {
      const sb = northd(nbWith([], { loadBalancers: [lb] }), { ovnVersion: v });
      expect(sb.options['register_consolidation']).toBe(v === '25.03' ? 'true' : undefined);
      const ex = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: new OvsConntrack() });
      const vip = { mac: P2.mac, ip: '10.0.0.100' };
      const first = send(ex, tcp(P3, vip, 80, 40000), 'ln');
      expect(ports(first)).toEqual([]);
      expect(first.stages.some((s) => s.stage === 'ls_in_lb_aff_learn')).toBe(true);
      const seen = new Set<string>();
      for (let i = 1; i <= 6; i++) {
        const r = send(ex, tcp(P3, vip, 80, 40000 + i), 'ln', i);
        // The learned flow loaded the backend where this version's ls_in_lb 150 looks for it.
        expect(r.stages.some((s) => s.stage === 'ls_in_lb' && s.priority === 150), `${v} connection ${i}`).toBe(true);
        seen.add(ports(r).join());
      }
      expect(seen.size).toBe(1);
    });
  }

  it('rows without SB options (lflow-list text) take register_consolidation from their release: 25.03 stages → consolidated', () => {
    const sb = northd(nbWith([], { loadBalancers: [lb] }), { ovnVersion: '25.03' });
    const ex = new LflowExecutor({ ...sb, options: {} }, 'ls', { chassis: 'node1', ct: new OvsConntrack() });
    const vip = { mac: P2.mac, ip: '10.0.0.100' };
    send(ex, tcp(P3, vip, 80, 40000), 'ln');
    const r = send(ex, tcp(P3, vip, 80, 40001), 'ln', 1);
    expect(r.stages.some((s) => s.stage === 'ls_in_lb' && s.priority === 150)).toBe(true);
  });

  it('25.03 flows with the old registers (no register_consolidation) miss the affinity flow', () => {
    const sb = northd(nbWith([], { loadBalancers: [lb] }), { ovnVersion: '25.03' });
    const ex = new LflowExecutor({ ...sb, options: { ...sb.options, register_consolidation: 'false' } }, 'ls', { chassis: 'node1', ct: new OvsConntrack() });
    const vip = { mac: P2.mac, ip: '10.0.0.100' };
    send(ex, tcp(P3, vip, 80, 40000), 'ln');
    const r = send(ex, tcp(P3, vip, 80, 40001), 'ln', 1);
    expect(r.stages.some((s) => s.stage === 'ls_in_lb' && s.priority === 150)).toBe(false);
  });
});
