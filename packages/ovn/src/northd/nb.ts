/**
 * The OVN_Northbound rows northd reads to build a logical switch's flows, as typed objects. Only the columns
 * that change a switch's Logical_Flow rows (or the Southbound rows the interpreter needs) are here; column
 * meanings: ovn-nb(5), OVN 23.03. Maps are plain records, sets are arrays, optional scalars are optional fields.
 * @module
 */
import { VippathError } from '@vippath/wire';

/** `Logical_Switch_Port`. */
export interface NbLogicalSwitchPort {
  name: string;
  /** `""` (VIF), `localnet`, `router`, `localport`, `external`, `virtual`, `vtep`, `l2gateway`. */
  type?: string;
  /** Entries such as `"MAC IP IP6"`, `unknown`, `router`, `dynamic`. */
  addresses?: string[];
  /** Entries such as `"MAC IP/plen"` (read by check_in_port_sec/check_out_port_sec, and by FDB learning). */
  portSecurity?: string[];
  /** `options` (`network_name`, `router-port`, `localnet_learn_fdb`, `virtual-ip`, …). */
  options?: Record<string, string>;
  /** The localnet port's VLAN tag (`tag_request` for localnet). */
  tag?: number;
  /** `enabled`: absent means enabled. */
  enabled?: boolean;
  /** `dynamic_addresses` ("MAC [IP]") when `addresses` holds `dynamic`. */
  dynamicAddresses?: string;
  /** `external_ids` (Kube-OVN's `ipv4_network`/`ipv6_network` on localnet ports). */
  externalIds?: Record<string, string>;
  /** Row uuid where known (only printed where northd prints it). */
  uuid?: string;
}

/** `ACL` (on a Logical_Switch or a Port_Group). */
export interface NbAcl {
  direction: 'from-lport' | 'to-lport';
  /** 0…32767. */
  priority: number;
  match: string;
  /** `pass` exists from OVN 23.06 on (with tiers); northd 23.03 rejects it. */
  action: 'allow' | 'allow-related' | 'allow-stateless' | 'drop' | 'reject' | 'pass';
  /** `tier` 0…3 (OVN ≥ 23.06; Kube-OVN writes 2 for NetworkPolicy ACLs). 23.03 has no such column. */
  tier?: number;
  log?: boolean;
  name?: string;
  severity?: 'alert' | 'warning' | 'notice' | 'info' | 'debug';
  meter?: string;
  /** `label` (0 = none). */
  label?: number;
  /** `options` (`apply-after-lb`, `log-related`). */
  options?: Record<string, string>;
  externalIds?: Record<string, string>;
}

/** `Load_Balancer`. */
export interface NbLoadBalancer {
  name: string;
  /** Absent means tcp. */
  protocol?: 'tcp' | 'udp' | 'sctp';
  /** `"VIP[:PORT]"` (IPv6 `"[VIP]:PORT"`) → `"BACKEND[:PORT],…"` exactly as written (northd copies it). */
  vips: Record<string, string>;
  /** `ip_src`, `ip_dst`, `ipv6_src`, `ipv6_dst`, `tp_src`, `tp_dst`, `eth_src`, `eth_dst`. */
  selectionFields?: string[];
  /** `options`: `affinity_timeout`, `hairpin_snat_ip`, `skip_snat`, `reject`, `event`, `prefer_local_backend`, … */
  options?: Record<string, string>;
  /** `ip_port_mappings`: backend IP (`[IP]` for IPv6) → `"LSP:SRC_IP"` (health-check source, or Kube-OVN's
   * prefer-local port mapping). */
  ipPortMappings?: Record<string, string>;
  /** `health_check` rows (`Load_Balancer_Health_Check`): `vip` is the VIP key exactly as in `vips`. */
  healthChecks?: Array<{ vip: string; options?: Record<string, string> }>;
  externalIds?: Record<string, string>;
  /** Row uuid: printed in the `trigger_event` action of `options:event=true` VIPs without backends. */
  uuid?: string;
}

/** `QoS` (on a Logical_Switch). */
export interface NbQos {
  direction: 'from-lport' | 'to-lport';
  /** 0…32767. */
  priority: number;
  match: string;
  /** `action`: `dscp` → 0…63. */
  action?: { dscp?: number };
  /** `bandwidth`: `rate` (kbps) and `burst` (kb). */
  bandwidth?: { rate?: number; burst?: number };
}

/** `Load_Balancer_Group`. */
export interface NbLoadBalancerGroup {
  name: string;
  /** Load_Balancer names. */
  loadBalancers: string[];
}

/** `Logical_Switch`. */
export interface NbLogicalSwitch {
  name: string;
  ports: NbLogicalSwitchPort[];
  /** Names of Load_Balancer rows attached to the switch. */
  loadBalancers?: string[];
  /** Names of Load_Balancer_Group rows attached to the switch (their load balancers count as attached). */
  loadBalancerGroups?: string[];
  qosRules?: NbQos[];
  acls?: NbAcl[];
  /** `other_config` (`vlan-passthru`, `mcast_snoop`, …). */
  otherConfig?: Record<string, string>;
  externalIds?: Record<string, string>;
  uuid?: string;
}

/** `Port_Group`: its ACLs apply on every switch holding one of its ports. */
export interface NbPortGroup {
  name: string;
  /** Logical_Switch_Port names. */
  ports: string[];
  acls?: NbAcl[];
}

/** `Address_Set`. */
export interface NbAddressSet {
  name: string;
  addresses: string[];
}

/** `Logical_Router_Port`: the peer of a switch port of type `router` (`options:router-port`). */
export interface NbLogicalRouterPort {
  name: string;
  mac: string;
  /** `"IP/plen"` entries. */
  networks: string[];
  /** `enabled`: absent means enabled. */
  enabled?: boolean;
  /** Chassis names of its `gateway_chassis` rows: a distributed gateway port (northd adds `cr-<name>`). */
  gatewayChassis?: string[];
  /** `options` (`reside-on-redirect-chassis`). */
  options?: Record<string, string>;
}

/** `Logical_Router`, as far as its ports shape the switches' flows (gateway ports, NAT and router load balancers
 * are not modelled). */
export interface NbLogicalRouter {
  name: string;
  ports: NbLogicalRouterPort[];
  /** `options` (`mcast_relay`). */
  options?: Record<string, string>;
  /** `nat` rows (external MACs are not modelled): a non-snat external IP makes the switch send ARP/NS for it to
   * the router port. */
  nat?: Array<{ type: 'snat' | 'dnat' | 'dnat_and_snat'; externalIp: string; logicalIp: string }>;
  /** Load_Balancer / Load_Balancer_Group names on the router: their VIPs inside a router port's networks make
   * the switch send ARP/NS for them to the router port (build_lswitch_rport_arp_req_flows). */
  loadBalancers?: string[];
  loadBalancerGroups?: string[];
}

/** The Northbound database as far as a switch's flows depend on it. */
export interface NorthboundDb {
  switches: NbLogicalSwitch[];
  routers?: NbLogicalRouter[];
  loadBalancerGroups?: NbLoadBalancerGroup[];
  loadBalancers?: NbLoadBalancer[];
  portGroups?: NbPortGroup[];
  addressSets?: NbAddressSet[];
  /** `NB_Global.options`: `use_ct_inv_match`, `svc_monitor_mac`, `default_acl_drop`, `ignore_lsp_down`, Kube-OVN's
   * `ls_dnat_mod_dl_dst`, `ls_ct_skip_dst_lport_ips`, … */
  options?: Record<string, string>;
}

/** A Northbound description that does not have the shape of these types (JSON from a user); `path` names the
 * offending member. */
export class NbShapeError extends VippathError {
  constructor(readonly path: string, message: string) {
    super('NB_SHAPE', `${path}: ${message}`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks that `value` (parsed JSON) has the shape of a NorthboundDb, column by column, and returns it typed; the
 * first mismatch is reported with its path (`switches[0].ports[2].addresses`). The enumerations and ranges are the
 * OVN_Northbound schema's (ovn-nb.ovsschema 23.03).
 */
export function checkNorthbound(value: unknown): NorthboundDb {
  const str = (v: unknown, p: string, optional = false): void => {
    if (v === undefined && optional) return;
    if (typeof v !== 'string') throw new NbShapeError(p, 'expected a string');
  };
  const int = (v: unknown, p: string, min: number, max: number, optional = false): void => {
    if (v === undefined && optional) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new NbShapeError(p, `expected an integer in ${min}…${max}`);
  };
  const strs = (v: unknown, p: string): void => {
    if (v === undefined) return;
    if (!Array.isArray(v)) throw new NbShapeError(p, 'expected an array of strings');
    v.forEach((x, i) => str(x, `${p}[${i}]`));
  };
  const smap = (v: unknown, p: string): void => {
    if (v === undefined) return;
    if (!isObj(v)) throw new NbShapeError(p, 'expected an object of strings');
    for (const [k, x] of Object.entries(v)) str(x, `${p}.${k}`);
  };
  const arr = (v: unknown, p: string, each: (x: Record<string, unknown>, q: string) => void): void => {
    if (v === undefined) return;
    if (!Array.isArray(v)) throw new NbShapeError(p, 'expected an array');
    v.forEach((x, i) => {
      if (!isObj(x)) throw new NbShapeError(`${p}[${i}]`, 'expected an object');
      each(x, `${p}[${i}]`);
    });
  };
  const oneOf = (v: unknown, p: string, values: string[], optional = false): void => {
    if (v === undefined && optional) return;
    if (typeof v !== 'string' || !values.includes(v)) throw new NbShapeError(p, `expected one of ${values.join(', ')}`);
  };
  const acl = (a: Record<string, unknown>, p: string): void => {
    oneOf(a.direction, `${p}.direction`, ['from-lport', 'to-lport']);
    int(a.priority, `${p}.priority`, 0, 32767);
    str(a.match, `${p}.match`);
    oneOf(a.action, `${p}.action`, ['allow', 'allow-related', 'allow-stateless', 'drop', 'reject', 'pass']);
    int(a.tier, `${p}.tier`, 0, 3, true);
    if (a.log !== undefined && typeof a.log !== 'boolean') throw new NbShapeError(`${p}.log`, 'expected a boolean');
    str(a.name, `${p}.name`, true);
    oneOf(a.severity, `${p}.severity`, ['alert', 'warning', 'notice', 'info', 'debug'], true);
    str(a.meter, `${p}.meter`, true);
    int(a.label, `${p}.label`, 0, 4294967295, true);
    smap(a.options, `${p}.options`);
  };
  if (!isObj(value)) throw new NbShapeError('(root)', 'expected an object');
  if (!Array.isArray(value.switches)) throw new NbShapeError('switches', 'expected an array');
  arr(value.switches, 'switches', (ls, p) => {
    str(ls.name, `${p}.name`);
    if (!Array.isArray(ls.ports)) throw new NbShapeError(`${p}.ports`, 'expected an array');
    arr(ls.ports, `${p}.ports`, (lsp, q) => {
      str(lsp.name, `${q}.name`);
      str(lsp.type, `${q}.type`, true);
      strs(lsp.addresses, `${q}.addresses`);
      strs(lsp.portSecurity, `${q}.portSecurity`);
      smap(lsp.options, `${q}.options`);
      smap(lsp.externalIds, `${q}.externalIds`);
      int(lsp.tag, `${q}.tag`, 0, 4095, true);
      if (lsp.enabled !== undefined && typeof lsp.enabled !== 'boolean') throw new NbShapeError(`${q}.enabled`, 'expected a boolean');
    });
    strs(ls.loadBalancers, `${p}.loadBalancers`);
    strs(ls.loadBalancerGroups, `${p}.loadBalancerGroups`);
    arr(ls.acls, `${p}.acls`, acl);
    arr(ls.qosRules, `${p}.qosRules`, (q, r) => {
      oneOf(q.direction, `${r}.direction`, ['from-lport', 'to-lport']);
      int(q.priority, `${r}.priority`, 0, 32767);
      str(q.match, `${r}.match`);
    });
    smap(ls.otherConfig, `${p}.otherConfig`);
  });
  arr(value.loadBalancers, 'loadBalancers', (lb, p) => {
    str(lb.name, `${p}.name`);
    oneOf(lb.protocol, `${p}.protocol`, ['tcp', 'udp', 'sctp'], true);
    if (!isObj(lb.vips)) throw new NbShapeError(`${p}.vips`, 'expected an object of strings');
    smap(lb.vips, `${p}.vips`);
    strs(lb.selectionFields, `${p}.selectionFields`);
    smap(lb.options, `${p}.options`);
    smap(lb.ipPortMappings, `${p}.ipPortMappings`);
    smap(lb.externalIds, `${p}.externalIds`);
    arr(lb.healthChecks, `${p}.healthChecks`, (h, q) => {
      str(h.vip, `${q}.vip`);
      smap(h.options, `${q}.options`);
    });
  });
  arr(value.loadBalancerGroups, 'loadBalancerGroups', (g, p) => {
    str(g.name, `${p}.name`);
    strs(g.loadBalancers ?? [], `${p}.loadBalancers`);
  });
  arr(value.routers, 'routers', (lr, p) => {
    str(lr.name, `${p}.name`);
    smap(lr.options, `${p}.options`);
    arr(lr.ports, `${p}.ports`, (lrp, q) => {
      str(lrp.name, `${q}.name`);
      str(lrp.mac, `${q}.mac`);
      strs(lrp.networks ?? [], `${q}.networks`);
    });
  });
  arr(value.portGroups, 'portGroups', (pg, p) => {
    str(pg.name, `${p}.name`);
    strs(pg.ports ?? [], `${p}.ports`);
    arr(pg.acls, `${p}.acls`, acl);
  });
  arr(value.addressSets, 'addressSets', (as, p) => {
    str(as.name, `${p}.name`);
    strs(as.addresses ?? [], `${p}.addresses`);
  });
  smap(value.options, 'options');
  return value as unknown as NorthboundDb;
}
