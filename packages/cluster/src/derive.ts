/**
 * The state the controllers would compute from the objects: pods placed and addressed (Kube-OVN IPAM: lowest
 * free address of the subnet, skipping the gateway and excludeIps), endpoints (ready pods matching the
 * selector), MetalLB's allocation and owner, the OVN load balancer (VIPs, backends, ip_port_mappings,
 * prefer_local_backend) and Kube-OVN's br-provider flows on every node.
 */
import { MetalLB, parseIp, type IPAddressPoolObject, type L2AdvertisementObject, type ServiceObject } from '@vippath/metallb';
import { kubeOvnProviderFlows } from '@vippath/openflow';
import type { LoadBalancerSpec } from '@vippath/ovn';
import { formatIPv4 } from '@vippath/wire';
import { lint, type Diagnostic } from './lint.js';
import { isLoadBalancerService, type K8sObject } from './manifests.js';
import type { ClusterSpec } from './scenario.js';

/** A placed pod. */
export interface PodState {
  name: string;
  namespace: string;
  node: string;
  ip: string;
  mac: string;
  ready: boolean;
  labels: Record<string, string>;
  /** Its logical switch port (`<pod>.<namespace>`, as Kube-OVN names it). */
  lsp: string;
}

/** The derived state. */
export interface DerivedState {
  pods: PodState[];
  services: Array<{ name: string; namespace: string; ingress: string[]; owners: Record<string, string[]>; endpoints: Array<{ ip: string; node: string; pod: string }>; ports: Array<{ port: number; targetPort: number; protocol: string }> }>;
  loadBalancers: LoadBalancerSpec[];
  brProviderFlows: Record<string, string[]>;
  metallb: MetalLB;
  lint: Diagnostic[];
}

const OFPORT = { underlay: 1, patch: 2 } as const;

function ipamAddresses(subnet: K8sObject | undefined, count: number): string[] {
  const spec = (subnet?.spec ?? {}) as { cidrBlock?: string; gateway?: string; excludeIps?: string[] };
  // A dual-stack subnet lists its blocks comma-separated (either order); vippath's pods take IPv4 addresses.
  const block = (spec.cidrBlock ?? '10.180.204.0/24').split(',').map((b) => b.trim()).find((b) => !b.includes(':'));
  if (!block) return [];
  const [net, len] = block.split('/');
  const base = Number(parseIp(net!).value);
  const size = 2 ** (32 - Number(len));
  const end = base + size - 1;
  // Excluded ranges clipped to the block, as [lo, hi] pairs: IPv6 entries belong to the other block (or are a
  // mistake lint reports) and never enter IPv4 arithmetic, where `v++` on 3.4e38 does not move.
  const ranges: Array<[number, number]> = [];
  const exclude = (lo: number, hi: number): void => {
    if (hi >= base && lo <= end) ranges.push([Math.max(lo, base), Math.min(hi, end)]);
  };
  if (spec.gateway && !spec.gateway.includes(':')) {
    const g = Number(parseIp(spec.gateway).value);
    exclude(g, g);
  }
  for (const e of spec.excludeIps ?? []) {
    const [a, b] = String(e).split('..');
    const lo = parseIp(a!.trim());
    const hi = b ? parseIp(b.trim()) : lo;
    if (lo.family !== 4 || hi.family !== 4) continue;
    exclude(Number(lo.value), Number(hi.value));
  }
  ranges.sort((x, y) => x[0] - y[0]);
  const out: string[] = [];
  // Network and broadcast addresses are never handed out; an excluded range is stepped over in one move.
  let r = 0;
  for (let v = base + 1; v < end && out.length < count; v++) {
    while (r < ranges.length && ranges[r]![1] < v) r++;
    if (r < ranges.length && ranges[r]![0] <= v) {
      v = ranges[r]![1];
      continue;
    }
    out.push(formatIPv4(v));
  }
  return out;
}

interface ServiceSpecLike {
  selector?: Record<string, string>;
  externalTrafficPolicy?: string;
  ports?: Array<{ port: number; targetPort?: number | string; protocol?: string }>;
}

/** Whether a Service's selector picks pod `p` (every label matches). */
export function selects(selector: Record<string, string> | undefined, p: PodState): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => Object.hasOwn(p.labels, k) && p.labels[k] === v);
}

function portsOf(spec: ServiceSpecLike): Array<{ port: number; targetPort: number; protocol: string }> {
  return (spec.ports ?? []).map((p) => ({ port: p.port, targetPort: Number(p.targetPort ?? p.port), protocol: p.protocol ?? 'TCP' }));
}

/**
 * The OVN load balancer Kube-OVN's controller writes for the LoadBalancer Services, from the pods' readiness and
 * MetalLB's current owners (research/kube-ovn.md §3: `handleUpdateEndpointSlice`; the 1.15.20 VIP-node marker
 * follows the announcing node). Recomputed whenever readiness or ownership changes.
 */
export function ovnLoadBalancers(objects: K8sObject[], pods: PodState[], cluster: ClusterSpec, metallb: MetalLB): LoadBalancerSpec[] {
  // Keys built from user-given names and addresses: null-prototype objects, so `__proto__` is a key like any other.
  const vips: Record<string, string> = Object.create(null);
  const mappings: Record<string, string> = Object.create(null);
  const externalIds: Record<string, string> = Object.create(null);
  for (const s of objects.filter(isLoadBalancerService)) {
    const spec = s.spec as ServiceSpecLike;
    const ingress = metallb.ingressOf(`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`);
    const eps = pods.filter((p) => p.ready && selects(spec.selector, p));
    // Kube-OVN adds the ingress IPs as OVN LB VIPs when prefer-local is on (v1.14: only for ETP=Local).
    const addVip = cluster.flags.enableOvnLbPreferLocal && (spec.externalTrafficPolicy === 'Local' || cluster.profiles.kubeOvn !== 'kube-ovn-1.14');
    // No ready endpoint ⇒ the VIP is deleted.
    if (!addVip || eps.length === 0) continue;
    for (const ip of ingress) {
      for (const p of portsOf(spec).filter((x) => x.protocol === 'TCP')) {
        vips[`${ip}:${p.port}`] = eps.map((e) => `${e.ip}:${p.targetPort}`).sort().join(',');
        const owner = metallb.owners(ip)[0];
        if (cluster.profiles.kubeOvn === 'kube-ovn-1.15.20' && spec.externalTrafficPolicy === 'Local' && owner) externalIds[`kube-ovn.io/local-external-vip/${ip}:${p.port}`] = `node-${owner}`;
      }
      if (spec.externalTrafficPolicy === 'Local') for (const e of eps) mappings[e.ip] = `${e.lsp}:0.0.0.0`;
    }
  }
  if (Object.keys(vips).length === 0) return [];
  return [{ name: 'cluster-tcp-loadbalancer', protocol: 'tcp', vips, options: { prefer_local_backend: cluster.flags.enableOvnLbPreferLocal }, ipPortMappings: mappings, externalIds }];
}


/** Derives the controllers' state. */
export function derive(objects: K8sObject[], cluster: ClusterSpec): DerivedState {
  const subnet = objects.find((o) => o.kind === 'Subnet');
  const subnetName = subnet?.metadata.name ?? 'underlay-subnet';
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const replicas = deployments.reduce((n, d) => n + Number((d.spec as { replicas?: number }).replicas ?? 1), 0);
  const addresses = ipamAddresses(subnet, replicas);
  const pods: PodState[] = [];
  for (const d of deployments) {
    const spec = d.spec as { replicas?: number; template?: { metadata?: { labels?: Record<string, string> }; spec?: { nodeName?: string } } };
    const nodeName = spec.template?.spec?.nodeName;
    for (let i = 0; i < (spec.replicas ?? 1); i++) {
      const ip = addresses[pods.length];
      if (!ip) break;
      const name = `${d.metadata.name}-${i}`;
      const namespace = d.metadata.namespace ?? 'default';
      const last = Number(parseIp(ip).value);
      pods.push({
        name, namespace, ip, ready: true,
        // The Cluster's placement, the template's nodeName, else one replica per node in turn (the document's
        // example: three pods on three nodes).
        node: (cluster.placement && Object.hasOwn(cluster.placement, name) ? cluster.placement[name] : undefined) ?? (nodeName && cluster.nodes.some((n) => n.name === nodeName) ? nodeName : cluster.nodes[pods.length % cluster.nodes.length]!.name),
        // Kube-OVN generates pod MACs; vippath derives them from the IP so they are stable and readable.
        mac: `00:00:00:${((last >>> 16) & 0xff).toString(16).padStart(2, '0')}:${((last >>> 8) & 0xff).toString(16).padStart(2, '0')}:${(last & 0xff).toString(16).padStart(2, '0')}`,
        labels: spec.template?.metadata?.labels ?? {},
        lsp: `${name}.${namespace}`,
      });
    }
  }
  const services = objects.filter(isLoadBalancerService);
  const metallb = new MetalLB(
    {
      pools: objects.filter((o) => o.kind === 'IPAddressPool') as unknown as IPAddressPoolObject[],
      advertisements: objects.filter((o) => o.kind === 'L2Advertisement') as unknown as L2AdvertisementObject[],
      nodes: cluster.nodes.map((n) => ({
        node: { metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } } },
        interfaces: [
          { name: n.nic, mac: n.mac, master: 'ovs-system' },
          { name: `${n.nic}.${cluster.vlan}`, mac: n.mac, master: 'ovs-system' },
          { name: 'br-provider', mac: n.mac },
        ],
      })),
      services: services.map((s) => {
        const eps = pods.filter((p) => selects((s.spec as ServiceSpecLike).selector, p));
        return { service: s as unknown as ServiceObject, endpoints: eps.map((p) => ({ address: p.ip, nodeName: p.node, ready: p.ready })) };
      }),
    },
    { profile: cluster.profiles.metallb },
  );
  const state: DerivedState['services'] = services.map((s) => {
    const spec = s.spec as ServiceSpecLike;
    const key = `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;
    const ingress = metallb.ingressOf(key);
    const eps = pods.filter((p) => p.ready && selects(spec.selector, p));
    return { name: s.metadata.name, namespace: s.metadata.namespace ?? 'default', ingress, owners: Object.fromEntries(ingress.map((ip) => [ip, metallb.owners(ip)])), endpoints: eps.map((p) => ({ ip: p.ip, node: p.node, pod: p.name })), ports: portsOf(spec) };
  });
  const providerServices = state.map((s) => ({ name: s.name, ingress: s.ingress, ports: s.ports }));
  const loadBalancers = ovnLoadBalancers(objects, pods, cluster, metallb);
  const subnetSpec = (subnet?.spec ?? {}) as { vlan?: string; enableExternalLBAddress?: boolean; u2oInterconnectionMac?: string };
  // Node names are user-given: a null-prototype object keeps a node named `__proto__`.
  const brProviderFlows: Record<string, string[]> = Object.create(null);
  for (const n of cluster.nodes) {
    // ovn-controller creates the patch port only where the switch is local: a node with a pod on it.
    const local = pods.some((p) => p.node === n.name);
    brProviderFlows[n.name] = kubeOvnProviderFlows({
      subnet: { name: subnetName, ...(subnetSpec.vlan ? { vlan: subnetSpec.vlan } : {}), enableExternalLBAddress: subnetSpec.enableExternalLBAddress === true },
      services: providerServices,
      underlayOfport: OFPORT.underlay,
      ...(local ? { patchOfport: OFPORT.patch } : {}),
    }).flows;
  }
  return { pods, services: state, loadBalancers, brProviderFlows, metallb, lint: lint(objects, cluster.flags) };
}

/** The JSON `vippath status --json` prints. */
export function statusJson(objects: K8sObject[], cluster: ClusterSpec): Record<string, unknown> {
  const s = derive(objects, cluster);
  return {
    nodes: cluster.nodes.map((n) => ({ name: n.name, nicMac: n.mac, ports: [`${n.nic}.${cluster.vlan}`, 'br-provider', `patch-localnet.${objects.find((o) => o.kind === 'Subnet')?.metadata.name ?? 'underlay-subnet'}-to-br-int`] })),
    pods: s.pods.map((p) => ({ name: p.name, node: p.node, ip: p.ip, mac: p.mac, ready: p.ready })),
    services: s.services.map((x) => ({ name: x.name, ingress: x.ingress, owner: Object.fromEntries(Object.entries(x.owners).map(([ip, o]) => [ip, o[0] ?? null])), ports: x.ports, endpoints: x.endpoints })),
    ovn: { loadBalancers: s.loadBalancers.map((lb) => ({ name: lb.name, protocol: lb.protocol ?? 'tcp', vips: lb.vips, ipPortMappings: lb.ipPortMappings ?? {}, options: lb.options ?? {}, externalIds: lb.externalIds ?? {} })) },
    brProviderFlows: Object.fromEntries(Object.entries(s.brProviderFlows).map(([n, f]) => [n, f.join('\n')])),
    profiles: cluster.profiles,
    lint: s.lint,
  };
}
