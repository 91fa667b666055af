/**
 * The cluster end to end, from the CLI and the library: the real capture through the default scenario, the
 * seed manifests as written, failover, the prio-120 fallback that breaks connections, pinned ingress, and the
 * output files checked with tshark.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterFrom, DEFAULT_CLUSTER, defaultObjects, ExternalClient, loadManifests, replayCapture, SimulatedCluster, withDefaults, type ReplaySummary, type TraceLine } from '@vippath/cluster';
import { readCaptureSync } from '@vippath/pcap';
import { parseFrame } from '@vippath/wire';
import { run } from './helpers/cli.js';

const capture = fileURLToPath(new URL('./fixtures/vip-ipv4.pcap', import.meta.url));
const seedManifests = fileURLToPath(new URL('../examples/seed/manifests.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vippath-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const VIP = '10.180.204.252';


function yamlFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('the bundled capture through the default scenario (the README\'s main command)', () => {
  it('node3 answers ARP for .252, its pod serves every request with the client IP, replies leave tagged 341 from the VIP', async () => {
    const r = await run('replay', capture, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as ReplaySummary;
    expect(s.injected).toBe(21);
    // The client's flows: its ARP request, its pings (one ICMP flow), three TCP connections.
    expect(s.flows).toBe(5);
    expect(s.toClient.arpRepliesBy).toEqual({ '52:54:00:bb:00:03': 1 });
    expect(Object.keys(s.toClient.gratuitousArpBy)).toEqual(['52:54:00:bb:00:03']);
    expect(s.toClient.tcpFromVip).toBe(9);
    expect(s.toClient.tcpFromPodIp).toBe(0);
    expect(s.toClient.untagged).toBe(0);
    expect(Object.values(s.servedBy)).toEqual([{ node: 'node3', requests: 3, clients: ['10.180.204.100'] }]);
    // Three connections, all to node3's pod (prefer-local on the owner).
    expect(s.backends).toEqual({ node3: { 'deploy-169402624-2': 3 } });
    // Every injected frame has a verdict; the SYNs and data reach the pod, the ARP request is answered.
    const v = s.verdicts;
    expect(v.delivered + v.answered + v.forwarded + v.dropped).toBe(s.injected);
    expect(v.answered).toBe(1);
    expect(v.skipped).toBe(s.skippedFromCluster);
    // The path diagram's edges: the request path into node3 and the reply path out.
    const edge = (from: string, to: string): number => s.edges.find((e) => e.from === from && e.to === to)?.frames ?? 0;
    expect(edge('outside', 'wire')).toBe(21);
    expect(edge('node3/underlay0.341', 'node3/br-provider')).toBeGreaterThanOrEqual(20);
    expect(edge('node3/underlay-subnet', 'node3/lb-dnat')).toBeGreaterThan(0);
    expect(edge('node3/lb-dnat', 'node3/deploy-169402624-2')).toBe(s.stages.pod - edge('node1/underlay-subnet', 'node1/deploy-169402624-0') - edge('node2/underlay-subnet', 'node2/deploy-169402624-1') - edge('node3/underlay-subnet', 'node3/deploy-169402624-2'));
    expect(edge('node3/lb-dnat', 'node3/br-provider')).toBe(9);
    expect(edge('wire', 'outside')).toBe(s.toClient.frames);
    // No TCP frame reaches node1's or node2's pod.
    expect(edge('node1/lb-dnat', 'node1/deploy-169402624-0')).toBe(0);
    const text = await run('replay', capture);
    expect(text.out).toMatch(/VIP 10\.180\.204\.252, announced by node3/);
    expect(text.out).toMatch(/served by deploy-169402624-2 on node3: 3 request\(s\), client address seen: 10\.180\.204\.100 \(no SNAT\)/);
    expect(text.out).toMatch(/TCP from the VIP 9, from a pod IP 0, untagged 0/);
  });

  it('--out: wire.pcapng and nodes.pcapng open in tshark without warnings, their frames match trace.jsonl', async () => {
    const out = join(dir, 'out');
    const r = await run('replay', '--pcap', capture, '--out', out, '--trace', 'detailed', '--capture-ports', 'all');
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ReplaySummary;
    const lines = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceLine);
    // One line per input frame (index 1..framesRead), plus lines for what the cluster sent on its own (index 0).
    const input = lines.filter((l) => l.index > 0);
    expect(input.map((l) => l.index)).toEqual(Array.from({ length: summary.framesRead }, (_, i) => i + 1));
    expect(input.filter((l) => l.verdict !== 'skipped').every((l) => l.stages.length > 0 && l.flow.length > 0)).toBe(true);
    expect(input.filter((l) => l.verdict === 'dropped').every((l) => l.drops.length > 0)).toBe(true);
    const syn = input.find((l) => /^tcp 10\.180\.204\.100:\d+ > 10\.180\.204\.252:80 \[S\]/.test(l.flow))!;
    expect(syn.verdict).toBe('delivered');
    expect(syn.stages.map((s) => s.stage)).toEqual(expect.arrayContaining(['wire', 'underlay0.341', 'br-provider', 'ovn', 'lb-dnat', 'pod']));
    expect(syn.stages.find((s) => s.stage === 'lb-dnat' && s.decision.startsWith('ls_in_lb 140'))!.at).toBe('node3/lb-dnat');

    const wire = readCaptureSync(new Uint8Array(readFileSync(join(out, 'wire.pcapng'))));
    expect(wire.interfaces.map((i) => i.name)).toEqual(['outside', 'node1/underlay0', 'node2/underlay0', 'node3/underlay0']);
    // The frames that reached the outside in the trace are exactly the ones node NICs put on the wire towards it.
    const emittedOutside = lines.flatMap((l) => l.emitted.filter((e) => e.to === 'outside').map((e) => e.hex));
    const fromNodes = wire.records.filter((rec) => rec.interfaceName !== 'outside').map((rec) => Buffer.from(rec.data).toString('hex'));
    expect(fromNodes.sort()).toEqual([...emittedOutside].sort());
    expect(wire.records.filter((rec) => rec.interfaceName === 'outside').length).toBe(summary.injected);

    const nodes = readCaptureSync(new Uint8Array(readFileSync(join(out, 'nodes.pcapng'))));
    const names = nodes.interfaces.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['node3/underlay0', 'node3/underlay0.341', 'node3/br-provider', 'node3/patch-localnet.underlay-subnet-to-br-int', 'node3/deploy-169402624-2', 'node1/deploy-169402624-0']));
    // What the pod received: DNATed to its own address, untagged, with the client's source address.
    const podFrames = nodes.records.filter((rec) => rec.interfaceName === 'node3/deploy-169402624-2').map((rec) => parseFrame(rec.data)).filter((p) => p.ipv4);
    const toPod = podFrames.filter((p) => p.ipv4!.dst === '10.180.204.4');
    expect(toPod.length).toBe(18);
    expect(toPod.every((p) => p.ipv4!.src === '10.180.204.100' && p.eth.vlans.length === 0 && p.checksum === 'ok')).toBe(true);
    // Tagged on the NIC, untagged on the VLAN interface.
    const nicFrames = nodes.records.filter((rec) => rec.interfaceName === 'node3/underlay0').map((rec) => parseFrame(rec.data));
    expect(nicFrames.length).toBeGreaterThan(0);
    expect(nicFrames.every((p) => p.eth.vlans[0]?.vid === 341)).toBe(true);
    expect(nodes.records.filter((rec) => rec.interfaceName === 'node3/underlay0.341').every((rec) => parseFrame(rec.data).eth.vlans.length === 0)).toBe(true);

    for (const file of ['wire.pcapng', 'nodes.pcapng']) {
      const t = spawnSync('tshark', ['-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-r', join(out, file), '-T', 'fields', '-e', 'frame.interface_name', '-e', '_ws.expert.severity'], { encoding: 'utf8' });
      expect(t.error, 'tshark must be installed (CI installs it)').toBeUndefined();
      expect(t.status).toBe(0);
      // tshark's note about running as root is about privileges, not the file.
      expect(t.stderr.split('\n').filter((l) => l && !l.startsWith('Running as user')).join('\n')).toBe('');
      const rows = t.stdout.trim().split('\n').map((l) => l.split('\t'));
      const recs = file === 'wire.pcapng' ? wire.records : nodes.records;
      expect(rows.map((x) => x[0])).toEqual(recs.map((rec) => rec.interfaceName));
      // No expert errors: malformed frames and bad checksums (checked here) would show. TCP analysis warnings
      // remain possible: the capture's client acknowledges the real server's sequence numbers, not the pod's.
      expect(rows.filter((x) => x[1] && x[1].split(',').some((sev) => Number(sev) >= 8388608))).toEqual([]);
    }
  });

  it('--ingress pins where the frames enter: on node1\'s NIC the frames to node3\'s MAC go back out on the wire first', async () => {
    const { summary } = await replayCapture(capture, defaultObjects(), DEFAULT_CLUSTER, { ingress: 'node1' });
    // node1's br-provider has the Kube-OVN rule too, so SYNs to the VIP enter OVN on node1 and are DNATed there
    // to node1's pod (prefer-local on the chassis where the packet entered).
    expect(Object.keys(summary.servedBy)).toEqual(['deploy-169402624-0']);
    const bad = await run('replay', capture, '--ingress', 'node9');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/unknown ingress "node9"/);
  });
});

describe('the seed document\'s manifests as written', () => {
  it('status: .250 owned by node2, lint trips the pool/excludeIps and missing-vlan findings', async () => {
    const r = await run('status', '--manifests', seedManifests, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as { services: Array<{ name: string; ingress: string[]; owner: Record<string, string> }>; lint: Array<{ code: string }> };
    expect(s.services).toEqual([expect.objectContaining({ name: 'nginx-lb', ingress: ['10.180.204.250'], owner: { '10.180.204.250': 'node2' } })]);
    expect(s.lint.map((d) => d.code)).toEqual(expect.arrayContaining(['POOL_NOT_EXCLUDED', 'SUBNET_WITHOUT_VLAN']));
  });

  it('replaying the capture (which asks for .252) through them: nobody answers ARP for .252, nothing is served', async () => {
    const r = await run('replay', capture, '--manifests', seedManifests, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as ReplaySummary;
    expect(s.toClient.arpRepliesBy).toEqual({});
    expect(s.servedBy).toEqual({});
    expect(s.drops['metallb: this node does not announce the target IP']).toBeGreaterThanOrEqual(3);
  });
});

describe('the seed document\'s verification steps', () => {
  it('status prints get svc, get endpoints and get pods -o wide as kubectl would', async () => {
    const r = await run('status');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\$ kubectl get svc\nNAME +TYPE +EXTERNAL-IP +ANNOUNCED BY\nnginx-lb +LoadBalancer +10\.180\.204\.252 +node3\n/);
    expect(r.out).toMatch(/nginx-lb +10\.180\.204\.2:80,10\.180\.204\.3:80,10\.180\.204\.4:80\n/);
    expect(r.out).toMatch(/deploy-169402624-2 +1\/1 +10\.180\.204\.4 +node3\n/);
  });

  it('status text has what its help promises: nodes, the OVN load balancers, br-provider flows per node, profiles', async () => {
    const r = await run('status');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^profiles: kube-ovn-1\.14, metallb-0\.13\.7\n/);
    expect(r.out).toMatch(/\nnode3 +52:54:00:bb:00:03 +underlay0\.341, br-provider, patch-localnet\.underlay-subnet-to-br-int\n/);
    expect(r.out).toMatch(/\$ ovn-nbctl lb-list\nLB +PROTO +VIP +IPs\ncluster-tcp-loadbalancer +tcp +10\.180\.204\.252:80 +10\.180\.204\.2:80,10\.180\.204\.3:80,10\.180\.204\.4:80\n/);
    expect(r.out).toContain('cluster-tcp-loadbalancer options: prefer_local_backend=true\n');
    expect(r.out).toContain([
      '$ ovs-ofctl dump-flows br-provider   # on node1, node2, node3',
      ' cookie=0x1000, table=0, priority=10000,tcp,in_port=1,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2',
      ' cookie=0x0, table=0, priority=0 actions=NORMAL',
    ].join('\n'));
    // The text shows what --json has: every LB VIP and every node's flows.
    const json = JSON.parse((await run('status', '--json')).out) as { ovn: { loadBalancers: Array<{ vips: Record<string, string> }> }; brProviderFlows: Record<string, string> };
    for (const vip of json.ovn.loadBalancers.flatMap((lb) => Object.keys(lb.vips))) expect(r.out).toContain(vip);
    for (const node of Object.keys(json.brProviderFlows)) expect(r.out).toMatch(new RegExp(`dump-flows br-provider {3}# on .*\\b${node}\\b`));
    // The seed manifests' subnet has no vlan: Kube-OVN installs no LB rule, and the text says so by its absence.
    const seed = await run('status', '--manifests', seedManifests);
    expect(seed.out).toContain('$ ovs-ofctl dump-flows br-provider   # on node1, node2, node3\n cookie=0x0, table=0, priority=0 actions=NORMAL\n');
  });
});

describe('unassigned pool addresses', () => {
  it('ARP for .250, .251, .253 and .254 is answered by nobody; .252 by node3 only', async () => {
    for (const ip of ['10.180.204.250', '10.180.204.251', '10.180.204.253', '10.180.204.254', VIP]) {
      const r = await run('trace', `arp,dst=${ip}`, '--json');
      expect(r.code).toBe(0);
      const line = JSON.parse(r.out) as TraceLine;
      const replies = line.emitted.filter((e) => e.to === 'outside').map((e) => parseFrame(Uint8Array.from(Buffer.from(e.hex, 'hex')))).filter((p) => p.arp?.op === 2 && p.arp.senderIp === ip);
      expect(replies.map((p) => p.arp!.senderMac)).toEqual(ip === VIP ? ['52:54:00:bb:00:03'] : []);
      expect(line.verdict).toBe(ip === VIP ? 'answered' : 'dropped');
    }
  });
});

describe('failover', () => {
  it('node3 lost: connections time out until MetalLB notices, then node1 sends GARP and serves new connections', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
    const client = new ExternalClient(sim);
    client.synRetries = 0;
    expect(client.curl({ ip: VIP }, 100)).toMatchObject({ ok: true, servedBy: { node: 'node3', client: expect.stringMatching(/^10\.180\.204\.100:/) } });
    sim.nodeDown('node3', 1000);
    const during = client.curl({ ip: VIP }, 3000);
    expect(during.ok).toBe(false);
    expect(during.error).toMatch(/no SYN-ACK/);
    // MetalLB's failure detection (5 s) passes; node1 wins the election among the nodes with local endpoints.
    const after = client.curl({ ip: VIP }, 6500);
    expect(after).toMatchObject({ ok: true, arp: { mac: '52:54:00:bb:00:01', node: 'node1' }, servedBy: { pod: 'deploy-169402624-0', node: 'node1' }, response: { body: expect.stringMatching(/^10\.180\.204\.100:/) } });
    const garp = sim.timeline().filter((e) => e.kind === 'garp');
    expect(garp.map((e) => [e.time, e.text])).toEqual([[0, 'gratuitous ARP/NA burst from node3'], [6000, 'gratuitous ARP/NA burst from node1']]);
    expect(sim.state.metallb.owners(VIP)).toEqual(['node1']);
  });

  it('from the CLI: curl --node-down with retries rides out the failover', async () => {
    const r = await run('curl', '--node-down', 'node3@2s', '--repeat', '3', '--every', '2s', '--at', '1s', '--json');
    const results = JSON.parse(r.out) as Array<{ ok: boolean; servedBy?: { node: string } }>;
    expect(results.map((x) => [x.ok, x.servedBy?.node])).toEqual([[true, 'node3'], [false, undefined], [true, 'node1']]);
    expect(r.code).toBe(1);
  });

  it('replay with --node-down: the summary\'s timeline has the loss, the new owner and its GARP', async () => {
    const r = await run('replay', capture, '--node-down', 'node3@0ms', '--json');
    const s = JSON.parse(r.out) as ReplaySummary;
    expect(s.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['node-down']));
    // The capture's frames go to node3's MAC: with node3 gone nothing is served.
    expect(s.servedBy).toEqual({});
    expect(s.drops['node down']).toBeGreaterThan(0);
  });
});

describe('the prio-120 fallback breaks connections (DATAPATH.md §3.4)', () => {
  const etpCluster = (profile: string): string => yamlFile(`etp-${profile}.yaml`, `
apiVersion: v1
kind: Service
metadata:
  name: nginx-lb
  annotations: {metallb.universe.tf/loadBalancerIPs: ${VIP}}
spec:
  externalTrafficPolicy: Cluster
  ports: [{port: 80, protocol: TCP, targetPort: 80}]
  selector: {app: nginx}
  type: LoadBalancer
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: deploy-169402624}
spec:
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec: {containers: [{name: nginx, image: kubeovn/agnhost:2.47}]}
---
# Another workload on node3, so node3 has the underlay switch locally (ovn-controller's patch port) but no
# backend of nginx-lb.
apiVersion: apps/v1
kind: Deployment
metadata: {name: other}
spec:
  replicas: 1
  selector: {matchLabels: {app: other}}
  template:
    metadata: {labels: {app: other}}
    spec: {nodeName: node3, containers: [{name: other, image: busybox}]}
---
apiVersion: vippath.dev/v1alpha1
kind: Cluster
metadata: {name: lab}
spec:
  profiles: {kubeOvn: ${profile}}
`);

  it('ETP=Cluster, owner node3 without a local backend (HEAD/1.15.20 keeps the VIP): DNAT to a remote pod, dropped on node3 by the loopback check', async () => {
    // Partial manifests: the rest (Subnet, pool, advertisement) from the default scenario, asked for explicitly.
    const files = ['--manifests', etpCluster('kube-ovn-1.15.20'), '--defaults'];
    const status = JSON.parse((await run('status', ...files, '--json')).out) as { services: Array<{ owner: Record<string, string> }>; pods: Array<{ name: string; node: string }> };
    expect(status.services[0]!.owner[VIP]).toBe('node3');
    expect(status.pods.map((p) => `${p.name}@${p.node}`)).toEqual(['deploy-169402624-0@node1', 'deploy-169402624-1@node2', 'other-0@node3']);
    const r = await run('curl', ...files, '--json');
    expect(r.code).toBe(1);
    const res = JSON.parse(r.out) as { ok: boolean; error: string; transcript: Array<{ dir: string; flow: string }> };
    expect(res.ok).toBe(false);
    // The client never gets a SYN-ACK from the VIP.
    expect(res.transcript.filter((t) => t.dir === '<' && t.flow.startsWith('tcp 10.180.204.252:80'))).toEqual([]);
    const line = JSON.parse((await run('trace', ...files, '--json')).out) as TraceLine;
    // node3 DNATs with the prio-120 flow (no VIP-node marker for ETP=Cluster: every backend) to a pod on another node…
    const lb = line.stages.find((x) => x.decision.startsWith('ls_in_lb 120'))!;
    expect(lb.at).toBe('node3/lb-dnat');
    expect(lb.ovn).toMatchObject({ pipeline: 'ingress', stage: 'ls_in_lb', priority: 120 });
    const chosen = /chose (10\.180\.204\.[23]):80/.exec(lb.decision)![1]!;
    const pod = chosen === '10.180.204.2' ? 'deploy-169402624-0.default' : 'deploy-169402624-1.default';
    // …which real OVN reaches through the localnet port the SYN came in on: ovn-controller's loopback check drops
    // it on node3 (DATAPATH.md §3, corrected by a real run; the hand model sent it over the wire to the pod, whose
    // SYN-ACK then left un-DNATed). Nothing reaches a pod or the wire.
    expect(line.stages.some((x) => x.ovn?.stage === 'ls_in_l2_lkup' && x.ovn.actions.includes(`outport = "${pod}"`))).toBe(true);
    expect(line.verdict).toBe('dropped');
    expect(line.drops).toEqual([{ at: 'node3/underlay-subnet', code: 'ovn.loopback', reason: 'ovn: ls_in_l2_lkup: inport == outport && !flags.loopback' }]);
    expect(line.emitted).toEqual([]);
  });

  it('the same under kube-ovn-1.14: no VIP for ETP=Cluster, so VIP traffic dies in OVN (counted)', async () => {
    const r = await run('trace', '--manifests', etpCluster('kube-ovn-1.14'), '--defaults', '--json');
    const line = JSON.parse(r.out) as TraceLine;
    expect(line.verdict).toBe('dropped');
    expect(line.drops.map((d) => d.at)).toContain('node3/underlay-subnet');
    expect(line.stages.some((x) => x.stage === 'lb-dnat' && x.decision.startsWith('ls_in_lb'))).toBe(false);
    expect(line.emitted.filter((e) => e.to !== 'outside')).toEqual([]);
  });
});

describe('vippath trace', () => {
  it('text: the stages in the design card\'s order, like ovn-trace; --json the trace line', async () => {
    const r = await run('trace', 'tcp,nw_dst=10.180.204.252,tp_dst=80,tcp_flags=S');
    expect(r.code).toBe(0);
    const order = ['wire', 'node3/underlay0.341', 'node3/br-provider', 'node3/underlay-subnet', 'node3/lb-dnat', 'node3/deploy-169402624-2'].map((h) => r.out.indexOf(`\n${h}  [`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(r.out).toMatch(/verdict: delivered/);
    const bad = await run('trace', 'tcp,dport=99999');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/dport=99999: a port is 0 to 65535/);
    const unknown = await run('trace', 'tcp,colour=blue');
    expect(unknown.err).toMatch(/unknown key "colour"/);
  });

  it('br-provider\'s own steps at every node the frame crosses, as ofproto/trace shows them (--json and text)', async () => {
    const line = JSON.parse((await run('trace', 'tcp,dst=10.180.204.252,dport=80', '--json')).out) as TraceLine;
    const visits = line.stages.filter((s) => s.stage === 'br-provider');
    expect(visits.map((s) => s.at)).toEqual(['node3/br-provider', 'node3/br-provider']);
    expect(visits.every((s) => s.openflow !== undefined)).toBe(true);
    // In: Kube-OVN's LB rule (cookie 0x1000, priority 10000) sends the SYN to the patch port with the LB MAC.
    const inbound = visits[0]!.openflow!;
    expect(inbound).toMatchObject({ bridge: 'br-provider', inPort: 'underlay0.341', ofport: 1 });
    expect(inbound.rules).toEqual([{ table: 0, cookie: '0x1000', priority: 10000, match: 'tcp,in_port=1,nw_dst=10.180.204.252,tp_dst=80', actions: ['mod_dl_dst:00:00:00:01:00:01', 'output:2'] }]);
    expect(inbound.datapathActions).toBe('set(eth(dst=00:00:00:01:00:01)),patch-localnet.underlay-subnet-to-br-int');
    // Out: the SYN-ACK from the patch port meets only the priority-0 NORMAL rule, which floods (nothing learned yet).
    const outbound = visits[1]!.openflow!;
    expect(outbound).toMatchObject({ inPort: 'patch-localnet.underlay-subnet-to-br-int', ofport: 2, datapathActions: 'underlay0.341,LOCAL' });
    expect(outbound.rules).toEqual([{ table: 0, cookie: '0x0', priority: 0, match: '', actions: ['NORMAL'] }]);
    expect(outbound.lines).toContain('     -> no learned MAC for destination, flooding');
    expect(outbound.lines.some((l) => l.includes('output to'))).toBe(false);

    const text = (await run('trace', 'tcp,dst=10.180.204.252,dport=80')).out;
    // ovs-vswitchd 3.1's ofproto/trace prints these lines for the same packet and flows (checked by hand).
    expect(text).toContain([
      '      bridge("br-provider"), in_port underlay0.341 (ofport 1)',
      '      -------------------------------------------------------',
      '       0. tcp,in_port=1,nw_dst=10.180.204.252,tp_dst=80, priority 10000, cookie 0x1000',
      '          mod_dl_dst:00:00:00:01:00:01',
      '          output:2',
    ].join('\n'));
    expect(text).toContain('      Datapath actions: set(eth(dst=00:00:00:01:00:01)),patch-localnet.underlay-subnet-to-br-int\n');
    expect(text).toMatch(/\n {7}0\. priority 0\n {10}NORMAL\n/);

    // A broadcast crosses every node's bridge: each visit carries its rule.
    const arp = JSON.parse((await run('trace', 'arp,dst=10.180.204.252', '--json')).out) as TraceLine;
    const arpVisits = arp.stages.filter((s) => s.stage === 'br-provider');
    expect(new Set(arpVisits.map((s) => s.at))).toEqual(new Set(['node1/br-provider', 'node2/br-provider', 'node3/br-provider']));
    for (const v of arpVisits) expect(v.openflow?.rules.length, v.at).toBeGreaterThan(0);
  });

  it('--ingress from a pod: the description defaults to the pod\'s addresses, and its SYN-ACK leaves for the client', async () => {
    const r = await run('trace', '--ingress', 'node3/deploy-169402624-2', 'tcp,sport=80,dport=40000,flags=SA', '--json');
    const line = JSON.parse(r.out) as TraceLine;
    expect(line.stages[0]).toMatchObject({ stage: 'ovn', at: 'node3/underlay-subnet', decision: 'inport deploy-169402624-2.default' });
    const out = line.emitted.filter((e) => e.to === 'outside').map((e) => parseFrame(Uint8Array.from(Buffer.from(e.hex, 'hex'))));
    // No connection was DNATed, so nothing is un-DNATed: the pod's own address, tagged 341 on the wire.
    expect(out.map((p) => [p.ipv4?.src, p.ipv4?.dst, p.eth.vlans[0]?.vid])).toEqual([['10.180.204.4', '10.180.204.100', 341]]);
  });

  it('--hex: the same frame as bytes gives the same trace as its description', async () => {
    const a = JSON.parse((await run('trace', 'tcp,dport=80', '--json')).out) as TraceLine;
    const frame = (await import('@vippath/cluster')).frameFromDescription('tcp,dport=80', new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER));
    const b = JSON.parse((await run('trace', '--hex', Buffer.from(frame).toString('hex'), '--json')).out) as TraceLine;
    expect(b.stages).toEqual(a.stages);
    expect(b.emitted).toEqual(a.emitted);
  });
});

describe('the Cluster description', () => {
  it('names nodes, MACs, VLAN and profiles; bad values are errors at the document', () => {
    const { objects } = loadManifests(`apiVersion: vippath.dev/v1alpha1
kind: Cluster
metadata: {name: lab}
spec:
  vlan: 100
  nodes: [{name: a, mac: "02:00:00:00:00:0a"}, {name: b, mac: "02:00:00:00:00:0b"}]
  profiles: {kubeOvn: kube-ovn-1.15.20}
`, 'c.yaml');
    const c = clusterFrom(withDefaults(objects));
    expect(c.vlan).toBe(100);
    expect(c.nodes.map((n) => n.name)).toEqual(['a', 'b']);
    expect(c.profiles).toEqual({ kubeOvn: 'kube-ovn-1.15.20', metallb: 'metallb-0.13.7' });
    const sim = new SimulatedCluster(withDefaults(objects), c);
    const res = new ExternalClient(sim).curl({ ip: VIP }, 100);
    expect(res.ok).toBe(true);
    expect(() => clusterFrom(loadManifests('apiVersion: vippath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: x}\nspec: {vlan: 5000}\n', 'c.yaml').objects)).toThrow(/^c\.yaml:1:1: Cluster x: spec\.vlan must be a VLAN ID from 1 to 4094/);
    expect(() => clusterFrom(loadManifests('apiVersion: vippath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: x}\nspec: {colour: red}\n', 'c.yaml').objects)).toThrow(/spec\.colour is not a Cluster field/);
  });
});

describe('replay on bad input and progress', () => {
  it('a capture cut mid-record: exit 1, the frames before it summarised and written, a clear message', async () => {
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, readFileSync(capture).subarray(0, 3000));
    const out = join(dir, 'cut-out');
    const r = await run('replay', cut, '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/stopped after 26 frames; what was read is summarised and written \(.*cut-out\)/);
    expect(r.err).toMatch(/capture ends in the middle of a \d+-byte record at file offset 2946, after 26 complete records/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ReplaySummary;
    expect(summary.framesRead).toBe(26);
    expect(readCaptureSync(new Uint8Array(readFileSync(join(out, 'wire.pcapng')))).records.length).toBeGreaterThan(10);
    // --skip-errors has nothing to skip at the end of a file: the same frames, exit 0 is not promised by a cut.
    const text = await run('replay', cut);
    expect(text.code).toBe(1);
  });

  it('a capture from stdin that ends mid-record: the frames so far summarised, a clear message, exit 1', () => {
    const cli = fileURLToPath(new URL('../packages/vippath/dist/cli.js', import.meta.url));
    const r = spawnSync(process.execPath, [cli, 'replay', '-', '--json'], { input: readFileSync(capture).subarray(0, 3000), encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/stopped after 26 frames; what was read is summarised/);
    expect(r.stderr).toMatch(/capture ends in the middle of a \d+-byte record at file offset 2946/);
  });

  it('a replay that fails on a corrupt capture leaves an earlier run\'s outputs and report as they were', async () => {
    const out = join(dir, 'keep');
    const report = join(dir, 'keep.html');
    expect((await run('replay', capture, '--out', out, '--report', report, '--capture-ports', 'all')).code).toBe(0);
    const before = ['summary.json', 'trace.jsonl', 'wire.pcapng', 'nodes.pcapng'].map((f) => readFileSync(join(out, f)));
    const html = readFileSync(report, 'utf8');
    const bad = join(dir, 'bad.pcap');
    // A record whose length field lies far beyond the snapshot length: a PcapFormatError after two records.
    const bytes = new Uint8Array(readFileSync(capture));
    const second = 24 + 16 + new DataView(bytes.buffer).getUint32(24 + 8, true);
    new DataView(bytes.buffer).setUint32(second + 8, 0x7fffffff, true);
    writeFileSync(bad, bytes);
    const r = await run('replay', bad, '--out', out, '--report', report, '--capture-ports', 'all');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/earlier outputs in .* are left as they were/);
    expect(['summary.json', 'trace.jsonl', 'wire.pcapng', 'nodes.pcapng'].map((f) => readFileSync(join(out, f)))).toEqual(before);
    expect(readFileSync(report, 'utf8')).toBe(html);
    // And no temporary files are left behind.
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(out).sort()).toEqual(['nodes.pcapng', 'summary.json', 'trace.jsonl', 'wire.pcapng']);
  });

  it('draws a progress line on an interactive stderr, and nothing otherwise', async () => {
    const big = join(dir, 'big.pcap');
    // 3 000 copies of the capture's client frames: enough records for a few progress updates.
    const recs = readCaptureSync(new Uint8Array(readFileSync(capture))).records;
    const { PcapWriter, memorySink } = await import('@vippath/pcap');
    const sink = memorySink();
    const w = new PcapWriter(sink);
    for (let i = 0; i < 3000; i++) for (const rec of recs) w.write({ timestamp: rec.timestamp + BigInt(i) * 1_000_000_000n, data: rec.data });
    writeFileSync(big, sink.bytes());
    let err = '';
    const { main: cli } = await import('vippath');
    const code = await cli(['replay', big], { stdout: () => undefined, stderr: (s) => void (err += s), interactive: true });
    expect(code).toBe(0);
    expect(err).toMatch(/\r {2}\[[#.]{24}\] \d+\.\d% {2}[\d.]+ (k|M)? ?frames {2}[\d.]+ (k|M)?\/s {2}ETA \d+:\d\d/);
    err = '';
    await cli(['replay', big], { stdout: () => undefined, stderr: (s) => void (err += s) });
    expect(err).toBe('');
  });

  it('help for every command', async () => {
    for (const c of ['replay', 'trace', 'curl', 'lint', 'status', 'pcap', 'of']) {
      const r = await run(c, '--help');
      expect(r.code, c).toBe(0);
      expect(r.out, c).toMatch(new RegExp(`^usage: vippath ${c}`));
    }
  });
});
