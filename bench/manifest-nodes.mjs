// Loading a cluster of N Nodes (issue 19 item 6): for each N, a child process loads the generated YAML, derives
// the state (`vippath status` does the same) and builds the simulation (`curl`, `trace`, `replay` do); prints time
// and peak RSS. Run after `npx pnpm@10.34.8 run build`:  node bench/manifest-nodes.mjs [1000,3000,5000,10000]
import { spawnSync } from 'node:child_process';

const sizes = (process.argv[2] ?? '1000,3000,5000,10000').split(',').map(Number);
const child = `
const { loadManifests, clusterFrom, derive, SimulatedCluster } = await import(${JSON.stringify(new URL('../packages/cluster/dist/index.js', import.meta.url).href)});
const n = Number(process.argv[1]);
let text = '';
for (let i = 0; i < n; i++) text += '---\\napiVersion: v1\\nkind: Node\\nmetadata: {name: node-' + i + ', labels: {kubernetes.io/hostname: node-' + i + '}}\\n';
text += ${JSON.stringify('---\napiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: metallb-system}\nspec: {addresses: [10.180.204.250-10.180.204.254]}\n---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: a, namespace: metallb-system}\nspec: {ipAddressPools: [p]}\n---\napiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: underlay-subnet}\nspec: {cidrBlock: 10.180.204.0/24, gateway: 10.180.204.1, vlan: v, enableExternalLBAddress: true}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3, template: {metadata: {labels: {app: web}}}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer, externalTrafficPolicy: Local, selector: {app: web}, ports: [{port: 80}]}\n')};
const t0 = performance.now();
const { objects } = loadManifests(text);
const t1 = performance.now();
const cluster = clusterFrom(objects);
derive(objects, cluster);
const t2 = performance.now();
new SimulatedCluster(objects, cluster);
const t3 = performance.now();
console.log(JSON.stringify({ load: t1 - t0, derive: t2 - t1, simulation: t3 - t2, yamlBytes: text.length }));
`;
console.log('| Nodes | YAML | load | derive (status) | simulation (curl/trace/replay) | peak RSS |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const n of sizes) {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, '--input-type=module', '-e', child, String(n)], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`| ${n} | failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')} |`);
    continue;
  }
  const m = JSON.parse(r.stdout);
  const rss = Number(r.stderr.trim().split('\n').pop()) / 1024;
  console.log(`| ${n} | ${(m.yamlBytes / 1e6).toFixed(2)} MB | ${(m.load / 1000).toFixed(2)} s | ${(m.derive / 1000).toFixed(2)} s | ${(m.simulation / 1000).toFixed(2)} s | ${rss.toFixed(0)} MB |`);
}
