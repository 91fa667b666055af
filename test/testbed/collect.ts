/**
 * A snapshot of the running testbed, as `vippath collect` makes one of a cluster: `ovsdb-client backup` of its NB
 * and SB, each node's `ovs-ofctl dump-flows --names` and `show` of br-provider, `kubectl get … -o yaml` Lists in the
 * shape a real API server prints them (managedFields, status), versions.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DerivedState, K8sObject } from '@vippath/cluster';
import type { Testbed } from '../../packages/vippath/src/testbed/index.js';

/** What the API server adds to every object it prints. */
function served(o: { apiVersion: string; kind: string; metadata: Record<string, unknown> }, i: number, manager: string): Record<string, unknown> {
  return {
    ...o,
    metadata: {
      ...o.metadata,
      uid: `6f1b7c52-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(1000 + i),
      creationTimestamp: '2026-12-01T10:00:00Z',
      managedFields: [{ apiVersion: o.apiVersion, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': {} } }, manager, operation: 'Update', time: '2026-12-01T10:00:00Z' }],
    },
  };
}

/**
 * `kubectl get nodes,pods,svc,endpoints,subnets,vlans,provider-networks,ipaddresspools,l2advertisements,deploy -A
 * -o yaml` of the testbed's cluster, as a real one prints it (JSON is YAML).
 */
function kubectlList(objects: K8sObject[], state: DerivedState, nodes: Array<{ name: string }>): string {
  let i = 0;
  const items: Array<Record<string, unknown>> = [];
  for (const n of nodes) {
    items.push({ ...served({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux' } } }, i++, 'kubelet'), spec: { podCIDR: '10.244.0.0/24' }, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }], addresses: [{ type: 'Hostname', address: n.name }] } });
  }
  for (const p of state.pods) {
    items.push({
      ...served({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, labels: p.labels, annotations: { 'ovn.kubernetes.io/allocated': 'true', 'ovn.kubernetes.io/ip_address': p.ip, 'ovn.kubernetes.io/mac_address': p.mac, 'ovn.kubernetes.io/logical_switch': 'underlay-subnet', 'ovn.kubernetes.io/routed': 'true' } } }, i++, 'kube-ovn-controller'),
      spec: { nodeName: p.node, containers: [{ name: 'web', image: 'registry.k8s.io/e2e-test-images/agnhost:2.47' }] },
      status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }], hostIP: '172.18.0.2', conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }] },
    });
  }
  for (const o of objects) {
    if (o.kind === 'Cluster' || o.kind === 'Pod' || o.kind === 'Node' || o.kind === 'Deployment') continue;
    const { source: _s, ...rest } = o as K8sObject & { source?: unknown };
    const item = served(rest as never, i++, 'kubectl-client-side-apply');
    if (o.kind === 'Service') {
      const svc = state.services.find((s) => s.name === o.metadata.name)!;
      items.push({ ...item, status: { loadBalancer: { ingress: svc.ingress.map((ip) => ({ ip, ipMode: 'VIP' })) } } });
      items.push({ ...served({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: o.metadata.name, namespace: o.metadata.namespace ?? 'default' } }, i++, 'kube-controller-manager'), subsets: [{ addresses: state.pods.filter((p) => svc.endpoints.some((e) => e.ip === p.ip)).map((p) => ({ ip: p.ip, nodeName: p.node, targetRef: { kind: 'Pod', name: p.name, namespace: p.namespace } })), ports: svc.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: typeof p.targetPort === 'number' ? p.targetPort : (svc.endpoints[0]?.ports[svc.ports.indexOf(p)] ?? p.port), protocol: p.protocol })) }] });
    } else items.push({ ...item, status: {} });
  }
  // kube-ovn-controller's flags, as its Deployment carries them (the testbed's default cluster: prefer-local on, ct-skip off).
  items.push({ ...served({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'kube-ovn-controller', namespace: 'kube-system' } }, i++, 'kubectl'), spec: { template: { spec: { containers: [{ name: 'kube-ovn-controller', image: 'docker.io/kubeovn/kube-ovn', args: ['/kube-ovn/start-controller.sh', '--enable-ovn-lb-prefer-local=true', '--ls-ct-skip-dst-lport-ips=false', '--ls-dnat-mod-dl-dst=true'] }] } } }, status: { readyReplicas: 1 } });
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }, null, 1)}\n`;
}

/** Collects the running testbed into a snapshot directory, as `vippath collect` does on a cluster. */
export function collect(bed: Testbed, out: string, kubeOvn: string): void {
  mkdirSync(join(out, 'ovn'), { recursive: true });
  const c = join(bed.dir, 'c');
  for (const db of ['nb', 'sb']) writeFileSync(join(out, 'ovn', `${db}.db`), execFileSync('ovsdb-client', ['backup', `unix:${join(c, `${db}.sock`)}`]));
  bed.cluster.nodes.forEach((n, i) => {
    const d = join(out, 'nodes', n.name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'br-provider.flows'), bed.ofctl(i, 'dump-flows', 'br-provider', '--names'));
    writeFileSync(join(d, 'br-provider.ports'), bed.ofctl(i, 'show', 'br-provider'));
  });
  writeFileSync(join(out, 'cluster.yaml'), kubectlList(bed.objects, bed.state, bed.cluster.nodes));
  writeFileSync(join(out, 'versions.json'), `${JSON.stringify({ kubeOvn, metallb: 'v0.13.7', ovn: execFileSync('ovn-nbctl', ['--version'], { encoding: 'utf8' }).split('\n')[0], ovs: execFileSync('ovs-vswitchd', ['--version'], { encoding: 'utf8' }).split('\n')[0] })}\n`);
}
