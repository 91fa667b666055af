/**
 * An OVN logical switch of a Kube-OVN underlay subnet, with the stages of OVN's pipeline that decide the
 * path to a MetalLB VIP (shared/research/kube-ovn.md §4, §6; DATAPATH.md §2–§3). Each stage records its
 * decision — stage, priority, match, actions — in the trace as `ovn-trace` would show it, from the same code
 * that forwards. Ingress runs on the chassis where the packet entered; egress on the chassis of the outport,
 * which for a remote VIF of this localnet switch is the local localnet port (it leaves on the wire).
 * IPv4 and IPv6 (IPv6 addresses become numbers through the switch's {@link AddressBook}).
 */
import {
  buildFrame, copyBytes, DecodedFrame, FrameDecoder, formatIPv4, formatMac, isMulticastMac, L3, parseIPv4, parseIPv6, parseMac, rewriteIpv4Address,
  rewriteIpv6Address, rewriteMac, rewritePort, VippathError,
} from '@vippath/wire';
import { AddressBook } from './addresses.js';
import { Conntrack, type CtEntry, type Tuple } from './conntrack.js';
import { formatBackends, LoadBalancer, selectBackend, type Backend, type LoadBalancerSpec, type Vip } from './loadbalancer.js';

/** A pod's logical switch port. */
export interface VifPort {
  kind: 'vif';
  name: string;
  mac: string;
  ips: string[];
  /** The chassis it is bound to (Kube-OVN: the node name). */
  chassis: string;
  /** port_security with the MAC and IPs (Kube-OVN sets it by default). */
  portSecurity?: boolean;
}

/** The localnet port `localnet.<subnet>` (addresses "unknown"). */
export interface LocalnetPort {
  kind: 'localnet';
  name: string;
  network: string;
  tag?: number;
}

/** A router port (`type=router`): the switch's side of a logical router's port. Routing itself is not modelled. */
export interface RouterPort {
  kind: 'router';
  name: string;
  mac: string;
  ips: string[];
}

export type LogicalPort = VifPort | LocalnetPort | RouterPort;

/** Kube-OVN versions whose prefer-local flows differ. */
export type KubeOvnProfile = 'kube-ovn-1.14' | 'kube-ovn-1.15.20';

/** Switch-wide options (NB_Global options and Kube-OVN controller flags). */
export interface SwitchOptions {
  profile?: KubeOvnProfile;
  /** `ls_ct_skip_dst_lport_ips` (Kube-OVN default true; the feature needs false). */
  lsCtSkipDstLportIps?: boolean;
  /** `ls_dnat_mod_dl_dst` (default true). */
  lsDnatModDlDst?: boolean;
  /** The subnet CIDR (`localnet` external_ids ipv4_network), used by the skip flows. */
  subnet?: string;
  /** Bound of each conntrack zone. */
  conntrackLimit?: number;
}

/** One stage decision, as ovn-trace shows it. */
export interface StageStep {
  stage: string;
  priority: number;
  match: string;
  actions: string;
  chassis: string;
  note?: string;
}

/** Where a packet leaves the switch. */
export interface SwitchOutput {
  /** The logical port. */
  port: string;
  /** The chassis whose egress sent it (for the localnet port: the chassis whose wire it goes out on). */
  chassis: string;
  frame: Uint8Array;
}

/** The outcome for one packet. */
export type SwitchResult = { verdict: 'output'; outputs: SwitchOutput[] } | { verdict: 'drop'; reason: string };

/** Bad switch construction or use. */
export class LogicalSwitchError extends VippathError {
  constructor(message: string) {
    super('LOGICAL_SWITCH', message);
  }
}

interface CtState {
  trk: boolean;
  new: boolean;
  est: boolean;
  rpl: boolean;
  entry: CtEntry | undefined;
}

function cidrOf(text: string): { net: number; mask: number } {
  const [ip, len] = text.split('/');
  const bits = Number(len ?? 32);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { net: (parseIPv4(ip!) & mask) >>> 0, mask };
}

/**
 * What a packet did to the switch's state, recorded when {@link LogicalSwitch.effects} is set: the conntrack
 * entries it touched, the zones where it found none, and whether it changed anything else (a commit, a load
 * balancer choice, learned affinity, an expiry). A flow cache replays the first two; the rest makes a packet
 * uncacheable.
 */
export interface SwitchEffects {
  touches: Array<{ zone: Conntrack; entry: CtEntry; reply: boolean }>;
  misses: Array<{ zone: Conntrack; version: number }>;
  /** Commits, LB selections, affinity, expiries: state changes a replay could not reproduce. */
  changes: number;
}

/** An OVN logical switch with its load balancers and conntrack zones. */
export class LogicalSwitch {
  /** When set, {@link process} records its effects on state here (see {@link SwitchEffects}). */
  effects: SwitchEffects | undefined;
  /** Bumped when the load balancers change: cached decisions of an older version are void. */
  version = 0;
  readonly name: string;
  readonly ports = new Map<string, LogicalPort>();
  readonly loadBalancers: LoadBalancer[] = [];
  readonly options: Required<Omit<SwitchOptions, 'subnet'>> & { subnet?: string };
  private readonly zones = new Map<string, Conntrack>();
  private readonly zoneRows = new Map<string, Map<string, Conntrack>>();
  /** Ports with addresses (VIFs and router ports) by MAC and by IP. */
  private readonly vifByMac = new Map<string, VifPort | RouterPort>();
  private readonly vifByIp4 = new Map<number, VifPort | RouterPort>();
  private readonly vifByIp6 = new Map<number, VifPort | RouterPort>();
  /** Interned IPv6 addresses (public for traces and reports). */
  readonly book = new AddressBook();
  private readonly decoder = new FrameDecoder();
  private readonly d = new DecodedFrame();
  private readonly skip?: { net: number; mask: number };
  /** Learned session affinity per chassis (ls_in_lb_aff_learn): "<chassis>|<VIP key>|<family>|<client>" → backend. */
  private readonly affinity = new Map<string, { backend: Backend; lastUsed: number }>();
  private readonly hasRouterPort: boolean;
  private readonly localBackends = new WeakMap<Vip, Map<string, Backend[]>>();
  /** Each VIF's and router port's MAC as bytes and IPv4 addresses as numbers, made once. */
  private readonly macBytes = new Map<string, Uint8Array>();
  private readonly ip4s = new Map<string, number[]>();

  constructor(name: string, ports: LogicalPort[], loadBalancers: LoadBalancerSpec[] = [], options: SwitchOptions = {}) {
    this.name = name;
    this.options = {
      profile: options.profile ?? 'kube-ovn-1.14',
      lsCtSkipDstLportIps: options.lsCtSkipDstLportIps ?? false,
      lsDnatModDlDst: options.lsDnatModDlDst ?? true,
      conntrackLimit: options.conntrackLimit ?? 65536,
      ...(options.subnet ? { subnet: options.subnet } : {}),
    };
    if (options.subnet) this.skip = cidrOf(options.subnet);
    for (const p of ports) {
      if (this.ports.has(p.name)) throw new LogicalSwitchError(`two ports named ${p.name}`);
      this.ports.set(p.name, p);
      if (p.kind === 'vif' || p.kind === 'router') {
        this.vifByMac.set(formatMac(parseMac(p.mac)), p);
        this.macBytes.set(p.name, parseMac(p.mac));
        this.ip4s.set(p.name, p.ips.filter((ip) => !ip.includes(':')).map((ip) => parseIPv4(ip)));
        for (const ip of p.ips) {
          if (ip.includes(':')) this.vifByIp6.set(this.book.intern(parseIPv6(ip)), p);
          else this.vifByIp4.set(parseIPv4(ip), p);
        }
      }
    }
    for (const lb of loadBalancers) this.loadBalancers.push(new LoadBalancer(lb, this.book));
    this.hasRouterPort = ports.some((p) => p.kind === 'router');
  }

  /**
   * Replaces the switch's load balancers, as ovn-northd does when the controller rewrites their VIPs (endpoints
   * became ready or not, the announcing node moved). Conntrack entries stay: established connections keep their
   * DNAT, as in OVN (only UDP LBs with `ct_flush` flush). Learned affinity is checked against the new backends
   * on use, so nothing stale is chosen.
   */
  setLoadBalancers(specs: LoadBalancerSpec[]): void {
    const next = specs.map((lb) => new LoadBalancer(lb, this.book));
    this.version++;
    this.loadBalancers.length = 0;
    this.loadBalancers.push(...next);
  }

  private get localnet(): LocalnetPort | undefined {
    for (const p of this.ports.values()) if (p.kind === 'localnet') return p;
    return undefined;
  }

  /** The conntrack zone of `port` on `chassis` (one per logical port per chassis, the localnet port included). */
  zone(chassis: string, port: string): Conntrack {
    let row = this.zoneRows.get(chassis);
    if (!row) this.zoneRows.set(chassis, (row = new Map()));
    let z = row.get(port);
    if (!z) {
      row.set(port, (z = new Conntrack(this.options.conntrackLimit)));
      this.zones.set(`${chassis}/${port}`, z);
    }
    return z;
  }

  /** Every zone, for invariants and reports. */
  allZones(): Array<{ chassis: string; port: string; conntrack: Conntrack }> {
    return [...this.zones].map(([k, conntrack]) => {
      const [chassis, port] = k.split('/') as [string, string];
      return { chassis, port, conntrack };
    });
  }

  /**
   * Processes a packet entering from logical port `inport` on `chassis` at simulated time `now` (ms).
   * `frame` is not modified; outputs are new arrays. With `trace`, every stage decision is appended.
   */
  process(frame: Uint8Array, inport: string, chassis: string, now = 0, trace?: StageStep[]): SwitchResult {
    const inp = this.ports.get(inport);
    if (!inp) throw new LogicalSwitchError(`no logical port ${inport} on ${this.name}`);
    if (inp.kind === 'vif' && inp.chassis !== chassis) throw new LogicalSwitchError(`${inport} is bound to ${inp.chassis}, not ${chassis}`);
    const buf = copyBytes(frame);
    const d = this.d;
    this.decoder.decode(buf, d);
    // Optional, so that without a trace the arguments (strings) are never even built.
    const step: StepFn | undefined = trace ? (stage, priority, match, actions, note) => void trace.push({ stage, priority, match, actions, chassis, ...(note ? { note } : {}) }) : undefined;
    const drop = (reason: string): SwitchResult => ({ verdict: 'drop', reason });
    if (d.status !== 0 && d.l3 === L3.NONE) return drop('malformed frame');
    const v6 = d.l3 === L3.IPV6;
    const ipn = v6 ? 'ip6' : 'ip4';
    const isIp = (d.l3 === L3.IPV4 || v6) && d.status === 0;
    const src = v6 && isIp ? this.book.intern(buf, d.l3Offset + 8) : d.ipSrc;
    const dst = v6 && isIp ? this.book.intern(buf, d.l3Offset + 24) : d.ipDst;
    const fmt = (n: number): string => this.book.format(n, v6);

    // ls_in_check_port_sec: a VIF may only send from its own MAC (and IPv4 addresses).
    if (inp.kind === 'vif' && inp.portSecurity !== false) {
      if (!sameMac(buf, 6, this.macBytes.get(inp.name)!)) {
        step?.('ls_in_check_port_sec', 50, `inport == "${inport}"`, 'drop;', `eth.src ${formatMac(buf, 6)} is not ${inp.mac}`);
        return drop(`port security: ${inport} sent from ${formatMac(buf, 6)}`);
      }
      if (d.l3 === L3.IPV4 && !this.ip4s.get(inp.name)!.includes(d.ipSrc)) {
        step?.('ls_in_check_port_sec', 90, `inport == "${inport}" && ip4`, 'drop;', `ip4.src ${formatIPv4(d.ipSrc)} is not one of ${inp.ips.join(', ')}`);
        return drop(`port security: ${inport} sent from ${formatIPv4(d.ipSrc)}`);
      }
      step?.('ls_in_check_port_sec', 50, `inport == "${inport}" && eth.src == {${inp.mac}}`, 'next;');
    }

    const hasVips = this.loadBalancers.some((lb) => lb.vips.length > 0);
    let reg0bit2 = false;
    // ls_in_pre_lb.
    if (hasVips && isMulticastMac(buf, 0)) {
      step?.('ls_in_pre_lb', 110, 'eth.mcast', 'next;', 'multicast and broadcast skip conntrack');
    } else if (isIp && hasVips && inp.kind === 'router') {
      step?.('ls_in_pre_lb', 110, `ip && inport == "${inport}"`, 'next;', 'router ports skip conntrack');
    } else if (isIp && hasVips) {
      if (!v6 && this.options.lsCtSkipDstLportIps && this.skip && ((d.ipDst & this.skip.mask) >>> 0) === this.skip.net) {
        step?.('ls_in_pre_lb', 105, `ip4 && ip4.dst == ${this.options.subnet}`, 'next;', 'ls_ct_skip_dst_lport_ips: no conntrack, so no load balancing');
      } else {
        reg0bit2 = true;
        step?.('ls_in_pre_lb', 100, 'ip', 'reg0[2] = 1; next;');
      }
    } else step?.('ls_in_pre_lb', 0, '1', 'next;');

    // ls_in_pre_stateful: ct_lb_mark in the inport's zone applies existing NAT.
    const ct: CtState = { trk: false, new: false, est: false, rpl: false, entry: undefined };
    let vip: Vip | undefined;
    let vipLb: LoadBalancer | undefined;
    if (reg0bit2) {
      for (const lb of this.loadBalancers) {
        vip = lb.match(d.ipProto, v6, dst, d.dstPort);
        if (vip) {
          vipLb = lb;
          break;
        }
      }
      this.ctLb(buf, d, this.zone(chassis, inport), ct, now);
      if (vip) step?.('ls_in_pre_stateful', 120, `reg0[2] == 1 && ${ipn}.dst == ${fmt(vip.ip)} && ${protoName(vip.proto)}.dst == ${vip.port}`, `${v6 ? 'xxreg1' : 'reg1'} = ${fmt(vip.ip)}; reg2[0..15] = ${vip.port}; ct_lb_mark;`, this.ctNote(ct));
      else step?.('ls_in_pre_stateful', 110, 'reg0[2] == 1', 'ct_lb_mark;', this.ctNote(ct));
    } else step?.('ls_in_pre_stateful', 0, '1', 'next;');

    // ls_in_lb: a new connection to a VIP is DNATed to a backend (prefer-local per the Kube-OVN profile).
    let chosen: Backend | undefined;
    let loopback = false;
    if (vip && vipLb && ct.new) {
      const decision = this.lbDecision(vipLb, vip, chassis, step !== undefined);
      // Session affinity (ls_in_lb_aff_check / prio-150 ls_in_lb / ls_in_lb_aff_learn), learned per chassis.
      const affKey = vipLb.affinityMs > 0 ? `${chassis}|${vip.key}|${v6}|${src}` : '';
      if (affKey && decision.backends.length) {
        step?.('ls_in_lb_aff_check', 100, `ct.new && ${ipn} && reg1 == ${fmt(vip.ip)} && reg2[0..15] == ${vip.port}`, 'reg9[6] = chk_lb_aff(); next;');
        const learned = this.affinity.get(affKey);
        if (learned && now - learned.lastUsed <= vipLb.affinityMs && decision.backends.some((b) => b.ip === learned.backend.ip && b.port === learned.backend.port)) {
          decision.priority = 150;
          if (step) decision.match = `reg9[6] == 1 && ct.new && ${ipn}.dst == ${fmt(vip.ip)} && ${protoName(vip.proto)}.dst == ${vip.port} && reg4 == ${fmt(learned.backend.ip)}`;
          decision.backends = [learned.backend];
          decision.note = 'session affinity';
        } else if (learned) this.affinity.delete(affKey);
        if (this.effects) this.effects.changes++;
      }
      const m = step ? `ct.new && ${ipn}.dst == ${fmt(vip.ip)} && ${protoName(vip.proto)}.dst == ${vip.port}` : '';
      if (decision.backends.length === 0) {
        step?.('ls_in_lb', decision.priority, decision.priority === 139 ? m : `${m}`, 'next;', decision.note);
      } else {
        chosen = selectBackend(decision.backends, src, d.srcPort, dst, d.dstPort, d.ipProto, vipLb.hashSrcOnly);
        if (this.effects) this.effects.changes++;
        if (affKey) {
          this.affinity.set(affKey, { backend: chosen, lastUsed: now });
          step?.('ls_in_lb_aff_learn', 100, `reg9[6] == 0 && ct.new && ${ipn}.dst == ${fmt(vip.ip)}`, `commit_lb_aff(vip = "${vip.key}", backend = "${fmt(chosen.ip)}:${chosen.port}", proto = ${protoName(vip.proto)}, timeout = ${vipLb.affinityMs / 1000});`);
        }
        const actions = step ? `ct_lb_mark(backends=${formatBackends(decision.backends, this.book)});` : '';
        step?.('ls_in_lb', decision.priority, decision.match ?? m, actions, `${decision.note ? `${decision.note}; ` : ''}chose ${fmt(chosen.ip)}:${chosen.port}`);
        // ls_in_pre_hairpin / ls_in_nat_hairpin: a backend reaching its own VIP is SNATed to the VIP.
        const hairpin = src === chosen.ip;
        const orig: Tuple = { proto: d.ipProto | (v6 ? 0x100 : 0), src, sport: d.srcPort, dst, dport: d.dstPort };
        ct.entry = this.zone(chassis, inport).commit(orig, { ip: chosen.ip, port: chosen.port }, now, hairpin ? vip.ip : undefined);
        this.setAddress(buf, d, 'dst', chosen.ip);
        if (d.dstPort !== chosen.port) rewritePort(buf, d, 2, chosen.port);
        if (hairpin) {
          loopback = true;
          this.setAddress(buf, d, 'src', vip.ip);
          step?.('ls_in_nat_hairpin', 100, 'ip && ct.new && ct.trk && reg0[6] == 1', 'ct_snat_to_vip; next;', `hairpin: source becomes ${fmt(vip.ip)}`);
        }
      }
    } else if (reg0bit2) step?.('ls_in_lb', 0, '1', 'next;');
    if (ct.est && ct.entry && ct.entry.reply.dst !== ct.entry.orig.src) {
      // chk_lb_hairpin / chk_lb_hairpin_reply: packets of a hairpinned connection may go back out of the inport.
      loopback = true;
      step?.('ls_in_hairpin', 1, 'reg0[6] == 1 || reg0[12] == 1', 'flags.loopback = 1; next;');
    }

    // ls_in_arp_rsp: OVN answers ARP for its VIFs' addresses, but nothing that comes from the localnet port.
    if (inp.kind === 'localnet') step?.('ls_in_arp_rsp', 100, `inport == "${inport}"`, 'next;');
    else if (d.l3 === L3.ARP && d.status === 0 && d.arpOp === 1 && (this.ip4s.get(inp.name)?.includes(d.arpTpa) ?? false)) {
      // A port asking for its own address (gratuitous ARP, duplicate-address probing) is not answered.
      step?.('ls_in_arp_rsp', 100, `arp.tpa == ${formatIPv4(d.arpTpa)} && arp.op == 1 && inport == "${inport}"`, 'next;');
    } else if (d.l3 === L3.ARP && d.status === 0 && d.arpOp === 1) {
      {
        const target = this.vifByIp4.get(d.arpTpa);
        if (target && target !== inp) {
          step?.('ls_in_arp_rsp', 50, `arp.tpa == ${formatIPv4(d.arpTpa)} && arp.op == 1`, `eth.dst = eth.src; eth.src = ${target.mac}; arp.op = 2; /* ARP reply */ outport = inport; flags.loopback = 1; output;`);
          const reply = buildFrame({ dst: formatMac(buf, 6), src: target.mac, arp: { op: 2, senderMac: target.mac, senderIp: formatIPv4(d.arpTpa), targetMac: formatMac(buf, d.l3Offset + 8), targetIp: formatIPv4(d.arpSpa) } });
          return { verdict: 'output', outputs: [{ port: inport, chassis, frame: reply }] };
        }
      }
    }

    // ls_in_l2_lkup.
    let outports: string[];
    if (isMulticastMac(buf, 0)) {
      outports = [...this.ports.values()].filter((p) => p.name !== inport && (p.kind !== 'vif' || p.chassis === chassis)).map((p) => p.name);
      step?.('ls_in_l2_lkup', 70, 'eth.mcast', 'outport = "_MC_flood"; output;');
    } else {
      const dstNow = isIp ? (v6 ? this.book.intern(buf, d.l3Offset + 24) : d.ipDst) : 0;
      // Kube-OVN's prio-55 delivery by IP exists only on switches without router ports (kube-ovn.md §4.3).
      const byIp = reg0bit2 && this.options.lsDnatModDlDst && !this.hasRouterPort && isIp ? (v6 ? this.vifByIp6 : this.vifByIp4).get(dstNow) : undefined;
      if (byIp) {
        rewriteMac(buf, 0, this.macBytes.get(byIp.name)!);
        step?.('ls_in_l2_lkup', 55, `reg0[2] != 0 && ${ipn}.dst == ${fmt(dstNow)}`, `eth.dst = ${byIp.mac}; outport = "${byIp.name}"; output;`);
        outports = [byIp.name];
      } else {
        const byMac = this.vifByMac.get(formatMac(buf, 0));
        if (byMac) {
          step?.('ls_in_l2_lkup', 50, `eth.dst == ${byMac.mac}`, `outport = "${byMac.name}"; output;`);
          outports = [byMac.name];
        } else {
          step?.('ls_in_l2_lkup', 0, '1', 'outport = get_fdb(eth.dst); next;');
          step?.('ls_in_l2_unknown', 50, 'outport == "none"', 'outport = "_MC_unknown"; output;');
          outports = [...this.ports.values()].filter((p) => p.kind === 'localnet').map((p) => p.name);
        }
      }
    }
    // Never back out of the inport (a hairpinned packet sets flags.loopback and may).
    if (!loopback) outports = outports.filter((p) => p !== inport);
    if (outports.length === 0) return drop(inp.kind === 'localnet' ? 'no logical port for the destination (unknown MAC from the localnet port is not sent back out of it)' : 'no outport');

    const outputs: SwitchOutput[] = [];
    for (const name of outports) {
      const out = this.ports.get(name)!;
      const copy = outports.length > 1 ? buf.slice() : buf;
      // A remote VIF of a localnet switch is reached through this chassis' localnet port (table 43 → localnet).
      const viaLocalnet = out.kind === 'vif' && out.chassis !== chassis;
      const egressPort = viaLocalnet ? this.localnet?.name : name;
      if (!egressPort) continue;
      // A packet from the localnet port to a VIF on another chassis is not sent back out of the localnet port:
      // that chassis takes its own copy off the wire (OVN's loopback check: logical inport = outport once the
      // remote VIF maps to the localnet port). A load-balanced packet is the exception research/kube-ovn.md
      // §6.4.4 describes — the prio-120 fallback sends the DNATed request to the remote backend over the wire.
      if (viaLocalnet && egressPort === inport && !vip) {
        step?.('ls_out_apply_port_sec', 0, '1', 'drop;', `${name} is on ${out.kind === 'vif' ? out.chassis : '?'}: not sent back out of ${inport}`);
        continue;
      }
      const r = this.egress(copy, egressPort, chassis, now, step);
      if (r) outputs.push({ port: egressPort, chassis, frame: r });
    }
    if (outputs.length === 0) return drop(outports.every((n) => { const o = this.ports.get(n)!; return o.kind === 'vif' && o.chassis !== chassis; }) && inp.kind === 'localnet' ? 'destination is a VIF on another chassis: a frame from the localnet port is not sent back out of it' : 'egress port security');
    return { verdict: 'output', outputs };
  }

  /** Which ls_in_lb flow applies on `chassis`, per Kube-OVN profile (kube-ovn.md §3.3). */
  private lbDecision(lb: LoadBalancer, vip: Vip, chassis: string, text: boolean): { priority: number; backends: Backend[]; match?: string; note?: string } {
    // A VIP's backends per chassis, worked out once per load-balancer version.
    let byChassis = this.localBackends.get(vip);
    if (!byChassis) this.localBackends.set(vip, (byChassis = new Map()));
    const local = (node: string): Backend[] => {
      let list = byChassis.get(node);
      if (!list) {
        list = vip.backends.filter((b) => {
          if (!b.lsp) return false;
          const p = this.ports.get(b.lsp);
          return p?.kind === 'vif' && p.chassis === node;
        });
        byChassis.set(node, list);
      }
      return list;
    };
    const m = text ? `ct.new && ${vip.v6 ? 'ip6' : 'ip4'}.dst == ${this.book.format(vip.ip, vip.v6)} && ${protoName(vip.proto)}.dst == ${vip.port}` : '';
    if (lb.preferLocal && this.options.profile === 'kube-ovn-1.15.20' && vip.vipNode) {
      const vipChassis = vip.vipNode.replace(/^node-/, '');
      const mine = local(vipChassis);
      if (chassis === vipChassis && mine.length) return { priority: 140, backends: mine, match: `${m} && is_chassis_resident("${vip.vipNode}")` };
      return { priority: 139, backends: [], note: chassis === vipChassis ? 'the VIP node has no local backend: no DNAT anywhere' : `not the VIP node (${vipChassis}): DNAT deferred to it` };
    }
    if (lb.preferLocal) {
      const mine = local(chassis);
      if (mine.length) return { priority: 140, backends: mine, match: `${m} && is_chassis_resident("${mine[0]!.lsp}")` };
      return { priority: 120, backends: vip.backends, note: 'no backend on this chassis: any backend (a remote one breaks the reply path)' };
    }
    return { priority: 120, backends: vip.backends };
  }

  /** ct_lb_mark without backends: find the connection in `zone`, apply its NAT in the packet's direction. */
  private ctLb(buf: Uint8Array, d: DecodedFrame, zone: Conntrack, ct: CtState, now: number): void {
    ct.trk = true;
    if (d.l4Offset < 0 && d.ipProto !== 1) {
      ct.new = true;
      return;
    }
    const v6 = d.l3 === L3.IPV6;
    const t: Tuple = {
      proto: d.ipProto | (v6 ? 0x100 : 0),
      src: v6 ? this.book.intern(buf, d.l3Offset + 8) : d.ipSrc,
      sport: d.srcPort,
      dst: v6 ? this.book.intern(buf, d.l3Offset + 24) : d.ipDst,
      dport: d.dstPort,
    };
    const expired = zone.expirations;
    const { entry, reply } = zone.lookup(t, now);
    if (this.effects) {
      if (zone.expirations !== expired) this.effects.changes++;
      if (entry) this.effects.touches.push({ zone, entry, reply });
      else this.effects.misses.push({ zone, version: zone.version });
    }
    if (!entry) {
      ct.new = true;
      return;
    }
    ct.est = true;
    ct.rpl = reply;
    ct.entry = entry;
    zone.touch(entry, reply, d.tcpFlags, now);
    if (!entry.dnat) return;
    if (!reply) {
      this.setAddress(buf, d, 'dst', entry.dnat.ip);
      if (d.dstPort !== entry.dnat.port) rewritePort(buf, d, 2, entry.dnat.port);
      if (entry.reply.dst !== entry.orig.src) this.setAddress(buf, d, 'src', entry.reply.dst);
    } else {
      // Reply direction: un-DNAT, so the source becomes the VIP again (and un-SNAT a hairpin).
      this.setAddress(buf, d, 'src', entry.orig.dst);
      if (d.srcPort !== entry.orig.dport) rewritePort(buf, d, 0, entry.orig.dport);
      if (entry.reply.dst !== entry.orig.src) this.setAddress(buf, d, 'dst', entry.orig.src);
    }
  }

  /** Writes an address (its family from the packet) into the source or destination field, fixing checksums. */
  private setAddress(buf: Uint8Array, d: DecodedFrame, which: 'src' | 'dst', n: number): void {
    if (d.l3 === L3.IPV6) rewriteIpv6Address(buf, d, which === 'src' ? 8 : 24, this.book.bytesOf(n));
    else rewriteIpv4Address(buf, d, which === 'src' ? 12 : 16, n);
  }

  private ctNote(ct: CtState): string {
    const flags = [ct.trk && 'trk', ct.new && 'new', ct.est && 'est', ct.rpl && 'rpl'].filter(Boolean).join('|');
    const e = ct.entry;
    const nat = e?.dnat && ct.est ? `, ${ct.rpl ? 'un-DNAT to VIP' : `DNAT to ${this.book.format(e.dnat.ip, (e.orig.proto & 0x100) !== 0)}:${e.dnat.port}`}` : '';
    return `ct_state=${flags}${nat}`;
  }

  private egress(buf: Uint8Array, outport: string, chassis: string, now: number, step: StepFn | undefined): Uint8Array | undefined {
    const out = this.ports.get(outport)!;
    const d = this.d;
    this.decoder.decode(buf, d);
    const v6 = d.l3 === L3.IPV6;
    const isIp = (d.l3 === L3.IPV4 || v6) && d.status === 0;
    if (this.loadBalancers.length && isMulticastMac(buf, 0)) {
      step?.('ls_out_pre_lb', 110, 'eth.mcast', 'next;');
    } else if (isIp && this.loadBalancers.length && out.kind === 'router') {
      step?.('ls_out_pre_lb', 110, `ip && outport == "${outport}"`, 'next;');
    } else if (isIp && this.loadBalancers.length) {
      step?.('ls_out_pre_lb', 100, 'ip', 'reg0[2] = 1; next;');
      const ct: CtState = { trk: false, new: false, est: false, rpl: false, entry: undefined };
      this.ctLb(buf, d, this.zone(chassis, outport), ct, now);
      step?.('ls_out_pre_stateful', 110, 'reg0[2] == 1', 'ct_lb_mark;', `zone ${chassis}/${outport}: ${this.ctNote(ct)}`);
    } else step?.('ls_out_pre_lb', 0, '1', 'next;');
    if (out.kind === 'vif' && out.portSecurity !== false && !isMulticastMac(buf, 0)) {
      if (!sameMac(buf, 0, this.macBytes.get(out.name)!)) {
        step?.('ls_out_apply_port_sec', 100, `outport == "${outport}"`, 'drop;', `eth.dst ${formatMac(buf, 0)} is not ${out.mac}`);
        return undefined;
      }
      // Port security with addresses also filters the IPv4 destination (ls_out_check_port_sec).
      if (isIp && !v6 && d.ipDst !== 0xffffffff && (d.ipDst >>> 28) !== 0xe && !this.ip4s.get(out.name)!.includes(d.ipDst)) {
        step?.('ls_out_check_port_sec', 80, `outport == "${outport}" && eth.dst == ${out.mac} && ip4`, 'drop;', `ip4.dst ${formatIPv4(d.ipDst)} is not one of ${out.ips.join(', ')}`);
        return undefined;
      }
      // IPv6: its addresses, its EUI-64 link-local address, and multicast (ff00::/8) pass.
      if (isIp && v6 && buf[d.l3Offset + 24] !== 0xff) {
        const dst6 = this.book.intern(buf, d.l3Offset + 24);
        const allowed = out.ips.filter((ip) => ip.includes(':')).map((ip) => this.book.intern(parseIPv6(ip)));
        allowed.push(this.book.intern(eui64LinkLocal(out.mac)));
        if (!allowed.includes(dst6)) {
          step?.('ls_out_check_port_sec', 80, `outport == "${outport}" && eth.dst == ${out.mac} && ip6`, 'drop;', `ip6.dst ${this.book.format(dst6, true)} is not an address of ${outport}`);
          return undefined;
        }
      }
    }
    step?.('ls_out_apply_port_sec', 0, '1', 'output;', `to ${outport}${out.kind === 'localnet' ? ` (wire of ${chassis})` : ''}`);
    return buf;
  }
}

type StepFn = (stage: string, priority: number, match: string, actions: string, note?: string) => void;

function sameMac(buf: Uint8Array, at: number, mac: Uint8Array): boolean {
  return buf[at] === mac[0] && buf[at + 1] === mac[1] && buf[at + 2] === mac[2] && buf[at + 3] === mac[3] && buf[at + 4] === mac[4] && buf[at + 5] === mac[5];
}

/** The EUI-64 link-local address of a MAC (RFC 4291 App. A). */
function eui64LinkLocal(mac: string): Uint8Array {
  const m = parseMac(mac);
  return Uint8Array.of(0xfe, 0x80, 0, 0, 0, 0, 0, 0, m[0]! ^ 2, m[1]!, m[2]!, 0xff, 0xfe, m[3]!, m[4]!, m[5]!);
}

function protoName(p: number): string {
  return p === 6 ? 'tcp' : p === 17 ? 'udp' : `ip.proto ${p}`;
}



/** Renders stage steps as text in the manner of `ovn-trace --detailed` (stage, match, priority, actions). */
export function formatOvnTrace(datapath: string, inport: string, steps: readonly StageStep[], result: SwitchResult): string {
  const lines = [`ingress(dp="${datapath}", inport="${inport}")`];
  let egress = false;
  for (const s of steps) {
    if (!egress && s.stage.startsWith('ls_out_')) {
      egress = true;
      lines.push(`egress(dp="${datapath}") on ${s.chassis}`);
    }
    lines.push(` ${s.stage}: ${s.match}, priority ${s.priority}`, `    ${s.actions}${s.note ? ` /* ${s.note} */` : ''}`);
  }
  lines.push(result.verdict === 'output' ? `/* output to ${result.outputs.map((o) => `"${o.port}" on ${o.chassis}`).join(', ')} */` : `/* drop: ${result.reason} */`);
  return `${lines.join('\n')}\n`;
}
