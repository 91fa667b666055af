/**
 * A one-switch southbound for the executor's tests: datapath `ls` (tunnel key 1) holding the flows written with
 * {@link flowList} and the given port bindings, no load balancers, groups, address sets or options.
 */
import type { LogicalFlow, SouthboundState } from './types.js';

type PortBinding = SouthboundState['portBindings'][number];

/** Flows written table by table; each gets the next uuid and a stage named after its pipeline and table. */
export function flowList(): { flows: LogicalFlow[]; add(pipeline: 'ingress' | 'egress', table: number, priority: number, match: string, actions: string): void } {
  const flows: LogicalFlow[] = [];
  return {
    flows,
    add(pipeline, table, priority, match, actions) {
      const uuid = `${(flows.length + 1).toString(16).padStart(8, '0')}-0000-0000-0000-000000000000`;
      flows.push({ pipeline, table, stage: `ls_${pipeline === 'ingress' ? 'in' : 'out'}_t${table}`, priority, match, actions, uuid });
    },
  };
}

/** A table's flows as rows: [table, priority, match, actions]. */
export type FlowRow = [number, number, string, string];

/** The given ingress rows and egress rows (by default one that outputs), in {@link flowList}'s order. */
export function rowsOf(ingress: FlowRow[], egress: FlowRow[] = [[0, 0, '1', 'output;']]): LogicalFlow[] {
  const { flows, add } = flowList();
  for (const [table, priority, match, actions] of ingress) add('ingress', table, priority, match, actions);
  for (const [table, priority, match, actions] of egress) add('egress', table, priority, match, actions);
  return flows;
}

/** `ls`'s localnet port `ln` (tunnel key 1, network `provider`). */
export function localnet(): PortBinding {
  return { logicalPort: 'ln', type: 'localnet', mac: ['unknown'], portSecurity: [], tunnelKey: 1, options: { network_name: 'provider' }, datapath: 'ls' };
}

/** A VIF of `ls` bound on node1, with its addresses (`"MAC IP…"` entries). */
export function vif(name: string, tunnelKey: number, ...mac: string[]): PortBinding {
  return { logicalPort: name, type: '', mac, portSecurity: [], tunnelKey, chassis: 'node1', options: {}, datapath: 'ls' };
}

export function oneSwitch(flows: LogicalFlow[], portBindings: PortBinding[]): SouthboundState {
  return {
    datapaths: [{ name: 'ls', tunnelKey: 1 }],
    flows: new Map([['ls', flows]]),
    portBindings,
    multicastGroups: [],
    loadBalancers: [],
    fdb: [],
    options: {},
    addressSets: new Map(),
    portGroups: new Map(),
  };
}
