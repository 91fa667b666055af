/**
 * The OVN_Northbound rows northd reads to build a logical switch's flows, as typed objects. Only the columns
 * that change a switch's Logical_Flow rows (or the Southbound rows the interpreter needs) are here; column
 * meanings: ovn-nb(5), OVN 23.03. Maps are plain records, sets are arrays, optional scalars are optional fields.
 * @module
 */

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
  action: 'allow' | 'allow-related' | 'allow-stateless' | 'drop' | 'reject';
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
}

/** `Logical_Router`, as far as its ports shape the switches' flows (gateway ports, NAT and router load balancers
 * are not modelled). */
export interface NbLogicalRouter {
  name: string;
  ports: NbLogicalRouterPort[];
  /** `options` (`mcast_relay`). */
  options?: Record<string, string>;
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
