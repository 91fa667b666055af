/**
 * The OVN 24.03 and 25.03 forms of the switch flows, checked against the strings the source formats — no 24.03/25.03
 * binary is installed here, so every expectation below was written from reading ovn-org/ovn `northd/northd.c` (and
 * the files named) at ef8f5c1ac (branch-24.03, v24.03.7-43, what Kube-OVN release-1.14 builds) and cbb88276a
 * (branch-25.03, v25.03.3-42, what release-1.15 clones), not from running vippath. The 23.03 forms are checked
 * against the real ovn-northd 23.03 by test/ovn-northd.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { formatLflowList } from '../lflow/lflow-text.js';
import type { LogicalFlow } from '../lflow/types.js';
import type { NbAcl, NorthboundDb } from './nb.js';
import { northd, NorthdError, PROFILE_OVN_VERSION, type NorthdOptions } from './northd.js';
import type { OvnVersion } from './stages.js';

const ICMP = '((ip4 && icmp4.type == 3 && icmp4.code == 4) || (ip6 && icmp6.type == 2 && icmp6.code == 0))';

// One switch with what every difference touches: a localnet port that learns MACs, a dual-stack VIF, a router port
// whose router SNATs, a TCP LB with affinity, a labelled allow-related ACL and a drop ACL, a QoS rule.
const nb = (acls?: NbAcl[]): NorthboundDb => ({
  switches: [{
    name: 'ls',
    ports: [
      { name: 'ln', type: 'localnet', addresses: ['unknown'], options: { network_name: 'provider', localnet_learn_fdb: 'true' } },
      { name: 'p1', addresses: ['00:00:00:00:00:01 10.0.0.11 fd00::11'], portSecurity: ['00:00:00:00:00:01 10.0.0.11 fd00::11'] },
      { name: 'rp', type: 'router', addresses: ['router'], options: { 'router-port': 'lrp' } },
    ],
    loadBalancers: ['lb'],
    acls: acls ?? [
      { direction: 'from-lport', priority: 2001, match: 'ip4', action: 'allow-related', label: 5 },
      { direction: 'to-lport', priority: 2000, match: 'ip', action: 'drop' },
    ],
    qosRules: [{ direction: 'from-lport', priority: 100, match: 'ip4', action: { dscp: 46 }, bandwidth: { rate: 1000 } }],
  }],
  routers: [{ name: 'lr', ports: [{ name: 'lrp', mac: '00:00:00:00:ff:01', networks: ['10.0.0.1/24'] }], nat: [{ type: 'snat', externalIp: '10.0.0.100', logicalIp: '10.1.0.0/16' }] }],
  loadBalancers: [{ name: 'lb', protocol: 'tcp', vips: { '10.0.0.200:80': '10.0.0.11:8080' }, options: { affinity_timeout: '60' } }],
});

const flows = (version: OvnVersion, db: NorthboundDb = nb(), opts: NorthdOptions = {}): LogicalFlow[] => northd(db, { ...opts, ovnVersion: version }).flows.get('ls')!;
const texts = (fl: LogicalFlow[], stage: string): string[] => fl.filter((f) => f.stage === stage).map((f) => `${f.priority} ${f.match} => ${f.actions}`).sort();
const row = (fl: LogicalFlow[], stage: string, text: string): boolean => texts(fl, stage).includes(text);

describe('ovnVersion', () => {
  it('maps each profile to the OVN its images carry, defaults to 23.03, and numbers tables by the version', () => {
    expect(PROFILE_OVN_VERSION).toEqual({ upstream: '23.03', 'kube-ovn-1.14': '24.03', 'kube-ovn-1.15': '25.03' });
    const lb = (o: NorthdOptions): number => northd(nb(), o).flows.get('ls')!.find((f) => f.stage === 'ls_in_lb')!.table;
    expect([lb({}), lb({ profile: 'kube-ovn-1.14' }), lb({ ovnVersion: '24.03' }), lb({ profile: 'kube-ovn-1.15', ovnVersion: '25.03' })]).toEqual([12, 12, 13, 13]);
    const l2 = (o: NorthdOptions): number => northd(nb(), o).flows.get('ls')!.find((f) => f.stage === 'ls_in_l2_lkup')!.table;
    expect([l2({}), l2({ ovnVersion: '24.03' }), l2({ ovnVersion: '25.03' })]).toEqual([25, 27, 28]);
    // No 23.03 flow names a 24.03 stage and vice versa.
    expect(flows('23.03').some((f) => f.stage.endsWith('_eval') || f.stage === 'ls_in_acl')).toBe(true);
    expect(flows('24.03').some((f) => f.stage === 'ls_in_acl' || f.stage === 'ls_in_acl_sample')).toBe(false);
    expect(flows('25.03').some((f) => f.stage === 'ls_in_qos_mark')).toBe(false);
  });

  it('23.03 has no ACL tiers nor pass', () => {
    const tiered = nb([{ direction: 'to-lport', priority: 2000, match: 'ip', action: 'drop', tier: 2 }]);
    expect(() => flows('23.03', tiered)).toThrow(NorthdError);
    expect(() => flows('23.03', nb([{ direction: 'to-lport', priority: 1, match: 'ip', action: 'pass' }]))).toThrow(/ACL tiers and the pass action/);
    expect(() => flows('24.03', tiered)).not.toThrow();
  });
});

describe('24.03 (ef8f5c1ac)', () => {
  const f = flows('24.03');
  it('ICMP too-big from a tunnel: dropped at admission, kept out of conntrack (build_lswitch_lflows_admission_control, build_ls_stateful_rec_pre_acls, build_pre_lb)', () => {
    expect(row(f, 'ls_in_check_port_sec', `105 ${ICMP} && flags.tunnel_rx == 1 => drop;`)).toBe(true);
    expect(row(f, 'ls_in_pre_acl', `110 ${ICMP} && flags.tunnel_rx == 1 => next;`)).toBe(true);
    expect(texts(f, 'ls_out_pre_acl').some((t) => t.includes('icmp4'))).toBe(false);
    // build_pre_lb's literal has no space after "||".
    expect(row(f, 'ls_in_pre_lb', '110 ((ip4 && icmp4.type == 3 && icmp4.code == 4) ||(ip6 && icmp6.type == 2 && icmp6.code == 0)) && flags.tunnel_rx == 1 => next;')).toBe(true);
  });

  it('fragments: REGBIT_IP_FRAG in pre_stateful, ct tuple into the hairpin registers (build_pre_stateful, build_lb_hairpin)', () => {
    expect(row(f, 'ls_in_pre_stateful', '115 reg0[2] == 1 && ip.is_frag => reg0[19] = 1; ct_lb_mark;')).toBe(true);
    expect(row(f, 'ls_in_lb', '110 ct.trk && !ct.rpl && reg0[19] == 1 && ip4 => reg1 = ct_nw_dst(); reg2[0..15] = ct_tp_dst(); next;')).toBe(true);
    expect(row(f, 'ls_in_lb', '110 ct.trk && !ct.rpl && reg0[19] == 1 && ip6 => xxreg1 = ct_ip6_dst(); reg2[0..15] = ct_tp_dst(); next;')).toBe(true);
  });

  it('the hint stage sets the commit bit (build_acl_hints)', () => {
    expect(row(f, 'ls_in_acl_hint', '7 ct.new && !ct.est => reg0[7] = 1; reg0[9] = 1; reg0[1] = 1; next;')).toBe(true);
    expect(row(f, 'ls_out_acl_hint', '6 !ct.new && ct.est && !ct.rpl && ct_mark.blocked == 1 => reg0[7] = 1; reg0[9] = 1; reg0[1] = 1; next;')).toBe(true);
    expect(row(f, 'ls_in_acl_hint', '5 !ct.trk => reg0[8] = 1; reg0[9] = 1; next;')).toBe(true);
  });

  it('ACLs record a verdict in _eval and act in _action (build_acls, consider_acl, build_acl_action_lflows)', () => {
    expect(texts(f, 'ls_in_acl_eval').filter((t) => t.startsWith('3001'))).toEqual([
      '3001 reg0[7] == 1 && (ip4) => reg8[16] = 1; reg0[13] = 1; reg3 = 5; next;',
      '3001 reg0[8] == 1 && (ip4) => reg8[16] = 1; reg0[1] = 1; reg0[13] = 1; reg3 = 5; next;',
    ]);
    expect(texts(f, 'ls_out_acl_eval').filter((t) => t.startsWith('3000'))).toEqual([
      '3000 reg0[10] == 1 && (ip) => reg8[17] = 1; ct_commit { ct_mark.blocked = 1; }; next;',
      '3000 reg0[9] == 1 && (ip) => reg8[17] = 1; next;',
    ]);
    const reset = 'reg8[16] = 0; reg8[17] = 0; reg8[18] = 0; ';
    expect(texts(f, 'ls_in_acl_action')).toEqual([
      `0 1 => ${reset}next;`,
      `1000 reg8[16] == 1 => ${reset}next;`,
      `1000 reg8[17] == 1 => ${reset}/* drop */`,
      `1000 reg8[18] == 1 => ${reset}reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; next(pipeline=egress,table=6); };`,
    ]);
    expect(row(f, 'ls_out_acl_action', `1000 reg8[18] == 1 => ${reset}reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; next(pipeline=ingress,table=27); };`)).toBe(true);
    expect(row(f, 'ls_in_acl_eval', '1 ip && !ct.est => next;')).toBe(true);
    expect(row(f, 'ls_in_acl_eval', '65532 ct.inv || (ct.est && ct.rpl && ct_mark.blocked == 1) => reg8[17] = 1; next;')).toBe(true);
    expect(row(f, 'ls_in_acl_eval', '65532 ct.est && !ct.rel && !ct.new && !ct.inv && ct.rpl && ct_mark.blocked == 0 => reg0[9] = 0; reg0[10] = 0; reg0[17] = 1; reg8[16] = 1; next;')).toBe(true);
    expect(row(f, 'ls_in_acl_eval', '65532 !ct.est && ct.rel && !ct.new && !ct.inv && ct_mark.blocked == 0 => reg0[17] = 1; reg8[16] = 1; ct_commit_nat;')).toBe(true);
    expect(row(f, 'ls_in_acl_after_lb_eval', '65532 reg0[17] == 1 => reg8[16] = 1; next;')).toBe(true);
    expect(row(f, 'ls_in_acl_eval', '34000 eth.dst == $svc_monitor_mac => reg8[16] = 1; next;')).toBe(true);
    // default_acl_drop moves to the action stage.
    const drop = flows('24.03', { ...nb(), options: { default_acl_drop: 'true' } });
    expect(row(drop, 'ls_in_acl_action', `0 1 => ${reset}/* drop */`)).toBe(true);
    expect(row(drop, 'ls_in_acl_eval', '1 ip && !ct.est => next;')).toBe(true);
  });

  it('ACL tiers: the tier in the match, reset and re-evaluation per tier (consider_acl, build_acl_action_lflows)', () => {
    const t = flows('24.03', nb([{ direction: 'to-lport', priority: 2000, match: 'ip', action: 'allow-related', tier: 2 }, { direction: 'from-lport', priority: 10, match: 'arp', action: 'pass', tier: 1 }]));
    expect(row(t, 'ls_out_acl_eval', '3000 reg8[30..31] == 2 && reg0[7] == 1 && (ip) => reg8[16] = 1; next;')).toBe(true);
    // pass: no verdict, evaluated statelessly.
    expect(row(t, 'ls_in_acl_eval', '1010 reg8[30..31] == 1 && (arp) => next;')).toBe(true);
    // One max tier for the switch in 24.03: every action stage resets it and loops back to its eval stage.
    expect(texts(t, 'ls_in_acl_action').filter((x) => x.startsWith('500'))).toEqual([
      '500 reg8[30..31] == 0 => reg8[30..31] = 1; next(pipeline=ingress,table=8);',
      '500 reg8[30..31] == 1 => reg8[30..31] = 2; next(pipeline=ingress,table=8);',
    ]);
    expect(row(t, 'ls_out_acl_action', '500 reg8[30..31] == 1 => reg8[30..31] = 2; next(pipeline=egress,table=4);')).toBe(true);
    expect(row(t, 'ls_in_acl_after_lb_action', '1000 reg8[16] == 1 => reg8[16] = 0; reg8[17] = 0; reg8[18] = 0; reg8[30..31] = 0; next;')).toBe(true);
  });

  it('load balancing stores the VIP; affinity matches it (build_lb_rules, build_lb_affinity_ls_flows)', () => {
    expect(row(f, 'ls_in_lb', '120 ct.new && ip4.dst == 10.0.0.200 && tcp.dst == 80 => reg0[1] = 0; reg1 = 10.0.0.200; reg2[0..15] = 80; ct_lb_mark(backends=10.0.0.11:8080);')).toBe(true);
    expect(row(f, 'ls_in_lb', '150 reg9[6] == 1 && ct.new && ip4.dst == 10.0.0.200 && reg4 == 10.0.0.11 && reg8[0..15] == 8080 => reg0[1] = 0; reg1 = 10.0.0.200; reg2[0..15] = 80; ct_lb_mark(backends=10.0.0.11:8080);')).toBe(true);
    expect(row(f, 'ls_in_lb_aff_check', '100 ct.new && ip4 && reg1 == 10.0.0.200 && reg2[0..15] == 80 => reg9[6] = chk_lb_aff(); next;')).toBe(true);
    expect(row(f, 'ls_in_pre_stateful', '120 reg0[2] == 1 && ip4.dst == 10.0.0.200 && tcp.dst == 80 => reg1 = 10.0.0.200; reg2[0..15] = 80; ct_lb_mark;')).toBe(true);
    // An empty reject VIP jumps to ls_out_qos_mark, table 6 in 24.03 (build_lb_vip_actions).
    const rej = flows('24.03', { ...nb(), loadBalancers: [{ name: 'lb', vips: { '10.0.0.200:80': '' }, options: { reject: 'true' } }] });
    expect(row(rej, 'ls_in_lb', '120 ct.new && ip4.dst == 10.0.0.200 && tcp.dst == 80 => reg0 = 0; reject { outport <-> inport; next(pipeline=egress,table=6);};')).toBe(true);
  });

  it('ports: router ports marked, localnet learning flagged, responders answer broadcasts only (build_lswitch_port_sec_op, build_lswitch_learn_fdb_op, build_lswitch_arp_nd_responder_known_ips)', () => {
    expect(row(f, 'ls_in_check_port_sec', '70 inport == "rp" => reg0[18] = 1; next;')).toBe(true);
    expect(row(f, 'ls_in_lookup_fdb', '100 inport == "ln" => flags.localnet = 1; reg0[11] = lookup_fdb(inport, eth.src); next;')).toBe(true);
    expect(row(f, 'ls_in_arp_rsp', '50 arp.tpa == 10.0.0.11 && arp.op == 1 && eth.dst == ff:ff:ff:ff:ff:ff => eth.dst = eth.src; eth.src = 00:00:00:00:00:01; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = 00:00:00:00:00:01; arp.tpa = arp.spa; arp.spa = 10.0.0.11; outport = inport; flags.loopback = 1; output;')).toBe(true);
    expect(row(f, 'ls_in_arp_rsp', '100 arp.tpa == 10.0.0.11 && arp.op == 1 && eth.dst == ff:ff:ff:ff:ff:ff && inport == "p1" => next;')).toBe(true);
    expect(row(f, 'ls_in_arp_rsp', '50 nd_ns_mcast && ip6.dst == ff02::1:ff00:11 && nd.target == fd00::11 => nd_na { eth.src = 00:00:00:00:00:01; ip6.src = fd00::11; nd.target = fd00::11; nd.tll = 00:00:00:00:00:01; outport = inport; flags.loopback = 1; output; };')).toBe(true);
    expect(row(f, 'ls_in_arp_rsp', '100 inport == "ln" => next;')).toBe(true);
  });

  it('ICMP too-big turned back per port (build_lswitch_icmp_packet_toobig_admin_flows)', () => {
    expect(row(f, 'ls_in_check_port_sec', `110 ${ICMP} && eth.src == 00:00:00:00:00:01 && outport == "p1" && !is_chassis_resident("p1") && flags.tunnel_rx == 1 => outport <-> inport; next;`)).toBe(true);
    expect(row(f, 'ls_in_check_port_sec', `120 ${ICMP} && eth.dst == 00:00:00:00:ff:01 && flags.tunnel_rx == 1 => outport <-> inport; next(pipeline=ingress,table=27);`)).toBe(true);
    const gw = nb();
    gw.routers![0]!.options = { chassis: 'gw1' };
    expect(row(flows('24.03', gw), 'ls_in_check_port_sec', `120 ${ICMP} && eth.src == 00:00:00:00:ff:01 && outport == "rp" && flags.tunnel_rx == 1 => outport <-> inport; next;`)).toBe(true);
  });

  it('lookup: the router MAC without "router" in addresses, SNAT IPs, broadcast-only self-originated requests, L2 multicast off the routers (build_lswitch_ip_unicast_lookup, build_lswitch_rport_arp_req_flows_for_lbnats, build_lswitch_destination_lookup_bmcast)', () => {
    const noRouterAddr = nb();
    noRouterAddr.switches[0]!.ports[2]!.addresses = [];
    expect(row(flows('24.03', noRouterAddr), 'ls_in_l2_lkup', '50 eth.dst == 00:00:00:00:ff:01 => outport = "rp"; output;')).toBe(true);
    expect(row(flows('23.03', noRouterAddr), 'ls_in_l2_lkup', '50 eth.dst == 00:00:00:00:ff:01 => outport = "rp"; output;')).toBe(false);
    expect(row(f, 'ls_in_l2_lkup', '80 flags[1] == 0 && arp.op == 1 && arp.tpa == 10.0.0.100 => clone {outport = "rp"; output; }; outport = "_MC_flood_l2"; output;')).toBe(true);
    expect(row(f, 'ls_in_l2_lkup', '75 eth.src == {00:00:00:00:ff:01} && eth.dst == ff:ff:ff:ff:ff:ff && (arp.op == 1 || rarp.op == 3 || nd_ns) => outport = "_MC_flood_l2"; output;')).toBe(true);
    expect(texts(f, 'ls_in_l2_lkup').filter((t) => /^7\d /.test(t) && t.includes('eth.mcast'))).toEqual([
      '70 eth.mcast => outport = "_MC_flood_l2"; output;',
      '71 eth.mcast && (arp || ip) => outport = "_MC_flood"; output;',
    ]);
    const noBcast = flows('24.03', { ...nb(), switches: [{ ...nb().switches[0]!, otherConfig: { 'broadcast-arps-to-all-routers': 'false' } }] });
    expect(row(noBcast, 'ls_in_l2_lkup', '72 eth.mcast && (arp.op == 1 || nd_ns) => outport = "_MC_flood_l2"; output;')).toBe(true);
    // neighbor_responder=none keeps a router VIP out of the forwarding (en-lr-stateful.c add_neigh_ips_to_lrouter).
    const vipDb = (mode?: string): NorthboundDb => ({ ...nb(), routers: [{ ...nb().routers![0]!, loadBalancers: ['rlb'] }], loadBalancers: [...nb().loadBalancers!, { name: 'rlb', vips: { '10.0.0.250': '10.0.0.11' }, ...(mode ? { options: { neighbor_responder: mode } } : {}) }] });
    const fwd = '80 flags[1] == 0 && arp.op == 1 && arp.tpa == 10.0.0.250 => clone {outport = "rp"; output; }; outport = "_MC_flood_l2"; output;';
    expect(row(flows('24.03', vipDb()), 'ls_in_l2_lkup', fwd)).toBe(true);
    expect(row(flows('24.03', vipDb('none')), 'ls_in_l2_lkup', fwd)).toBe(false);
    expect(row(flows('23.03', vipDb('none')), 'ls_in_l2_lkup', fwd)).toBe(true);
  });

  it('QoS keeps separate mark and meter stages (build_qos)', () => {
    expect(texts(f, 'ls_in_qos_mark')).toEqual(['0 1 => next;', '100 ip4 => ip.dscp = 46; next;']);
    expect(texts(f, 'ls_in_qos_meter')).toEqual(['0 1 => next;', '100 ip4 => set_meter(1000); next;']);
  });
});

describe('25.03 (cbb88276a)', () => {
  const f = flows('25.03');
  it('localnet: marked at lookup_fdb, no blanket arp_rsp skip; responders answer localnet requests only where the target is bound (build_lswitch_from_localnet_op, build_lswitch_arp_nd_local_resp_match)', () => {
    expect(row(f, 'ls_in_lookup_fdb', '50 inport == "ln" => flags.localnet = 1; next;')).toBe(true);
    expect(row(f, 'ls_in_arp_rsp', '100 inport == "ln" => next;')).toBe(false);
    const local = ' && ((flags.localnet == 1 && is_chassis_resident("p1")) || flags.localnet == 0)';
    expect(texts(f, 'ls_in_arp_rsp').filter((t) => t.includes('10.0.0.11'))).toEqual([
      '100 arp.tpa == 10.0.0.11 && arp.op == 1 && eth.dst == ff:ff:ff:ff:ff:ff && inport == "p1" => next;',
      `50 arp.tpa == 10.0.0.11 && arp.op == 1 && eth.dst == ff:ff:ff:ff:ff:ff${local} => eth.dst = eth.src; eth.src = 00:00:00:00:00:01; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = 00:00:00:00:00:01; arp.tpa = arp.spa; arp.spa = 10.0.0.11; outport = inport; flags.loopback = 1; output;`,
    ]);
    expect(row(f, 'ls_in_arp_rsp', `50 nd_ns_mcast && ip6.dst == ff02::1:ff00:11 && nd.target == fd00::11${local} => nd_na { eth.src = 00:00:00:00:00:01; ip6.src = fd00::11; nd.target = fd00::11; nd.tll = 00:00:00:00:00:01; outport = inport; flags.loopback = 1; output; };`)).toBe(true);
    expect(texts(f, 'ls_out_lookup_fdb')).toEqual(['0 1 => next;']);
    expect(texts(f, 'ls_out_put_fdb')).toEqual(['0 1 => next;']);
    // disable_arp_nd_rsp on a VIF.
    const off = nb();
    off.switches[0]!.ports[1]!.options = { disable_arp_nd_rsp: 'true' };
    expect(texts(flows('25.03', off), 'ls_in_arp_rsp').some((t) => t.includes('10.0.0.11'))).toBe(false);
  });

  it('ACLs: labels as observation ids, persist-established bypass, sample defaults, obs point on block (build_acls, consider_acl, build_acl_sample_label_action)', () => {
    expect(texts(f, 'ls_in_acl_eval').filter((t) => t.startsWith('3001'))).toEqual([
      '3001 reg0[7] == 1 && (ip4) => reg8[16] = 1; reg0[13] = 1; reg3 = 5; reg9 = 5; reg8[0..7] = 0; reg8[8..15] = 0; reg8[19..20] = 0; next;',
      '3001 reg0[8] == 1 && (ip4) => reg8[16] = 1; reg0[1] = 1; reg0[13] = 1; reg3 = 5; reg9 = 5; reg8[0..7] = 0; reg8[8..15] = 0; reg8[19..20] = 0; next;',
    ]);
    expect(row(f, 'ls_out_acl_eval', '3000 reg0[10] == 1 && (ip) => reg8[17] = 1; ct_commit { ct_mark.blocked = 1; ct_label.obs_point_id = 0; }; next;')).toBe(true);
    expect(row(f, 'ls_in_acl_eval', '65532 ct.est && ct_mark.allow_established == 1 => reg0[21] = 1; reg8[16] = 1; next;')).toBe(true);
    expect(row(f, 'ls_out_acl_eval', '65532 ct.est && ct_mark.allow_established == 1 => reg8[16] = 1; next;')).toBe(true);
    expect(row(f, 'ls_in_acl_after_lb_eval', '65532 reg0[21] == 1 => reg8[16] = 1; next;')).toBe(true);
    for (const s of ['ls_in_acl_sample', 'ls_out_acl_sample', 'ls_in_acl_after_lb_sample']) expect(texts(f, s)).toEqual(['0 1 => next;']);
    // Reject now lands in ls_out_qos (table 9) / ls_in_l2_lkup (28) (build_acl_reject_action).
    expect(texts(f, 'ls_in_acl_action').find((t) => t.includes('reg8[18] == 1'))).toContain('next(pipeline=egress,table=9); };');
    expect(texts(f, 'ls_out_acl_action').find((t) => t.includes('reg8[18] == 1'))).toContain('next(pipeline=ingress,table=28); };');
    // A labelled to-lport ACL: observation stage 2; a stateless one carries the label too.
    const lbl = flows('25.03', nb([{ direction: 'to-lport', priority: 1, match: 'ip', action: 'allow-stateless', label: 9 }]));
    expect(row(lbl, 'ls_out_acl_eval', '1001 (ip) => reg8[16] = 1; reg0[13] = 1; reg3 = 9; reg9 = 9; reg8[0..7] = 0; reg8[8..15] = 0; reg8[19..20] = 2; next;')).toBe(true);
  });

  it('ACL tiers are per stage (en-ls-stateful.c update_ls_max_acl_tier, build_acl_action_lflows)', () => {
    const t = flows('25.03', nb([{ direction: 'to-lport', priority: 2000, match: 'ip', action: 'drop', tier: 1 }]));
    expect(texts(t, 'ls_out_acl_action').filter((x) => x.startsWith('500'))).toEqual(['500 reg8[30..31] == 0 => reg8[30..31] = 1; next(pipeline=egress,table=6);']);
    expect(texts(t, 'ls_in_acl_action').some((x) => x.includes('reg8[30..31]'))).toBe(false);
    expect(flows('24.03', nb([{ direction: 'to-lport', priority: 2000, match: 'ip', action: 'drop', tier: 1 }])).some((x) => x.stage === 'ls_in_acl_action' && x.actions.includes('reg8[30..31] = 0;'))).toBe(true);
  });

  it('one QoS stage; commits carry the ACL ids (build_qos, build_stateful)', () => {
    expect(texts(f, 'ls_in_qos')).toEqual(['0 1 => next;', '100 ip4 => set_meter(1000); ip.dscp = 46; next;']);
    expect(texts(f, 'ls_out_qos')).toEqual(['0 1 => next;']);
    expect(texts(f, 'ls_in_stateful')).toEqual([
      '0 1 => next;',
      '100 reg0[1] == 1 && reg0[13] == 0 => ct_commit { ct_mark.blocked = 0; ct_mark.allow_established = reg0[20]; ct_label.acl_id = reg2[16..31]; }; next;',
      '100 reg0[1] == 1 && reg0[13] == 1 => ct_commit { ct_mark.blocked = 0; ct_mark.allow_established = reg0[20]; ct_mark.obs_stage = reg8[19..20]; ct_mark.obs_collector_id = reg8[8..15]; ct_label.obs_point_id = reg9; ct_label.acl_id = reg2[16..31]; }; next;',
    ]);
  });

  it('load balancing: REG_LB_IPV4/PORT, no commit-bit clear, affinity on the packet (build_lb_vip_actions, build_lb_rules_pre_stateful, build_lb_affinity_ls_flows, build_lb_hairpin)', () => {
    expect(row(f, 'ls_in_lb', '120 ct.new && ip4.dst == 10.0.0.200 && tcp.dst == 80 => reg4 = 10.0.0.200; reg2[0..15] = 80; ct_lb_mark(backends=10.0.0.11:8080);')).toBe(true);
    expect(row(f, 'ls_in_pre_stateful', '120 reg0[2] == 1 && ip4.dst == 10.0.0.200 && tcp.dst == 80 => reg4 = 10.0.0.200; reg2[0..15] = 80; ct_lb_mark;')).toBe(true);
    expect(row(f, 'ls_in_lb_aff_check', '100 ct.new && ip4 && ip4.dst == 10.0.0.200 && tcp && tcp.dst == 80 => reg9[6] = chk_lb_aff(); next;')).toBe(true);
    expect(row(f, 'ls_in_lb', '150 reg9[6] == 1 && ct.new && ip4.dst == 10.0.0.200 && reg4 == 10.0.0.11 && reg2[0..15] == 8080 => reg4 = 10.0.0.200; reg2[0..15] = 80; ct_lb_mark(backends=10.0.0.11:8080);')).toBe(true);
    expect(row(f, 'ls_in_lb_aff_learn', '100 reg9[6] == 0 && ct.new && ip4 && reg4 == 10.0.0.200 && reg2[0..15] == 80 && ip4.dst == 10.0.0.11 && tcp.dst == 8080 => commit_lb_aff(vip = "10.0.0.200:80", backend = "10.0.0.11:8080", proto = tcp, timeout = 60); /* drop */')).toBe(true);
    expect(row(f, 'ls_in_lb', '110 ct.trk && !ct.rpl && reg0[19] == 1 && ip4 => reg4 = ct_nw_dst(); reg2[0..15] = ct_tp_dst(); next;')).toBe(true);
    const v6 = flows('25.03', { ...nb(), loadBalancers: [{ name: 'lb', vips: { '[fd00::200]:80': '[fd00::11]:8080' } }] });
    expect(row(v6, 'ls_in_lb', '120 ct.new && ip6.dst == fd00::200 && tcp.dst == 80 => xxreg1 = fd00::200; reg2[0..15] = 80; ct_lb_mark(backends=[fd00::11]:8080);')).toBe(true);
  });

  it('L2 multicast: NA/RS/RA and ARP to every port, IP multicast to relay/static ports and the non-router ports (build_lswitch_destination_lookup_bmcast)', () => {
    expect(texts(f, 'ls_in_l2_lkup').filter((t) => /^7\d /.test(t) && t.includes('eth.mcast'))).toEqual([
      '70 eth.mcast => outport = "_MC_flood_l2"; output;',
      '71 eth.mcast && arp => outport = "_MC_flood"; output;',
      '71 eth.mcast && ip => outport = "_MC_flood_l2"; output;',
      '72 eth.mcast && (nd_na || nd_rs || nd_ra) => outport = "_MC_flood"; output;',
    ]);
    const st = nb();
    st.switches[0]!.ports[1]!.options = { mcast_flood: 'true' };
    expect(row(flows('25.03', st), 'ls_in_l2_lkup', '71 eth.mcast && ip => clone { outport = "_MC_static"; output; }; outport = "_MC_flood_l2"; output;')).toBe(true);
  });

  it('VIF options: force_fdb_lookup and pkt_clone_type=mc_unknown (build_lswitch_ip_unicast_lookup)', () => {
    const db = nb();
    db.switches[0]!.ports.push({ name: 'p2', addresses: ['00:00:00:00:00:02', 'unknown'], options: { force_fdb_lookup: 'true' } }, { name: 'p3', addresses: ['00:00:00:00:00:03 10.0.0.13'], options: { pkt_clone_type: 'MC_UNKNOWN' } });
    const fl = texts(flows('25.03', db), 'ls_in_l2_lkup');
    expect(fl.some((t) => t.includes('00:00:00:00:00:02'))).toBe(false);
    expect(fl).toContain('50 eth.dst == 00:00:00:00:00:03 => clone {outport = "p3"; output; };outport = "_MC_unknown"; output;');
    expect(texts(flows('24.03', db), 'ls_in_l2_lkup')).toContain('50 eth.dst == 00:00:00:00:00:02 => outport = "p2"; output;');
  });
});

describe('Kube-OVN patches on their bases', () => {
  it('1.14 clears the whole ls_in_lb prefix (a9e00913 on 24.03 build_lb_rules); 1.15 keeps 25.03\'s (9286e1fd)', () => {
    const db = nb();
    expect(row(flows('24.03', db, { profile: 'kube-ovn-1.14' }), 'ls_in_lb', '120 ct.new && ip4.dst == 10.0.0.200 && tcp.dst == 80 => ct_lb_mark(backends=10.0.0.11:8080);')).toBe(true);
    expect(row(flows('25.03', db, { profile: 'kube-ovn-1.15' }), 'ls_in_lb', '120 ct.new && ip4.dst == 10.0.0.200 && tcp.dst == 80 => reg4 = 10.0.0.200; reg2[0..15] = 80; ct_lb_mark(backends=10.0.0.11:8080);')).toBe(true);
  });

  it('node_local_dns_ip skips pre_acl conntrack on switches with stateful ACLs (e7d3ba53)', () => {
    const db = { ...nb(), options: { node_local_dns_ip: '169.254.20.10,fd00::a' } };
    const fl = flows('24.03', db, { profile: 'kube-ovn-1.14' });
    for (const s of ['ls_in_pre_acl', 'ls_out_pre_acl']) {
      expect(row(fl, s, '110 ip4 && ip4.dst == 169.254.20.10 => next;')).toBe(true);
      expect(row(fl, s, '110 ip6 && ip6.dst == fd00::a => next;')).toBe(true);
    }
    expect(row(flows('24.03', db), 'ls_in_pre_acl', '110 ip4 && ip4.dst == 169.254.20.10 => next;')).toBe(false);
    expect(row(flows('25.03', nb([]), { profile: 'kube-ovn-1.15' }), 'ls_in_pre_acl', '110 ip4 && ip4.dst == 169.254.20.10 => next;')).toBe(false);
  });

  it('router-port IPs are not answered from the localnet port (4a8e051f/477695a0); VIF sources get their MAC back from plain router ports (fb0108d8/52b727b3)', () => {
    const db = nb();
    db.routers![0]!.ports[0]!.networks = ['10.0.0.1/24', '169.254.1.1/16', 'fd00::1/64'];
    const fl = flows('25.03', db, { profile: 'kube-ovn-1.15' });
    expect(texts(fl, 'ls_in_arp_rsp').filter((t) => t.startsWith('105'))).toEqual([
      '105 inport == "ln" && arp.tpa == 10.0.0.1 && arp.op == 1 => drop;',
      '105 inport == "ln" && nd_ns && ip6.dst == {fd00::1, ff02::1:ff00:1} && nd.target == fd00::1 => drop;',
    ]);
    expect(texts(fl, 'ls_in_l2_lkup').filter((t) => t.startsWith('60'))).toEqual([
      '60 inport == "rp" && ip4.src == 10.0.0.11 && eth.src != 00:00:00:00:00:01 => eth.src = 00:00:00:00:00:01; next(pipeline=ingress, table=28);',
      '60 inport == "rp" && ip6.src == fd00::11 && eth.src != 00:00:00:00:00:01 => eth.src = 00:00:00:00:00:01; next(pipeline=ingress, table=28);',
    ]);
    db.routers![0]!.ports[0]!.gatewayChassis = ['gw1'];
    const gw = flows('25.03', db, { profile: 'kube-ovn-1.15' });
    expect(gw.some((x) => (x.stage === 'ls_in_arp_rsp' && x.priority === 105) || (x.stage === 'ls_in_l2_lkup' && x.priority === 60))).toBe(false);
  });

  it('bcast_arp_req_flood=false: broadcast ARP looked up, localnet requests sent to the owner (5593e614/e889d469)', () => {
    const db = { ...nb(), options: { bcast_arp_req_flood: 'false' } };
    const fl = flows('24.03', db, { profile: 'kube-ovn-1.14' });
    expect(row(fl, 'ls_in_l2_lkup', '90 eth.bcast && arp.op == 1 => next;')).toBe(true);
    expect(row(fl, 'ls_in_arp_rsp', '110 inport == "ln" && eth.bcast && arp.op == 1 && arp.tpa == 10.0.0.11 => outport = "p1"; output;')).toBe(true);
    expect(row(flows('24.03', db), 'ls_in_l2_lkup', '90 eth.bcast && arp.op == 1 => next;')).toBe(false);
  });
});

// Lines of a real `ovn-sbctl lflow-list` of a newer OVN (the 25.03 stage layout: ls_out_acl_eval 6, _sample 7,
// _action 8), quoted in ovn-org/ovn-kubernetes issue #5667 (2025): a port group with a tier-2 to-lport drop ACL
// on a switch with stateful ACLs. The only real-program output of a post-23.03 northd available here.
const ISSUE_5667 = [
  '  table=6 (ls_out_acl_eval    ), priority=2000 , match=(reg8[30..31] == 2 && reg0[10] == 1 && (outport == @a15879257590319427746)), action=(reg8[17] = 1; ct_commit { ct_mark.blocked = 1; ct_label.obs_point_id = 0; }; next;)',
  '  table=6 (ls_out_acl_eval    ), priority=2000 , match=(reg8[30..31] == 2 && reg0[9] == 1 && (outport == @a15879257590319427746)), action=(reg8[17] = 1; next;)',
  '  table=6 (ls_out_acl_eval    ), priority=1    , match=(ip && !ct.est), action=(next;)',
  '  table=6 (ls_out_acl_eval    ), priority=1    , match=(ip && ct.est && ct_mark.blocked == 1), action=(reg8[16] = 1; next;)',
  '  table=6 (ls_out_acl_eval    ), priority=0    , match=(1), action=(next;)',
  '  table=7 (ls_out_acl_sample  ), priority=0    , match=(1), action=(next;)',
  '  table=8 (ls_out_acl_action  ), priority=1000 , match=(reg8[16] == 1), action=(reg8[16] = 0; reg8[17] = 0; reg8[18] = 0; reg8[30..31] = 0; next;)',
  '  table=8 (ls_out_acl_action  ), priority=1000 , match=(reg8[17] == 1), action=(reg8[16] = 0; reg8[17] = 0; reg8[18] = 0; reg8[30..31] = 0; /* drop */)',
  '  table=7 (ls_in_acl_hint     ), priority=0    , match=(1), action=(next;)',
  '  table=8 (ls_in_acl_eval     ), priority=65532, match=(!ct.est && ct.rel && !ct.new && !ct.inv && ct_mark.blocked == 0), action=(reg0[17] = 1; reg8[16] = 1; ct_commit_nat;)',
  '  table=8 (ls_in_acl_eval     ), priority=65532, match=(ct.est && !ct.rel && !ct.new && !ct.inv && ct.rpl && ct_mark.blocked == 0), action=(reg0[9] = 0; reg0[10] = 0; reg0[17] = 1; reg8[16] = 1; next;)',
  '  table=8 (ls_in_acl_eval     ), priority=65532, match=(ct.est && ct_mark.allow_established == 1), action=(reg0[21] = 1; reg8[16] = 1; next;)',
  '  table=8 (ls_in_acl_eval     ), priority=65532, match=(ct.inv || (ct.est && ct.rpl && ct_mark.blocked == 1)), action=(reg8[17] = 1; next;)',
  '  table=8 (ls_in_acl_eval     ), priority=65532, match=(nd || nd_ra || nd_rs || mldv1 || mldv2), action=(reg8[16] = 1; next;)',
  '  table=8 (ls_in_acl_eval     ), priority=34000, match=(eth.dst == $svc_monitor_mac), action=(reg8[16] = 1; next;)',
  '  table=8 (ls_in_acl_eval     ), priority=1    , match=(ip && !ct.est), action=(next;)',
  '  table=8 (ls_in_acl_eval     ), priority=1    , match=(ip && ct.est && ct_mark.blocked == 1), action=(reg8[16] = 1; next;)',
  '  table=8 (ls_in_acl_eval     ), priority=0    , match=(1), action=(next;)',
];

describe('against a real post-23.03 lflow-list (ovn-kubernetes issue #5667)', () => {
  it('25.03 prints the quoted rows byte for byte', () => {
    const pg = 'a15879257590319427746';
    const db: NorthboundDb = {
      switches: [{ name: 'ls', ports: [{ name: 'p1', addresses: ['00:00:00:00:00:01 10.0.0.11'] }] }],
      portGroups: [{ name: pg, ports: ['p1'], acls: [
        { direction: 'to-lport', priority: 1000, match: `outport == @${pg}`, action: 'drop', tier: 2 },
        { direction: 'to-lport', priority: 1001, match: `outport == @${pg} && ip4.src == 10.0.0.2`, action: 'allow-related', tier: 2 },
      ] }],
    };
    const text = formatLflowList(northd(db, { ovnVersion: '25.03' }));
    const lines = new Set(text.split('\n'));
    expect(ISSUE_5667.filter((l) => !lines.has(l))).toEqual([]);
    // 24.03 lacks the egress FDB and sample stages, the persist-established row and the obs_point_id: the quoted
    // egress rows and those differ there (so the check can tell the versions apart).
    const t24 = new Set(formatLflowList(northd(db, { ovnVersion: '24.03' })).split('\n'));
    expect(ISSUE_5667.filter((l) => !t24.has(l)).length).toBe(9);
  });
});
