/**
 * A typed Northbound as one OVSDB transaction: what a test or the testbed sends to a real NB ovsdb-server so that
 * real ovn-northd sees exactly the NB vippath's northd runs on. Column names and types: ovn-nb(5), OVN 23.03.
 * @module
 */
import type { NbAcl, NbLogicalSwitchPort, NorthboundDb } from './nb.js';

const map = (o: Record<string, string> | undefined): unknown => ['map', Object.entries(o ?? {})];
const set = (a: unknown[] | undefined): unknown => ['set', a ?? []];

/** The ops that empty the NB (root tables deleted; the rest is garbage-collected). */
export const NB_CLEAR_OPS: unknown[] = ['Logical_Switch', 'Logical_Router', 'Load_Balancer', 'Load_Balancer_Group', 'Port_Group', 'Address_Set'].map((t) => ({ op: 'delete', table: t, where: [] }));

/**
 * The ops that fill an empty NB with `db` (RFC 7047 §5.2 operations for `ovsdb-client transact`), and where each
 * load balancer's insert stands among them (its result holds the row's uuid). NB_Global is updated, not
 * inserted: the server must already hold its row (`ovn-nbctl init`, or ovn-northd once it has run).
 */
export function nbTransaction(db: NorthboundDb): { ops: unknown[]; lbIndex: Map<string, number> } {
  const ops: unknown[] = [];
  ops.push({ op: 'update', table: 'NB_Global', where: [], row: { options: map(db.options) } });
  const lbIndex = new Map<string, number>();
  // uuid-names must be identifiers; NB names need not be.
  const lbRef = new Map((db.loadBalancers ?? []).map((lb, i) => [lb.name, `lb_${i}`]));
  const groupRef = new Map((db.loadBalancerGroups ?? []).map((g, i) => [g.name, `lbg_${i}`]));
  for (const lb of db.loadBalancers ?? []) {
    const hcs = (lb.healthChecks ?? []).map((h, i) => {
      const name = `hc_${lbRef.get(lb.name)}_${i}`;
      ops.push({ op: 'insert', table: 'Load_Balancer_Health_Check', 'uuid-name': name, row: { vip: h.vip, options: map(h.options) } });
      return ['named-uuid', name];
    });
    lbIndex.set(lb.name, ops.length);
    ops.push({
      op: 'insert', table: 'Load_Balancer', 'uuid-name': lbRef.get(lb.name),
      row: { name: lb.name, ...(lb.protocol ? { protocol: lb.protocol } : {}), vips: map(lb.vips), options: map(lb.options), selection_fields: set(lb.selectionFields), ip_port_mappings: map(lb.ipPortMappings), health_check: set(hcs), external_ids: map(lb.externalIds) },
    });
  }
  for (const g of db.loadBalancerGroups ?? []) {
    ops.push({ op: 'insert', table: 'Load_Balancer_Group', 'uuid-name': groupRef.get(g.name), row: { name: g.name, load_balancer: set(g.loadBalancers.map((n) => ['named-uuid', lbRef.get(n)])) } });
  }
  let routerN = 0;
  for (const lr of db.routers ?? []) {
    routerN++;
    const ports = lr.ports.map((p, i) => {
      const name = `lrp_${routerN}_${i}`;
      const gws = (p.gatewayChassis ?? []).map((c, j) => {
        const gw = `gw_${routerN}_${i}_${j}`;
        ops.push({ op: 'insert', table: 'Gateway_Chassis', 'uuid-name': gw, row: { name: `${p.name}-${c}`, chassis_name: c, priority: j + 1 } });
        return ['named-uuid', gw];
      });
      const row: Record<string, unknown> = { name: p.name, mac: p.mac, networks: set(p.networks), gateway_chassis: set(gws), options: map(p.options) };
      if (p.enabled !== undefined) row.enabled = p.enabled;
      ops.push({ op: 'insert', table: 'Logical_Router_Port', 'uuid-name': name, row });
      return ['named-uuid', name];
    });
    const nats = (lr.nat ?? []).map((n, i) => {
      const name = `nat_${routerN}_${i}`;
      ops.push({ op: 'insert', table: 'NAT', 'uuid-name': name, row: { type: n.type, external_ip: n.externalIp, logical_ip: n.logicalIp } });
      return ['named-uuid', name];
    });
    ops.push({
      op: 'insert', table: 'Logical_Router',
      row: {
        name: lr.name, ports: set(ports), options: map(lr.options), nat: set(nats),
        load_balancer: set((lr.loadBalancers ?? []).map((n) => ['named-uuid', lbRef.get(n)])),
        load_balancer_group: set((lr.loadBalancerGroups ?? []).map((n) => ['named-uuid', groupRef.get(n)])),
      },
    });
  }
  for (const as of db.addressSets ?? []) ops.push({ op: 'insert', table: 'Address_Set', row: { name: as.name, addresses: set(as.addresses) } });
  let aclN = 0;
  const aclRow = (a: NbAcl): unknown => {
    const row: Record<string, unknown> = { direction: a.direction, priority: a.priority, match: a.match, action: a.action, log: a.log ?? false, options: map(a.options) };
    if (a.name !== undefined) row.name = a.name;
    if (a.severity !== undefined) row.severity = a.severity;
    if (a.meter !== undefined) row.meter = a.meter;
    if (a.label !== undefined) row.label = a.label;
    // 23.03's schema has no tier column: only written when set.
    if (a.tier) row.tier = a.tier;
    const name = `acl${aclN++}`;
    ops.push({ op: 'insert', table: 'ACL', 'uuid-name': name, row });
    return ['named-uuid', name];
  };
  let portN = 0;
  const portRef = new Map<string, string>();
  for (const ls of db.switches) {
    const ports = ls.ports.map((p: NbLogicalSwitchPort) => {
      const name = `p${portN++}`;
      portRef.set(p.name, name);
      const row: Record<string, unknown> = { name: p.name, type: p.type ?? '', addresses: set(p.addresses), port_security: set(p.portSecurity), options: map(p.options), external_ids: map(p.externalIds) };
      if (p.tag !== undefined) row.tag_request = p.tag;
      if (p.enabled !== undefined) row.enabled = p.enabled;
      ops.push({ op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': name, row });
      return ['named-uuid', name];
    });
    const acls = (ls.acls ?? []).map(aclRow);
    const qos = (ls.qosRules ?? []).map((q, i) => {
      const name = `qos_${portN}_${i}`;
      const ints = (o: Record<string, number | undefined> | undefined): unknown => ['map', Object.entries(o ?? {}).filter(([, v]) => v !== undefined)];
      ops.push({ op: 'insert', table: 'QoS', 'uuid-name': name, row: { direction: q.direction, priority: q.priority, match: q.match, action: ints(q.action), bandwidth: ints(q.bandwidth) } });
      return ['named-uuid', name];
    });
    ops.push({
      op: 'insert', table: 'Logical_Switch',
      row: {
        name: ls.name, ports: set(ports), acls: set(acls), qos_rules: set(qos), other_config: map(ls.otherConfig), external_ids: map(ls.externalIds),
        load_balancer: set((ls.loadBalancers ?? []).map((n) => ['named-uuid', lbRef.get(n)])),
        load_balancer_group: set((ls.loadBalancerGroups ?? []).map((n) => ['named-uuid', groupRef.get(n)])),
      },
    });
  }
  for (const pg of db.portGroups ?? []) {
    const acls = (pg.acls ?? []).map(aclRow);
    ops.push({ op: 'insert', table: 'Port_Group', row: { name: pg.name, ports: set(pg.ports.map((p) => ['named-uuid', portRef.get(p)!])), acls: set(acls) } });
  }
  return { ops, lbIndex };
}
