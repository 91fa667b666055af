/**
 * The data that OVN's logical pipeline runs on, as the Southbound database holds it: Logical_Flow rows and the
 * rows that executing them needs (Port_Binding, Multicast_Group, Load_Balancer, FDB, options). Whatever produced
 * them — vippath's northd, a real ovn-northd, `ovn-sbctl lflow-list` text or an `ovsdb-client backup` file of
 * OVN_Southbound — the interpreter takes this shape and nothing else.
 * Column meanings: ovn-sb(5), OVN 23.03.
 * @module
 */

/** Which half of a logical datapath's pipeline a flow belongs to. */
export type Pipeline = 'ingress' | 'egress';

/** One Logical_Flow row (ovn-sb(5) `Logical_Flow`). */
export interface LogicalFlow {
  pipeline: Pipeline;
  /** `table_id`: the stage's number in this OVN version. */
  table: number;
  /** `external_ids:stage-name`, e.g. `ls_in_lb`. Stages are keyed by name across versions. */
  stage: string;
  priority: number;
  /** The match in OVN's match language, exactly as northd wrote it. */
  match: string;
  /** The actions, exactly as northd wrote them (ending in `;`). */
  actions: string;
  /** The row's uuid where known (lflow-list prints its first 32 bits with `--uuid`). */
  uuid?: string;
  /** `external_ids:stage-hint` (the NB row's uuid prefix) where northd set one. */
  stageHint?: string;
  /** `external_ids:source` (`northd.c:NNNN`) where northd set one. */
  source?: string;
}

/** One Port_Binding row, reduced to the columns the switch pipeline and the physical translation read. */
export interface PortBinding {
  logicalPort: string;
  /** `""` for a VIF, else `localnet`, `router`, `localport`, `external`, `virtual`, `l2gateway`, … */
  type: string;
  /** `mac` column: "MAC [IP…]" entries, or `unknown`, `router`, `dynamic`. */
  mac: string[];
  /** `port_security` column, same syntax as `mac`. */
  portSecurity: string[];
  tunnelKey: number;
  /** The chassis name it is bound to (VIFs), if any. */
  chassis?: string;
  /** `options` (e.g. `network_name` for localnet, `requested-chassis`). */
  options: Record<string, string>;
  /** The localnet port's VLAN tag. */
  tag?: number;
  /** The datapath (logical switch) name it belongs to. */
  datapath: string;
}

/** One Multicast_Group row (`_MC_flood`, `_MC_unknown`, `_MC_mrouter_flood`, …). */
export interface MulticastGroup {
  name: string;
  datapath: string;
  tunnelKey: number;
  ports: string[];
}

/** One Southbound Load_Balancer row (read by `chk_lb_hairpin*` and `ct_snat_to_vip`). */
export interface SbLoadBalancer {
  name: string;
  protocol?: 'tcp' | 'udp' | 'sctp';
  /** "VIP[:PORT]" → "BACKEND[:PORT],…", as in the NB. */
  vips: Record<string, string>;
  options: Record<string, string>;
  datapaths: string[];
}

/** One FDB row (MACs learned on ports with `addresses=unknown`). */
export interface FdbEntry {
  mac: string;
  datapath: string;
  port: string;
}

/** A logical switch's datapath as the pipeline runs it. */
export interface LogicalDatapath {
  name: string;
  tunnelKey: number;
  /** The Datapath_Binding row's uuid where known (lflow-list prints it in each header). */
  uuid?: string;
  /** `external_ids` / `other_config` that matter (e.g. `other_config:vlan-passthru`). */
  options?: Record<string, string>;
}

/** Everything the interpreter needs: one logical switch's flows plus the rows they refer to. */
export interface SouthboundState {
  datapaths: LogicalDatapath[];
  /** Keyed by datapath name. */
  flows: Map<string, LogicalFlow[]>;
  portBindings: PortBinding[];
  multicastGroups: MulticastGroup[];
  loadBalancers: SbLoadBalancer[];
  fdb: FdbEntry[];
  /** SB_Global/NB_Global options that change execution: `svc_monitor_mac`, `use_ct_inv_match`, … */
  options: Record<string, string>;
  /** Address_Set name → addresses (matches use `$name`). */
  addressSets: Map<string, string[]>;
  /** Port_Group name → port names (matches use `@name`). */
  portGroups: Map<string, string[]>;
}
