/**
 * The state the controllers would compute from the objects: pods placed and addressed, one address per family of
 * the subnet (Kube-OVN IPAM: lowest free address of each block, skipping the gateway and excludeIps), endpoints
 * (ready pods matching the selector), MetalLB's allocation and owner, the OVN load balancer (VIPs, backends, ip_port_mappings,
 * prefer_local_backend) and Kube-OVN's br-provider flows on every node.
 */
import { endpointCanServe, formatIp, MetalLB, parseCidr, parseIp, type IPAddressPoolObject, type L2AdvertisementObject, type ServiceObject } from '@vippath/metallb';
import { kubeOvnProviderFlows } from '@vippath/openflow';
import type { NbLoadBalancer, NbLogicalSwitchPort, NorthboundDb, NorthdProfile } from '@vippath/ovn';
import { lint, lintAnnouncement, type Diagnostic } from './lint.js';
import { isLoadBalancerService, type K8sObject } from './manifests.js';
import type { ClusterSpec } from './scenario.js';
import { DEFAULT_SCENARIO_FILE } from './default-scenario.js';

/** A placed pod. */
export interface PodState {
  name: string;
  namespace: string;
  node: string;
  ip: string;
  /** Its IPv6 address on a dual-stack subnet (Kube-OVN gives a pod one address of each family, one MAC). */
  ip6?: string;
  mac: string;
  ready: boolean;
  /**
   * Being deleted (`metadata.deletionTimestamp` set): the EndpointSlice controller then lists it `ready: false`
   * (`serving` still the pod's readiness), so Kube-OVN drops it from the VIP's backends while MetalLB ≥ 0.14.5 may
   * still count its node.
   */
  terminating?: boolean;
  /** Its containers' named ports (`spec.containers[].ports`), which a Service's named `targetPort` resolves against. */
  containerPorts?: ReadonlyArray<{ name: string; port: number; protocol: string }>;
  labels: Record<string, string>;
  /** Its logical switch port (`<pod>.<namespace>`, as Kube-OVN names it). */
  lsp: string;
}

/** The derived state. */
export interface DerivedState {
  pods: PodState[];
  /**
   * The LoadBalancer Services (the ones MetalLB allocates for and announces: VIP-bearing). The cluster IPs of every
   * Service, ClusterIP and NodePort ones too, are in `loadBalancers` (kubeOvnLbServices).
   */
  services: Array<{ name: string; namespace: string; ingress: string[]; owners: Record<string, string[]>; endpoints: Array<{ ip: string; node: string; pod: string; ports: number[] }>; ports: ServicePortState[] }>;
  /** The Load_Balancer rows Kube-OVN's controller writes (`cluster-tcp-loadbalancer`, `cluster-udp-loadbalancer`, the session ones). */
  loadBalancers: NbLoadBalancer[];
  brProviderFlows: Record<string, string[]>;
  metallb: MetalLB;
  lint: Diagnostic[];
}

const OFPORT = { underlay: 1, patch: 2 } as const;

/**
 * Kube-OVN's IPAM for one family of the subnet: the lowest free addresses from the block's first address
 * (network + 1) to its last (network + size − 2), skipping the gateway and excludeIps — the same bounds for IPv4
 * and IPv6 (kube-ovn pkg/util/net.go FirstIP/LastIP; pkg/ipam hands out the lowest free address of the range).
 * A dual-stack subnet lists its blocks (and gateways) comma-separated, in either order.
 */
function ipamAddresses(subnet: K8sObject | undefined, count: number, family: 4 | 6 = 4): string[] {
  const spec = (subnet?.spec ?? {}) as { cidrBlock?: string; gateway?: string; excludeIps?: string[] };
  const block = (spec.cidrBlock ?? '10.180.204.0/24').split(',').map((b) => b.trim()).find((b) => b.includes(':') === (family === 6));
  if (!block) return [];
  let cidr;
  try {
    cidr = parseCidr(block);
  } catch {
    return [];
  }
  const base = cidr.base;
  const end = base + (1n << BigInt((family === 4 ? 32 : 128) - cidr.bits)) - 1n;
  // Excluded ranges clipped to the block, as [lo, hi] pairs; entries of the other family belong to the other block.
  const ranges: Array<[bigint, bigint]> = [];
  const exclude = (lo: bigint, hi: bigint): void => {
    if (hi >= base && lo <= end) ranges.push([lo > base ? lo : base, hi < end ? hi : end]);
  };
  const parse = (t: string): ReturnType<typeof parseIp> | undefined => {
    try {
      return parseIp(t.trim());
    } catch {
      return undefined;
    }
  };
  for (const g of (spec.gateway ?? '').split(',').filter((x) => x.trim() !== '')) {
    const v = parse(g);
    if (v?.family === family) exclude(v.value, v.value);
  }
  for (const e of spec.excludeIps ?? []) {
    const [a, b] = String(e).split('..');
    const lo = parse(a!);
    const hi = b ? parse(b) : lo;
    if (lo?.family !== family || hi?.family !== family) continue;
    exclude(lo.value, hi.value);
  }
  ranges.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: string[] = [];
  // Network (and, for IPv4, broadcast; for IPv6, the all-ones address) are never handed out; an excluded range
  // is stepped over in one move.
  let r = 0;
  for (let v = base + 1n; v < end && out.length < count; v++) {
    while (r < ranges.length && ranges[r]![1] < v) r++;
    if (r < ranges.length && ranges[r]![0] <= v) {
      v = ranges[r]![1];
      continue;
    }
    out.push(formatIp({ family, value: v }));
  }
  return out;
}

/** A Service port: `targetPort` a number, or the name of a container port (resolved per pod). */
export interface ServicePortState {
  name: string;
  port: number;
  targetPort: number | string;
  protocol: string;
}

interface ServiceSpecLike {
  type?: string;
  internalTrafficPolicy?: string;
  selector?: Record<string, string>;
  externalTrafficPolicy?: string;
  sessionAffinity?: string;
  publishNotReadyAddresses?: boolean;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: Array<{ name?: string; port: number; targetPort?: number | string; protocol?: string }>;
}

/** Whether a Service's selector picks pod `p` (every label matches). */
export function selects(selector: Record<string, string> | undefined, p: PodState): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => Object.hasOwn(p.labels, k) && p.labels[k] === v);
}

/** An endpoint's conditions (discovery/v1 EndpointConditions); a condition left out is `undefined`, as in the API. */
export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** What the given EndpointSlices (or Endpoints) say of one pod: its conditions, and its ports by port name. */
interface GivenEndpoint extends EndpointConditions {
  ports: ReadonlyMap<string, number>;
  /** The endpoint's `targetRef` (name and namespace, "" when absent), or null when it has none. */
  targetRef: { name: string; namespace: string } | null;
}

/** A given endpoint without a `targetRef` (an EndpointSlice made by hand, or mirrored from such Endpoints). */
interface Untargeted {
  ip: string;
  /** Its slice's ports by name. */
  ports: ReadonlyMap<string, number>;
  object: K8sObject;
  field: string;
}

/** Services whose endpoints were given (Endpoints / EndpointSlices): their pods by logical switch port. */
const givenEndpoints = new WeakMap<K8sObject, ReadonlyMap<string, GivenEndpoint>>();
/** Services whose given endpoints include some without a targetRef, pod or not: those entries. */
const untargeted = new WeakMap<K8sObject, Untargeted[]>();
/** Pods whose readiness the simulation changed since the objects were read: their given conditions are stale. */
const readinessChanged = new WeakSet<PodState>();

/**
 * Whether pod `p` backs Service `svc`: the pods its given Endpoints/EndpointSlices list when the manifests or
 * snapshot have them (what the cluster really did), else its selector (what the EndpointSlice controller would do).
 * Terminal pods (phase Succeeded or Failed) are never endpoints (kubernetes staging/src/k8s.io/endpointslice/util
 * controller_utils.go ShouldPodBeInEndpoints); podsFromObjects leaves them out.
 */
export function backs(svc: K8sObject, p: PodState): boolean {
  const given = givenEndpoints.get(svc);
  return given ? given.has(p.lsp) : hasSelector(svc) && selects((svc.spec as ServiceSpecLike | undefined)?.selector, p);
}

/**
 * Whether the Service has a selector: the EndpointSlice controller makes endpoints only for those (kubernetes
 * pkg/controller/endpointslice syncService: a Service without a selector gets its slices out of band); one without
 * has the endpoints the given EndpointSlices/Endpoints list, or none.
 */
function hasSelector(svc: K8sObject): boolean {
  const sel = (svc.spec as ServiceSpecLike | undefined)?.selector;
  return typeof sel === 'object' && sel !== null;
}

/**
 * Pod `p`'s conditions as an endpoint of `svc`: the given EndpointSlice's (Endpoints: `addresses` ready,
 * `notReadyAddresses` not), else — and once the simulation has changed the pod's readiness, as the controller
 * would recompute them — the EndpointSlice controller's (kubernetes staging/src/k8s.io/endpointslice/utils.go
 * podToEndpoint): `serving` is the pod's readiness, `terminating` its deletionTimestamp, and `ready` is
 * `publishNotReadyAddresses || (serving && !terminating)`.
 */
export function endpointConditions(svc: K8sObject, p: PodState): EndpointConditions {
  const given = givenEndpoints.get(svc)?.get(p.lsp);
  if (given && !readinessChanged.has(p)) return { ready: given.ready, serving: given.serving, terminating: given.terminating };
  const terminating = p.terminating === true;
  const publish = (svc.spec as ServiceSpecLike | undefined)?.publishNotReadyAddresses === true;
  return { ready: publish || (p.ready && !terminating), serving: p.ready, terminating };
}

/**
 * Whether Kube-OVN puts the endpoint among the VIP's backends: `ready` unset or true (kube-ovn release-1.14 and
 * release-1.15 pkg/controller/endpoint_slice.go endpointReady).
 */
export function kubeOvnReady(c: EndpointConditions): boolean {
  return c.ready === undefined || c.ready;
}

/**
 * The port pod `p` serves Service port `sp` on, or `undefined` (no backend for that port): with given endpoints,
 * the port of the Service port's name in its EndpointSlice (Kube-OVN endpoint_slice.go reads the slice's port whose
 * name is the Service port's, and skips a slice without one); else the EndpointSlice controller's FindPort
 * (kubernetes pkg/api/v1/pod/util.go): a numeric targetPort as is, a named one the pod's container port of that
 * name and the Service port's protocol.
 */
export function endpointPort(svc: K8sObject, p: PodState, sp: ServicePortState): number | undefined {
  const given = givenEndpoints.get(svc)?.get(p.lsp);
  if (given) return given.ports.get(sp.name);
  if (typeof sp.targetPort === 'number') return sp.targetPort;
  return p.containerPorts?.find((c) => c.name === sp.targetPort && c.protocol === sp.protocol)?.port;
}

/**
 * Tells the derived endpoints that the simulation changed pod `p`'s readiness: from then on its conditions are the
 * controller's, computed from the pod, not the ones the given EndpointSlices listed.
 */
export function podReadinessChanged(p: PodState): void {
  readinessChanged.add(p);
}

const podMac = (ip: string): string => {
  const last = Number(parseIp(ip).value);
  // Kube-OVN generates pod MACs; vippath derives them from the IP so they are stable and readable.
  return `00:00:00:${((last >>> 16) & 0xff).toString(16).padStart(2, '0')}:${((last >>> 8) & 0xff).toString(16).padStart(2, '0')}:${(last & 0xff).toString(16).padStart(2, '0')}`;
};

const ref = (o: K8sObject): string => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
const at = (o: K8sObject): { source: { file: string; line: number } } => ({ source: { file: o.source.file, line: o.source.line } });

/** Whether IPv6 `ip` is in the subnet's IPv6 block (false when the subnet has none: a single-stack IPv4 subnet). */
function inCidr6(ip: string, cidrText: string | undefined): boolean {
  const block = (cidrText ?? '').split(',').map((b) => b.trim()).find((b) => b.includes(':'));
  if (!block) return false;
  try {
    const c = parseCidr(block);
    const x = parseIp(ip);
    return x.family === 6 && x.value >> BigInt(128 - c.bits) === c.base >> BigInt(128 - c.bits);
  } catch {
    return false;
  }
}

function inCidr(ip: string, cidrText: string | undefined): boolean {
  if (!cidrText) return true;
  const [net, len] = cidrText.split(',')[0]!.split('/');
  try {
    const x = parseIp(ip);
    const n = parseIp(net!);
    if (x.family !== 4 || n.family !== 4) return false;
    const host = BigInt(32 - Number(len));
    return x.value >> host === n.value >> host;
  } catch {
    return false;
  }
}

/**
 * The pods as the cluster has them (`kind: Pod`): address from `status.podIP` or Kube-OVN's
 * `ovn.kubernetes.io/ip_address`, MAC from `ovn.kubernetes.io/mac_address`, node from `spec.nodeName`, readiness
 * from the Ready condition. Pods outside the underlay subnet are left out (they are not on this path); pods that
 * cannot be placed are findings naming the field.
 */
function podsFromObjects(podObjects: K8sObject[], subnet: K8sObject | undefined, cluster: ClusterSpec, notes: Diagnostic[]): PodState[] {
  const pods: PodState[] = [];
  const cidr = subnet?.spec?.cidrBlock as string | undefined;
  const nodes = new Set(cluster.nodes.map((n) => n.name));
  let outside = 0;
  let terminal = 0;
  for (const o of podObjects) {
    const ann = o.metadata.annotations ?? {};
    const status = (o.status ?? {}) as { podIP?: string; podIPs?: Array<{ ip?: string }>; conditions?: Array<{ type?: string; status?: string }> };
    const candidates = [status.podIP, ...(status.podIPs ?? []).map((x) => x.ip), ...String(ann['ovn.kubernetes.io/ip_address'] ?? '').split(',')].filter((x): x is string => typeof x === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(x.trim())).map((x) => x.trim());
    const ip = candidates[0];
    // The pod's IPv6 address, on a dual-stack subnet: from status.podIPs or the annotation's "v4,v6" form.
    const ip6Text = [status.podIP, ...(status.podIPs ?? []).map((x) => x.ip), ...String(ann['ovn.kubernetes.io/ip_address'] ?? '').split(',')].map((x) => (typeof x === 'string' ? x.trim() : '')).find((x) => x.includes(':') && inCidr6(x, cidr));
    // Kept in canonical form (RFC 5952), as OVN and the VIP keys print it.
    const ip6 = ip6Text === undefined ? undefined : canonical6(ip6Text);
    const add = (d: Omit<Diagnostic, 'object' | 'source'>): void => void notes.push({ ...d, object: ref(o), ...at(o) });
    if (!ip) {
      add({ code: 'POD_WITHOUT_IP', severity: 'warning', field: 'status.podIP', message: 'the pod has no IPv4 address (neither status.podIP nor the ovn.kubernetes.io/ip_address annotation)', consequence: 'vippath leaves the pod out: no traffic can reach it.' });
      continue;
    }
    const switchName = ann['ovn.kubernetes.io/logical_switch'];
    if ((switchName !== undefined && subnet && switchName !== subnet.metadata.name) || !inCidr(ip, cidr)) {
      outside++;
      continue;
    }
    const node = (o.spec as { nodeName?: string } | undefined)?.nodeName;
    if (!node || !nodes.has(node)) {
      add({ code: 'POD_ON_UNKNOWN_NODE', severity: 'error', field: 'spec.nodeName', message: node ? `the pod runs on ${node}, which is not among the nodes (${[...nodes].slice(0, 5).join(', ')}${nodes.size > 5 ? ', …' : ''})` : 'the pod has no spec.nodeName (not scheduled)', consequence: 'vippath cannot place the pod: it is left out, and traffic DNATed to its address goes nowhere.' });
      continue;
    }
    // A pod that has run to completion is no endpoint and answers nothing (ShouldPodBeInEndpoints: isPodTerminal).
    const phase = (status as { phase?: unknown }).phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      terminal++;
      continue;
    }
    const mac = ann['ovn.kubernetes.io/mac_address'];
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    const namespace = o.metadata.namespace ?? 'default';
    const terminating = (o.metadata as { deletionTimestamp?: unknown }).deletionTimestamp != null;
    const containerPorts = namedPorts(o.spec);
    pods.push({ name: o.metadata.name, namespace, node, ip, ...(ip6 ? { ip6 } : {}), mac: typeof mac === 'string' && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac) ? mac.toLowerCase() : podMac(ip), ready: ready ? ready.status === 'True' : true, ...(terminating ? { terminating } : {}), ...(containerPorts.length ? { containerPorts } : {}), labels: o.metadata.labels ?? {}, lsp: `${o.metadata.name}.${namespace}` });
  }
  if (terminal) notes.push({ code: 'PODS_TERMINAL', severity: 'info', object: 'Pod', field: 'status.phase', message: `${terminal} pod(s) have run to completion (phase Succeeded or Failed) and are left out`, consequence: 'None: such pods are no endpoints of any Service (the EndpointSlice controller leaves them out too).' });
  if (outside) notes.push({ code: 'PODS_OFF_THE_UNDERLAY', severity: 'info', object: 'Pod', field: 'status.podIP', message: `${outside} pod(s) are not on the underlay subnet${subnet ? ` ${subnet.metadata.name}` : ''} and are left out`, consequence: 'None for VIP traffic: only pods on the underlay subnet can be its backends here.' });
  return pods;
}

/**
 * A pod spec's named container ports, for a Service's named targetPort: the containers', then the sidecars' (init
 * containers with `restartPolicy: Always`), as FindPort searches them (kubernetes pkg/api/v1/pod/util.go). The
 * protocol defaults to TCP (pkg/apis/core/v1/defaults.go SetDefaults_ContainerPort).
 */
function namedPorts(spec: unknown): Array<{ name: string; port: number; protocol: string }> {
  const s = (spec ?? {}) as { containers?: unknown; initContainers?: unknown };
  const out: Array<{ name: string; port: number; protocol: string }> = [];
  const from = (list: unknown, sidecarsOnly: boolean): void => {
    if (!Array.isArray(list)) return;
    for (const c of list as Array<{ ports?: unknown; restartPolicy?: unknown } | null>) {
      if (!c || typeof c !== 'object' || (sidecarsOnly && c.restartPolicy !== 'Always') || !Array.isArray(c.ports)) continue;
      for (const p of c.ports as Array<{ name?: unknown; containerPort?: unknown; protocol?: unknown } | null>) {
        if (p && typeof p.name === 'string' && p.name !== '' && Number.isInteger(p.containerPort)) out.push({ name: p.name, port: p.containerPort as number, protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP' });
      }
    }
  };
  from(s.containers, false);
  from(s.initContainers, true);
  return out;
}

/**
 * Pods from Deployments, for manifests without Pod objects (the seed document's): `replicas` pods named
 * `<deployment>-<i>`, addressed by Kube-OVN's IPAM (lowest free address), one per node in turn. Said in a finding.
 */
function podsFromDeployments(deployments: K8sObject[], subnet: K8sObject | undefined, cluster: ClusterSpec, notes: Diagnostic[]): PodState[] {
  const replicas = deployments.reduce((n, d) => n + Number((d.spec as { replicas?: number }).replicas ?? 1), 0);
  const addresses = ipamAddresses(subnet, replicas);
  const addresses6 = ipamAddresses(subnet, replicas, 6);
  const pods: PodState[] = [];
  for (const d of deployments) {
    const spec = d.spec as { replicas?: number; template?: { metadata?: { labels?: Record<string, string> }; spec?: { nodeName?: string } } };
    const nodeName = spec.template?.spec?.nodeName;
    const containerPorts = namedPorts(spec.template?.spec);
    for (let i = 0; i < (spec.replicas ?? 1); i++) {
      const ip6 = addresses6[pods.length];
      const ip = addresses[pods.length];
      if (!ip) break;
      const name = `${d.metadata.name}-${i}`;
      const namespace = d.metadata.namespace ?? 'default';
      pods.push({
        name, namespace, ip, ...(ip6 ? { ip6 } : {}), ready: true,
        // The Cluster's placement, the template's nodeName, else one replica per node in turn (the document's
        // example: three pods on three nodes).
        node: (cluster.placement && Object.hasOwn(cluster.placement, name) ? cluster.placement[name] : undefined) ?? (nodeName && cluster.nodes.some((n) => n.name === nodeName) ? nodeName : cluster.nodes[pods.length % cluster.nodes.length]!.name),
        mac: podMac(ip),
        ...(containerPorts.length ? { containerPorts } : {}),
        labels: spec.template?.metadata?.labels ?? {},
        lsp: `${name}.${namespace}`,
      });
    }
  }
  const fromUser = deployments.filter((d) => d.source.file !== DEFAULT_SCENARIO_FILE);
  if (fromUser.length) {
    notes.push({ code: 'PODS_FROM_DEPLOYMENTS', severity: 'info', object: fromUser.map(ref).join(', '), field: 'spec.replicas', message: `no Pod objects given: vippath made ${pods.length} pod(s) from the Deployment(s) (${pods.map((p) => `${p.name} ${p.ip} on ${p.node}`).join(', ')}), addressed as Kube-OVN's IPAM would`, consequence: 'The pods, their addresses and nodes are vippath\'s guess: give the Pods (kubectl get pods -o yaml, or a snapshot) to simulate the real ones.', ...at(fromUser[0]!) });
  }
  return pods;
}

/**
 * Given Endpoints and EndpointSlices, per Service: the pods they list (by address). An address with no pod is a
 * finding; the Service then keeps only the pods found.
 */
function endpointsGiven(objects: K8sObject[], services: K8sObject[], pods: PodState[], notes: Diagnostic[]): void {
  const byIp = new Map<string, PodState>();
  for (const p of pods) {
    byIp.set(p.ip, p);
    if (p.ip6) byIp.set(p.ip6, p);
  }
  const key = (ns: string | undefined, name: string): string => `${ns ?? 'default'}/${name}`;
  type Listed = { ip: string; o: K8sObject; field: string; slice: boolean; given: GivenEndpoint };
  const lists = new Map<string, Listed[]>();
  const push = (k: string, e: Listed): void => {
    let l = lists.get(k);
    if (!l) lists.set(k, (l = []));
    l.push(e);
  };
  // A port list's ports by name (an unnamed port is "": the name of a Service's only, unnamed port).
  const portsByName = (ports: unknown): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of Array.isArray(ports) ? (ports as Array<{ name?: unknown; port?: unknown }>) : []) {
      if (Number.isInteger(x?.port) && !m.has(typeof x.name === 'string' ? x.name : '')) m.set(typeof x.name === 'string' ? x.name : '', x.port as number);
    }
    return m;
  };
  const cond = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
  // An endpoint's targetRef as Kube-OVN reads it (a pointer: absent is nil; its name and namespace "" when unset).
  const targetRef = (v: unknown): GivenEndpoint['targetRef'] => {
    if (typeof v !== 'object' || v === null) return null;
    const r = v as { name?: unknown; namespace?: unknown };
    return { name: typeof r.name === 'string' ? r.name : '', namespace: typeof r.namespace === 'string' ? r.namespace : '' };
  };
  for (const o of objects) {
    if (o.kind === 'Endpoints') {
      const subsets = (o.subsets ?? []) as Array<{ addresses?: Array<{ ip?: string; targetRef?: unknown }>; notReadyAddresses?: Array<{ ip?: string; targetRef?: unknown }>; ports?: unknown }>;
      const k = key(o.metadata.namespace, o.metadata.name);
      if (!lists.has(k)) lists.set(k, []);
      subsets.forEach((s, i) => {
        const ports = portsByName(s.ports);
        (s.addresses ?? []).forEach((a, j) => a.ip && push(k, { ip: a.ip, o, field: `subsets[${i}].addresses[${j}].ip`, slice: false, given: { ready: true, serving: true, ports, targetRef: targetRef(a.targetRef) } }));
        (s.notReadyAddresses ?? []).forEach((a, j) => a.ip && push(k, { ip: a.ip, o, field: `subsets[${i}].notReadyAddresses[${j}].ip`, slice: false, given: { ready: false, ports, targetRef: targetRef(a.targetRef) } }));
      });
    } else if (o.kind === 'EndpointSlice') {
      const svc = o.metadata.labels?.['kubernetes.io/service-name'];
      if (!svc) continue;
      const k = key(o.metadata.namespace, svc);
      if (!lists.has(k)) lists.set(k, []);
      const ports = portsByName(o.ports);
      ((o.endpoints ?? []) as Array<{ addresses?: string[]; conditions?: Record<string, unknown>; targetRef?: unknown }>).forEach((e, i) => {
        const c = e.conditions ?? {};
        const given: GivenEndpoint = { ready: cond(c.ready), serving: cond(c.serving), terminating: cond(c.terminating), ports, targetRef: targetRef(e.targetRef) };
        (e.addresses ?? []).forEach((ip, j) => push(k, { ip, o, field: `endpoints[${i}].addresses[${j}]`, slice: true, given }));
      });
    }
  }
  for (const s of services) {
    const list = lists.get(key(s.metadata.namespace, s.metadata.name));
    if (!list) continue;
    const members = new Map<string, GivenEndpoint>();
    /** The entries that made the members (one per pod). */
    const chosen: Listed[] = [];
    const seen = new Set<string>();
    // Kube-OVN reads only the EndpointSlices (endpoint_slice.go): where a Service has any, their entries give the
    // conditions and ports, and Endpoints only add members the slices lack.
    const ordered = [...list.filter((e) => e.slice), ...list.filter((e) => !e.slice)];
    for (const e of ordered) {
      if (seen.has(e.ip)) continue; // Endpoints and EndpointSlices of the same Service list the same addresses
      seen.add(e.ip);
      const p = byIp.get(e.ip.includes(':') ? canonical6(e.ip) : e.ip);
      if (p) {
        if (!members.has(p.lsp)) {
          members.set(p.lsp, e.given);
          chosen.push(e);
        }
      } else if (isLoadBalancerService(s)) notes.push({ code: 'ENDPOINT_WITHOUT_POD', severity: 'error', object: ref(e.o), field: e.field, message: `${e.ip} is an endpoint of ${ref(s)}, but no pod on the underlay has that address`, consequence: 'vippath has nothing to deliver to at that address: it is left out of the Service\'s backends (give its Pod).', ...at(e.o) });
      // Any other Service's endpoints are often off the underlay (overlay pods, host-network ones such as the API
      // server's): Kube-OVN lists them all among the cluster IP's backends, vippath only the underlay pods.
      else notes.push({ code: 'ENDPOINT_WITHOUT_POD', severity: 'warning', object: ref(e.o), field: e.field, message: `${e.ip} is an endpoint of ${ref(s)}, but no pod on the underlay has that address`, consequence: 'Kube-OVN lists it among the cluster IP\'s backends in the OVN load balancer; vippath leaves it out, so a pod\'s traffic to that cluster IP is balanced over the underlay pods only (give its Pod if it is on the underlay).', ...at(e.o) });
    }
    givenEndpoints.set(s, members);
    // Every listed address without a targetRef, with a pod or not (Kube-OVN 1.14 reads each: kubeOvnPanicsOn).
    const read = list.some((e) => e.slice) ? list.filter((e) => e.slice) : list;
    const without = read.filter((e) => e.given.targetRef === null).map((e) => ({ ip: e.ip, ports: e.given.ports, object: e.o, field: e.field }));
    if (without.length) untargeted.set(s, without);
    // A Service port no given entry has a port for gets no backends from them (Kube-OVN skips such a slice).
    for (const sp of portsOf(s.spec as ServiceSpecLike)) {
      const without = chosen.filter((e) => !e.given.ports.has(sp.name));
      if (without.length === 0) continue;
      const o = without[0]!.o;
      notes.push({ code: 'ENDPOINT_PORT_MISSING', severity: 'warning', object: ref(o), field: o.kind === 'EndpointSlice' ? 'ports' : 'subsets[].ports', message: `${without.length} endpoint(s) of ${ref(s)} (${without.slice(0, 3).map((e) => e.ip).join(', ')}${without.length > 3 ? ', …' : ''}) list no port named "${sp.name}", the Service port ${sp.port}'s name`, consequence: `Kube-OVN takes a backend's port from its EndpointSlice's port of that name: those endpoints are not backends of port ${sp.port}.`, ...at(o) });
    }
  }
}

const canonical6 = (t: string): string => {
  try {
    return formatIp(parseIp(t));
  } catch {
    return t;
  }
};

/** A Service's cluster IPs as Kube-OVN reads them (kube-ovn release-1.14 pkg/util/k8s.go ServiceClusterIPs), as written. */
function serviceClusterIps(spec: ServiceSpecLike): string[] {
  const listed = Array.isArray(spec.clusterIPs) && spec.clusterIPs.length ? spec.clusterIPs : typeof spec.clusterIP === 'string' ? [spec.clusterIP] : [];
  return listed.filter((ip) => {
    if (typeof ip !== 'string' || ip === '' || ip === 'None') return false;
    try {
      parseIp(ip);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * A Service's ports as the API server defaults them: `targetPort` the port when absent, `protocol` TCP, `name` ""
 * (kubernetes pkg/apis/core/v1/defaults.go SetDefaults_Service). A targetPort given as a string of digits stays a
 * name, as the API's IntOrString keeps it.
 */
export function portsOf(spec: { ports?: Array<{ name?: string; port: number; targetPort?: number | string; protocol?: string }> } | undefined): ServicePortState[] {
  return (spec?.ports ?? []).map((p) => ({ name: typeof p.name === 'string' ? p.name : '', port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol ?? 'TCP' }));
}

/**
 * The Services Kube-OVN's controller puts in the VPC load balancers: every Service with a cluster IP, whatever its
 * type — ClusterIP, NodePort and LoadBalancer alike (kube-ovn release-1.14 and release-1.15
 * pkg/controller/endpoint_slice.go handleUpdateEndpointSlice: `lbVips = util.ServiceClusterIPs(*svc)`, returning
 * when there is none, with no check of `spec.type`). A headless Service (`clusterIP: None`) has none
 * (pkg/util/k8s.go ServiceClusterIPs leaves "None" out), nor has an ExternalName Service (the API server gives it
 * none; Kube-OVN checks no type, so neither does this). LoadBalancer Services without a cluster IP are kept too:
 * the seed document's is given before the API server assigns one, and its ingress VIP is written under
 * prefer-local (see ovnLoadBalancers).
 */
export function kubeOvnLbServices(objects: readonly K8sObject[]): K8sObject[] {
  return objects.filter((o) => o.kind === 'Service' && (isLoadBalancerService(o) || serviceClusterIps(o.spec as ServiceSpecLike).length > 0));
}

/** A Service's type as the API server defaults it (ClusterIP when absent: pkg/apis/core/v1/defaults.go SetDefaults_Service). */
function serviceType(o: K8sObject): string {
  const t = (o.spec as ServiceSpecLike | undefined)?.type;
  return typeof t === 'string' && t !== '' ? t : 'ClusterIP';
}

/**
 * isPreferLocalBackend of handleUpdateEndpointSlice (both branches): under `--enable-ovn-lb-prefer-local`, a
 * LoadBalancer Service with `externalTrafficPolicy: Local` and a ClusterIP Service with
 * `internalTrafficPolicy: Local` get ip_port_mappings; nothing else does (a NodePort Service with either policy,
 * a LoadBalancer Service with ITP Local: no).
 */
function preferLocalBackend(s: K8sObject, cluster: ClusterSpec): boolean {
  if (!cluster.flags.enableOvnLbPreferLocal) return false;
  const spec = s.spec as ServiceSpecLike;
  const type = serviceType(s);
  return (type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local') || (type === 'ClusterIP' && spec.internalTrafficPolicy === 'Local');
}

/**
 * Whether Kube-OVN's controller maps endpoint `p` of `svc` in ip_port_mappings. release-1.14
 * getIPPortMappingBackend maps every endpoint whose `targetRef.name` is set (and panics on one without a
 * targetRef: see kubeOvnPanicsOn); release-1.15 getIPPortMapping, for a Service with a selector, only endpoints
 * with a targetRef naming a pod and namespace (getIPPortMappingWithTargets), for one without, every pod whose
 * address the endpoint lists (getIPPortMappingWithNoTargets), and never a pod being deleted
 * (addIPPortMappingEntry: `!pod.DeletionTimestamp.IsZero()` returns).
 */
function mapsEndpoint(svc: K8sObject, p: PodState, cluster: ClusterSpec): boolean {
  const ref = givenEndpoints.get(svc)?.get(p.lsp)?.targetRef;
  if (cluster.profiles.kubeOvn === 'kube-ovn-1.14') return ref === undefined || (ref !== null && ref.name !== '');
  if (p.terminating) return false;
  if (!hasSelector(svc)) return true;
  return ref === undefined || (ref !== null && ref.name !== '' && ref.namespace !== '');
}

/**
 * The Service ports at which Kube-OVN 1.14 panics under prefer-local, and the given endpoints without a targetRef
 * that make it: getIPPortMappingBackend evaluates `endpoint.TargetRef.Name` with TargetRef nil, a nil-pointer
 * panic, for every endpoint of a slice that has the Service port's name, before LoadBalancerAddVip. The worker runs
 * under wait.Until, whose HandleCrash re-panics: kube-ovn-controller exits, restarts, and panics again on the same
 * Service. 1.15 guards it (getIPPortMappingWithTargets: `if endpoint.TargetRef == nil { continue }`).
 */
function kubeOvnPanicsOn(svc: K8sObject, cluster: ClusterSpec): { ports: Set<string>; endpoints: Untargeted[] } {
  const ports = new Set<string>();
  const endpoints: Untargeted[] = [];
  if (cluster.profiles.kubeOvn !== 'kube-ovn-1.14' || !preferLocalBackend(svc, cluster) || serviceClusterIps(svc.spec as ServiceSpecLike).length === 0) return { ports, endpoints };
  for (const e of untargeted.get(svc) ?? []) {
    const hit = portsOf(svc.spec as ServiceSpecLike).filter((sp) => e.ports.has(sp.name));
    if (!hit.length) continue;
    endpoints.push(e);
    for (const sp of hit) ports.add(sp.name);
  }
  return { ports, endpoints };
}

/**
 * The OVN load balancers Kube-OVN's controller writes for the Services (kubeOvnLbServices), from the pods'
 * readiness and MetalLB's current owners (research/kube-ovn.md §3: `handleUpdateEndpointSlice`; the 1.15.20 VIP-node marker
 * follows the announcing node): the VPC's `cluster-tcp-loadbalancer` and `cluster-udp-loadbalancer`, always
 * present (the controller creates them at start-up), VIPs only while a Service has ready endpoints.
 * Recomputed whenever readiness or ownership changes.
 */
export function ovnLoadBalancers(objects: K8sObject[], pods: PodState[], cluster: ClusterSpec, metallb: MetalLB): NbLoadBalancer[] {
  // Keys built from user-given names and addresses: null-prototype objects, so `__proto__` is a key like any other.
  // The session LBs (Kube-OVN release-1.14 init.go initLB: selection_fields ip_src, options:affinity_timeout
  // 10800, util.DefaultServiceSessionStickinessTimeout) hold the VIPs of `sessionAffinity: ClientIP` Services
  // (endpoint_slice.go). The controller makes them at start-up; they are written here only when such a Service
  // exists, as without VIPs they change no logical flow.
  const services = kubeOvnLbServices(objects);
  const sessions = services.some((s) => (s.spec as ServiceSpecLike).sessionAffinity === 'ClientIP') ? [false, true] : [false];
  const lbs = sessions.flatMap((session) => (['tcp', 'udp'] as const).map((protocol) => ({ protocol, session, vips: Object.create(null) as Record<string, string>, mappings: Object.create(null) as Record<string, string>, externalIds: Object.create(null) as Record<string, string> })));
  for (const s of services) {
    const spec = s.spec as ServiceSpecLike;
    const session = spec.sessionAffinity === 'ClientIP';
    const isLb = serviceType(s) === 'LoadBalancer';
    // MetalLB allocates only for LoadBalancer Services: no other has ingress IPs.
    const ingress = isLb ? metallb.ingressOf(`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`) : [];
    // Every endpoint, ready or not: ip_port_mappings list them all (Kube-OVN getIPPortMappingBackend maps each
    // endpoint of the slices; 1.15 addIPPortMappingEntry likewise), the backends only the ready ones.
    const all = pods.filter((p) => backs(s, p));
    const ready = all.filter((p) => kubeOvnReady(endpointConditions(s, p)));
    // Kube-OVN adds the ingress IPs as OVN LB VIPs when prefer-local is on (v1.14: only for ETP=Local).
    const addVip = isLb && cluster.flags.enableOvnLbPreferLocal && (spec.externalTrafficPolicy === 'Local' || cluster.profiles.kubeOvn !== 'kube-ovn-1.14');
    // The VIPs: the Service's cluster IPs always (util.ServiceClusterIPs: spec.clusterIPs, else spec.clusterIP,
    // "None" and "" left out — a Service given without them, as the seed document's is before the API server
    // assigns one, has none), then the ingress IPs.
    const vips = [...serviceClusterIps(spec), ...(addVip ? ingress : [])];
    // No ready endpoint ⇒ the VIP is deleted.
    if (vips.length === 0 || ready.length === 0) continue;
    const preferLocal = preferLocalBackend(s, cluster);
    // 1.14 panics at the first VIP port whose slice holds an endpoint without a targetRef (kubeOvnPanicsOn): what
    // came before it in the loop is written, nothing after.
    const panicAt = kubeOvnPanicsOn(s, cluster).ports;
    // The IPv6 addresses are mapped when the Service has an IPv6 VIP (its IPv6 EndpointSlice exists).
    const dual = vips.some((ip) => ip.includes(':'));
    // In Kube-OVN's order: each VIP, each Service port, into the LB of the port's protocol (SCTP: vippath writes
    // no SCTP load balancer).
    let panicked = false;
    for (const ip of vips) {
      for (const p of portsOf(spec)) {
        if (panicAt.has(p.name)) {
          panicked = true;
          break;
        }
        const lb = lbs.find((x) => x.session === session && x.protocol === p.protocol.toLowerCase());
        if (!lb) continue;
        // An IPv6 VIP is written `[addr]:port` (ovn-nb(5) Load_Balancer vips; the marker's key likewise).
        const key = ip.includes(':') ? `[${ip}]:${p.port}` : `${ip}:${p.port}`;
        // The backends of the VIP's family (Kube-OVN endpoint_slice.go: addresses whose protocol is the VIP's):
        // an IPv6 VIP gets the pods' IPv6 addresses, and without any it is not written; each on the port its
        // endpoint serves the Service port on (none: not a backend of that port).
        const backends: string[] = [];
        for (const e of ready) {
          const port = endpointPort(s, e, p);
          if (port === undefined) continue;
          if (!ip.includes(':')) backends.push(`${e.ip}:${port}`);
          else if (e.ip6) backends.push(`[${e.ip6}]:${port}`);
        }
        if (!backends.length) continue;
        lb.vips[key] = backends.sort().join(',');
        const owner = metallb.owners(ip)[0];
        if (cluster.profiles.kubeOvn === 'kube-ovn-1.15.20' && isLb && spec.externalTrafficPolicy === 'Local' && owner && ingress.includes(ip)) lb.externalIds[`kube-ovn.io/local-external-vip/${key}`] = `node-${owner}`;
        // The mappings are written with a VIP that has backends (LoadBalancerUpdateIPPortMapping after
        // LoadBalancerAddVip). 1.14 reads them from the slices that have this port (getIPPortMappingBackend skips
        // a slice without the port's name); 1.15 from every slice (getIPPortMapping).
        if (!preferLocal) continue;
        for (const e of all) {
          if (!mapsEndpoint(s, e, cluster)) continue;
          if (cluster.profiles.kubeOvn === 'kube-ovn-1.14' && endpointPort(s, e, p) === undefined) continue;
          lb.mappings[e.ip] = `${e.lsp}:0.0.0.0`;
          // A dual-stack Service's IPv6 EndpointSlice maps its addresses too, bracketed, the value as for IPv4
          // (util.HealthCheckNamedVipTemplate "lsp:checkVip", checkVip util.MasqueradeCheckIP "0.0.0.0"): both
          // profiles' sources — release-1.14 (v1.14.26+) pkg/controller/endpoint_slice.go getIPPortMappingBackend
          // and v1.15.20 endpoint_slice.go addIPPortMappingEntry: `key = fmt.Sprintf("[%s]", address)` for an
          // IPv6 address (#6173 "fix underlay metallb ipv6 err"; v1.14.0–v1.14.25 and v1.15.0 wrote it bare).
          // northd looks IPv6 backends up as "[addr]" (ovn_lb_backend_set_logical_port), so the IPv6 VIP gets
          // the same prefer-local grouping as the IPv4 one.
          if (e.ip6 && dual) lb.mappings[`[${e.ip6}]`] = `${e.lsp}:0.0.0.0`;
        }
      }
      if (panicked) break;
    }
  }
  return lbs.map((lb) => ({
    name: `cluster-${lb.protocol}-${lb.session ? 'session-' : ''}loadbalancer`, protocol: lb.protocol, vips: lb.vips,
    ...(lb.session ? { selectionFields: ['ip_src'] } : {}),
    ...(lb.session || cluster.flags.enableOvnLbPreferLocal ? { options: { ...(lb.session ? { affinity_timeout: '10800' } : {}), ...(cluster.flags.enableOvnLbPreferLocal ? { prefer_local_backend: 'true' } : {}) } } : {}),
    ...(Object.keys(lb.mappings).length ? { ipPortMappings: lb.mappings } : {}),
    ...(Object.keys(lb.externalIds).length ? { externalIds: lb.externalIds } : {}),
  }));
}

/** The northd profile of a Kube-OVN version (1.14 ships OVN 24.03 with its patches, 1.15 OVN 25.03 with its own; upstream: none). */
export function northdProfile(cluster: ClusterSpec): NorthdProfile {
  return cluster.profiles.kubeOvn === 'upstream' ? 'upstream' : cluster.profiles.kubeOvn === 'kube-ovn-1.14' ? 'kube-ovn-1.14' : 'kube-ovn-1.15';
}

/** The underlay subnet's logical switch name. */
export function subnetName(objects: K8sObject[]): string {
  return objects.find((o) => o.kind === 'Subnet')?.metadata.name ?? 'underlay-subnet';
}

/**
 * The OVN Northbound Kube-OVN's controller writes for the cluster (research/kube-ovn.md §3–§5): the underlay
 * subnet's logical switch with its localnet port `localnet.<subnet>` (addresses `unknown`, `network_name` = the
 * provider network, `external_ids:ipv4_network` = the subnet CIDR, `tag` = the Vlan's id when 0 < id < 4096) and a
 * VIF port per pod `<pod>.<namespace>` (addresses and port_security "MAC IP", "MAC IPv4 IPv6" on a dual-stack subnet); the join switch with the nodes'
 * `node-<name>` ports (what 1.15's VIP-node marker names); the VPC's load balancers, attached to the subnet's
 * switch; NB_Global options the controller sets at start-up (`use_ct_inv_match=false` always, and its flags).
 * With the binding of every port to its node (Port_Binding.chassis, which ovn-controller sets).
 */
export function northboundFor(objects: K8sObject[], pods: PodState[], cluster: ClusterSpec, loadBalancers: NbLoadBalancer[]): { nb: NorthboundDb; chassis: Record<string, string> } {
  const subnet = objects.find((o) => o.kind === 'Subnet');
  const name = subnetName(objects);
  const spec = (subnet?.spec ?? {}) as { cidrBlock?: string; vlan?: string; provider?: string };
  const vlan = objects.find((o) => o.kind === 'Vlan' && o.metadata.name === spec.vlan);
  const vspec = (vlan?.spec ?? {}) as { id?: number; provider?: string };
  const provider = vspec.provider ?? objects.find((o) => o.kind === 'ProviderNetwork')?.metadata.name ?? 'provider';
  const ext: Record<string, string> = {};
  for (const cidr of (spec.cidrBlock ?? '').split(',').filter(Boolean)) ext[cidr.includes(':') ? 'ipv6_network' : 'ipv4_network'] = cidr.trim();
  const tag = Number(vspec.id ?? 0);
  const ports: NbLogicalSwitchPort[] = [{
    name: `localnet.${name}`, type: 'localnet', addresses: ['unknown'], options: { network_name: provider },
    ...(tag > 0 && tag < 4096 ? { tag } : {}), ...(Object.keys(ext).length ? { externalIds: ext } : {}),
  }];
  const chassis: Record<string, string> = {};
  for (const p of pods) {
    // "MAC IPv4 IPv6" on a dual-stack subnet (kube-ovn pkg/ovs CreateLogicalSwitchPort: the pod's "v4,v6" with
    // the comma made a space), addresses and port_security alike.
    const a = p.ip6 ? `${p.mac} ${p.ip} ${p.ip6}` : `${p.mac} ${p.ip}`;
    ports.push({ name: p.lsp, addresses: [a], portSecurity: [a] });
    chassis[p.lsp] = p.node;
  }
  // The nodes' ovn0 ports on the join switch (100.64.0.0/16, the gateway .1): vippath numbers them in node order.
  const join: NbLogicalSwitchPort[] = cluster.nodes.map((n, i) => {
    chassis[`node-${n.name}`] = n.name;
    const host = i + 2;
    return { name: `node-${n.name}`, addresses: [`00:00:00:64:${((host >> 8) & 0xff).toString(16).padStart(2, '0')}:${(host & 0xff).toString(16).padStart(2, '0')} 100.64.${(host >> 8) & 0xff}.${host & 0xff}`] };
  });
  const nb: NorthboundDb = {
    switches: [
      { name, ports, loadBalancers: loadBalancers.map((lb) => lb.name), externalIds: { vendor: 'kube-ovn' } },
      { name: 'join', ports: join, externalIds: { vendor: 'kube-ovn' } },
    ],
    loadBalancers,
    options: {
      use_ct_inv_match: 'false',
      ls_dnat_mod_dl_dst: String(cluster.flags.lsDnatModDlDst),
      ls_ct_skip_dst_lport_ips: String(cluster.flags.lsCtSkipDstLportIps),
    },
  };
  return { nb, chassis };
}

/**
 * Selector-made endpoints that serve no port for a named targetPort (their pods have no container port of that name
 * and protocol): the EndpointSlice controller lists them without it, so Kube-OVN gives them no backend of the port.
 */
function unresolvedPorts(services: K8sObject[], pods: PodState[], notes: Diagnostic[]): void {
  for (const s of services) {
    if (givenEndpoints.has(s)) continue; // ENDPOINT_PORT_MISSING speaks for given endpoints
    const members = pods.filter((p) => backs(s, p));
    for (const sp of portsOf(s.spec as ServiceSpecLike)) {
      if (typeof sp.targetPort === 'number') continue;
      const lacking = members.filter((p) => endpointPort(s, p, sp) === undefined);
      if (lacking.length === 0) continue;
      notes.push({ code: 'TARGET_PORT_UNRESOLVED', severity: 'warning', object: ref(s), field: 'spec.ports[].targetPort', message: `targetPort "${sp.targetPort}" of port ${sp.port} names no ${sp.protocol} container port of ${lacking.length} of ${members.length} pod(s) (${lacking.slice(0, 3).map((p) => p.name).join(', ')}${lacking.length > 3 ? ', …' : ''})`, consequence: `Kubernetes lists those pods without port ${sp.port}: they are not its backends${lacking.length === members.length ? ', and with none the VIP is not written to the OVN load balancer' : ''}.`, ...at(s) });
    }
  }
}

/**
 * Given endpoints without a targetRef under prefer-local, as the profile's Kube-OVN treats them: 1.14's controller
 * panics on them (kubeOvnPanicsOn); 1.15 leaves them out of ip_port_mappings when the Service has a selector
 * (getIPPortMappingWithTargets skips `TargetRef == nil`), so northd places them on no chassis.
 */
function targetRefFindings(services: K8sObject[], pods: PodState[], cluster: ClusterSpec, notes: Diagnostic[]): void {
  for (const s of services) {
    const panic = kubeOvnPanicsOn(s, cluster);
    if (panic.endpoints.length) {
      const e = panic.endpoints[0]!;
      notes.push({ code: 'KUBE_OVN_PANIC_NO_TARGETREF', severity: 'error', object: ref(e.object), field: e.field.replace(/\.ip$|\.addresses\[\d+\]$/, '.targetRef'), message: `${panic.endpoints.length} endpoint(s) of ${ref(s)} (${panic.endpoints.slice(0, 3).map((x) => x.ip).join(', ')}${panic.endpoints.length > 3 ? ', …' : ''}) have no targetRef, and the Service gets ip_port_mappings (prefer-local)`, consequence: `Kube-OVN 1.14's controller dereferences the missing targetRef (endpoint_slice.go getIPPortMappingBackend) and panics before writing port(s) ${[...panic.ports].join(', ') || '""'} of the Service's VIPs: kube-ovn-controller crash-loops. vippath writes the VIPs up to that point only (1.15 skips such endpoints).`, ...at(e.object) });
      continue;
    }
    if (cluster.profiles.kubeOvn === 'kube-ovn-1.14' || !preferLocalBackend(s, cluster) || !hasSelector(s)) continue;
    const skipped = pods.filter((p) => backs(s, p) && givenEndpoints.get(s)?.get(p.lsp)?.targetRef === null);
    if (skipped.length) notes.push({ code: 'ENDPOINT_WITHOUT_TARGETREF', severity: 'warning', object: ref(s), field: 'targetRef', message: `${skipped.length} endpoint(s) of ${ref(s)} (${skipped.slice(0, 3).map((p) => p.ip).join(', ')}${skipped.length > 3 ? ', …' : ''}) have no targetRef`, consequence: 'Kube-OVN 1.15 leaves them out of ip_port_mappings (getIPPortMappingWithTargets): northd places them on no node, so prefer-local never picks them as a local backend.', ...at(s) });
  }
}

/** MetalLB's record of each Service's announcer (ServiceL2Status, MetalLB ≥ 0.14): service key → node. */
function recordedAnnouncers(objects: K8sObject[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of objects) {
    if (o.kind !== 'ServiceL2Status') continue;
    const x = (o.status ?? {}) as { node?: unknown; serviceName?: unknown; serviceNamespace?: unknown };
    if (typeof x.node === 'string' && typeof x.serviceName === 'string') out.set(`${typeof x.serviceNamespace === 'string' ? x.serviceNamespace : 'default'}/${x.serviceName}`, x.node);
  }
  return out;
}

/**
 * Derives the controllers' state. Pods are the given `kind: Pod` objects when there are any (Deployments are then
 * only their owners), else made from the Deployments (an info finding says so); endpoints are the given
 * Endpoints/EndpointSlices when there are any, else the selector's ready pods.
 */
export function derive(objects: K8sObject[], cluster: ClusterSpec): DerivedState {
  const subnet = objects.find((o) => o.kind === 'Subnet');
  const subnetName = subnet?.metadata.name ?? 'underlay-subnet';
  const notes: Diagnostic[] = [];
  const podObjects = objects.filter((o) => o.kind === 'Pod');
  const pods = podObjects.length ? podsFromObjects(podObjects, subnet, cluster, notes) : podsFromDeployments(objects.filter((o) => o.kind === 'Deployment'), subnet, cluster, notes);
  // The LoadBalancer Services are MetalLB's and the VIP path's (DerivedState.services); every Service with a cluster
  // IP goes into the OVN load balancers (kubeOvnLbServices), so their endpoints are read too.
  const services = objects.filter(isLoadBalancerService);
  const lbServices = kubeOvnLbServices(objects);
  endpointsGiven(objects, lbServices, pods, notes);
  const nodeLabels = new Map<string, Record<string, string>>();
  for (const o of objects) if (o.kind === 'Node') nodeLabels.set(o.metadata.name, o.metadata.labels ?? {});
  const metallb = new MetalLB(
    {
      pools: objects.filter((o) => o.kind === 'IPAddressPool') as unknown as IPAddressPoolObject[],
      advertisements: objects.filter((o) => o.kind === 'L2Advertisement') as unknown as L2AdvertisementObject[],
      nodes: cluster.nodes.map((n) => ({
        // The Node's own labels when it was given (nodeSelectors match on them); the hostname label otherwise.
        node: { metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, ...nodeLabels.get(n.name) } } },
        interfaces: [
          { name: n.nic, mac: n.mac, master: 'ovs-system' },
          { name: `${n.nic}.${cluster.vlan}`, mac: n.mac, master: 'ovs-system' },
          { name: 'br-provider', mac: n.mac },
        ],
      })),
      services: services.map((s) => {
        const eps = pods.filter((p) => backs(s, p));
        // The conditions as the speaker reads them (MetalLB ≥ 0.14.5 counts a terminating endpoint still serving).
        return { service: s as unknown as ServiceObject, endpoints: eps.map((p) => ({ address: p.ip, nodeName: p.node, ...endpointConditions(s, p) })) };
      }),
    },
    { profile: cluster.profiles.metallb, recordedAnnouncers: recordedAnnouncers(objects) },
  );
  const state: DerivedState['services'] = services.map((s) => {
    const spec = s.spec as ServiceSpecLike;
    const key = `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;
    const ingress = metallb.ingressOf(key);
    const eps = pods.filter((p) => backs(s, p) && kubeOvnReady(endpointConditions(s, p)));
    const ports = portsOf(spec);
    return {
      name: s.metadata.name, namespace: s.metadata.namespace ?? 'default', ingress, owners: Object.fromEntries(ingress.map((ip) => [ip, metallb.owners(ip)])),
      endpoints: eps.map((p) => ({ ip: p.ip, node: p.node, pod: p.name, ports: ports.map((sp) => endpointPort(s, p, sp)).filter((x): x is number => x !== undefined) })),
      ports,
    };
  });
  const providerServices = state.map((s) => ({ name: s.name, ingress: s.ingress, ports: s.ports }));
  const loadBalancers = ovnLoadBalancers(objects, pods, cluster, metallb);
  const subnetSpec = (subnet?.spec ?? {}) as { vlan?: string; enableExternalLBAddress?: boolean; u2oInterconnectionMac?: string };
  // Node names are user-given: a null-prototype object keeps a node named `__proto__`.
  const brProviderFlows: Record<string, string[]> = Object.create(null);
  for (const n of cluster.nodes) {
    const collected = cluster.brProvider?.[n.name];
    if (collected) {
      // A snapshot's flows are the node's own (Kube-OVN's patches of whatever version come with them).
      brProviderFlows[n.name] = collected.flows.split(/\r?\n/).filter((l) => l.trim() !== '' && !/^(NXST|OFPST)_FLOW reply/.test(l.trim()));
      continue;
    }
    // ovn-controller creates the patch port only where the switch is local: a node with a pod on it.
    const local = pods.some((p) => p.node === n.name);
    brProviderFlows[n.name] = kubeOvnProviderFlows({
      subnet: { name: subnetName, ...(subnetSpec.vlan ? { vlan: subnetSpec.vlan } : {}), enableExternalLBAddress: subnetSpec.enableExternalLBAddress === true },
      services: providerServices,
      underlayOfport: OFPORT.underlay,
      ...(local ? { patchOfport: OFPORT.patch } : {}),
    }).flows;
  }
  unresolvedPorts(lbServices, pods, notes);
  targetRefFindings(lbServices, pods, cluster, notes);
  // The announcement lint counts the endpoints MetalLB counts (its profile's "can serve").
  const serves = (svc: K8sObject, p: PodState): boolean => backs(svc, p) && endpointCanServe({ nodeName: p.node, ...endpointConditions(svc, p) }, cluster.profiles.metallb);
  const findings = [...(cluster.findings ?? []), ...notes, ...lint(objects, cluster.flags), ...lintAnnouncement(objects, cluster, pods, metallb, serves)];
  return { pods, services: state, loadBalancers, brProviderFlows, metallb, lint: findings };
}

/** The JSON `vippath status --json` prints. */
export function statusJson(objects: K8sObject[], cluster: ClusterSpec): Record<string, unknown> {
  const s = derive(objects, cluster);
  return {
    nodes: cluster.nodes.map((n) => ({ name: n.name, nicMac: n.mac, ports: [`${n.nic}.${cluster.vlan}`, 'br-provider', `patch-localnet.${objects.find((o) => o.kind === 'Subnet')?.metadata.name ?? 'underlay-subnet'}-to-br-int`] })),
    pods: s.pods.map((p) => ({ name: p.name, node: p.node, ip: p.ip, ...(p.ip6 ? { ip6: p.ip6 } : {}), mac: p.mac, ready: p.ready })),
    // `owner`: the node that answers ARP for the address (null when none can, even if one is elected — an
    // L2Advertisement `interfaces` list without br-provider); `elected`: the node MetalLB reports (ServiceL2Status).
    services: s.services.map((x) => ({ name: x.name, ingress: x.ingress, owner: Object.fromEntries(x.ingress.map((ip) => [ip, s.metallb.announcers(ip)[0] ?? null])), elected: Object.fromEntries(Object.entries(x.owners).map(([ip, o]) => [ip, o[0] ?? null])), ports: x.ports, endpoints: x.endpoints })),
    ovn: { loadBalancers: s.loadBalancers.map((lb) => ({ name: lb.name, protocol: lb.protocol ?? 'tcp', vips: lb.vips, ipPortMappings: lb.ipPortMappings ?? {}, options: lb.options ?? {}, externalIds: lb.externalIds ?? {} })) },
    brProviderFlows: Object.fromEntries(Object.entries(s.brProviderFlows).map(([n, f]) => [n, f.join('\n')])),
    profiles: cluster.profiles,
    lint: s.lint,
  };
}
