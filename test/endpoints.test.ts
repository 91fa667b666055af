/**
 * A Service's endpoints as the controllers compute them, on a real cluster's objects (test/fixtures/snapshot):
 * named targetPorts resolved per pod (Kubernetes FindPort) or taken from the EndpointSlice's port of the Service
 * port's name (Kube-OVN endpoint_slice.go), readiness from the slice's conditions (Kube-OVN: `ready` unset or true;
 * MetalLB ≥ 0.14.5: ready or serving), terminating and terminal pods, `publishNotReadyAddresses`, a readiness change
 * during the run, and the snapshot vippath writes keeping all of it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterFrom, derive, loadManifests, loadSnapshot, SimulatedCluster, writeSnapshot, type ClusterSpec } from '@vippath/cluster';

const fixture = readFileSync(fileURLToPath(new URL('./fixtures/snapshot/cluster.yaml', import.meta.url)), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'vippath-endpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const VIP = '10.180.204.252:80';
/** The Service's cluster IP in the fixture: a VIP of the same load balancer, with the same backends. */
const CLUSTER_IP = '10.96.12.7:80';
const both = (backends: string): Record<string, string> => ({ [CLUSTER_IP]: backends, [VIP]: backends });

/** The fixture without its Endpoints and EndpointSlice (the selector's pods are the endpoints), edited by `edit`. */
function cluster(edit: (text: string) => string, keepEndpoints = false): { objects: ReturnType<typeof loadManifests>['objects']; spec: ClusterSpec } {
  let text = fixture;
  if (!keepEndpoints) text = text.replace(/- apiVersion: v1\n {2}kind: Endpoints\n[\s\S]*?(?=- apiVersion: kubeovn\.io\/v1\n {2}kind: ProviderNetwork)/, '');
  text = edit(text);
  const { objects } = loadManifests(text, 'cluster.yaml');
  return { objects, spec: clusterFrom(objects) };
}

/** The Service's port 80 as `web`, forwarding to the container port named `http`. */
const namedPort = (t: string): string => t.replace('ports: [{nodePort: 31380, port: 80, protocol: TCP, targetPort: 80}]', 'ports: [{name: web, nodePort: 31380, port: 80, protocol: TCP, targetPort: http}]');
/** web-a's and web-b's containers with `ports` (YAML flow lists). */
const containerPorts = (a: string, b: string) => (t: string): string =>
  t.replace('containers: [{name: nginx, image: kubeovn/agnhost:2.47, args: [netexec, --http-port, "80"]}]', `containers: [{name: nginx, image: kubeovn/agnhost:2.47, ports: ${a}}]`)
    .replace('spec: {nodeName: node2, containers: [{name: nginx, image: kubeovn/agnhost:2.47}]}', `spec: {nodeName: node2, containers: [{name: nginx, image: kubeovn/agnhost:2.47, ports: ${b}}]}`);
const lb = (c: ReturnType<typeof cluster>) => derive(c.objects, c.spec).loadBalancers.find((l) => l.name === 'cluster-tcp-loadbalancer')!;
const codes = (c: ReturnType<typeof cluster>) => derive(c.objects, c.spec).lint.map((d) => d.code);

describe('named targetPorts', () => {
  it('the selector\'s pods: each backend on the port its container names (8080, 9090) — it was "10.180.204.11:NaN"', () => {
    const c = cluster((t) => containerPorts('[{name: http, containerPort: 8080}]', '[{name: metrics, containerPort: 9100}, {name: http, containerPort: 9090, protocol: TCP}]')(namedPort(t)));
    expect(lb(c).vips).toEqual(both('10.180.204.11:8080,10.180.204.12:9090'));
    expect(codes(c)).not.toContain('TARGET_PORT_UNRESOLVED');
    const s = derive(c.objects, c.spec);
    expect(s.services[0]!.endpoints.map((e) => `${e.pod} ${e.ports.join(',')}`)).toEqual(['web-a 8080', 'web-b 9090']);
  });

  it('a pod without a container port of that name and protocol is no backend of the port, and the lint says which', () => {
    const c = cluster((t) => containerPorts('[{name: http, containerPort: 8080}]', '[{name: http, containerPort: 9090, protocol: UDP}]')(namedPort(t)));
    expect(lb(c).vips).toEqual(both('10.180.204.11:8080'));
    const d = derive(c.objects, c.spec).lint.find((x) => x.code === 'TARGET_PORT_UNRESOLVED');
    expect(d).toMatchObject({ severity: 'warning', object: 'Service/default/nginx-lb', field: 'spec.ports[].targetPort' });
    expect(d!.message).toContain('web-b');
    expect(d!.message).not.toContain('web-a');
    // None resolves: no backend, so no VIP (Kube-OVN deletes a VIP without backends).
    const none = cluster(namedPort);
    expect(lb(none).vips).toEqual({});
    expect(derive(none.objects, none.spec).lint.find((x) => x.code === 'TARGET_PORT_UNRESOLVED')!.consequence).toContain('not written');
  });

  it('a sidecar\'s port counts (an init container with restartPolicy Always), a plain init container\'s does not', () => {
    const sidecar = (policy: string) => (t: string): string => namedPort(t).replace('containers: [{name: nginx, image: kubeovn/agnhost:2.47, args: [netexec, --http-port, "80"]}]', `containers: [{name: nginx, image: kubeovn/agnhost:2.47}]\n    initContainers: [{name: proxy, image: envoy, ${policy}ports: [{name: http, containerPort: 15001}]}]`);
    expect(lb(cluster(sidecar('restartPolicy: Always, '))).vips).toEqual(both('10.180.204.11:15001'));
    expect(lb(cluster(sidecar(''))).vips).toEqual({});
  });

  it('given EndpointSlices: the port of the Service port\'s name in the slice, not the Service\'s targetPort', () => {
    const c = cluster((t) => namedPort(t).replace('ports: [{name: "", port: 80, protocol: TCP}]', 'ports: [{name: web, port: 8443, protocol: TCP}]'), true);
    expect(lb(c).vips).toEqual(both('10.180.204.11:8443,10.180.204.12:8443'));
    // The slice's port has another name: Kube-OVN finds none and writes no VIP; the lint names the slice.
    const other = cluster(namedPort, true);
    expect(lb(other).vips).toEqual({});
    expect(derive(other.objects, other.spec).lint.find((x) => x.code === 'ENDPOINT_PORT_MISSING')).toMatchObject({ object: 'EndpointSlice/default/nginx-lb-x7k2p', field: 'ports' });
    // An unnamed Service port matches the slice's unnamed port (the fixture as collected).
    const plain = cluster((t) => t, true);
    expect(lb(plain).vips).toEqual(both('10.180.204.11:80,10.180.204.12:80'));
    expect(codes(plain)).not.toContain('ENDPOINT_PORT_MISSING');
  });
});

describe('readiness', () => {
  const sliceConditions = (b: string) => (t: string): string => t.replace('- {addresses: [10.180.204.12], conditions: {ready: true, serving: true, terminating: false}, nodeName: node2,', `- {addresses: [10.180.204.12], conditions: ${b}, nodeName: node2,`);

  it('a terminating endpoint (ready false, serving true): no backend, still mapped; MetalLB 0.14.5+ still counts its node, 0.13.7 does not', () => {
    const c = cluster(sliceConditions('{ready: false, serving: true, terminating: true}'), true);
    const l = lb(c);
    expect(l.vips).toEqual(both('10.180.204.11:80'));
    expect(l.ipPortMappings).toEqual({ '10.180.204.11': 'web-a.default:0.0.0.0', '10.180.204.12': 'web-b.default:0.0.0.0' });
    // web-a not ready either: only web-b's node may announce, and only where a serving endpoint counts.
    const serving = cluster((t) => sliceConditions('{ready: false, serving: true, terminating: true}')(t).replace('- {addresses: [10.180.204.11], conditions: {ready: true, serving: true, terminating: false}, nodeName: node1,', '- {addresses: [10.180.204.11], conditions: {ready: false, serving: false, terminating: false}, nodeName: node1,'), true);
    const owners = (metallb: ClusterSpec['profiles']['metallb']) => derive(serving.objects, { ...serving.spec, profiles: { ...serving.spec.profiles, metallb } }).metallb.owners('10.180.204.252');
    expect(owners('metallb-current')).toEqual(['node2']);
    expect(owners('metallb-0.13.7')).toEqual([]);
    expect(lb(serving).vips).toEqual({});
    // A condition left out of the slice is unknown, which Kube-OVN reads as ready.
    expect(lb(cluster(sliceConditions('{}'), true)).vips).toEqual(both('10.180.204.11:80,10.180.204.12:80'));
    expect(lb(cluster(sliceConditions('{ready: false}'), true)).vips).toEqual(both('10.180.204.11:80'));
  });

  it('the selector\'s pods: a pod being deleted is not ready though its Ready condition is True, unless the Service publishes not-ready addresses', () => {
    const deleting = (t: string): string => t.replace('    name: web-b\n', '    name: web-b\n    deletionTimestamp: "2024-05-01T10:05:00Z"\n');
    const c = cluster(deleting);
    expect(lb(c).vips).toEqual(both('10.180.204.11:80'));
    expect(lb(c).ipPortMappings).toMatchObject({ '10.180.204.12': 'web-b.default:0.0.0.0' });
    const published = cluster((t) => deleting(t).replace('    selector: {app: nginx}\n    type: LoadBalancer', '    selector: {app: nginx}\n    publishNotReadyAddresses: true\n    type: LoadBalancer'));
    expect(lb(published).vips).toEqual(both('10.180.204.11:80,10.180.204.12:80'));
  });

  it('a pod that ran to completion is no pod of the path (and the lint says so)', () => {
    const c = cluster((t) => t.replace('    conditions: [{type: Ready, status: "True"}]\n    phase: Running\n    podIP: 10.180.204.12', '    conditions: [{type: Ready, status: "False"}]\n    phase: Succeeded\n    podIP: 10.180.204.12'));
    expect(derive(c.objects, c.spec).pods.map((p) => p.name)).toEqual(['web-a']);
    expect(codes(c)).toContain('PODS_TERMINAL');
  });

  it('a readiness change during the run overrides the slice\'s conditions, as the controller recomputes them from the pod', () => {
    const c = cluster(sliceConditions('{ready: false, serving: false, terminating: false}'), true);
    const sim = new SimulatedCluster(c.objects, c.spec, { trace: false });
    expect(sim.state.loadBalancers[0]!.vips).toEqual(both('10.180.204.11:80'));
    sim.setPodReady('web-b', false, 5);
    sim.setPodReady('web-b', true, 10);
    sim.advance(20);
    expect(sim.state.loadBalancers[0]!.vips).toEqual(both('10.180.204.11:80,10.180.204.12:80'));
  });
});

describe('cluster IPs', () => {
  it('the Service\'s cluster IPs are VIPs of the same load balancer (Kube-OVN ServiceClusterIPs), without the 1.15 VIP-node marker', () => {
    const c = cluster((t) => t);
    expect(lb(c).vips).toEqual(both('10.180.204.11:80,10.180.204.12:80'));
    const v115 = derive(c.objects, { ...c.spec, profiles: { ...c.spec.profiles, kubeOvn: 'kube-ovn-1.15.20' } }).loadBalancers[0]!;
    expect(Object.keys(v115.externalIds ?? {})).toEqual([`kube-ovn.io/local-external-vip/${VIP}`]);
    // clusterIPs rules over clusterIP; "None" (headless) is no VIP.
    const listed = cluster((t) => t.replace('    clusterIP: 10.96.12.7\n', '    clusterIP: 10.96.12.7\n    clusterIPs: [10.96.12.8]\n'));
    expect(Object.keys(lb(listed).vips)).toEqual(['10.96.12.8:80', VIP]);
    const headless = cluster((t) => t.replace('    clusterIP: 10.96.12.7\n', '    clusterIP: None\n'));
    expect(Object.keys(lb(headless).vips)).toEqual([VIP]);
  });

  it('prefer-local off: the cluster IP is still a VIP, the ingress IP is not, and no ip_port_mappings', () => {
    const c = cluster((t) => t);
    const off = derive(c.objects, { ...c.spec, flags: { ...c.spec.flags, enableOvnLbPreferLocal: false } }).loadBalancers[0]!;
    expect(off.vips).toEqual({ [CLUSTER_IP]: '10.180.204.11:80,10.180.204.12:80' });
    expect(off.ipPortMappings).toBeUndefined();
  });
});

describe('the snapshot vippath writes', () => {
  it('keeps per-pod ports and the slice\'s conditions: loaded again, the same load balancer and MetalLB endpoints', () => {
    const c = cluster((t) => sliceTerminating(containerPorts('[{name: http, containerPort: 8080}]', '[{name: http, containerPort: 9090}]')(namedPort(t))));
    const before = derive(c.objects, c.spec);
    expect(before.loadBalancers[0]!.vips).toEqual(both('10.180.204.11:8080'));
    const out = join(dir, 'named');
    writeSnapshot(out, c.objects, c.spec);
    const loaded = loadSnapshot(out);
    const after = derive(loaded.objects, loaded.cluster);
    expect(after.loadBalancers).toEqual(before.loadBalancers);
    expect(after.services).toEqual(before.services);
    // web-b (being deleted, still serving) keeps counting for MetalLB ≥ 0.14.5 after the round trip.
    const current = (x: typeof c.spec) => ({ ...x, profiles: { ...x.profiles, metallb: 'metallb-current' as const } });
    expect(derive(loaded.objects, current(loaded.cluster)).metallb.owners('10.180.204.252')).toEqual(derive(c.objects, current(c.spec)).metallb.owners('10.180.204.252'));
    expect(after.lint.map((d) => d.code)).not.toContain('ENDPOINT_PORT_MISSING');
  });
});

/** web-b being deleted (selector path: its conditions become ready false, serving true). */
function sliceTerminating(t: string): string {
  return t.replace('    name: web-b\n', '    name: web-b\n    deletionTimestamp: "2024-05-01T10:05:00Z"\n');
}
