/**
 * The default scenario (scenario.ts's `defaultObjects`) twice: as the YAML it is written in, and as the
 * objects `loadManifests` makes of it, kept here parsed so a start with the default scenario neither loads the
 * `yaml` package nor parses (together ≈ 90 ms of CPU, bench/README "A small capture, start to finish"). The
 * YAML is the source: default-scenario.test.ts checks that loading it gives these objects exactly (values, key
 * order, source positions) — change both together. Not exported from the package.
 */
import type { K8sObject } from './manifests.js';

/** The file name the default scenario's objects and diagnostics cite. */
export const DEFAULT_SCENARIO_FILE = '<default scenario>';

/** The default scenario as YAML: the seed document's example (scenario.ts says what differs from it). */
export const DEFAULT_MANIFESTS = `
apiVersion: kubeovn.io/v1
kind: ProviderNetwork
metadata: {name: provider}
spec: {defaultInterface: underlay0.341, autoCreateVlanSubinterfaces: true}
---
apiVersion: kubeovn.io/v1
kind: Vlan
metadata: {name: underlay-vlan}
spec: {id: 0, provider: provider}
---
apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: underlay-subnet}
spec:
  protocol: IPv4
  provider: ovn
  cidrBlock: 10.180.204.0/24
  gateway: 10.180.204.1
  vlan: underlay-vlan
  excludeIps: [10.180.204.250, 10.180.204.251, 10.180.204.252]
  natOutgoing: false
  enableExternalLBAddress: true
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: underlay-pool, namespace: metallb-system}
spec: {addresses: [10.180.204.250-10.180.204.254]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2-advert, namespace: metallb-system}
spec: {ipAddressPools: [underlay-pool]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: deploy-169402624, labels: {app: nginx}}
spec:
  replicas: 3
  selector: {matchLabels: {app: nginx}}
  template:
    metadata:
      annotations: {ovn.kubernetes.io/logical_switch: underlay-subnet}
      labels: {app: nginx}
    spec:
      containers: [{name: nginx, image: kubeovn/agnhost:2.47, args: [netexec, --http-port, "80"]}]
---
apiVersion: v1
kind: Service
metadata:
  name: nginx-lb
  annotations: {metallb.universe.tf/loadBalancerIPs: 10.180.204.252}
spec:
  externalTrafficPolicy: Local
  ipFamilies: [IPv4]
  ipFamilyPolicy: PreferDualStack
  ports: [{port: 80, protocol: TCP, targetPort: 80}]
  selector: {app: nginx}
  type: LoadBalancer
`;

/** `loadManifests(DEFAULT_MANIFESTS, DEFAULT_SCENARIO_FILE).objects`, as data. */
export const DEFAULT_OBJECTS: readonly K8sObject[] = [
  {"apiVersion": "kubeovn.io/v1", "kind": "ProviderNetwork", "metadata": {"name": "provider"}, "spec": {"defaultInterface": "underlay0.341", "autoCreateVlanSubinterfaces": true}, "source": {"file": "<default scenario>", "line": 2, "column": 1}},
  {"apiVersion": "kubeovn.io/v1", "kind": "Vlan", "metadata": {"name": "underlay-vlan"}, "spec": {"id": 0, "provider": "provider"}, "source": {"file": "<default scenario>", "line": 7, "column": 1}},
  {"apiVersion": "kubeovn.io/v1", "kind": "Subnet", "metadata": {"name": "underlay-subnet"}, "spec": {"protocol": "IPv4", "provider": "ovn", "cidrBlock": "10.180.204.0/24", "gateway": "10.180.204.1", "vlan": "underlay-vlan", "excludeIps": ["10.180.204.250", "10.180.204.251", "10.180.204.252"], "natOutgoing": false, "enableExternalLBAddress": true}, "source": {"file": "<default scenario>", "line": 12, "column": 1}},
  {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "underlay-pool", "namespace": "metallb-system"}, "spec": {"addresses": ["10.180.204.250-10.180.204.254"]}, "source": {"file": "<default scenario>", "line": 25, "column": 1}},
  {"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement", "metadata": {"name": "l2-advert", "namespace": "metallb-system"}, "spec": {"ipAddressPools": ["underlay-pool"]}, "source": {"file": "<default scenario>", "line": 30, "column": 1}},
  {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "deploy-169402624", "labels": {"app": "nginx"}}, "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx"}}, "template": {"metadata": {"annotations": {"ovn.kubernetes.io/logical_switch": "underlay-subnet"}, "labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx", "image": "kubeovn/agnhost:2.47", "args": ["netexec", "--http-port", "80"]}]}}}, "source": {"file": "<default scenario>", "line": 35, "column": 1}},
  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nginx-lb", "annotations": {"metallb.universe.tf/loadBalancerIPs": "10.180.204.252"}}, "spec": {"externalTrafficPolicy": "Local", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "PreferDualStack", "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}], "selector": {"app": "nginx"}, "type": "LoadBalancer"}, "source": {"file": "<default scenario>", "line": 48, "column": 1}},
];
