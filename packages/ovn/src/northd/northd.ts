/**
 * vippath's ovn-northd for logical switches: from a Northbound description, the Logical_Flow rows of each switch
 * exactly as ovn-northd writes them (same stage, table, priority, match and action strings), plus the Southbound rows
 * the interpreter needs. Three OVN versions, chosen by `ovnVersion` (default 23.03; PROFILE_OVN_VERSION maps a
 * profile to the release its images carry):
 * - 23.03 — ovn-org/ovn `northd/northd.c` v23.03.1, the version Debian ships; test/ovn-northd.test.ts diffs every
 *   flow against the real northd.
 * - 24.03 — ovn-org/ovn ef8f5c1ac (branch-24.03, v24.03.7-43), the commit Kube-OVN release-1.14 builds its image
 *   from (`dist/images/Dockerfile.base`); flows in `northd/northd.c` there.
 * - 25.03 — ovn-org/ovn cbb88276a (branch-25.03, v25.03.3-42), the head Kube-OVN release-1.15 clones.
 * Those forms were read from the source, each difference marked in the code with `[24.03]`/`[25.03]` and the
 * function it comes from (northd.c at the commits above unless another file is named); northd.test.ts checks them
 * against the source's strings, and test/ovn-northd-real.test.ts against the real programs: ovn-northd built from
 * those commits, plain and with each Kube-OVN release's patch series (test/fixtures/northd-real/build.sh), whose
 * `lflow-list` for ≥ 300 generated NBs per variant (ports bound to chassis) vippath must reproduce line for line.
 * Differences that only touch columns `lflow-list` does not print (25.03's `flow_desc` drop descriptions,
 * `tags:acl_ct_translation`) are not modelled.
 * Not modelled (any version): the routers' own flows, DHCP/DNS options, NAT external MACs, meters and COPP,
 * learned IGMP groups, external/vtep ports, OVN's dynamic addressing, arp_proxy, ACL sampling (Sample rows),
 * persist-established ACL ids; of 25.03's chassis-redirect switch ports (centralized routing) only their switch's
 * flows (port security, unicast and ARP/NS lookup), not their Port_Binding rows.
 * @module
 */
import { VippathError } from '@vippath/wire';
import type { LogicalFlow, MulticastGroup, PortBinding, SbLoadBalancer, SouthboundState } from '../lflow/types.js';
import { extractLrpNetworks, extractLspAddresses, lrpReaches, scanMac, formatIp4, formatIp6, parseIp4, parseIp6, parseLbKey, solicitedNode, type LbAddr, type LspAddresses } from './addr.js';
import type { NbAcl, NbLoadBalancer, NbLogicalRouterPort, NbLogicalSwitch, NbLogicalSwitchPort, NorthboundDb } from './nb.js';
import { stageOf, type OvnVersion } from './stages.js';
import { nodeLocalDnsIps, skipConntrackCidrs } from './overlays.js';

/** A Northbound description northd cannot turn into flows (unknown LB name, duplicate names…). */
export class NorthdError extends VippathError {}

/** Kube-OVN's northd patches applied on top of upstream flows (see overlays.ts). `upstream` = Debian's 23.03. */
export type NorthdProfile = 'upstream' | 'kube-ovn-1.14' | 'kube-ovn-1.15';

export interface NorthdOptions {
  profile?: NorthdProfile;
  /**
   * The OVN release whose flows to write. Default 23.03 — the version the differential tests (and the testbed's real
   * OVN) run; {@link PROFILE_OVN_VERSION} gives the release a profile's images carry (what `vippath ovn lflows
   * --profile` prints and what `LogicalSwitch` runs by default). The executor runs every release's flows; 25.03's
   * SB options carry `register_consolidation=true`, as its northd writes them (where learned affinity loads).
   */
  ovnVersion?: OvnVersion;
  /** Where each logical port is bound (Port_Binding.chassis): LSP name → chassis name. Ports not listed count as
   * bound where their `options:requested-chassis` says (Kube-OVN sets it on every pod port, and ovn-controller
   * binds the port there). Only Kube-OVN's prefer-local overlay reads it (upstream northd writes no chassis into
   * flows). */
  chassis?: Record<string, string>;
}

/** The result: SouthboundState plus datapath uuids where the caller supplied them. */
export type NorthdState = SouthboundState;

/** The OVN release each profile's images carry: Debian's 23.03; Kube-OVN release-1.14 builds ovn-org/ovn ef8f5c1ac
 * (branch-24.03), release-1.15 clones branch-25.03 (kubeovn/kube-ovn `dist/images/Dockerfile.base`). */
export const PROFILE_OVN_VERSION: Readonly<Record<NorthdProfile, OvnVersion>> = {
  upstream: '23.03', 'kube-ovn-1.14': '24.03', 'kube-ovn-1.15': '25.03',
};
const UINT16_MAX = 65535;
/** northd.c OVN_ACL_PRI_OFFSET. */
const ACL_PRI_OFFSET = 1000;
/** Multicast group tunnel keys, lib/mcast-group-index.h (OVN_MCAST_FLOOD_TUNNEL_KEY = 32768 …). */
const MC_FLOOD_KEY = 32768;
const MC_UNKNOWN_KEY = 32769;
const MC_MROUTER_FLOOD_KEY = 32770;
const MC_STATIC_KEY = 32771;
const MC_FLOOD_L2_KEY = 32772;

const boolOpt = (o: Record<string, string> | undefined, k: string, def: boolean): boolean => {
  const v = o?.[k];
  if (v === undefined) return def;
  // smap_get_bool: "true" is true, "false" is false, anything else is the default.
  return v === 'true' ? true : v === 'false' ? false : def;
};

/** A JSON string as northd's `json_key` prints a port name (`"name"`). */
const jsonKey = (name: string): string => JSON.stringify(name);

interface Vip {
  vip: LbAddr;
  /** The NB backend string, copied verbatim into `ct_lb_mark(backends=…)`. */
  backendIps: string;
  backends: LbAddr[];
  /** A Load_Balancer_Health_Check names this VIP (never for SCTP). */
  healthCheck: boolean;
  /** Per backend: the ip_port_mappings port and normalised source IP (northd.c ovn_lb_svc_create). */
  monitors: Array<{ lsp: string; srcIp?: string } | undefined>;
}

interface Lb {
  nb: NbLoadBalancer;
  proto: 'tcp' | 'udp' | 'sctp';
  vips: Vip[];
  selectionFields?: string;
  affinityTimeout: number;
}

/** lib/lb.c ovn_northd_lb_create + ovn_lb_vip_init_explicit: a VIP with any unparsable backend is skipped whole. */
function buildLb(nb: NbLoadBalancer): Lb {
  const proto = nb.protocol === 'udp' ? 'udp' : nb.protocol === 'sctp' ? 'sctp' : 'tcp';
  const vips: Vip[] = [];
  for (const [key, value] of Object.entries(nb.vips)) {
    const vip = parseLbKey(key);
    if (!vip) continue;
    const backends: LbAddr[] = [];
    let bad = false;
    for (const tok of value.split(',')) {
      if (tok === '') continue;
      const b = parseLbKey(tok);
      if (!b || b.family !== vip.family || (vip.port !== 0) !== (b.port !== 0)) {
        bad = true;
        continue;
      }
      backends.push(b);
    }
    if (bad) continue;
    const healthCheck = proto !== 'sctp' && (nb.healthChecks ?? []).some((h) => h.vip === key);
    const monitors = backends.map((b) => {
      const m = nb.ipPortMappings?.[vip.family === 4 ? b.ip : `[${b.ip}]`];
      if (m === undefined) return undefined;
      const colon = m.indexOf(':');
      if (colon < 0) return undefined;
      // inet_parse_address: an address, bracketed or not; printed back without brackets.
      const src = parseLbKey(m.slice(colon + 1).replace(/^\[(.*)\]$/, '$1'));
      return { lsp: m.slice(0, colon), ...(src && src.port === 0 ? { srcIp: src.ip } : {}) };
    });
    vips.push({ vip, backendIps: value, backends, healthCheck, monitors });
  }
  let selectionFields: string | undefined;
  if (nb.selectionFields?.length) {
    const p = nb.protocol ? nb.protocol : undefined;
    selectionFields = nb.selectionFields.map((f) => (f === 'tp_src' && p ? `${p}_src` : f === 'tp_dst' && p ? `${p}_dst` : f)).join(',');
  }
  const t = Number(nb.options?.affinity_timeout ?? 0);
  const affinityTimeout = Number.isFinite(t) && t > 0 ? Math.min(Math.floor(t), UINT16_MAX) : 0;
  return { nb, proto, vips, selectionFields, affinityTimeout };
}

/** Per router port: what [24.03] build_lswitch_rport_arp_req_flows_for_lbnats and
 * build_lswitch_icmp_packet_toobig_admin_flows read of its router. */
interface LrpInfo {
  /** options:chassis set (od->is_gw_router). */
  gwRouter: boolean;
  /** SNAT-only external IPs (not a router IP, not an LB VIP), as written. */
  snatIps: string[];
  /** Every parsed LB VIP of the router, and those [24.03] counts as reachable (neighbor_responder ≠ none). */
  ips: string[];
  reachable: string[];
  /** Valid non-snat NAT external IPs, as written. */
  dnatIps: string[];
  /** How many distributed gateway ports the router has (od->n_l3dgw_ports). */
  nL3dgw: number;
}

interface Port {
  nb: NbLogicalSwitchPort;
  /** The peer router port of a `router` port (options:router-port naming an existing LRP). */
  peer?: NbLogicalRouterPort;
  /** The peer is a distributed gateway port (gateway_chassis on a router without options:chassis). */
  peerIsL3dgw?: boolean;
  /** The peer's router has options:mcast_relay=true. */
  peerRelay?: boolean;
  /** The cr- port whose residence guards traffic to the router MAC (build_lswitch_ip_unicast_lookup), if any. */
  peerResidentCr?: string;
  /** [25.03] This router port's own chassis-redirect port `cr-<name>` (join_logical_ports,
   * peer_needs_cr_port_creation: the peer is its router's only distributed gateway port and this switch has no
   * localnet port — routing centralized on the gateway chassis). */
  crLsp?: string;
  /** What the 24.03/25.03 switch flows read of the peer's router (gateway router, SNAT IPs, reachable VIPs). */
  peerRouter?: LrpInfo;
  /** The peer router's NAT external IPs (non-snat, valid, not an LB VIP), printed as written. */
  peerNatIps?: string[];
  /** The peer router's load-balancer VIPs (od->lb_ips), in the order northd's sset would not keep — order is
   * irrelevant, flows are sorted. */
  peerLbIps?: string[];
  type: string;
  enabled: boolean;
  addrs: LspAddresses[];
  nPs: number;
  hasUnknown: boolean;
}

/** join_logical_ports: addresses, port security, and for a `router` port its peer and (with address `router`) the
 * peer's networks appended to its addresses. */
function buildPort(nb: NbLogicalSwitchPort, lrps: Map<string, NbLogicalRouterPort>, relayLrps: Set<string>, lrpLbIps: Map<string, string[]>, lrpResidentCr: Map<string, string>, lrpNatIps: Map<string, string[]>, routerInfo: Map<string, LrpInfo>): Port {
  const addrs: LspAddresses[] = [];
  let hasUnknown = false;
  for (const a of nb.addresses ?? []) {
    if (a === 'unknown') { hasUnknown = true; continue; }
    if (a === 'router' || a.startsWith('dynamic')) continue;
    const parsed = extractLspAddresses(a);
    if (parsed) addrs.push(parsed);
  }
  const nPs = (nb.portSecurity ?? []).filter((p) => extractLspAddresses(p) !== undefined).length;
  const port: Port = { nb, type: nb.type ?? '', enabled: nb.enabled !== false, addrs, nPs, hasUnknown };
  const peer = port.type === 'router' ? lrps.get(nb.options?.['router-port'] ?? '') : undefined;
  if (peer) {
    port.peer = peer;
    port.peerRelay = relayLrps.has(peer.name);
    port.peerLbIps = lrpLbIps.get(peer.name) ?? [];
    port.peerNatIps = lrpNatIps.get(peer.name) ?? [];
    const cr = lrpResidentCr.get(peer.name);
    if (cr !== undefined) port.peerResidentCr = cr;
    if (cr === `cr-${peer.name}`) port.peerIsL3dgw = true;
    const info = routerInfo.get(peer.name);
    if (info) port.peerRouter = info;
    if ((nb.addresses ?? []).includes('router')) {
      const net = extractLrpNetworks(peer.mac, peer.networks);
      if (net) addrs.push({ mac: net.mac, ipv4: net.ipv4, ipv6: net.ipv6 });
    }
  }
  return port;
}

/**
 * Kube-OVN's `version_compatibility` (NB_Global options; its chart sets it while a cluster upgrades from an older
 * release, e.g. `24.03` from 1.13+): the flows an older ovn-controller cannot run are written as that release
 * wrote them. release-1.14's 53d96149 and release-1.15's e76880e7 ("northd: add nb option version_compatibility"):
 * `sscanf(s, "%2d.%2d", &major, &minor)`; with both read, compatible_X_Y = major < X || (major == X && minor <= Y)
 * for 21.06, 22.03 and 22.12 (1.14) or 22.03, 22.12 and 24.03 (1.15); anything else leaves them all false. Upstream
 * OVN has no such option.
 */
export interface VersionCompat {
  c21_06: boolean;
  c22_03: boolean;
  c22_12: boolean;
  c24_03: boolean;
}

const NO_COMPAT: VersionCompat = { c21_06: false, c22_03: false, c22_12: false, c24_03: false };

/** `%2d` of C's scanf at `s[i]`: leading white space, a sign, digits — at most two characters after the space. */
function scan2d(s: string, i: number): { value: number; next: number } | undefined {
  while (i < s.length && /\s/.test(s[i]!)) i++;
  let j = i;
  let sign = 1;
  if (s[j] === '+' || s[j] === '-') {
    if (s[j] === '-') sign = -1;
    j++;
  }
  const digitsEnd = Math.min(i + 2, s.length);
  let k = j;
  while (k < digitsEnd && s[k]! >= '0' && s[k]! <= '9') k++;
  if (k === j) return undefined;
  return { value: sign * Number(s.slice(j, k)), next: k };
}

/** The compatibility flags a Kube-OVN-patched northd derives from `options:version_compatibility`. */
export function versionCompat(profile: NorthdProfile, value: string | undefined): VersionCompat {
  if (profile === 'upstream' || value === undefined) return NO_COMPAT;
  const major = scan2d(value, 0);
  if (!major || value[major.next] !== '.') return NO_COMPAT;
  const minor = scan2d(value, major.next + 1);
  if (!minor) return NO_COMPAT;
  const upTo = (x: number, y: number): boolean => major.value < x || (major.value === x && minor.value <= y);
  return profile === 'kube-ovn-1.14'
    ? { c21_06: upTo(21, 6), c22_03: upTo(22, 3), c22_12: upTo(22, 12), c24_03: false }
    : { c21_06: false, c22_03: upTo(22, 3), c22_12: upTo(22, 12), c24_03: upTo(24, 3) };
}

/** Collects flows the way ovn_lflow_add does: one row per (stage, priority, match, actions). */
class FlowSet {
  readonly flows: LogicalFlow[] = [];
  private readonly seen = new Set<string>();
  /** 24.03 or later / 25.03 or later: the version tests the builders make. */
  readonly v24: boolean;
  readonly v25: boolean;
  constructor(readonly version: OvnVersion, readonly compat: VersionCompat = NO_COMPAT) {
    this.v24 = version !== '23.03';
    this.v25 = version === '25.03';
  }
  /** The table number of `stage` in this version (for `next(pipeline=…,table=N)` texts). */
  table(stage: string): number {
    const def = stageOf(this.version, stage);
    if (!def) throw new NorthdError('NORTHD_STAGE', `no stage ${stage} in OVN ${this.version}`);
    return def.table;
  }
  add(stage: string, priority: number, match: string, actions: string): void {
    const def = stageOf(this.version, stage);
    if (!def) throw new NorthdError('NORTHD_STAGE', `no stage ${stage} in OVN ${this.version}`);
    const key = `${stage}\u0000${priority}\u0000${match}\u0000${actions}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.flows.push({ pipeline: def.pipeline, table: def.table, stage, priority, match, actions });
  }
}

interface Ctx {
  opts: Record<string, string>;
  profile: NorthdProfile;
  version: OvnVersion;
  chassis: Record<string, string>;
  /** Every switch port by name (northd's ls_ports). */
  allPorts: Map<string, Port>;
  /** The ports of the switch being built, and whether it has both router and localnet ports. */
  switchPorts: Port[];
  switchHasRouterAndLocalnet: boolean;
  /** NB_Global options:svc_monitor_mac normalised; when unset northd picks a random one and writes it back to the
   * NB, so vippath uses a fixed stand-in (read the written-back value from the NB to match a real run). */
  svcMonitorMac: string;
  useCtInvMatch: boolean;
  defaultAclDrop: boolean;
  checkLspIsUp: boolean;
}

/** Builds the Southbound state for every switch of `nb`. */
export function northd(nb: NorthboundDb, opts: NorthdOptions = {}): NorthdState {
  const nbOpts = nb.options ?? {};
  const lrps = new Map<string, NbLogicalRouterPort>();
  const relayLrps = new Set<string>();
  const lrpLbIps = new Map<string, string[]>();
  const lrpResidentCr = new Map<string, string>();
  const lrpNatIps = new Map<string, string[]>();
  const routerInfo = new Map<string, LrpInfo>();
  const lbByName = new Map((nb.loadBalancers ?? []).map((l) => [l.name, l]));
  const groupByName = new Map((nb.loadBalancerGroups ?? []).map((g) => [g.name, g]));
  for (const lr of nb.routers ?? []) {
    // build_lrouter_lb_ips: every parsed VIP of the router's load balancers, directly or through groups.
    const names = [...(lr.loadBalancers ?? []), ...(lr.loadBalancerGroups ?? []).flatMap((g) => groupByName.get(g)?.loadBalancers ?? [])];
    const ips = new Set<string>();
    // [24.03] en-lr-stateful.c add_neigh_ips_to_lrouter: VIPs of LBs with options:neighbor_responder=none are not
    // "reachable", and only reachable VIPs get ARP/NS forwarding.
    const reachable = new Set<string>();
    for (const n of names) {
      const l = lbByName.get(n);
      if (!l) throw new NorthdError('NORTHD_NO_LB', `router ${lr.name} refers to load balancer ${n}, which does not exist`);
      for (const v of buildLb(l).vips) {
        ips.add(v.vip.ip);
        if (l.options?.neighbor_responder !== 'none') reachable.add(v.vip.ip);
      }
    }
    // Distributed gateway ports (gateway_chassis set, not on an L3 gateway router with options:chassis).
    const l3dgw = lr.options?.chassis ? [] : lr.ports.filter((p) => (p.gatewayChassis ?? []).length > 0);
    // build_lswitch_rport_arp_req_flows over od->nat_entries: valid (one address) non-snat entries whose external
    // IP is not one of the router's LB VIPs (compared as written).
    const natIps: string[] = [];
    const dnatIps: string[] = [];
    for (const n of lr.nat ?? []) {
      if (n.type === 'snat') continue;
      const toks = n.externalIp.trim().split(/\s+/);
      if (toks.length !== 1) continue;
      const [ip] = toks[0]!.split('/');
      const isV4 = parseIp4(ip!) !== undefined;
      if (!isV4 && !parseIp6(ip!)) continue;
      dnatIps.push(n.externalIp);
      if (!ips.has(n.externalIp)) natIps.push(n.externalIp);
    }
    // [24.03] SNAT external IPs get ARP/NS forwarding too (lrnat_rec->snat_ips: IPs with a plain snat entry whose
    // first entry is not a router IP), unless an LB VIP has the IP ([25.03] a reachable VIP).
    const routerIps = new Set(lr.ports.flatMap((p) => p.networks.map((n) => n.split('/')[0]!)));
    const snatIps: string[] = [];
    for (const n of lr.nat ?? []) {
      if (n.type !== 'snat' || snatIps.includes(n.externalIp)) continue;
      const toks = n.externalIp.trim().split(/\s+/);
      if (toks.length !== 1) continue;
      const ip = toks[0]!.split('/')[0]!;
      if (parseIp4(ip) === undefined && !parseIp6(ip)) continue;
      if (routerIps.has(ip)) continue;
      snatIps.push(n.externalIp);
    }
    const info: LrpInfo = { gwRouter: !!lr.options?.chassis, snatIps, dnatIps, ips: [...ips], reachable: [...reachable], nL3dgw: l3dgw.length };
    for (const p of lr.ports) {
      routerInfo.set(p.name, info);
      lrps.set(p.name, p);
      lrpLbIps.set(p.name, [...ips]);
      lrpNatIps.set(p.name, natIps);
      if (l3dgw.length) {
        if (l3dgw.includes(p)) lrpResidentCr.set(p.name, `cr-${p.name}`);
        else if (boolOpt(p.options, 'reside-on-redirect-chassis', false) && l3dgw.length === 1) lrpResidentCr.set(p.name, `cr-${l3dgw[0]!.name}`);
      }
      if (boolOpt(lr.options, 'mcast_relay', false)) relayLrps.add(p.name);
    }
  }
  const allPorts = new Map<string, Port>();
  for (const ls of nb.switches) {
    for (const p of ls.ports) {
      // northd keys ports by name across all datapaths (ovn_port_find); a duplicate is skipped there with a warning.
      if (allPorts.has(p.name)) throw new NorthdError('NORTHD_DUPLICATE', `two logical switch ports named ${p.name}`);
      allPorts.set(p.name, buildPort(p, lrps, relayLrps, lrpLbIps, lrpResidentCr, lrpNatIps, routerInfo));
    }
  }
  const ctx: Ctx = {
    opts: nbOpts,
    profile: opts.profile ?? 'upstream',
    version: opts.ovnVersion ?? '23.03',
    chassis: { ...requestedChassis(nb), ...(opts.chassis ?? {}) },
    allPorts,
    switchPorts: [],
    switchHasRouterAndLocalnet: false,
    svcMonitorMac: (nbOpts.svc_monitor_mac !== undefined ? scanMacStrict(nbOpts.svc_monitor_mac) : undefined) ?? '0a:00:00:00:00:01',
    useCtInvMatch: boolOpt(nbOpts, 'use_ct_inv_match', true),
    defaultAclDrop: boolOpt(nbOpts, 'default_acl_drop', false),
    checkLspIsUp: !boolOpt(nbOpts, 'ignore_lsp_down', true),
  };
  const lbsByName = new Map<string, NbLoadBalancer>();
  for (const lb of nb.loadBalancers ?? []) lbsByName.set(lb.name, lb);
  const names = new Set<string>();
  for (const ls of nb.switches) {
    if (names.has(ls.name)) throw new NorthdError('NORTHD_DUPLICATE', `two logical switches named ${ls.name}`);
    names.add(ls.name);
  }
  const state: NorthdState = {
    datapaths: [],
    flows: new Map(),
    portBindings: [],
    multicastGroups: [],
    loadBalancers: [],
    fdb: [],
    // [25.03] en-global-config.c cbb88276a update_sb_config_options_to_sbrec: "register_consolidation" = "true"
    // tells ovn-controller the flows use the consolidated LB registers (where commit_lb_aff's learned flow loads).
    options: { ...nbOpts, ...(opts.ovnVersion === '25.03' ? { register_consolidation: 'true' } : {}) },
    addressSets: new Map((nb.addressSets ?? []).map((a) => [a.name, [...a.addresses]])),
    portGroups: new Map((nb.portGroups ?? []).map((p) => [p.name, [...p.ports]])),
  };
  const groups = new Map((nb.loadBalancerGroups ?? []).map((g) => [g.name, g]));
  nb.switches.forEach((ls, i) => {
    const names = [...(ls.loadBalancers ?? [])];
    for (const gn of ls.loadBalancerGroups ?? []) {
      const g = groups.get(gn);
      if (!g) throw new NorthdError('NORTHD_NO_LB_GROUP', `switch ${ls.name} refers to load balancer group ${gn}, which does not exist`);
      names.push(...g.loadBalancers);
    }
    // An LB attached directly and through a group is one association (lb->nb_ls_map is a bitmap).
    const lbs = [...new Set(names)].map((n) => {
      const l = lbsByName.get(n);
      if (!l) throw new NorthdError('NORTHD_NO_LB', `switch ${ls.name} refers to load balancer ${n}, which does not exist`);
      return l;
    });
    // Datapath tunnel keys: northd allocates them from 1 in its own (hash) order; vippath numbers switches in NB
    // order, which matches northd for a single switch.
    state.datapaths.push({ name: ls.name, tunnelKey: i + 1, ...(ls.otherConfig ? { options: { ...ls.otherConfig } } : {}) });
    const flows = switchFlows(ls, lbs, nb, ctx);
    state.flows.set(ls.name, flows);
    const ports = ls.ports.map((p) => allPorts.get(p.name)!);
    // Port tunnel keys: a fresh switch's ports get 1, 2, … in the order join_logical_ports meets them, which is the
    // order of the Logical_Switch.ports set — sorted by row uuid (seen against ovn-northd 23.03). Without uuids
    // (typed NB from code) NB order stands in. A switch that grew over time keeps older keys; not modelled.
    const keyOrder = ports.every((p) => p.nb.uuid !== undefined) ? [...ports].sort((a, b) => (a.nb.uuid! < b.nb.uuid! ? -1 : a.nb.uuid! > b.nb.uuid! ? 1 : 0)) : ports;
    const keyOf = new Map(keyOrder.map((p, j) => [p, j + 1]));
    for (const p of ports) state.portBindings.push(portBinding(p, ls.name, keyOf.get(p)!, ctx.chassis[p.nb.name]));
    state.multicastGroups.push(...multicastGroups(ls.name, ports));
    for (const l of lbs) {
      const sb = state.loadBalancers.find((x) => x.name === l.name);
      if (sb) sb.datapaths.push(ls.name);
      else state.loadBalancers.push(sbLoadBalancer(l, ls.name));
    }
  });
  return state;
}

/** LSP name → options:requested-chassis, for every port that has one. */
function requestedChassis(nb: NorthboundDb): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ls of nb.switches) for (const p of ls.ports) {
    const c = p.options?.['requested-chassis'];
    if (c) out[p.name] = c;
  }
  return out;
}

function portBinding(p: Port, datapath: string, tunnelKey: number, chassis: string | undefined): PortBinding {
  const pb: PortBinding = {
    logicalPort: p.nb.name,
    // A switch's router port is a `patch` binding in the SB (northd.c ovn_port_update_sbrec).
    type: p.type === 'router' ? 'patch' : p.type,
    mac: [...(p.nb.addresses ?? [])],
    portSecurity: [...(p.nb.portSecurity ?? [])],
    tunnelKey,
    options: { ...(p.nb.options ?? {}) },
    datapath,
  };
  if (p.nb.tag !== undefined) pb.tag = p.nb.tag;
  if (chassis !== undefined) pb.chassis = chassis;
  return pb;
}

/** `_MC_flood` holds every enabled port; `_MC_unknown` the enabled ports with `unknown` (northd.c
 * build_lswitch_ip_unicast_lookup / ovn_multicast_add). */
function multicastGroups(datapath: string, ports: Port[]): MulticastGroup[] {
  const out: MulticastGroup[] = [{ name: '_MC_flood', datapath, tunnelKey: MC_FLOOD_KEY, ports: ports.filter((p) => p.enabled).map((p) => p.nb.name) }];
  const unknown = ports.filter((p) => p.enabled && p.hasUnknown).map((p) => p.nb.name);
  if (unknown.length) out.push({ name: '_MC_unknown', datapath, tunnelKey: MC_UNKNOWN_KEY, ports: unknown });
  const l2 = ports.filter((p) => p.enabled && p.type !== 'router').map((p) => p.nb.name);
  if (l2.length) out.push({ name: '_MC_flood_l2', datapath, tunnelKey: MC_FLOOD_L2_KEY, ports: l2 });
  // northd.c build_mcast_groups: relay-router ports and mcast_flood_reports ports; mcast_flood ports.
  const floodRelay = ports.some((p) => p.peerRelay);
  const mrouter = ports.filter((p) => p.enabled && ((floodRelay && p.peerRelay) || boolOpt(p.nb.options, 'mcast_flood_reports', false))).map((p) => p.nb.name);
  if (mrouter.length) out.push({ name: '_MC_mrouter_flood', datapath, tunnelKey: MC_MROUTER_FLOOD_KEY, ports: mrouter });
  const stat = ports.filter((p) => p.enabled && boolOpt(p.nb.options, 'mcast_flood', false)).map((p) => p.nb.name);
  if (stat.length) out.push({ name: '_MC_static', datapath, tunnelKey: MC_STATIC_KEY, ports: stat });
  return out;
}

function sbLoadBalancer(l: NbLoadBalancer, datapath: string): SbLoadBalancer {
  // northd always tells ovn-controller that the VIP is in the registers ls_in_lb wrote, so its hairpin flows match
  // them rather than the ct_* original tuple (northd.c branch-23.03 sync_lbs: smap_replace "hairpin_orig_tuple";
  // test/fixtures/ovsdb/sb-backup.db, written by real ovn-northd 23.03, has it on every row).
  const sb: SbLoadBalancer = { name: l.name, vips: { ...l.vips }, options: { ...(l.options ?? {}), hairpin_orig_tuple: 'true' }, datapaths: [datapath] };
  sb.protocol = l.protocol ?? 'tcp';
  return sb;
}

/** The flows of one switch, following northd.c's build_lswitch_* order (order does not matter: lflow-list sorts). */
function switchFlows(ls: NbLogicalSwitch, nbLbs: NbLoadBalancer[], nb: NorthboundDb, ctx: Ctx): LogicalFlow[] {
  const f = new FlowSet(ctx.version, versionCompat(ctx.profile, ctx.opts.version_compatibility));
  const ports = ls.ports.map((p) => ctx.allPorts.get(p.name)!);
  // od->router_ports: router-type ports whose peer LRP exists.
  const routerPorts = ports.filter((p) => p.peer !== undefined);
  ctx.switchPorts = ports;
  ctx.switchHasRouterAndLocalnet = routerPorts.length > 0 && ports.some((p) => p.type === 'localnet');
  const portNames = new Set(ports.map((p) => p.nb.name));
  const lbs = nbLbs.map(buildLb);
  // ls_has_lb_vip: any attached LB whose NB vips column is non-empty, parsable or not.
  const hasLbVip = nbLbs.some((l) => Object.keys(l.vips).length > 0);
  // ACLs of the switch, then of every port group holding one of its ports (build_port_group_lswitches).
  const pgAcls: NbAcl[] = [];
  for (const pg of nb.portGroups ?? []) {
    if (pg.ports.some((p) => portNames.has(p))) pgAcls.push(...(pg.acls ?? []));
  }
  const allAcls = [...(ls.acls ?? []), ...pgAcls];
  const hasAcls = allAcls.length > 0;
  const hasStatefulAcl = allAcls.some((a) => a.action === 'allow-related');
  const vlanTransparent = boolOpt(ls.otherConfig, 'vlan-passthru', false);
  // od->has_unknown: 23.03 build_lswitch_ip_unicast_lookup sets it for enabled ports only; [24.03] join_logical_ports
  // sets it for any port with "unknown" (ovn-org/ovn 7e0617f79 "northd: Refactor the logic related to "unknown"
  // mc_group"), so a switch whose only such port is disabled sends to the (then empty) _MC_unknown.
  const hasUnknown = ports.some((p) => (f.v24 || p.enabled) && p.hasUnknown);

  if (!f.v24 && allAcls.some((a) => a.tier || a.action === 'pass')) {
    throw new NorthdError('NORTHD_ACL_TIER', 'ACL tiers and the pass action need OVN 23.06 or later (ovnVersion 24.03/25.03)');
  }
  const hasLocalnet = ports.some((p) => p.type === 'localnet');

  // build_lswitch_lflows_admission_control.
  // [24.03] a recirculated ICMP "packet too big" from a tunnel is dropped (flags.tunnel_rx); same text in 25.03,
  // where the drops gain a flow_desc lflow-list does not print.
  // Kube-OVN's version_compatibility ≤ 22.12 leaves the too-big drop out; ≤ 22.03 the port security check (the
  // action check_in_port_sec() came with 22.06).
  if (f.v24 && !f.compat.c22_12) f.add('ls_in_check_port_sec', 105, ICMP_TOO_BIG_TUNNEL, 'drop;');
  if (!vlanTransparent) f.add('ls_in_check_port_sec', 100, 'vlan.present', 'drop;');
  f.add('ls_in_check_port_sec', 100, 'eth.src[40]', 'drop;');
  f.add('ls_in_check_port_sec', 50, '1', f.compat.c22_03 ? 'next;' : 'reg0[15] = check_in_port_sec(); next;');
  f.add('ls_in_apply_port_sec', 50, 'reg0[15] == 1', 'drop;');
  f.add('ls_in_apply_port_sec', 0, '1', 'next;');

  // build_lswitch_learn_fdb_od.
  f.add('ls_in_lookup_fdb', 0, '1', 'next;');
  f.add('ls_in_put_fdb', 0, '1', 'next;');
  // [25.03] the egress FDB stages (for remote ports) get their defaults.
  if (f.v25) {
    f.add('ls_out_lookup_fdb', 0, '1', 'next;');
    f.add('ls_out_put_fdb', 0, '1', 'next;');
  }

  // build_lswitch_output_port_sec_od.
  f.add('ls_out_check_port_sec', 100, 'eth.mcast', 'reg0[15] = 0; next;');
  f.add('ls_out_check_port_sec', 0, '1', f.compat.c22_03 ? 'next;' : 'reg0[15] = check_out_port_sec(); next;');
  f.add('ls_out_apply_port_sec', 50, 'reg0[15] == 1', 'drop;');
  f.add('ls_out_apply_port_sec', 0, '1', 'output;');

  // build_lswitch_lflows_pre_acl_and_acl (23.03); [24.03] split into it and build_ls_stateful_flows — same flows.
  buildPreAcls(f, ports, routerPorts, allAcls, hasStatefulAcl, hasLbVip, ctx);
  buildPreLb(f, ports, routerPorts, hasLbVip, hasStatefulAcl);
  if (hasLbVip && ctx.profile !== 'upstream') kubeOvnPreLbSkips(f, ctx, ports, routerPorts.length);
  buildPreStateful(f);
  buildAclHints(f, hasAcls, hasStatefulAcl, hasLbVip);
  if (f.v24) buildAclsEvalAction(f, ctx, allAcls, hasAcls, hasStatefulAcl || hasLbVip, hasLbVip);
  else buildAcls(f, ctx, allAcls, hasAcls, hasStatefulAcl || hasLbVip, hasLbVip);
  buildQos(f, ls);
  buildStateful(f);
  buildLbHairpin(f, hasLbVip, ctx.profile);

  // build_lb_affinity_default_flows ([24.03] build_lswitch_lb_affinity_default_flows, same flows).
  f.add('ls_in_lb_aff_check', 0, '1', 'next;');
  f.add('ls_in_lb_aff_learn', 0, '1', 'next;');

  // build_lswitch_arp_nd_responder_default, build_lswitch_dhcp_and_dns_defaults.
  f.add('ls_in_arp_rsp', 0, '1', 'next;');
  for (const s of ['ls_in_dhcp_options', 'ls_in_dhcp_response', 'ls_in_dns_lookup', 'ls_in_dns_response', 'ls_in_external_port']) f.add(s, 0, '1', 'next;');

  // build_lswitch_destination_lookup_bmcast (no learned IGMP groups: those come from ovn-controller).
  f.add('ls_in_l2_lkup', 110, 'eth.dst == $svc_monitor_mac && (tcp || icmp || icmp6)', 'handle_svc_check(inport);');
  const floodRelay = ports.some((p) => p.peerRelay);
  const floodStatic = ports.some((p) => p.enabled && boolOpt(p.nb.options, 'mcast_flood', false));
  if (boolOpt(ls.otherConfig, 'mcast_snoop', false)) {
    f.add('ls_in_l2_lkup', 100, 'igmp', 'igmp;');
    f.add('ls_in_l2_lkup', 100, 'mldv1 || mldv2', 'igmp;');
    f.add('ls_in_l2_lkup', 85, 'ip4.mcast && ip4.dst == 224.0.0.0/24', 'outport = "_MC_flood_l2"; output;');
    f.add('ls_in_l2_lkup', 85, 'ip6.mcast_flood', 'outport = "_MC_flood"; output;');
    // [25.03] the same 80 flow moved to build_mcast_flood_lswitch.
    if (!boolOpt(ls.otherConfig, 'mcast_flood_unregistered', false)) {
      let actions = '';
      if (floodRelay) actions += 'clone { outport = "_MC_mrouter_flood"; output; }; ';
      if (floodStatic) actions += 'outport ="_MC_static"; output;';
      if (!floodRelay && !floodStatic) actions += 'drop;';
      f.add('ls_in_l2_lkup', 80, 'ip4.mcast || ip6.mcast', actions);
    }
  }
  if (!f.v24) {
    f.add('ls_in_l2_lkup', 70, 'eth.mcast', 'outport = "_MC_flood"; output;');
  } else {
    // [24.03] build_lswitch_destination_lookup_bmcast: ARP/IP multicast floods everywhere (71), other L2
    // multicast skips the router ports (70 → _MC_flood_l2); other_config:broadcast-arps-to-all-routers=false keeps
    // ARP requests and NS off the routers (72).
    if (!boolOpt(ls.otherConfig, 'broadcast-arps-to-all-routers', true)) {
      f.add('ls_in_l2_lkup', 72, 'eth.mcast && (arp.op == 1 || nd_ns)', 'outport = "_MC_flood_l2"; output;');
    }
    if (!f.v25) {
      f.add('ls_in_l2_lkup', 71, 'eth.mcast && (arp || ip)', 'outport = "_MC_flood"; output;');
    } else {
      // [25.03] NA/RS/RA and ARP flood to routers too; IP multicast only to relay routers and mcast_flood ports.
      f.add('ls_in_l2_lkup', 72, 'eth.mcast && (nd_na || nd_rs || nd_ra)', 'outport = "_MC_flood"; output;');
      f.add('ls_in_l2_lkup', 71, 'eth.mcast && arp', 'outport = "_MC_flood"; output;');
      let actions = '';
      if (floodRelay) actions += 'clone { outport = "_MC_mrouter_flood"; output; }; ';
      if (floodStatic) actions += 'clone { outport = "_MC_static"; output; }; ';
      f.add('ls_in_l2_lkup', 71, 'eth.mcast && ip', `${actions}outport = "_MC_flood_l2"; output;`);
    }
    f.add('ls_in_l2_lkup', 70, 'eth.mcast', 'outport = "_MC_flood_l2"; output;');
  }

  // build_lswitch_flows ([24.03] build_lswitch_learn_fdb_od and build_lswitch_lflows_l2_unknown, same flows).
  f.add('ls_in_l2_lkup', 0, '1', 'outport = get_fdb(eth.dst); next;');
  f.add('ls_in_l2_unknown', 50, 'outport == "none"', hasUnknown ? 'outport = "_MC_unknown"; output;' : 'drop;');
  // Kube-OVN 5593e614 (1.14) / e889d469 (1.15) "fix reaching resubmit limit in underlay", in
  // build_lswitch_lflows_l2_unknown: with NB_Global options:bcast_arp_req_flood=false a broadcast ARP request on a
  // switch with unknown ports is not flooded but looked up (and so goes to _MC_unknown); see kubeOvnArpForward.
  const bcastArpFlood = ctx.profile === 'upstream' || boolOpt(ctx.opts, 'bcast_arp_req_flood', true);
  if (!bcastArpFlood && hasUnknown) f.add('ls_in_l2_lkup', 90, 'eth.bcast && arp.op == 1', 'next;');
  f.add('ls_in_l2_unknown', 0, '1', 'output;');

  for (const p of ports) {
    if (f.v25 && p.peerIsL3dgw && p.peerRouter?.nL3dgw === 1 && !hasLocalnet) p.crLsp = `cr-${p.nb.name}`;
    buildPortSecOp(f, p);
    buildLearnFdbOp(f, p);
    if (p.type === 'localnet') {
      // build_lswitch_arp_nd_responder_skip_local (arp_proxy ports, which [24.03] exempts, are not modelled);
      // [25.03] gone: build_lswitch_from_localnet_op marks the packet instead and the responder checks residence.
      if (!f.v25) f.add('ls_in_arp_rsp', 100, `inport == ${jsonKey(p.nb.name)}`, 'next;');
      else f.add('ls_in_lookup_fdb', 50, `inport == ${jsonKey(p.nb.name)}`, 'flags.localnet = 1; next;');
    }
    buildArpNdResponderKnownIps(f, p, ctx, vlanTransparent, portNames, hasLocalnet);
    if (f.v24) buildIcmpTooBigAdminFlows(f, p);
    if (p.peer) buildRportArpReqFlows(f, p, p.peer, routerPorts.length !== ports.length);
    buildUnicastLookup(f, p, hasLocalnet, hasUnknown);
    if (ctx.profile !== 'upstream') {
      kubeOvnDnatModDlDst(f, ctx, p, routerPorts.length);
      kubeOvnModDlSrc(f, p, routerPorts, hasLocalnet);
      if (!bcastArpFlood && !vlanTransparent) kubeOvnArpForward(f, p, ports);
    }
  }

  for (const lb of lbs) buildLswitchFlowsForLb(f, lb, ctx);
  buildServiceMonitorResponders(f, ctx, (nb.loadBalancers ?? []).map(buildLb), portNames);

  return f.flows;
}

/** [24.03] The ICMP "fragmentation needed" / "packet too big" that ovn-controller recirculates from a tunnel
 * (build_lswitch_lflows_admission_control, build_ls_stateful_rec_pre_acls). */
const ICMP_TOO_BIG_TUNNEL = '((ip4 && icmp4.type == 3 && icmp4.code == 4) || (ip6 && icmp6.type == 2 && icmp6.code == 0)) && flags.tunnel_rx == 1';

/** northd.c skip_port_from_conntrack. */
function skipPortFromConntrack(f: FlowSet, p: Port, inStage: string, outStage: string, priority: number, hasStatefulAcl: boolean): void {
  const k = jsonKey(p.nb.name);
  f.add(inStage, priority, `ip && inport == ${k}`, 'next;');
  f.add(outStage, priority, `ip && outport == ${k}`, hasStatefulAcl ? 'next;' : 'ct_clear; next;');
}

/** northd.c build_stateless_filters: allow-stateless ACLs set reg0[16] in pre_acl. */
function buildStatelessFilters(f: FlowSet, acls: NbAcl[]): void {
  for (const a of acls) {
    if (a.action !== 'allow-stateless') continue;
    f.add(a.direction === 'from-lport' ? 'ls_in_pre_acl' : 'ls_out_pre_acl', a.priority + ACL_PRI_OFFSET, a.match, 'reg0[16] = 1; next;');
  }
}

/** northd.c build_pre_acls ([24.03] + build_ls_stateful_rec_pre_acls). */
function buildPreAcls(f: FlowSet, ports: Port[], routerPorts: Port[], acls: NbAcl[], hasStatefulAcl: boolean, hasLbVip: boolean, ctx: Ctx): void {
  f.add('ls_in_pre_acl', 0, '1', 'next;');
  f.add('ls_out_pre_acl', 0, '1', 'next;');
  f.add('ls_in_pre_acl', 110, 'eth.dst == $svc_monitor_mac', 'next;');
  f.add('ls_out_pre_acl', 110, 'eth.src == $svc_monitor_mac', 'next;');
  if (hasStatefulAcl) {
    for (const p of routerPorts) {
      // [24.03] build_ls_stateful_rec_pre_acls: options:enable_router_port_acl on the peer of a distributed gateway
      // port sends its traffic through the ACLs (join_logical_ports sets the flag only for such peers).
      if (f.v24 && p.peerIsL3dgw && boolOpt(p.nb.options, 'enable_router_port_acl', false)) continue;
      skipPortFromConntrack(f, p, 'ls_in_pre_acl', 'ls_out_pre_acl', 110, hasStatefulAcl);
    }
    for (const p of ports) if (p.type === 'localnet') skipPortFromConntrack(f, p, 'ls_in_pre_acl', 'ls_out_pre_acl', 110, hasStatefulAcl);
    buildStatelessFilters(f, acls);
    const ndDhcp6 = 'nd || nd_rs || nd_ra || mldv1 || mldv2 || (udp && udp.src == 546 && udp.dst == 547)';
    f.add('ls_in_pre_acl', 110, ndDhcp6, 'next;');
    f.add('ls_out_pre_acl', 110, ndDhcp6, 'next;');
    // [25.03] NB_Global options:acl_ct_translation=true sends multicast through conntrack too.
    if (!(f.v25 && boolOpt(ctx.opts, 'acl_ct_translation', false))) {
      f.add('ls_in_pre_acl', 110, 'eth.mcast', 'next;');
      f.add('ls_out_pre_acl', 110, 'eth.mcast', 'next;');
    }
    // Kube-OVN e7d3ba53 ("skip node local dns ip conntrack when set acl", release-1.14 and 1.15, applied on the
    // 24.03/25.03 bases): node_local_dns_ip bypasses conntrack in both pre_acl stages.
    if (ctx.profile !== 'upstream') {
      const dns = nodeLocalDnsIps(ctx.opts.node_local_dns_ip);
      for (const ip of dns.v4) for (const st of ['ls_in_pre_acl', 'ls_out_pre_acl']) f.add(st, 110, `ip4 && ip4.dst == ${ip}`, 'next;');
      for (const ip of dns.v6) for (const st of ['ls_in_pre_acl', 'ls_out_pre_acl']) f.add(st, 110, `ip6 && ip6.dst == ${ip}`, 'next;');
    }
    // [24.03] build_ls_stateful_rec_pre_acls: ICMP too-big from a tunnel skips conntrack (ingress only).
    if (f.v24) f.add('ls_in_pre_acl', 110, ICMP_TOO_BIG_TUNNEL, 'next;');
    f.add('ls_in_pre_acl', 100, 'ip', 'reg0[0] = 1; next;');
    f.add('ls_out_pre_acl', 100, 'ip', 'reg0[0] = 1; next;');
  } else if (hasLbVip) {
    buildStatelessFilters(f, acls);
  }
}

/** northd.c build_pre_lb. */
function buildPreLb(f: FlowSet, ports: Port[], routerPorts: Port[], hasLbVip: boolean, hasStatefulAcl: boolean): void {
  f.add('ls_in_pre_lb', 110, 'eth.mcast', 'next;');
  f.add('ls_out_pre_lb', 110, 'eth.mcast', 'next;');
  f.add('ls_in_pre_lb', 110, 'nd || nd_rs || nd_ra || mldv1 || mldv2', 'next;');
  f.add('ls_out_pre_lb', 110, 'nd || nd_rs || nd_ra || mldv1 || mldv2', 'next;');
  // [24.03] build_pre_lb: the same ICMP too-big bypass, written without a space after "||".
  if (f.v24) f.add('ls_in_pre_lb', 110, '((ip4 && icmp4.type == 3 && icmp4.code == 4) ||(ip6 && icmp6.type == 2 && icmp6.code == 0)) && flags.tunnel_rx == 1', 'next;');
  f.add('ls_in_pre_lb', 110, 'eth.dst == $svc_monitor_mac', 'next;');
  f.add('ls_out_pre_lb', 110, 'eth.src == $svc_monitor_mac', 'next;');
  f.add('ls_in_pre_lb', 0, '1', 'next;');
  f.add('ls_out_pre_lb', 0, '1', 'next;');
  for (const p of routerPorts) skipPortFromConntrack(f, p, 'ls_in_pre_lb', 'ls_out_pre_lb', 110, hasStatefulAcl);
  if (!hasLbVip) {
    for (const p of ports) if (p.type === 'localnet') skipPortFromConntrack(f, p, 'ls_in_pre_lb', 'ls_out_pre_lb', 110, hasStatefulAcl);
  }
  f.add('ls_in_pre_lb', 110, 'reg0[16] == 1', 'next;');
  f.add('ls_out_pre_lb', 110, 'reg0[16] == 1', 'next;');
  if (hasLbVip) {
    f.add('ls_in_pre_lb', 100, 'ip', 'reg0[2] = 1; next;');
    f.add('ls_out_pre_lb', 100, 'ip', 'reg0[2] = 1; next;');
  }
}

/** northd.c build_pre_stateful (chassis features assumed: ct_no_masked_label, so `ct_lb_mark`). */
function buildPreStateful(f: FlowSet): void {
  f.add('ls_in_pre_stateful', 0, '1', 'next;');
  f.add('ls_out_pre_stateful', 0, '1', 'next;');
  f.add('ls_in_pre_stateful', 110, 'reg0[2] == 1', 'ct_lb_mark;');
  f.add('ls_out_pre_stateful', 110, 'reg0[2] == 1', 'ct_lb_mark;');
  // [24.03] build_pre_stateful: a fragment sets REGBIT_IP_FRAG (reg0[19]), ip.is_frag being lost in recirculation.
  if (f.v24) f.add('ls_in_pre_stateful', 115, 'reg0[2] == 1 && ip.is_frag', 'reg0[19] = 1; ct_lb_mark;');
  f.add('ls_in_pre_stateful', 100, 'reg0[0] == 1', 'ct_next;');
  f.add('ls_out_pre_stateful', 100, 'reg0[0] == 1', 'ct_next;');
}

/** northd.c build_acl_hints. */
function buildAclHints(f: FlowSet, hasAcls: boolean, hasStatefulAcl: boolean, hasLbVip: boolean): void {
  for (const stage of ['ls_in_acl_hint', 'ls_out_acl_hint']) {
    if (!hasAcls && !hasLbVip) f.add(stage, UINT16_MAX, '1', 'next;');
    else f.add(stage, 0, '1', 'next;');
    if (!hasStatefulAcl && !hasLbVip) continue;
    // [24.03] build_acl_hints: the hint stage also sets REGBIT_CONNTRACK_COMMIT for new and re-allowed
    // connections (the allow ACLs no longer do).
    const commit = f.v24 ? 'reg0[1] = 1; ' : '';
    f.add(stage, 7, 'ct.new && !ct.est', `reg0[7] = 1; reg0[9] = 1; ${commit}next;`);
    f.add(stage, 6, '!ct.new && ct.est && !ct.rpl && ct_mark.blocked == 1', `reg0[7] = 1; reg0[9] = 1; ${commit}next;`);
    f.add(stage, 5, '!ct.trk', 'reg0[8] = 1; reg0[9] = 1; next;');
    f.add(stage, 4, '!ct.new && ct.est && !ct.rpl && ct_mark.blocked == 0', 'reg0[8] = 1; reg0[10] = 1; next;');
    f.add(stage, 3, '!ct.est', 'reg0[9] = 1; next;');
    f.add(stage, 2, 'ct.est && ct_mark.blocked == 1', 'reg0[9] = 1; next;');
    f.add(stage, 1, 'ct.est && ct_mark.blocked == 0', 'reg0[10] = 1; next;');
  }
}

/** northd.c build_acl_log. */
function aclLog(a: NbAcl): string {
  if (!a.log) return '';
  let s = 'log(';
  // Printed with "%s" between quotes, unescaped (northd.c build_acl_log).
  if (a.name !== undefined) s += `name="${a.name}", `;
  s += `severity=${a.severity ?? 'info'}, `;
  s += a.action === 'drop' ? 'verdict=drop, ' : a.action === 'reject' ? 'verdict=reject, ' : a.action === 'pass' ? 'verdict=pass, ' : 'verdict=allow, ';
  if (a.meter !== undefined) s += `meter="${a.meter}", `;
  s = s.replace(/ $/, '').replace(/,$/, '');
  return `${s}); `;
}

/** northd.c build_reject_acl_rules (table numbers of 23.03: ls_out_qos_mark 5, ls_in_l2_lkup 25). */
function rejectAcl(f: FlowSet, stage: string, a: NbAcl, extraMatch: string, extraActions: string): void {
  const ingress = stage.startsWith('ls_in_');
  const next = ingress ? `next(pipeline=egress,table=${f.table(f.v25 ? 'ls_out_qos' : 'ls_out_qos_mark')});` : `next(pipeline=ingress,table=${f.table('ls_in_l2_lkup')});`;
  const match = (extraMatch ? `(${extraMatch}) && ` : '') + a.match;
  const actions = `${aclLog(a)}${extraActions ? `${extraActions} ` : ''}reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; ${next} };`;
  f.add(stage, a.priority + ACL_PRI_OFFSET, match, actions);
}

/** northd.c consider_acl. */
function considerAcl(f: FlowSet, ctx: Ctx, a: NbAcl, hasStateful: boolean): void {
  const ingress = a.direction === 'from-lport';
  const stage = ingress && boolOpt(a.options, 'apply-after-lb', false) ? 'ls_in_acl_after_lb' : ingress ? 'ls_in_acl' : 'ls_out_acl';
  const prio = a.priority + ACL_PRI_OFFSET;
  const label = a.label ?? 0;
  if (a.action === 'allow-stateless') {
    f.add(stage, prio, a.match, `${aclLog(a)}next;`);
  } else if (a.action === 'allow' || a.action === 'allow-related') {
    if (!hasStateful) {
      f.add(stage, prio, a.match, `${aclLog(a)}next;`);
      return;
    }
    const lbl = label ? `reg0[13] = 1; reg3 = ${label}; ` : '';
    f.add(stage, prio, `reg0[7] == 1 && (${a.match})`, `reg0[1] = 1; ${lbl}${aclLog(a)}next;`);
    f.add(stage, prio, `reg0[8] == 1 && (${a.match})`, `${label ? 'reg0[1] = 1; ' : ''}${lbl}${aclLog(a)}next;`);
    if (a.log && label && boolOpt(a.options, 'log-related', false)) {
      const relStage = ingress ? 'ls_out_acl' : 'ls_in_acl';
      const inv = ctx.useCtInvMatch ? ' && !ct.inv' : '';
      f.add(relStage, UINT16_MAX - 2, `ct.est && !ct.rel && !ct.new${inv} && ct.rpl && ct_mark.blocked == 0 && ct_label.label == ${label}`, `${aclLog(a)}next;`);
      f.add(relStage, UINT16_MAX - 2, `!ct.est && ct.rel && !ct.new${inv} && ct_mark.blocked == 0 && ct_label.label == ${label}`, `${aclLog(a)}next;`);
    }
  } else if (a.action === 'drop' || a.action === 'reject') {
    if (hasStateful) {
      if (a.action === 'reject') rejectAcl(f, stage, a, 'reg0[9] == 1', '');
      else f.add(stage, prio, `reg0[9] == 1 && (${a.match})`, `${aclLog(a)}/* drop */`);
      if (a.action === 'reject') rejectAcl(f, stage, a, 'reg0[10] == 1', 'ct_commit { ct_mark.blocked = 1; }; ');
      else f.add(stage, prio, `reg0[10] == 1 && (${a.match})`, `ct_commit { ct_mark.blocked = 1; }; ${aclLog(a)}/* drop */`);
    } else if (a.action === 'reject') {
      rejectAcl(f, stage, a, '', '');
    } else {
      f.add(stage, prio, a.match, `${aclLog(a)}/* drop */`);
    }
  }
}

/** northd.c build_acls (no DHCP options or DNS records modelled). */
function buildAcls(f: FlowSet, ctx: Ctx, acls: NbAcl[], hasAcls: boolean, hasStateful: boolean, hasLbVip: boolean): void {
  const dropOrNext = ctx.defaultAclDrop ? 'drop;' : 'next;';
  if (!hasAcls) {
    if (!hasLbVip) {
      f.add('ls_in_acl', UINT16_MAX, '1', 'next;');
      f.add('ls_out_acl', UINT16_MAX, '1', 'next;');
    } else {
      f.add('ls_in_acl', 0, '1', 'next;');
      f.add('ls_out_acl', 0, '1', 'next;');
    }
    f.add('ls_in_acl_after_lb', 0, '1', 'next;');
  } else {
    f.add('ls_in_acl', 0, '1', dropOrNext);
    f.add('ls_out_acl', 0, '1', dropOrNext);
    f.add('ls_in_acl_after_lb', 0, '1', dropOrNext);
  }
  if (hasStateful) {
    for (const s of ['ls_in_acl', 'ls_out_acl']) {
      f.add(s, 1, 'ip && ct.est && ct_mark.blocked == 1', 'reg0[1] = 1; next;');
      f.add(s, 1, 'ip && !ct.est', ctx.defaultAclDrop ? 'drop;' : 'reg0[1] = 1; next;');
      f.add(s, UINT16_MAX - 3, `${ctx.useCtInvMatch ? 'ct.inv || ' : ''}(ct.est && ct.rpl && ct_mark.blocked == 1)`, 'drop;');
    }
    const inv = ctx.useCtInvMatch ? ' && !ct.inv' : '';
    const est = `ct.est && !ct.rel && !ct.new${inv} && ct.rpl && ct_mark.blocked == 0`;
    f.add('ls_in_acl', UINT16_MAX - 3, est, 'reg0[9] = 0; reg0[10] = 0; reg0[17] = 1; next;');
    f.add('ls_out_acl', UINT16_MAX - 3, est, 'next;');
    const rel = `!ct.est && ct.rel && !ct.new${inv} && ct_mark.blocked == 0`;
    f.add('ls_in_acl', UINT16_MAX - 3, rel, 'reg0[17] = 1; ct_commit_nat;');
    f.add('ls_out_acl', UINT16_MAX - 3, rel, 'ct_commit_nat;');
    f.add('ls_in_acl_after_lb', UINT16_MAX - 3, 'reg0[17] == 1', 'next;');
  }
  const omit = 'nd || nd_ra || nd_rs || mldv1 || mldv2';
  f.add('ls_in_acl', UINT16_MAX - 3, omit, 'next;');
  f.add('ls_out_acl', UINT16_MAX - 3, omit, 'next;');
  f.add('ls_in_acl_after_lb', UINT16_MAX - 3, omit, 'next;');
  for (const a of acls) considerAcl(f, ctx, a, hasStateful);
  if (hasAcls || hasLbVip) {
    f.add('ls_in_acl', 34000, 'eth.dst == $svc_monitor_mac', 'next;');
    f.add('ls_out_acl', 34000, 'eth.src == $svc_monitor_mac', 'next;');
  }
}

/**
 * [24.03] build_acls / consider_acl / build_acl_log_related_flows / build_acl_action_lflows: every ACL stage is split
 * into `_eval`, which only records a verdict (REGBIT_ACL_VERDICT_ALLOW/DROP/REJECT = reg8[16]/[17]/[18]), and
 * `_action`, which acts on it; ACL tiers (reg8[30..31]) re-run the eval stage for the next tier.
 * [25.03] adds: the persist-established bypass (ct_mark.allow_established), the `_sample` stages' defaults, a label
 * carried as observation point id (build_acl_sample_label_action), per-stage maximum tiers and the egress QoS stage as
 * reject target. ACL Sample rows (sample_new/sample_est) and persist-established ids are not modelled.
 */
function buildAclsEvalAction(f: FlowSet, ctx: Ctx, acls: NbAcl[], hasAcls: boolean, hasStateful: boolean, hasLbVip: boolean): void {
  const allow = 'reg8[16] = 1; next;';
  if (!hasAcls) {
    const prio = hasLbVip ? 0 : UINT16_MAX;
    f.add('ls_in_acl_eval', prio, '1', 'next;');
    f.add('ls_out_acl_eval', prio, '1', 'next;');
  } else {
    f.add('ls_in_acl_eval', 0, '1', 'next;');
    f.add('ls_out_acl_eval', 0, '1', 'next;');
  }
  f.add('ls_in_acl_after_lb_eval', 0, '1', 'next;');
  const inv = ctx.useCtInvMatch ? ' && !ct.inv' : '';
  if (hasStateful) {
    for (const s of ['ls_in_acl_eval', 'ls_out_acl_eval']) {
      f.add(s, 1, 'ip && ct.est && ct_mark.blocked == 1', allow);
      // The commit bit now comes from ls_*_acl_hint; default_acl_drop is the action stage's business.
      f.add(s, 1, 'ip && !ct.est', 'next;');
      f.add(s, UINT16_MAX - 3, `${ctx.useCtInvMatch ? 'ct.inv || ' : ''}(ct.est && ct.rpl && ct_mark.blocked == 1)`, 'reg8[17] = 1; next;');
    }
    const est = `ct.est && !ct.rel && !ct.new${inv} && ct.rpl && ct_mark.blocked == 0`;
    f.add('ls_in_acl_eval', UINT16_MAX - 3, est, `reg0[9] = 0; reg0[10] = 0; reg0[17] = 1; ${allow}`);
    f.add('ls_out_acl_eval', UINT16_MAX - 3, est, allow);
    const rel = `!ct.est && ct.rel && !ct.new${inv} && ct_mark.blocked == 0`;
    f.add('ls_in_acl_eval', UINT16_MAX - 3, rel, 'reg0[17] = 1; reg8[16] = 1; ct_commit_nat;');
    f.add('ls_out_acl_eval', UINT16_MAX - 3, rel, 'reg8[16] = 1; ct_commit_nat;');
    f.add('ls_in_acl_after_lb_eval', UINT16_MAX - 3, 'reg0[17] == 1', allow);
    if (f.v25 && !(f.compat.c24_03 || f.compat.c22_03 || f.compat.c22_12)) {
      // [25.03] build_acls: connections committed by a persist-established ACL stay allowed (REGBIT_ACL_HINT_ALLOW_
      // PERSISTED reg0[21] carries it past the LB); not under Kube-OVN 1.15's version_compatibility ≤ 24.03.
      f.add('ls_in_acl_eval', UINT16_MAX - 3, 'ct.est && ct_mark.allow_established == 1', `reg0[21] = 1; ${allow}`);
      f.add('ls_out_acl_eval', UINT16_MAX - 3, 'ct.est && ct_mark.allow_established == 1', allow);
      f.add('ls_in_acl_after_lb_eval', UINT16_MAX - 3, 'reg0[21] == 1', allow);
    }
  }
  const omit = 'nd || nd_ra || nd_rs || mldv1 || mldv2';
  for (const s of ['ls_in_acl_eval', 'ls_out_acl_eval', 'ls_in_acl_after_lb_eval']) f.add(s, UINT16_MAX - 3, omit, allow);
  // [25.03] build_acl_sample_default_flows.
  if (f.v25) for (const s of ['ls_in_acl_sample', 'ls_out_acl_sample', 'ls_in_acl_after_lb_sample']) f.add(s, 0, '1', 'next;');

  // Max tier: [24.03] one over all the switch's ACLs (ls_stateful_record_set_acl_flags_); [25.03] per stage
  // (en-ls-stateful.c update_ls_max_acl_tier).
  const tierStage = (a: NbAcl): number => (a.direction !== 'from-lport' ? 2 : boolOpt(a.options, 'apply-after-lb', false) ? 1 : 0);
  const maxTier = [0, 0, 0];
  for (const a of acls) {
    const t = a.tier ?? 0;
    if (f.v25) maxTier[tierStage(a)] = Math.max(maxTier[tierStage(a)]!, t);
    else for (let i = 0; i < 3; i++) maxTier[i] = Math.max(maxTier[i]!, t);
  }
  for (const a of acls) {
    buildAclLogRelated24(f, ctx, a, hasStateful);
    considerAcl24(f, a, hasStateful, maxTier[tierStage(a)]!);
  }
  if (hasAcls || hasLbVip) {
    f.add('ls_in_acl_eval', 34000, 'eth.dst == $svc_monitor_mac', allow);
    f.add('ls_out_acl_eval', 34000, 'eth.src == $svc_monitor_mac', allow);
  }

  // build_acl_action_lflows.
  const stages: Array<[string, string, number]> = [['ls_in_acl_action', 'ls_in_acl_eval', 0], ['ls_in_acl_after_lb_action', 'ls_in_acl_after_lb_eval', 1], ['ls_out_acl_action', 'ls_out_acl_eval', 2]];
  for (const [stage, evalStage, i] of stages) {
    if (!hasAcls) {
      f.add(stage, 0, '1', 'next;');
      continue;
    }
    const tiers = maxTier[i]!;
    const reset = `reg8[16] = 0; reg8[17] = 0; reg8[18] = 0; ${tiers ? 'reg8[30..31] = 0; ' : ''}`;
    const ingress = stage.startsWith('ls_in_');
    f.add(stage, 1000, 'reg8[16] == 1', `${reset}next;`);
    f.add(stage, 1000, 'reg8[17] == 1', `${reset}/* drop */`);
    const next = ingress ? `next(pipeline=egress,table=${f.table(f.v25 ? 'ls_out_qos' : 'ls_out_qos_mark')});` : `next(pipeline=ingress,table=${f.table('ls_in_l2_lkup')});`;
    f.add(stage, 1000, 'reg8[18] == 1', `${reset}reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; ${next} };`);
    f.add(stage, 0, '1', `${reset}${ctx.defaultAclDrop ? '/* drop */' : 'next;'}`);
    // [24.03] jumps back to table(action) - 1, which is the eval stage; [25.03] names the eval stage (a sample
    // stage sits between).
    for (let j = 0; j < tiers; j++) f.add(stage, 500, `reg8[30..31] == ${j}`, `reg8[30..31] = ${j + 1}; next(pipeline=${ingress ? 'ingress' : 'egress'},table=${f.table(evalStage)});`);
  }
}

/** [24.03] consider_acl (see buildAclsEvalAction). */
function considerAcl24(f: FlowSet, a: NbAcl, hasStateful: boolean, maxTier: number): void {
  const ingress = a.direction === 'from-lport';
  const afterLb = ingress && boolOpt(a.options, 'apply-after-lb', false);
  const stage = afterLb ? 'ls_in_acl_after_lb_eval' : ingress ? 'ls_in_acl_eval' : 'ls_out_acl_eval';
  const verdict = a.action === 'drop' ? 'reg8[17] = 1; ' : a.action === 'reject' ? 'reg8[18] = 1; ' : a.action === 'pass' ? '' : 'reg8[16] = 1; ';
  const base = `${aclLog(a)}${verdict}`;
  const prio = a.priority + ACL_PRI_OFFSET;
  const tier = maxTier ? `reg8[30..31] == ${a.tier ?? 0} && ` : '';
  const label = a.label ?? 0;
  // [25.03] build_acl_sample_label_action: with a label, the label is the observation point id of both new and
  // established traffic (reg3 and reg9), collectors 0, and the observation stage (0 from-lport, 1 after-lb, 2
  // to-lport) in reg8[19..20].
  const sample = f.v25 && label ? `reg0[13] = 1; reg3 = ${label}; reg9 = ${label}; reg8[0..7] = 0; reg8[8..15] = 0; reg8[19..20] = ${afterLb ? 1 : ingress ? 0 : 2}; ` : '';
  if (!hasStateful || a.action === 'pass' || a.action === 'allow-stateless') {
    f.add(stage, prio, `${tier}(${a.match})`, `${base}${sample}next;`);
    return;
  }
  if (a.action === 'allow' || a.action === 'allow-related') {
    const lbl24 = !f.v25 && label ? `reg0[13] = 1; reg3 = ${label}; ` : '';
    f.add(stage, prio, `${tier}reg0[7] == 1 && (${a.match})`, `${base}${lbl24}${sample}next;`);
    f.add(stage, prio, `${tier}reg0[8] == 1 && (${a.match})`, `${base}${label ? 'reg0[1] = 1; ' : ''}${lbl24}${sample}next;`);
  } else {
    f.add(stage, prio, `${tier}reg0[9] == 1 && (${a.match})`, `${base}${sample}next;`);
    const commit = f.v25 ? 'ct_commit { ct_mark.blocked = 1; ct_label.obs_point_id = 0; }; next;' : 'ct_commit { ct_mark.blocked = 1; }; next;';
    f.add(stage, prio, `${tier}reg0[10] == 1 && (${a.match})`, `${base}${sample}${commit}`);
  }
}

/** [24.03] build_acl_log_related_flows: the 65533 logging flows also record an allow verdict. */
function buildAclLogRelated24(f: FlowSet, ctx: Ctx, a: NbAcl, hasStateful: boolean): void {
  if (a.action === 'allow-stateless' || !hasStateful) return;
  if (a.action !== 'allow' && a.action !== 'allow-related') return;
  const label = a.label ?? 0;
  // Kube-OVN 1.14's version_compatibility ≤ 21.06 ignores log-related.
  if (!a.log || !label || !boolOpt(a.options, 'log-related', false) || f.compat.c21_06) return;
  const stage = a.direction === 'from-lport' ? 'ls_out_acl_eval' : 'ls_in_acl_eval';
  const inv = ctx.useCtInvMatch ? ' && !ct.inv' : '';
  const actions = `${aclLog(a)}reg8[16] = 1; next;`;
  f.add(stage, UINT16_MAX - 2, `ct.est && !ct.rel && !ct.new${inv} && ct.rpl && ct_mark.blocked == 0 && ct_label.label == ${label}`, actions);
  f.add(stage, UINT16_MAX - 2, `!ct.est && ct.rel && !ct.new${inv} && ct_mark.blocked == 0 && ct_label.label == ${label}`, actions);
}

/** northd.c build_qos. */
function buildQos(f: FlowSet, ls: NbLogicalSwitch): void {
  if (f.v25) {
    // [25.03] build_qos: one ls_in_qos/ls_out_qos stage; a rule's meter and marking share one flow.
    f.add('ls_in_qos', 0, '1', 'next;');
    f.add('ls_out_qos', 0, '1', 'next;');
    for (const q of ls.qosRules ?? []) {
      const rate = q.bandwidth?.rate ?? 0;
      const burst = q.bandwidth?.burst ?? 0;
      let action = rate ? (burst ? `set_meter(${rate}, ${burst}); ` : `set_meter(${rate}); `) : '';
      if (q.action?.dscp !== undefined) action += `ip.dscp = ${q.action.dscp}; `;
      f.add(q.direction === 'from-lport' ? 'ls_in_qos' : 'ls_out_qos', q.priority, q.match, `${action}next;`);
    }
    return;
  }
  for (const s of ['ls_in_qos_mark', 'ls_out_qos_mark', 'ls_in_qos_meter', 'ls_out_qos_meter']) f.add(s, 0, '1', 'next;');
  for (const q of ls.qosRules ?? []) {
    const ingress = q.direction === 'from-lport';
    if (q.action?.dscp !== undefined) f.add(ingress ? 'ls_in_qos_mark' : 'ls_out_qos_mark', q.priority, q.match, `ip.dscp = ${q.action.dscp}; next;`);
    const rate = q.bandwidth?.rate ?? 0;
    const burst = q.bandwidth?.burst ?? 0;
    if (rate) f.add(ingress ? 'ls_in_qos_meter' : 'ls_out_qos_meter', q.priority, q.match, burst ? `set_meter(${rate}, ${burst}); next;` : `set_meter(${rate}); next;`);
  }
}

/** northd.c build_stateful. */
function buildStateful(f: FlowSet): void {
  f.add('ls_in_lb', 0, '1', 'next;');
  f.add('ls_in_stateful', 0, '1', 'next;');
  f.add('ls_out_stateful', 0, '1', 'next;');
  if (f.v25 && (f.compat.c24_03 || f.compat.c22_03 || f.compat.c22_12)) {
    // Kube-OVN 1.15's version_compatibility ≤ 24.03: both commits only clear ct_mark.blocked.
    for (const s of ['ls_in_stateful', 'ls_out_stateful']) {
      f.add(s, 100, 'reg0[1] == 1 && reg0[13] == 1', 'ct_commit { ct_mark.blocked = 0; }; next;');
      f.add(s, 100, 'reg0[1] == 1 && reg0[13] == 0', 'ct_commit { ct_mark.blocked = 0; }; next;');
    }
    return;
  }
  if (f.v25) {
    // [25.03] build_stateful: the commit also stores the persist-established bit, the ACL id and (with a label or
    // sample) the observation ids; the label itself now travels as ct_label.obs_point_id.
    for (const s of ['ls_in_stateful', 'ls_out_stateful']) {
      f.add(s, 100, 'reg0[1] == 1 && reg0[13] == 1', 'ct_commit { ct_mark.blocked = 0; ct_mark.allow_established = reg0[20]; ct_mark.obs_stage = reg8[19..20]; ct_mark.obs_collector_id = reg8[8..15]; ct_label.obs_point_id = reg9; ct_label.acl_id = reg2[16..31]; }; next;');
      f.add(s, 100, 'reg0[1] == 1 && reg0[13] == 0', 'ct_commit { ct_mark.blocked = 0; ct_mark.allow_established = reg0[20]; ct_label.acl_id = reg2[16..31]; }; next;');
    }
    return;
  }
  for (const s of ['ls_in_stateful', 'ls_out_stateful']) {
    // Kube-OVN 1.14's version_compatibility ≤ 21.06: the label is not committed.
    f.add(s, 100, 'reg0[1] == 1 && reg0[13] == 1', f.compat.c21_06 ? 'ct_commit { ct_mark.blocked = 0; }; next;' : 'ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; next;');
    f.add(s, 100, 'reg0[1] == 1 && reg0[13] == 0', 'ct_commit { ct_mark.blocked = 0; }; next;');
  }
}

/** northd.c build_lb_hairpin. */
function buildLbHairpin(f: FlowSet, hasLbVip: boolean, profile: NorthdProfile): void {
  f.add('ls_in_pre_hairpin', 0, '1', 'next;');
  f.add('ls_in_nat_hairpin', 0, '1', 'next;');
  f.add('ls_in_hairpin', 0, '1', 'next;');
  if (!hasLbVip) return;
  // Kube-OVN's version_compatibility ≤ 22.12 leaves the fragment flows out.
  if (f.v24 && !f.compat.c22_12) {
    // [24.03] build_lb_hairpin: after conntrack a fragment's original destination comes from the ct tuple
    // (REG_ORIG_DIP_IPV4/6, REG_ORIG_TP_DPORT); [25.03] into REG_LB_IPV4 (reg4) / REG_LB_IPV6 / REG_LB_PORT — except
    // under Kube-OVN 1.15, whose e76880e7 ("northd: add nb option version_compatibility") rewrites this flow with
    // REG_ORIG_DIP_IPV4 (reg1) again (seen in the real patched 25.03 northd).
    const reg = f.v25 && profile !== 'kube-ovn-1.15' ? 'reg4' : 'reg1';
    f.add('ls_in_lb', 110, 'ct.trk && !ct.rpl && reg0[19] == 1 && ip4', `${reg} = ct_nw_dst(); reg2[0..15] = ct_tp_dst(); next;`);
    f.add('ls_in_lb', 110, 'ct.trk && !ct.rpl && reg0[19] == 1 && ip6', 'xxreg1 = ct_ip6_dst(); reg2[0..15] = ct_tp_dst(); next;');
  }
  f.add('ls_in_pre_hairpin', 100, 'ip && ct.trk', 'reg0[6] = chk_lb_hairpin(); reg0[12] = chk_lb_hairpin_reply(); next;');
  f.add('ls_in_nat_hairpin', 100, 'ip && ct.new && ct.trk && reg0[6] == 1', 'ct_snat_to_vip; next;');
  f.add('ls_in_nat_hairpin', 100, 'ip && ct.est && ct.trk && reg0[6] == 1', 'ct_snat;');
  f.add('ls_in_nat_hairpin', 90, 'ip && reg0[12] == 1', 'ct_snat;');
  f.add('ls_in_hairpin', 1, '(reg0[6] == 1 || reg0[12] == 1)', 'eth.dst <-> eth.src; outport = inport; flags.loopback = 1; output;');
}

/** northd.c build_lswitch_port_sec_op (qdisc queues and vtep ports not modelled). */
function buildPortSecOp(f: FlowSet, p: Port): void {
  if (p.type === 'external') return;
  if (p.enabled) {
    // [24.03] build_lswitch_port_sec_op: traffic from a router port is marked REGBIT_FROM_ROUTER_PORT (reg0[18]),
    // which keeps it off the proxy-ARP responders.
    if (f.v24 && p.type === 'router') f.add('ls_in_check_port_sec', 70, `inport == ${jsonKey(p.nb.name)}`, 'reg0[18] = 1; next;');
    // [25.03] the chassis-redirect port is a router-type switch port of its own.
    if (p.crLsp !== undefined) f.add('ls_in_check_port_sec', 70, `inport == ${jsonKey(p.crLsp)}`, 'reg0[18] = 1; next;');
    return;
  }
  f.add('ls_in_check_port_sec', 100, `inport == ${jsonKey(p.nb.name)}`, 'reg0[15] = 1; next;');
  f.add('ls_in_l2_unknown', 50, `outport == ${jsonKey(p.nb.name)}`, 'drop;');
}

/** northd.c build_lswitch_learn_fdb_op. */
function buildLearnFdbOp(f: FlowSet, p: Port): void {
  const localnetLearns = p.type === 'localnet' && boolOpt(p.nb.options, 'localnet_learn_fdb', false);
  // [25.03] remote ports learn in the egress FDB stages, "switch" ports like VIFs (they always have unknown
  // addresses); port security counts as set when any entry starts with a MAC (lsp_has_port_sec).
  const remote = f.v25 && p.type === 'remote';
  const learns = p.type === '' || localnetLearns || remote || (f.v25 && p.type === 'switch');
  const hasPs = f.v25 ? (p.nb.portSecurity ?? []).some((e) => scanMac(e.startsWith('VRRPv3') ? e.slice(7) : e) !== undefined) : p.nPs > 0;
  if (hasPs || !(p.hasUnknown || (f.v25 && p.type === 'switch')) || !learns) return;
  const m = `inport == ${jsonKey(p.nb.name)}`;
  // [24.03] build_lswitch_learn_fdb_op: a localnet port marks its packets flags.localnet before the lookup.
  // Not under Kube-OVN's version_compatibility ≤ 22.03.
  const mark = f.v24 && p.type === 'localnet' && !f.compat.c22_03 ? 'flags.localnet = 1; ' : '';
  f.add(remote ? 'ls_out_lookup_fdb' : 'ls_in_lookup_fdb', 100, m, `${mark}reg0[11] = lookup_fdb(inport, eth.src); next;`);
  f.add(remote ? 'ls_out_put_fdb' : 'ls_in_put_fdb', 100, `${m} && reg0[11] == 0`, 'put_fdb(inport, eth.src); next;');
}

/** northd.c build_lswitch_arp_nd_responder_known_ips (virtual ports and router peers not modelled). */
function buildArpNdResponderKnownIps(f: FlowSet, p: Port, ctx: Ctx, vlanTransparent: boolean, portNames: Set<string>, hasLocalnet: boolean): void {
  if (p.type === 'virtual') {
    buildVirtualPortBindFlows(f, p, portNames);
    return;
  }
  // lsp_is_up: northd sets the NB `up` column when the port's binding has a chassis (handle_port_binding_changes;
  // with port-up-notif, once ovn-controller reports it up) — a bound port here.
  if (ctx.checkLspIsUp && ctx.chassis[p.nb.name] === undefined && p.type !== 'router' && p.type !== 'localport') return;
  if (p.type === 'external' || p.hasUnknown || vlanTransparent) return;
  // [25.03] options:disable_arp_nd_rsp=true on a VIF turns its responder off.
  if (f.v25 && p.type === '' && boolOpt(p.nb.options, 'disable_arp_nd_rsp', false)) return;
  if (ctx.profile !== 'upstream') kubeOvnSkipLrpArpFromLocalnet(f, ctx, p);
  const k = jsonKey(p.nb.name);
  // [25.03] build_lswitch_arp_nd_local_resp_match: on a switch with localnet ports, requests that came in through
  // one are answered only on the chassis the target port is bound to.
  const local = f.v25 && hasLocalnet ? ` && ((flags.localnet == 1 && is_chassis_resident(${k})) || flags.localnet == 0)` : '';
  for (const a of p.addrs) {
    for (const ip of a.ipv4) {
      // [24.03] build_lswitch_arp_nd_responder_known_ips: only broadcast requests are answered; unicast ones reach
      // the target (liveness checks).
      const m = f.v24 ? `arp.tpa == ${ip} && arp.op == 1 && eth.dst == ff:ff:ff:ff:ff:ff` : `arp.tpa == ${ip} && arp.op == 1`;
      f.add('ls_in_arp_rsp', 50, m + local, `eth.dst = eth.src; eth.src = ${a.mac}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = ${a.mac}; arp.tpa = arp.spa; arp.spa = ${ip}; outport = inport; flags.loopback = 1; output;`);
      f.add('ls_in_arp_rsp', 100, `${m} && inport == ${k}`, 'next;');
    }
    for (const ip of a.ipv6) {
      // [24.03] only multicast (solicited-node) solicitations are answered.
      const m = f.v24 ? `nd_ns_mcast && ip6.dst == ${ip.sn} && nd.target == ${ip.addr}` : `nd_ns && ip6.dst == {${ip.addr}, ${ip.sn}} && nd.target == ${ip.addr}`;
      f.add('ls_in_arp_rsp', 50, m + local, `${p.type === 'router' ? 'nd_na_router' : 'nd_na'} { eth.src = ${a.mac}; ip6.src = ${ip.addr}; nd.target = ${ip.addr}; nd.tll = ${a.mac}; outport = inport; flags.loopback = 1; output; };`);
      f.add('ls_in_arp_rsp', 100, `${m} && inport == ${k}`, 'next;');
    }
  }
}

/** northd.c build_lswitch_rport_arp_req_flows (the peer router's NATs are not modelled): ARP/NS for the router
 * port's own addresses and for the router's LB VIPs inside its networks go to it (and, when the switch has other
 * ports, to _MC_flood_l2 too). */
function buildRportArpReqFlows(f: FlowSet, p: Port, lrp: NbLogicalRouterPort, otherPorts: boolean): void {
  if (lrp.enabled === false) return;
  const net = extractLrpNetworks(lrp.mac, lrp.networks);
  if (!net) return;
  const to = (k: string): string => (otherPorts ? `clone {outport = ${k}; output; }; outport = "_MC_flood_l2"; output;` : `outport = ${k}; output;`);
  const action = to(jsonKey(p.nb.name));
  const arpOrNs = (ip: string): string => (parseIp4(ip.split('/')[0]!) === undefined ? `flags[1] == 0 && nd_ns && nd.target == ${ip}` : `flags[1] == 0 && arp.op == 1 && arp.tpa == ${ip}`);
  // [25.03] build_lswitch_rport_arp_req_flow with a chassis-redirect port: to the router port on the gateway
  // chassis, to the cr- port elsewhere.
  const cr = p.crLsp !== undefined ? jsonKey(p.crLsp) : undefined;
  const add80 = (m: string): void => {
    if (cr === undefined) return void f.add('ls_in_l2_lkup', 80, m, action);
    f.add('ls_in_l2_lkup', 80, `${m} && is_chassis_resident(${cr})`, action);
    f.add('ls_in_l2_lkup', 80, `${m} && !is_chassis_resident(${cr})`, to(cr));
  };
  const r = p.peerRouter;
  // [24.03] build_lswitch_rport_arp_req_flows_for_lbnats: only "reachable" VIPs (neighbor_responder ≠ none).
  const lbIps = f.v24 && r ? r.reachable : p.peerLbIps ?? [];
  for (const ip of lbIps) {
    if (!lrpReaches(net, ip)) continue;
    add80(ip.includes(':') ? `flags[1] == 0 && nd_ns && nd.target == ${ip}` : `flags[1] == 0 && arp.op == 1 && arp.tpa == ${ip}`);
  }
  // [25.03] a NAT/SNAT IP is skipped only when it is a reachable VIP (24.03: any VIP of the router).
  const natExcluded = new Set(f.v25 && r ? r.reachable : r?.ips ?? []);
  const natIps = f.v25 && r ? r.dnatIps.filter((ip) => !natExcluded.has(ip)) : p.peerNatIps ?? [];
  for (const ip of natIps) add80(arpOrNs(ip));
  if (f.v24 && r) for (const ip of r.snatIps) if (!natExcluded.has(ip)) add80(arpOrNs(ip));
  for (const ip of net.ipv4) add80(`flags[1] == 0 && arp.op == 1 && arp.tpa == ${ip}`);
  for (const ip of net.ipv6) add80(`flags[1] == 0 && nd_ns && nd.target == ${ip.addr}`);
  // [24.03] build_lswitch_rport_arp_req_self_orig_flow: self-originated requests must be broadcast.
  const bcast = f.v24 ? 'eth.dst == ff:ff:ff:ff:ff:ff && ' : '';
  // Kube-OVN's version_compatibility ≤ 22.03: without the RARP term.
  if (otherPorts) f.add('ls_in_l2_lkup', 75, `eth.src == {${net.mac}} && ${bcast}(arp.op == 1 || ${f.compat.c22_03 ? '' : 'rarp.op == 3 || '}nd_ns)`, 'outport = "_MC_flood_l2"; output;');
}

/** The virtual-port branch of build_lswitch_arp_nd_responder_known_ips: ARP/ND for the virtual IP from a parent
 * binds the virtual port to it. The virtual IP is printed as written (only the solicited-node address is
 * re-printed). */
function buildVirtualPortBindFlows(f: FlowSet, p: Port, portNames: Set<string>): void {
  const vip = p.nb.options?.['virtual-ip'];
  const parents = p.nb.options?.['virtual-parents'];
  if (vip === undefined || parents === undefined) return;
  const v4 = vip.includes('.');
  let sn: string | undefined;
  if (v4) {
    if (parseIp4(vip) === undefined) return;
  } else {
    const g = parseIp6(vip);
    if (!g) return;
    sn = formatIp6(solicitedNode(g));
  }
  // strtok_r on ",": empty tokens are skipped.
  for (const parent of parents.split(',').filter((t) => t !== '')) {
    if (!portNames.has(parent)) continue;
    const match = v4
      ? `inport == "${parent}" && ((arp.op == 1 && arp.spa == ${vip} && arp.tpa == ${vip}) || (arp.op == 2 && arp.spa == ${vip}))`
      : `inport == "${parent}" && ((nd_ns && ip6.dst == {${vip}, ${sn}} && nd.target == ${vip}) ||(nd_na && nd.target == ${vip}))`;
    f.add('ls_in_arp_rsp', 100, match, `bind_vport(${jsonKey(p.nb.name)}, inport); next;`);
  }
}

/**
 * [24.03] build_lswitch_ip_unicast_lookup, rewritten there: a router port with a peer gets the peer's MAC (whether or
 * not its addresses say `router`), any other port one flow per parsed address (op->lsp_addrs, normalised MAC).
 * [25.03] options:force_fdb_lookup=true on a VIF with unknown addresses leaves it to the FDB;
 * options:pkt_clone_type=mc_unknown clones to _MC_unknown as well when the switch has unknown ports.
 */
function buildUnicastLookup24(f: FlowSet, p: Port, hasLocalnet: boolean, swHasUnknown: boolean): void {
  if (f.v25 && p.type === '' && p.hasUnknown && boolOpt(p.nb.options, 'force_fdb_lookup', false)) return;
  const k = jsonKey(p.nb.name);
  const cloneUnknown = f.v25 && p.type === '' && (p.nb.options?.pkt_clone_type ?? '').toLowerCase() === 'mc_unknown' && swHasUnknown;
  const action = !p.enabled ? 'drop;' : cloneUnknown ? `clone {outport = ${k}; output; };outport = "_MC_unknown"; output;` : `outport = ${k}; output;`;
  if (p.type === 'router' && p.peer) {
    const net = extractLrpNetworks(p.peer.mac, []);
    if (!net) return;
    let guard = p.peerResidentCr !== undefined && hasLocalnet ? ` && is_chassis_resident(${jsonKey(p.peerResidentCr)})` : '';
    if (p.crLsp !== undefined) {
      // [25.03] centralized routing: the router MAC goes to the cr- port off the gateway chassis.
      const cr = jsonKey(p.crLsp);
      f.add('ls_in_l2_lkup', 50, `eth.dst == ${net.mac} && !is_chassis_resident(${cr})`, action.replace(k, cr));
      guard = ` && is_chassis_resident(${cr})`;
    }
    f.add('ls_in_l2_lkup', 50, `eth.dst == ${net.mac}${guard}`, action);
    return;
  }
  const addrs = [...p.addrs];
  if ((p.nb.addresses ?? []).some((a) => a.startsWith('dynamic')) && p.nb.dynamicAddresses) {
    const d = extractLspAddresses(p.nb.dynamicAddresses);
    if (d) addrs.push(d);
  }
  for (const a of addrs) f.add('ls_in_l2_lkup', 50, `eth.dst == ${a.mac}`, action);
}

/**
 * [24.03] build_lswitch_icmp_packet_toobig_admin_flows: an ICMP too-big that a port's own MAC sent towards that port
 * from a remote chassis (the tunnel's MTU) is turned back to where it came from; for a router port, by the peer's
 * MAC (gateway router: by outport; otherwise straight to ls_in_l2_lkup).
 */
function buildIcmpTooBigAdminFlows(f: FlowSet, p: Port): void {
  // Kube-OVN's version_compatibility ≤ 22.12: none.
  if (f.compat.c22_12) return;
  const icmp = '((ip4 && icmp4.type == 3 && icmp4.code == 4) || (ip6 && icmp6.type == 2 && icmp6.code == 0))';
  const k = jsonKey(p.nb.name);
  if (p.type !== 'router') {
    for (const a of p.addrs) {
      f.add('ls_in_check_port_sec', 110, `${icmp} && eth.src == ${a.mac} && outport == ${k} && !is_chassis_resident(${k}) && flags.tunnel_rx == 1`, 'outport <-> inport; next;');
    }
    return;
  }
  if (!p.peer) return;
  // The peer's MAC is printed as written in the NB (peer->nbrp->mac).
  if (p.peerRouter?.gwRouter) {
    f.add('ls_in_check_port_sec', 120, `${icmp} && eth.src == ${p.peer.mac} && outport == ${k} && flags.tunnel_rx == 1`, 'outport <-> inport; next;');
  } else {
    f.add('ls_in_check_port_sec', 120, `${icmp} && eth.dst == ${p.peer.mac} && flags.tunnel_rx == 1`, `outport <-> inport; next(pipeline=ingress,table=${f.table('ls_in_l2_lkup')});`);
  }
}

/** northd.c build_lswitch_ip_unicast_lookup (no gateway router ports: no is_chassis_resident guards). */
function buildUnicastLookup(f: FlowSet, p: Port, hasLocalnet: boolean, swHasUnknown: boolean): void {
  if (p.type === 'external') return;
  if (f.v24) {
    buildUnicastLookup24(f, p, hasLocalnet, swHasUnknown);
    return;
  }
  const action = p.enabled ? `outport = ${jsonKey(p.nb.name)}; output;` : 'drop;';
  for (const a of p.nb.addresses ?? []) {
    if (a === 'unknown') continue;
    if (a === 'router') {
      const net = p.peer ? extractLrpNetworks(p.peer.mac, []) : undefined;
      // With a distributed gateway port on the peer router and a localnet port here, only the gateway chassis
      // takes the router MAC.
      const guard = p.peerResidentCr !== undefined && hasLocalnet ? ` && is_chassis_resident(${jsonKey(p.peerResidentCr)})` : '';
      if (net) f.add('ls_in_l2_lkup', 50, `eth.dst == ${net.mac}${guard}`, action);
      continue;
    }
    if (a.startsWith('dynamic')) {
      const d = p.nb.dynamicAddresses ? extractLspAddresses(p.nb.dynamicAddresses) : undefined;
      if (d) f.add('ls_in_l2_lkup', 50, `eth.dst == ${d.mac}`, action);
      continue;
    }
    const mac = /^([0-9a-fA-F]{1,2}:){5}[0-9a-fA-F]{1,2}/.exec(a);
    if (mac) f.add('ls_in_l2_lkup', 50, `eth.dst == ${extractMac(mac[0])}`, action);
  }
}

/** eth_addr_from_string: the whole string must be a MAC. */
const scanMacStrict = (s: string): string | undefined => {
  const m = scanMac(s.trim());
  return m && m.len === s.trim().length ? m.mac : undefined;
};

const extractMac = (s: string): string => s.split(':').map((h) => h.toLowerCase().padStart(2, '0')).join(':');

/** northd.c build_lswitch_flows_for_lb: empty-LB events, build_lb_rules_pre_stateful, build_lb_rules (+ affinity). */
function buildLswitchFlowsForLb(f: FlowSet, lb: Lb, ctx: Ctx): void {
  const nb = lb.nb;
  // options:event, or the deprecated NB_Global options:controller_event for every LB.
  const event = boolOpt(nb.options, 'event', false) || boolOpt(ctx.opts, 'controller_event', false);
  const reject = boolOpt(nb.options, 'reject', false);
  for (const v of lb.vips) {
    const ip = v.vip.family === 4 ? 'ip4' : 'ip6';
    const port = v.vip.port ? String(v.vip.port) : undefined;
    // build_empty_lb_event_flow.
    if (event && v.backends.length === 0 && !reject) {
      let match = `${ip}.dst == ${v.vip.ip} && ${lb.proto}`;
      let vipText = v.vip.ip;
      if (port) {
        match += ` && ${lb.proto}.dst == ${port}`;
        vipText = v.vip.family === 4 ? `${v.vip.ip}:${port}` : `[${v.vip.ip}]:${port}`;
      }
      f.add('ls_in_pre_lb', 130, match, `trigger_event(event = "empty_lb_backends", vip = "${vipText}", protocol = "${lb.proto}", load_balancer = "${nb.uuid ?? '00000000-0000-0000-0000-000000000000'}");`);
    }
  }
  // build_lb_rules_pre_stateful ([25.03] REG_LB_IPV4 is reg4).
  for (const v of lb.vips) {
    const ip = v.vip.family === 4 ? 'ip4' : 'ip6';
    let action = `${v.vip.family === 4 ? (f.v25 ? 'reg4' : 'reg1') : 'xxreg1'} = ${v.vip.ip}; `;
    let match = `reg0[2] == 1 && ${ip}.dst == ${v.vip.ip}`;
    if (v.vip.port) {
      action += `reg2[0..15] = ${v.vip.port}; `;
      match += ` && ${lb.proto}.dst == ${v.vip.port}`;
    }
    f.add('ls_in_pre_stateful', 120, match, `${action}ct_lb_mark;`);
  }
  // build_lb_rules.
  for (const v of lb.vips) {
    const ip = v.vip.family === 4 ? 'ip4' : 'ip6';
    let vipNodeLsp: string | undefined;
    if (ctx.profile !== 'upstream' && boolOpt(nb.options, 'prefer_local_backend', false)) {
      vipNodeLsp = kubeOvnPreferLocal(f, ctx, lb, v, reject);
    }
    let action: string;
    // build_lb_vip_actions: with a health check only monitored backends (mapped to an enabled port, with a
    // source IP) are listed, and their count decides drop/reject; the port is printed with %u (0 when none).
    const active = v.healthCheck ? v.backends.filter((_, i) => isMonitored(ctx, v, i)) : v.backends;
    if (active.length === 0 && reject) {
      action = `reg0 = 0; reject { outport <-> inport; next(pipeline=egress,table=${f.table(f.v25 ? 'ls_out_qos' : 'ls_out_qos_mark')});};`;
    } else if (active.length === 0) {
      action = 'drop;';
    } else {
      const list = v.healthCheck ? active.map((b) => (v.vip.family === 4 ? `${b.ip}:${b.port}` : `[${b.ip}]:${b.port}`)).join(',') : v.backendIps;
      action = `${lbActionPrefix(f, ctx, v)}ct_lb_mark(backends=${list}${lb.selectionFields ? `; hash_fields="${lb.selectionFields}"` : ''});`;
    }
    let match = `ct.new && ${ip}.dst == ${v.vip.ip}`;
    let priority = 110;
    if (v.vip.port) {
      match += ` && ${lb.proto}.dst == ${v.vip.port}`;
      priority = 120;
    }
    // 9286e1fd: with a VIP-node marker only the VIP node's (filtered, resident) affinity flows exist.
    if (!vipNodeLsp) buildLbAffinityLsFlows(f, lb, v);
    f.add('ls_in_lb', priority, match, action);
  }
}

/**
 * What precedes `ct_lb_mark(…)` in an ls_in_lb flow of VIP `v`:
 * - 23.03 build_lb_rules: `reg0[1] = 0; ` (REGBIT_CONNTRACK_COMMIT cleared so ls_in_stateful does not commit again).
 * - [24.03] build_lb_rules also stores the VIP for hairpin of fragments: `reg0[1] = 0; reg1 = VIP; reg2[0..15] =
 *   PORT; ` (IPv6 `xxreg1 = VIP; `).
 * - [25.03] build_lb_vip_actions writes `reg4 = VIP; reg2[0..15] = PORT; ` (REG_LB_IPV4/IPV6/PORT) and nothing
 *   clears reg0[1] (commit a0beaab8c "northd: Commit from-lport ACL label (and state) when LBs are used").
 * Kube-OVN 1.14's a9e00913 (on 24.03 build_lb_rules, context checked by applying the release-1.14 patch series on
 * ef8f5c1ac) does `ds_clear(action)` before every ls_in_lb flow of the VIP, so none of that prefix survives there;
 * 1.15's 9286e1fd leaves 25.03's prefix alone (build_lb_vip_actions writes it after any clear).
 */
function lbActionPrefix(f: FlowSet, ctx: Ctx, v: Vip): string {
  const port = v.vip.port ? `reg2[0..15] = ${v.vip.port}; ` : '';
  const v6 = v.vip.family === 6;
  if (f.v25) return `${v6 ? 'xxreg1' : 'reg4'} = ${v.vip.ip}; ${port}`;
  if (ctx.profile === 'kube-ovn-1.14') return '';
  if (f.v24) return `reg0[1] = 0; ${v6 ? 'xxreg1' : 'reg1'} = ${v.vip.ip}; ${port}`;
  return 'reg0[1] = 0; ';
}

/** ovn_lb_svc_create: a backend is health-checked when its mapping names an existing, enabled switch port and a
 * parsable source IP. */
function isMonitored(ctx: Ctx, v: Vip, i: number): boolean {
  const m = v.monitors[i];
  const op = m ? ctx.allPorts.get(m.lsp) : undefined;
  return !!m && m.srcIp !== undefined && !!op && op.enabled;
}

/** northd.c build_lswitch_arp_nd_service_monitor: the switch answers ARP/NS for the health checks' source IPs on
 * behalf of $svc_monitor_mac. Built for every load balancer (attached or not) on the backend port's switch. */
function buildServiceMonitorResponders(f: FlowSet, ctx: Ctx, lbs: Lb[], portNames: Set<string>): void {
  const mac = ctx.svcMonitorMac;
  for (const lb of lbs) {
    for (const v of lb.vips) {
      if (!v.healthCheck) continue;
      for (const m of v.monitors) {
        if (!m || m.srcIp === undefined || !portNames.has(m.lsp)) continue;
        if (v.vip.family === 4) {
          f.add('ls_in_arp_rsp', 110, `arp.tpa == ${m.srcIp} && arp.op == 1`, `eth.dst = eth.src; eth.src = ${mac}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = ${mac}; arp.tpa = arp.spa; arp.spa = ${m.srcIp}; outport = inport; flags.loopback = 1; output;`);
        } else {
          f.add('ls_in_arp_rsp', 110, `nd_ns && nd.target == ${m.srcIp}`, `nd_na { eth.dst = eth.src; eth.src = ${mac}; ip6.src = ${m.srcIp}; nd.target = ${m.srcIp}; nd.tll = ${mac}; outport = inport; flags.loopback = 1; output; };`);
        }
      }
    }
  }
}

/** northd.c build_lb_affinity_ls_flows; `only`/`resident`: 9286e1fd's backend filter and chassis guard. */
function buildLbAffinityLsFlows(f: FlowSet, lb: Lb, v: Vip, only?: Set<number>, resident?: string): void {
  if (!lb.affinityTimeout) return;
  const v6 = v.vip.family === 6;
  const ip = v6 ? 'ip6' : 'ip4';
  // [25.03] one register pair for VIP and backend: REG_LB_IPV4 reg4 / REG_LB_IPV6 xxreg1, REG_LB_PORT reg2[0..15]
  // (23.03/24.03: VIP in reg1/xxreg1, chk_lb_aff's backend in reg4/xxreg0 and reg8[0..15]).
  const regVip = v6 ? 'xxreg1' : f.v25 ? 'reg4' : 'reg1';
  const regBackend = f.v25 ? regVip : v6 ? 'xxreg0' : 'reg4';
  const regBackendPort = f.v25 ? 'reg2[0..15]' : 'reg8[0..15]';
  const port = v.vip.port ? String(v.vip.port) : undefined;
  const guard = resident ? ` && is_chassis_resident("${resident}")` : '';
  // [25.03] the check matches the packet itself, not the registers ls_in_pre_stateful loaded.
  const check = f.v25
    ? `ct.new && ${ip} && ${ip}.dst == ${v.vip.ip}${port ? ` && ${lb.proto} && ${lb.proto}.dst == ${port}` : ''}${guard}`
    : `ct.new && ${ip} && ${regVip} == ${v.vip.ip}${port ? ` && reg2[0..15] == ${port}` : ''}${guard}`;
  f.add('ls_in_lb_aff_check', 100, check, 'reg9[6] = chk_lb_aff(); next;');
  const actionHead = `${f.v25 ? '' : 'reg0[1] = 0; '}${regVip} = ${v.vip.ip}; ${port ? `reg2[0..15] = ${port}; ` : ''}ct_lb_mark(backends=`;
  const learnHead = `commit_lb_aff(vip = "${port ? (v6 ? `[${v.vip.ip}]:${port}` : `${v.vip.ip}:${port}`) : v.vip.ip}", backend = "`;
  const learnMatchHead = port
    ? `reg9[6] == 0 && ct.new && ${ip} && ${regVip} == ${v.vip.ip} && reg2[0..15] == ${port} && ${ip}.dst == `
    : `reg9[6] == 0 && ct.new && ${ip} && ${regVip} == ${v.vip.ip} && ${ip}.dst == `;
  // [24.03] build_lb_affinity_ls_flows matches the VIP itself (`ip4.dst == VIP`), not just the family.
  const matchHead = f.v24 ? `reg9[6] == 1 && ct.new && ${ip}.dst == ${v.vip.ip} && ${regBackend} == ` : `reg9[6] == 1 && ct.new && ${ip} && ${regBackend} == `;
  for (const [bi, b] of v.backends.entries()) {
    if (only && !only.has(bi)) continue;
    let action = actionHead;
    let learn = learnHead;
    let learnMatch = learnMatchHead + b.ip;
    let match = matchHead + b.ip;
    if (b.port) {
      const bt = v6 ? `[${b.ip}]:${b.port}` : `${b.ip}:${b.port}`;
      action += bt;
      learn += bt;
      learnMatch += ` && ${lb.proto}.dst == ${b.port}`;
      match += ` && ${regBackendPort} == ${b.port}`;
    } else {
      action += b.ip;
      learn += b.ip;
    }
    action += ');';
    learn += '"';
    if (port) learn += `, proto = ${lb.proto}`;
    learnMatch += guard;
    match += guard;
    learn += `, timeout = ${lb.affinityTimeout}); /* drop */`;
    f.add('ls_in_lb_aff_learn', 100, learnMatch, learn);
    f.add('ls_in_lb', 150, match, action);
  }
}

// ---- Kube-OVN overlays (sources and scope: overlays.ts) -------------------------------------------------------

/** The `ls_in_pre_lb` 105 `next;` flows of node_local_dns_ip, skip_conntrack_dst_cidrs (1.15) and
 * ls_ct_skip_dst_lport_ips (localnet variant; `nRouterPorts` decides the variant as the patch does). */
function kubeOvnPreLbSkips(f: FlowSet, ctx: Ctx, ports: Port[], nRouterPorts: number): void {
  const dns = nodeLocalDnsIps(ctx.opts.node_local_dns_ip);
  for (const ip of dns.v4) f.add('ls_in_pre_lb', 105, `ip4 && ip4.dst == ${ip}`, 'next;');
  for (const ip of dns.v6) f.add('ls_in_pre_lb', 105, `ip6 && ip6.dst == ${ip}`, 'next;');
  if (ctx.profile === 'kube-ovn-1.15') {
    const cidrs = skipConntrackCidrs(ctx.opts.skip_conntrack_dst_cidrs);
    for (const c of cidrs.v4) f.add('ls_in_pre_lb', 105, `ip4 && ip4.dst == ${c}`, 'next;');
    for (const c of cidrs.v6) f.add('ls_in_pre_lb', 105, `ip6 && ip6.dst == ${c}`, 'next;');
  }
  if (!boolOpt(ctx.opts, 'ls_ct_skip_dst_lport_ips', false)) return;
  const localnets = ports.filter((p) => p.type === 'localnet');
  if (nRouterPorts !== 1 && localnets.length === 0) return;
  // With one router port the patch walks peer->od->router_ports — the *router's* router_ports, which northd never
  // fills (ovn_datapath_add_router_port is only called for switches, northd.c 23.03–25.03): no flows, as read.
  if (nRouterPorts === 1) return;
  for (const p of localnets) {
    const ext = p.nb.externalIds ?? {};
    const v4 = ext.ipv4_network;
    if (v4 !== undefined) {
      const m = /^([^/]+)(?:\/(\d+))?$/.exec(v4);
      const a = m ? parseIp4(m[1]!) : undefined;
      if (a === undefined) continue; // ip_parse_cidr failed: the patch skips this port's IPv6 network too
      const plen = m![2] === undefined ? 32 : Number(m![2]);
      if (plen && plen !== 32) f.add('ls_in_pre_lb', 105, `ip4 && ip4.dst == ${formatIp4(a)}/${plen}`, 'next;');
    }
    const v6 = ext.ipv6_network;
    if (v6 !== undefined) {
      const m = /^([^/]+)(?:\/(\d+))?$/.exec(v6);
      const g = m ? parseIp6(m[1]!) : undefined;
      if (!g) continue;
      const plen = m![2] === undefined ? 128 : Number(m![2]);
      if (plen && plen !== 128) f.add('ls_in_pre_lb', 105, `ip6 && ip6.dst == ${formatIp6(g)}/${plen}`, 'next;');
    }
  }
}

/**
 * 4a8e051f (1.14) / 477695a0 (1.15) "northd: skip arp/nd request for lrp addresses from localnet ports", in
 * build_lswitch_arp_nd_responder_known_ips: ARP/NS from a localnet port for the IPs of a plain (not gateway) router
 * port's peer are dropped at ls_in_arp_rsp 105, link-local addresses excepted (169.254/16 with plen ≥ 16,
 * fe80::/10 networks).
 */
function kubeOvnSkipLrpArpFromLocalnet(f: FlowSet, ctx: Ctx, p: Port): void {
  const lrp = p.peer;
  if (p.type !== 'router' || !lrp || (lrp.gatewayChassis ?? []).length > 0) return;
  const net = extractLrpNetworks(lrp.mac, lrp.networks);
  if (!net) return;
  for (const ln of ctx.switchPorts.filter((q) => q.type === 'localnet')) {
    const lk = jsonKey(ln.nb.name);
    for (const c of net.ipv4Cidrs) {
      const a = parseIp4(c.addr)!;
      if (c.plen >= 16 && (a & 0xffff0000) >>> 0 === 0xa9fe0000) continue;
      f.add('ls_in_arp_rsp', 105, `inport == ${lk} && arp.tpa == ${c.addr} && arp.op == 1`, 'drop;');
    }
    net.ipv6Cidrs.forEach((c, i) => {
      // in6_is_lla on the network (address masked to plen).
      const first = c.plen >= 10 ? c.groups[0]! & 0xffc0 : c.plen === 0 ? 0 : c.groups[0]! & (0xffff << (16 - c.plen)) & 0xffc0;
      if (first === 0xfe80) return;
      const ip = net.ipv6[i]!;
      f.add('ls_in_arp_rsp', 105, `inport == ${lk} && nd_ns && ip6.dst == {${ip.addr}, ${ip.sn}} && nd.target == ${ip.addr}`, 'drop;');
    });
  }
}

/**
 * fb0108d8 (1.14) / 52b727b3 (1.15) build_lswitch_mod_dl_src_rules ("set dl_src for packets redirected by router
 * port"): on a switch with router and localnet ports, a packet a plain router port sends with one of a VIF's IPs as
 * source but another MAC gets the VIF's MAC and is looked up again (ls_in_l2_lkup 60).
 */
function kubeOvnModDlSrc(f: FlowSet, p: Port, routerPorts: Port[], hasLocalnet: boolean): void {
  if (!routerPorts.length || !hasLocalnet || !p.enabled) return;
  if (['virtual', 'localport', 'external', 'router'].includes(p.type) || p.hasUnknown) return;
  if (p.addrs.length !== 1) return;
  const a = p.addrs[0]!;
  if (!a.ipv4.length && !a.ipv6.length) return;
  const action = `eth.src = ${a.mac}; next(pipeline=ingress, table=${f.table('ls_in_l2_lkup')});`;
  for (const rp of routerPorts) {
    if ((rp.peer!.gatewayChassis ?? []).length > 0) continue;
    const rk = jsonKey(rp.nb.name);
    for (const ip of a.ipv4) f.add('ls_in_l2_lkup', 60, `inport == ${rk} && ip4.src == ${ip} && eth.src != ${a.mac}`, action);
    for (const ip of a.ipv6) f.add('ls_in_l2_lkup', 60, `inport == ${rk} && ip6.src == ${ip.addr} && eth.src != ${a.mac}`, action);
  }
}

/** 5593e614 / e889d469 build_lswitch_arp_nd_forward_for_unknown_ips: with bcast_arp_req_flood=false a broadcast
 * ARP request from a localnet port for a port's IPv4 address goes to that port (ls_in_arp_rsp 110). */
function kubeOvnArpForward(f: FlowSet, p: Port, ports: Port[]): void {
  for (const ln of ports.filter((q) => q.type === 'localnet')) {
    for (const a of p.addrs) for (const ip of a.ipv4) f.add('ls_in_arp_rsp', 110, `inport == ${jsonKey(ln.nb.name)} && eth.bcast && arp.op == 1 && arp.tpa == ${ip}`, `outport = ${jsonKey(p.nb.name)}; output;`);
  }
}

/** f4b1f5fb / a297b840 build_lswitch_dnat_mod_dl_dst_rules: after DNAT, deliver by destination IP. */
function kubeOvnDnatModDlDst(f: FlowSet, ctx: Ctx, p: Port, nRouterPorts: number): void {
  if (!boolOpt(ctx.opts, 'ls_dnat_mod_dl_dst', false) || nRouterPorts) return;
  if (p.type === 'virtual' || p.type === 'localport' || p.type === 'external' || p.type === 'router' || p.hasUnknown) return;
  if (p.addrs.length !== 1) return;
  const a = p.addrs[0]!;
  if (!a.ipv4.length && !a.ipv6.length) return;
  const action = `eth.dst = ${a.mac}; outport = "${p.nb.name}"; output;`;
  for (const ip of a.ipv4) f.add('ls_in_l2_lkup', 55, `reg0[2] != 0 && ip4.dst == ${ip}`, action);
  for (const ip of a.ipv6) f.add('ls_in_l2_lkup', 55, `reg0[2] != 0 && ip6.dst == ${ip.addr}`, action);
}

/**
 * a9e00913 (1.14) / 9286e1fd (1.15) prefer-local flows of one VIP; returns the VIP-node LSP when 9286e1fd's marker
 * applies (then the generic affinity flows are not built).
 */
function kubeOvnPreferLocal(f: FlowSet, ctx: Ctx, lb: Lb, v: Vip, reject: boolean): string | undefined {
  const v6 = v.vip.family === 6;
  const ip = v6 ? 'ip6' : 'ip4';
  // ovn_lb_backend_set_logical_port: ip_port_mappings keyed by the backend IP ("[IP]" for IPv6), value "LSP:SRC".
  const groups = new Map<string, { ports: string[]; idx: Set<number>; backends: string[] }>();
  // A backend's logical port: with a health check, the one lib/lb.c ovn_lb_vip_backends_health_check_init sets
  // (mapping with a valid source IP; the patch's "else if (prefer_local_backend)" is then skipped), else the
  // mapping's name before any ':' (ovn_lb_backend_set_logical_port).
  const lspOf = (i: number): string | undefined => {
    if (v.healthCheck) return v.monitors[i]?.srcIp !== undefined ? v.monitors[i]!.lsp : undefined;
    const b = v.backends[i]!;
    return lb.nb.ipPortMappings?.[v6 ? `[${b.ip}]` : b.ip]?.split(':')[0];
  };
  v.backends.forEach((b, i) => {
    const lsp = lspOf(i);
    if (lsp === undefined) return;
    const chassis = ctx.allPorts.has(lsp) ? ctx.chassis[lsp] : undefined;
    if (chassis === undefined) return;
    let g = groups.get(chassis);
    if (!g) groups.set(chassis, (g = { ports: [], idx: new Set(), backends: [] }));
    g.ports.push(lsp);
    g.idx.add(i);
    // The patch prints backend->port_str with %s; for a VIP without port that is NULL, which glibc prints "(null)".
    g.backends.push(`${v6 ? `[${b.ip}]` : b.ip}:${b.port ? b.port : '(null)'}`);
  });
  // a9e00913 (1.14) build_lb_vip_actions, health-check branch: sset_contains(chassis ports, backend's logical_port)
  // for every backend, NULL included — ovn-northd dies of SIGSEGV (seen running it; 9286e1fd checks for NULL).
  if (ctx.profile === 'kube-ovn-1.14' && v.healthCheck && groups.size > 0 && v.backends.some((_, i) => lspOf(i) === undefined)) {
    throw new NorthdError('NORTHD_KUBE_OVN_CRASH', `ovn-northd with Kube-OVN 1.14's prefer-local patch (a9e00913) crashes on load balancer ${lb.nb.name}: VIP ${v.vip.ip}${v.vip.port ? `:${v.vip.port}` : ''} has a health check, a backend port bound to a chassis and a backend without a monitored port (ip_port_mappings with a source IP); give every backend a mapping or drop the health check`);
  }
  let vipNodeLsp: string | undefined;
  let vipNodeChassis: string | undefined;
  if (ctx.profile === 'kube-ovn-1.15' && v.vip.port) {
    vipNodeLsp = lb.nb.externalIds?.[`kube-ovn.io/local-external-vip/${v6 ? `[${v.vip.ip}]` : v.vip.ip}:${v.vip.port}`];
    if (vipNodeLsp !== undefined) {
      const c = ctx.allPorts.has(vipNodeLsp) ? ctx.chassis[vipNodeLsp] : undefined;
      if (c !== undefined && groups.has(c)) vipNodeChassis = c;
      f.add('ls_in_lb', 139, `ct.new && ${ip}.dst == ${v.vip.ip} && ${lb.proto}.dst == ${v.vip.port}`, 'next;');
      if (vipNodeChassis !== undefined) underlayVipBackendL2Lookup(f, ctx, lb, v, vipNodeLsp, vipNodeChassis);
    }
  }
  for (const [chassis, g] of groups) {
    if (vipNodeLsp !== undefined && chassis !== vipNodeChassis) continue;
    // The prefix the patch writes on its own base: none under a9e00913's clear (24.03), 25.03's REG_LB registers
    // under 9286e1fd — kept whatever ovnVersion the rest of the switch is built for (the 1.15 patch exists only
    // on 25.03).
    const prefix = ctx.profile === 'kube-ovn-1.15' ? `${v6 ? 'xxreg1' : 'reg4'} = ${v.vip.ip}; ${v.vip.port ? `reg2[0..15] = ${v.vip.port}; ` : ''}` : '';
    // build_lb_vip_actions with the group: under a health check its monitored backends (the NB list otherwise).
    const active = v.healthCheck ? v.backends.flatMap((b, i) => (g.idx.has(i) && isMonitored(ctx, v, i) ? [v6 ? `[${b.ip}]:${b.port}` : `${b.ip}:${b.port}`] : [])) : g.backends;
    let action: string;
    if (active.length === 0 && reject) action = `reg0 = 0; reject { outport <-> inport; next(pipeline=egress,table=${f.table(f.v25 ? 'ls_out_qos' : 'ls_out_qos_mark')});};`;
    else if (active.length === 0) action = 'drop;';
    else action = `${prefix}ct_lb_mark(backends=${active.join(',')}${lb.selectionFields ? `; hash_fields="${lb.selectionFields}"` : ''});`;
    const resident = vipNodeChassis !== undefined ? vipNodeLsp! : g.ports[0]!;
    let match = `ct.new && ${ip}.dst == ${v.vip.ip}`;
    let priority = 130;
    if (v.vip.port) {
      match += ` && ${lb.proto}.dst == ${v.vip.port}`;
      priority = 140;
    }
    match += ` && is_chassis_resident("${resident}")`;
    if (ctx.profile === 'kube-ovn-1.15') buildLbAffinityLsFlows(f, lb, v, g.idx, vipNodeChassis !== undefined ? vipNodeLsp : undefined);
    else buildLbAffinityLsFlows(f, lb, v);
    f.add('ls_in_lb', priority, match, action);
  }
  return vipNodeLsp;
}

/** 9286e1fd build_underlay_vip_backend_l2_lookup_flows: on a switch with router and localnet ports, VIP-node
 * backends are delivered by IP after DNAT. Flows go to the backend's switch; vippath adds them to the switch being
 * built when the backend port is on it (`ctx.switchPorts`). */
function underlayVipBackendL2Lookup(f: FlowSet, ctx: Ctx, lb: Lb, v: Vip, vipNodeLsp: string, vipNodeChassis: string): void {
  const v6 = v.vip.family === 6;
  for (const b of v.backends) {
    const m = lb.nb.ipPortMappings?.[v6 ? `[${b.ip}]` : b.ip];
    if (m === undefined) continue;
    const lsp = m.split(':')[0]!;
    const op = ctx.switchPorts.find((p) => p.nb.name === lsp);
    if (!op || ctx.chassis[lsp] !== vipNodeChassis || !ctx.switchHasRouterAndLocalnet || op.addrs.length !== 1) continue;
    f.add('ls_in_l2_lkup', 55, `reg0[2] != 0 && ${v6 ? 'ip6' : 'ip4'}.dst == ${b.ip} && is_chassis_resident("${vipNodeLsp}")`, `eth.dst = ${op.addrs[0]!.mac}; outport = "${lsp}"; output;`);
  }
}
