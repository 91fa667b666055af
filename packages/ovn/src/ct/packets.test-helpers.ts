/**
 * Test packets for the conntrack engine: Ethernet + IPv4/IPv6 + TCP/UDP/ICMP built byte by byte with valid
 * checksums (TCP options such as window scale included), ICMP errors embedding another packet, and a runner
 * that applies `ct()` calls the way the logical-flow executor will.
 */
import {
  DecodedFrame,
  FrameDecoder,
  L3,
  foldSum,
  internetChecksum,
  parseIPv4,
  parseIPv6,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  read16,
  read32,
  sumWords,
  write16,
  write32,
} from '@vippath/wire';
import { CtNat, CtRequest, CtResult } from '../lflow/ct-api.js';
import { ctResultToWords, ctWordsToResult } from '../lflow/ct-words.js';
import { W } from '../lflow/fields.js';
import { OvsConntrack, type OvsConntrackOptions } from './engine.js';

export const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32 } as const;

export interface PacketSpec {
  src: string;
  dst: string;
  proto: 'tcp' | 'udp' | 'icmp' | 'other';
  sport?: number;
  dport?: number;
  flags?: number;
  seq?: number;
  ack?: number;
  win?: number;
  /** TCP window scale option to include. */
  wscale?: number;
  /** The TCP header's option bytes as given (a multiple of 4, at most 40), in place of {@link wscale}'s. */
  tcpOptions?: readonly number[];
  /** Payload bytes (filled with a pattern). */
  payload?: number;
  /** ICMP echo (request 8 / 128, reply 0 / 129) fields. */
  icmpType?: number;
  icmpCode?: number;
  icmpId?: number;
  /** UDP checksum left 0 (IPv4 "no checksum"). */
  udpNoChecksum?: boolean;
  /** Raw IP protocol number for proto 'other'. */
  ipProto?: number;
}

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

function isV6(a: string): boolean {
  return a.includes(':');
}

function l4Bytes(p: PacketSpec, v6: boolean): { proto: number; bytes: Uint8Array; csumAt: number } {
  const pay = p.payload ?? 0;
  if (p.proto === 'tcp') {
    const opts = p.tcpOptions ?? (p.wscale !== undefined ? [1, 3, 3, p.wscale] : []);
    const hl = 20 + opts.length;
    const b = new Uint8Array(hl + pay);
    write16(b, 0, p.sport ?? 40000);
    write16(b, 2, p.dport ?? 80);
    write32(b, 4, p.seq ?? 1000);
    write32(b, 8, p.ack ?? 0);
    write16(b, 12, ((hl / 4) << 12) | (p.flags ?? F.SYN));
    write16(b, 14, p.win ?? 65535);
    b.set(opts, 20);
    for (let i = 0; i < pay; i++) b[hl + i] = (i * 7 + 1) & 0xff;
    return { proto: 6, bytes: b, csumAt: 16 };
  }
  if (p.proto === 'udp') {
    const b = new Uint8Array(8 + pay);
    write16(b, 0, p.sport ?? 40000);
    write16(b, 2, p.dport ?? 53);
    write16(b, 4, 8 + pay);
    for (let i = 0; i < pay; i++) b[8 + i] = (i * 5 + 3) & 0xff;
    return { proto: 17, bytes: b, csumAt: p.udpNoChecksum ? -1 : 6 };
  }
  if (p.proto === 'icmp') {
    const b = new Uint8Array(8 + pay);
    b[0] = p.icmpType ?? (v6 ? 128 : 8);
    b[1] = p.icmpCode ?? 0;
    write16(b, 4, p.icmpId ?? 0x1234);
    write16(b, 6, 1);
    for (let i = 0; i < pay; i++) b[8 + i] = i & 0xff;
    return { proto: v6 ? 58 : 1, bytes: b, csumAt: 2 };
  }
  const b = new Uint8Array(Math.max(pay, 8));
  return { proto: p.ipProto ?? 47, bytes: b, csumAt: -1 };
}

/** The IP packet (no Ethernet) for a spec, with every checksum valid. */
export function ipPacket(p: PacketSpec): Uint8Array {
  const v6 = isV6(p.src);
  const l4 = l4Bytes(p, v6);
  return ipWrap(p.src, p.dst, l4.proto, l4.bytes, l4.csumAt);
}

function ipWrap(src: string, dst: string, proto: number, l4: Uint8Array, csumAt: number): Uint8Array {
  const v6 = isV6(src);
  const hl = v6 ? 40 : 20;
  const b = new Uint8Array(hl + l4.length);
  if (v6) {
    b[0] = 0x60;
    write16(b, 4, l4.length);
    b[6] = proto;
    b[7] = 64;
    b.set(parseIPv6(src), 8);
    b.set(parseIPv6(dst), 24);
  } else {
    b[0] = 0x45;
    write16(b, 2, hl + l4.length);
    write16(b, 4, 0x1111);
    b[8] = 64;
    b[9] = proto;
    write32(b, 12, parseIPv4(src));
    write32(b, 16, parseIPv4(dst));
    write16(b, 10, internetChecksum(b, 0, 20));
  }
  b.set(l4, hl);
  if (csumAt >= 0) {
    const pseudo = proto === 1 ? 0 : v6 ? pseudoHeaderSumV6(b, 8, 24, proto, l4.length) : pseudoHeaderSumV4(parseIPv4(src), parseIPv4(dst), proto, l4.length);
    write16(b, hl + csumAt, 0);
    let sum = internetChecksum(b, hl, l4.length, pseudo);
    if (proto === 17 && sum === 0) sum = 0xffff;
    write16(b, hl + csumAt, sum);
  }
  return b;
}

/** Wraps an IP packet in Ethernet. */
export function ether(ip: Uint8Array, reverseMacs = false): Uint8Array {
  const f = new Uint8Array(14 + ip.length);
  f.set(reverseMacs ? MAC_A : MAC_B, 0);
  f.set(reverseMacs ? MAC_B : MAC_A, 6);
  write16(f, 12, (ip[0]! >> 4) === 6 ? 0x86dd : 0x0800);
  f.set(ip, 14);
  return f;
}

/** A whole frame for a spec. */
export function frame(p: PacketSpec): Uint8Array {
  return ether(ipPacket(p));
}

/** A generated client's packet (engine-table's and engine-missmemo's operations): a client's SYN to the VIP or the backend's SYN|ACK back. */
export interface ClientOp {
  v6: boolean;
  proto: 'tcp' | 'udp' | 'icmp';
  /** Client number: 10.0.0.(n+1) or fd00::(n+1). */
  client: number;
  /** The client's port (an ICMP echo's id). */
  sport: number;
  reply: boolean;
}

/** The backend the operations' NAT targets name, by family. */
export const clientOpBackend = (v6: boolean): string => (v6 ? 'fd01::5' : '10.1.0.5');

/** The frame of a {@link ClientOp}: client → VIP port 80, or the backend's port 8080 → client. */
export function clientOpFrame(o: ClientOp): Uint8Array {
  const client = o.v6 ? `fd00::${o.client + 1}` : `10.0.0.${o.client + 1}`;
  const vip = o.v6 ? 'fd00:96::10' : '10.96.0.10';
  const backend = clientOpBackend(o.v6);
  return frame({
    src: o.reply ? backend : client,
    dst: o.reply ? client : vip,
    proto: o.proto,
    sport: o.reply ? 8080 : o.sport,
    dport: o.reply ? o.sport : 80,
    flags: o.reply ? F.SYN | F.ACK : F.SYN,
    ...(o.proto === 'icmp' ? { icmpType: o.v6 ? (o.reply ? 129 : 128) : o.reply ? 0 : 8, icmpId: o.sport } : {}),
  });
}

/**
 * An ICMP error sent by `from` about `about` (an Ethernet frame): destination unreachable (port) by default,
 * embedding the about-packet's IP header and `embed` bytes of its payload (default: IPv4 8, IPv6 all).
 */
export function icmpError(about: Uint8Array, from: string, options: { type?: number; code?: number; embed?: number; to?: string } = {}): Uint8Array {
  const ip = about.subarray(14);
  const v6 = (ip[0]! >> 4) === 6;
  const hl = v6 ? 40 : (ip[0]! & 15) * 4;
  const embed = Math.min(ip.length - hl, options.embed ?? (v6 ? ip.length : 8));
  const inner = ip.subarray(0, hl + embed);
  const body = new Uint8Array(8 + inner.length);
  body[0] = options.type ?? (v6 ? 1 : 3);
  body[1] = options.code ?? (v6 ? 4 : 3);
  body.set(inner, 8);
  const to = options.to ?? (v6 ? fmt6(ip, 8) : fmt4(read32(ip, 12)));
  return ether(ipWrap(from, to, v6 ? 58 : 1, body, 2), true);
}

/** The addresses of a VIP test scenario: two clients, the VIP, two backends (one family). */
export interface VipAddrs {
  clients: readonly string[];
  vip: string;
  backends: readonly string[];
}

/** A generated packet of a VIP scenario (engine-words', nat-readback's properties). */
export interface VipPacket {
  proto: 'tcp' | 'udp' | 'icmp' | 'error' | 'errorVip' | 'fragment' | 'proto58' | 'other0' | 'other47';
  client: number;
  sport: number;
  backend: number;
  /** A backend's reply to the client (else the client's packet to the VIP). */
  reply: boolean;
  flags: number;
  /** An ICMP echo's code (0 when absent): its tuple's destination port word, where OVS puts it. */
  icmpCode?: number;
}

/**
 * The frame of a {@link VipPacket} in scenario `a`: TCP (20 payload bytes with PSH), UDP, ICMP echo; an ICMP error
 * from a backend about the client's packet to it (after DNAT: related to that connection) or about the client's
 * packet to the VIP (a router's, before DNAT); a later IPv4 fragment (offset ≠ 0: no L4 header decoded); protocol 58
 * over IPv4 (47 over IPv6); protocol 0 or 47.
 */
export function vipFrame(a: VipAddrs, p: VipPacket): Uint8Array {
  const v6 = isV6(a.vip);
  const client = a.clients[p.client]!;
  const backend = a.backends[p.backend]!;
  const [src, dst] = p.reply ? [backend, client] : [client, a.vip];
  const [sport, dport] = p.reply ? [80, p.sport] : [p.sport, 80];
  switch (p.proto) {
    case 'tcp':
      return frame({ src, dst, proto: 'tcp', sport, dport, flags: p.flags, seq: 1000, ack: p.flags & F.ACK ? 5000 : 0, payload: p.flags & F.PSH ? 20 : 0 });
    case 'udp':
      return frame({ src, dst, proto: 'udp', sport, dport, payload: 8 });
    case 'icmp':
      return frame({ src, dst, proto: 'icmp', icmpType: v6 ? (p.reply ? 129 : 128) : p.reply ? 0 : 8, icmpCode: p.icmpCode ?? 0, icmpId: p.sport & 0xffff });
    case 'error':
      return icmpError(frame({ src: client, dst: backend, proto: 'tcp', sport: p.sport, dport: 80, flags: F.ACK, seq: 1000, ack: 5000 }), backend);
    case 'errorVip':
      return icmpError(frame({ src: client, dst: a.vip, proto: 'tcp', sport: p.sport, dport: 80, flags: F.ACK, seq: 1000, ack: 5000 }), backend);
    case 'fragment': {
      const f = frame({ src, dst, proto: 'udp', sport, dport, payload: 8 });
      if (!v6) {
        // Fragment offset 4 (× 8 bytes), then the header's sum made again.
        f[14 + 6] = 0;
        f[14 + 7] = 4;
        write16(f, 24, 0);
        write16(f, 24, internetChecksum(f, 14, 20));
      }
      return f;
    }
    case 'proto58':
      return frame({ src, dst, proto: 'other', ipProto: v6 ? 47 : 58, payload: 8 });
    default:
      return frame({ src, dst, proto: 'other', ipProto: p.proto === 'other0' ? 0 : 47, payload: 8 });
  }
}

/**
 * `req` set to NAT (a committing DNAT or SNAT) to the single address `to`; with `port`, DNAT's port 8080 (SNAT's
 * range then 0–0, the engine's "keep the port"). The address's bytes as the frame builder lays them out: IPv4 at
 * 14 + 12, IPv6 at 14 + 8.
 */
export function natTo(req: CtRequest, nat: 'dnat' | 'snat', to: string, port: boolean): void {
  req.nat = nat === 'dnat' ? CtNat.DNAT : CtNat.SNAT;
  req.commit = true;
  const v6 = isV6(to);
  req.natIpv6 = v6;
  const f = frame({ src: to, dst: to, proto: 'udp', sport: 1, dport: 1 });
  req.natAddrMin.set(f.subarray(v6 ? 22 : 26, v6 ? 38 : 30));
  req.natAddrMax.set(req.natAddrMin);
  if (port) req.natPortMin = req.natPortMax = nat === 'dnat' ? 8080 : 0;
}

function fmt4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
function fmt6(b: Uint8Array, o: number): string {
  const w: string[] = [];
  for (let i = 0; i < 8; i++) w.push(read16(b, o + i * 2).toString(16));
  return w.join(':');
}

/** The ct words a caller clears between a chassis' zones (the executor's hideCt after a hidden call). */
export function hideCtWords(w: Uint32Array): void {
  w[W.CT_STATE] = 0;
  w[W.CT_MARK] = 0;
  for (let i = 0; i < 4; i++) w[W.CT_LABEL + i] = w[W.CT_IPV6_SRC + i] = w[W.CT_IPV6_DST + i] = 0;
  w[W.CT_NW_SRC] = w[W.CT_NW_DST] = w[W.CT_TP_SRC] = w[W.CT_TP_DST] = w[W.CT_NW_PROTO] = 0;
}

/** Every checksum of a frame verifies (IPv4 header, L4 or ICMP; embedded IPv4 header of ICMP errors). */
export function checksumsOk(f: Uint8Array): boolean {
  const v6 = read16(f, 12) === 0x86dd;
  const l3 = 14;
  if (!v6 && internetChecksum(f, l3, (f[l3]! & 15) * 4) !== 0) return false;
  const hl = v6 ? 40 : (f[l3]! & 15) * 4;
  const proto = v6 ? f[l3 + 6]! : f[l3 + 9]!;
  const l4 = l3 + hl;
  const len = v6 ? read16(f, l3 + 4) : read16(f, l3 + 2) - hl;
  if (proto === 17 && !v6 && read16(f, l4 + 6) === 0) return true;
  const pseudo = proto === 1 ? 0 : v6 ? pseudoHeaderSumV6(f, l3 + 8, l3 + 24, proto, len) : pseudoHeaderSumV4(read32(f, l3 + 12), read32(f, l3 + 16), proto, len);
  if (proto === 6 || proto === 17 || proto === 1 || proto === 58) {
    if (foldSum(sumWords(f, l4, len, pseudo)) !== 0xffff) return false;
  }
  if (proto === 1 && f[l4]! !== 0 && f[l4]! !== 8) {
    const il3 = l4 + 8;
    if (internetChecksum(f, il3, (f[il3]! & 15) * 4) !== 0) return false;
  }
  return true;
}

/** What one ct() call takes. */
export interface CtCall {
  zone?: number;
  commit?: boolean;
  force?: boolean;
  /** 'apply', or a NAT target "ADDR" / "ADDR:PORT" / "ADDR:MIN-MAX" ("[v6]:port" for IPv6; IPv4 ADDR may be "MIN-MAX"). */
  dnat?: string;
  snat?: string;
  nat?: 'apply';
  mark?: [number, number];
  label?: [number[], number[]];
}

/** Frame generations handed out by every {@link Runner} (one counter: an engine never meets one twice). */
let runnerGens = 0;

/** Drives an engine with the executor's objects, one packet at a time. */
export class Runner {
  readonly ct: OvsConntrack;
  readonly decoder = new FrameDecoder();
  readonly d = new DecodedFrame();
  readonly req = new CtRequest();
  readonly res = new CtResult();
  now = 0;
  /** A lookup hint (node, generation, epoch) for the next calls: executeHinted instead of execute. */
  hint: readonly [number, number, number] | undefined;
  /**
   * The original tuple the call that gave {@link hint} left ({@link tupleView}): what a hinted call that leaves its
   * tuple unwritten is settled with ({@link settleHinted}), as the executor's replay puts back the recorded one.
   */
  hintTuple: TupleView | undefined;
  /** Hinted calls that left the tuple unwritten (settled with {@link hintTuple}). */
  tupleLeft = 0;
  /**
   * executeHinted's `next` for the hinted calls: the packet is the one the engine's previous call left (only the
   * decode of it again, which writes the same values, in between).
   */
  next = false;
  /** executeHinted's `fresh` for the hinted calls: the packet is a new one (its first call). */
  fresh = false;
  /**
   * executeHinted's `keyed` for the hinted calls: the hint is what an earlier call found for this packet's key in this
   * zone, entered with the same ct_state and zone (a promise: the caller sets it only for such hints).
   */
  keyed = false;
  /**
   * When set, unhinted calls go through OvsConntrack.executeWords on flow words the result is copied into and read
   * back from (lflow/ct-words.ts), as the executor calls it. test/ct-ovs.test.ts runs such a runner beside the plain
   * one in its conversations; VIPPATH_CT_WORDS=1 makes every runner one.
   */
  readonly words: Uint32Array | undefined;
  /**
   * The words mode's frame generation (executeWords' `gen`) and what it rests on: the frame object, its bytes and the
   * result's ct_state as the previous call left them. A call finding all three as left keeps the generation — only the
   * engine wrote the packet since — so the engine takes its kept key on the promise, as under the executor; anything
   * else (a new packet: ct_state reset; a rewrite between calls; another buffer) moves it.
   */
  private gen = 0;
  private genFrame: Uint8Array | undefined;
  private genBytes: Uint8Array | undefined;
  private genState = -1;
  /** Words-mode calls made on the previous call's generation (the promise path), for the tests' corner counts. */
  promisedCalls = 0;

  constructor(options: OvsConntrackOptions = {}, words = process.env.VIPPATH_CT_WORDS === '1') {
    this.ct = new OvsConntrack({ sweepIntervalMs: 0, ...options });
    this.words = words ? new Uint32Array(W.SIZE) : undefined;
  }

  /** Starts a new packet (fresh metadata) and runs the calls in order on it; returns the final state. */
  run(f: Uint8Array, ...calls: CtCall[]): number {
    this.res.reset();
    for (const c of calls) this.call(f, c);
    return this.res.state;
  }

  /** One ct() on the packet in hand (metadata kept from the previous call). */
  call(f: Uint8Array, c: CtCall): number {
    this.decoder.decode(f, this.d);
    const r = this.req;
    r.reset();
    r.zone = c.zone ?? 0;
    r.commit = c.commit ?? c.force ?? false;
    r.force = c.force ?? false;
    if (c.nat) r.nat = CtNat.APPLY;
    const target = c.dnat ?? c.snat;
    if (target !== undefined) {
      r.nat = c.dnat !== undefined ? CtNat.DNAT : CtNat.SNAT;
      const m = /^\[(.+)\](?::(\d+)(?:-(\d+))?)?$/.exec(target) ?? /^([^:]+)(?::(\d+)(?:-(\d+))?)?$/.exec(target)!;
      const addr = m[1]!;
      if (addr.includes(':')) {
        r.natIpv6 = true;
        r.natAddrMin.set(parseIPv6(addr));
        r.natAddrMax.set(parseIPv6(addr));
      } else {
        // "MIN-MAX": an IPv4 address range.
        const [lo, hi] = addr.split('-');
        write32(r.natAddrMin, 0, parseIPv4(lo!));
        write32(r.natAddrMax, 0, parseIPv4(hi ?? lo!));
      }
      if (m[2]) {
        r.natPortMin = Number(m[2]);
        r.natPortMax = Number(m[3] ?? m[2]);
      }
    }
    if (c.mark) {
      r.setMark = true;
      r.markValue = c.mark[0];
      r.markMask = c.mark[1];
    }
    if (c.label) {
      r.setLabel = true;
      r.labelValue.set(c.label[0]);
      r.labelMask.set(c.label[1]);
    }
    const h = this.hint;
    if (h) {
      const entry = tupleView(this.res);
      this.ct.executeHinted(f, f.length, this.d, r, this.res, this.now, h[0], h[1], h[2], this.next, this.fresh, this.keyed);
      if (settleHinted(this.ct, this.res, h, entry, this.hintTuple)) this.tupleLeft++;
    } else if (this.words !== undefined) {
      // The executor's way (executeWords): the result's fields as the executor's words, the call on the words, the
      // words read back — so a test reading or setting the result sees the same as with execute.
      const res = this.res;
      const w = this.words;
      const written = res.tupleWritten;
      res.tupleWritten = true;
      w[W.ETH_TYPE] = this.d.l3 === L3.IPV6 ? 0x86dd : 0x800;
      ctResultToWords(res, w);
      res.tupleWritten = written;
      const b = this.genBytes;
      let kept = f === this.genFrame && b !== undefined && b.length === f.length && res.state === this.genState;
      // Every byte after the Ethernet addresses (the promise's scope: WordsConntrackEngine.executeWords).
      for (let i = 12; kept && i < f.length; i++) kept = f[i] === b![i];
      if (kept) this.promisedCalls++;
      else this.gen = ++runnerGens;
      // A call off the promise says `fresh` (no promise either: a packet written since, or the same bytes in another
      // frame, must give what the compare gives), as the executor's first call on a packet does.
      this.ct.executeWords(f, f.length, this.d, r, res, w, this.now, this.gen, !kept);
      this.genFrame = f;
      this.genBytes = f.slice();
      this.genState = res.state;
      const tupleWritten = res.tupleWritten;
      const rewritten = res.rewritten;
      ctWordsToResult(w, res);
      res.tupleWritten = tupleWritten;
      res.rewritten = rewritten;
    } else this.ct.execute(f, f.length, this.d, r, this.res, this.now);
    return this.res.state;
  }
}

/** Reads the IP/L4 tuple of a frame, for assertions. */
export function tupleOf(f: Uint8Array): { src: string; dst: string; sport: number; dport: number } {
  const d = new DecodedFrame();
  new FrameDecoder().decode(f, d);
  if (d.l3 === 3) return { src: fmt6c(f, d.l3Offset + 8), dst: fmt6c(f, d.l3Offset + 24), sport: d.srcPort, dport: d.dstPort };
  return { src: fmt4(d.ipSrc), dst: fmt4(d.ipDst), sport: d.srcPort, dport: d.dstPort };
}

function fmt6c(b: Uint8Array, o: number): string {
  return Array.from({ length: 8 }, (_, i) => read16(b, o + i * 2).toString(16)).join(':');
}

/** The embedded packet's tuple of an ICMP error frame. */
export function innerTupleOf(f: Uint8Array): { src: string; dst: string; sport: number; dport: number } {
  const v6 = read16(f, 12) === 0x86dd;
  const l4 = 14 + (v6 ? 40 : (f[14]! & 15) * 4);
  const il3 = l4 + 8;
  if (v6) return { src: fmt6c(f, il3 + 8), dst: fmt6c(f, il3 + 24), sport: read16(f, il3 + 40), dport: read16(f, il3 + 42) };
  const ihl = (f[il3]! & 15) * 4;
  return { src: fmt4(read32(f, il3 + 12)), dst: fmt4(read32(f, il3 + 16)), sport: read16(f, il3 + ihl), dport: read16(f, il3 + ihl + 2) };
}

/** Long IPv6 text as {@link tupleOf} prints it. */
export function long6(a: string): string {
  const b = parseIPv6(a);
  return fmt6c(b, 0);
}

/** Everything a ct() call leaves in its result, as plain data (to compare two engines' outcomes). */
export const ctView = (r: CtResult) => ({
  state: r.state,
  zone: r.zone,
  mark: r.mark,
  label: [...r.label],
  rewritten: r.rewritten,
  tupleWritten: r.tupleWritten,
  ...tupleView(r),
});

/** A result's original tuple (the fields a hinted call may leave unwritten: HintedConntrackEngine.executeHinted). */
export type TupleView = ReturnType<typeof tupleView>;
export function tupleView(r: CtResult) {
  return {
    hasOriginal: r.hasOriginal,
    originalIpv6: r.originalIpv6,
    originalProto: r.originalProto,
    originalSrcPort: r.originalSrcPort,
    originalDstPort: r.originalDstPort,
    originalSrc: [...r.originalSrc],
    originalDst: [...r.originalDst],
  };
}

/**
 * After `executeHinted(…, hint)` on `res` (whose tuple was `entry` before): when the call left the original tuple
 * unwritten (`tupleWritten` false), checks what the contract allows — only a call that found the hint's node itself,
 * the tuple untouched — and puts back `hintTuple` (the tuple the call that gave the hint wrote) as a caller keeping
 * the contract does; the result then reads as execute's. Returns whether the tuple was left. Throws on a breach.
 */
export function settleHinted(ct: OvsConntrack, res: CtResult, hint: readonly [number, number, number], entry: TupleView, hintTuple: TupleView | undefined): boolean {
  if (res.tupleWritten) return false;
  // Calls that write no tuple by execute's rules (process_one_fast keeps the packet's) found no node.
  if (ct.foundNode < 0) return false;
  if (ct.foundNode !== hint[0] || ct.foundGen !== hint[1] || ct.epoch !== hint[2]) {
    throw new Error(`a hinted call left its tuple unwritten but found node ${ct.foundNode}/${ct.foundGen} in epoch ${ct.epoch}, not the hint's ${hint.join('/')}`);
  }
  if (JSON.stringify(tupleView(res)) !== JSON.stringify(entry)) throw new Error('a hinted call left tupleWritten false but changed the tuple');
  if (hintTuple === undefined) throw new Error('a hinted call left its tuple unwritten and no tuple came with the hint');
  res.hasOriginal = hintTuple.hasOriginal;
  res.originalIpv6 = hintTuple.originalIpv6;
  res.originalProto = hintTuple.originalProto;
  res.originalSrcPort = hintTuple.originalSrcPort;
  res.originalDstPort = hintTuple.originalDstPort;
  res.originalSrc.set(hintTuple.originalSrc);
  res.originalDst.set(hintTuple.originalDst);
  res.tupleWritten = true;
  return true;
}

/** The engine's kept key and fingerprint (engine.ts noteKey), as {@link checkPromises} reads them. */
interface KeptKey {
  xGen: number;
  xState: number;
  xSrc: number;
  xDst: number;
  xSl4: number;
  xDl4: number;
  xMeta: number;
  xFrame: Uint8Array | undefined;
  xDecoded: DecodedFrame | undefined;
  xRes: CtResult | undefined;
  xPacket: number;
}

/**
 * The packet as an engine's previous executeWords call left it (offsets, both checksum fields), taken here: the engine
 * keeps no such fingerprint for a caller that numbers its frames (its next call takes the key by the promise).
 */
interface Left {
  l3: number;
  l4: number;
  end: number;
  ipSum: number;
  l4Sum: number;
}
const leftBy = new WeakMap<object, Left>();

/**
 * Frame-generation promises (executeWords' `gen`, WordsConntrackEngine) seen by {@link checkPromises}: calls given
 * the generation the engine's previous call was given (`promised`: the key taken without samePacket's compares), and
 * of those the ones whose packet was not that call's as it left it (`stale`: a caller's write that did not move the
 * generation); calls said `fresh` (a new packet: the key extracted), and of those the ones on the numbered packet the
 * engine's previous call kept (`freshKept`: the same result, the same packet number — not a broken promise, `fresh`
 * is none, but not the caller's first call on the packet either).
 */
export const promises = { promised: 0, stale: 0, fresh: 0, freshKept: 0 };
let promisesChecked = false;

/**
 * Wraps OvsConntrack.executeWords (once per module instance) so that every promised call is checked against the
 * packet the engine kept: the same frame and decode objects, offsets and protocol, the key's addresses and ports both
 * in the decode and in the frame's bytes, both checksum fields as they were. A stale promise is counted and thrown
 * (the test's outcome compare may not see it: a wrong key can find the same connection).
 */
export function checkPromises(): typeof promises {
  if (promisesChecked) return promises;
  promisesChecked = true;
  const proto = OvsConntrack.prototype as unknown as { executeWords(this: KeptKey, ...a: unknown[]): void };
  const inner = proto.executeWords;
  proto.executeWords = function (this: KeptKey, ...a: unknown[]): void {
    const gen = a[7] as number | undefined;
    if (gen !== undefined && gen !== 0 && gen === this.xGen && this.xState !== -1) {
      promises.promised++;
      const why = stalePromise(this, a[0] as Uint8Array, a[2] as DecodedFrame);
      if (why !== '') {
        promises.stale++;
        throw new Error(`stale frame generation ${gen}: ${why}`);
      }
    }
    if (a[8] === true) {
      promises.fresh++;
      const res = a[4] as CtResult;
      if (this.xState !== -1 && res === this.xRes && res.packet === this.xPacket) promises.freshKept++;
    }
    inner.apply(this, a);
    const d = a[2] as DecodedFrame;
    const f = a[0] as Uint8Array;
    if (this.xState !== -1 && d.status === 0 && d.l3 === L3.IPV4 && d.l4Offset >= 0) {
      leftBy.set(this, { l3: d.l3Offset, l4: d.l4Offset, end: d.l3End, ipSum: read16(f, d.l3Offset + 10), l4Sum: read16(f, d.l4Offset + (d.ipProto === 6 ? 16 : 6)) });
    } else leftBy.delete(this);
  };
  return promises;
}

/** Where the packet differs from the one the engine kept ('' nowhere). */
function stalePromise(x: KeptKey, f: Uint8Array, d: DecodedFrame): string {
  if (f !== x.xFrame) return 'another frame object';
  if (d !== x.xDecoded) return 'another decode object';
  if (d.status !== 0 || d.l3 !== L3.IPV4 || d.ipFragment) return 'not an IPv4 packet kept';
  const l3 = d.l3Offset;
  const l4 = d.l4Offset;
  const left = leftBy.get(x);
  if (left === undefined) return 'no packet left by the previous call';
  if (l3 !== left.l3 || l4 !== left.l4 || d.l3End !== left.end) return 'offsets moved';
  // The engine's kept key (int32 fields) as the uint32 words of a key.
  const k = [x.xSrc >>> 0, x.xDst >>> 0, x.xSl4, x.xDl4, x.xMeta >>> 0];
  if (d.ipProto !== k[4]! >>> 16) return 'protocol';
  if (d.ipSrc !== k[0] || d.ipDst !== k[1] || d.srcPort !== k[2] || d.dstPort !== k[3]) return `decode ${d.ipSrc}:${d.srcPort} > ${d.ipDst}:${d.dstPort}, kept ${k[0]}:${k[2]} > ${k[1]}:${k[3]}`;
  if (read32(f, l3 + 12) !== k[0] || read32(f, l3 + 16) !== k[1] || read16(f, l4) !== k[2] || read16(f, l4 + 2) !== k[3]) return 'frame bytes of the key';
  if (read16(f, l3 + 10) !== left.ipSum || read16(f, l4 + (d.ipProto === 6 ? 16 : 6)) !== left.l4Sum) return 'checksum fields';
  return '';
}

/**
 * Every own field of an engine that is a number, boolean, string or typed array, for a whole-state compare of two
 * engines fed alike (objects — the caller's frame, result and words it keeps — are each side's own). An epoch by
 * whether it is the engine's current one (epochs are numbered across engines); the shared miss memo's mark
 * (`memoId`, numbered across engines) left out. `gens`: the frame generations (numbered across runners) by whether
 * each is the current call's; `skip`: fields one side keeps and the other need not (a memo under test).
 */
export function engineSnapshot(ct: OvsConntrack, opts: { gens?: boolean; skip?: (field: string) => boolean } = {}): Record<string, unknown> {
  const o = ct as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'memoId' || opts.skip?.(k) === true) continue;
    if (/epoch/i.test(k) && typeof v === 'number') out[k] = v === o.epochNow;
    else if (opts.gens === true && (k === 'callGen' || k === 'xGen' || k === 'synGen')) out[k] = v === 0 ? 0 : v === o.callGen;
    else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') out[k] = v;
    else if (ArrayBuffer.isView(v)) out[k] = Array.from(v as unknown as ArrayLike<number>);
  }
  return out;
}

/**
 * One conntrack engine with the executor's objects for its calls — decoder, decoded frame, result (packet number 1
 * before the first packet), the flow words — as the engine properties drive one beside a reference; each test's side
 * adds its frame and how a packet enters it.
 */
export class EngineSide {
  readonly decoder = new FrameDecoder();
  readonly d = new DecodedFrame();
  readonly res = new CtResult();

  constructor(
    readonly ct: OvsConntrack,
    readonly w: Uint32Array = new Uint32Array(W.SIZE),
  ) {
    this.res.packet = 1;
  }
}
