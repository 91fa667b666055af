/**
 * `vippath verify --snapshot` with the snapshot's own Northbound (ovn/nb.db): the real side runs what the user's
 * cluster had, not what vippath derives from the Kubernetes objects, and Kube-OVN's patch flows are the collected
 * Southbound's rows. The snapshot is collected from a testbed (profile Kube-OVN 1.14) whose Northbound was then
 * edited live — an ACL Kube-OVN's controller never writes for these objects, dropping the client's TCP to the
 * pods — so the collected NB and SB hold it and the derived Northbound does not:
 * - with nb.db, the real side drops the TCP as the collected flows the simulation runs do: no difference;
 * - the same snapshot without nb.db (the real side derived, as before): the real pods answer, vippath's do not;
 * - nb.db without sb.db: the real side runs the NB with the patches vippath computes on it;
 * - nb.db as a clustered server's file (converted by ovsdb-tool) gives the same as the standalone one;
 * - an nb.db that is no OVSDB file, or a Northbound without the switch, is a typed error and exit 2;
 * - `--real-northbound derived` leaves the nb.db aside (needed for the event options, which rewrite the NB).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { derive, loadSnapshot } from '@vippath/cluster';
import { CollectedNorthboundError, collectedOverlay, collectedPortFor, prepareCollectedNorthbound, Testbed, type CollectedNorthbound } from '../packages/vippath/src/testbed/index.js';
import { collect } from './testbed/collect.js';
import { scenarioObjects, unavailable } from './testbed/harness.js';
import { run } from './helpers/cli.js';

const capture = fileURLToPath(new URL('./fixtures/vip-ipv4.pcap', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vippath-tbnb-'));
afterAll(() => (process.env.VIPPATH_KEEP_SNAP ? console.log(dir) : rmSync(dir, { recursive: true, force: true })));
const NB_SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';
const CLIENT = '10.180.204.100';
const tool = (args: string[]): string => execFileSync('ovsdb-tool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Sets options:requested-chassis on every pod's port of a standalone NB file, offline. */
function requestChassis(file: string, node: (p: { name: string; node: string }) => string): void {
  const loaded = loadSnapshot(join(dir, 'snap'));
  const ops = derive(loaded.objects, loaded.cluster).pods.map((p) => ({ op: 'mutate', table: 'Logical_Switch_Port', where: [['name', '==', p.lsp]], mutations: [['options', 'insert', ['map', [['requested-chassis', node(p)]]]]] }));
  const res = JSON.parse(tool(['transact', file, JSON.stringify(['OVN_Northbound', ...ops])])) as Array<{ count?: number }>;
  expect(res.map((x) => x.count)).toEqual(ops.map(() => 1));
}

interface VerifyJson {
  compared: number;
  real: number;
  simulated: number;
  differences: Array<{ port: string; real: string | null; simulated: string | null; realText: string | null; simulatedText: string | null }>;
  realSide: { northbound: { from: string; format?: string; ports?: Record<string, string>; unbound?: string[] }; patchFlows: { from: string; added: number; removed: number } };
}

describe('a collected Northbound made ready for the testbed', () => {
  const nb: Pick<CollectedNorthbound, 'ports'> = {
    ports: [{ name: 'web-0.default', type: '', addresses: ['00:00:00:0A:00:02 10.180.204.11'] }, { name: 'localnet.underlay-subnet', type: 'localnet', addresses: ['unknown'] }],
  };

  it('a pod binds the port of its name, else the one holding its MAC and IP, else none', () => {
    expect(collectedPortFor(nb, { lsp: 'web-0.default', mac: '00:00:00:00:00:01', ip: '10.0.0.1' })).toBe('web-0.default');
    expect(collectedPortFor(nb, { lsp: 'renamed.default', mac: '00:00:00:0a:00:02', ip: '10.180.204.11' })).toBe('web-0.default');
    expect(collectedPortFor(nb, { lsp: 'renamed.default', mac: '00:00:00:0a:00:02', ip: '10.180.204.12' })).toBeUndefined();
  });

  it('the patch flows are the collected rows the installed ovn-northd does not write, and the rows they replace', () => {
    const f = (priority: number, actions: string) => ({ pipeline: 'ingress' as const, table: 13, stage: 'ls_in_lb', priority, match: 'ct.new && ip4.dst == 10.180.204.252', actions });
    const d = collectedOverlay([f(120, 'a;'), f(50, 'next;')], [f(140, 'b;'), f(120, 'a;'), f(50, 'next;')]);
    expect(d).toEqual({ removed: [], added: [f(140, 'b;')] });
    expect(collectedOverlay([f(120, 'a;')], [f(120, 'c;')])).toEqual({ removed: [f(120, 'a;')], added: [f(120, 'c;')] });
  });

  it.skipIf(unavailable !== undefined)('an empty Northbound (no such switch) and a file that is no database are BAD_NORTHBOUND errors naming the file', () => {
    const empty = join(dir, 'empty-nb.db');
    tool(['create', empty, NB_SCHEMA]);
    expect(() => prepareCollectedNorthbound(empty, join(dir, 'x.db'), 'underlay-subnet', NB_SCHEMA, tool)).toThrow(/empty-nb\.db has no Logical_Switch named underlay-subnet \(it has none\)/);
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not a database\n');
    let err: unknown;
    try {
      prepareCollectedNorthbound(junk, join(dir, 'y.db'), 'underlay-subnet', NB_SCHEMA, tool);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CollectedNorthboundError);
    expect((err as CollectedNorthboundError).code).toBe('BAD_NORTHBOUND');
    expect((err as Error).message).toMatch(/junk\.db is not an OVSDB database file/);
  });
  it.skipIf(unavailable !== undefined)('a Northbound of another schema version is converted to the installed one, and says so; its switch\'s ports and localnet are found', () => {
    const schema = JSON.parse(readFileSync(NB_SCHEMA, 'utf8')) as { version: string };
    const old = join(dir, 'old.ovsschema');
    writeFileSync(old, JSON.stringify({ ...schema, version: '5.0.0' }));
    const file = join(dir, 'old-nb.db');
    tool(['create', file, old]);
    tool(['transact', file, JSON.stringify(['OVN_Northbound',
      { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'localnet.underlay-subnet', type: 'localnet', addresses: 'unknown', options: ['map', [['network_name', 'phys']]] }, 'uuid-name': 'ln' },
      { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'web-0.default', addresses: '00:00:00:0a:00:02 10.180.204.11' }, 'uuid-name': 'p0' },
      { op: 'insert', table: 'Logical_Switch', row: { name: 'underlay-subnet', ports: ['set', [['named-uuid', 'ln'], ['named-uuid', 'p0']]] } },
    ])]);
    const out = join(dir, 'old-converted.db');
    const nb = prepareCollectedNorthbound(file, out, 'underlay-subnet', NB_SCHEMA, tool);
    expect(nb).toMatchObject({ format: 'standalone', version: '5.0.0', convertedTo: schema.version, localnet: { name: 'localnet.underlay-subnet', network: 'phys' } });
    expect(nb.ports.map((p) => p.name).sort()).toEqual(['localnet.underlay-subnet', 'web-0.default']);
    expect(tool(['db-version', out]).trim()).toBe(schema.version);
    expect(tool(['db-version', file]).trim()).toBe('5.0.0');
  });
});

describe.skipIf(unavailable !== undefined)(`verify --snapshot: the real side from the collected Northbound${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const snap = join(dir, 'snap');
  let overlay = 0;

  it('collected from a Kube-OVN 1.14 testbed whose NB was edited (an ACL): the collected NB and SB hold it, the derived NB does not', async () => {
    const { objects, cluster } = scenarioObjects({ name: 'v1.14', manifests: '', profile: 'kube-ovn' });
    const bed = await Testbed.start(objects, cluster, { profile: 'kube-ovn' });
    try {
      await bed.editNorthbound('acl-add', 'underlay-subnet', 'to-lport', '1001', `ip4.src == ${CLIENT} && tcp.dst == 80`, 'drop');
      overlay = bed.overlay.length;
      collect(bed, snap, 'v1.14.10');
    } finally {
      await bed.stop();
    }
    expect(overlay).toBeGreaterThan(0);
    const loaded = loadSnapshot(snap);
    const flows = loaded.cluster.southbound!.state.flows.get('underlay-subnet')!;
    // The simulation runs the collected flows: the ACL's drop is among them, with the Kube-OVN patch rows.
    expect(flows.some((f) => f.stage === 'ls_out_acl' && f.match.includes(CLIENT) && /drop/.test(f.actions))).toBe(true);
    expect(flows.some((f) => f.stage === 'ls_in_lb' && f.priority === 140)).toBe(true);
  }, 60_000);

  it('with ovn/nb.db the real side runs it and the collected patch rows: it drops the TCP as vippath does — no difference', async () => {
    const r = await run('verify', capture, '--snapshot', snap, '--json');
    expect(r.out, r.err).not.toBe('');
    const j = JSON.parse(r.out) as VerifyJson;
    expect(j.realSide.northbound).toMatchObject({ from: 'collected', format: 'standalone', unbound: [] });
    expect(Object.keys(j.realSide.northbound.ports!).length).toBeGreaterThan(1);
    // Exactly the patch rows the first testbed wrote, none of ovn-northd's own from the (same) NB.
    expect(j.realSide.patchFlows).toMatchObject({ from: 'collected', added: overlay });
    expect(j.compared).toBeGreaterThan(20);
    expect(j.differences, JSON.stringify(j.differences.slice(0, 2), null, 1)).toEqual([]);
    expect(r.code).toBe(0);
    // Without nb.db (the real side derived from the objects, as before): no ACL there, the real pods answer the
    // client's SYNs; vippath, running the collected flows, drops them.
    const bare = join(dir, 'bare');
    cpSync(snap, bare, { recursive: true });
    rmSync(join(bare, 'ovn', 'nb.db'));
    const d = await run('verify', capture, '--snapshot', bare, '--json');
    const k = JSON.parse(d.out) as VerifyJson;
    expect(k.realSide).toMatchObject({ northbound: { from: 'derived' }, patchFlows: { from: 'vippath' } });
    expect(k.real).toBeGreaterThan(j.real);
    expect(k.differences.some((x) => x.simulated === null && /^tcp 10\.180\.204\.252:80 > 10\.180\.204\.100:\d+ \[S\.\]/.test(x.realText ?? '') && x.port === 'outside'), JSON.stringify(k.differences.slice(0, 3).map((x) => [x.port, x.realText, x.simulatedText]))).toBe(true);
    expect(d.code).toBe(1);
  }, 120_000);

  it('nb.db without sb.db: the real side runs the NB with the patch flows vippath computes on it (the ACL drops there); vippath runs its northd of the derived NB (no ACL): they differ', async () => {
    const nbOnly = join(dir, 'nb-only');
    cpSync(snap, nbOnly, { recursive: true });
    rmSync(join(nbOnly, 'ovn', 'sb.db'));
    const r = await run('verify', capture, '--snapshot', nbOnly, '--json');
    const j = JSON.parse(r.out) as VerifyJson;
    // The ACL touches no stage the 1.14 patches replace: the same patch rows as the first testbed wrote.
    expect(j.realSide).toMatchObject({ northbound: { from: 'collected' }, patchFlows: { from: 'vippath', added: overlay } });
    expect(j.differences.some((x) => x.real === null && /^tcp 10\.180\.204\.252:80 > 10\.180\.204\.100:\d+ \[S\.\]/.test(x.simulatedText ?? '') && x.port === 'outside')).toBe(true);
    expect(r.code).toBe(1);
  }, 60_000);

  it('nb.db as a clustered server\'s file: converted (cluster-to-standalone, then to the installed schema), the same agreement; the text says so', async () => {
    const clustered = join(dir, 'clustered');
    cpSync(snap, clustered, { recursive: true });
    const nb = join(clustered, 'ovn', 'nb.db');
    // As Kube-OVN writes pod ports: options:requested-chassis = the pod's node (ovn-controller binds it only there).
    const standalone = join(dir, 'requested.db');
    cpSync(join(snap, 'ovn', 'nb.db'), standalone);
    requestChassis(standalone, (p) => p.node);
    rmSync(nb);
    tool(['create-cluster', nb, standalone, `unix:${join(dir, 'raft.sock')}`]);
    expect(readFileSync(nb, 'utf8').slice(0, 14)).toBe('OVSDB CLUSTER ');
    const r = await run('verify', capture, '--snapshot', clustered);
    expect(r.out, r.err).toMatch(/real side: Northbound \S+clustered\/ovn\/nb\.db \(as collected, clustered [\d.]+; pods bound to its ports\); Kube-OVN patch flows: the collected Southbound's own rows \(\d+ written/);
    expect(r.out).toMatch(/vippath and the real datapath agree, byte for byte/);
    expect(r.code).toBe(0);
  }, 120_000);

  it('a pod port requested on another node than cluster.yaml puts the pod, or with another MAC: BAD_NORTHBOUND naming both, exit 2', async () => {
    const moved = join(dir, 'moved');
    cpSync(snap, moved, { recursive: true });
    const nodes = loadSnapshot(snap).cluster.nodes.map((n) => n.name);
    requestChassis(join(moved, 'ovn', 'nb.db'), (p) => nodes.find((n) => n !== p.node)!);
    const r = await run('verify', capture, '--snapshot', moved);
    expect(r.err).toMatch(/BAD_NORTHBOUND: .*moved\/ovn\/nb\.db: Logical_Switch_Port \S+ has options:requested-chassis=node\d, but Pod \S+ is on node\d in cluster\.yaml/);
    expect(r.code).toBe(2);
    // A port whose MAC is not the Pod's: the same, named (rather than a wait for an announcement that never comes).
    const remac = join(dir, 'remac');
    cpSync(snap, remac, { recursive: true });
    const pod = derive(loadSnapshot(snap).objects, loadSnapshot(snap).cluster).pods[0]!;
    const res = JSON.parse(tool(['transact', join(remac, 'ovn', 'nb.db'), JSON.stringify(['OVN_Northbound', { op: 'update', table: 'Logical_Switch_Port', where: [['name', '==', pod.lsp]], row: { addresses: `02:00:00:00:00:99 ${pod.ip}` } }])])) as Array<{ count?: number }>;
    expect(res[0]!.count).toBe(1);
    const m = await run('verify', capture, '--snapshot', remac);
    expect(m.err).toMatch(new RegExp(`BAD_NORTHBOUND: .*Logical_Switch_Port ${pod.lsp.replace(/\./g, '\\.')} has addresses "02:00:00:00:00:99 ${pod.ip.replace(/\./g, '\\.')}", but Pod \\S+ has MAC ${pod.mac}`));
    expect(m.code).toBe(2);
  }, 30_000);

  it('an nb.db that is no database: BAD_SNAPSHOT naming it, exit 2, no testbed; events with a collected NB need --real-northbound derived', async () => {
    const broken = join(dir, 'broken');
    cpSync(snap, broken, { recursive: true });
    writeFileSync(join(broken, 'ovn', 'nb.db'), 'OVSDB JSON 12 0000\n{"truncated"');
    const r = await run('verify', capture, '--snapshot', broken);
    expect(r.err).toMatch(/BAD_SNAPSHOT: .*broken\/ovn\/nb\.db is not an OVSDB database file/);
    expect(r.out).toBe('');
    expect(r.code).toBe(2);
    const pod = loadSnapshot(snap).objects.find((o) => o.kind === 'Pod')!.metadata.name;
    const e = await run('verify', capture, '--snapshot', snap, '--not-ready', `${pod}@1s`);
    expect(e.err).toMatch(/--not-ready rewrite the real side's load balancers .* add --real-northbound derived/);
    expect(e.code).toBe(2);
    // --real-northbound derived: the nb.db is left aside (today's real side), so the ACL is not there.
    const derived = await run('verify', capture, '--snapshot', snap, '--real-northbound', 'derived', '--json');
    const j = JSON.parse(derived.out) as VerifyJson;
    expect(j.realSide.northbound.from).toBe('derived');
    expect(j.differences.length).toBeGreaterThan(0);
    expect(derived.code).toBe(1);
  }, 90_000);
});
