import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { northd } from '@vippath/ovn';
import { derive, northboundFor, northdProfile, statusJson } from './derive.js';
import { loadManifests } from './manifests.js';
import { DEFAULT_CLUSTER, defaultObjects, withDefaults } from './scenario.js';

const seed = loadManifests(readFileSync(fileURLToPath(new URL('../../../examples/seed/manifests.yaml', import.meta.url)), 'utf8')).objects;

describe('derived state', () => {
  it('the default scenario: .252 owned by node3, three pods by IPAM, the LB with prefer-local and mappings, rules on every node', () => {
    const s = derive(defaultObjects(), DEFAULT_CLUSTER);
    expect(s.pods.map((p) => [p.name, p.node, p.ip])).toEqual([
      ['deploy-169402624-0', 'node1', '10.180.204.2'],
      ['deploy-169402624-1', 'node2', '10.180.204.3'],
      ['deploy-169402624-2', 'node3', '10.180.204.4'],
    ]);
    expect(s.services[0]).toMatchObject({ name: 'nginx-lb', ingress: ['10.180.204.252'], owners: { '10.180.204.252': ['node3'] } });
    expect(s.loadBalancers).toEqual([{
      name: 'cluster-tcp-loadbalancer', protocol: 'tcp',
      vips: { '10.180.204.252:80': '10.180.204.2:80,10.180.204.3:80,10.180.204.4:80' },
      options: { prefer_local_backend: 'true' },
      ipPortMappings: { '10.180.204.2': 'deploy-169402624-0.default:0.0.0.0', '10.180.204.3': 'deploy-169402624-1.default:0.0.0.0', '10.180.204.4': 'deploy-169402624-2.default:0.0.0.0' },
    }, { name: 'cluster-udp-loadbalancer', protocol: 'udp', vips: {}, options: { prefer_local_backend: 'true' } }]);
    for (const n of ['node1', 'node2', 'node3']) {
      expect(s.brProviderFlows[n]).toEqual([
        'cookie=0x1000,priority=10000,in_port=1,tcp,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2',
        'priority=0,actions=NORMAL',
      ]);
    }
    expect(s.lint).toEqual([expect.objectContaining({ code: 'POOL_NOT_EXCLUDED' })]);
  });

  it('the seed as written: .250 owned by node2, and no br-provider rule because its Subnet names no Vlan', () => {
    const s = derive(withDefaults(seed), DEFAULT_CLUSTER);
    expect(s.services[0]).toMatchObject({ ingress: ['10.180.204.250'], owners: { '10.180.204.250': ['node2'] } });
    expect(s.brProviderFlows.node1).toEqual(['priority=0,actions=NORMAL']);
    // No Nodes and no Pods in the seed: vippath says it invents them (issue 18: no silent defaults).
    expect(s.lint.map((d) => d.code).sort()).toEqual(['NO_NODES', 'PODS_FROM_DEPLOYMENTS', 'POOL_NOT_EXCLUDED', 'SUBNET_WITHOUT_VLAN']);
  });

  it('kube-ovn-1.15.20 marks the VIP with the announcing node; prefer-local off writes no VIP', () => {
    const s = derive(defaultObjects(), { ...DEFAULT_CLUSTER, profiles: { ...DEFAULT_CLUSTER.profiles, kubeOvn: 'kube-ovn-1.15.20' } });
    expect(s.loadBalancers[0]!.externalIds).toEqual({ 'kube-ovn.io/local-external-vip/10.180.204.252:80': 'node-node3' });
    expect(derive(defaultObjects(), { ...DEFAULT_CLUSTER, flags: { ...DEFAULT_CLUSTER.flags, enableOvnLbPreferLocal: false } }).loadBalancers.map((lb) => lb.vips)).toEqual([{}, {}]);
  });

  it('the Northbound is what Kube-OVN writes, and northd makes the profile\'s prefer-local flows of it', () => {
    const objects = defaultObjects();
    for (const [kubeOvn, profile] of [['kube-ovn-1.14', 'kube-ovn-1.14'], ['kube-ovn-1.15.20', 'kube-ovn-1.15']] as const) {
      const cluster = { ...DEFAULT_CLUSTER, profiles: { ...DEFAULT_CLUSTER.profiles, kubeOvn } };
      const s = derive(objects, cluster);
      const { nb, chassis } = northboundFor(objects, s.pods, cluster, s.loadBalancers);
      const ls = nb.switches.find((x) => x.name === 'underlay-subnet')!;
      expect(ls.ports[0]).toEqual({ name: 'localnet.underlay-subnet', type: 'localnet', addresses: ['unknown'], options: { network_name: 'provider' }, externalIds: { ipv4_network: '10.180.204.0/24' } });
      expect(ls.ports[1]).toEqual({ name: 'deploy-169402624-0.default', addresses: ['00:00:00:b4:cc:02 10.180.204.2'], portSecurity: ['00:00:00:b4:cc:02 10.180.204.2'] });
      expect(ls.loadBalancers).toEqual(['cluster-tcp-loadbalancer', 'cluster-udp-loadbalancer']);
      expect(nb.options).toEqual({ use_ct_inv_match: 'false', ls_dnat_mod_dl_dst: 'true', ls_ct_skip_dst_lport_ips: 'false' });
      expect(chassis).toMatchObject({ 'deploy-169402624-2.default': 'node3', 'node-node3': 'node3' });
      expect(northdProfile(cluster)).toBe(profile);
      const lb = northd(nb, { profile, chassis }).flows.get('underlay-subnet')!.filter((f) => f.stage === 'ls_in_lb' && f.match.includes('10.180.204.252'));
      const texts = lb.map((f) => `${f.priority} ${f.match}`);
      if (kubeOvn === 'kube-ovn-1.14') expect(texts.some((t) => t.startsWith('140 ') && t.includes('is_chassis_resident("deploy-169402624-2.default")'))).toBe(true);
      else expect(texts.some((t) => t.startsWith('140 ') && t.includes('is_chassis_resident("node-node3")'))).toBe(true);
    }
  });

  it('statusJson has the shape other tools rely on', () => {
    const j = statusJson(defaultObjects(), DEFAULT_CLUSTER) as { nodes: Array<{ name: string; nicMac: string }>; services: Array<{ owner: Record<string, string> }>; brProviderFlows: Record<string, string> };
    expect(j.nodes[2]).toMatchObject({ name: 'node3', nicMac: '52:54:00:bb:00:03' });
    expect(j.services[0]!.owner).toEqual({ '10.180.204.252': 'node3' });
    expect(j.brProviderFlows.node3).toMatch(/cookie=0x1000/);
    expect(Object.keys(j).sort()).toEqual(['brProviderFlows', 'lint', 'nodes', 'ovn', 'pods', 'profiles', 'services']);
  });
});
