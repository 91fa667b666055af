/**
 * `ovn-sbctl lflow-list` text: printing Logical_Flow rows exactly as ovn-sbctl 23.03 does, and reading such text
 * back (a user's pasted lflows). Format and order: ovn-org/ovn utilities/ovn-sbctl.c v23.03.1 — rows sorted by
 * datapath name, datapath uuid, pipeline (ingress first), table, priority descending, match, actions (strcmp);
 * a `Datapath: "NAME" (UUID)  Pipeline: P` header whenever datapath or pipeline changes; each row as
 * `  table=%-2d(%-19s), priority=%-5d, match=(%s), action=(%s)`, prefixed `uuid=0x%08x, ` with `--uuid`.
 * @module
 */
import { VippathError } from '@vippath/wire';
import type { LogicalFlow, Pipeline, PortBinding, SouthboundState } from './types.js';

/** Text that is not `ovn-sbctl lflow-list` output. */
export class LflowTextError extends VippathError {}

export interface FormatLflowOptions {
  /** Only this datapath (by name), as `ovn-sbctl lflow-list NAME`. */
  datapath?: string;
  /** Print each row's uuid prefix (`--uuid`); rows without a uuid print `uuid=0x00000000`. */
  uuid?: boolean;
}

const strcmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The lflow-list sort order within one datapath. */
export function compareLflows(a: LogicalFlow, b: LogicalFlow): number {
  if (a.pipeline !== b.pipeline) return a.pipeline === 'ingress' ? -1 : 1;
  if (a.table !== b.table) return a.table - b.table;
  if (a.priority !== b.priority) return b.priority - a.priority;
  return strcmp(a.match, b.match) || strcmp(a.actions, b.actions);
}

/** One row as lflow-list prints it (without the trailing newline). */
export function formatLflow(f: LogicalFlow, withUuid = false): string {
  const uuid = withUuid ? `uuid=0x${(f.uuid ?? '00000000').replace(/-/g, '').slice(0, 8)}, ` : '';
  return `  ${uuid}table=${String(f.table).padEnd(2)}(${f.stage.padEnd(19)}), priority=${String(f.priority).padEnd(5)}, match=(${f.match}), action=(${f.actions})`;
}

/** The lflow-list text for `state`'s datapaths (ending in a newline, as ovn-sbctl's output does). */
export function formatLflowList(state: Pick<SouthboundState, 'datapaths' | 'flows'>, opts: FormatLflowOptions = {}): string {
  const dps = state.datapaths
    .filter((d) => opts.datapath === undefined || d.name === opts.datapath)
    .slice()
    .sort((a, b) => strcmp(a.name, b.name) || strcmp(a.uuid ?? '', b.uuid ?? ''));
  const lines: string[] = [];
  for (const dp of dps) {
    const flows = (state.flows.get(dp.name) ?? []).slice().sort(compareLflows);
    let pipeline: Pipeline | undefined;
    for (const fl of flows) {
      if (fl.pipeline !== pipeline) {
        pipeline = fl.pipeline;
        lines.push(`Datapath: ${JSON.stringify(dp.name)} (${dp.uuid ?? datapathUuid(dp.name)})  Pipeline: ${pipeline}`);
      }
      lines.push(formatLflow(fl, opts.uuid));
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** A stable stand-in uuid for a datapath whose real uuid is unknown (derived from its name, FNV-1a). */
export function datapathUuid(name: string): string {
  const words: string[] = [];
  for (let seed = 0; seed < 4; seed++) {
    let h = 0x811c9dc5 ^ seed;
    for (let i = 0; i < name.length; i++) {
      h ^= name.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    words.push(h.toString(16).padStart(8, '0'));
  }
  const hex = words.join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const HEADER = /^Datapath: "((?:[^"\\]|\\.)*)"(?: aka "(?:[^"\\]|\\.)*")? \(([0-9a-fA-F-]+)\)\s+Pipeline: (ingress|egress)$/;
const ROW = /^ {2}(?:uuid=0x([0-9a-fA-F]{8}), )?table=(\d+)\s*\(([a-z0-9_]+)\s*\), priority=(\d+)\s*, match=\((.*)\), action=\((.*)\)$/;

/**
 * Reads `ovn-sbctl lflow-list` text into flows per datapath name. Match and action texts may themselves contain
 * `), action=(`; the row is split at the last `), action=(` before the final `)`, as no action northd writes
 * contains that sequence. Lines after `--vflows` sections and blank lines are ignored.
 */
export function parseLflowList(text: string): Map<string, LogicalFlow[]> {
  const out = new Map<string, LogicalFlow[]>();
  let current: { name: string; pipeline: Pipeline } | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const h = HEADER.exec(line);
    if (h) {
      current = { name: JSON.parse(`"${h[1]!}"`) as string, pipeline: h[3] as Pipeline };
      if (!out.has(current.name)) out.set(current.name, []);
      continue;
    }
    if (/^(Port Bindings|MAC Bindings|Multicast Groups|Chassis|Load Balancers):$/.test(line)) {
      current = undefined;
      continue;
    }
    if (!current) {
      if (/^\s/.test(line)) continue; // rows of a --vflows section
      throw new LflowTextError('LFLOW_TEXT_SYNTAX', `line ${i + 1}: expected a "Datapath: …" header, got: ${line.slice(0, 80)}`);
    }
    const r = ROW.exec(line);
    if (!r) throw new LflowTextError('LFLOW_TEXT_SYNTAX', `line ${i + 1}: not an lflow-list row: ${line.slice(0, 80)}`);
    // ROW's greedy match group takes up to the last "), action=(": correct for every match northd writes.
    const flow: LogicalFlow = {
      pipeline: current.pipeline,
      table: Number(r[2]),
      stage: r[3]!,
      priority: Number(r[4]),
      match: r[5]!,
      actions: r[6]!,
    };
    if (r[1]) flow.uuid = r[1].toLowerCase();
    out.get(current.name)!.push(flow);
  }
  return out;
}
/** A Southbound state from lflow-list text alone (see the module note for what it has to guess). */
export function sbFromLflowList(text: string): SouthboundState {
  const flows = parseLflowList(text);
  const portBindings: PortBinding[] = [];
  const multicastGroups: SouthboundState['multicastGroups'] = [];
  let dpKey = 0;
  const datapaths = [...flows.keys()].map((name) => ({ name, tunnelKey: ++dpKey }));
  for (const [dp, list] of flows) {
    const names = new Set<string>();
    for (const f of list) for (const m of `${f.match} ${f.actions}`.matchAll(/(?:inport|outport)\s*(?:==|!=|=)\s*"([^"]+)"/g)) names.add(m[1]!);
    const ports = [...names].filter((n) => !n.startsWith('_MC_') && n !== 'none');
    ports.forEach((n, i) => portBindings.push({ logicalPort: n, type: '', mac: [], portSecurity: [], tunnelKey: i + 1, options: {}, datapath: dp }));
    multicastGroups.push({ name: '_MC_flood', datapath: dp, tunnelKey: 32768, ports });
    multicastGroups.push({ name: '_MC_unknown', datapath: dp, tunnelKey: 32769, ports: [] });
  }
  return { datapaths, flows, portBindings, multicastGroups, loadBalancers: [], fdb: [], options: {}, addressSets: new Map(), portGroups: new Map() };
}
