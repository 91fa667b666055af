/**
 * One node's MetalLB speaker in layer-2 mode: which interfaces get ARP/NDP responders
 * (internal/layer2/announcer.go updateInterfaces), what it answers (arp.go, ndp.go), and its gratuitous
 * announcements (Announce.spamLoop) in simulated time. research/metallb.md §3–§5.
 *
 * In vippath's Kube-OVN topology the underlay VLAN device is an OVS port (it has a master), so it gets no
 * responder; the one that answers is `br-provider`'s internal (LOCAL) port.
 */
import {
  buildFrame, DecodedFrame, DecodeStatus, equalIPv6, FrameDecoder, formatIPv6, formatMac, isBroadcastMac,
  L3, parseIPv6, parseMac, writeIPv4,
} from '@vippath/wire';
import { formatIp, parseIp } from './ip.js';
import { PROFILES, type MetalLBProfile } from './profile.js';

/** A network interface of the node, as the speaker sees it (`ip link` flags). */
export interface SpeakerInterface {
  name: string;
  mac: string;
  /** IFF_UP (administrative). Default true. */
  up?: boolean;
  /** IFF_BROADCAST. Default true. */
  broadcast?: boolean;
  /** IFF_NOARP. Default false. */
  noarp?: boolean;
  /** The master device (bond, bridge, `ovs-system`); a port with a master gets no responder. */
  master?: string;
  /** The IPv6 link-local address; default the EUI-64 one from the MAC; `null` for none (no NDP responder). */
  ipv6LinkLocal?: string | null;
}

/** The default `announcedInterfacesToExclude` of metallb-native.yaml (v0.13.10+; not in v0.13.7). */
export const DEFAULT_EXCLUDED_INTERFACES: readonly RegExp[] = [
  /^docker.*/, /^cbr.*/, /^dummy.*/, /^virbr.*/, /^lxcbr.*/, /^veth.*/, /^lo$/, /^cali.*/, /^tunl.*/, /^flannel.*/,
  /^kube-ipvs.*/, /^cni.*/, /^nodelocaldns.*/, /^lxc.*/,
];

/** ARP over Ethernet/IPv4, operation 2 (reply): hardware type 1, protocol 0x0800, sizes 6 and 4 (RFC 826). */
const ARP_REPLY_HEADER = Uint8Array.of(0, 1, 8, 0, 6, 4, 0, 2);

/** Why a responder did not answer a frame (MetalLB's drop reasons, plus vippath's for frames it never sees). */
export type ResponderDrop =
  | 'arpReply'
  | 'ethernetDestination'
  | 'notMatchInterface'
  | 'announceIP'
  | 'messageType'
  | 'noSourceLL'
  | 'ownLinkLocal'
  | 'notListening'
  | 'noResponder'
  | 'malformed';

/** What the speaker did with a frame. */
export type ResponderVerdict =
  | { verdict: 'reply'; frame: Uint8Array }
  | { verdict: 'drop'; reason: ResponderDrop }
  /** Not ARP or neighbor discovery: not the responders' business. */
  | { verdict: 'ignore' };

/** A frame the speaker sends on its own (gratuitous ARP, unsolicited NA). */
export interface EmittedFrame {
  /** Simulated time in milliseconds. */
  time: number;
  node: string;
  interface: string;
  frame: Uint8Array;
}

/** Where an address is announced: all interfaces, or the listed ones. */
export interface AdvertisementScope {
  all: boolean;
  interfaces: readonly string[];
}

/** MetalLB's gratuitous schedule: a shared 1100 ms ticker, each address for 5 s after its last SetBalancer. */
export const GARP_PERIOD_MS = 1100;
export const GARP_WINDOW_MS = 5000;

interface Responder {
  iface: SpeakerInterface;
  mac: Uint8Array;
  arp: boolean;
  /** 16 bytes, or undefined when the interface has no NDP responder. */
  linkLocal: Uint8Array | undefined;
}

interface Announcement {
  ip: string;
  family: 4 | 6;
  bytes: Uint8Array;
  v4: number;
  scope: AdvertisementScope;
}

/** EUI-64 link-local address of a MAC (RFC 4291 App. A), the kernel's default. */
export function linkLocalFromMac(mac: string): string {
  const m = parseMac(mac);
  const hex = (a: number, b: number): string => ((a << 8) | b).toString(16);
  return `fe80::${hex(m[0]! ^ 2, m[1]!)}:${hex(m[2]!, 0xff)}:${hex(0xfe, m[3]!)}:${hex(m[4]!, m[5]!)}`;
}

/** The solicited-node multicast group of an address (RFC 4291 §2.7.1): ff02::1:ffXX:XXXX. */
export function solicitedNode(ip: Uint8Array): Uint8Array {
  const g = parseIPv6('ff02::1:ff00:0');
  g[13] = ip[13]!;
  g[14] = ip[14]!;
  g[15] = ip[15]!;
  return g;
}

const ALL_NODES = parseIPv6('ff02::1');

/** One node's speaker. */
export class Speaker {
  readonly node: string;
  /** Counts of frames not answered, by reason. */
  readonly drops: Partial<Record<ResponderDrop, number>> = {};
  /**
   * When set, every frame not answered appends its reason here: what a cache of the path replays through
   * {@link creditDrop} for a frame it serves without running the responder.
   */
  effects: ResponderDrop[] | undefined;
  private readonly responders = new Map<string, Responder>();
  private readonly interfaceNames: string[] = [];
  /** Per service, its advertisements. */
  private readonly services = new Map<string, Announcement[]>();
  /** Announced address → how many services announce it (announcer refcount). */
  private readonly refcount = new Map<string, number>();
  /** Address → end of its gratuitous window. */
  private readonly spam = new Map<string, number>();
  private tickerPhase: number | undefined;
  private lastTick = -Infinity;
  private readonly decoder = new FrameDecoder();
  private readonly d = new DecodedFrame();

  constructor(node: string, interfaces: readonly SpeakerInterface[], options: { profile?: MetalLBProfile; excludeInterfaces?: readonly RegExp[] } = {}) {
    this.node = node;
    const profile = options.profile ?? 'metallb-0.13.7';
    const exclude = options.excludeInterfaces ?? (PROFILES[profile].defaultInterfaceExclusions ? DEFAULT_EXCLUDED_INTERFACES : []);
    for (const iface of interfaces) {
      if (exclude.some((re) => re.test(iface.name))) continue;
      // Listed before the flag checks: MatchInterfaces sees down and enslaved interfaces too.
      this.interfaceNames.push(iface.name);
      if (iface.up === false || iface.master !== undefined || iface.noarp === true) continue;
      const ll = iface.ipv6LinkLocal === undefined ? linkLocalFromMac(iface.mac) : iface.ipv6LinkLocal;
      const responder: Responder = {
        iface,
        mac: parseMac(iface.mac),
        arp: iface.broadcast !== false,
        linkLocal: ll && /^fe[89ab]/i.test(ll) ? parseIPv6(ll) : undefined,
      };
      if (responder.arp || responder.linkLocal) this.responders.set(iface.name, responder);
    }
  }

  /** Interfaces with an ARP responder. */
  get arpInterfaces(): string[] {
    return [...this.responders.values()].filter((r) => r.arp).map((r) => r.iface.name);
  }

  /** Interfaces with an NDP responder. */
  get ndpInterfaces(): string[] {
    return [...this.responders.values()].filter((r) => r.linkLocal).map((r) => r.iface.name);
  }

  /** Addresses this speaker announces now. */
  get announcedIps(): string[] {
    return [...this.refcount.keys()];
  }

  /**
   * The interfaces on which this speaker would answer ARP/NDP for `ip` now: those with a responder that the
   * announcement's scope includes. Empty while it announces `ip` means it is elected but silent (an
   * L2Advertisement `interfaces` list naming only interfaces without a responder, e.g. an OVS port).
   */
  answeringInterfaces(ip: string): string[] {
    const x = parseIp(ip);
    const canonical = formatIp(x);
    const out: string[] = [];
    for (const [name, r] of this.responders) {
      if (!(x.family === 4 ? r.arp : r.linkLocal)) continue;
      if (this.scopeMatches((a) => a.ip === canonical, name) === 'yes') out.push(name);
    }
    return out;
  }

  /**
   * The winner's `SetBalancer`: announce `ips` for `service` on `scope`. Returns `announceFailed` (and announces
   * nothing) when the scope lists only interfaces this node does not have — the VIP stays dark (MetalLB does not
   * re-run the election). Every call restarts the gratuitous window.
   */
  announce(service: string, ips: readonly string[], scope: AdvertisementScope, now: number): { announceFailed?: string } {
    if (!scope.all && !scope.interfaces.some((n) => this.interfaceNames.includes(n))) {
      this.withdraw(service);
      return { announceFailed: `the interfaces specified by LB IP ${ips.join(',')} (${scope.interfaces.join(', ')}) don't exist on node ${this.node}` };
    }
    const previous = this.services.get(service);
    const next = ips.map((text): Announcement => {
      const ip = parseIp(text);
      const canonical = formatIp(ip);
      const bytes = ip.family === 6 ? parseIPv6(canonical) : new Uint8Array(0);
      return { ip: canonical, family: ip.family, bytes, v4: ip.family === 4 ? Number(ip.value) : 0, scope };
    });
    // A repeated SetBalancer for the same address is a no-op for the refcount (announcer.go), but its
    // gratuitous window is still renewed.
    const before = new Set(previous?.map((a) => a.ip));
    const after = new Set(next.map((a) => a.ip));
    for (const ip of before) if (!after.has(ip)) this.deref(ip);
    this.services.set(service, next);
    for (const a of next) {
      if (!before.has(a.ip)) this.refcount.set(a.ip, (this.refcount.get(a.ip) ?? 0) + 1);
      this.startSpam(a.ip, now);
    }
    return {};
  }

  /** The loser's `DeleteBalancer`: stop announcing, silently. */
  withdraw(service: string): void {
    const previous = this.services.get(service);
    if (!previous) return;
    for (const a of previous) this.deref(a.ip);
    this.services.delete(service);
  }

  private deref(ip: string): void {
    const n = (this.refcount.get(ip) ?? 0) - 1;
    if (n > 0) this.refcount.set(ip, n);
    else {
      this.refcount.delete(ip);
      this.spam.delete(ip); // leadership lost: the burst stops early
    }
  }

  private startSpam(ip: string, now: number): void {
    const active = this.spam.has(ip);
    this.spam.set(ip, now + GARP_WINDOW_MS);
    if (active) return; // a repeat within the window only extends it
    this.pendingImmediate.push({ ip, time: now });
    if (this.tickerPhase === undefined) {
      this.tickerPhase = now;
      this.lastTick = now;
    }
  }

  private readonly pendingImmediate: Array<{ ip: string; time: number }> = [];

  /** The time of the next gratuitous frame, if any is scheduled. */
  nextDue(): number | undefined {
    if (this.pendingImmediate.length) return this.pendingImmediate[0]!.time;
    if (this.tickerPhase === undefined || this.spam.size === 0) return undefined;
    return this.lastTick + GARP_PERIOD_MS;
  }

  /** Emits every gratuitous frame due up to `now` (inclusive), in time order. */
  tick(now: number): EmittedFrame[] {
    const out: EmittedFrame[] = [];
    for (const p of this.pendingImmediate.splice(0)) {
      if (this.spam.has(p.ip)) out.push(...this.gratuitous(p.ip, p.time));
    }
    while (this.tickerPhase !== undefined && this.spam.size > 0 && this.lastTick + GARP_PERIOD_MS <= now) {
      const t = this.lastTick + GARP_PERIOD_MS;
      this.lastTick = t;
      for (const [ip, until] of [...this.spam]) {
        if (t > until) this.spam.delete(ip);
        else out.push(...this.gratuitous(ip, t));
      }
    }
    if (this.spam.size === 0) this.tickerPhase = undefined;
    return out;
  }

  private announcement(ip: string): Announcement | undefined {
    for (const list of this.services.values()) for (const a of list) if (a.ip === ip) return a;
    return undefined;
  }

  private scopeMatches(ipMatch: (a: Announcement) => boolean, iface: string): 'yes' | 'notMatchInterface' | 'announceIP' {
    let known = false;
    for (const list of this.services.values()) {
      for (const a of list) {
        if (!ipMatch(a)) continue;
        known = true;
        if (a.scope.all || a.scope.interfaces.includes(iface)) return 'yes';
      }
    }
    return known ? 'notMatchInterface' : 'announceIP';
  }

  private gratuitous(ip: string, time: number): EmittedFrame[] {
    const a = this.announcement(ip);
    if (!a) return [];
    const out: EmittedFrame[] = [];
    for (const r of this.responders.values()) {
      if (!(a.scope.all || a.scope.interfaces.includes(r.iface.name))) continue;
      if (a.family === 4 && r.arp) {
        for (const op of [1, 2]) {
          out.push({
            time, node: this.node, interface: r.iface.name,
            frame: buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: r.iface.mac, arp: { op, senderMac: r.iface.mac, senderIp: a.ip, targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: a.ip }, padTo: 60 }),
          });
        }
      } else if (a.family === 6 && r.linkLocal) {
        out.push({ time, node: this.node, interface: r.iface.name, frame: this.neighborAdvert(r, a.ip, ALL_NODES, '33:33:00:00:00:01', false, true) });
      }
    }
    return out;
  }

  private neighborAdvert(r: Responder, target: string, dst: Uint8Array, dstMac: string, solicited: boolean, override: boolean): Uint8Array {
    const mac = new Uint8Array(6);
    mac.set(r.mac);
    return buildFrame({
      dst: dstMac,
      src: r.iface.mac,
      ipv6: { src: formatIPv6(r.linkLocal!), dst: formatIPv6(dst), hopLimit: 255 },
      ndp: { type: 136, router: false, solicited, override, target, options: [{ type: 2, data: mac }] },
    });
  }

  /** Counts a frame not answered for `reason`, as {@link receive} does (a cached frame's replay). */
  creditDrop(reason: ResponderDrop): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }

  private drop(reason: ResponderDrop): ResponderVerdict {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
    this.effects?.push(reason);
    return { verdict: 'drop', reason };
  }

  /**
   * A frame arriving on interface `iface`: an ARP request or neighbor solicitation for an announced address
   * gets its reply (to send out of the same interface); anything else is dropped with MetalLB's reason.
   */
  receive(iface: string, frame: Uint8Array, length = frame.length): ResponderVerdict {
    const d = this.d;
    const status = this.decoder.decode(frame, d, length);
    const isArp = d.etherType === 0x0806;
    const isNdp = d.l3 === L3.IPV6 && d.ipProto === 58 && status === DecodeStatus.OK && d.l4Offset >= 0;
    if (!isArp && !isNdp) return { verdict: 'ignore' };
    const r = this.responders.get(iface);
    if (isArp) {
      if (!r || !r.arp) return this.drop('noResponder');
      if (status !== DecodeStatus.OK) return this.drop('malformed');
      return this.arp(r, iface, frame, d);
    }
    if (d.icmpType !== 135) return { verdict: 'ignore' };
    if (!r || !r.linkLocal) return this.drop('noResponder');
    return this.ndp(r, iface, frame, d);
  }

  private arp(r: Responder, iface: string, frame: Uint8Array, d: DecodedFrame): ResponderVerdict {
    if (d.arpOp !== 1) return this.drop('arpReply');
    // Ethernet destination must be broadcast or exactly this interface's MAC.
    if (!isBroadcastMac(frame, 0) && !equalBytes(frame, 0, r.mac)) return this.drop('ethernetDestination');
    const tpa = d.arpTpa;
    const verdict = this.scopeMatches((a) => a.family === 4 && a.v4 === tpa, iface);
    if (verdict !== 'yes') return this.drop(verdict);
    const o = d.l3Offset;
    // Reply to the requester's ARP SHA (not the Ethernet source), padded to the 60-byte minimum; written
    // directly (the layout buildFrame would give), as replies are on the replay's path for every request.
    const reply = new Uint8Array(60);
    reply.set(frame.subarray(o + 8, o + 14), 0);
    reply.set(r.mac, 6);
    reply[12] = 0x08;
    reply[13] = 0x06;
    reply.set(ARP_REPLY_HEADER, 14);
    reply.set(r.mac, 22);
    writeIPv4(reply, 28, tpa);
    reply.set(frame.subarray(o + 8, o + 14), 32);
    writeIPv4(reply, 38, d.arpSpa);
    return { verdict: 'reply', frame: reply };
  }

  private ndp(r: Responder, iface: string, frame: Uint8Array, d: DecodedFrame): ResponderVerdict {
    const o = d.l3Offset;
    const dst = o + 24;
    // The raw socket hears its link-local address, all-nodes, and the solicited-node groups of announced VIPs.
    let listening = equalIPv6(frame, dst, r.linkLocal!, 0) || equalIPv6(frame, dst, ALL_NODES, 0);
    if (!listening) {
      for (const ip of this.refcount.keys()) {
        const a = this.announcement(ip);
        if (a && a.family === 6 && equalIPv6(frame, dst, solicitedNode(a.bytes), 0)) listening = true;
      }
    }
    if (!listening) return this.drop('notListening');
    if (equalIPv6(frame, o + 8, r.linkLocal!, 0)) return this.drop('ownLinkLocal');
    const l4 = d.l4Offset;
    if (d.l4Length < 24) return this.drop('malformed');
    // Source link-layer address option (type 1): DAD probes from :: carry none and are never answered.
    let slla = -1;
    for (let at = l4 + 24; at + 8 <= l4 + d.l4Length; ) {
      const units = frame[at + 1]!;
      if (units === 0) return this.drop('malformed');
      if (frame[at] === 1) {
        slla = at + 2;
        break;
      }
      at += units * 8;
    }
    if (slla < 0) return this.drop('noSourceLL');
    const target = frame.subarray(l4 + 8, l4 + 24);
    const verdict = this.scopeMatches((a) => a.family === 6 && equalIPv6(a.bytes, 0, target, 0), iface);
    if (verdict !== 'yes') return this.drop(verdict);
    const reply = this.neighborAdvert(r, formatIPv6(target), frame.subarray(o + 8, o + 24), formatMac(frame, slla), true, false);
    return { verdict: 'reply', frame: reply };
  }
}

function equalBytes(a: Uint8Array, offset: number, b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (a[offset + i] !== b[i]) return false;
  return true;
}

