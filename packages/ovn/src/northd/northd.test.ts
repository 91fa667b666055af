import { describe, expect, it } from 'vitest';
import { formatLflowList, parseLflowList } from '../lflow/lflow-text.js';
import type { LogicalFlow } from '../lflow/types.js';
import { extractLspAddresses, formatIp6, parseIp6, parseLbKey } from './addr.js';
import { checkNorthbound, NbShapeError, type NorthboundDb } from './nb.js';
import { northd, NorthdError, type NorthdOptions } from './northd.js';
import { SWITCH_STAGES, stageOf } from './stages.js';

// The switch of Kube-OVN's underlay subnet with prefer-local (shared/research/kube-ovn.md §3): three pods on two
// chassis, one LoadBalancer VIP with ip_port_mappings as the controller writes them ("LSP:0.0.0.0").
const nb = (extra: Partial<NorthboundDb> = {}, lbExt: Record<string, string> = {}): NorthboundDb => ({
  switches: [{
    name: 'ls',
    ports: [
      { name: 'ln', type: 'localnet', addresses: ['unknown'], options: { network_name: 'provider' }, externalIds: { ipv4_network: '10.180.204.0/24', ipv6_network: 'fd00::/64' } },
      { name: 'pod1.ns', addresses: ['00:00:00:b4:cc:01 10.180.204.11'] },
      { name: 'pod2.ns', addresses: ['00:00:00:b4:cc:02 10.180.204.12'] },
      { name: 'pod3.ns', addresses: ['00:00:00:b4:cc:03 10.180.204.13 fd00::13'] },
      { name: 'node-n1', addresses: ['00:00:00:aa:aa:01 100.64.0.2'] },
    ],
    loadBalancers: ['cluster-tcp-loadbalancer'],
  }],
  loadBalancers: [{
    name: 'cluster-tcp-loadbalancer', protocol: 'tcp',
    vips: { '10.180.204.252:80': '10.180.204.11:80,10.180.204.12:80,10.180.204.13:80' },
    options: { prefer_local_backend: 'true' },
    selectionFields: ['ip_src'],
    ipPortMappings: { '10.180.204.11': 'pod1.ns:0.0.0.0', '10.180.204.12': 'pod2.ns:0.0.0.0', '10.180.204.13': 'pod3.ns:0.0.0.0' },
    externalIds: lbExt,
  }],
  options: { ls_dnat_mod_dl_dst: 'true', ls_ct_skip_dst_lport_ips: 'true', node_local_dns_ip: '169.254.20.10', skip_conntrack_dst_cidrs: '10.96.0.0/12, fd00:10:96::/112' },
  ...extra,
});
const chassis: NorthdOptions['chassis'] = { 'pod1.ns': 'n1', 'pod2.ns': 'n1', 'pod3.ns': 'n2', 'node-n1': 'n1' };
const flows = (db: NorthboundDb, opts: NorthdOptions): LogicalFlow[] => northd(db, opts).flows.get('ls')!;
const texts = (fl: LogicalFlow[], stage: string): string[] => fl.filter((f) => f.stage === stage).map((f) => `${f.priority} ${f.match} => ${f.actions}`).sort();

describe('northd stages', () => {
  it('numbers the 23.03 tables as northd.c PIPELINE_STAGES and keys later versions by name', () => {
    expect(stageOf('23.03', 'ls_in_lb')).toEqual({ name: 'ls_in_lb', pipeline: 'ingress', table: 12 });
    expect(stageOf('24.03', 'ls_in_lb')?.table).toBe(13);
    expect(stageOf('25.03', 'ls_out_apply_port_sec')?.table).toBe(12);
    expect(SWITCH_STAGES['23.03'].length).toBe(37);
    expect(stageOf('23.03', 'ls_in_acl_eval')).toBeUndefined();
  });
});

describe('northd address handling', () => {
  it('prints IPv6 as inet_ntop does and reads LSP entries as extract_lsp_addresses does', () => {
    expect(formatIp6(parseIp6('FD00:0:0::0A')!)).toBe('fd00::a');
    expect(formatIp6(parseIp6('fd00:0:0:1:0:0:0:1')!)).toBe('fd00:0:0:1::1');
    expect(formatIp6(parseIp6('1:0:0:2:0:0:0:3')!)).toBe('1:0:0:2::3');
    expect(formatIp6(parseIp6('::ffff:10.0.0.1')!)).toBe('::ffff:10.0.0.1');
    expect(extractLspAddresses('0:0:0:B4:CC:1 10.0.0.1/24 fd00::1 junk 10.0.0.2')).toEqual({ mac: '00:00:00:b4:cc:01', ipv4: ['10.0.0.1'], ipv6: [{ addr: 'fd00::1', sn: 'ff02::1:ff00:1' }] });
    expect(extractLspAddresses('unknown')).toBeUndefined();
    expect(parseLbKey('[FD00::0252]:80')).toEqual({ ip: 'fd00::252', family: 6, port: 80 });
    expect(parseLbKey('10.0.0.1:99999')).toBeUndefined();
  });
});

describe('northd input errors', () => {
  it('rejects a switch that names a missing load balancer, and duplicate switch names', () => {
    expect(() => northd({ switches: [{ name: 'ls', ports: [], loadBalancers: ['nope'] }] })).toThrow(NorthdError);
    expect(() => northd({ switches: [{ name: 'a', ports: [] }, { name: 'a', ports: [] }] })).toThrow(/two logical switches/);
    expect(() => northd({ switches: [{ name: 'a', ports: [{ name: 'p' }] }, { name: 'b', ports: [{ name: 'p' }] }] })).toThrow(/two logical switch ports named p/);
  });
  it('checkNorthbound names the first member that has the wrong shape', () => {
    expect(() => checkNorthbound({ switches: [{ name: 'ls', ports: [{ name: 'p', addresses: 'x' }] }] })).toThrow('switches[0].ports[0].addresses: expected an array of strings');
    expect(() => checkNorthbound({ switches: [{ name: 'ls', ports: [], acls: [{ direction: 'in', priority: 1, match: '1', action: 'drop' }] }] })).toThrow(/switches\[0\]\.acls\[0\]\.direction/);
    expect(() => checkNorthbound({ switches: [], loadBalancers: [{ name: 'l', vips: { a: 1 } }] })).toThrow(NbShapeError);
    expect(() => checkNorthbound([])).toThrow(/\(root\)/);
    const ok = { switches: [{ name: 'ls', ports: [{ name: 'p', addresses: ['unknown'] }] }] };
    expect(checkNorthbound(ok)).toBe(ok);
  });

  it('parseLflowList rejects text that is not lflow-list output', () => {
    expect(() => parseLflowList('hello')).toThrow(/Datapath/);
    expect(() => parseLflowList('Datapath: "ls" (0000)  Pipeline: ingress\n  nonsense')).toThrow(/not an lflow-list row/);
  });
});

describe('Southbound rows northd writes', () => {
  it('multicast groups, port bindings with chassis, SB load balancers', () => {
    const s = northd(nb(), { chassis });
    expect(s.multicastGroups.find((m) => m.name === '_MC_unknown')?.ports).toEqual(['ln']);
    expect(s.multicastGroups.find((m) => m.name === '_MC_flood')?.ports.length).toBe(5);
    expect(s.portBindings.find((p) => p.logicalPort === 'pod3.ns')).toMatchObject({ chassis: 'n2', tunnelKey: 4, type: '' });
    expect(s.loadBalancers[0]).toMatchObject({ name: 'cluster-tcp-loadbalancer', protocol: 'tcp', datapaths: ['ls'] });
    // lflow-list text round-trips through the parser.
    const text = formatLflowList(s, { uuid: true });
    expect(formatLflowList({ datapaths: s.datapaths, flows: parseLflowList(text) }, { uuid: true })).toBe(text);
  });
});

describe('Kube-OVN overlays', () => {
  it('upstream ignores every Kube-OVN option', () => {
    const up = flows(nb(), { chassis });
    expect(up.some((f) => f.priority === 140 || f.priority === 105 || f.priority === 55)).toBe(false);
    expect(up.some((f) => f.stage === 'ls_in_acl_eval')).toBe(false);
    expect(texts(up, 'ls_in_lb')).toContain('120 ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 => reg0[1] = 0; ct_lb_mark(backends=10.180.204.11:80,10.180.204.12:80,10.180.204.13:80; hash_fields="ip_src");');
  });

  it('kube-ovn-1.14: per-chassis 140 flows on the first local backend, no action prefix (a9e00913 patch, PR #4894 example)', () => {
    const fl = flows(nb(), { profile: 'kube-ovn-1.14', chassis });
    expect(texts(fl, 'ls_in_lb')).toEqual([
      '0 1 => next;',
      '120 ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 => ct_lb_mark(backends=10.180.204.11:80,10.180.204.12:80,10.180.204.13:80; hash_fields="ip_src");',
      '140 ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 && is_chassis_resident("pod1.ns") => ct_lb_mark(backends=10.180.204.11:80,10.180.204.12:80; hash_fields="ip_src");',
      '140 ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 && is_chassis_resident("pod3.ns") => ct_lb_mark(backends=10.180.204.13:80; hash_fields="ip_src");',
    ]);
    // An unbound backend (no chassis) is in no group.
    const unbound = flows(nb(), { profile: 'kube-ovn-1.14', chassis: { 'pod1.ns': 'n1' } });
    expect(texts(unbound, 'ls_in_lb').filter((t) => t.startsWith('140'))).toEqual(['140 ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 && is_chassis_resident("pod1.ns") => ct_lb_mark(backends=10.180.204.11:80; hash_fields="ip_src");']);
  });

  it('ports bind where options:requested-chassis says unless chassis overrides it', () => {
    const db = nb();
    db.switches[0]!.ports.forEach((p) => { if (chassis![p.name]) p.options = { ...p.options, 'requested-chassis': chassis![p.name]! }; });
    expect(texts(flows(db, { profile: 'kube-ovn-1.14' }), 'ls_in_lb')).toEqual(texts(flows(nb(), { profile: 'kube-ovn-1.14', chassis }), 'ls_in_lb'));
    const moved = flows(db, { profile: 'kube-ovn-1.14', chassis: { 'pod3.ns': 'n1' } });
    expect(texts(moved, 'ls_in_lb').filter((t) => t.startsWith('140'))).toEqual(['140 ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 && is_chassis_resident("pod1.ns") => ct_lb_mark(backends=10.180.204.11:80,10.180.204.12:80,10.180.204.13:80; hash_fields="ip_src");']);
    expect(northd(db, {}).portBindings.find((p) => p.logicalPort === 'pod3.ns')?.chassis).toBe('n2');
  });

  it('kube-ovn-1.15 without marker: the same groups with 25.03\'s reg4/reg2 prefix (9286e1fd patch)', () => {
    const fl = flows(nb(), { profile: 'kube-ovn-1.15', chassis });
    expect(texts(fl, 'ls_in_lb').filter((t) => t.startsWith('140'))).toEqual([
      '140 ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 && is_chassis_resident("pod1.ns") => reg4 = 10.180.204.252; reg2[0..15] = 80; ct_lb_mark(backends=10.180.204.11:80,10.180.204.12:80; hash_fields="ip_src");',
      '140 ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 && is_chassis_resident("pod3.ns") => reg4 = 10.180.204.252; reg2[0..15] = 80; ct_lb_mark(backends=10.180.204.13:80; hash_fields="ip_src");',
    ]);
  });

  it('kube-ovn-1.15 with the VIP-node marker: 139 bypass, one 140 flow resident on the VIP node, affinity filtered', () => {
    const db = nb({}, { 'kube-ovn.io/local-external-vip/10.180.204.252:80': 'node-n1' });
    db.loadBalancers![0]!.options!.affinity_timeout = '10800';
    const fl = flows(db, { profile: 'kube-ovn-1.15', chassis });
    const lb = texts(fl, 'ls_in_lb');
    expect(lb).toContain('139 ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 => next;');
    expect(lb.filter((t) => t.startsWith('140'))).toEqual(['140 ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 && is_chassis_resident("node-n1") => reg4 = 10.180.204.252; reg2[0..15] = 80; ct_lb_mark(backends=10.180.204.11:80,10.180.204.12:80; hash_fields="ip_src");']);
    // Affinity: only the VIP node's two backends, each guarded; no unguarded check.
    expect(texts(fl, 'ls_in_lb_aff_check')).toEqual(['0 1 => next;', '100 ct.new && ip4 && reg1 == 10.180.204.252 && reg2[0..15] == 80 && is_chassis_resident("node-n1") => reg9[6] = chk_lb_aff(); next;']);
    // On its real base (25.03) the check matches the packet (build_lb_affinity_ls_flows, cbb88276a); 9286e1fd
    // appends the guard.
    expect(texts(flows(db, { profile: 'kube-ovn-1.15', chassis, ovnVersion: '25.03' }), 'ls_in_lb_aff_check')).toEqual(['0 1 => next;', '100 ct.new && ip4 && ip4.dst == 10.180.204.252 && tcp && tcp.dst == 80 && is_chassis_resident("node-n1") => reg9[6] = chk_lb_aff(); next;']);
    expect(texts(fl, 'ls_in_lb_aff_learn').length).toBe(3);
    expect(lb.filter((t) => t.startsWith('150')).every((t) => t.includes('is_chassis_resident("node-n1")'))).toBe(true);
    // Marker naming a node that hosts no backend: bypass only — the VIP is DNATed nowhere by 139/140.
    const none = flows(nb({}, { 'kube-ovn.io/local-external-vip/10.180.204.252:80': 'node-n9' }), { profile: 'kube-ovn-1.15', chassis });
    expect(texts(none, 'ls_in_lb').filter((t) => /^1[34]\d /.test(t))).toEqual(['139 ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 => next;']);
  });

  it('pre_lb 105 skips and l2_lkup 55 delivery by IP (34dc3e3f, 85aa6263, 737d9f93, a297b840 patches)', () => {
    const fl = flows(nb(), { profile: 'kube-ovn-1.15', chassis });
    expect(texts(fl, 'ls_in_pre_lb').filter((t) => t.startsWith('105'))).toEqual([
      '105 ip4 && ip4.dst == 10.180.204.0/24 => next;',
      '105 ip4 && ip4.dst == 10.96.0.0/12 => next;',
      '105 ip4 && ip4.dst == 169.254.20.10 => next;',
      '105 ip6 && ip6.dst == fd00:10:96::/112 => next;',
      '105 ip6 && ip6.dst == fd00::/64 => next;',
    ]);
    // 1.14 has no skip_conntrack_dst_cidrs patch.
    expect(texts(flows(nb(), { profile: 'kube-ovn-1.14', chassis }), 'ls_in_pre_lb').filter((t) => t.startsWith('105')).length).toBe(3);
    expect(texts(fl, 'ls_in_l2_lkup').filter((t) => t.startsWith('55'))).toEqual([
      '55 reg0[2] != 0 && ip4.dst == 10.180.204.11 => eth.dst = 00:00:00:b4:cc:01; outport = "pod1.ns"; output;',
      '55 reg0[2] != 0 && ip4.dst == 10.180.204.12 => eth.dst = 00:00:00:b4:cc:02; outport = "pod2.ns"; output;',
      '55 reg0[2] != 0 && ip4.dst == 10.180.204.13 => eth.dst = 00:00:00:b4:cc:03; outport = "pod3.ns"; output;',
      '55 reg0[2] != 0 && ip4.dst == 100.64.0.2 => eth.dst = 00:00:00:aa:aa:01; outport = "node-n1"; output;',
      '55 reg0[2] != 0 && ip6.dst == fd00::13 => eth.dst = 00:00:00:b4:cc:03; outport = "pod3.ns"; output;',
    ]);
    // Without an LB VIP the 105 flows are not built (they live in the has_lb_vip branch).
    const noLb = flows(nb({ loadBalancers: [{ name: 'cluster-tcp-loadbalancer', vips: {} }] }), { profile: 'kube-ovn-1.15', chassis });
    expect(noLb.some((f) => f.stage === 'ls_in_pre_lb' && f.priority === 105)).toBe(false);
  });
});
