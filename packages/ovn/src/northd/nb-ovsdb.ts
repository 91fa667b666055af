/**
 * An OVN_Northbound database file (read by ovsdb.ts) mapped to northd's typed Northbound objects. Rows are
 * referred to by name in the typed objects; load balancers and groups whose names clash get `#<uuid>` appended.
 * Column names: ovn-nb(5), OVN 23.03.
 * @module
 */
import { ovsdbInteger, ovsdbMap, ovsdbRows, ovsdbString, ovsdbStrings, type OvsdbDatabase, type OvsdbRow } from '../ovsdb.js';
import type { NbAcl, NbLoadBalancer, NbLogicalRouterPort, NbLogicalSwitchPort, NbQos, NorthboundDb } from './nb.js';
import { NorthdError } from './northd.js';

const nonEmpty = (o: Record<string, string>): Record<string, string> | undefined => (Object.keys(o).length ? { ...o } : undefined);

export function nbFromOvsdb(db: OvsdbDatabase): NorthboundDb {
  if (db.name !== 'OVN_Northbound') throw new NorthdError('NORTHD_NOT_NB', `expected an OVN_Northbound database, got ${db.name}`);
  const byUuid = (table: string): Map<string, OvsdbRow> => new Map(ovsdbRows(db, table).map((r) => [r._uuid, r]));
  const lsps = byUuid('Logical_Switch_Port');
  const acls = byUuid('ACL');
  const lbRows = ovsdbRows(db, 'Load_Balancer');
  const lbGroupRows = ovsdbRows(db, 'Load_Balancer_Group');
  const qosRows = byUuid('QoS');
  const intMap = (row: OvsdbRow, column: string): Record<string, number> => {
    const out: Record<string, number> = {};
    const v = row.columns.get(column);
    if (v instanceof Map) for (const [k, val] of v) if (typeof val === 'number') out[String(k)] = val;
    return out;
  };
  const healthChecks = byUuid('Load_Balancer_Health_Check');

  // LB names need not be unique in the NB; northd keys them by row, vippath by name, so clashing names get the
  // row's uuid appended.
  const nameCount = new Map<string, number>();
  for (const r of lbRows) nameCount.set(ovsdbString(r, 'name') ?? '', (nameCount.get(ovsdbString(r, 'name') ?? '') ?? 0) + 1);
  const lbName = new Map<string, string>();
  const loadBalancers: NbLoadBalancer[] = lbRows.map((r) => {
    const base = ovsdbString(r, 'name') ?? '';
    const name = nameCount.get(base)! > 1 ? `${base}#${r._uuid}` : base;
    lbName.set(r._uuid, name);
    const lb: NbLoadBalancer = { name, vips: { ...ovsdbMap(r, 'vips') }, uuid: r._uuid };
    const proto = ovsdbString(r, 'protocol');
    if (proto === 'tcp' || proto === 'udp' || proto === 'sctp') lb.protocol = proto;
    const sel = ovsdbStrings(r, 'selection_fields');
    if (sel.length) lb.selectionFields = sel;
    const options = nonEmpty(ovsdbMap(r, 'options'));
    if (options) lb.options = options;
    const ipm = nonEmpty(ovsdbMap(r, 'ip_port_mappings'));
    if (ipm) lb.ipPortMappings = ipm;
    const hcs = ovsdbStrings(r, 'health_check').flatMap((u) => {
      const h = healthChecks.get(u);
      return h ? [{ vip: ovsdbString(h, 'vip') ?? '', options: { ...ovsdbMap(h, 'options') } }] : [];
    });
    if (hcs.length) lb.healthChecks = hcs;
    const ext = nonEmpty(ovsdbMap(r, 'external_ids'));
    if (ext) lb.externalIds = ext;
    return lb;
  });

  const acl = (uuid: string): NbAcl | undefined => {
    const r = acls.get(uuid);
    if (!r) return undefined;
    const a: NbAcl = {
      direction: ovsdbString(r, 'direction') as NbAcl['direction'],
      priority: ovsdbInteger(r, 'priority') ?? 0,
      match: ovsdbString(r, 'match') ?? '',
      action: ovsdbString(r, 'action') as NbAcl['action'],
      log: r.columns.get('log') === true,
    };
    const name = ovsdbString(r, 'name');
    if (name !== undefined) a.name = name;
    const severity = ovsdbString(r, 'severity');
    if (severity !== undefined) a.severity = severity as NbAcl['severity'];
    const meter = ovsdbString(r, 'meter');
    if (meter !== undefined) a.meter = meter;
    const label = ovsdbInteger(r, 'label');
    if (label) a.label = label;
    const tier = ovsdbInteger(r, 'tier');
    if (tier) a.tier = tier;
    const options = nonEmpty(ovsdbMap(r, 'options'));
    if (options) a.options = options;
    return a;
  };

  const groupCount = new Map<string, number>();
  for (const g of lbGroupRows) groupCount.set(ovsdbString(g, 'name') ?? '', (groupCount.get(ovsdbString(g, 'name') ?? '') ?? 0) + 1);
  const groupName = new Map<string, string>();
  const loadBalancerGroups = lbGroupRows.map((g) => {
    const base = ovsdbString(g, 'name') ?? '';
    const name = groupCount.get(base)! > 1 ? `${base}#${g._uuid}` : base;
    groupName.set(g._uuid, name);
    return { name, loadBalancers: ovsdbStrings(g, 'load_balancer').map((u) => lbName.get(u)).filter((n): n is string => n !== undefined) };
  });

  const lspName = new Map<string, string>();
  const switches = ovsdbRows(db, 'Logical_Switch').map((r) => {
    const ports = ovsdbStrings(r, 'ports').flatMap((u): NbLogicalSwitchPort[] => {
      const p = lsps.get(u);
      if (!p) return [];
      const port: NbLogicalSwitchPort = { name: ovsdbString(p, 'name') ?? '', type: ovsdbString(p, 'type') ?? '', uuid: p._uuid };
      lspName.set(u, port.name);
      const addresses = ovsdbStrings(p, 'addresses');
      if (addresses.length) port.addresses = addresses;
      const ps = ovsdbStrings(p, 'port_security');
      if (ps.length) port.portSecurity = ps;
      const options = nonEmpty(ovsdbMap(p, 'options'));
      if (options) port.options = options;
      const pext = nonEmpty(ovsdbMap(p, 'external_ids'));
      if (pext) port.externalIds = pext;
      const tag = ovsdbInteger(p, 'tag') ?? ovsdbInteger(p, 'tag_request');
      if (tag !== undefined) port.tag = tag;
      const enabled = p.columns.get('enabled');
      const en = Array.isArray(enabled) ? enabled[0] : enabled;
      if (typeof en === 'boolean') port.enabled = en;
      const dyn = ovsdbString(p, 'dynamic_addresses');
      if (dyn !== undefined) port.dynamicAddresses = dyn;
      return [port];
    });
    const names = [...new Set(ovsdbStrings(r, 'load_balancer').map((u) => lbName.get(u)).filter((n): n is string => n !== undefined))];
    const groupNames = ovsdbStrings(r, 'load_balancer_group').map((u) => groupName.get(u)).filter((n): n is string => n !== undefined);
    const sw = {
      name: ovsdbString(r, 'name') ?? '',
      ports,
      loadBalancers: names,
      acls: ovsdbStrings(r, 'acls').map(acl).filter((a): a is NbAcl => a !== undefined),
      uuid: r._uuid,
    } as NorthboundDb['switches'][number];
    if (groupNames.length) sw.loadBalancerGroups = groupNames;
    const qos = ovsdbStrings(r, 'qos_rules').flatMap((u): NbQos[] => {
      const q = qosRows.get(u);
      if (!q) return [];
      const rule: NbQos = { direction: ovsdbString(q, 'direction') as NbQos['direction'], priority: ovsdbInteger(q, 'priority') ?? 0, match: ovsdbString(q, 'match') ?? '' };
      const act = intMap(q, 'action');
      if (act.dscp !== undefined) rule.action = { dscp: act.dscp };
      const bw = intMap(q, 'bandwidth');
      if (bw.rate !== undefined || bw.burst !== undefined) rule.bandwidth = { ...(bw.rate !== undefined ? { rate: bw.rate } : {}), ...(bw.burst !== undefined ? { burst: bw.burst } : {}) };
      return [rule];
    });
    if (qos.length) sw.qosRules = qos;
    const oc = nonEmpty(ovsdbMap(r, 'other_config'));
    if (oc) sw.otherConfig = oc;
    const ext = nonEmpty(ovsdbMap(r, 'external_ids'));
    if (ext) sw.externalIds = ext;
    return sw;
  });

  const portGroups = ovsdbRows(db, 'Port_Group').map((r) => ({
    name: ovsdbString(r, 'name') ?? '',
    ports: ovsdbStrings(r, 'ports').map((u) => lspName.get(u) ?? (lsps.get(u) ? ovsdbString(lsps.get(u)!, 'name') : undefined) ?? '').filter((n) => n !== ''),
    acls: ovsdbStrings(r, 'acls').map(acl).filter((a): a is NbAcl => a !== undefined),
  }));
  const addressSets = ovsdbRows(db, 'Address_Set').map((r) => ({ name: ovsdbString(r, 'name') ?? '', addresses: ovsdbStrings(r, 'addresses') }));
  const lrps = byUuid('Logical_Router_Port');
  const gwRows = byUuid('Gateway_Chassis');
  const natRows = byUuid('NAT');
  const routers = ovsdbRows(db, 'Logical_Router').map((r) => ({
    name: ovsdbString(r, 'name') ?? '',
    options: { ...ovsdbMap(r, 'options') },
    nat: ovsdbStrings(r, 'nat').flatMap((u) => {
      const n = natRows.get(u);
      return n ? [{ type: (ovsdbString(n, 'type') ?? 'snat') as 'snat', externalIp: ovsdbString(n, 'external_ip') ?? '', logicalIp: ovsdbString(n, 'logical_ip') ?? '' }] : [];
    }),
    loadBalancers: [...new Set(ovsdbStrings(r, 'load_balancer').map((u) => lbName.get(u)).filter((n): n is string => n !== undefined))],
    loadBalancerGroups: ovsdbStrings(r, 'load_balancer_group').map((u) => groupName.get(u)).filter((n): n is string => n !== undefined),
    ports: ovsdbStrings(r, 'ports').flatMap((u) => {
      const p = lrps.get(u);
      if (!p) return [];
      const port: NbLogicalRouterPort = { name: ovsdbString(p, 'name') ?? '', mac: ovsdbString(p, 'mac') ?? '', networks: ovsdbStrings(p, 'networks') };
      const gws = ovsdbStrings(p, 'gateway_chassis').map((g) => gwRows.get(g)).filter((g): g is OvsdbRow => g !== undefined).map((g) => ovsdbString(g, 'chassis_name') ?? '');
      if (gws.length) port.gatewayChassis = gws;
      const popts = nonEmpty(ovsdbMap(p, 'options'));
      if (popts) port.options = popts;
      const enabled = p.columns.get('enabled');
      const en = Array.isArray(enabled) ? enabled[0] : enabled;
      if (typeof en === 'boolean') port.enabled = en;
      return [port];
    }),
  }));
  const global = ovsdbRows(db, 'NB_Global')[0];
  return { switches, routers, loadBalancers, loadBalancerGroups, portGroups, addressSets, options: global ? { ...ovsdbMap(global, 'options') } : {} };
}
