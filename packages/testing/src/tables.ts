/**
 * Arbitraries for forwarding state: OpenFlow flow tables in `ovs-ofctl` syntax (the generator vippath's own
 * differential test runs against ovs-vswitchd, so every table it makes is one OVS loads) and OVN load balancers
 * (`@vippath/ovn` `NbLoadBalancer` rows: VIPs, backends, prefer-local with `ip_port_mappings`, affinity).
 */
import fc from 'fast-check';
import type { NbLoadBalancer } from '@vippath/ovn';

/** What flow tables draw from. */
export interface FlowTableChoices {
  /** Port numbers (as OpenFlow names them); LOCAL is added. */
  ports?: number[];
  macs?: string[];
  ipv4?: string[];
  tpPorts?: number[];
  /** Flows in table 0 (1…n) and table 1 (0…n). */
  maxFlows?: [number, number];
}

const DEF = {
  ports: [1, 2, 3],
  macs: ['52:54:00:aa:00:64', '52:54:00:bb:00:01', '52:54:00:bb:00:03', 'ff:ff:ff:ff:ff:ff'],
  ipv4: ['10.180.204.100', '10.180.204.252', '10.180.204.11', '10.0.0.1'],
  tpPorts: [80, 40000, 53],
  maxFlows: [4, 2] as [number, number],
};

/** Mostly absent: a flow with every field set would almost never match a packet. */
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

/**
 * Flow tables as `ovs-ofctl add-flows` lines (tables 0 and 1, distinct priorities per table, matches whose
 * prerequisites hold, actions OpenFlow 1.0 + NXM accepts for the match). They shrink towards one flow with few
 * fields and one action.
 */
export function flowTableArb(choices: FlowTableChoices = {}): fc.Arbitrary<string[]> {
  const c = { ...DEF, ...choices };
  const ports = [...c.ports.map(String), 'LOCAL'];
  const matchArb = fc.record({
    inPort: sometimes(fc.constantFrom(...ports)),
    proto: sometimes(fc.constantFrom('ip', 'tcp', 'udp', 'icmp', 'arp', 'tcp6', 'ipv6')),
    dlDst: sometimes(fc.constantFrom(...c.macs, '01:00:00:00:00:00/01:00:00:00:00:00')),
    dlSrc: sometimes(fc.constantFrom(...c.macs.slice(0, 3))),
    nwDst: sometimes(fc.constantFrom(...c.ipv4, '10.180.204.0/24')),
    tpDst: sometimes(fc.constantFrom(...c.tpPorts.map(String), '0x0/0xff00')),
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
    // Only fields whose prerequisites hold: OVS would otherwise drop them.
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
    ...c.ports.map((p) => `output:${p}`), 'LOCAL', 'IN_PORT', 'FLOOD', 'ALL', 'NORMAL',
    'mod_dl_dst:00:00:00:01:00:01', 'mod_dl_src:52:54:00:cc:00:01', 'mod_nw_dst:10.180.204.12', 'mod_nw_src:10.180.204.99',
    'mod_tp_dst:8080', 'mod_tp_src:1234', 'mod_vlan_vid:341', 'mod_vlan_pcp:5', 'strip_vlan', 'mod_nw_tos:32',
    'load:0x1->NXM_NX_REG0[]', 'load:0x2->NXM_NX_REG0[]', 'resubmit(,1)', 'dec_ttl', 'move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]',
  );
  return fc.record({
    t0: fc.array(fc.tuple(matchArb, fc.array(actionArb, { minLength: 1, maxLength: 4 }), fc.boolean()), { minLength: 1, maxLength: c.maxFlows[0] }),
    t1: fc.array(fc.tuple(matchArb, fc.array(actionArb.filter((a) => a !== 'resubmit(,1)'), { minLength: 1, maxLength: 3 }), fc.boolean()), { maxLength: c.maxFlows[1] }),
  }).map(({ t0, t1 }) => {
    // Distinct priorities per table: OVS leaves ties between overlapping flows undefined. OpenFlow 1.0 + NXM
    // refuses IPv4 rewrites on flows that match another EtherType (OFPBAC_MATCH_INCONSISTENT): keep to what loads.
    const ipv4Only = new Set(['mod_nw_dst:10.180.204.12', 'mod_nw_src:10.180.204.99', 'mod_nw_tos:32', 'dec_ttl']);
    const fits = (proto: string | undefined, a: string): boolean => !ipv4Only.has(a) || proto === undefined || ['ip', 'tcp', 'udp', 'icmp'].includes(proto);
    const lines = (table: number, flows: Array<[{ text: string; proto: string | undefined }, string[], boolean]>): string[] =>
      flows.map(([match, actions, drop], i) => {
        const acts = actions.filter((a) => fits(match.proto, a));
        return `table=${table},priority=${100 - i * 10}${match.text ? `,${match.text}` : ''},actions=${(drop && i === flows.length - 1) || acts.length === 0 ? 'drop' : acts.join(',')}`;
      });
    return [...lines(0, t0), ...lines(1, t1)];
  });
}

/** What load balancers draw from. */
export interface LoadBalancerChoices {
  vips?: string[];
  /** Backends as `{ ip, lsp }` (the logical switch port, for prefer-local's ip_port_mappings). */
  backends?: Array<{ ip: string; lsp: string }>;
  ports?: number[];
}

/**
 * OVN load balancers: one to three VIPs (IPv4 `ip:port`), each with a non-empty subset of the backends, and
 * the Kube-OVN options — `prefer_local_backend` with `ip_port_mappings` for the backends, session affinity.
 */
export function loadBalancerArb(choices: LoadBalancerChoices = {}): fc.Arbitrary<NbLoadBalancer> {
  const vips = choices.vips ?? ['10.180.204.252', '10.180.204.250'];
  const backends = choices.backends ?? [{ ip: '10.180.204.2', lsp: 'web-0.default' }, { ip: '10.180.204.3', lsp: 'web-1.default' }, { ip: '10.180.204.4', lsp: 'web-2.default' }];
  const ports = choices.ports ?? [80, 443];
  const vipArb = fc.record({ vip: fc.constantFrom(...vips), port: fc.constantFrom(...ports), target: fc.constantFrom(...ports), members: fc.subarray(backends, { minLength: 1 }) });
  return fc.record({
    vips: fc.uniqueArray(vipArb, { minLength: 1, maxLength: 3, selector: (v) => `${v.vip}:${v.port}` }),
    preferLocal: fc.boolean(),
    affinity: fc.constantFrom(0, 0, 10800),
  }).map(({ vips: list, preferLocal, affinity }) => {
    const spec: NbLoadBalancer = {
      name: 'cluster-tcp-loadbalancer',
      protocol: 'tcp',
      vips: Object.fromEntries(list.map((v) => [`${v.vip}:${v.port}`, v.members.map((b) => `${b.ip}:${v.target}`).sort().join(',')])),
      options: { prefer_local_backend: String(preferLocal), ...(affinity ? { affinity_timeout: String(affinity) } : {}) },
      ipPortMappings: preferLocal ? Object.fromEntries(backends.map((b) => [b.ip, `${b.lsp}:0.0.0.0`])) : {},
    };
    if (affinity) spec.selectionFields = ['ip_src'];
    return spec;
  });
}
