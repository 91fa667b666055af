/**
 * Build a topology in code: two nodes, four replicas (three on node-a), ETP=Local, Kube-OVN 1.15.20 — then ask
 * which node announces the VIP, where new connections land, and what happens when that node goes away.
 */
import { clusterFrom, ExternalClient, loadManifests, SimulatedCluster, withDefaults } from '@vippath/cluster';

const manifests = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec: {containers: [{name: web, image: kubeovn/agnhost:2.47}]}
---
apiVersion: vippath.dev/v1alpha1
kind: Cluster
metadata: {name: two-nodes}
spec:
  nodes:
  - {name: node-a, mac: "02:00:00:00:00:0a"}
  - {name: node-b, mac: "02:00:00:00:00:0b"}
  placement: {web-0: node-a, web-1: node-a, web-2: node-a, web-3: node-b}
  profiles: {kubeOvn: kube-ovn-1.15.20}
`;

export function twoNodeStory(): { owner: string; first: string | undefined; afterLoss: { ok: boolean; node?: string | undefined }; events: string[] } {
  // The default scenario fills in the Subnet, pool, advertisement and the nginx-lb Service.
  const objects = withDefaults(loadManifests(manifests, 'two-nodes.yaml').objects);
  const sim = new SimulatedCluster(objects, clusterFrom(objects));
  const vip = sim.state.services[0]!.ingress[0]!;
  const owner = sim.state.metallb.owners(vip)[0]!;
  const client = new ExternalClient(sim);
  const first = client.curl({ ip: vip, path: '/hostname' }, 100).response?.body;
  sim.nodeDown(owner, 1_000);
  const after = client.curl({ ip: vip, path: '/hostname' }, 7_000);
  return { owner, first, afterLoss: { ok: after.ok, node: after.servedBy?.node }, events: sim.timeline().map((e) => `${e.time} ${e.text}`) };
}
