/** The seed's MetalLB objects and the default scenario's nodes, for tests. */
import type { MetalLBNode, MetalLBService } from './metallb.js';
import type { IPAddressPoolObject, L2AdvertisementObject } from './objects.js';

export const seedPool: IPAddressPoolObject = { metadata: { name: 'underlay-pool', namespace: 'metallb-system' }, spec: { addresses: ['10.180.204.250-10.180.204.254'] } };
export const seedAdvertisement: L2AdvertisementObject = { metadata: { name: 'l2-advert', namespace: 'metallb-system' }, spec: { ipAddressPools: ['underlay-pool'] } };

export const nodeMac = (i: number): string => `52:54:00:bb:00:0${i}`;

/** node1..3: `underlay0.341` is an OVS port (master ovs-system); `br-provider` (MAC = NIC MAC) answers. */
export function defaultNodes(count = 3): MetalLBNode[] {
  return Array.from({ length: count }, (_, k) => {
    const i = k + 1;
    return {
      node: { metadata: { name: `node${i}`, labels: { 'kubernetes.io/hostname': `node${i}` } } },
      interfaces: [
        { name: 'underlay0', mac: nodeMac(i), master: 'ovs-system' },
        { name: 'underlay0.341', mac: nodeMac(i), master: 'ovs-system' },
        { name: 'br-provider', mac: nodeMac(i) },
      ],
    };
  });
}

/** nginx-lb as in the seed (ETP=Local), one ready endpoint per node; `vip` adds the loadBalancerIPs annotation. */
export function nginxLb(vip?: string, nodes = 3): MetalLBService {
  return {
    service: {
      metadata: { name: 'nginx-lb', namespace: 'default', ...(vip ? { annotations: { 'metallb.universe.tf/loadBalancerIPs': vip } } : {}) },
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ipFamilies: ['IPv4'], ipFamilyPolicy: 'PreferDualStack', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], selector: { app: 'nginx' } },
    },
    endpoints: Array.from({ length: nodes }, (_, k) => ({ address: `10.180.204.${11 + k}`, nodeName: `node${k + 1}`, ready: true })),
  };
}
