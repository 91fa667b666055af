import { describe, expect, it } from 'vitest';
import { loadManifests, ManifestLimitError, ManifestLoadError, MANIFEST_LIMITS, nearestKind } from './manifests.js';

/** What `kubectl get svc,endpoints,nodes,pods -o yaml` prints (shape of a real 1.29 cluster, trimmed). */
export const KUBECTL_LIST = `apiVersion: v1
items:
- apiVersion: v1
  kind: Service
  metadata:
    creationTimestamp: "2024-05-01T10:00:00Z"
    managedFields:
    - apiVersion: v1
      fieldsType: FieldsV1
      fieldsV1:
        f:spec:
          f:ports:
            .: {}
            k:{"port":80,"protocol":"TCP"}: {}
      manager: kubectl-client-side-apply
      operation: Update
    name: nginx-lb
    namespace: default
    resourceVersion: "4242"
    uid: 0b8f2c9e-0000-4000-8000-000000000001
  spec:
    allocateLoadBalancerNodePorts: true
    clusterIP: 10.96.12.7
    externalTrafficPolicy: Local
    ports:
    - nodePort: 31380
      port: 80
      protocol: TCP
      targetPort: 80
    selector:
      app: nginx
    type: LoadBalancer
  status:
    loadBalancer:
      ingress:
      - ip: 10.180.204.252
        ipMode: VIP
- apiVersion: v1
  kind: Endpoints
  metadata:
    name: nginx-lb
    namespace: default
  subsets:
  - addresses:
    - ip: 10.180.204.11
      nodeName: node1
      targetRef: {kind: Pod, name: web-a, namespace: default}
    - ip: 10.180.204.12
      nodeName: node2
      targetRef: {kind: Pod, name: web-b, namespace: default}
    ports:
    - port: 80
      protocol: TCP
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: kube-root-ca.crt
    namespace: default
  data:
    ca.crt: "-----BEGIN CERTIFICATE-----"
kind: List
metadata:
  resourceVersion: ""
`;

describe('manifests as kubectl prints them (issue 18 item 3)', () => {
  it('a kind: List is read item by item, each with its own position; managedFields and status are accepted', () => {
    const { objects, ignored } = loadManifests(KUBECTL_LIST, 'cluster.yaml');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}@${o.source.line}`)).toEqual(['Service/nginx-lb@3', 'Endpoints/nginx-lb@38']);
    expect(objects[0]!.metadata).not.toHaveProperty('managedFields');
    expect(objects[0]!.status).toEqual({ loadBalancer: { ingress: [{ ip: '10.180.204.252', ipMode: 'VIP' }] } });
    expect(ignored).toEqual([{ kind: 'ConfigMap', name: 'kube-root-ca.crt', line: 54, file: 'cluster.yaml' }]);
  });

  it('typed lists (ServiceList) too, and a bad item is an error at the item', () => {
    const text = 'apiVersion: v1\nkind: ServiceList\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Service\n  metadata: {}\n';
    expect(() => loadManifests(text, 'l.yaml')).toThrow(/^l\.yaml:7:3: the object has no metadata\.name$/);
    expect(() => loadManifests('apiVersion: v1\nkind: List\nitems: [3]\n', 'l.yaml')).toThrow(/items\[0\] must be an object/);
    expect(() => loadManifests('apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: s}\n  spec: {ports: [{port: 0}]}\n', 'l.yaml')).toThrow(/^l\.yaml:7:\d+: Service spec\.ports\.0\.port must be a port/);
  });
});

describe('input dropped silently (issue 19 item 7)', () => {
  it('a trailing --- and a comment-only document are valid YAML, not "a document must be a mapping"', () => {
    const one = 'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n';
    expect(loadManifests(`${one}---\n`).objects).toHaveLength(1);
    expect(loadManifests(`${one}---\n# nothing here yet\n`).objects).toHaveLength(1);
    expect(loadManifests(`---\n# header\n---\n${one}`).objects).toHaveLength(1);
  });

  it('a misspelled kind is listed as ignored with the kind it most likely meant', () => {
    const { ignored } = loadManifests('apiVersion: v1\nkind: Servcie\nmetadata: {name: s}\n', 'x.yaml');
    expect(ignored).toEqual([{ kind: 'Servcie', name: 's', line: 1, file: 'x.yaml', didYouMean: 'Service' }]);
    expect(nearestKind('l2advertisement')).toBe('L2Advertisement');
    expect(nearestKind('Deploymnet')).toBe('Deployment');
    expect(nearestKind('ConfigMap')).toBeUndefined();
    expect(nearestKind('IQ')).toBeUndefined();
  });

  it('kind: Pod is read (with its status), not dropped', () => {
    const { objects } = loadManifests('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: node1}\nstatus: {podIP: 10.180.204.11}\n');
    expect(objects.map((o) => [o.kind, o.spec?.nodeName, o.status?.podIP])).toEqual([['Pod', 'node1', '10.180.204.11']]);
  });

  it('a Pod whose status.conditions is not a list is an error at its position (fuzz crash: conditions.find is not a function)', () => {
    expect(() => loadManifests('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus:\n  conditions: "\\u0000"\n', 'p.yaml')).toThrow(/^p\.yaml:5:15: Pod status\.conditions must be a list of mappings/);
    expect(() => loadManifests('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: 3}}}\n', 'd.yaml')).toThrow(/Deployment spec\.template\.spec\.containers must be a list of mappings/);
  });

  it('a duplicate key in a mapping is an error at the second key', () => {
    expect(() => loadManifests('apiVersion: v1\nkind: Node\nmetadata: {name: a}\nmetadata: {name: b}\n', 'd.yaml')).toThrow(/^d\.yaml:4:1: duplicate key "metadata"/);
  });
});

describe('limits (issue 19 item 6): typed errors naming the limit, checked before the parser spends memory', () => {
  const limitOf = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(ManifestLimitError);
      expect(e).toBeInstanceOf(ManifestLoadError);
      expect((e as ManifestLimitError).code).toBe('BAD_MANIFEST');
      return (e as ManifestLimitError).limit;
    }
    throw new Error('no limit hit');
  };
  it('file size, scalar size, tokens, aliases, alias work, objects', () => {
    const obj = (i: number): string => `---\napiVersion: v1\nkind: Node\nmetadata: {name: n${i}}\n`;
    expect(limitOf(() => loadManifests(obj(1), 'f', { bytes: 10 }))).toBe('bytes');
    expect(limitOf(() => loadManifests(`apiVersion: v1\nkind: Node\nmetadata: {name: "${'x'.repeat(MANIFEST_LIMITS.scalarBytes + 1)}"}\n`))).toBe('scalarBytes');
    expect(limitOf(() => loadManifests(obj(1), 'f', { tokens: 5 }))).toBe('tokens');
    let aliases = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: &a v\n';
    for (let i = 0; i < MANIFEST_LIMITS.aliases + 1; i++) aliases += `  k${i}: *a\n`;
    expect(limitOf(() => loadManifests(aliases))).toBe('aliases');
    expect(limitOf(() => loadManifests(aliases, 'f', { aliases: 1e9, aliasWork: 1000 }))).toBe('aliasWork');
    expect(limitOf(() => loadManifests([1, 2, 3, 4].map(obj).join(''), 'f', { objects: 3 }))).toBe('objects');
    expect(() => loadManifests(obj(1), 'f', { bytes: 10 })).toThrow(/^f:1:1: the file is \d+ bytes \(limit bytes = 10\)$/);
  });

  it('10 000 Nodes load (they aborted with std::bad_alloc at 3.2 GB)', () => {
    let text = '';
    for (let i = 0; i < 10_000; i++) text += `---\napiVersion: v1\nkind: Node\nmetadata: {name: node-${i}, labels: {kubernetes.io/hostname: node-${i}}}\n`;
    expect(loadManifests(text).objects).toHaveLength(10_000);
  }, 60_000);
});
