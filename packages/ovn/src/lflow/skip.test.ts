import { describe, expect, it } from 'vitest';
import { LogicalSwitch, switchDropReason } from '../switch.js';
import { parseActions, unmodelledIn } from './actions.js';
import { DROP_REASON_TEXT, DropReason, formatSkippedLflows, formatUnmodelledLflows, LflowError, LflowExecutor, unmodelledFlowName } from './executor.js';
import { lower, parseMatch, type MatchEnv } from './expr.js';
import { LFLOW_REFUSAL_TEXT, LflowRefusal, LflowSyntaxError, LflowUnsupportedError } from './lexer.js';
import { SYMBOLS, OVN_UNMODELLED_SYMBOLS } from './fields.js';
import { parseMicroflow } from './microflow.js';
import { formatTrace } from './trace.js';
import { flowList, oneSwitch, vif } from './switch.test-helpers.js';

const env: MatchEnv = { addressSets: new Map(), portGroups: new Map(), portKey: () => 1 };
const refusalOf = (f: () => unknown): number | string => {
  try {
    f();
  } catch (e) {
    if (e instanceof LflowSyntaxError) return e.refusal;
    if (e instanceof LflowUnsupportedError) return `unsupported ${e.construct}`;
    throw e;
  }
  return 'accepted';
};
const act = (text: string): number | string => refusalOf(() => parseActions(text, 'ingress', 0));
const match = (text: string): number | string => refusalOf(() => lower(parseMatch(text), env, false, text));

describe('the refusal code table', () => {
  it('is fixed: one text per code, codes 0..n-1', () => {
    expect(Object.values(LflowRefusal)).toEqual([0, 1, 2, 3]);
    expect(LFLOW_REFUSAL_TEXT).toHaveLength(Object.keys(LflowRefusal).length);
    expect(new Set(LFLOW_REFUSAL_TEXT).size).toBe(LFLOW_REFUSAL_TEXT.length);
  });

  // Each of these ovn-trace 23.03 refused in this session's run (its warning in test/lflow-skip.test.ts's terms).
  it('gives each refusal OVN makes its code', () => {
    expect([act('next'), act('next;;'), act('drop; next;'), act('clone { next }; next;')]).toEqual(Array(4).fill(LflowRefusal.SYNTAX));
    expect([act('next(0x3);'), act('reg0 = 010;'), act('ct_lb_mark(backends=10.0.0.5:0x50);'), match('ip.ttl == 064'), match('ip4.src == 10.0.0.01')]).toEqual(Array(5).fill(LflowRefusal.CONSTANT));
    expect([act('frob; next;'), act('dec_ttl; next;'), act('next; drop;'), act('foo = 1;'), act('reg0 = frob();'), act('ip.ttl; next;'), match('foo.bar == 1'), match('is_foo("x")'), match('ip4.src == $nosuch'), match('outport == @nosuch')]).toEqual(Array(10).fill(LflowRefusal.UNKNOWN_NAME));
    expect([act('tcp.dst = 10.0.0.1;'), act('reg0[0..3] = eth.src;'), act('outport = 5;'), match('tcp.dst == 65536'), match('tcp.dst == 0.0.0.1'), match('ip.ttl < {1, 2}'), match('ip4.src < 10.0.0.0/8'), match('inport == 5')]).toEqual(Array(8).fill(LflowRefusal.TYPE));
  });

  it('accepts what OVN accepts: ip.ttl--, a constant checked against the symbol and cut to the subscript, drop; alone', () => {
    expect([act('ip.ttl--; next;'), act('reg0[0..7] = 256; next;'), act('drop;'), match('reg0[0..7] == 256')]).toEqual(Array(4).fill('accepted'));
    expect(parseActions('ip.ttl--; next;', 'ingress', 0).actions.map((a) => a.k)).toEqual(['dec_ttl', 'next']);
    // make_cmp__ / the load's subfield: the value's low bits.
    const load = parseActions('reg0[0..7] = 0x1ff;', 'ingress', 0).actions[0]!;
    expect(load.k === 'load' && load.value).toBe(0xffn);
  });
});

describe('what OVN accepts and vippath does not model', () => {
  const kind = (text: string): string => {
    const a = parseActions(text, 'ingress', 0).actions;
    const u = unmodelledIn(a);
    return u ? `unmodelled ${u.name}${u.pinctrl ? ' (pinctrl)' : ''}: ${u.text}` : a.map((x) => x.k).join(',');
  };

  it('an action is parsed to an `unmodelled` action naming it (and whether OVN hands the packet to pinctrl), never a refusal', () => {
    expect([
      kind('ct_dnat_in_czone(10.0.0.9);'), kind('put_arp(inport, arp.spa, arp.sha); next;'), kind('reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next;'),
      kind('reg0[3] = put_dhcp_opts(offerip = 10.0.0.5, router = 10.0.0.1, netmask = 255.255.255.0, lease_time = 3600); next;'),
      kind('reg0[4] = dns_lookup(); next;'), kind('nd_ns { eth.dst = ff:ff:ff:ff:ff:ff; output; };'), kind('clone { put_nd(inport, nd.target, nd.tll); }; next;'), kind('ct_commit(ct_mark=1); next;'),
    ]).toEqual([
      'unmodelled ct_dnat_in_czone: ct_dnat_in_czone(10.0.0.9);', 'unmodelled put_arp (pinctrl): put_arp(inport, arp.spa, arp.sha);', 'unmodelled lookup_arp: reg9[2] = lookup_arp(inport, arp.spa, arp.sha);',
      'unmodelled put_dhcp_opts (pinctrl): reg0[3] = put_dhcp_opts(offerip = 10.0.0.5, router = 10.0.0.1, netmask = 255.255.255.0, lease_time = 3600);',
      'unmodelled dns_lookup (pinctrl): reg0[4] = dns_lookup();', 'unmodelled nd_ns (pinctrl): nd_ns { eth.dst = ff:ff:ff:ff:ff:ff; output; };', 'unmodelled put_nd (pinctrl): put_nd(inport, nd.target, nd.tll);', 'unmodelled ct_commit: ct_commit(ct_mark=1);',
    ]);
    // The prerequisites OVN adds for them (actions.c parse_ND_NS `ip6`, parse_DNS_LOOKUP `udp`, parse_ct_nat `ip`).
    expect(['nd_ns { output; };', 'reg0[4] = dns_lookup(); next;', 'ct_snat_in_czone(10.0.0.9);', 'put_arp(inport, arp.spa, arp.sha);'].map((t) => parseActions(t, 'ingress', 0).prereqs)).toEqual([['ip6'], ['udp'], ['ip'], []]);
    // A field OVN has and vippath does not (in a match or an action): the typed error, the database refused.
    expect([act('icmp4_error { icmp4.frag_mtu = 1500; output; };'), match('ip6.src > ::5')]).toEqual(['unsupported icmp4.frag_mtu', 'unsupported ip6.src >']);
  });

  it('a later action OVN refuses still skips the whole flow, as OVN skips it', () => {
    expect([act('put_arp(inport, arp.spa, arp.sha); frob;'), act('reg0[3] = put_dhcp_opts(offerip = 10.0.0.5); next')]).toEqual([LflowRefusal.UNKNOWN_NAME, LflowRefusal.SYNTAX]);
    // So does a match OVN refuses: the flow is skipped (ovn-controller's "error parsing match"), not listed as unmodelled.
    const g = flowList();
    g.add('ingress', 0, 100, 'ip4 && tcp.dst == 080', 'put_arp(inport, arp.spa, arp.sha); next;');
    g.add('ingress', 0, 0, '1', 'next;');
    const ex = new LflowExecutor(oneSwitch(g.flows, [vif('p1', 1, '00:00:00:00:00:01 10.0.0.1')]), 'ls');
    expect([ex.skipped.map((x) => [x.part, x.refusal]), ex.unmodelled]).toEqual([[['match', LflowRefusal.CONSTANT]], []]);
  });

  const f = flowList();
  f.add('ingress', 0, 100, 'ip4 && udp.src == 68 && udp.dst == 67', 'reg0[3] = put_dhcp_opts(offerip = 10.0.0.1, router = 10.0.0.254); next;');
  f.add('ingress', 0, 90, '1', 'nd_ns { output; };');
  f.add('ingress', 0, 0, '1', 'next;');
  f.add('ingress', 1, 0, '1', 'outport = "p2"; output;');
  f.add('egress', 0, 0, '1', 'output;');
  const sb = oneSwitch(f.flows, [vif('p1', 1, '00:00:00:00:00:01 10.0.0.1'), vif('p2', 2, '00:00:00:00:00:02 10.0.0.2')]);
  const l2 = 'inport == "p1" && eth.src == 00:00:00:00:00:01 && eth.dst == ff:ff:ff:ff:ff:ff';
  const dhcp = `${l2} && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && ip.ttl == 64 && udp.src == 68 && udp.dst == 67`;
  const other = `${l2} && ip4.src == 10.0.0.1 && ip4.dst == 10.0.0.2 && ip.ttl == 64 && udp.src == 68 && udp.dst == 53`;
  const ns = `${l2} && nd_ns && ip6.src == fe80::1 && ip6.dst == ff02::1:ff00:2 && nd.target == fe80::2 && nd.sll == 00:00:00:00:00:01`;
  const run = (ex: LflowExecutor, micro: string) => ex.runFlow(parseMicroflow(micro, { addressSets: new Map(), portGroups: new Map(), portKey: (n) => ex.portKey(n) }), 0, true);

  it('the database loads; the flows keep their place and are listed; a packet that reaches one is a drop coded UNMODELLED_ACTION at that flow', () => {
    const ex = new LflowExecutor(sb, 'ls');
    expect(ex.unmodelled.map((u) => [u.flow.uuid!.slice(0, 8), u.action, u.pinctrl])).toEqual([['00000001', 'put_dhcp_opts', true], ['00000002', 'nd_ns', true]]);
    expect(formatUnmodelledLflows(ex.unmodelled)).toBe('2 logical flows with actions vippath does not run: nd_ns ×1, put_dhcp_opts ×1 (loaded in their place; a packet that reaches one is dropped there, an action vippath does not model)');
    expect(formatUnmodelledLflows([])).toBe('');
    expect(ex.skipped).toEqual([]);
    // The DHCP-shaped broadcast reaches put_dhcp_opts: stopped there, the flow's `next;` not run.
    const r = run(ex, dhcp);
    expect([r.outputs.length, r.drops.map((d) => [d.pipeline, d.table, d.stage, d.reason])]).toEqual([0, [['ingress', 0, 'ls_in_t0', DropReason.UNMODELLED_ACTION]]]);
    // The drop names its flow and action (a full walk's; strings made only when said).
    expect([r.drops[0]!.unmodelled?.flow.uuid?.slice(0, 8), r.drops[0]!.unmodelled?.action]).toEqual(['00000001', 'put_dhcp_opts']);
    expect(unmodelledFlowName(r.drops[0]!.unmodelled!)).toBe('put_dhcp_opts in ls_in_t0 (ingress table 0) priority 100, uuid 00000001');
    expect(switchDropReason({ verdict: 'drop', code: r.drops[0]!.reason, stage: r.drops[0]!.stage, pipeline: 'ingress', table: 0, unmodelled: r.drops[0]!.unmodelled! })).toBe('ls_in_t0: an action vippath does not model: put_dhcp_opts in ls_in_t0 (ingress table 0) priority 100, uuid 00000001');
    expect(DROP_REASON_TEXT[DropReason.UNMODELLED_ACTION]).toBe('an action vippath does not model');
    const text = formatTrace([r.trace!], 'detailed');
    expect(text).toContain('0. ls_in_t0: ip4 && udp.src == 68 && udp.dst == 67, priority 100, uuid 00000001');
    expect(text).toContain('*** put_dhcp_opts: OVN hands the packet to ovn-controller (pinctrl) here; vippath does not model it: dropped');
    expect(text).not.toContain('ls_in_t1');
    // Another UDP packet does not match it, nor the nd_ns flow (its prerequisite ip6): it goes on as in OVN.
    expect(run(ex, other).outputs.map((o) => o.port)).toEqual(['p2']);
    // A neighbor solicitation matches the nd_ns flow (match 1 && ip6).
    expect(run(ex, ns).drops.map((d) => [d.reason, d.unmodelled?.action, d.unmodelled?.flow.priority])).toEqual([[DropReason.UNMODELLED_ACTION, 'nd_ns', 90]]);
    // Another drop in the same (reused) slot names no flow.
    expect(run(ex, other.replace('inport == "p1"', 'inport == "p2"')).drops.map((d) => [d.reason, d.unmodelled])).toEqual([[DropReason.LOOPBACK, undefined]]);
    // Through the switch: listed, and the frame's outcome is the coded drop.
    const sw = new LogicalSwitch(nb, 'ls', { p1: 'node1', p2: 'node1' }, { southbound: sb });
    expect(sw.unmodelledFlows.map((u) => u.action)).toEqual(['put_dhcp_opts', 'nd_ns']);
  });

  const nb = { switches: [{ name: 'ls', ports: [{ name: 'p1', addresses: ['00:00:00:00:00:01 10.0.0.1'] }, { name: 'p2', addresses: ['00:00:00:00:00:02 10.0.0.2'] }] }] };

  it('strict: the executor refuses the database with UNSUPPORTED_LFLOW, as before such flows loaded', () => {
    let error: unknown;
    try {
      new LflowExecutor(sb, 'ls', { strict: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LflowError);
    expect((error as LflowError).code).toBe('UNSUPPORTED_LFLOW');
    expect((error as Error).message).toMatch(/^ingress table 0 \(ls_in_t0\) priority 100, uuid 00000001: OVN's action put_dhcp_opts is not supported by vippath/);
    expect([(error as LflowError).unmodelled?.action, (error as LflowError).unmodelled?.flow.priority]).toEqual(['put_dhcp_opts', 100]);
    // A LogicalSwitch running these rows passes its own `strict` down; without it the rows load.
    expect(() => new LogicalSwitch(nb, 'ls', { p1: 'node1', p2: 'node1' }, { southbound: sb, strict: true })).toThrow(/^ingress table 0 \(ls_in_t0\) priority 100, uuid 00000001: OVN's action put_dhcp_opts is not supported by vippath \(strict\)/);
    expect(new LogicalSwitch(nb, 'ls', { p1: 'node1', p2: 'node1' }, { southbound: sb, strict: false }).unmodelledFlows).toHaveLength(2);
  });

  // The symbols OVN v23.03.1 lib/logical-fields.c ovn_init_symtab defines (MFF_N_LOG_REGS 10: reg0..9, xreg0..4,
  // xxreg0..1; the ct.* bits of CS_STATES): vippath knows each, or lists it as unmodelled.
  it('covers OVN 23.03\'s whole symbol table: known, or listed as unmodelled', () => {
    const ovn = ['inport', 'outport', 'flags', 'flags.loopback', 'flags.force_snat_for_dnat', 'flags.force_snat_for_lb', 'flags.skip_snat_for_lb', 'flags.use_snat_zone', 'ct_mark', 'ct_mark.blocked', 'ct_mark.natted', 'ct_mark.ecmp_reply_port', 'ct_mark.skip_snat', 'ct_mark.force_snat', 'ct_label', 'ct_label.blocked', 'ct_label.natted', 'ct_label.ecmp_reply_eth', 'ct_label.ecmp_reply_port', 'ct_label.label', 'ct_label.skip_snat', 'ct_label.force_snat', 'ct_state', 'eth.src', 'eth.dst', 'eth.type', 'eth.bcast', 'eth.mcast', 'eth.mcastv6', 'vlan.tci', 'vlan.present', 'vlan.pcp', 'vlan.vid', 'ip4', 'ip6', 'ip', 'ip.proto', 'ip.dscp', 'ip.ecn', 'ip.ttl', 'ip4.src', 'ip4.dst', 'ip4.src_mcast', 'ip4.mcast', 'icmp4', 'icmp4.type', 'icmp4.code', 'igmp', 'ip6.src', 'ip6.dst', 'ip6.label', 'ip6.mcast_rsvd', 'ip6.mcast_all_nodes', 'ip6.mcast_all_rtrs', 'ip6.mcast_sol_node', 'ip6.mcast_flood', 'ip6.mcast', 'icmp6', 'icmp6.type', 'icmp6.code', 'icmp', 'ip.frag', 'ip.is_frag', 'ip.later_frag', 'ip.first_frag', 'arp', 'arp.op', 'arp.spa', 'arp.sha', 'arp.tpa', 'arp.tha', 'rarp', 'rarp.op', 'rarp.spa', 'rarp.sha', 'rarp.tpa', 'rarp.tha', 'nd', 'nd_ns', 'nd_na', 'nd_rs', 'nd_ra', 'nd.target', 'nd.sll', 'nd.tll', 'mldv1', 'mldv2', 'tcp', 'tcp.src', 'tcp.dst', 'tcp.flags', 'udp', 'udp.src', 'udp.dst', 'sctp', 'sctp.src', 'sctp.dst', 'pkt.mark', 'icmp4.frag_mtu', 'icmp6.frag_mtu',
      ...['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat'].map((s) => `ct.${s}`), ...Array.from({ length: 10 }, (_, i) => `reg${i}`), ...Array.from({ length: 5 }, (_, i) => `xreg${i}`), 'xxreg0', 'xxreg1'];
    expect(ovn.filter((s) => !SYMBOLS.has(s) && !OVN_UNMODELLED_SYMBOLS.has(s))).toEqual([]);
    expect([...OVN_UNMODELLED_SYMBOLS].filter((s) => SYMBOLS.has(s) || !ovn.includes(s))).toEqual([]);
  });
});

describe('a flow OVN refuses is skipped and recorded, the rest of its table runs', () => {
  const f = flowList();
  f.add('ingress', 0, 200, 'ip4 && tcp.dst == 080', 'drop;');
  f.add('ingress', 0, 100, 'ip4', 'frob; drop;');
  f.add('ingress', 0, 0, '1', 'next;');
  f.add('ingress', 1, 50, 'ip4 &&', 'next;');
  f.add('ingress', 2, 0, '1', 'outport = "p2"; output;');
  f.add('egress', 0, 0, '1', 'output;');
  const sb = oneSwitch(f.flows, [vif('p1', 1, '00:00:00:00:00:01 10.0.0.1'), vif('p2', 2, '00:00:00:00:00:02 10.0.0.2')]);
  const micro = 'inport == "p1" && eth.src == 00:00:00:00:00:01 && eth.dst == 00:00:00:00:00:02 && ip4.src == 10.0.0.1 && ip4.dst == 10.0.0.2 && ip.ttl == 64 && tcp.src == 1 && tcp.dst == 80';

  it('records each with OVN\'s message kind and its refusal code, in table order', () => {
    const ex = new LflowExecutor(sb, 'ls');
    expect(ex.skipped.map((s) => [s.flow.uuid!.slice(0, 8), s.part, s.refusal])).toEqual([
      ['00000001', 'match', LflowRefusal.CONSTANT],
      ['00000002', 'actions', LflowRefusal.UNKNOWN_NAME],
      ['00000004', 'match', LflowRefusal.SYNTAX],
    ]);
    expect(formatSkippedLflows(ex.skipped, 2)).toBe(
      '3 logical flows skipped as ovn-controller skips them: ingress table 0 (ls_in_t0) priority 200, uuid 00000001: error parsing match (invalid constant: decimal constant 080 has a leading zero at column 19 of "ip4 && tcp.dst == 080"); '
      + 'ingress table 0 (ls_in_t0) priority 100, uuid 00000002: error parsing actions (unknown name: unknown action frob at column 1 of "frob; drop;"); and 1 more',
    );
    expect(formatSkippedLflows([])).toBe('');
    // Through the switch too.
    const nb = { switches: [{ name: 'ls', ports: [{ name: 'p1', addresses: ['00:00:00:00:00:01 10.0.0.1'] }, { name: 'p2', addresses: ['00:00:00:00:00:02 10.0.0.2'] }] }] };
    expect(new LogicalSwitch(nb, 'ls', { p1: 'node1', p2: 'node1' }, { southbound: sb }).skippedFlows.map((s) => s.flow.uuid)).toEqual(ex.skipped.map((s) => s.flow.uuid));
    // northd's own flows: nothing skipped.
    expect(new LogicalSwitch(nb, 'ls', { p1: 'node1', p2: 'node1' }).skippedFlows).toEqual([]);
  });

  it('runs the table without them: the packet passes table 0 by its priority-0 flow; a table left empty is unnamed, as ovn-trace names it', () => {
    const ex = new LflowExecutor(sb, 'ls');
    const r = ex.runFlow(parseMicroflow(micro, { addressSets: new Map(), portGroups: new Map(), portKey: (n) => ex.portKey(n) }), 0, true);
    // Not dropped by table 0's two higher flows (skipped); stopped by table 1, whose only flow was skipped.
    expect(r.outputs).toEqual([]);
    expect(r.drops.map((d) => [d.pipeline, d.table, d.reason])).toEqual([['ingress', 1, DropReason.NO_MATCH]]);
    const text = formatTrace([r.trace!], 'detailed');
    // Table 1's only flow was skipped: ovntrace_stage_name finds no parsed flow to name it after.
    expect(text).toMatch(/^\s*1\. no match \(implicit drop\)$/m);
  });
});
