import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { clusterFrom, DEFAULT_SCENARIO_FILE, defaultObjects, derive, ignoredFindings, loadManifests, loadSnapshot, MANIFEST_LIMITS, ManifestLimitError, statusJson, withDefaults, writeSnapshot, type ClusterSpec, type Diagnostic, type K8sObject } from '@vippath/cluster';
import { formatFlow, parseFlows } from '@vippath/openflow';
import { parseArgs, shown, UsageError, type Command } from '../io.js';

/**
 * Where the cluster comes from: `--manifests`/`--cluster` files, a `--snapshot DIR`, or neither (the built-in
 * default scenario). `--defaults` fills in, from the default scenario, the kinds the files leave out (each
 * filled-in object is a lint finding); without it nothing is mixed in.
 */
export type ScenarioFiles = string[] & { snapshot?: string; defaults?: boolean; strictLflows?: boolean };

/**
 * A manifest file's text, refused over {@link MANIFEST_LIMITS}.bytes before it is read whole (a file by its size,
 * standard input as it arrives): a multi-gigabyte file must not be read into memory to be told it is too big.
 */
function readManifestFile(f: string): string {
  const limit = MANIFEST_LIMITS.bytes;
  const tooBig = (size: number): never => {
    throw new ManifestLimitError(f, 1, 1, 'bytes', limit, `the file is ${size === Infinity ? 'more than ' + limit : size} bytes`);
  };
  let fd: number;
  try {
    fd = f === '-' ? 0 : openSync(f, 'r');
  } catch (e) {
    throw new UsageError(`cannot read ${f}: ${(e as Error).message}`);
  }
  try {
    if (f !== '-') {
      const size = fstatSync(fd).size;
      if (size > limit) tooBig(size);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        if ((e as NodeJS.ErrnoException).code === 'EOF') break;
        throw new UsageError(`cannot read ${f}: ${(e as Error).message}`);
      }
      if (n === 0) break;
      total += n;
      if (total > limit) tooBig(Infinity);
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    if (f !== '-') closeSync(fd);
  }
}

/** The objects of the files (the default scenario when there are none), and the findings loading them made. */
export function objectsFrom(files: ScenarioFiles | string[]): K8sObject[] {
  return loadObjects(files).objects;
}

function loadObjects(files: ScenarioFiles | string[]): { objects: K8sObject[]; findings: Diagnostic[] } {
  if (files.length === 0) return { objects: defaultObjects(), findings: [] };
  const user: K8sObject[] = [];
  const findings: Diagnostic[] = [];
  for (const f of files) {
    const loaded = loadManifests(readManifestFile(f), f);
    user.push(...loaded.objects);
    findings.push(...ignoredFindings(loaded.ignored));
  }
  if (!(files as ScenarioFiles).defaults) return { objects: user, findings };
  const objects = withDefaults(user);
  const filled = objects.filter((o) => o.source.file === DEFAULT_SCENARIO_FILE);
  if (filled.length) findings.push({ code: 'DEFAULTS_MIXED_IN', severity: 'info', object: filled.map((o) => `${o.kind}/${o.metadata.name}`).join(', '), field: '-', message: `--defaults: ${filled.length} object(s) of kinds your manifests leave out come from the built-in default scenario`, consequence: 'These objects are vippath\'s example, not your cluster\'s.' });
  return { objects, findings };
}

/** The objects and the cluster description: from a snapshot, from the files, or the default scenario. */
export function scenarioFrom(files: ScenarioFiles | string[]): { objects: K8sObject[]; cluster: ClusterSpec } {
  const snapshot = (files as ScenarioFiles).snapshot;
  if (snapshot !== undefined) {
    if (files.length) throw new UsageError('give either --snapshot DIR or --manifests/--cluster files, not both (a snapshot\'s vippath.yaml is its Cluster description)');
    return loadSnapshot(snapshot, { strictLflows: (files as ScenarioFiles).strictLflows === true });
  }
  const { objects, findings } = loadObjects(files);
  const cluster = clusterFrom(objects);
  if (findings.length) cluster.findings = [...(cluster.findings ?? []), ...findings];
  return { objects, cluster };
}

/**
 * --manifests and --cluster may repeat (a Cluster description is a manifest like the others, so both are read
 * the same way); --snapshot DIR and --defaults are taken too. Collects them and leaves the other arguments.
 */
export function manifestFiles(args: string[]): { files: ScenarioFiles; rest: string[] } {
  const files: ScenarioFiles = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [name, inline] = a.split('=', 2) as [string, string | undefined];
    if (name === '--manifests' || name === '--cluster') {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${name} needs a file`);
      files.push(v);
    } else if (name === '--snapshot') {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError('--snapshot needs a directory');
      if (files.snapshot !== undefined) throw new UsageError('give one --snapshot');
      files.snapshot = v;
    } else if (a === '--defaults') files.defaults = true;
    else if (a === '--strict-lflows') files.strictLflows = true;
    else rest.push(a);
  }
  if (files.defaults && files.length === 0) throw new UsageError('--defaults fills in what --manifests files leave out: give some');
  if (files.strictLflows && files.snapshot === undefined) throw new UsageError('--strict-lflows goes with --snapshot DIR (the collected Southbound it refuses)');
  return { files, rest };
}

/** The usage lines every cluster command shares. */
export const SCENARIO_USAGE = `  --manifests FILE  your Kubernetes YAML (repeatable; kubectl get … -o yaml Lists too); only what it holds is
                    simulated — what the path needs and it lacks is a lint finding
  --cluster FILE    a vippath Cluster description (nodes' NICs and MACs, controller flags, profiles, client)
  --defaults        fill in the kinds your manifests leave out from the built-in default scenario (said in lint)
  --snapshot DIR    a cluster as \`vippath collect\` wrote it: cluster.yaml, nodes/*/br-provider.flows and .ports,
                    ovn/*.db, versions.json
  --strict-lflows   with --snapshot: refuse a collected Southbound whose flows use actions vippath does not model
                    (put_dhcp_opts, dns_lookup…; error UNSUPPORTED_LFLOW naming the flow); without it they load,
                    lint warns OVN_SB_LFLOW_UNMODELLED and a frame reaching one is dropped (ovn.unmodelled-action).
                    A field vippath does not model (icmp4.frag_mtu…) is refused too; without the flag lint says
                    OVN_SB_LFLOW_UNSUPPORTED and vippath's northd flows run in the collected ones' place
  (none of these: the built-in default scenario, the seed document's example)`;

/** `vippath lint`. */
export const lintCommand: Command = {
  name: 'lint',
  summary: 'check manifests against the prerequisites of MetalLB on a Kube-OVN underlay',
  usage: `usage: vippath lint [--manifests FILE]… [--cluster FILE] [--defaults] [--snapshot DIR [--strict-lflows]] [--json]

Loads the manifests or snapshot and reports every finding with a code, the object and field, and what it does to
VIP traffic: the prerequisites, what breaks announcement (L2Advertisement interfaces, nodeSelectors, ETP=Local
without an eligible node — judged on the same MetalLB state curl and trace run), what the input lacks for the
path, ignored kinds. Exit code 1 when any finding is an error.
${SCENARIO_USAGE}`,
  async run(args, io) {
    const { files, rest } = manifestFiles(args);
    const { flags } = parseArgs(rest, { flags: ['--json'] });
    const { objects, cluster } = scenarioFrom(files);
    const findings = derive(objects, cluster).lint;
    if (flags.has('--json')) io.stdout(`${JSON.stringify(findings, null, 2)}\n`);
    else if (findings.length === 0) io.stdout('no findings\n');
    else for (const d of findings) io.stdout(`${d.source ? `${shown(d.source.file)}:${d.source.line}: ` : ''}${d.severity} ${d.code} ${shown(d.object)} ${shown(d.field)}\n  ${shown(d.message)}\n  consequence: ${d.consequence}\n`);
    return findings.some((d) => d.severity === 'error') ? 1 : 0;
  },
};

/** What {@link statusJson} returns, as far as the text view reads it. */
interface StatusJson {
  nodes: Array<{ name: string; nicMac: string; ports: string[] }>;
  services: Array<{ name: string; ingress: string[]; owner: Record<string, string | null>; ports: Array<{ port: number; targetPort: number | string; protocol: string }>; endpoints: Array<{ ip: string; node: string; pod: string; ports: number[] }> }>;
  pods: Array<{ name: string; node: string; ip: string; ready: boolean }>;
  ovn: { loadBalancers: Array<{ name: string; protocol: string; vips: Record<string, string>; ipPortMappings: Record<string, string>; options: Record<string, unknown>; externalIds: Record<string, string> }> };
  brProviderFlows: Record<string, string>;
  profiles: { kubeOvn: string; metallb: string };
  lint: Array<{ severity: string; code: string }>;
}

/** The OVN load balancers as `ovn-nbctl lb-list` lists them (one row per VIP), with the options Kube-OVN sets. */
function ovnLoadBalancerText(lbs: StatusJson['ovn']['loadBalancers']): string {
  if (lbs.length === 0) return '$ ovn-nbctl lb-list\n(no load balancers: no Service has an ingress IP that becomes an OVN VIP)\n';
  const rows = [['LB', 'PROTO', 'VIP', 'IPs']];
  const notes: string[] = [];
  for (const lb of lbs) {
    const vips = Object.entries(lb.vips);
    if (vips.length === 0) rows.push([lb.name, lb.protocol, '-', '-']);
    vips.forEach(([vip, ips], i) => rows.push([i === 0 ? lb.name : '', i === 0 ? lb.protocol : '', vip, ips || '-']));
    const options = Object.entries(lb.options).map(([k, v]) => `${k}=${String(v)}`);
    const mappings = Object.entries(lb.ipPortMappings).map(([ip, port]) => `${ip}=${port}`);
    if (options.length) notes.push(`${lb.name} options: ${options.join(' ')}`);
    if (mappings.length) notes.push(`${lb.name} ip_port_mappings: ${mappings.join(' ')}`);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `$ ovn-nbctl lb-list\n${rows.map((r) => r.map((c, i) => c.padEnd(widths[i]! + 3)).join('').trimEnd()).join('\n')}\n${notes.map((n) => `${n}\n`).join('')}`;
}

/** br-provider's flows per node, as `ovs-ofctl dump-flows` prints them; nodes with the same flows share a block. */
function brProviderText(flows: Record<string, string>, cluster: ClusterSpec): string {
  // Nodes with the same flows (and, for a snapshot, the same port numbers) share a block.
  const byText = new Map<string, string[]>();
  for (const [node, text] of Object.entries(flows)) {
    const key = `${text}\u0000${JSON.stringify(cluster.brProvider?.[node]?.ports ?? null)}`;
    byText.set(key, [...(byText.get(key) ?? []), node]);
  }
  const blocks: string[] = [];
  for (const [key, nodes] of byText) {
    const text = key.slice(0, key.lastIndexOf('\u0000'));
    // A snapshot's flows name its own ports (quoted, cut to 15 characters): resolved with its br-provider.ports.
    const ports = cluster.brProvider?.[nodes[0]!]?.ports;
    const lines = text ? parseFlows(text, ports ? { ports: new Map(ports.map((p) => [p.name, p.ofport])) } : {}).map((f) => formatFlow(f, { stats: false })) : ['(no flows)'];
    blocks.push(`$ ovs-ofctl dump-flows br-provider   # on ${nodes.join(', ')}\n${lines.join('\n')}\n`);
  }
  return blocks.join('\n');
}

/** `vippath status`. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'the state the controllers would derive: pods, VIPs and owners, OVN load balancers, br-provider flows',
  usage: `usage: vippath status [--manifests FILE]… [--cluster FILE] [--defaults] [--snapshot DIR [--strict-lflows]] [--json] [--write-snapshot DIR]

The derived state of the cluster: nodes, pods, each Service's ingress IPs with the node that answers ARP for them
(ANNOUNCED BY: nobody when no node can, even if MetalLB elected one) and endpoints, the OVN load balancers,
br-provider flows per node, profiles and lint findings.
  --write-snapshot DIR  also write this simulated cluster as a snapshot (the layout vippath collect writes)
${SCENARIO_USAGE}`,
  async run(args, io) {
    const { files, rest } = manifestFiles(args);
    const { flags, options } = parseArgs(rest, { flags: ['--json'], options: ['--write-snapshot'] });
    const { objects, cluster } = scenarioFrom(files);
    const snapshotOut = options.get('--write-snapshot');
    if (snapshotOut !== undefined) writeSnapshot(snapshotOut, objects, cluster);
    const status = statusJson(objects, cluster) as { services: Array<{ name: string; ingress: string[]; owner: Record<string, string | null>; endpoints: Array<{ ip: string; node: string }> }>; pods: Array<{ name: string; node: string; ip: string }> };
    if (flags.has('--json')) {
      io.stdout(`${JSON.stringify(status, null, 2)}\n`);
      return 0;
    }
    // The seed document's checks, as kubectl would print them: get svc, get endpoints, get pods -o wide.
    const table = (cells: string[][]): string => {
      // Every cell may be a user-given name: escaped before the widths are measured.
      const rows = cells.map((r) => r.map(shown));
      const widths = rows[0]!.map((_, i) => rows.reduce((m, r) => Math.max(m, r[i]!.length), 0));
      return `${rows.map((r) => r.map((c, i) => c.padEnd(widths[i]! + 3)).join('').trimEnd()).join('\n')}\n`;
    };
    const full = status as unknown as StatusJson;
    io.stdout(`profiles: ${full.profiles.kubeOvn}, ${full.profiles.metallb}\n\n`);
    io.stdout(`nodes\n${table([['NAME', 'NIC MAC', 'BR-PROVIDER PORTS'], ...full.nodes.map((n) => [n.name, n.nicMac, n.ports.join(', ')])])}\n`);
    io.stdout(`$ kubectl get svc\n${table([['NAME', 'TYPE', 'EXTERNAL-IP', 'ANNOUNCED BY'], ...full.services.map((s) => [s.name, 'LoadBalancer', s.ingress.join(',') || '<pending>', s.ingress.map((ip) => s.owner[ip] ?? 'nobody').join(',') || '-'])])}\n`);
    io.stdout(`$ kubectl get endpoints\n${table([['NAME', 'ENDPOINTS'], ...full.services.map((s) => [s.name, s.endpoints.flatMap((e) => e.ports.map((port) => `${e.ip}:${port}`)).join(',') || '<none>'])])}\n`);
    io.stdout(`$ kubectl get pods -o wide\n${table([['NAME', 'READY', 'IP', 'NODE'], ...full.pods.map((p) => [p.name, p.ready ? '1/1' : '0/1', p.ip, p.node])])}\n`);
    io.stdout(`${ovnLoadBalancerText(full.ovn.loadBalancers)}\n${brProviderText(full.brProviderFlows, cluster)}`);
    if (full.lint.length) io.stdout(`\nlint: ${full.lint.map((d) => `${d.severity} ${d.code}`).join(', ')} (vippath lint for details)\n`);
    return 0;
  },
};
