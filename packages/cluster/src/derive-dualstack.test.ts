import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildFrame } from '@vippath/wire';
import { derive, northboundFor } from './derive.js';
import { loadManifests } from './manifests.js';
import { clusterFrom, DEFAULT_CLUSTER, withDefaults } from './scenario.js';
import { SimulatedCluster } from './simulation.js';

/**
 * The default scenario with a dual-stack Subnet, pool and Service (test/fixtures/manifests/dual-stack.yaml, the
 * testbed's dual-stack scenario), with fd00:10:180::2 excluded too, so IPAM has an IPv6 exclusion to skip.
 */
const DUAL = readFileSync(new URL('../../../test/fixtures/manifests/dual-stack.yaml', import.meta.url), 'utf8')
  .replace('"fd00:10:180::fa..fd00:10:180::fe"]', '"fd00:10:180::2", "fd00:10:180::fa..fd00:10:180::fe"]');

const objects = (): ReturnType<typeof withDefaults> => withDefaults(loadManifests(DUAL, 'dual.yaml').objects);

describe('derived state of a dual-stack subnet', () => {
  it('pods get one address of each family by IPAM (lowest free, gateway and excludeIps skipped), one MAC', () => {
    const s = derive(objects(), DEFAULT_CLUSTER);
    expect(s.pods.map((p) => [p.name, p.ip, p.ip6, p.mac])).toEqual([
      ['deploy-169402624-0', '10.180.204.2', 'fd00:10:180::3', '00:00:00:b4:cc:02'],
      ['deploy-169402624-1', '10.180.204.3', 'fd00:10:180::4', '00:00:00:b4:cc:03'],
      ['deploy-169402624-2', '10.180.204.4', 'fd00:10:180::5', '00:00:00:b4:cc:04'],
    ]);
  });

  it('the IPv6 ingress becomes an IPv6 VIP with the pods\' IPv6 backends, next to the IPv4 one; br-provider gets the tcp6 rule', () => {
    const s = derive(objects(), DEFAULT_CLUSTER);
    expect(s.services[0]!.ingress).toEqual(['10.180.204.252', 'fd00:10:180::fc']);
    // The Service's cluster IPs (spec.clusterIPs, one per family) are VIPs of the same load balancer too.
    expect(s.loadBalancers[0]!.vips).toEqual({
      '10.96.0.10:80': '10.180.204.2:80,10.180.204.3:80,10.180.204.4:80',
      '10.180.204.252:80': '10.180.204.2:80,10.180.204.3:80,10.180.204.4:80',
      '[fd00:96::a]:80': '[fd00:10:180::3]:80,[fd00:10:180::4]:80,[fd00:10:180::5]:80',
      '[fd00:10:180::fc]:80': '[fd00:10:180::3]:80,[fd00:10:180::4]:80,[fd00:10:180::5]:80',
    });
    // ip_port_mappings: the IPv6 addresses bracketed, as Kube-OVN v1.14.26+ / v1.15.1+ write them (endpoint_slice.go).
    expect(s.loadBalancers[0]!.ipPortMappings).toEqual({
      '10.180.204.2': 'deploy-169402624-0.default:0.0.0.0', '10.180.204.3': 'deploy-169402624-1.default:0.0.0.0', '10.180.204.4': 'deploy-169402624-2.default:0.0.0.0',
      '[fd00:10:180::3]': 'deploy-169402624-0.default:0.0.0.0', '[fd00:10:180::4]': 'deploy-169402624-1.default:0.0.0.0', '[fd00:10:180::5]': 'deploy-169402624-2.default:0.0.0.0',
    });
    expect(s.brProviderFlows.node1).toContain('cookie=0x1001,priority=10000,in_port=1,tcp6,ipv6_dst=fd00:10:180::fc,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2');
  });

  it('the LSP lists "MAC IPv4 IPv6" in addresses and port_security, and the localnet port both networks', () => {
    const o = objects();
    const s = derive(o, DEFAULT_CLUSTER);
    const { nb } = northboundFor(o, s.pods, DEFAULT_CLUSTER, s.loadBalancers);
    const ls = nb.switches[0]!;
    const lsp = ls.ports.find((p) => p.name === 'deploy-169402624-0.default')!;
    expect(lsp.addresses).toEqual(['00:00:00:b4:cc:02 10.180.204.2 fd00:10:180::3']);
    expect(lsp.portSecurity).toEqual(['00:00:00:b4:cc:02 10.180.204.2 fd00:10:180::3']);
    expect(ls.ports[0]!.externalIds).toEqual({ ipv4_network: '10.180.204.0/24', ipv6_network: 'fd00:10:180::/120' });
  });

  it('Pod objects: the IPv6 address from the annotation\'s "v4,v6" or status.podIPs (kept canonical); one outside the IPv6 block is not taken', () => {
    const pods = `
apiVersion: v1
kind: Pod
metadata: {name: a, labels: {app: nginx}, annotations: {ovn.kubernetes.io/ip_address: "10.180.204.7,fd00:10:180::7", ovn.kubernetes.io/mac_address: "00:00:00:11:22:33"}}
spec: {nodeName: node1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, labels: {app: nginx}}
spec: {nodeName: node2}
status: {podIP: 10.180.204.8, podIPs: [{ip: 10.180.204.8}, {ip: "FD00:10:180::8"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: c, labels: {app: nginx}}
spec: {nodeName: node3}
status: {podIP: 10.180.204.9, podIPs: [{ip: 10.180.204.9}, {ip: "fd00:99::9"}]}
`;
    const s = derive([...objects(), ...loadManifests(pods, 'pods.yaml').objects], DEFAULT_CLUSTER);
    expect(s.pods.map((p) => [p.name, p.ip, p.ip6])).toEqual([['a', '10.180.204.7', 'fd00:10:180::7'], ['b', '10.180.204.8', 'fd00:10:180::8'], ['c', '10.180.204.9', undefined]]);
    // c has no IPv6 address: the IPv6 VIP is backed by a and b only.
    expect(s.loadBalancers[0]!.vips['[fd00:10:180::fc]:80']).toBe('[fd00:10:180::7]:80,[fd00:10:180::8]:80');
  });

  it('a single-stack IPv4 subnet gives no IPv6 addresses, and an IPv6 VIP without IPv6 backends is not written', () => {
    const o = objects().map((x) => (x.kind === 'Subnet' ? { ...x, spec: { ...x.spec, cidrBlock: '10.180.204.0/24', gateway: '10.180.204.1' } } : x));
    const s = derive(o, DEFAULT_CLUSTER);
    expect(s.pods.every((p) => p.ip6 === undefined)).toBe(true);
    // The IPv6 cluster IP and ingress have no IPv6 backend: neither is written.
    expect(Object.keys(s.loadBalancers[0]!.vips)).toEqual(['10.96.0.10:80', '10.180.204.252:80']);
    expect(Object.keys(s.loadBalancers[0]!.ipPortMappings!).every((k) => !k.includes(':'))).toBe(true);
  });

  it.each(['kube-ovn-1.14', 'kube-ovn-1.15.20'] as const)('%s, ETP=Local: IPv6 connections entering the owner node3 are all served by its own pod (the bracketed mappings give the IPv6 VIP prefer-local)', (kubeOvn) => {
    const o = objects();
    const base = clusterFrom(o);
    const sim = new SimulatedCluster(o, { ...base, profiles: { ...base.profiles, kubeOvn } });
    const served: string[] = [];
    // Sixteen connections (source ports) from one client to the IPv6 VIP through node3's MAC: were the IPv6
    // backends not grouped per chassis, the prio-120 flow would spread them over the three pods, and those sent to
    // node1's or node2's would die on node3 (the loopback check), delivering nothing.
    for (let i = 0; i < 16; i++) {
      const syn = buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:cc:00:10', vlans: [341], ipv6: { src: 'fd00:10:180::80', dst: 'fd00:10:180::fc' }, tcp: { srcPort: 40000 + i, dstPort: 80, flags: 0x02, seq: 1001, ack: 0 } });
      const r = sim.inject(syn, 1000 + i);
      served.push(...r.delivered.map((d) => `${d.pod}@${d.node}`));
    }
    expect(served).toEqual(Array(16).fill('deploy-169402624-2@node3'));
  });
});
