/**
 * An OVN_Southbound database (as `ovsdb-client backup` writes it, read by {@link readOvsdbFile}) mapped to the
 * {@link SouthboundState} the interpreter runs on. Columns: ovn-sb(5), OVN 23.03. Logical flows shared by a
 * datapath group (`logical_dp_group`) are given to every datapath of the group; datapaths are named by
 * `external_ids:name` as ovn-trace names them.
 * @module
 */
import { ovsdbInteger, ovsdbMap, ovsdbRows, ovsdbString, ovsdbStrings, type OvsdbDatabase } from '../ovsdb.js';
import { LflowError } from './executor.js';
import type { FdbEntry, LogicalDatapath, LogicalFlow, MulticastGroup, PortBinding, SbLoadBalancer, SouthboundState } from './types.js';

export function sbFromOvsdb(db: OvsdbDatabase): SouthboundState {
  if (db.name !== 'OVN_Southbound') throw new LflowError('NOT_SOUTHBOUND', `expected an OVN_Southbound database, got ${db.name}`);
  const dpName = new Map<string, string>();
  const dpByKey = new Map<number, string>();
  const datapaths: LogicalDatapath[] = [];
  for (const row of ovsdbRows(db, 'Datapath_Binding')) {
    const ext = ovsdbMap(row, 'external_ids');
    const name = ext['name'] ?? row._uuid;
    const tunnelKey = ovsdbInteger(row, 'tunnel_key') ?? 0;
    dpName.set(row._uuid, name);
    dpByKey.set(tunnelKey, name);
    datapaths.push({ name, tunnelKey, options: { ...ext, ...ovsdbMap(row, 'other_config') } });
  }
  const groups = new Map<string, string[]>();
  for (const row of ovsdbRows(db, 'Logical_DP_Group')) groups.set(row._uuid, ovsdbStrings(row, 'datapaths').map((u) => dpName.get(u) ?? u));
  const flows = new Map<string, LogicalFlow[]>();
  for (const row of ovsdbRows(db, 'Logical_Flow')) {
    const ext = ovsdbMap(row, 'external_ids');
    const dp = ovsdbString(row, 'logical_datapath');
    const group = ovsdbString(row, 'logical_dp_group');
    const names = dp ? [dpName.get(dp) ?? dp] : group ? (groups.get(group) ?? []) : [];
    const flow: LogicalFlow = {
      pipeline: ovsdbString(row, 'pipeline') === 'egress' ? 'egress' : 'ingress',
      table: ovsdbInteger(row, 'table_id') ?? 0,
      stage: ext['stage-name'] ?? '',
      priority: ovsdbInteger(row, 'priority') ?? 0,
      match: ovsdbString(row, 'match') ?? '1',
      actions: ovsdbString(row, 'actions') ?? '',
      uuid: row._uuid,
      ...(ext['stage-hint'] ? { stageHint: ext['stage-hint'] } : {}),
      ...(ext['source'] ? { source: ext['source'] } : {}),
    };
    for (const n of names) {
      const list = flows.get(n) ?? [];
      list.push(flow);
      flows.set(n, list);
    }
  }
  const chassisName = new Map<string, string>();
  for (const row of ovsdbRows(db, 'Chassis')) chassisName.set(row._uuid, ovsdbString(row, 'name') ?? row._uuid);
  const pbName = new Map<string, string>();
  const portBindings: PortBinding[] = [];
  for (const row of ovsdbRows(db, 'Port_Binding')) {
    const name = ovsdbString(row, 'logical_port') ?? row._uuid;
    pbName.set(row._uuid, name);
    const chassis = ovsdbString(row, 'chassis');
    const tag = ovsdbInteger(row, 'tag');
    portBindings.push({
      logicalPort: name,
      type: ovsdbString(row, 'type') ?? '',
      mac: ovsdbStrings(row, 'mac'),
      portSecurity: ovsdbStrings(row, 'port_security'),
      tunnelKey: ovsdbInteger(row, 'tunnel_key') ?? 0,
      ...(chassis ? { chassis: chassisName.get(chassis) ?? chassis } : {}),
      options: ovsdbMap(row, 'options'),
      ...(tag !== undefined ? { tag } : {}),
      datapath: dpName.get(ovsdbString(row, 'datapath') ?? '') ?? '',
    });
  }
  const multicastGroups: MulticastGroup[] = ovsdbRows(db, 'Multicast_Group').map((row) => ({
    name: ovsdbString(row, 'name') ?? '',
    datapath: dpName.get(ovsdbString(row, 'datapath') ?? '') ?? '',
    tunnelKey: ovsdbInteger(row, 'tunnel_key') ?? 0,
    ports: ovsdbStrings(row, 'ports').map((u) => pbName.get(u) ?? u),
  }));
  const loadBalancers: SbLoadBalancer[] = ovsdbRows(db, 'Load_Balancer').map((row) => {
    const proto = ovsdbString(row, 'protocol');
    const dps = ovsdbStrings(row, 'datapaths').map((u) => dpName.get(u) ?? u);
    const group = ovsdbString(row, 'datapath_group');
    if (group) dps.push(...(groups.get(group) ?? []));
    return {
      name: ovsdbString(row, 'name') ?? '',
      ...(proto === 'tcp' || proto === 'udp' || proto === 'sctp' ? { protocol: proto } : {}),
      vips: ovsdbMap(row, 'vips'),
      options: ovsdbMap(row, 'options'),
      datapaths: dps,
    };
  });
  const portsByKey = new Map<string, string>();
  for (const pb of portBindings) portsByKey.set(`${pb.datapath}/${pb.tunnelKey}`, pb.logicalPort);
  const fdb: FdbEntry[] = ovsdbRows(db, 'FDB').map((row) => {
    const datapath = dpByKey.get(ovsdbInteger(row, 'dp_key') ?? -1) ?? '';
    return { mac: ovsdbString(row, 'mac') ?? '', datapath, port: portsByKey.get(`${datapath}/${ovsdbInteger(row, 'port_key')}`) ?? '' };
  });
  const addressSets = new Map<string, string[]>();
  for (const row of ovsdbRows(db, 'Address_Set')) addressSets.set(ovsdbString(row, 'name') ?? '', ovsdbStrings(row, 'addresses'));
  const portGroups = new Map<string, string[]>();
  for (const row of ovsdbRows(db, 'Port_Group')) portGroups.set(ovsdbString(row, 'name') ?? '', ovsdbStrings(row, 'ports'));
  const options: Record<string, string> = {};
  for (const row of ovsdbRows(db, 'SB_Global')) Object.assign(options, ovsdbMap(row, 'options'));
  return { datapaths, flows, portBindings, multicastGroups, loadBalancers, fdb, options, addressSets, portGroups };
}
