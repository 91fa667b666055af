/**
 * The change a Northbound edit makes to a datapath's logical flows, as a difference between two northd runs, and
 * that difference applied to other Southbound rows (a collected sb.db). A collected Southbound is what the
 * cluster's own northd (Kube-OVN's patched build, any version) wrote; when the simulation then changes the
 * Northbound (a pod turns not ready, the VIP moves), the rows that change are the ones northd would rewrite, and
 * every other collected flow stays as collected.
 *
 * Flows are compared by pipeline, stage name, priority, match and actions — not by table number, which differs
 * between OVN versions; an added flow takes the table its stage has in the rows it is added to.
 * @module
 */
import type { LogicalFlow, SouthboundState } from './types.js';

/** What identifies a logical flow across OVN versions and northd runs. */
export function lflowKey(f: Pick<LogicalFlow, 'pipeline' | 'stage' | 'priority' | 'match' | 'actions'>): string {
  return `${f.pipeline}\u0000${f.stage}\u0000${f.priority}\u0000${f.match}\u0000${f.actions}`;
}

/** Flows a change took out and put in (each as often as it occurs: a multiset difference). */
export interface LflowDelta {
  removed: LogicalFlow[];
  added: LogicalFlow[];
}

/** The difference between two runs' flows of one datapath. */
export function lflowDelta(before: readonly LogicalFlow[], after: readonly LogicalFlow[]): LflowDelta {
  const count = new Map<string, number>();
  for (const f of before) count.set(lflowKey(f), (count.get(lflowKey(f)) ?? 0) + 1);
  const added: LogicalFlow[] = [];
  for (const f of after) {
    const k = lflowKey(f);
    const n = count.get(k) ?? 0;
    if (n > 0) count.set(k, n - 1);
    else added.push(f);
  }
  const removed: LogicalFlow[] = [];
  for (const f of before) {
    const k = lflowKey(f);
    const n = count.get(k) ?? 0;
    if (n > 0) {
      removed.push(f);
      count.set(k, n - 1);
    }
  }
  return { removed, added };
}

/**
 * Applies `delta` to `flows`. `missing` lists the removed flows `flows` does not hold: the rows were not made by a
 * northd that writes what vippath's does, so the change cannot be known to be the cluster's.
 */
export function applyLflowDelta(flows: readonly LogicalFlow[], delta: LflowDelta): { flows: LogicalFlow[]; missing: LogicalFlow[] } {
  const gone = new Map<string, number>();
  for (const f of delta.removed) gone.set(lflowKey(f), (gone.get(lflowKey(f)) ?? 0) + 1);
  const out: LogicalFlow[] = [];
  const tableOf = new Map<string, number>();
  for (const f of flows) {
    tableOf.set(`${f.pipeline}\u0000${f.stage}`, f.table);
    const k = lflowKey(f);
    const n = gone.get(k) ?? 0;
    if (n > 0) gone.set(k, n - 1);
    else out.push(f);
  }
  const missing = delta.removed.filter((f) => {
    const k = lflowKey(f);
    const n = gone.get(k) ?? 0;
    if (n === 0) return false;
    gone.set(k, n - 1);
    return true;
  });
  for (const f of delta.added) {
    const { uuid: _uuid, ...rest } = f;
    out.push({ ...rest, table: tableOf.get(`${f.pipeline}\u0000${f.stage}`) ?? f.table });
  }
  return { flows: out, missing };
}

/**
 * `target` with the change from `before` to `after` (two northd runs) applied to datapath `datapath`'s flows, and
 * the Load_Balancer rows that changed taken from `after`. `missing` as in {@link applyLflowDelta}.
 */
export function patchSouthbound(target: SouthboundState, before: SouthboundState, after: SouthboundState, datapath: string): { sb: SouthboundState; missing: LogicalFlow[]; changed: number } {
  const delta = lflowDelta(before.flows.get(datapath) ?? [], after.flows.get(datapath) ?? []);
  const r = applyLflowDelta(target.flows.get(datapath) ?? [], delta);
  const lbKey = (lb: SouthboundState['loadBalancers'][number]): string => JSON.stringify([lb.name, lb.protocol, Object.entries(lb.vips).sort(), Object.entries(lb.options).sort()]);
  const was = new Map(before.loadBalancers.map((lb) => [lb.name, lbKey(lb)]));
  const changedLbs = new Map(after.loadBalancers.filter((lb) => was.get(lb.name) !== lbKey(lb)).map((lb) => [lb.name, lb]));
  const removedLbs = new Set(before.loadBalancers.filter((lb) => !after.loadBalancers.some((x) => x.name === lb.name)).map((lb) => lb.name));
  const loadBalancers = target.loadBalancers.filter((lb) => !changedLbs.has(lb.name) && !removedLbs.has(lb.name)).map((lb) => lb);
  for (const lb of changedLbs.values()) {
    const old = target.loadBalancers.find((x) => x.name === lb.name);
    loadBalancers.push(old ? { ...lb, datapaths: old.datapaths } : lb);
  }
  const flows = new Map(target.flows);
  flows.set(datapath, r.flows);
  return { sb: { ...target, flows, loadBalancers }, missing: r.missing, changed: delta.added.length + delta.removed.length };
}
