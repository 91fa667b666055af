/**
 * The cluster model: the objects (user manifests over the built-in default scenario) plus the vippath-specific
 * facts manifests do not carry (nodes' NICs and MACs, controller flags, profiles, the outside client). The
 * default scenario is the seed document's example (DATAPATH.md §1), with two deliberate differences, both
 * documented: the Service requests .252 (`metallb.universe.tf/loadBalancerIPs`) to match the document's figure
 * (as written it gets .250), and the Subnet names a Vlan with id 0 (the kernel's `underlay0.341` device tags;
 * Kube-OVN refuses the br-provider rule for a subnet without one — the seed as written trips that lint rule).
 */
import { loadManifests, type K8sObject } from './manifests.js';

/** What a node is, for vippath. */
export interface NodeSpec {
  name: string;
  nic: string;
  /** NIC MAC; br-provider takes the same MAC (Kube-OVN transferAddrsAndRoutes sets other-config:hwaddr). */
  mac: string;
}

/** Everything that is not in Kubernetes objects. */
export interface ClusterSpec {
  nodes: NodeSpec[];
  flags: { enableOvnLbPreferLocal: boolean; lsCtSkipDstLportIps: boolean; lsDnatModDlDst: boolean };
  profiles: { kubeOvn: 'kube-ovn-1.14' | 'kube-ovn-1.15.20'; metallb: 'metallb-0.13.7' | 'metallb-current' };
  /** The VLAN the underlay sub-interface carries. */
  vlan: number;
  client: { ip: string; mac: string };
}

export const DEFAULT_CLUSTER: ClusterSpec = {
  nodes: [1, 2, 3].map((i) => ({ name: `node${i}`, nic: 'underlay0', mac: `52:54:00:bb:00:0${i}` })),
  flags: { enableOvnLbPreferLocal: true, lsCtSkipDstLportIps: false, lsDnatModDlDst: true },
  profiles: { kubeOvn: 'kube-ovn-1.14', metallb: 'metallb-0.13.7' },
  vlan: 341,
  client: { ip: '10.180.204.100', mac: '52:54:00:aa:00:64' },
};

const DEFAULT_MANIFESTS = `
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

/** The default scenario's objects. */
export function defaultObjects(): K8sObject[] {
  return loadManifests(DEFAULT_MANIFESTS, '<default scenario>').objects;
}

/**
 * User objects over the defaults: every kind the user gives replaces the default objects of that kind (a user
 * Subnet replaces the default Subnet), kinds the user leaves out keep their defaults.
 */
export function withDefaults(user: K8sObject[]): K8sObject[] {
  const given = new Set(user.map((o) => o.kind));
  return [...defaultObjects().filter((o) => !given.has(o.kind)), ...user];
}
