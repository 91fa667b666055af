/**
 * Your cluster, offline (issue 18): manifests as kubectl prints them, no silent defaults, a snapshot directory
 * (`--snapshot DIR`) for every cluster command, `status --write-snapshot` round trips, and the announcement lint
 * agreeing with what curl and trace then do. Each failure in the "Why" has a test here that failed before.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, truncateSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterFrom, describeFrame, frameFromDescription, loadManifests, loadSnapshot, SimulatedCluster, SnapshotError, withDefaults, writeSnapshot, type InjectResult, type TraceLine } from '@vippath/cluster';
import { readOvsdbFile } from '@vippath/ovn';
import { manifestsOf, topologyArb } from '@vippath/testing';
import { VippathError } from '@vippath/wire';
import { run } from './helpers/cli.js';

const fixture = fileURLToPath(new URL('./fixtures/snapshot/', import.meta.url));
const ovsdbFixtures = fileURLToPath(new URL('./fixtures/ovsdb/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vippath-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const VIP = '10.180.204.252';


function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

type Status = { services: Array<{ name: string; ingress: string[]; owner: Record<string, string | null>; elected: Record<string, string | null>; endpoints: Array<{ ip: string; pod: string }> }>; pods: Array<{ name: string; ip: string; node: string; mac: string }>; lint: Array<{ code: string; severity: string; source?: { file: string } }> };

describe('manifests as kubectl prints them, and nothing mixed in (issue 18 "Why" 1 and 2)', () => {
  const clusterYaml = join(fixture, 'cluster.yaml');

  it('kubectl get … -o yaml (a kind: List) is read: it was refused with "the object has no metadata.name"', async () => {
    const r = await run('status', '--manifests', clusterYaml, '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('the real Pods and Endpoints are the cluster: two pods at .11/.12, not three invented deploy-* pods; no default scenario object in lint', async () => {
    const s = JSON.parse((await run('status', '--manifests', clusterYaml, '--json')).out) as Status;
    expect(s.pods.map((p) => `${p.name} ${p.ip} ${p.node} ${p.mac}`)).toEqual(['web-a 10.180.204.11 node1 00:00:00:6c:1a:11', 'web-b 10.180.204.12 node2 00:00:00:6c:1a:12']);
    expect(s.services[0]!.endpoints.map((e) => e.pod)).toEqual(['web-a', 'web-b']);
    expect(s.lint.filter((d) => d.source?.file === '<default scenario>')).toEqual([]);
    // The same objects split into documents behave the same.
    const docs = loadManifests(readFileSync(clusterYaml, 'utf8')).objects.map(({ source: _s, ...o }) => JSON.stringify(o)).join('\n---\n');
    const split = JSON.parse((await run('status', '--manifests', file('split.yaml', docs), '--json')).out) as Status;
    expect(split.pods.map((p) => p.name)).toEqual(['web-a', 'web-b']);
  });

  it('Endpoints rule over the selector: an endpoint address with no pod is a finding, and only listed pods serve', async () => {
    const text = readFileSync(clusterYaml, 'utf8').replace('    - {ip: 10.180.204.12, nodeName: node2, targetRef: {kind: Pod, name: web-b, namespace: default}}', '    - {ip: 10.180.204.99, nodeName: node2}').replace(/  - \{addresses: \[10\.180\.204\.12\][^\n]*\n/, '');
    const s = JSON.parse((await run('status', '--manifests', file('eps.yaml', text), '--json')).out) as Status;
    expect(s.services[0]!.endpoints.map((e) => e.pod)).toEqual(['web-a']);
    expect(s.lint.find((d) => d.code === 'ENDPOINT_WITHOUT_POD')).toMatchObject({ severity: 'error', object: 'Endpoints/default/nginx-lb', field: 'subsets[0].addresses[1].ip' });
  });

  it('what the path lacks is said: no Nodes, no Pods (Deployment only), an unknown Vlan, a misspelled kind, a Pod on no node, a duplicate', async () => {
    const text = `apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: s}
spec: {cidrBlock: 10.180.204.0/24, vlan: nope, enableExternalLBAddress: true}
---
apiVersion: kubeovn.io/v1
kind: Vlan
metadata: {name: v}
spec: {id: 0, provider: p}
---
apiVersion: v1
kind: Servcie
metadata: {name: typo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec: {replicas: 1, template: {metadata: {labels: {app: x}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec: {replicas: 1}
`;
    const r = await run('lint', '--manifests', file('lacks.yaml', text), '--json');
    expect(r.code).toBe(1);
    const codes = (JSON.parse(r.out) as Array<{ code: string; message: string }>).map((d) => d.code);
    expect(codes).toEqual(expect.arrayContaining(['NO_NODES', 'PODS_FROM_DEPLOYMENTS', 'VLAN_NOT_FOUND', 'UNKNOWN_KIND_TYPO', 'DUPLICATE_OBJECT']));
    expect((JSON.parse(r.out) as Array<{ code: string; message: string }>).find((d) => d.code === 'UNKNOWN_KIND_TYPO')!.message).toMatch(/did you mean Service\?/);
    const pod = 'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: elsewhere}\nstatus: {podIP: 10.180.204.7}\n';
    const lint = JSON.parse((await run('lint', '--manifests', file('pod.yaml', pod), '--json')).out) as Array<{ code: string; field: string }>;
    expect(lint.find((d) => d.code === 'POD_ON_UNKNOWN_NODE')).toMatchObject({ field: 'spec.nodeName' });
    expect(lint.filter((d) => d.code === 'DUPLICATE_OBJECT')).toHaveLength(1);
    const s = JSON.parse((await run('status', '--manifests', file('pod.yaml', pod), '--json')).out) as Status & { nodes: unknown[] };
    expect(s.nodes).toHaveLength(1);
  });

  it('a manifest file over the size limit is refused by its size, before it is read (issue 19 item 6)', async () => {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, '');
    truncateSync(big, 65 * 1024 * 1024); // sparse: nothing to read, only a size
    const r = await run('lint', '--manifests', big);
    expect([r.code, r.err]).toEqual([1, expect.stringMatching(/big\.yaml:1:1: the file is 68157440 bytes \(limit bytes = 67108864\)/)]);
  });

  it('--defaults mixes the default scenario in, and says so', async () => {
    const svc = 'apiVersion: v1\nkind: Service\nmetadata: {name: only}\nspec: {type: LoadBalancer, selector: {app: nginx}, ports: [{port: 80}], externalTrafficPolicy: Local}\n';
    const alone = JSON.parse((await run('status', '--manifests', file('svc.yaml', svc), '--json')).out) as Status;
    expect(alone.services[0]!.ingress).toEqual([]);
    const mixed = JSON.parse((await run('status', '--manifests', file('svc.yaml', svc), '--defaults', '--json')).out) as Status;
    expect(mixed.services[0]!.ingress).toHaveLength(1);
    expect(mixed.lint.map((d) => d.code)).toContain('DEFAULTS_MIXED_IN');
  });
});

describe('--snapshot DIR (issue 18 "Why" 3 and 4: flows as a terminal prints them, and flows for replay, trace, curl)', () => {
  it('status, lint, curl, trace and replay run on the collected cluster: its pods, its flows with its port numbers (3, 5), profiles from versions.json, flags from kube-ovn-controller', async () => {
    const s = JSON.parse((await run('status', '--snapshot', fixture, '--json')).out) as Status & { profiles: Record<string, string>; brProviderFlows: Record<string, string> };
    expect(s.pods.map((p) => p.name)).toEqual(['web-a', 'web-b']);
    expect(s.profiles).toEqual({ kubeOvn: 'kube-ovn-1.14', metallb: 'metallb-0.13.7' });
    expect(s.brProviderFlows.node1).toMatch(/in_port="underlay0\.341".*output:"patch-localnet\."/);
    // The text view prints the collected flows with the node's own port numbers (the names resolved).
    const text = await run('status', '--snapshot', fixture);
    expect([text.code, text.err]).toEqual([0, '']);
    expect(text.out).toMatch(/# on node1, node2\n.*in_port=3,nw_dst=10\.180\.204\.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:5/);
    const lint = await run('lint', '--snapshot', fixture, '--json');
    expect(lint.code).toBe(0);
    expect((JSON.parse(lint.out) as Array<{ code: string }>).map((d) => d.code)).toEqual(['PODS_OFF_THE_UNDERLAY']);
    const curl = await run('curl', '--snapshot', fixture, '--json');
    expect(curl.code).toBe(0);
    const res = JSON.parse(curl.out) as { servedBy: { pod: string; client: string } };
    expect(res.servedBy).toMatchObject({ pod: 'web-a', client: expect.stringMatching(/^10\.180\.204\.100:/) });
    const line = JSON.parse((await run('trace', '--snapshot', fixture, '--json')).out) as TraceLine;
    expect(line.stages.find((x) => x.at === 'node1/br-provider')!.decision).toMatch(/^in_port underlay0\.341 → patch/);
    expect(line.emitted.map((e) => e.to)).toContain('node1/web-a');
    const replay = await run('replay', fileURLToPath(new URL('./fixtures/vip-ipv4.pcap', import.meta.url)), '--snapshot', fixture, '--json');
    expect(replay.code).toBe(0);
    // The bundled capture's frames (recorded against another cluster) are served by the snapshot's own pods.
    const served = Object.keys((JSON.parse(replay.out) as { servedBy: Record<string, unknown> }).servedBy);
    expect(served.length).toBeGreaterThan(0);
    expect(served.every((p) => p === 'web-a' || p === 'web-b')).toBe(true);
  });

  it('a node without flows is a finding, and its bridge drops; a missing cluster.yaml is a typed error; --snapshot with --manifests is a usage error', async () => {
    const snap = join(dir, 'noflows');
    cpSync(fixture, snap, { recursive: true });
    unlinkSync(join(snap, 'nodes', 'node1', 'br-provider.flows'));
    const lint = JSON.parse((await run('lint', '--snapshot', snap, '--json')).out) as Array<{ code: string; object: string }>;
    expect(lint.find((d) => d.code === 'SNAPSHOT_NO_FLOWS')).toMatchObject({ object: 'Node/node1' });
    expect((await run('curl', '--snapshot', snap)).code).toBe(1);
    expect(() => loadSnapshot(join(dir, 'nothing-here'))).toThrow(SnapshotError);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const r = await run('status', '--snapshot', empty);
    expect([r.code, r.err]).toEqual([1, expect.stringMatching(/has no cluster\.yaml/)]);
    expect((await run('status', '--snapshot', fixture, '--manifests', join(fixture, 'cluster.yaml'))).code).toBe(2);
  });

  it('OVN databases: the Northbound load balancers are compared with what vippath derives, the Southbound read and run', async () => {
    const snap = join(dir, 'with-ovn');
    expect((await run('status', '--write-snapshot', snap)).code).toBe(0);
    mkdirSync(join(snap, 'ovn'), { recursive: true });
    cpSync(join(ovsdbFixtures, 'nb-backup.db'), join(snap, 'ovn', 'nb.db'));
    cpSync(join(ovsdbFixtures, 'sb-backup.db'), join(snap, 'ovn', 'sb.db'));
    const lint = JSON.parse((await run('lint', '--snapshot', snap, '--json')).out) as Array<{ code: string; message: string }>;
    const codes = lint.map((d) => d.code);
    expect(codes).toEqual(expect.arrayContaining(['OVN_NB_READ', 'OVN_SB_RUN']));
    expect(codes).not.toContain('OVN_SB_LB_DIFFERS');
    // The NB backup holds the default scenario's load balancer, as Kube-OVN would write it: no difference.
    expect(codes).not.toContain('OVN_LB_DIFFERS');
    cpSync(join(ovsdbFixtures, 'nb-backup.db'), join(snap, 'ovn', 'sb.db'));
    const wrong = await run('lint', '--snapshot', snap);
    expect([wrong.code, wrong.err]).toEqual([1, expect.stringMatching(/is a OVN_Northbound database, not OVN_Southbound/)]);
  });
});

describe('the snapshot\'s Southbound logical flows are what runs (issue 18 item 2)', () => {
  const snapWith = (name: string, sb?: string): string => {
    const snap = join(dir, name);
    writeSnapshot(snap, withDefaults([]), clusterFrom(withDefaults([])));
    if (sb) cpSync(join(ovsdbFixtures, sb), join(snap, 'ovn', 'sb.db'));
    return snap;
  };
  const syn = (sim: SimulatedCluster, sport: number): string => {
    const r = sim.inject(frameFromDescription(`tcp,dst=${VIP},dport=80,flags=S,sport=${sport}`, sim), 100 + sport);
    return r.delivered.map((d) => `${d.pod}@${d.node}`).join(',') || r.drops.map((d) => d.reason).join(',');
  };

  it('sb.db as ovn-northd 23.03 wrote it (no Kube-OVN patches): its rows run, not vippath\'s kube-ovn-1.14 flows, so prefer-local is gone', () => {
    const loaded = loadSnapshot(snapWith('sb-real', 'sb-backup.db'));
    expect(loaded.cluster.southbound?.file).toMatch(/sb\.db$/);
    const sim = new SimulatedCluster(loaded.objects, loaded.cluster);
    const collected = loaded.cluster.southbound!.state.flows.get('underlay-subnet')!;
    expect(sim.ls.sb.flows.get('underlay-subnet')).toBe(collected);
    // The collected rows are upstream's: no ls_in_lb flow of priority 140 (Kube-OVN's prefer-local).
    expect(collected.some((f) => f.stage === 'ls_in_lb' && f.priority === 140)).toBe(false);
    const derived = new SimulatedCluster(withDefaults([]), clusterFrom(withDefaults([])));
    expect(derived.ls.sb.flows.get('underlay-subnet')!.some((f) => f.stage === 'ls_in_lb' && f.priority === 140)).toBe(true);
    // What that changes on the wire: the derived (prefer-local) cluster always serves on the VIP's node; the
    // collected one hashes over every backend, so some new connections leave for other nodes.
    const owner = derived.state.services[0]!.owners[VIP]![0]!;
    const mine = Array.from({ length: 16 }, (_, i) => syn(derived, 41000 + i));
    const theirs = Array.from({ length: 16 }, (_, i) => syn(sim, 41000 + i));
    expect(mine.every((m) => m.endsWith(`@${owner}`)), mine.join(' ')).toBe(true);
    expect(theirs).not.toEqual(mine);
  });

  it('a readiness change is applied to the collected rows as northd\'s difference; when they lack what it takes out, vippath\'s flows take over and an event says so', () => {
    // lflows.txt (as status --write-snapshot writes it) holds vippath's flows: the difference applies.
    const loaded = loadSnapshot(snapWith('sb-text'));
    expect(loaded.cluster.southbound?.file).toMatch(/lflows\.txt$/);
    expect(loaded.cluster.findings!.map((f) => f.code)).toEqual(expect.arrayContaining(['OVN_SB_FROM_TEXT', 'OVN_SB_RUN']));
    const sim = new SimulatedCluster(loaded.objects, loaded.cluster);
    // Marked: a collected flow the change leaves alone stays the same object.
    const before = sim.ls.sb.flows.get('underlay-subnet')!;
    const kept = before.find((f) => f.stage.startsWith('ls_in_') && f.stage !== 'ls_in_lb')!;
    expect(kept).toBeDefined();
    const pod = sim.state.pods[0]!;
    sim.setPodReady(pod.name, false, 50);
    sim.advance(60);
    const after = sim.ls.sb.flows.get('underlay-subnet')!;
    expect(sim.ls.southboundReplaced).toBeUndefined();
    expect(after).toContain(kept);
    const lbs = (fl: typeof after): string[] => fl.filter((f) => f.stage === 'ls_in_lb' && f.actions.includes('ct_lb_mark')).map((f) => f.actions);
    expect(lbs(before).some((a) => a.includes(`${pod.ip}:80`))).toBe(true);
    expect(lbs(after).some((a) => a.includes(`${pod.ip}:80`))).toBe(false);
    // The same as vippath's own flows after the change.
    const derived = new SimulatedCluster(withDefaults([]), clusterFrom(withDefaults([])));
    derived.setPodReady(pod.name, false, 50);
    derived.advance(60);
    expect(lbs(after).sort()).toEqual(lbs(derived.ls.sb.flows.get('underlay-subnet')!).sort());
    for (let i = 0; i < 12; i++) expect(syn(sim, 42000 + i)).toBe(syn(derived, 42000 + i));

    // The real 23.03 Southbound has no prefer-local flows: the change cannot be applied to it.
    const real = loadSnapshot(snapWith('sb-real2', 'sb-backup.db'));
    const sim2 = new SimulatedCluster(real.objects, real.cluster);
    sim2.setPodReady(pod.name, false, 50);
    sim2.advance(60);
    expect(sim2.ls.southboundReplaced).toMatch(/collected Southbound has no ls_in_lb flow of priority 140/);
    expect(sim2.events.map((e) => e.text)).toEqual(expect.arrayContaining([expect.stringMatching(/^OVN: the collected Southbound has no/)]));
    expect(lbs(sim2.ls.sb.flows.get('underlay-subnet')!).sort()).toEqual(lbs(derived.ls.sb.flows.get('underlay-subnet')!).sort());
  });

  it('a collected flow OVN refuses is skipped and said (OVN_SB_LFLOW_SKIPPED); one with an action vippath does not model loads and is said (OVN_SB_LFLOW_UNMODELLED); a field vippath does not model refuses the rows (OVN_SB_LFLOW_UNSUPPORTED)', () => {
    const edit = (name: string, from: RegExp, to: string): string => {
      const snap = snapWith(name);
      const file = join(snap, 'ovn', 'lflows.txt');
      const text = readFileSync(file, 'utf8');
      expect(text).toMatch(from);
      writeFileSync(file, text.replace(from, to));
      return snap;
    };
    // One `next;` without its `;`: ovn-controller logs "error parsing actions" and installs the rest.
    const skipped = loadSnapshot(edit('sb-skip', /action=\(next;\)/, 'action=(next)'));
    const finding = skipped.cluster.findings!.find((d) => d.code === 'OVN_SB_LFLOW_SKIPPED');
    expect(finding?.severity).toBe('warning');
    expect(finding?.message).toMatch(/^1 logical flow skipped as ovn-controller skips them: ingress table \d+ \(ls_in_\w+\) priority \d+: error parsing actions \(syntax error: expecting ';'/);
    expect(skipped.cluster.southbound).toBeDefined();
    expect(new SimulatedCluster(skipped.objects, skipped.cluster).ls.skippedFlows).toHaveLength(1);
    // put_dhcp_opts (a Kube-OVN subnet with enableDHCP) and dns_lookup: OVN 23.03 runs them, vippath does not model them.
    const dhcp = loadSnapshot(edit('sb-unmodelled', /action=\(next;\)/g, 'action=(reg0[3] = put_dhcp_opts(offerip = 10.0.0.5, router = 10.0.0.1); next;)'));
    const said = dhcp.cluster.findings!.find((d) => d.code === 'OVN_SB_LFLOW_UNMODELLED');
    expect(said?.severity).toBe('warning');
    expect(said?.message).toMatch(/^\d+ logical flows with actions vippath does not run: put_dhcp_opts ×\d+ \(loaded in their place; a packet that reaches one is dropped there/);
    expect(dhcp.cluster.southbound).toBeDefined();
    expect(dhcp.cluster.findings!.map((d) => d.code)).toContain('OVN_SB_RUN');
    const sim = new SimulatedCluster(dhcp.objects, dhcp.cluster);
    expect(sim.ls.unmodelledFlows.length).toBeGreaterThan(1);
    // A SYN to the VIP crosses a rewritten `next;` flow: dropped there with the code, counted like any drop.
    const r = sim.inject(frameFromDescription(`tcp,dst=${VIP},dport=80,flags=S,sport=41000`, sim), 100);
    expect([r.delivered.length, [...new Set(r.drops.map((d) => d.code))]]).toEqual([0, ['ovn.unmodelled-action']]);
    // Traced, the drop names the flow (stage, table, priority) and the action; the code stays the summary key.
    expect(r.drops[0]!.reason).toMatch(/^ovn: (ls_in_\w+): an action vippath does not model: put_dhcp_opts in \1 \(ingress table \d+\) priority \d+$/);
    const untraced = new SimulatedCluster(dhcp.objects, dhcp.cluster, { trace: false }).inject(frameFromDescription(`tcp,dst=${VIP},dport=80,flags=S,sport=41000`, sim), 100);
    expect(untraced.drops.map((d) => d.code)).toEqual(['ovn.unmodelled-action']);
    // Strict: the snapshot's rows are refused, a typed error naming the file, the flow and the action — by
    // loadSnapshot, and by a simulation given rows that hold such flows.
    const snap = join(dir, 'sb-unmodelled');
    const refusal = /ovn\/lflows\.txt: ingress table \d+ \(ls_in_\w+\) priority \d+: OVN's action put_dhcp_opts is not supported by vippath \(strict\)/;
    let strictError: unknown;
    try {
      loadSnapshot(snap, { strictLflows: true });
    } catch (e) {
      strictError = e;
    }
    expect([strictError instanceof VippathError && strictError.code, (strictError as Error | undefined)?.message]).toEqual(['UNSUPPORTED_LFLOW', expect.stringMatching(refusal)]);
    expect(loadSnapshot(snap, { strictLflows: false }).cluster.southbound).toBeDefined();
    expect(() => new SimulatedCluster(dhcp.objects, dhcp.cluster, { strictLflows: true })).toThrow(/^ingress table \d+ \(ls_in_\w+\) priority \d+: OVN's action put_dhcp_opts is not supported by vippath \(strict\)/);
    // icmp4.frag_mtu: a field OVN 23.03 has and vippath does not model — the rows are refused.
    const unsupported = loadSnapshot(edit('sb-unsupported', /action=\(next;\)/, 'action=(icmp4_error { icmp4.frag_mtu = 1500; output; };)'));
    const error = unsupported.cluster.findings!.find((d) => d.code === 'OVN_SB_LFLOW_UNSUPPORTED');
    expect([error?.severity, error?.message]).toEqual(['error', expect.stringMatching(/OVN's field icmp4.frag_mtu is not supported by vippath/)]);
    expect(unsupported.cluster.southbound).toBeUndefined();
    expect(unsupported.cluster.findings!.map((d) => d.code)).not.toContain('OVN_SB_RUN');
    // Strict refuses these rows too, rather than running vippath's northd flows in their place.
    let fieldError: unknown;
    try {
      loadSnapshot(join(dir, 'sb-unsupported'), { strictLflows: true });
    } catch (e) {
      fieldError = e;
    }
    expect([fieldError instanceof VippathError && fieldError.code, (fieldError as Error | undefined)?.message]).toEqual(['UNSUPPORTED_LFLOW', expect.stringMatching(/ovn\/lflows\.txt: ingress table \d+ \(ls_in_\w+\) priority \d+: OVN's field icmp4.frag_mtu is not supported by vippath/)]);
  });

  it('--strict-lflows: the commands that load a snapshot refuse one whose flows use actions vippath does not model (exit 1, the flow and action named); without it the rows load, lint warns and a trace names the dropping flow', async () => {
    const snap = snapWith('sb-unmodelled-cli');
    const file = join(snap, 'ovn', 'lflows.txt');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/action=\(next;\)/g, 'action=(reg0[3] = put_dhcp_opts(offerip = 10.0.0.5, router = 10.0.0.1); next;)'));
    const refusal = (cmd: string): RegExp => new RegExp(`^vippath ${cmd}: .*ovn/lflows\\.txt: ingress table \\d+ \\(ls_in_\\w+\\) priority \\d+: OVN's action put_dhcp_opts is not supported by vippath \\(strict\\)`);
    const syn = `tcp,dst=${VIP},dport=80,flags=S,sport=41000`;
    for (const args of [['lint'], ['status'], ['trace', syn], ['curl']]) {
      const r = await run(...args, '--snapshot', snap, '--strict-lflows');
      expect([r.code, r.out, r.err], args.join(' ')).toEqual([1, '', expect.stringMatching(refusal(args[0]!))]);
    }
    const lint = await run('lint', '--snapshot', snap, '--json');
    expect(lint.code, lint.err).toBe(0);
    expect((JSON.parse(lint.out) as Array<{ code: string; severity: string }>).filter((d) => d.code.startsWith('OVN_SB_LFLOW'))).toEqual([expect.objectContaining({ code: 'OVN_SB_LFLOW_UNMODELLED', severity: 'warning' })]);
    const trace = await run('trace', syn, '--snapshot', snap);
    expect(trace.code, trace.err).toBe(0);
    expect(trace.out).toMatch(/\ndrop at node\d\/underlay-subnet: ovn: (ls_in_\w+): an action vippath does not model: put_dhcp_opts in \1 \(ingress table \d+\) priority \d+\n/);
    // verify's exit 1 says "they differ": a refused snapshot is one it cannot use (2, as BAD_SNAPSHOT), before any testbed.
    const verify = await run('verify', fileURLToPath(new URL('./fixtures/vip-ipv4.pcap', import.meta.url)), '--snapshot', snap, '--strict-lflows');
    expect([verify.code, verify.out, verify.err]).toEqual([2, '', expect.stringMatching(/^vippath verify: UNSUPPORTED_LFLOW: .*ovn\/lflows\.txt: ingress table \d+ \(ls_in_\w+\) priority \d+: OVN's action put_dhcp_opts is not supported by vippath \(strict\)/)]);
    expect((await run('lint', '--strict-lflows')).err).toMatch(/--strict-lflows goes with --snapshot DIR/);
  });

  it('lflow-list text carries no Address_Set or Port_Group rows: a flow naming one vippath\'s northd lacks is skipped for want of input (OVN_SB_TEXT_NO_ROWS), not said as OVN\'s refusal; in sb.db such a flow is OVN\'s refusal', () => {
    const snap = snapWith('sb-text-rows');
    const file = join(snap, 'ovn', 'lflows.txt');
    const lines = readFileSync(file, 'utf8').split('\n');
    const plain = lines.map((l, i) => [l, i] as const).filter(([l]) => /match=\(1\), action=\(next;\)/.test(l)).map(([, i]) => i);
    expect(plain.length).toBeGreaterThanOrEqual(3);
    lines[plain[0]!] = lines[plain[0]!]!.replace('match=(1)', 'match=(ip4.src == $kube_ovn_not_here)');
    lines[plain[1]!] = lines[plain[1]!]!.replace('match=(1)', 'match=(inport == @pg_not_here)');
    lines[plain[2]!] = lines[plain[2]!]!.replace('action=(next;)', 'action=(next)');
    writeFileSync(file, lines.join('\n'));
    const f = loadSnapshot(snap).cluster.findings!;
    const noRows = f.find((d) => d.code === 'OVN_SB_TEXT_NO_ROWS');
    expect(noRows?.severity).toBe('warning');
    expect(noRows?.message).toMatch(/^2 logical flows name (\$kube_ovn_not_here, @pg_not_here|@pg_not_here, \$kube_ovn_not_here), which ovn-sbctl lflow-list text does not carry/);
    expect(noRows?.message).not.toMatch(/as ovn-controller skips them/);
    expect(noRows?.message).toMatch(/: skipped ingress table \d+ \(ls_in_\w+\) priority \d+; ingress table/);
    // The syntax error stays OVN's own refusal, alone.
    expect(f.find((d) => d.code === 'OVN_SB_LFLOW_SKIPPED')?.message).toMatch(/^1 logical flow skipped as ovn-controller skips them: .*error parsing actions/);

    // The same unknown set in a Southbound database: the cluster's ovn-controller refuses it too (the rows are there).
    const dbSnap = snapWith('sb-db-rows', 'sb-backup.db');
    const dbFile = join(dbSnap, 'ovn', 'sb.db');
    const db = readOvsdbFile(readFileSync(dbFile));
    const row = [...db.tables.get('Logical_Flow')!.values()].filter((r) => r.columns.get('match') === '1' && r.columns.get('actions') === 'next;').sort((a, b) => (a._uuid < b._uuid ? -1 : 1))[0]!;
    const body = JSON.stringify({ Logical_Flow: { [row._uuid]: { match: 'ip4.src == $kube_ovn_not_here' } } });
    writeFileSync(dbFile, Buffer.concat([readFileSync(dbFile), Buffer.from(`OVSDB JSON ${Buffer.byteLength(body)} ${createHash('sha1').update(body).digest('hex')}\n${body}\n`)]));
    const g = loadSnapshot(dbSnap).cluster.findings!;
    expect(g.map((d) => d.code)).not.toContain('OVN_SB_TEXT_NO_ROWS');
    expect(g.find((d) => d.code === 'OVN_SB_LFLOW_SKIPPED')?.message).toMatch(/^1 logical flow skipped as ovn-controller skips them: .*error parsing match \(unknown name: .*kube_ovn_not_here/);
  });

  it('Kube-OVN\'s chassis are named by a generated system-id: Port_Binding chassis become nodes through Chassis.hostname, and a binding on another node than the Pod\'s is a finding', () => {
    // The fixture as ovn-northd wrote it, plus one transaction as ovn-controller would make: a Chassis row and
    // a Port_Binding bound to it (a standalone file's record: "OVSDB JSON <length> <sha1>").
    const bind = (name: string, host: string): string => {
      const snap = snapWith(`sb-chassis-${host}`, 'sb-backup.db');
      const file = join(snap, 'ovn', 'sb.db');
      const db = readOvsdbFile(readFileSync(file));
      const pb = [...db.tables.get('Port_Binding')!.values()].find((r) => r.columns.get('logical_port') === 'deploy-169402624-2.default')!;
      const chassis = 'b5e2a1c0-0000-4000-8000-00000000c0de';
      const body = JSON.stringify({ Chassis: { [chassis]: { name, hostname: host } }, Port_Binding: { [pb._uuid]: { chassis: ['uuid', chassis] } } });
      writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from(`OVSDB JSON ${Buffer.byteLength(body)} ${createHash('sha1').update(body).digest('hex')}\n${body}\n`)]));
      return snap;
    };
    const ok = loadSnapshot(bind('7d3f0c2e-5d8b-4a59-9a57-6c1f0e3b9a11', 'node3'));
    expect(ok.cluster.southbound!.state.portBindings.find((p) => p.logicalPort === 'deploy-169402624-2.default')?.chassis).toBe('node3');
    expect(ok.cluster.findings!.map((d) => d.code)).not.toContain('OVN_SB_PORT_CHASSIS');
    const moved = loadSnapshot(bind('7d3f0c2e-5d8b-4a59-9a57-6c1f0e3b9a11', 'node1')).cluster.findings!.find((d) => d.code === 'OVN_SB_PORT_CHASSIS');
    expect(moved?.object).toBe('Pod/default/deploy-169402624-2');
    expect(moved?.message).toBe('Port_Binding deploy-169402624-2.default is bound to chassis node1; the Pod is on node3');
  });

  it('where the collected rows and the derived state disagree, a finding names both: a pod with no Port_Binding, another chassis, other addresses, other backends', () => {
    const snap = snapWith('sb-disagree');
    const text = readFileSync(join(snap, 'ovn', 'lflows.txt'), 'utf8');
    expect(text).toMatch(/deploy-169402624-0\.default/);
    const cy = readFileSync(join(snap, 'cluster.yaml'), 'utf8');
    // A pod the Southbound never saw (renamed in cluster.yaml).
    writeFileSync(join(snap, 'cluster.yaml'), cy.replace(/"name": "deploy-169402624-2"/, '"name": "deploy-169402624-9"'));
    const f = loadSnapshot(snap).cluster.findings!;
    const noPort = f.find((d) => d.code === 'OVN_SB_NO_PORT');
    expect(noPort?.object).toBe('Pod/default/deploy-169402624-9');
    expect(noPort?.message).toMatch(/no Port_Binding deploy-169402624-9\.default on underlay-subnet/);
    expect(noPort?.severity).toBe('error');
    // Flows from another moment than cluster.yaml are not run (said), rather than failing on the pod's frames.
    expect(loadSnapshot(snap).cluster.southbound).toBeUndefined();
    expect(f.map((d) => d.code)).not.toContain('OVN_SB_RUN');
    // sb.db from real ovn-northd: its chassis are unset (no ovn-controller ran): no chassis finding; same LB.
    const real = loadSnapshot(snapWith('sb-real3', 'sb-backup.db')).cluster.findings!.map((d) => d.code);
    expect(real).not.toContain('OVN_SB_PORT_CHASSIS');
    expect(real).not.toContain('OVN_SB_LB_DIFFERS');
    expect(real).not.toContain('OVN_SB_NO_PORT');
  });
});

/** The ARP replies a trace sent to the outside. */
const arpReplies = (line: TraceLine): string[] => line.emitted.filter((e) => e.to === 'outside').map((e) => describeFrame(Buffer.from(e.hex, 'hex'))).filter((d) => d.startsWith('arp reply'));

describe('hostile snapshots', () => {
  it('a bad flow line names its file; a node named ../../x neither reads nor writes outside the snapshot', async () => {
    const snap = join(dir, 'badflow');
    cpSync(fixture, snap, { recursive: true });
    writeFileSync(join(snap, 'nodes', 'node2', 'br-provider.flows'), ' cookie=0x0, table=0, priority=5,in_port="nosuchport" actions=NORMAL\n');
    const r = await run('status', '--snapshot', snap);
    expect([r.code, r.err]).toEqual([1, expect.stringContaining(`${join(snap, 'nodes', 'node2', 'br-provider.flows')}: line 1, column`)]);
    const evil = join(dir, 'evil');
    cpSync(fixture, evil, { recursive: true });
    writeFileSync(join(evil, 'cluster.yaml'), readFileSync(join(fixture, 'cluster.yaml'), 'utf8').replace('    name: node1\n', '    name: ../../outside\n'));
    expect(() => loadSnapshot(evil)).toThrow(/not a Kubernetes node name/);
    const objects = loadManifests('apiVersion: v1\nkind: Node\nmetadata: {name: ../../outside}\n').objects;
    expect(() => writeSnapshot(join(dir, 'w'), objects, clusterFrom(objects))).toThrow(SnapshotError);
    expect(existsSync(join(dir, 'w'))).toBe(false);
  });

  it('fuzz: cut and salted snapshot files load and simulate, or fail with a VippathError (60 cases, seed printed)', () => {
    const files = ['cluster.yaml', 'versions.json', 'nodes/node1/br-provider.flows', 'nodes/node1/br-provider.ports', 'nodes/node2/br-provider.ports'];
    const seed = Number(process.env.VIPPATH_FUZZ_SEED ?? 1818);
    console.log(`snapshot fuzz: 60 cases, seed ${seed} (VIPPATH_FUZZ_SEED reproduces)`);
    let i = 0;
    fc.assert(
      fc.property(fc.constantFrom(...files), fc.nat(), fc.nat(), fc.constantFrom('', '"', '(', ')', ',', '\n', 'x', '\u0000', '{', ': ', '999999999999', 'null', '\t- '), (f, a, b, salt) => {
        const snap = join(dir, `fz-${i++}`);
        cpSync(fixture, snap, { recursive: true });
        const text = readFileSync(join(snap, f), 'utf8');
        const lo = a % (text.length + 1);
        const hi = lo + (b % 40);
        writeFileSync(join(snap, f), text.slice(0, lo) + salt + text.slice(hi));
        try {
          const { objects, cluster } = loadSnapshot(snap);
          const sim = new SimulatedCluster(objects, cluster);
          sim.inject(frameFromDescription('arp,dst=10.180.204.252', sim), 100);
        } catch (e) {
          if (!(e instanceof VippathError)) throw e;
        } finally {
          rmSync(snap, { recursive: true, force: true });
        }
      }),
      { numRuns: 60, seed, endOnFailure: true },
    );
  }, 120_000);
});

describe('what breaks announcement is linted, and status, curl and trace agree (issue 18 "Why" 5)', () => {
  const seedLike = (l2: string, extra = ''): string => readFileSync(join(fixture, 'cluster.yaml'), 'utf8').replace('  spec: {ipAddressPools: [underlay-pool]}', `  spec: ${l2}`) + extra;
  const check = async (name: string, l2: string, code: string): Promise<void> => {
    const f = file(name, seedLike(l2));
    const lint = await run('lint', '--manifests', f, '--json');
    expect(lint.code).toBe(1);
    const d = (JSON.parse(lint.out) as Array<{ code: string; consequence: string }>).find((x) => x.code === code);
    expect(d, lint.out).toBeDefined();
    expect(d!.consequence).toMatch(/dark/);
    const status = await run('status', '--manifests', f);
    expect(status.out).toMatch(/nginx-lb +LoadBalancer +10\.180\.204\.252 +nobody/);
    const curl = await run('curl', '--manifests', f, '--json');
    expect(curl.code).toBe(1);
    expect((JSON.parse(curl.out) as { arp?: unknown; error: string }).arp).toBeUndefined();
    const arp = JSON.parse((await run('trace', 'arp,dst=10.180.204.252', '--manifests', f, '--json')).out) as TraceLine;
    expect(arpReplies(arp)).toEqual([]);
    // The replay's summary says the same: announced by nobody, no ARP answered.
    const replay = JSON.parse((await run('replay', fileURLToPath(new URL('./fixtures/vip-ipv4.pcap', import.meta.url)), '--manifests', f, '--json')).out) as { services: Array<{ owners: Record<string, string[]> }>; toClient: { arpRepliesBy: Record<string, number> } };
    expect(replay.services[0]!.owners[VIP]).toEqual([]);
    expect(replay.toClient.arpRepliesBy).toEqual({});
  };

  it('interfaces: [underlay0.341] as the seed document suggests: elected, silent (br-provider is where MetalLB answers)', async () => {
    await check('if.yaml', '{ipAddressPools: [underlay-pool], interfaces: [underlay0.341]}', 'L2_INTERFACES_WITHOUT_RESPONDER');
    const s = JSON.parse((await run('status', '--manifests', join(dir, 'if.yaml'), '--json')).out) as Status;
    expect(s.services[0]!.elected[VIP]).toBe('node1');
    expect(s.services[0]!.owner[VIP]).toBeNull();
    // Listing br-provider works.
    const ok = file('if-ok.yaml', seedLike('{ipAddressPools: [underlay-pool], interfaces: [br-provider]}'));
    expect((await run('curl', '--manifests', ok)).code).toBe(0);
    expect(arpReplies(JSON.parse((await run('trace', 'arp,dst=10.180.204.252', '--manifests', ok, '--json')).out) as TraceLine)).toEqual(['arp reply 10.180.204.252 is-at 52:54:00:bb:00:01 vlan 341']);
    expect((JSON.parse((await run('lint', '--manifests', ok, '--json')).out) as Array<{ code: string }>).map((d) => d.code)).not.toContain('L2_INTERFACES_WITHOUT_RESPONDER');
  });

  it('nodeSelectors that match no Node', async () => {
    await check('sel.yaml', '{ipAddressPools: [underlay-pool], nodeSelectors: [{matchLabels: {kubernetes.io/hostname: node9}}]}', 'NODE_SELECTORS_MATCH_NO_NODE');
  });

  it('ETP=Local with the endpoints on nodes no advertisement selects', async () => {
    await check('etp.yaml', '{ipAddressPools: [underlay-pool], nodeSelectors: [{matchLabels: {kubernetes.io/hostname: node3}}]}', 'ETP_LOCAL_NO_ELIGIBLE_NODE');
  });

  it('ServiceL2Status: the recorded announcer is followed while it can announce, and a difference from the computed election is a finding', async () => {
    const f = file('l2s.yaml', readFileSync(join(fixture, 'cluster.yaml'), 'utf8').replace('status: {node: node1,', 'status: {node: node2,'));
    const lint = JSON.parse((await run('lint', '--manifests', f, '--json')).out) as Array<{ code: string; message: string }>;
    expect(lint.find((d) => d.code === 'L2STATUS_DISAGREES')!.message).toMatch(/recorded node2 .* vippath elects node1 from the same objects, and follows the record/);
    // The simulation follows the recorded announcer: node2 answers ARP and its pod serves (prefer-local).
    const s = JSON.parse((await run('status', '--manifests', f, '--json')).out) as Status;
    expect(s.services[0]!.owner[VIP]).toBe('node2');
    const curl = JSON.parse((await run('curl', '--manifests', f, '--json')).out) as { servedBy: { pod: string; node: string } };
    expect(curl.servedBy).toMatchObject({ pod: 'web-b', node: 'node2' });
    // A record naming a node that cannot announce (no endpoint under ETP=Local) is not followed.
    const g = file('l2s3.yaml', readFileSync(join(fixture, 'cluster.yaml'), 'utf8').replace('status: {node: node1,', 'status: {node: node3,'));
    const lint3 = JSON.parse((await run('lint', '--manifests', g, '--json')).out) as Array<{ code: string; message: string }>;
    expect(lint3.find((d) => d.code === 'L2STATUS_DISAGREES')!.message).toMatch(/recorded node3 .* cannot announce it here .* vippath elects node1/);
    expect((JSON.parse((await run('status', '--manifests', g, '--json')).out) as Status).services[0]!.owner[VIP]).toBe('node1');
  });
});

describe('status --write-snapshot round trip', () => {
  it('writes the layout collect writes; the default scenario loads back to the same status', async () => {
    const snap = join(dir, 'default');
    const a = await run('status', '--json', '--write-snapshot', snap);
    const b = await run('status', '--json', '--snapshot', snap);
    const strip = (t: string): unknown => {
      const s = JSON.parse(t) as Record<string, unknown>;
      delete s.brProviderFlows; // the same flows; the snapshot's as its files hold them
      delete s.lint;
      return s;
    };
    expect(strip(b.out)).toEqual(strip(a.out));
  });

  it('a pod that is not ready stays out of the endpoints through write → load, and the VIP moves to the node that has one', async () => {
    const text = readFileSync(join(fixture, 'cluster.yaml'), 'utf8')
      .replace('conditions: [{type: Initialized, status: "True"}, {type: Ready, status: "True"}, {type: ContainersReady, status: "True"}]', 'conditions: [{type: Ready, status: "False"}]')
      .replace(/    - \{ip: 10\.180\.204\.11, nodeName: node1[^\n]*\n/, '')
      .replace('  - {addresses: [10.180.204.11], conditions: {ready: true', '  - {addresses: [10.180.204.11], conditions: {ready: false');
    const f = file('notready.yaml', text);
    const a = JSON.parse((await run('status', '--manifests', f, '--json', '--write-snapshot', join(dir, 'notready'))).out) as Status;
    expect(a.services[0]!.endpoints.map((e) => e.pod)).toEqual(['web-b']);
    expect(a.services[0]!.owner[VIP]).toBe('node2');
    const b = JSON.parse((await run('status', '--snapshot', join(dir, 'notready'), '--json')).out) as Status;
    expect(b.services).toEqual(a.services);
    expect(readFileSync(join(dir, 'notready', 'cluster.yaml'), 'utf8')).toMatch(/"notReadyAddresses": \[\s*\{\s*"ip": "10\.180\.204\.11"/);
    const curl = JSON.parse((await run('curl', '--snapshot', join(dir, 'notready'), '--json')).out) as { servedBy: { pod: string } };
    expect(curl.servedBy.pod).toBe('web-b');
  });

  it('property: for generated cluster descriptions, write → load gives the same frames out for the same injected frames', () => {
    let n = 0;
    fc.assert(
      fc.property(topologyArb({ maxNodes: 3, maxPodsPerNode: 2 }), fc.array(fc.record({ dst: fc.constantFrom('vip', 'pod', 'other'), proto: fc.constantFrom('tcp', 'arp', 'udp', 'icmp'), dport: fc.constantFrom(80, 443, 22), flags: fc.constantFrom('S', 'A', 'R') }), { minLength: 1, maxLength: 6 }), (t, frames) => {
        const objects = withDefaults(loadManifests(manifestsOf(t), 'generated.yaml').objects);
        const cluster = clusterFrom(objects);
        const snap = join(dir, `prop-${n++}`);
        writeSnapshot(snap, objects, cluster);
        const loaded = loadSnapshot(snap);
        const a = new SimulatedCluster(objects, cluster);
        const b = new SimulatedCluster(loaded.objects, loaded.cluster);
        expect(b.state.pods).toEqual(a.state.pods);
        const vip = a.state.services.flatMap((s) => s.ingress)[0] ?? '10.180.204.252';
        const pod = a.state.pods[0]?.ip ?? '10.180.204.2';
        const seen = (r: InjectResult): unknown => ({ verdict: r.verdict, outside: r.outside.map((f) => Buffer.from(f).toString('hex')), background: r.background.map((f) => Buffer.from(f).toString('hex')), delivered: r.delivered.map((d) => `${d.pod}@${d.node} ${Buffer.from(d.frame).toString('hex')}`), drops: r.drops });
        frames.forEach((f, i) => {
          const dst = f.dst === 'vip' ? vip : f.dst === 'pod' ? pod : '10.180.204.77';
          const text = f.proto === 'arp' ? `arp,dst=${dst}` : f.proto === 'tcp' ? `tcp,dst=${dst},dport=${f.dport},flags=${f.flags},sport=${40000 + i}` : f.proto === 'udp' ? `udp,dst=${dst},dport=${f.dport}` : `icmp,dst=${dst}`;
          const at = 100 + i * 300;
          expect(seen(b.inject(frameFromDescription(text, b), at)), text).toEqual(seen(a.inject(frameFromDescription(text, a), at)));
        });
        rmSync(snap, { recursive: true, force: true });
      }),
      { numRuns: 40, seed: Number(process.env.VIPPATH_SEED ?? 18), endOnFailure: true },
    );
  }, 120_000);
});
