/**
 * `ovn-sbctl lflow-list` text (with or without `--uuid`) back into Logical_Flow rows, and a Southbound state
 * around them for running flows when nothing else is at hand. The text holds flows only: port tunnel keys,
 * multicast group members and port security are not in it, so {@link sbFromLflowList} numbers the ports it finds
 * in the flows, puts every port in `_MC_flood` and none in `_MC_unknown` unless told, and gives no port security —
 * an OVN_Southbound backup (`--sb`) runs the flows faithfully.
 * @module
 */
import { LflowError } from './executor.js';
import type { LogicalFlow, PortBinding, SouthboundState } from './types.js';

const HEADER = /^Datapath: "([^"]*)" \(([0-9a-f-]+)\)\s+Pipeline: (ingress|egress)\s*$/;
const FLOW = /^\s+(?:uuid=0x([0-9a-f]+), )?table=\s*(\d+)\s*\(\s*([^)\s]*)\s*\), priority=\s*(\d+)\s*, match=\((.*)\), action=\((.*)\)\s*$/;

/** Parses lflow-list text: datapath name → flows. Throws {@link LflowError} (`BAD_LFLOW_LIST`) with the line. */
export function parseLflowList(text: string): Map<string, LogicalFlow[]> {
  const out = new Map<string, LogicalFlow[]>();
  let dp: string | undefined;
  let pipeline: 'ingress' | 'egress' = 'ingress';
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const h = HEADER.exec(line);
    if (h) {
      dp = h[1]!;
      pipeline = h[3] as 'ingress' | 'egress';
      if (!out.has(dp)) out.set(dp, []);
      return;
    }
    const f = FLOW.exec(line);
    if (!f || dp === undefined) throw new LflowError('BAD_LFLOW_LIST', `line ${i + 1}: not an lflow-list line: ${line.slice(0, 120)}`);
    out.get(dp)!.push({ pipeline, table: Number(f[2]), stage: f[3]!, priority: Number(f[4]), match: f[5]!, actions: f[6]!, ...(f[1] ? { uuid: f[1].padStart(8, '0') } : {}) });
  });
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
