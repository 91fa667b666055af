/**
 * Every Service with a cluster IP in Kube-OVN's VPC load balancers, not only LoadBalancer ones (kube-ovn
 * release-1.14 and release-1.15 pkg/controller/endpoint_slice.go handleUpdateEndpointSlice), and the
 * ip_port_mappings each version writes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFrame, parseFrame } from '@vippath/wire';
import { derive } from './derive.js';
import { loadManifests } from './manifests.js';
import { DEFAULT_CLUSTER, defaultObjects, type ClusterSpec } from './scenario.js';
import { SimulatedCluster } from './simulation.js';
import { loadSnapshot, writeSnapshot } from './snapshot.js';

const profile = (kubeOvn: ClusterSpec['profiles']['kubeOvn']): ClusterSpec => ({ ...DEFAULT_CLUSTER, profiles: { ...DEFAULT_CLUSTER.profiles, kubeOvn } });

// The default scenario's three nginx pods (10.180.204.2–.4 on node1–3), then api-0 (.5, node1), api-1 (.6, node2)
// and np-0 (.7, node3), addressed by IPAM in object order.
const EXTRA = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec: {replicas: 2, template: {metadata: {labels: {app: api}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: np}
spec: {replicas: 1, template: {metadata: {labels: {app: np}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: ClusterIP
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10]
  selector: {app: nginx}
  ports: [{name: http, port: 8080, targetPort: 80, protocol: TCP}, {name: dns, port: 53, targetPort: 53, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: untyped}
spec: {clusterIP: 10.96.0.12, selector: {app: nginx}, ports: [{port: 82, targetPort: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: itp-local}
spec: {type: ClusterIP, clusterIP: 10.96.0.20, internalTrafficPolicy: Local, selector: {app: api}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: nodeport-local}
spec: {type: NodePort, clusterIP: 10.96.0.30, externalTrafficPolicy: Local, internalTrafficPolicy: Local, selector: {app: np}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: headless}
spec: {clusterIP: None, clusterIPs: [None], selector: {app: nginx}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {type: ExternalName, externalName: example.com, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: no-selector}
spec: {type: ClusterIP, clusterIP: 10.96.0.40, ports: [{port: 80}]}
`;

const objects = () => [...defaultObjects(), ...loadManifests(EXTRA, 'extra.yaml').objects];
const NGINX = (port: number): string => `10.180.204.2:${port},10.180.204.3:${port},10.180.204.4:${port}`;

describe('Services in the VPC load balancers', () => {
  it('ClusterIP, untyped and NodePort Services\' cluster IPs are VIPs; headless, ExternalName and selector-less ones are not', () => {
    for (const kubeOvn of ['kube-ovn-1.14', 'kube-ovn-1.15.20'] as const) {
      const s = derive(objects(), profile(kubeOvn));
      const [tcp, udp] = s.loadBalancers;
      // handleUpdateEndpointSlice: lbVips = util.ServiceClusterIPs(*svc) whatever spec.type; each Service port into
      // the LB of its protocol, backends the ready endpoints on the port's targetPort.
      expect(tcp!.vips).toEqual({
        '10.180.204.252:80': NGINX(80),
        '10.96.0.10:8080': NGINX(80),
        '10.96.0.12:82': NGINX(80),
        '10.96.0.20:80': '10.180.204.5:80,10.180.204.6:80',
        '10.96.0.30:80': '10.180.204.7:80',
      });
      expect(udp!.vips).toEqual({ '10.96.0.10:53': NGINX(53) });
      // The VIP-bearing Services stay the LoadBalancer ones (MetalLB allocates for no other).
      expect(s.services.map((x) => x.name)).toEqual(['nginx-lb']);
    }
  });

  it('ip_port_mappings: LoadBalancer + ETP Local and ClusterIP + ITP Local only (isPreferLocalBackend), not NodePort', () => {
    for (const kubeOvn of ['kube-ovn-1.14', 'kube-ovn-1.15.20'] as const) {
      const tcp = derive(objects(), profile(kubeOvn)).loadBalancers[0]!;
      expect(tcp.ipPortMappings).toEqual({
        '10.180.204.2': 'deploy-169402624-0.default:0.0.0.0', '10.180.204.3': 'deploy-169402624-1.default:0.0.0.0', '10.180.204.4': 'deploy-169402624-2.default:0.0.0.0',
        '10.180.204.5': 'api-0.default:0.0.0.0', '10.180.204.6': 'api-1.default:0.0.0.0',
      });
    }
  });

  it('a pod\'s frame to another Service\'s cluster IP is DNATed by OVN to that Service\'s backend', () => {
    const sim = new SimulatedCluster(objects(), DEFAULT_CLUSTER);
    // deploy-169402624-2 (node3) → nodeport-local's cluster IP; its one backend is np-0 (10.180.204.7, node3).
    const syn = buildFrame({ dst: '00:00:00:00:00:01', src: '00:00:00:b4:cc:04', ipv4: { src: '10.180.204.4', dst: '10.96.0.30' }, tcp: { srcPort: 40000, dstPort: 80, flags: 0x002 } });
    const r = sim.ls.process(syn, 'deploy-169402624-2.default', 'node3', 0);
    expect(r.verdict).toBe('output');
    if (r.verdict !== 'output') return;
    expect(r.outputs.map((o) => o.port)).toEqual(['np-0.default']);
    const out = parseFrame(r.outputs[0]!.frame);
    expect([out.ipv4?.src, out.ipv4?.dst, out.tcp?.srcPort, out.tcp?.dstPort]).toEqual(['10.180.204.4', '10.180.204.7', 40000, 80]);
  });
});

// Pods given as objects, an ITP Local ClusterIP Service and its EndpointSlice made by hand: `a` with a targetRef,
// `b` being deleted (not ready), `c` with or without a targetRef.
const handMade = (cRef: boolean): string => `${['a', 'b', 'c'].map((n, i) => `apiVersion: v1
kind: Pod
metadata: {name: ${n}, namespace: default, labels: {app: x}${n === 'b' ? ', deletionTimestamp: "2026-01-01T00:00:00Z"' : ''}}
spec: {nodeName: node${i + 1}}
status: {podIP: 10.180.204.${20 + i}, conditions: [{type: Ready, status: "True"}]}
---
`).join('')}apiVersion: v1
kind: Service
metadata: {name: x, namespace: default}
spec: {type: ClusterIP, clusterIP: 10.96.0.50, internalTrafficPolicy: Local, selector: {app: x}, ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: x-1, namespace: default, labels: {kubernetes.io/service-name: x}}
addressType: IPv4
ports: [{name: http, port: 80}]
endpoints:
- {addresses: [10.180.204.20], conditions: {ready: true}, targetRef: {kind: Pod, name: a, namespace: default}}
- {addresses: [10.180.204.21], conditions: {ready: false, serving: true, terminating: true}, targetRef: {kind: Pod, name: b, namespace: default}}
- {addresses: [10.180.204.22], conditions: {ready: true}${cRef ? ', targetRef: {kind: Pod, name: c, namespace: default}' : ''}}
`;
const withHandMade = (cRef: boolean, extra = '') => [...defaultObjects().filter((o) => o.kind !== 'Deployment'), ...loadManifests(handMade(cRef) + extra, 'x.yaml').objects];
// Pod d, listed only in a slice whose port is not the Service's: a backend of no port.
const OTHER_SLICE = `---
apiVersion: v1
kind: Pod
metadata: {name: d, namespace: default, labels: {app: x}}
spec: {nodeName: node1}
status: {podIP: 10.180.204.23, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: x-2, namespace: default, labels: {kubernetes.io/service-name: x}}
addressType: IPv4
ports: [{name: other, port: 81}]
endpoints:
- {addresses: [10.180.204.23], conditions: {ready: true}, targetRef: {kind: Pod, name: d, namespace: default}}
`;

describe('endpoints without a targetRef, and terminating ones, under prefer-local', () => {
  it('1.14 maps every endpoint with a targetRef, terminating or not (getIPPortMappingBackend)', () => {
    const s = derive(withHandMade(true), profile('kube-ovn-1.14'));
    expect(s.loadBalancers[0]!.vips).toEqual({ '10.96.0.50:80': '10.180.204.20:80,10.180.204.22:80' });
    expect(s.loadBalancers[0]!.ipPortMappings).toEqual({ '10.180.204.20': 'a.default:0.0.0.0', '10.180.204.21': 'b.default:0.0.0.0', '10.180.204.22': 'c.default:0.0.0.0' });
  });

  it('a slice without the Service port\'s name: 1.14 maps none of its endpoints (getIPPortMappingBackend skips it), 1.15 maps them (getIPPortMapping reads every slice)', () => {
    const m14 = derive(withHandMade(true, OTHER_SLICE), profile('kube-ovn-1.14')).loadBalancers[0]!;
    const m15 = derive(withHandMade(true, OTHER_SLICE), profile('kube-ovn-1.15.20')).loadBalancers[0]!;
    expect(m14.vips).toEqual({ '10.96.0.50:80': '10.180.204.20:80,10.180.204.22:80' });
    expect(m15.vips).toEqual(m14.vips);
    expect(Object.keys(m14.ipPortMappings!).sort()).toEqual(['10.180.204.20', '10.180.204.21', '10.180.204.22']);
    expect(Object.keys(m15.ipPortMappings!).sort()).toEqual(['10.180.204.20', '10.180.204.22', '10.180.204.23']);
  });

  it('1.14 panics on one without a targetRef: an error finding says so, and the Service\'s VIP is not written', () => {
    const s = derive(withHandMade(false), profile('kube-ovn-1.14'));
    expect(s.loadBalancers[0]!.vips).toEqual({});
    expect(s.loadBalancers[0]!.ipPortMappings).toBeUndefined();
    expect(s.lint.filter((d) => d.code === 'KUBE_OVN_PANIC_NO_TARGETREF')).toEqual([expect.objectContaining({ severity: 'error', object: 'EndpointSlice/default/x-1', field: 'endpoints[2].targetRef' })]);
  });

  it('1.15 skips it (Service with a selector) and the terminating pod (addIPPortMappingEntry), the backends stay', () => {
    const s = derive(withHandMade(false), profile('kube-ovn-1.15.20'));
    expect(s.loadBalancers[0]!.vips).toEqual({ '10.96.0.50:80': '10.180.204.20:80,10.180.204.22:80' });
    expect(s.loadBalancers[0]!.ipPortMappings).toEqual({ '10.180.204.20': 'a.default:0.0.0.0' });
    expect(s.lint.filter((d) => d.code === 'ENDPOINT_WITHOUT_TARGETREF').map((d) => d.severity)).toEqual(['warning']);
    expect(s.lint.some((d) => d.code === 'KUBE_OVN_PANIC_NO_TARGETREF')).toBe(false);
  });
});

// A selector-less ClusterIP Service whose EndpointSlice is given: one underlay pod (10.180.204.3) and one address
// off the underlay (an overlay pod's, 10.16.0.9).
const SELECTORLESS = `apiVersion: v1
kind: Service
metadata: {name: manual, namespace: default}
spec: {type: ClusterIP, clusterIP: 10.96.0.60, ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: manual-1, namespace: default, labels: {kubernetes.io/service-name: manual}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- {addresses: [10.180.204.3], conditions: {ready: true}, targetRef: {kind: Pod, name: deploy-169402624-1, namespace: default}}
- {addresses: [10.16.0.9], conditions: {ready: true}}
`;

describe('a Service without a selector', () => {
  it('has the given endpoints on the underlay; an address off it is a warning (an error only for a LoadBalancer Service)', () => {
    const s = derive([...defaultObjects(), ...loadManifests(SELECTORLESS, 'm.yaml').objects], DEFAULT_CLUSTER);
    expect(s.loadBalancers[0]!.vips['10.96.0.60:80']).toBe('10.180.204.3:8080');
    expect(s.lint.filter((d) => d.code === 'ENDPOINT_WITHOUT_POD').map((d) => [d.severity, d.field])).toEqual([['warning', 'endpoints[1].addresses[0]']]);
  });

  it('keeps its endpoints through writeSnapshot → loadSnapshot (the snapshot writes every load-balanced Service\'s)', () => {
    const objects = [...defaultObjects(), ...loadManifests(SELECTORLESS, 'm.yaml').objects];
    const dir = mkdtempSync(join(tmpdir(), 'vippath-derive-services-'));
    try {
      writeSnapshot(dir, objects, DEFAULT_CLUSTER);
      const loaded = loadSnapshot(dir);
      expect(derive(loaded.objects, loaded.cluster).loadBalancers).toEqual(derive(objects, DEFAULT_CLUSTER).loadBalancers);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
