import { readFileSync } from 'node:fs';
import { clusterFrom, defaultObjects, lint, loadManifests, statusJson, withDefaults, type ClusterSpec, type K8sObject } from '@vippath/cluster';
import { formatFlow, parseFlows } from '@vippath/openflow';
import { parseArgs, shown, UsageError, type Command } from '../io.js';

/** The default scenario, or the given manifest files over it. */
export function objectsFrom(files: string[]): K8sObject[] {
  if (files.length === 0) return defaultObjects();
  const user: K8sObject[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = f === '-' ? readFileSync(0, 'utf8') : readFileSync(f, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${f}: ${(e as Error).message}`);
    }
    user.push(...loadManifests(text, f).objects);
  }
  return withDefaults(user);
}

/** The objects and the cluster description from the files (the default scenario fills in what they leave out). */
export function scenarioFrom(files: string[]): { objects: K8sObject[]; cluster: ClusterSpec } {
  const objects = objectsFrom(files);
  return { objects, cluster: clusterFrom(objects) };
}

/**
 * --manifests and --cluster may repeat (a Cluster description is a manifest like the others, so both are read
 * the same way); collects every value and leaves the other arguments.
 */
export function manifestFiles(args: string[]): { files: string[]; rest: string[] } {
  const files: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [name, inline] = a.split('=', 2) as [string, string | undefined];
    if (name === '--manifests' || name === '--cluster') {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${name} needs a file`);
      files.push(v);
    } else rest.push(a);
  }
  return { files, rest };
}

/** `vippath lint`. */
export const lintCommand: Command = {
  name: 'lint',
  summary: 'check manifests against the prerequisites of MetalLB on a Kube-OVN underlay',
  usage: `usage: vippath lint [--manifests FILE]… [--cluster FILE] [--json]

Loads the manifests (the built-in default scenario fills in what they leave out) and reports every finding with a
code, the object and field, and what it does to VIP traffic. Exit code 1 when any finding is an error.`,
  async run(args, io) {
    const { files, rest } = manifestFiles(args);
    const { flags } = parseArgs(rest, { flags: ['--json'] });
    const { objects, cluster } = scenarioFrom(files);
    const findings = lint(objects, cluster.flags);
    if (flags.has('--json')) io.stdout(`${JSON.stringify(findings, null, 2)}\n`);
    else if (findings.length === 0) io.stdout('no findings\n');
    else for (const d of findings) io.stdout(`${d.source ? `${shown(d.source.file)}:${d.source.line}: ` : ''}${d.severity} ${d.code} ${shown(d.object)} ${shown(d.field)}\n  ${shown(d.message)}\n  consequence: ${d.consequence}\n`);
    return findings.some((d) => d.severity === 'error') ? 1 : 0;
  },
};

/** What {@link statusJson} returns, as far as the text view reads it. */
interface StatusJson {
  nodes: Array<{ name: string; nicMac: string; ports: string[] }>;
  services: Array<{ name: string; ingress: string[]; owner: Record<string, string | null>; ports: Array<{ port: number; targetPort: number; protocol: string }>; endpoints: Array<{ ip: string; node: string; pod: string }> }>;
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
function brProviderText(flows: Record<string, string>): string {
  const byText = new Map<string, string[]>();
  for (const [node, text] of Object.entries(flows)) byText.set(text, [...(byText.get(text) ?? []), node]);
  const blocks: string[] = [];
  for (const [text, nodes] of byText) {
    const lines = text ? parseFlows(text).map((f) => formatFlow(f, { stats: false })) : ['(no flows)'];
    blocks.push(`$ ovs-ofctl dump-flows br-provider   # on ${nodes.join(', ')}\n${lines.join('\n')}\n`);
  }
  return blocks.join('\n');
}

/** `vippath status`. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'the state the controllers would derive: pods, VIPs and owners, OVN load balancers, br-provider flows',
  usage: `usage: vippath status [--manifests FILE]… [--cluster FILE] [--json]

The derived state of the cluster (the built-in default scenario, or your manifests over it): nodes, pods, each
Service's ingress IPs with the MetalLB owner and endpoints, the OVN load balancers, br-provider flows per node,
profiles and lint findings.`,
  async run(args, io) {
    const { files, rest } = manifestFiles(args);
    const { flags } = parseArgs(rest, { flags: ['--json'] });
    const { objects, cluster } = scenarioFrom(files);
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
    io.stdout(`$ kubectl get endpoints\n${table([['NAME', 'ENDPOINTS'], ...full.services.map((s) => [s.name, s.endpoints.flatMap((e) => s.ports.map((p) => `${e.ip}:${p.targetPort}`)).join(',') || '<none>'])])}\n`);
    io.stdout(`$ kubectl get pods -o wide\n${table([['NAME', 'READY', 'IP', 'NODE'], ...full.pods.map((p) => [p.name, p.ready ? '1/1' : '0/1', p.ip, p.node])])}\n`);
    io.stdout(`${ovnLoadBalancerText(full.ovn.loadBalancers)}\n${brProviderText(full.brProviderFlows)}`);
    if (full.lint.length) io.stdout(`\nlint: ${full.lint.map((d) => `${d.severity} ${d.code}`).join(', ')} (vippath lint for details)\n`);
    return 0;
  },
};
