/**
 * Lint for MetalLB on a Kube-OVN underlay: every prerequisite and note of the seed document and the edge cases
 * of shared/research/kube-ovn.md §7, as diagnostics with a code, the object and field, and the consequence in one
 * sentence.
 */
import { advertisementsForService, compileConfig, parseIp, cidrContains, type Cidr, type Ip, type IPAddressPoolObject, type L2AdvertisementObject, type MetalLB, type ServiceObject } from '@vippath/metallb';
import { isLoadBalancerService, type IgnoredObject, type K8sObject } from './manifests.js';
import type { PodState } from './derive.js';
import type { ClusterSpec } from './scenario.js';
import { DEFAULT_SCENARIO_FILE } from './default-scenario.js';

/** One finding. */
export interface Diagnostic {
  code: string;
  severity: 'error' | 'warning' | 'info';
  /** `Kind/name`. */
  object: string;
  field: string;
  message: string;
  /** What happens to traffic, in one sentence. */
  consequence: string;
  source?: { file: string; line: number };
}

/** Kube-OVN controller flags that matter here. */
export interface ControllerFlags {
  enableOvnLbPreferLocal?: boolean;
  lsCtSkipDstLportIps?: boolean;
}

const ref = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;

function expandExcludes(list: unknown): Array<{ lo: bigint; hi: bigint }> {
  const out: Array<{ lo: bigint; hi: bigint }> = [];
  for (const e of Array.isArray(list) ? list : []) {
    const [a, b] = String(e).split('..');
    try {
      const lo = parseIp(a!.trim()).value;
      out.push({ lo, hi: b ? parseIp(b.trim()).value : lo });
    } catch {
      // reported by the subnet check
    }
  }
  return out;
}

/** Runs every rule over the loaded objects. */
export function lint(objects: K8sObject[], flags: ControllerFlags = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const add = (o: K8sObject | undefined, d: Omit<Diagnostic, 'object' | 'source'> & { object?: string }): void => {
    out.push({ ...d, object: d.object ?? (o ? ref(o) : '-'), ...(o ? { source: { file: o.source.file, line: o.source.line } } : {}) });
  };
  if (flags.enableOvnLbPreferLocal !== true) {
    add(undefined, { code: 'PREFER_LOCAL_OFF', severity: 'error', object: 'kube-ovn-controller', field: '--enable-ovn-lb-prefer-local', message: 'the controller flag --enable-ovn-lb-prefer-local is not true', consequence: 'VIP traffic will not be DNATed: Kube-OVN writes no OVN load-balancer VIP for the MetalLB address.' });
  }
  if (flags.lsCtSkipDstLportIps !== false) {
    add(undefined, { code: 'CT_SKIP_DST_LPORT_IPS', severity: 'error', object: 'kube-ovn-controller', field: '--ls-ct-skip-dst-lport-ips', message: '--ls-ct-skip-dst-lport-ips is not false (Kube-OVN defaults it to true)', consequence: 'VIP traffic will not be DNATed: the VIP is inside the subnet, so a priority-105 flow skips conntrack and the packet is dropped at L2 lookup.' });
  }
  const subnets = objects.filter((o) => o.kind === 'Subnet');
  const pools = objects.filter((o) => o.kind === 'IPAddressPool');
  const ads = objects.filter((o) => o.kind === 'L2Advertisement');
  for (const s of subnets) {
    const spec = s.spec ?? {};
    if (spec.enableExternalLBAddress !== true) {
      add(s, { code: 'EXTERNAL_LB_ADDRESS_OFF', severity: 'error', field: 'spec.enableExternalLBAddress', message: 'enableExternalLBAddress is not true', consequence: 'VIP traffic reaching br-provider is not steered into OVN: no priority-10000 flow, so NORMAL hands it to the host stack.' });
    }
    if (spec.vlan && objects.some((o) => o.kind === 'Vlan') && !objects.some((o) => o.kind === 'Vlan' && o.metadata.name === spec.vlan)) {
      add(s, { code: 'VLAN_NOT_FOUND', severity: 'error', field: 'spec.vlan', message: `the subnet names Vlan ${String(spec.vlan)}, which is not among the Vlans given (${objects.filter((o) => o.kind === 'Vlan').map((o) => o.metadata.name).join(', ')})`, consequence: 'Kube-OVN cannot wire the subnet to its provider network: no localnet port, so VIP traffic never reaches OVN.' });
    }
    if (!spec.vlan) {
      add(s, { code: 'SUBNET_WITHOUT_VLAN', severity: 'error', field: 'spec.vlan', message: 'the subnet names no Vlan (underlay subnets need one; Vlan id 0 when the VLAN sub-interface tags)', consequence: 'Kube-OVN refuses the br-provider rule ("vlan not specified in subnet"), so VIP traffic goes to the host stack instead of OVN.' });
    }
  }
  // Every block of the subnet: a dual-stack one lists an IPv4 and an IPv6 block, in either order.
  let cidrs: Cidr[] | undefined;
  const subnet = subnets[0];
  const cidrText = subnet?.spec?.cidrBlock;
  if (typeof cidrText === 'string') {
    try {
      cidrs = cidrText.split(',').map((b) => {
        const [ip, len] = b.trim().split('/');
        const p = parseIp(ip!);
        const bits = Number(len);
        const host = BigInt((p.family === 4 ? 32 : 128) - bits);
        return { family: p.family, base: (p.value >> host) << host, bits };
      });
    } catch {
      add(subnet, { code: 'BAD_CIDR', severity: 'error', field: 'spec.cidrBlock', message: `"${cidrText}" is not a CIDR`, consequence: 'The subnet cannot be created.' });
    }
  }
  if (subnet && typeof cidrText === 'string') {
    // Kube-OVN's ValidateSubnet (pkg/util/validator.go) refuses an excludeIps entry that is not an address or
    // whose range runs backwards, and accepts one outside every block (it then excludes nothing). vippath's
    // IPAM hung on an IPv6 entry in an IPv4 subnet before; both cases are findings now.
    const blocks: Cidr[] = cidrs ?? [];
    const list: unknown[] = Array.isArray(subnet.spec?.excludeIps) ? (subnet.spec.excludeIps as unknown[]) : [];
    list.forEach((e, i) => {
      const [a, b] = String(e).split('..');
      let lo: Ip | undefined;
      let hi: Ip | undefined;
      try {
        lo = parseIp(a!.trim());
        hi = b ? parseIp(b.trim()) : lo;
      } catch {
        add(subnet, { code: 'BAD_EXCLUDE_IP', severity: 'error', field: `spec.excludeIps[${i}]`, message: `${JSON.stringify(e)} is not an address or an address range (a..b)`, consequence: 'Kube-OVN refuses the subnet ("is not a valid address").' });
        return;
      }
      if (lo.family !== hi.family || lo.value > hi.value) {
        add(subnet, { code: 'BAD_EXCLUDE_IP', severity: 'error', field: `spec.excludeIps[${i}]`, message: `${String(e)} is not a range from a lower to a higher address of one family`, consequence: 'Kube-OVN refuses the subnet ("is not a valid ip range").' });
        return;
      }
      if (blocks.length && !blocks.some((c) => cidrContains(c, lo!) && cidrContains(c, hi!))) {
        add(subnet, { code: 'EXCLUDE_IP_OUTSIDE_SUBNET', severity: 'warning', field: `spec.excludeIps[${i}]`, message: `${String(e)} is not in the subnet's ${blocks.length > 1 ? 'blocks' : 'block'} ${cidrText}${lo.family === 6 && blocks.every((c) => c.family === 4) ? ' (an IPv6 address in an IPv4 subnet)' : ''}`, consequence: 'Kube-OVN accepts it and excludes nothing with it: if it was meant to keep a MetalLB address from pods, it does not.' });
      }
    });
  }
  if (pools.length) {
    let config;
    try {
      config = compileConfig(pools as unknown as IPAddressPoolObject[], ads as unknown as L2AdvertisementObject[], []);
    } catch (e) {
      add(undefined, { code: 'BAD_METALLB_CONFIG', severity: 'error', object: (e as { object?: string }).object ?? 'metallb', field: (e as { field?: string }).field ?? '-', message: (e as Error).message, consequence: 'MetalLB rejects the configuration: no address is assigned or announced.' });
    }
    const excludes = subnet ? expandExcludes(subnet.spec?.excludeIps) : [];
    for (const pool of config?.pools ?? []) {
      const obj = pools.find((p) => p.metadata.name === pool.name)!;
      const missing: string[] = [];
      let outside = false;
      for (const c of pool.cidrs) {
        const size = 1n << BigInt((c.family === 4 ? 32 : 128) - c.bits);
        for (let v = c.base; v < c.base + size && v < c.base + 4096n; v++) {
          const ip = { family: c.family, value: v };
          if (cidrs && !cidrs.some((c) => cidrContains(c, ip))) outside = true;
          if (!excludes.some((x) => v >= x.lo && v <= x.hi)) missing.push(ip.family === 4 ? `${Number(v >> 24n)}.${Number((v >> 16n) & 255n)}.${Number((v >> 8n) & 255n)}.${Number(v & 255n)}` : v.toString(16));
        }
      }
      if (cidrs && outside) {
        add(obj, { code: 'POOL_OUTSIDE_SUBNET', severity: 'error', field: 'spec.addresses', message: `the pool is not a subset of the underlay subnet ${String(cidrText)}`, consequence: 'Addresses outside the subnet are not on the VLAN segment: nothing steers their traffic into OVN.' });
      }
      if (subnet && missing.length) {
        add(obj, { code: 'POOL_NOT_EXCLUDED', severity: 'warning', field: 'spec.addresses', message: `${missing.length} pool address(es) are not in ${ref(subnet)} spec.excludeIps: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', …' : ''}`, consequence: 'Kube-OVN IPAM can give a pod the same address MetalLB gives a Service: ARP for it is answered twice and traffic goes to the wrong place.' });
      }
      if (pool.l2Advertisements.length === 0) {
        add(obj, { code: 'POOL_NOT_ADVERTISED', severity: 'error', field: 'metadata.name', message: 'no L2Advertisement selects this pool', consequence: 'MetalLB assigns its addresses but no node answers ARP for them: the VIP is dark.' });
      }
    }
  }
  // The same object twice (kind, namespace, name): the API server keeps one; which one here is an accident.
  const seen = new Map<string, K8sObject>();
  for (const o of objects) {
    if (o.kind === 'Cluster') continue;
    const k = `${o.kind}\u0000${o.metadata.namespace ?? ''}\u0000${o.metadata.name}`;
    const first = seen.get(k);
    if (first) add(o, { code: 'DUPLICATE_OBJECT', severity: 'error', field: 'metadata.name', message: `${ref(o)}${o.metadata.namespace ? ` in namespace ${o.metadata.namespace}` : ''} is given twice (first at ${first.source.file}:${first.source.line})`, consequence: 'Kubernetes keeps only one of them (the last applied); vippath\'s result depends on which one you meant.' });
    else seen.set(k, o);
  }
  for (const svc of objects.filter(isLoadBalancerService)) {
    const spec = svc.spec as { externalTrafficPolicy?: string; ports?: Array<{ protocol?: string; port?: number }> };
    if (spec.externalTrafficPolicy !== 'Local') {
      add(svc, { code: 'ETP_NOT_LOCAL', severity: 'warning', field: 'spec.externalTrafficPolicy', message: 'externalTrafficPolicy is not Local', consequence: 'The MetalLB node may have no local backend; with Kube-OVN 1.14 OVN then picks a remote one and the reply leaves un-NATed from another node, breaking the connection.' });
    }
    (spec.ports ?? []).forEach((p, i) => {
      if ((p.protocol ?? 'TCP').toUpperCase() === 'SCTP') {
        add(svc, { code: 'SCTP_PORT', severity: 'error', field: `spec.ports[${i}].protocol`, message: 'SCTP ports are not supported by Kube-OVN\'s external LB rules', consequence: 'Kube-OVN refuses the br-provider rule for this port ("unsupported protocol"): its traffic goes to the host stack.' });
      }
    });
  }
  return out;
}

/**
 * Findings for objects the loader left out: a kind that is most likely a misspelling, one error each (with the
 * kind it meant); other kinds, one info per kind (a `kubectl get all` has many), naming a few of them.
 */
export function ignoredFindings(ignored: readonly IgnoredObject[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const byKind = new Map<string, IgnoredObject[]>();
  for (const i of ignored) {
    if (i.didYouMean) {
      out.push({ code: 'UNKNOWN_KIND_TYPO', severity: 'error', object: `${i.kind}/${i.name}`, field: 'kind', message: `kind ${i.kind} is not a kind vippath reads: did you mean ${i.didYouMean}?`, consequence: `The object is ignored: whatever the ${i.didYouMean} would do for VIP traffic does not happen (the API server would refuse the kind).`, ...(i.file ? { source: { file: i.file, line: i.line } } : {}) });
      continue;
    }
    let list = byKind.get(i.kind);
    if (!list) byKind.set(i.kind, (list = []));
    list.push(i);
  }
  for (const [kind, list] of byKind) {
    const first = list[0]!;
    out.push({ code: 'IGNORED_KIND', severity: 'info', object: list.length === 1 ? `${kind}/${first.name}` : `${kind} ×${list.length}`, field: 'kind', message: `kind ${kind} is not on the VIP path: ${list.length} object(s) ignored (${list.slice(0, 3).map((x) => x.name).join(', ')}${list.length > 3 ? ', …' : ''})`, consequence: 'None for VIP traffic.', ...(first.file ? { source: { file: first.file, line: first.line } } : {}) });
  }
  return out;
}

/**
 * What breaks announcement, judged on the MetalLB state the simulation runs (so it agrees with what curl and
 * trace then show): L2Advertisement `interfaces` that leave out every interface with a responder (on these nodes
 * the VLAN interface and the NIC are OVS ports, `master ovs-system`, which MetalLB skips; its responder is on
 * br-provider, the bridge's LOCAL port — research/metallb.md §3), `nodeSelectors` that match no node or no
 * eligible one, ETP=Local Services whose endpoints are on no node an advertisement selects, and a cluster with no
 * Nodes given.
 */
export function lintAnnouncement(objects: K8sObject[], cluster: ClusterSpec, pods: readonly PodState[], metallb: MetalLB, serves: (svc: K8sObject, p: PodState) => boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  const add = (o: K8sObject | undefined, d: Omit<Diagnostic, 'object' | 'source'> & { object?: string }): void => {
    out.push({ ...d, object: d.object ?? (o ? ref(o) : '-'), ...(o ? { source: { file: o.source.file, line: o.source.line } } : {}) });
  };
  const user = objects.some((o) => o.source.file !== DEFAULT_SCENARIO_FILE);
  if (user && !objects.some((o) => o.kind === 'Node') && !objects.some((o) => o.kind === 'Cluster' && (o.spec as { nodes?: unknown } | undefined)?.nodes !== undefined)) {
    add(undefined, { code: 'NO_NODES', severity: 'warning', object: 'Node', field: '-', message: `no Node objects (and no Cluster spec.nodes): vippath simulates ${cluster.nodes.map((n) => n.name).join(', ')}`, consequence: 'Placement, elections and flows are on invented nodes: give the Nodes (kubectl get nodes -o yaml, or a snapshot) to simulate yours.' });
  }
  const adObjects = new Map(objects.filter((o) => o.kind === 'L2Advertisement').map((o) => [o.metadata.name, o]));
  const reported = new Set<string>();
  for (const ad of metallb.config.advertisements) {
    const o = adObjects.get(ad.name);
    const selectors = (o?.spec as { nodeSelectors?: unknown[] } | undefined)?.nodeSelectors;
    if (o && Array.isArray(selectors) && selectors.length > 0 && ad.nodes.size === 0) {
      reported.add(ad.name);
      add(o, { code: 'NODE_SELECTORS_MATCH_NO_NODE', severity: 'error', field: 'spec.nodeSelectors', message: `the nodeSelectors match none of the nodes (${cluster.nodes.slice(0, 5).map((n) => n.name).join(', ')}${cluster.nodes.length > 5 ? ', …' : ''})`, consequence: 'No node announces the addresses of its pools through this advertisement: without another one, ARP for them goes unanswered and the VIPs are dark.' });
    }
  }
  const byName = new Map(cluster.nodes.map((n) => [n.name, n]));
  for (const svc of objects.filter(isLoadBalancerService)) {
    const key = `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`;
    const etpLocal = (svc.spec as { externalTrafficPolicy?: string }).externalTrafficPolicy === 'Local';
    // The endpoints MetalLB counts for the Service (`serves`: derive's backs and the profile's "can serve").
    const ready = pods.filter((p) => serves(svc, p));
    for (const ip of metallb.ingressOf(key)) {
      const x = parseIp(ip);
      const pool = metallb.config.pools.find((p) => p.cidrs.some((c) => cidrContains(c, x)));
      if (!pool || ready.length === 0) continue;
      const ads = advertisementsForService(pool, svc as unknown as ServiceObject);
      if (ads.length === 0) continue; // POOL_NOT_ADVERTISED says it
      const selected = new Set(ads.flatMap((a) => [...a.nodes]));
      if (selected.size === 0) continue; // NODE_SELECTORS_MATCH_NO_NODE says it
      const withEndpoint = new Set(ready.map((p) => p.node));
      if (etpLocal && ![...withEndpoint].some((n) => selected.has(n))) {
        const selecting = ads.map((a) => adObjects.get(a.name)).find((o) => o && (o.spec as { nodeSelectors?: unknown[] }).nodeSelectors?.length);
        add(svc, { code: 'ETP_LOCAL_NO_ELIGIBLE_NODE', severity: 'error', field: 'spec.externalTrafficPolicy', message: `externalTrafficPolicy is Local and the endpoints are on ${[...withEndpoint].join(', ')}, none of which an L2Advertisement of pool ${pool.name} selects (${[...selected].slice(0, 5).join(', ')}${selecting ? `; see ${ref(selecting)} spec.nodeSelectors` : ''})`, consequence: `No node may announce ${ip} (MetalLB elects only nodes with a local endpoint): ARP for it goes unanswered and the VIP is dark.` });
        continue;
      }
      const owners = metallb.owners(ip);
      if (owners.length > 0 && metallb.announcers(ip).length === 0) {
        const owner = owners[0]!;
        for (const a of ads.filter((a) => a.nodes.has(owner) && a.interfaces.length > 0)) {
          if (reported.has(`if:${a.name}`)) continue;
          reported.add(`if:${a.name}`);
          const nic = byName.get(owner);
          const answering = metallb.speakers.get(owner)?.arpInterfaces ?? [];
          add(adObjects.get(a.name), { code: 'L2_INTERFACES_WITHOUT_RESPONDER', severity: 'error', field: 'spec.interfaces', message: `interfaces [${a.interfaces.join(', ')}] leave out ${answering.join(', ') || 'every interface with a responder'}, the only interface MetalLB answers ARP on here: ${nic ? `${nic.nic}.${cluster.vlan} and ${nic.nic} are OVS ports (master ovs-system), which MetalLB skips; its responder is on br-provider (the bridge's LOCAL port)` : 'the listed interfaces have no responder'}`, consequence: `${owner} is elected and reported as announcing ${ip} (ServiceL2Status), but answers no ARP for it: every ARP for the VIP goes unanswered and the VIP is dark. List br-provider, or no interfaces.` });
        }
      }
    }
  }
  // MetalLB's own record of the announcer (ServiceL2Status, v0.14+ and collected snapshots): the simulation follows
  // it while the recorded node is a candidate; where MetalLB's hash over the same objects elects another node, or
  // the recorded node cannot announce, the cluster is not in the state vippath sees.
  for (const st of objects.filter((o) => o.kind === 'ServiceL2Status')) {
    const x = (st.status ?? {}) as { node?: string; serviceName?: string; serviceNamespace?: string };
    if (!x.node || !x.serviceName) continue;
    const key = `${x.serviceNamespace ?? 'default'}/${x.serviceName}`;
    const r = metallb.recorded.get(key);
    if (!r || r.computed === r.recorded) continue;
    add(st, r.followed
      ? { code: 'L2STATUS_DISAGREES', severity: 'warning', field: 'status.node', message: `MetalLB recorded ${r.recorded} as announcing ${key}; vippath elects ${r.computed ?? 'nobody'} from the same objects, and follows the record`, consequence: `Traffic is simulated through ${r.recorded}, as the cluster announced it; the difference points at state the snapshot does not hold (a speaker down, a memberlist split, a change since).` }
      : { code: 'L2STATUS_DISAGREES', severity: 'warning', field: 'status.node', message: `MetalLB recorded ${r.recorded} as announcing ${key}, but ${r.recorded} cannot announce it here (no live speaker, endpoint or advertisement for it); vippath elects ${r.computed ?? 'nobody'}`, consequence: `Traffic is simulated through ${r.computed ?? 'no node'}, not the recorded announcer: the snapshot is inconsistent or stale.` });
  }
  for (const e of metallb.events) {
    if (e.type !== 'announceFailed' || reported.has(`af:${e.service}`)) continue;
    reported.add(`af:${e.service}`);
    add(undefined, { code: 'L2_INTERFACES_NOT_ON_NODE', severity: 'error', object: `Service/${e.service}`, field: 'L2Advertisement spec.interfaces', message: `MetalLB on ${e.node}: ${e.message}`, consequence: 'MetalLB does not announce the address and does not elect another node: the VIP is dark.' });
  }
  return out;
}
