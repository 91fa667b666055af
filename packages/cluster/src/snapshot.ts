/**
 * A cluster's state on disk, as `vippath collect` writes it (and `vippath status --write-snapshot` for vippath's
 * own simulated cluster):
 *
 * ```
 * DIR/cluster.yaml                      kubectl get … -o yaml (a List, or documents): Nodes, Pods, Services,
 *                                       Endpoints/EndpointSlices, MetalLB and Kube-OVN objects
 * DIR/vippath.yaml                      optional: a vippath Cluster description (flags, node MACs, client, …)
 * DIR/nodes/<node>/br-provider.flows    ovs-ofctl dump-flows --names br-provider
 * DIR/nodes/<node>/br-provider.ports    ovs-ofctl show br-provider
 * DIR/ovn/nb.db, DIR/ovn/sb.db          ovsdb-client backup of OVN's Northbound and Southbound databases
 * DIR/ovn/lflows.txt                    optional, when there is no sb.db: ovn-sbctl lflow-list (status
 *                                       --write-snapshot writes it)
 * DIR/versions.json                     {"kubeOvn": "v1.14.10", "metallb": "v0.13.7", "ovn": …, "ovs": …}
 * ```
 *
 * Loading takes the cluster exactly as collected: its Nodes, Pods and Endpoints (no default scenario), each
 * node's br-provider flows and port numbers, its Southbound logical flows (the switch runs them), the profiles
 * from versions.json, the controller flags from the kube-ovn-controller Deployment's arguments when it is there. What the path needs and the snapshot lacks is a
 * finding naming the file or object.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bridge, parseShowPorts } from '@vippath/openflow';
import { formatLflowList, formatSkippedLflows, formatUnmodelledLflows, skippedLflowName, LflowError, LflowExecutor, northd, ovnVersionOfFlows, ovsdbMap, ovsdbRows, ovsdbString, parseLflowList, PROFILE_OVN_VERSION, readOvsdbFile, sbFromOvsdb, type LogicalFlow, type SouthboundState } from '@vippath/ovn';
import { VippathError } from '@vippath/wire';
import { backs, derive, endpointConditions, endpointPort, kubeOvnLbServices, kubeOvnReady, northboundFor, northdProfile, portsOf, subnetName, type PodState } from './derive.js';
import { ignoredFindings, type Diagnostic } from './lint.js';
import { loadManifests, type K8sObject } from './manifests.js';
import { clusterFrom, type ClusterSpec } from './scenario.js';

/** A snapshot directory that cannot be loaded (missing cluster.yaml, unreadable files, bad versions.json). */
export class SnapshotError extends VippathError {
  constructor(message: string) {
    super('BAD_SNAPSHOT', message);
  }
}

/** What {@link loadSnapshot} returns: the objects and the cluster description, ready for derive/SimulatedCluster. */
export interface LoadedSnapshot {
  objects: K8sObject[];
  cluster: ClusterSpec;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new SnapshotError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/**
 * A node's directory under nodes/: its name must be one Kubernetes allows (a DNS subdomain: lowercase letters,
 * digits, `-` and `.`), so a hostile name (`../../etc`) cannot read or write outside the snapshot.
 */
function nodeDir(dir: string, node: string): string {
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(node) || node.includes('..')) throw new SnapshotError(`node name ${JSON.stringify(node.slice(0, 80))} is not a Kubernetes node name (lowercase letters, digits, - and .): no snapshot directory for it`);
  return join(dir, 'nodes', node);
}

/** Kube-OVN and MetalLB versions → the profiles vippath has (the behaviour that differs between them). */
export function profilesFromVersions(v: { kubeOvn?: unknown; metallb?: unknown }): Partial<ClusterSpec['profiles']> {
  const out: Partial<ClusterSpec['profiles']> = {};
  const ver = (x: unknown): number[] | undefined => {
    const m = typeof x === 'string' ? /v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(x) : null;
    return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
  };
  const k = ver(v.kubeOvn);
  // The VIP-node marker and ETP=Cluster VIPs arrived in 1.15.20 (research/kube-ovn.md §3).
  if (k) out.kubeOvn = k[0]! > 1 || k[1]! > 15 || (k[1] === 15 && k[2]! >= 20) ? 'kube-ovn-1.15.20' : 'kube-ovn-1.14';
  const m = ver(v.metallb);
  if (m) out.metallb = m[0] === 0 && m[1]! <= 13 ? 'metallb-0.13.7' : 'metallb-current';
  return out;
}

/** kube-ovn-controller's flags from its Deployment's container arguments (`--enable-ovn-lb-prefer-local=true`). */
function controllerFlags(objects: K8sObject[], flags: ClusterSpec['flags']): ClusterSpec['flags'] {
  const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'kube-ovn-controller');
  if (!d) return flags;
  const containers = ((d.spec as { template?: { spec?: { containers?: Array<{ args?: unknown[]; command?: unknown[] }> } } }).template?.spec?.containers ?? []);
  const args = containers.flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]).filter((a): a is string => typeof a === 'string');
  const flag = (name: string, dflt: boolean): boolean => {
    const a = args.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
    if (a === undefined) return dflt;
    return a === `--${name}` || a.endsWith('=true');
  };
  // Kube-OVN's own defaults: prefer-local off, ct-skip on (cmd/controller/config.go).
  return { ...flags, enableOvnLbPreferLocal: flag('enable-ovn-lb-prefer-local', false), lsCtSkipDstLportIps: flag('ls-ct-skip-dst-lport-ips', true) };
}

/** Options of {@link loadSnapshot}. */
export interface SnapshotOptions {
  /**
   * Refuse a collected Southbound with flows whose actions vippath does not model (DHCP's `put_dhcp_opts`,
   * `dns_lookup`…): loadSnapshot throws LflowError `UNSUPPORTED_LFLOW` (@vippath/ovn) naming the file, the flow
   * (pipeline, table, stage, priority, uuid) and the action. Default off: the rows run, the finding
   * `OVN_SB_LFLOW_UNMODELLED` lists such flows, and a frame reaching one is dropped (`ovn.unmodelled-action`).
   * A flow with a field vippath does not model (`icmp4.frag_mtu`…) is refused the same way under the flag; without
   * it the rows are not run (finding `OVN_SB_LFLOW_UNSUPPORTED`, an error) and vippath's northd flows of the derived
   * Northbound run in their place.
   */
  strictLflows?: boolean;
}

/** Loads a snapshot directory (see the module's description). */
export function loadSnapshot(dir: string, options: SnapshotOptions = {}): LoadedSnapshot {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new SnapshotError(`${dir} is not a snapshot directory`);
  const clusterFile = join(dir, 'cluster.yaml');
  if (!existsSync(clusterFile)) throw new SnapshotError(`${dir} has no cluster.yaml (vippath collect writes one; or kubectl get nodes,pods,svc,endpoints,… -o yaml > ${clusterFile})`);
  const findings: Diagnostic[] = [];
  const loaded = loadManifests(read(clusterFile), clusterFile);
  findings.push(...ignoredFindings(loaded.ignored.filter((i) => i.didYouMean)));
  const objects = loaded.objects;
  const described = join(dir, 'vippath.yaml');
  if (existsSync(described)) {
    const extra = loadManifests(read(described), described);
    objects.push(...extra.objects);
    findings.push(...ignoredFindings(extra.ignored));
  }
  const cluster = clusterFrom(objects);
  // The NIC and VLAN as Kube-OVN has them: the ProviderNetwork's interface (`underlay0.341` = NIC underlay0, VLAN 341).
  const givenCluster = objects.find((o) => o.kind === 'Cluster')?.spec as { nodes?: unknown; vlan?: unknown; profiles?: unknown; flags?: unknown } | undefined;
  const pn = objects.find((o) => o.kind === 'ProviderNetwork')?.spec as { defaultInterface?: string } | undefined;
  const m = pn?.defaultInterface ? /^(.+)\.(\d+)$/.exec(pn.defaultInterface) : null;
  if (m && givenCluster?.vlan === undefined) cluster.vlan = Number(m[2]);
  if (m && givenCluster?.nodes === undefined) cluster.nodes = cluster.nodes.map((n) => ({ ...n, nic: m[1]! }));
  if (givenCluster?.flags === undefined) cluster.flags = controllerFlags(objects, cluster.flags);
  const versionsFile = join(dir, 'versions.json');
  if (existsSync(versionsFile)) {
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(read(versionsFile)) as Record<string, unknown>;
    } catch (e) {
      throw new SnapshotError(`${versionsFile}: not JSON (${(e as Error).message})`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SnapshotError(`${versionsFile}: must be an object like {"kubeOvn": "v1.14.10", "metallb": "v0.13.7"}`);
    if (givenCluster?.profiles === undefined) cluster.profiles = { ...cluster.profiles, ...profilesFromVersions(v) };
  } else {
    findings.push({ code: 'SNAPSHOT_NO_VERSIONS', severity: 'warning', object: 'versions.json', field: '-', message: `${versionsFile} is missing: profiles ${cluster.profiles.kubeOvn} and ${cluster.profiles.metallb} are vippath's defaults`, consequence: 'Behaviour that differs between versions (the ETP=Cluster VIP, the VIP-node marker, MetalLB\'s election rules) may not be your cluster\'s.' });
  }
  // br-provider per node: flows and port numbers as collected.
  cluster.brProvider = Object.create(null) as NonNullable<ClusterSpec['brProvider']>;
  for (const n of cluster.nodes) {
    const flows = join(nodeDir(dir, n.name), 'br-provider.flows');
    const portsFile = join(nodeDir(dir, n.name), 'br-provider.ports');
    if (!existsSync(flows)) {
      findings.push({ code: 'SNAPSHOT_NO_FLOWS', severity: 'error', object: `Node/${n.name}`, field: 'nodes/<node>/br-provider.flows', message: `${flows} is missing`, consequence: `${n.name}'s br-provider has no flows in the simulation: every frame reaching it is dropped (no flow output).` });
      cluster.brProvider[n.name] = { flows: '', ports: [{ name: `${n.nic}.${cluster.vlan}`, ofport: 1 }], file: flows };
      continue;
    }
    let ports: Array<{ name: string; ofport: number }> = [];
    if (existsSync(portsFile)) {
      const text = read(portsFile);
      ports = parseShowPorts(text);
      // The bridge's own MAC (LOCAL) is the node's: Kube-OVN moves the NIC's address to br-provider.
      const local = /LOCAL\([^)]*\): addr:([0-9a-f:]{17})/i.exec(text);
      if (local && givenCluster?.nodes === undefined) n.mac = local[1]!.toLowerCase();
    } else {
      findings.push({ code: 'SNAPSHOT_NO_PORTS', severity: 'warning', object: `Node/${n.name}`, field: 'nodes/<node>/br-provider.ports', message: `${portsFile} is missing: port names in the flows resolve to vippath's numbering (${n.nic}.${cluster.vlan} = 1, the patch port = 2)`, consequence: 'Flows that give port numbers may point at other ports than on the node.' });
      ports = [{ name: `${n.nic}.${cluster.vlan}`, ofport: 1 }, { name: 'patch-localnet.', ofport: 2 }];
    }
    const text = read(flows);
    // Checked here, so a bad line is reported with its file (the bridge would say only line and column).
    try {
      new Bridge('br-provider', ports).addFlows(text);
    } catch (e) {
      if (e instanceof VippathError) throw new SnapshotError(`${e.code === 'BAD_FLOW' ? flows : portsFile}: ${e.message}`);
      throw e;
    }
    cluster.brProvider[n.name] = { flows: text, ports, file: flows };
  }
  const nodesDir = join(dir, 'nodes');
  if (existsSync(nodesDir)) {
    const known = new Set(cluster.nodes.map((n) => n.name));
    for (const d of readdirSync(nodesDir)) if (!known.has(d)) findings.push({ code: 'SNAPSHOT_UNKNOWN_NODE', severity: 'warning', object: `nodes/${d}`, field: '-', message: `${join(nodesDir, d)} belongs to no Node of cluster.yaml`, consequence: 'Its flows are not used.' });
  }
  findings.push(...ovnFindings(dir, objects, cluster, options.strictLflows === true));
  cluster.findings = findings;
  return { objects, cluster };
}

/** An OVSDB file of the snapshot; one vippath cannot read is a {@link SnapshotError} naming it and why. */
function readDatabase(file: string): ReturnType<typeof readOvsdbFile> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new SnapshotError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return readOvsdbFile(bytes, file);
  } catch (e) {
    if (e instanceof VippathError) throw new SnapshotError(`${file} is not an OVSDB database file as ovsdb-client backup or a clustered server writes it (${e.code}: ${e.message})`);
    throw e;
  }
}

/**
 * OVN's databases, when collected. The Northbound's load balancers are compared with what vippath derives. The
 * Southbound (`ovn/sb.db`, or `ovn/lflows.txt` from `ovn-sbctl lflow-list` when there is no database) is what the
 * simulation runs: its Logical_Flow rows — the cluster's own northd, Kube-OVN's patches included, whatever its
 * version — with its Port_Binding and Load_Balancer rows (chassis named by node: a Chassis row's `hostname` when
 * its name is not a node's). Where those rows and the derived state disagree (a pod's port, its chassis or
 * addresses; a load balancer's backends) a finding names both. Lflow text carries no other rows: ports, groups and
 * load balancers then come from vippath's northd of the derived Northbound.
 */
function ovnFindings(dir: string, objects: K8sObject[], cluster: ClusterSpec, strict: boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  const nb = join(dir, 'ovn', 'nb.db');
  const sb = join(dir, 'ovn', 'sb.db');
  const lflows = join(dir, 'ovn', 'lflows.txt');
  const derived = derive(objects, { ...cluster, findings: [] });
  const ours = new Map<string, string>();
  for (const lb of derived.loadBalancers) for (const [vip, backends] of Object.entries(lb.vips)) ours.set(`${lb.name} ${vip}`, backends);
  const compareLbs = (theirs: Map<string, string>, file: string, what: string): void => {
    for (const [k, v] of ours) {
      const t = theirs.get(k);
      if (t !== v) out.push({ code: what === 'Northbound' ? 'OVN_LB_DIFFERS' : 'OVN_SB_LB_DIFFERS', severity: 'warning', object: `Load_Balancer/${k.split(' ')[0]}`, field: `vips["${k.split(' ')[1]}"]`, message: `${what} has ${t === undefined ? 'no such VIP' : `backends ${t}`}; vippath derives ${v}`, consequence: what === 'Northbound' ? 'The Southbound flows (when collected) DNAT as your cluster does; what vippath derives from the Kubernetes objects disagrees, so a later change (readiness, failover) is applied to a different starting point.' : 'The simulation DNATs as the collected Southbound flows say, not as the Kubernetes objects would have it: check that the snapshot was taken at one moment.', source: { file, line: 0 } });
    }
  };
  if (existsSync(nb)) {
    const db = readDatabase(nb);
    if (db.name !== 'OVN_Northbound') throw new SnapshotError(`${nb} is a ${db.name} database, not OVN_Northbound`);
    const theirs = new Map<string, string>();
    for (const row of ovsdbRows(db, 'Load_Balancer')) for (const [vip, backends] of Object.entries(ovsdbMap(row, 'vips'))) theirs.set(`${ovsdbString(row, 'name')} ${vip}`, backends.split(',').sort().join(','));
    compareLbs(theirs, nb, 'Northbound');
    out.push({ code: 'OVN_NB_READ', severity: 'info', object: 'ovn/nb.db', field: '-', message: `${db.name} ${db.version} (${db.format}): ${ovsdbRows(db, 'Load_Balancer').length} load balancer(s), ${ovsdbRows(db, 'Logical_Switch').length} logical switch(es) read and compared`, consequence: 'None: information.' });
  }
  const ls = subnetName(objects);
  const nodes = new Set(cluster.nodes.map((n) => n.name));
  let state: SouthboundState | undefined;
  let file = sb;
  if (existsSync(sb)) {
    const db = readDatabase(sb);
    if (db.name !== 'OVN_Southbound') throw new SnapshotError(`${sb} is a ${db.name} database, not OVN_Southbound`);
    state = sbFromOvsdb(db);
    // Kube-OVN's chassis are named by a generated system-id; the Chassis row's hostname is the node.
    const nodeOf = new Map<string, string>();
    for (const row of ovsdbRows(db, 'Chassis')) {
      const name = ovsdbString(row, 'name') ?? '';
      const host = ovsdbString(row, 'hostname') ?? '';
      nodeOf.set(name, nodes.has(name) || !nodes.has(host) ? name : host);
    }
    for (const pb of state.portBindings) if (pb.chassis !== undefined) pb.chassis = nodeOf.get(pb.chassis) ?? pb.chassis;
  } else if (existsSync(lflows)) {
    file = lflows;
    let flows: Map<string, LogicalFlow[]>;
    try {
      flows = parseLflowList(read(lflows));
    } catch (e) {
      if (e instanceof VippathError) throw new SnapshotError(`${lflows}: ${e.message}`);
      throw e;
    }
    const { nb: dnb, chassis } = northboundFor(objects, derived.pods, cluster, derived.loadBalancers);
    // Ports, groups and SB options (register_consolidation) from vippath's northd of the release that wrote the text.
    const profile = northdProfile(cluster);
    const ovnVersion = ovnVersionOfFlows(flows.get(ls) ?? []) ?? PROFILE_OVN_VERSION[profile];
    const base = northd(dnb, { profile, ovnVersion, chassis });
    const merged = new Map(base.flows);
    for (const [name, list] of flows) merged.set(name, list);
    state = { ...base, flows: merged };
    out.push({ code: 'OVN_SB_FROM_TEXT', severity: 'info', object: 'ovn/lflows.txt', field: '-', message: `${lflows}: logical flows read from ovn-sbctl lflow-list text; its ports, multicast groups and load balancers are vippath's northd's of the derived Northbound (no ovn/sb.db)`, consequence: 'Port tunnel keys (and so conntrack zones) are vippath\'s numbering; the flows are the cluster\'s.' });
  }
  if (state) {
    const flows = state.flows.get(ls);
    if (!flows) {
      out.push({ code: 'OVN_SB_NO_SWITCH', severity: 'error', object: `Subnet/${ls}`, field: 'metadata.name', message: `${file} has no logical switch (Datapath_Binding external_ids:name) ${ls}; it has ${[...state.flows.keys()].join(', ') || 'none'}`, consequence: 'Its logical flows are not run: the simulation runs vippath\'s northd flows of the derived Northbound.', source: { file, line: 0 } });
      return out;
    }
    const runFinding = out.length;
    out.push({ code: 'OVN_SB_RUN', severity: 'info', object: file.endsWith('.db') ? 'ovn/sb.db' : 'ovn/lflows.txt', field: '-', message: `the simulation runs the ${flows.length} collected logical flow(s) of ${ls} (not vippath's northd's); a readiness or ownership change is applied to them as the difference it makes to vippath's northd flows`, consequence: 'None: information. When a change takes out a flow the collected ones lack, the simulation switches to vippath\'s northd flows and says so in its events.' });
    // The collected flows compiled once here, for what ovn-controller would refuse of them (skipped, said) and what
    // OVN would run that vippath cannot (the rows are then not run, as with a missing port).
    let unsupported = false;
    const lflowObject = file.endsWith('.db') ? 'ovn/sb.db' : 'ovn/lflows.txt';
    try {
      const compiled = new LflowExecutor(state, ls, { strict });
      const all = compiled.skipped;
      // lflow-list text has no Address_Set or Port_Group rows (vippath's northd's stand in): a flow naming one that is
      // not there is skipped for want of input, not as the cluster's ovn-controller would (it has the rows).
      const absent = (f: LogicalFlow): string[] => [...`${f.match} ${f.actions}`.matchAll(/([$@])([A-Za-z_][\w.]*)/g)].filter((m) => !(m[1] === '$' ? state!.addressSets : state!.portGroups).has(m[2]!)).map((m) => m[0]);
      const missing = file === lflows ? all.filter((s) => absent(s.flow).length > 0) : [];
      const skipped = missing.length ? all.filter((s) => !missing.includes(s)) : all;
      if (missing.length) {
        const names = [...new Set(missing.flatMap((s) => absent(s.flow)))];
        const shown = missing.slice(0, 3).map(skippedLflowName).join('; ') + (missing.length > 3 ? `; and ${missing.length - 3} more` : '');
        out.push({ code: 'OVN_SB_TEXT_NO_ROWS', severity: 'warning', object: lflowObject, field: 'Logical_Flow', message: `${missing.length} logical flow${missing.length === 1 ? '' : 's'} name${missing.length === 1 ? 's' : ''} ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}, which ovn-sbctl lflow-list text does not carry (no Address_Set or Port_Group rows; vippath's northd of the derived Northbound makes none of these): skipped ${shown}`, consequence: 'Unlike on the cluster (whose ovn-controller has the rows and runs these flows), the simulation runs the tables without them. Collect the Southbound database (ovsdb-client backup, as ovn/sb.db) to run them.', source: { file, line: 0 } });
      }
      if (compiled.unmodelled.length) out.push({ code: 'OVN_SB_LFLOW_UNMODELLED', severity: 'warning', object: lflowObject, field: 'Logical_Flow', message: formatUnmodelledLflows(compiled.unmodelled), consequence: 'The flows run in their place; a frame that reaches one of these actions is dropped there (ovn.unmodelled-action), where OVN would go on — DHCP and DNS answers, MAC learning by ovn-controller are not simulated.', source: { file, line: 0 } });
      if (skipped.length) out.push({ code: 'OVN_SB_LFLOW_SKIPPED', severity: 'warning', object: lflowObject, field: 'Logical_Flow', message: formatSkippedLflows(skipped), consequence: 'As on the cluster: ovn-controller installs nothing for a logical flow it cannot parse (it logs "error parsing match" or "error parsing actions"), so the simulation runs the tables without them.', source: { file, line: 0 } });
    } catch (e) {
      if (!(e instanceof LflowError) || e.code !== 'UNSUPPORTED_LFLOW') throw e;
      // Strict: the user asked for the refusal, not for vippath's northd flows in the collected ones' place — for an
      // action vippath does not model and for a field it does not (without the flag the one loads, the other falls back).
      if (strict) throw new LflowError('UNSUPPORTED_LFLOW', `${file}: ${e.message}`, e.unmodelled);
      unsupported = true;
      out.push({ code: 'OVN_SB_LFLOW_UNSUPPORTED', severity: 'error', object: lflowObject, field: 'Logical_Flow', message: e.message, consequence: 'The collected flows are not run (OVN runs this one, vippath cannot): the simulation runs vippath\'s northd flows of the derived Northbound.', source: { file, line: 0 } });
    }
    const pbs = new Map(state.portBindings.filter((p) => p.datapath === ls).map((p) => [p.logicalPort, p]));
    // Lflow text has no Port_Binding rows (they are vippath's): a port is known to it when its flows name it.
    const named = file === lflows ? new Set([...flows.map((f) => `${f.match} ${f.actions}`).join('\n').matchAll(/(?:inport|outport)\s*==\s*"([^"]+)"/g)].map((m) => m[1]!)) : undefined;
    for (const p of derived.pods) {
      const pb = named && !named.has(p.lsp) ? undefined : pbs.get(p.lsp);
      const obj = `Pod/${p.namespace}/${p.name}`;
      if (!pb) {
        out.push({ code: 'OVN_SB_NO_PORT', severity: 'error', object: obj, field: 'metadata.annotations["ovn.kubernetes.io/logical_switch"]', message: `${file} has no Port_Binding ${p.lsp} on ${ls}`, consequence: `The collected flows do not know ${p.name} (cluster.yaml and the OVN databases are from different moments?): they are not run; the simulation runs vippath's northd flows of the derived Northbound.`, source: { file, line: 0 } });
        continue;
      }
      if (pb.chassis !== undefined && pb.chassis !== p.node) out.push({ code: 'OVN_SB_PORT_CHASSIS', severity: 'warning', object: obj, field: 'spec.nodeName', message: `Port_Binding ${p.lsp} is bound to chassis ${pb.chassis}; the Pod is on ${p.node}`, consequence: 'The collected flows\' is_chassis_resident() answers for the chassis the Port_Binding names (prefer-local picks on it).', source: { file, line: 0 } });
      const addr = pb.mac.join(' ').split(/\s+/);
      if (pb.mac.length && (!addr.includes(p.mac) || !addr.includes(p.ip))) out.push({ code: 'OVN_SB_PORT_ADDRESS', severity: 'warning', object: obj, field: 'metadata.annotations["ovn.kubernetes.io/ip_address"]', message: `Port_Binding ${p.lsp} has addresses "${pb.mac.join(', ')}"; the Pod has ${p.mac} ${p.ip}`, consequence: 'The collected flows deliver by the Port_Binding\'s addresses: frames to the Pod\'s address may go elsewhere or be dropped.', source: { file, line: 0 } });
    }
    if (file.endsWith('.db')) {
      const theirs = new Map<string, string>();
      for (const lb of state.loadBalancers) if (lb.datapaths.includes(ls)) for (const [vip, backends] of Object.entries(lb.vips)) theirs.set(`${lb.name} ${vip}`, backends.split(',').sort().join(','));
      compareLbs(theirs, file, 'Southbound');
    }
    if (unsupported || out.some((d) => d.code === 'OVN_SB_NO_PORT')) out.splice(runFinding, 1);
    else cluster.southbound = { state, file };
  }
  return out;
}

/**
 * Writes vippath's own simulated cluster as a snapshot in the layout {@link loadSnapshot} reads: cluster.yaml
 * with the objects plus the Pods, Nodes and Endpoints vippath derived (so loading it back simulates the same
 * cluster without deriving them again), vippath.yaml (the Cluster description), each node's br-provider flows and
 * ports as ovs-ofctl prints them (the patch port's name cut to 15 characters, as OpenFlow does), versions.json.
 */
export function writeSnapshot(dir: string, objects: K8sObject[], cluster: ClusterSpec): void {
  for (const n of cluster.nodes) nodeDir(dir, n.name); // every name checked before anything is written
  const state = derive(objects, cluster);
  mkdirSync(dir, { recursive: true });
  const strip = (o: K8sObject): Record<string, unknown> => {
    const { source: _source, ...rest } = o;
    return rest;
  };
  const items: Array<Record<string, unknown>> = objects.filter((o) => o.kind !== 'Cluster' && o.kind !== 'Node' && o.kind !== 'Pod' && o.kind !== 'Endpoints' && o.kind !== 'EndpointSlice').map(strip);
  for (const n of cluster.nodes) {
    const given = objects.find((o) => o.kind === 'Node' && o.metadata.name === n.name);
    items.push(given ? strip(given) : { apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } } });
  }
  for (const p of state.pods) {
    items.push({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: p.name, namespace: p.namespace, labels: p.labels, annotations: { 'ovn.kubernetes.io/ip_address': p.ip, 'ovn.kubernetes.io/mac_address': p.mac, 'ovn.kubernetes.io/logical_switch': objects.find((o) => o.kind === 'Subnet')?.metadata.name ?? 'underlay-subnet' } },
      spec: { nodeName: p.node },
      status: { phase: 'Running', podIP: p.ip, conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False' }] },
    });
  }
  // The endpoints of every Service whose endpoints vippath reads: the LoadBalancer ones and every other one in
  // Kube-OVN's OVN load balancers (its cluster IP's backends).
  for (const s of kubeOvnLbServices(objects)) {
    const all = state.pods.filter((p) => backs(s, p));
    // Endpoints of the same ports share a subset and a slice, as the controllers group them (a named targetPort
    // can resolve differently per pod); the slices carry the conditions Endpoints cannot (serving, terminating).
    const servicePorts = portsOf(s.spec as Parameters<typeof portsOf>[0]);
    const groups = new Map<string, { ports: Array<{ name: string; port: number; protocol: string }>; pods: PodState[] }>();
    for (const p of all) {
      const ports = servicePorts.flatMap((sp) => {
        const port = endpointPort(s, p, sp);
        return port === undefined ? [] : [{ name: sp.name, port, protocol: sp.protocol }];
      });
      const k = JSON.stringify(ports);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { ports, pods: [] }));
      g.pods.push(p);
    }
    const namespace = s.metadata.namespace ?? 'default';
    const targetRef = (p: PodState): Record<string, string> => ({ kind: 'Pod', name: p.name, namespace: p.namespace });
    items.push({
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: s.metadata.name, namespace },
      subsets: [...groups.values()].map((g) => ({
        addresses: g.pods.filter((p) => kubeOvnReady(endpointConditions(s, p))).map((p) => ({ ip: p.ip, nodeName: p.node, targetRef: targetRef(p) })),
        notReadyAddresses: g.pods.filter((p) => !kubeOvnReady(endpointConditions(s, p))).map((p) => ({ ip: p.ip, nodeName: p.node, targetRef: targetRef(p) })),
        ports: g.ports,
      })),
    });
    [...groups.values()].forEach((g, i) => {
      items.push({
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
        metadata: { name: `${s.metadata.name}-${i}`, namespace, labels: { 'kubernetes.io/service-name': s.metadata.name } },
        endpoints: g.pods.map((p) => ({ addresses: [p.ip], conditions: endpointConditions(s, p), nodeName: p.node, targetRef: targetRef(p) })),
        ports: g.ports,
      });
    });
  }
  // JSON is YAML: exact, and no quoting rules to get wrong.
  writeFileSync(join(dir, 'cluster.yaml'), `${JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items }, null, 1)}\n`);
  const description = { apiVersion: 'vippath.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'snapshot' }, spec: { vlan: cluster.vlan, nodes: cluster.nodes, flags: cluster.flags, profiles: cluster.profiles, client: cluster.client } };
  writeFileSync(join(dir, 'vippath.yaml'), `${JSON.stringify(description, null, 1)}\n`);
  const subnet = objects.find((o) => o.kind === 'Subnet')?.metadata.name ?? 'underlay-subnet';
  const patch = `patch-localnet.${subnet}-to-br-int`;
  for (const n of cluster.nodes) {
    const d = nodeDir(dir, n.name);
    mkdirSync(d, { recursive: true });
    const collected = cluster.brProvider?.[n.name];
    const ports = collected ? collected.ports : [{ name: `${n.nic}.${cluster.vlan}`, ofport: 1 }, { name: patch, ofport: 2 }];
    writeFileSync(join(d, 'br-provider.flows'), `${state.brProviderFlows[n.name]!.join('\n')}\n`);
    const show = [`OFPT_FEATURES_REPLY (xid=0x2): dpid:0000${n.mac.replace(/:/g, '')}`, 'n_tables:254, n_buffers:0'];
    for (const p of ports) show.push(` ${p.ofport}(${p.name.slice(0, 15)}): addr:aa:55:aa:55:00:${p.ofport.toString(16).padStart(2, '0').slice(-2)}`);
    show.push(` LOCAL(br-provider): addr:${n.mac}`);
    writeFileSync(join(d, 'br-provider.ports'), `${show.join('\n')}\n`);
  }
  // The switch's logical flows as `ovn-sbctl lflow-list` prints them: loading them back runs them (the collected
  // ones when this cluster came from a snapshot), so the round trip covers the Southbound path too.
  const { nb, chassis } = northboundFor(objects, state.pods, cluster, state.loadBalancers);
  mkdirSync(join(dir, 'ovn'), { recursive: true });
  writeFileSync(join(dir, 'ovn', 'lflows.txt'), formatLflowList(cluster.southbound?.state ?? northd(nb, { profile: northdProfile(cluster), ovnVersion: PROFILE_OVN_VERSION[northdProfile(cluster)], chassis }), { datapath: subnet }));
  writeFileSync(join(dir, 'versions.json'), `${JSON.stringify({ kubeOvn: cluster.profiles.kubeOvn === 'kube-ovn-1.14' ? 'v1.14.0' : 'v1.15.20', metallb: cluster.profiles.metallb === 'metallb-0.13.7' ? 'v0.13.7' : 'v0.14.9', source: 'vippath status --write-snapshot' }, null, 1)}\n`);
}
