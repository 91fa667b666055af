/**
 * fast-check generators of Northbound databases for the northd tests: the differential test against ovn-northd 23.03
 * (test/ovn-northd.test.ts) and the version property (test/ovn-northd-versions.test.ts) draw from the same space.
 * Only columns OVN 23.03's schema has (no ACL tiers).
 */
import fc from 'fast-check';
import type { NbAcl, NbLoadBalancer, NbLogicalSwitchPort, NorthboundDb } from '@vippath/ovn';

// ---- generators ---------------------------------------------------------------------------------------------
const macOf = (i: number, upper: boolean): string => {
  const m = `00:00:00:b4:cc:${(i + 1).toString(16).padStart(2, '0')}`;
  return upper ? m.toUpperCase() : m;
};
const ip4Of = (i: number): string => `10.180.204.${11 + i}`;
// Non-canonical IPv6 spellings northd must normalise (inet_ntop).
const ip6Of = (i: number, spelling: number): string => [`fd00::${(0x11 + i).toString(16)}`, `FD00:0:0::${(0x11 + i).toString(16).toUpperCase()}`, `fd00:0000::00${(0x11 + i).toString(16)}`][spelling]!;

const vifArb = (i: number): fc.Arbitrary<NbLogicalSwitchPort> =>
  fc.record({
    family: fc.constantFrom('4', '6', 'dual', 'mac-only', 'unknown', 'addr+unknown'),
    ps: fc.constantFrom('none', 'same', 'mac', 'none'),
    upper: fc.boolean(),
    spelling: fc.integer({ min: 0, max: 2 }),
    type: fc.constantFrom('', '', '', '', 'localport', 'router'),
    enabled: fc.constantFrom(undefined, undefined, undefined, true, false),
  }).map((c): NbLogicalSwitchPort => {
    const mac = macOf(i, c.upper);
    const ips = c.family === '4' ? [ip4Of(i)] : c.family === '6' ? [ip6Of(i, c.spelling)] : c.family === 'dual' || c.family === 'addr+unknown' ? [ip4Of(i), ip6Of(i, c.spelling)] : [];
    const entry = [mac, ...ips].join(' ');
    const addresses = c.family === 'unknown' ? ['unknown'] : c.family === 'addr+unknown' ? [entry, 'unknown'] : [entry];
    const p: NbLogicalSwitchPort = { name: `pod${i + 1}`, type: c.type, addresses };
    if (c.ps === 'same' && c.family !== 'unknown') p.portSecurity = [entry];
    if (c.ps === 'mac') p.portSecurity = [mac];
    if (c.enabled !== undefined) p.enabled = c.enabled;
    return p;
  });

const localnetArb: fc.Arbitrary<NbLogicalSwitchPort | undefined> = fc.option(
  fc.record({ tag: fc.option(fc.constantFrom(100, 341), { nil: undefined }), learn: fc.constantFrom(undefined, 'true', 'false') }).map((c) => {
    const p: NbLogicalSwitchPort = { name: 'ln', type: 'localnet', addresses: ['unknown'], options: { network_name: 'provider', ...(c.learn ? { localnet_learn_fdb: c.learn } : {}) } };
    if (c.tag !== undefined) p.tag = c.tag;
    return p;
  }),
  { nil: undefined, freq: 4 },
);

/** Up to two router ports towards logical routers (U2O-style), with the peer present or missing. */
const routersArb = fc.array(
  fc.record({
    addresses: fc.constantFrom(['router'], ['router'], [], ['00:00:00:01:00:09 10.180.204.9']),
    peer: fc.constantFrom('ok', 'ok', 'ok', 'missing'),
    networks: fc.constantFrom(['10.180.204.1/24'], ['10.180.204.1/24', 'fd00::1/64'], ['10.180.204.1/24', 'fd00::1/64'], ['FD00:0::1/64'], ['10.180.204.1/24', '100.64.0.1/16']),
    upper: fc.boolean(),
    enabled: fc.constantFrom(undefined, undefined, false),
    relay: fc.constantFrom(undefined, undefined, 'true'),
    // A distributed gateway port: this one, the router's other port (with or without reside-on-redirect-chassis).
    gateway: fc.constantFrom('none', 'none', 'this', 'other', 'other+reside'),
    nat: fc.subarray([
      { type: 'dnat_and_snat' as const, externalIp: '10.180.204.230', logicalIp: '10.16.0.5' },
      { type: 'snat' as const, externalIp: '10.180.204.231', logicalIp: '10.16.0.0/16' },
      { type: 'dnat' as const, externalIp: 'FD00::0230', logicalIp: 'fd00:10:16::5' },
      { type: 'dnat_and_snat' as const, externalIp: '10.180.204.250', logicalIp: '10.16.0.6' },
    ]),
  }),
  { maxLength: 2 },
).map((rs) => rs.map((r, i) => ({
  lsp: { name: `ls-lr${i}`, type: 'router', addresses: [...r.addresses], options: { 'router-port': r.peer === 'ok' ? `lr${i}-ls` : `gone${i}` } } as NbLogicalSwitchPort,
  router: {
    name: `lr${i}`, ...(r.relay ? { options: { mcast_relay: r.relay } } : {}), nat: r.nat,
    ports: [
      { name: `lr${i}-ls`, mac: r.upper ? `00:00:00:0A:0B:0${i}` : `00:00:00:0a:0b:0${i}`, networks: [...r.networks], ...(r.enabled === false ? { enabled: false } : {}), ...(r.gateway === 'this' ? { gatewayChassis: ['gw1', 'gw2'] } : {}), ...(r.gateway === 'other+reside' ? { options: { 'reside-on-redirect-chassis': 'true' } } : {}) },
      { name: `lr${i}-join`, mac: `00:00:00:0c:0d:0${i}`, networks: ['100.64.0.1/16'], ...(r.gateway.startsWith('other') ? { gatewayChassis: ['gw1'] } : {}) },
    ],
  },
})));

const lbArb = (n: number, podCount: number): fc.Arbitrary<NbLoadBalancer> =>
  fc.record({
    protocol: fc.constantFrom(undefined, 'tcp', 'udp', 'sctp'),
    vips: fc.array(fc.record({ v6: fc.boolean(), port: fc.constantFrom(0, 80, 443), nb: fc.integer({ min: 0, max: 3 }), bport: fc.constantFrom(80, 8080), vipN: fc.integer({ min: 0, max: 2 }) }), { minLength: 0, maxLength: 3 }),
    affinity: fc.constantFrom(undefined, undefined, '10800', '60'),
    selection: fc.constantFrom(undefined, undefined, ['ip_src'], ['ip_src', 'tp_dst'], ['ip_dst', 'tp_src']),
    hairpin: fc.constantFrom(undefined, '169.254.0.1'),
    skipSnat: fc.constantFrom(undefined, 'true'),
    reject: fc.constantFrom(undefined, undefined, 'true', 'false'),
    event: fc.constantFrom(undefined, undefined, 'true'),
    preferLocal: fc.constantFrom(undefined, 'true'),
    healthCheck: fc.constantFrom(false, false, true),
    // ip_port_mappings per backend index: none, a source IP, a bracketed/unbracketed IPv6 source, a bad one.
    mappings: fc.array(fc.constantFrom('none', 'src', 'src', 'bad', 'noport'), { minLength: 3, maxLength: 3 }),
  }).map((c): NbLoadBalancer => {
    const vips: Record<string, string> = {};
    for (const v of c.vips) {
      const vip = v.v6 ? `fd00::${0x250 + n * 4 + v.vipN}` : `10.180.204.${250 - n * 4 - v.vipN}`;
      const key = v.port ? (v.v6 ? `[${vip}]:${v.port}` : `${vip}:${v.port}`) : vip;
      const backends: string[] = [];
      for (let b = 0; b < Math.min(v.nb, Math.max(podCount, 1)); b++) {
        const ip = v.v6 ? `fd00::${(0x11 + b).toString(16)}` : ip4Of(b);
        backends.push(v.port ? (v.v6 ? `[${ip}]:${v.bport}` : `${ip}:${v.bport}`) : ip);
      }
      vips[key] = backends.join(',');
    }
    const options: Record<string, string> = {};
    if (c.affinity) options.affinity_timeout = c.affinity;
    if (c.hairpin) options.hairpin_snat_ip = c.hairpin;
    if (c.skipSnat) options.skip_snat = c.skipSnat;
    if (c.reject) options.reject = c.reject;
    if (c.event) options.event = c.event;
    if (c.preferLocal) options.prefer_local_backend = c.preferLocal;
    const lb: NbLoadBalancer = { name: `lb${n}`, vips, options };
    const ipPortMappings: Record<string, string> = {};
    c.mappings.forEach((m, b) => {
      if (m === 'none' || b >= podCount) return;
      const pod = m === 'noport' ? `nope${b}` : `pod${b + 1}`;
      ipPortMappings[ip4Of(b)] = m === 'bad' ? `${pod}:x.y` : `${pod}:10.180.204.2`;
      ipPortMappings[`[fd00::${(0x11 + b).toString(16)}]`] = m === 'bad' ? `${pod}` : b % 2 ? `${pod}:[fd00::2]` : `${pod}:FD00:0::2`;
    });
    if (Object.keys(ipPortMappings).length) lb.ipPortMappings = ipPortMappings;
    const firstVip = Object.keys(vips)[0];
    if (c.healthCheck && firstVip !== undefined) lb.healthChecks = [{ vip: firstVip, options: { interval: '5' } }];
    if (c.protocol) lb.protocol = c.protocol as 'tcp' | 'udp' | 'sctp';
    if (c.selection) lb.selectionFields = [...c.selection];
    return lb;
  });

// ACLs as Kube-OVN writes them for NetworkPolicies (pkg/ovs/ovn-nb-acl.go): port-group matches, address sets,
// allow-related at 2001, drop at 2000, plus the node/subnet-level ACLs at 1000–3000 and a few plain ones.
export const aclArb = (pgs: string[]): fc.Arbitrary<NbAcl> =>
  fc.record({
    direction: fc.constantFrom('from-lport', 'to-lport'),
    priority: fc.constantFrom(1000, 2000, 2001, 2003, 3000, 0, 32767),
    match: fc.constantFrom(
      ...pgs.flatMap((pg) => [`outport == @${pg} && ip`, `inport == @${pg} && ip`, `outport == @${pg} && ip && ip4.src == $${pg}.allow.IPv4 && ip4.src != $${pg}.except.IPv4`, `inport == @${pg} && ip && ip6.dst == $${pg}.allow.IPv6`]),
      'ip4.src == 10.180.204.0/24', 'ip && tcp.dst == 80', 'arp', 'ip4.dst == {10.180.204.11, 10.180.204.12} && icmp4',
    ),
    action: fc.constantFrom('allow', 'allow-related', 'allow-related', 'allow-stateless', 'drop', 'drop', 'reject'),
    log: fc.boolean(),
    name: fc.option(fc.constantFrom('np/default/deny', 'node-ls', 'say "hi" \\ ok'), { nil: undefined }),
    severity: fc.option(fc.constantFrom('warning', 'info'), { nil: undefined }),
    meter: fc.option(fc.constant('acl-meter'), { nil: undefined }),
    label: fc.constantFrom(undefined, undefined, 0, 7),
    afterLb: fc.constantFrom(undefined, undefined, 'true'),
    logRelated: fc.constantFrom(undefined, 'true'),
  }).map((c): NbAcl => {
    const a: NbAcl = { direction: c.direction as NbAcl['direction'], priority: c.priority, match: c.match, action: c.action as NbAcl['action'], log: c.log };
    if (c.name !== undefined) a.name = c.name;
    if (c.severity !== undefined) a.severity = c.severity as NbAcl['severity'];
    if (c.meter !== undefined) a.meter = c.meter;
    if (c.label !== undefined) a.label = c.label;
    const options: Record<string, string> = {};
    if (c.afterLb) options['apply-after-lb'] = c.afterLb;
    if (c.logRelated) options['log-related'] = c.logRelated;
    if (Object.keys(options).length) a.options = options;
    return a;
  });

export const nbArb: fc.Arbitrary<NorthboundDb> = fc.integer({ min: 0, max: 4 }).chain((podCount) =>
  fc.record({
    pods: fc.tuple(...Array.from({ length: podCount }, (_, i) => vifArb(i))),
    ln: localnetArb,
    lbs: fc.integer({ min: 0, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => lbArb(i, podCount)))),
    attach: fc.array(fc.constantFrom('direct', 'direct', 'group', 'both', 'none'), { minLength: 3, maxLength: 3 }),
    qos: fc.array(fc.record({
      direction: fc.constantFrom('from-lport', 'to-lport'),
      priority: fc.constantFrom(0, 100, 2000),
      match: fc.constantFrom('ip4.src == 10.180.204.11', 'inport == "pod1"', 'ip6'),
      dscp: fc.option(fc.constantFrom(0, 46), { nil: undefined }),
      rate: fc.option(fc.constantFrom(1000, 5000), { nil: undefined }),
      burst: fc.option(fc.constantFrom(100), { nil: undefined }),
    }), { maxLength: 2 }),
    vport: fc.option(fc.record({
      ip: fc.constantFrom('10.180.204.200', 'fd00::200', 'FD00:0::0200', '10.180.204.256'),
      parents: fc.constantFrom('pod1,pod2', 'pod1,nope', ',pod2', 'pod3'),
      addresses: fc.constantFrom([], ['00:00:00:00:02:00 10.180.204.200']),
    }), { nil: undefined, freq: 4 }),
    lsAcls: fc.array(aclArb(['pg.np1']), { maxLength: 3 }),
    pgs: fc.array(fc.record({ members: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), acls: fc.array(aclArb(['pg.np1', 'pg.np2']), { maxLength: 3 }) }), { maxLength: 2 }),
    nbOpts: fc.record({
      use_ct_inv_match: fc.constantFrom(undefined, 'false', 'true'),
      controller_event: fc.constantFrom(undefined, undefined, undefined, 'true'),
      default_acl_drop: fc.constantFrom(undefined, undefined, 'true'),
      svc_monitor_mac: fc.constantFrom(undefined, '0a:58:0a:10:00:01'),
      ignore_lsp_down: fc.constantFrom(undefined, undefined, 'false'),
    }),
    vlanPassthru: fc.constantFrom(undefined, undefined, undefined, 'true'),
    mcast: fc.constantFrom(undefined, undefined, 'snoop', 'snoop+unregistered'),
    mcastFlood: fc.array(fc.constantFrom(undefined, undefined, 'mcast_flood', 'mcast_flood_reports'), { minLength: 4, maxLength: 4 }),
    routers: routersArb,
    routerLbs: fc.constantFrom('none', 'none', 'direct', 'group'),
    // A second switch: its own pods (port-group members too), a subset of the LBs, its own localnet.
    second: fc.option(fc.record({ pods: fc.integer({ min: 1, max: 2 }), lbs: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), inPg: fc.boolean(), ln: fc.boolean() }), { nil: undefined, freq: 3 }),
  }).map((c): NorthboundDb => {
    const vports: NbLogicalSwitchPort[] = c.vport ? [{ name: 'vip1', type: 'virtual', addresses: [...c.vport.addresses], options: { 'virtual-ip': c.vport.ip, 'virtual-parents': c.vport.parents } }] : [];
    c.pods.forEach((p, i) => {
      const opt = c.mcastFlood[i];
      if (opt) p.options = { ...p.options, [opt]: 'true' };
    });
    const ports = [...(c.ln ? [c.ln] : []), ...c.pods, ...c.routers.map((r) => r.lsp), ...vports];
    const otherConfig: Record<string, string> = {};
    if (c.vlanPassthru) otherConfig['vlan-passthru'] = c.vlanPassthru;
    if (c.mcast) otherConfig.mcast_snoop = 'true';
    if (c.mcast === 'snoop+unregistered') otherConfig.mcast_flood_unregistered = 'true';
    const options: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.nbOpts)) if (v !== undefined) options[k] = v;
    const loadBalancers = c.lbs as NbLoadBalancer[];
    const podNames = c.pods.map((p) => p.name);
    const second = c.second
      ? {
        name: 'ls2',
        ports: [
          ...(c.second.ln ? [{ name: 'ln2', type: 'localnet', addresses: ['unknown'], options: { network_name: 'provider2' } }] : []),
          ...Array.from({ length: c.second.pods }, (_, i): NbLogicalSwitchPort => ({ name: `b-pod${i + 1}`, addresses: [`00:00:00:b5:00:0${i + 1} 10.181.0.${i + 11}`], portSecurity: [`00:00:00:b5:00:0${i + 1} 10.181.0.${i + 11}`] })),
        ],
        loadBalancers: loadBalancers.filter((_, i) => c.second!.lbs[i]).map((l) => l.name),
      }
      : undefined;
    const portGroups = c.pgs.map((pg, i) => ({
      name: `pg.np${i + 1}`,
      ports: [...new Set(pg.members.filter((m) => m < podNames.length).map((m) => podNames[m]!)), ...(second && c.second!.inPg && i === 0 ? ['b-pod1'] : [])],
      acls: pg.acls,
    }));
    return {
      switches: [{
        name: 'ls', ports, acls: c.lsAcls,
        loadBalancers: loadBalancers.filter((_, i) => c.attach[i] === 'direct' || c.attach[i] === 'both').map((l) => l.name),
        loadBalancerGroups: ['lbg'],
        qosRules: c.qos.map((q) => ({
          direction: q.direction as 'from-lport' | 'to-lport', priority: q.priority, match: q.match,
          ...(q.dscp !== undefined ? { action: { dscp: q.dscp } } : {}),
          ...(q.rate !== undefined || q.burst !== undefined ? { bandwidth: { ...(q.rate !== undefined ? { rate: q.rate } : {}), ...(q.burst !== undefined ? { burst: q.burst } : {}) } } : {}),
        })),
        ...(Object.keys(otherConfig).length ? { otherConfig } : {}),
      }, ...(second ? [second] : [])],
      routers: c.routers.map((r) => ({
        ...r.router,
        ...(c.routerLbs === 'direct' ? { loadBalancers: loadBalancers.map((l) => l.name) } : {}),
        ...(c.routerLbs === 'group' ? { loadBalancerGroups: ['lbg'] } : {}),
      })),
      loadBalancerGroups: [{ name: 'lbg', loadBalancers: loadBalancers.filter((_, i) => c.attach[i] === 'group' || c.attach[i] === 'both').map((l) => l.name) }],
      loadBalancers,
      portGroups,
      addressSets: [{ name: 'pg.np1.allow.IPv4', addresses: ['10.180.204.100'] }],
      options,
    };
  }),
);


/** A Northbound plus where ovn-controller bound each port (Port_Binding.chassis: LSP → chassis name). */
export interface BoundNb { nb: NorthboundDb; chassis: Record<string, string> }

/** The chassis names the real runs create in the SB (`ovn-sbctl chassis-add`). */
export const CHASSIS = ['node1', 'node2', 'node3'] as const;

/**
 * nbArb plus what Kube-OVN's northd patches read (kubeovn/kube-ovn release-1.14 / release-1.15
 * dist/images/patches/): NB_Global `ls_dnat_mod_dl_dst`, `ls_ct_skip_dst_lport_ips`, `node_local_dns_ip`,
 * `skip_conntrack_dst_cidrs` (1.15), `bcast_arp_req_flood`; the localnet port's `external_ids:ipv4_network` /
 * `ipv6_network`; load balancers with `prefer_local_backend` (more often than nbArb draws it) and 1.15's VIP-node
 * marker `external_ids:kube-ovn.io/local-external-vip/<VIP>:<PORT>` naming a `node-<chassis>` port on a join switch;
 * and the ports' chassis bindings (what the prefer-local patches group backends by).
 */
export const kubeOvnNbArb: fc.Arbitrary<BoundNb> = fc.tuple(
  nbArb,
  fc.record({
    dnatModDlDst: fc.constantFrom(undefined, 'true', 'true', 'false'),
    ctSkip: fc.constantFrom(undefined, 'true', 'false'),
    dns: fc.constantFrom(undefined, undefined, '169.254.20.10', '169.254.20.10,fd00::a', '10.96.0.10,169.254.20.10,', 'fd00:0::A'),
    skipCidrs: fc.constantFrom(undefined, undefined, '10.96.0.0/12', ' 10.0.0.0/8 ,FD00:10:96::/112', '10.96.0.0/12,bad,fd00::/64'),
    bcastArp: fc.constantFrom(undefined, undefined, 'false', 'true'),
    lnNetwork: fc.constantFrom('none', 'v4', 'v4', 'dual', 'v6'),
    preferLocal: fc.array(fc.constantFrom(undefined, 'true', 'true', 'false'), { minLength: 3, maxLength: 3 }),
    // Per pod port (up to 4) and second-switch pod: unbound, or bound to a chassis.
    bind: fc.array(fc.constantFrom(undefined, 'node1', 'node1', 'node2', 'node3'), { minLength: 6, maxLength: 6 }),
    join: fc.constantFrom('none', 'bound', 'bound', 'unbound'),
    // Per LB: the VIP-node marker on which of its VIP keys, naming which node port.
    marker: fc.array(fc.record({ which: fc.constantFrom('none', 'first', 'all'), node: fc.constantFrom('node-node1', 'node-node2', 'node-node3', 'node-nope') }), { minLength: 3, maxLength: 3 }),
  }),
).map(([nb, x]): BoundNb => {
  const options = { ...nb.options };
  const setOpt = (k: string, v: string | undefined): void => { if (v !== undefined) options[k] = v; };
  setOpt('ls_dnat_mod_dl_dst', x.dnatModDlDst);
  setOpt('ls_ct_skip_dst_lport_ips', x.ctSkip);
  setOpt('node_local_dns_ip', x.dns);
  setOpt('skip_conntrack_dst_cidrs', x.skipCidrs);
  setOpt('bcast_arp_req_flood', x.bcastArp);
  nb.options = options;
  const ls = nb.switches[0]!;
  const ln = ls.ports.find((p) => p.type === 'localnet');
  if (ln && x.lnNetwork !== 'none') {
    ln.externalIds = {
      ...(x.lnNetwork !== 'v6' ? { ipv4_network: '10.180.204.0/24' } : {}),
      ...(x.lnNetwork !== 'v4' ? { ipv6_network: 'fd00::/64' } : {}),
    };
  }
  (nb.loadBalancers ?? []).forEach((lb, i) => {
    const pl = x.preferLocal[i];
    const opts = { ...lb.options };
    if (pl === undefined) delete opts.prefer_local_backend;
    else opts.prefer_local_backend = pl;
    lb.options = opts;
    const m = x.marker[i]!;
    const keys = Object.keys(lb.vips).filter((k) => /\]:\d+$|^[\d.]+:\d+$/.test(k));
    const marked = m.which === 'none' ? [] : m.which === 'first' ? keys.slice(0, 1) : keys;
    if (marked.length) lb.externalIds = Object.fromEntries(marked.map((k) => [`kube-ovn.io/local-external-vip/${k}`, m.node]));
  });
  const chassis: Record<string, string> = {};
  const pods = ls.ports.filter((p) => /^pod\d$/.test(p.name));
  pods.forEach((p, i) => { if (x.bind[i]) chassis[p.name] = x.bind[i]!; });
  const ls2 = nb.switches.find((s) => s.name === 'ls2');
  if (ls2 && x.bind[5]) chassis['b-pod1'] = x.bind[5];
  if (x.join !== 'none') {
    nb.switches.push({ name: 'join', ports: CHASSIS.map((c, i) => ({ name: `node-${c}`, addresses: [`00:00:00:64:00:0${i + 2} 100.64.0.${i + 2}`] })) });
    if (x.join === 'bound') for (const c of CHASSIS) chassis[`node-${c}`] = c;
  }
  return { nb, chassis };
});
