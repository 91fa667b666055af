/**
 * The OpenFlow tables ovn-controller installs for the three hairpin actions, which ovn-trace only approximates
 * (ovn-org/ovn controller/lflow.c branch-23.03, add_lb_hairpin_flows and what it calls; actions.c encodes
 * `chk_lb_hairpin()` / `chk_lb_hairpin_reply()` / `ct_snat_to_vip` as resubmits to these tables):
 *
 * - OFTABLE_CHK_LB_HAIRPIN, one flow per LB VIP and backend (add_lb_vip_hairpin_flows): `ct_mark.natted`,
 *   `ip.src == ip.dst == backend`, the original destination == VIP (with options:hairpin_orig_tuple, which northd
 *   23.03 always sets: reg1 / xxreg1 and reg2[0..15]; without it ct_nw_dst / ct_ipv6_dst, ct_nw_proto, ct_tp_dst
 *   and `ct_state=+trk+dnat`), and when the backend has a port, its protocol and `tp.dst == backend port`. A hit
 *   sets the result and learn()s a reply flow.
 * - OFTABLE_CHK_LB_HAIRPIN_REPLY holds only those learned flows (add_lb_vip_hairpin_reply_action): same datapath
 *   and eth.type, `ip.src == backend`, `ip.dst == the hairpin SNAT address` (options:hairpin_snat_ip for the
 *   family, else the VIP), the protocol, and `tp.src == the hairpinned packet's tp.dst` when the backend has a port.
 *   Learned flows are permanent, per OVS (chassis).
 * - OFTABLE_CT_SNAT_HAIRPIN, one flow per VIP (add_lb_ct_snat_hairpin_vip_flow): the original destination (as
 *   above), the VIP's protocol and port when it has one; action `ct(commit, zone=reg12, nat(src=…))` to the
 *   LB's hairpin_snat_ip for the family, else the VIP. Priority 100 (90 without a VIP port); with a
 *   hairpin_snat_ip the flow also matches the LB's datapaths and takes priority 200 (190).
 *
 * ovn-controller builds these for the load balancers of its local datapaths; here every Southbound load balancer
 * counts (the chk/snat flows do not match the datapath, so this differs only for a VIP shared with a load balancer
 * no local datapath uses).
 * Lookups allocate nothing: flows are indexed by the backend address's low word, learned flows likewise.
 * @module
 */
import { parseIPv4, parseIPv6 } from '@vippath/wire';
import { W, regWord } from './fields.js';
import { loadV6 } from './packet.js';
import { CtState } from './ct-api.js';
import type { SbLoadBalancer } from './types.js';

/** An address as flow words (IPv4 in word 0, IPv6 as {@link loadV6} lays it out) and as bytes (NAT target). */
interface Addr {
  v6: boolean;
  words: Uint32Array;
  bytes: Uint8Array;
}

interface ChkFlow {
  v6: boolean;
  backend: Uint32Array;
  vip: Uint32Array;
  vipPort: number;
  /** 0: the backend has no port (no protocol or port match, the learned reply matches the packet's protocol). */
  backendPort: number;
  proto: number;
  snat: Addr;
  origTuple: boolean;
}

interface SnatFlow {
  priority: number;
  v6: boolean;
  vip: Uint32Array;
  vipPort: number;
  proto: number;
  origTuple: boolean;
  to: Addr;
}

interface Learned {
  v6: boolean;
  backend: Uint32Array;
  snat: Uint32Array;
  proto: number;
  /** -1: any source port (backend without a port). */
  port: number;
}

const PROTOS: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };
const CT_NATTED = 2;

function addr(text: string): Addr | undefined {
  const words = new Uint32Array(4);
  const bytes = new Uint8Array(16);
  try {
    if (text.includes(':')) {
      bytes.set(parseIPv6(text));
      loadV6(words, 0, bytes, 0);
      return { v6: true, words, bytes };
    }
    const v = parseIPv4(text);
    words[0] = v;
    bytes[0] = v >>> 24;
    bytes[1] = (v >>> 16) & 255;
    bytes[2] = (v >>> 8) & 255;
    bytes[3] = v & 255;
    return { v6: false, words, bytes };
  } catch {
    return undefined;
  }
}

/** "IP", "IP:PORT", "[IPv6]:PORT" or a bare IPv6 → address and port (0 when none); undefined when unparsable. */
function endpoint(text: string): { a: Addr; port: number } | undefined {
  const t = text.trim();
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (m6) {
    const a = addr(m6[1]!);
    return a && { a, port: m6[2] ? Number(m6[2]) : 0 };
  }
  if (t.split(':').length > 2) {
    const a = addr(t);
    return a && { a, port: 0 };
  }
  const [ip, port] = t.split(':');
  const a = addr(ip!);
  return a && { a, port: port ? Number(port) : 0 };
}

/**
 * options:hairpin_snat_ip as ovn-controller reads it (lib/lb.c ovn_lb_get_hairpin_snat_ip → lib/ovn-util.c
 * extract_ip_address): addresses separated by spaces, read until the first token that is not one; valid when that
 * gives at most one IPv4 (/32 if a prefix is written) and at most one IPv6 (/128). Anything else is "bad
 * hairpin_snat_ip": OVN means to ignore it (the VIP is used), but 23.03 (and main) free the parsed addresses while
 * keeping their counts, so the real ovn-controller then SNATs to whatever the freed memory holds — seen here as
 * addresses like `::e0:8010:3c04:400:0:0` in its flows (test/hairpin-ovs.test.ts does not generate such values).
 * vippath takes the intent: no hairpin_snat_ip.
 */
export function hairpinSnatIps(text: string | undefined): { v4?: string; v6?: string } {
  if (!text) return {};
  const v4: string[] = [];
  const v6: string[] = [];
  let hostOnly = true;
  for (const tok of text.trim().split(/\s+/)) {
    const m = /^([0-9a-fA-F:.]+)(?:\/(\d+))?$/.exec(tok);
    const a = m ? addr(m[1]!) : undefined;
    if (!m || !a) break;
    if (m[2] !== undefined && Number(m[2]) !== (a.v6 ? 128 : 32)) hostOnly = false;
    (a.v6 ? v6 : v4).push(m[1]!);
  }
  if (!hostOnly || v4.length > 1 || v6.length > 1) return {};
  return { ...(v4[0] ? { v4: v4[0] } : {}), ...(v6[0] ? { v6: v6[0] } : {}) };
}

/** Whether an IPv6 address is IPv4-mapped (IN6_IS_ADDR_V4MAPPED: ::ffff:a.b.c.d). */
const v4Mapped = (a: Addr): boolean => a.v6 && a.bytes.subarray(0, 10).every((b) => b === 0) && a.bytes[10] === 0xff && a.bytes[11] === 0xff;

/**
 * An address as the IPv4 one ovn-controller takes from it (in6_addr_get_mapped_ipv4: the low 32 bits of an
 * IPv4-mapped address, 0.0.0.0 for any other IPv6 one).
 */
function asMapped4(a: Addr): Addr {
  const words = new Uint32Array(4);
  const bytes = new Uint8Array(16);
  if (v4Mapped(a)) {
    bytes.set(a.bytes.subarray(12, 16));
    words[0] = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  }
  return { v6: false, words, bytes };
}

const eqWords = (w: Uint32Array, at: number, a: Uint32Array, v6: boolean): boolean =>
  v6 ? w[at] === a[0] && w[at + 1] === a[1] && w[at + 2] === a[2] && w[at + 3] === a[3] : w[at] === a[0];

/** The hairpin tables of one datapath, with the reply flows each chassis has learned. */
export class HairpinTables {
  /** OFTABLE_CHK_LB_HAIRPIN by the backend address's low word. */
  private readonly chk = new Map<number, ChkFlow[]>();
  /** OFTABLE_CT_SNAT_HAIRPIN, highest priority first. */
  private readonly snat: SnatFlow[] = [];
  /** chassis → learned reply flows by the backend address's low word. */
  private readonly learned = new Map<string, Map<number, Learned[]>>();
  private readonly useCtMark: boolean;
  /** Bumped by every new learned flow (a megaflow that read the learned table rests on it). */
  version = 0;
  /** Where the VIP's IPv4 address is with hairpin_orig_tuple: reg1, or [25.03] reg4 with register_consolidation. */
  private readonly vip4Word: number;

  /** @param registerConsolidation SB_Global options:register_consolidation ([25.03]; see the executor). */
  constructor(lbs: readonly SbLoadBalancer[], datapath: string, sbOptions: Record<string, string>, registerConsolidation = sbOptions['register_consolidation'] === 'true') {
    // controller/lflow.c cbb88276a add_lb_vip_hairpin_flows / add_lb_ct_snat_hairpin_vip_flow: with
    // register_consolidation the original VIP is MFF_LOG_LB_ORIG_DIP_IPV4 (reg4), else _OLD (reg1); IPv6 xxreg1 and
    // the port reg2[0..15] either way (include/ovn/logical-fields.h cbb88276a).
    this.vip4Word = registerConsolidation ? regWord(4) : regWord(1);
    // ovn-controller.c: SB_Global options:lb_hairpin_use_ct_mark (default true; northd 23.03 sets it false only
    // for chassis that cannot match on ct_mark, when `ct.natted` then lives in ct_label bit 1).
    this.useCtMark = sbOptions['lb_hairpin_use_ct_mark'] !== 'false';
    for (const lb of lbs) {
      const proto = PROTOS[lb.protocol ?? 'tcp'] ?? 6;
      const origTuple = lb.options['hairpin_orig_tuple'] === 'true';
      const ips = hairpinSnatIps(lb.options['hairpin_snat_ip']);
      const snat4 = ips.v4 ? addr(ips.v4) : undefined;
      const snat6 = ips.v6 ? addr(ips.v6) : undefined;
      const here = lb.datapaths.includes(datapath);
      for (const [vipText, backendsText] of Object.entries(lb.vips)) {
        const vip = endpoint(vipText);
        if (!vip) continue;
        // ovn-controller decides a VIP's family by IN6_IS_ADDR_V4MAPPED on its in6_addr, not by how it is written
        // (add_lb_vip_hairpin_flows, add_lb_ct_snat_hairpin_vip_flow, v23.03.1): an IPv6 VIP `[::ffff:a.b.c.d]`,
        // which northd balances as IPv6, gets IPv4 flows — VIP a.b.c.d, each IPv6 backend as in6_addr_get_mapped_ipv4
        // takes it (0.0.0.0 unless it too is mapped), the IPv4 hairpin_snat_ip or a.b.c.d — so an IPv6 packet never
        // hits them: a real run (test/hairpin-ovs.test.ts) sends a pod's packet to such a VIP, itself the backend,
        // on un-hairpinned.
        const fam4 = !vip.a.v6 || v4Mapped(vip.a);
        const vipA = vip.a.v6 && fam4 ? asMapped4(vip.a) : vip.a;
        const own = fam4 ? snat4 : snat6;
        const to = own ?? vipA;
        for (const b of backendsText.split(',')) {
          if (!b.trim()) continue;
          const be = endpoint(b);
          if (!be || be.a.v6 !== vip.a.v6) continue;
          const bA = be.a.v6 && fam4 ? asMapped4(be.a) : be.a;
          const key = bA.words[0]!;
          let list = this.chk.get(key);
          if (!list) this.chk.set(key, (list = []));
          list.push({ v6: !fam4, backend: bA.words, vip: vipA.words, vipPort: vip.port, backendPort: be.port, proto, snat: to, origTuple });
        }
        // A hairpin_snat_ip flow matches the LB's datapaths only: elsewhere it is not there at all.
        if (own && !here) continue;
        this.snat.push({ priority: (own ? 200 : 100) - (vip.port ? 0 : 10), v6: !fam4, vip: vipA.words, vipPort: vip.port, proto, origTuple, to });
      }
    }
    this.snat.sort((a, b) => b.priority - a.priority);
  }

  /** The original destination (address, and port when `port` is nonzero) equals the VIP. */
  private origDst(w: Uint32Array, origTuple: boolean, v6: boolean, vip: Uint32Array, proto: number, port: number): boolean {
    if (origTuple) {
      if (!eqWords(w, v6 ? W.REGS + 4 : this.vip4Word, vip, v6)) return false;
      return !port || (w[regWord(2)]! & 0xffff) === port;
    }
    const need = CtState.TRK | CtState.DNAT;
    if ((w[W.CT_STATE]! & need) !== need) return false;
    if (!eqWords(w, v6 ? W.CT_IPV6_DST : W.CT_NW_DST, vip, v6)) return false;
    return !port || (w[W.CT_NW_PROTO] === proto && w[W.CT_TP_DST] === port);
  }

  /** `chk_lb_hairpin()` on `chassis`: 1 on a hit, which also learns the reply flow. */
  check(w: Uint32Array, chassis: string): boolean {
    const type = w[W.ETH_TYPE];
    const v6 = type === 0x86dd;
    if (!v6 && type !== 0x800) return false;
    const src = v6 ? W.IPV6_SRC : W.IPV4_SRC;
    const dst = v6 ? W.IPV6_DST : W.IPV4_DST;
    if (w[src] !== w[dst] || (v6 && (w[src + 1] !== w[dst + 1] || w[src + 2] !== w[dst + 2] || w[src + 3] !== w[dst + 3]))) return false;
    const natted = this.useCtMark ? w[W.CT_MARK]! & CT_NATTED : w[W.CT_LABEL]! & CT_NATTED;
    if (!natted) return false;
    const list = this.chk.get(w[src]!);
    if (!list) return false;
    for (const f of list) {
      if (f.v6 !== v6 || !eqWords(w, src, f.backend, v6)) continue;
      if (f.backendPort && (w[W.IP_PROTO] !== f.proto || w[W.TP_DST] !== f.backendPort)) continue;
      if (!this.origDst(w, f.origTuple, v6, f.vip, f.proto, f.backendPort ? f.vipPort : 0)) continue;
      this.learn(chassis, f, f.backendPort ? f.proto : w[W.IP_PROTO]!, f.backendPort ? w[W.TP_DST]! : -1);
      return true;
    }
    return false;
  }

  private learn(chassis: string, f: ChkFlow, proto: number, port: number): void {
    let byBackend = this.learned.get(chassis);
    if (!byBackend) this.learned.set(chassis, (byBackend = new Map()));
    let list = byBackend.get(f.backend[0]!);
    if (!list) byBackend.set(f.backend[0]!, (list = []));
    for (const l of list) {
      if (l.v6 === f.v6 && l.proto === proto && l.port === port && eqWords(l.backend, 0, f.backend, f.v6) && eqWords(l.snat, 0, f.snat.words, f.v6)) return;
    }
    list.push({ v6: f.v6, backend: f.backend, snat: f.snat.words, proto, port });
    this.version++;
  }

  /** The low words of the backend addresses `chassis` learned reply flows for (undefined: none learned). */
  learnedKeys(chassis: string): Iterable<number> | undefined {
    const m = this.learned.get(chassis);
    return m && m.size > 0 ? m.keys() : undefined;
  }

  /** Whether `chassis` learned a reply flow for a backend address whose low word is `low`. */
  hasLearned(chassis: string, low: number): boolean {
    return this.learned.get(chassis)?.has(low) ?? false;
  }

  /** `chk_lb_hairpin_reply()` on `chassis`: a learned reply flow matches. */
  reply(w: Uint32Array, chassis: string): boolean {
    const type = w[W.ETH_TYPE];
    const v6 = type === 0x86dd;
    if (!v6 && type !== 0x800) return false;
    const src = v6 ? W.IPV6_SRC : W.IPV4_SRC;
    const list = this.learned.get(chassis)?.get(w[src]!);
    if (!list) return false;
    for (const l of list) {
      if (l.v6 !== v6 || l.proto !== w[W.IP_PROTO] || (l.port >= 0 && l.port !== w[W.TP_SRC])) continue;
      if (eqWords(w, src, l.backend, v6) && eqWords(w, v6 ? W.IPV6_DST : W.IPV4_DST, l.snat, v6)) return true;
    }
    return false;
  }

  /** `ct_snat_to_vip`: the source address the SNAT zone commit translates to, or undefined (no flow matches). */
  snatTarget(w: Uint32Array): Addr | undefined {
    const type = w[W.ETH_TYPE];
    const v6 = type === 0x86dd;
    if (!v6 && type !== 0x800) return undefined;
    for (const f of this.snat) {
      if (f.v6 !== v6) continue;
      if (f.vipPort && w[W.IP_PROTO] !== f.proto) continue;
      if (this.origDst(w, f.origTuple, v6, f.vip, f.proto, f.vipPort)) return f.to;
    }
    return undefined;
  }
}
