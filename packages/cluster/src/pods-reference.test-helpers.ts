/**
 * The pod model as it was before its answers were written into reused buffers (session 6): every reply built
 * with buildFrame from address strings, connections in an LruTable of objects, the access log as objects. Kept
 * only as the oracle of pods.test.ts, which checks that PodHost answers byte for byte as this did.
 *
 * The pods of the default workload as the network sees them: agnhost `netexec --http-port 80`. Enough of a
 * host to answer what the simulation sends: ARP for its own address, a TCP listener on its port that completes
 * handshakes (SYN → SYN-ACK), acknowledges data, answers `GET /clientip` with the `ip:port` it saw and
 * `/hostname` with its name, and closes when the client does; everything it receives is in its access log.
 */
import { buildFrame, DecodedFrame, FrameDecoder, formatIPv4, formatIPv6, formatMac, internetChecksum, L3, parseIPv4, parseIPv6, parseMac, pseudoHeaderSumV4, readIPv4, writeIPv4 } from '@vippath/wire';

function writeU32(f: Uint8Array, at: number, v: number): void {
  f[at] = v >>> 24;
  f[at + 1] = (v >>> 16) & 0xff;
  f[at + 2] = (v >>> 8) & 0xff;
  f[at + 3] = v & 0xff;
}
import type { PodState } from './derive.js';

/** Whether the 16 bytes at `at` in `f` are `addr`. */
function equal16(f: Uint8Array, at: number, addr: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (f[at + i] !== addr[i]) return false;
  return true;
}
import { DROP_TEXT, type PodIgnore } from './drops.js';
import { LruTable } from './lru.js';


/** No frames in answer: shared, and frozen so that no caller can add to it. */
/** The request line of an HTTP/1.x GET; group 1 is the target. */
const GET_LINE = /^GET (\S+) HTTP\/1\.[01]\r\n/;
const NO_FRAMES: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

import { ACCESS_LOG_LIMITS, type AccessLogEntry } from './pods.js';

interface Conn {
  /** Next sequence number the pod sends. */
  seq: number;
  /** Next sequence number it expects. */
  ack: number;
  /** The client's ACK number with its request, or its FIN (what it had seen of the pod then). */
  clientAck?: number;
  /** Its socket on Linux (agnhost closing as soon as it has answered). */
  state: 'syn-received' | 'established' | 'fin-wait-1' | 'fin-wait-2' | 'last-ack';
}

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;
const PSH = 0x08;

/** A TCP segment back to the sender of the frame being answered. */
type Seg = (seq: number, ack: number, flags: number, window: number, payload?: string) => Uint8Array;

/** `x - y` modulo 2^32 as a signed 32-bit number (how far sequence number x lies after y). */
function diff32(x: number, y: number): number {
  return Number(BigInt.asIntN(32, BigInt(x) - BigInt(y)));
}

/** One pod's network stack. */
export class ReferencePodHost {
  /** The newest {@link ACCESS_LOG_LIMITS}.entries requests, oldest first. */
  readonly log: AccessLogEntry[] = [];
  /** Every request served, also those no longer in {@link log}. */
  requests = 0;
  /** Requests per client IPv4 address, for the first {@link ACCESS_LOG_LIMITS}.clients distinct addresses. */
  readonly clients = new Map<string, number>();
  /** Requests from addresses beyond that bound. */
  otherClientRequests = 0;
  /** Open connections by peer (IPv4 address × 65536 + port), bounded like a socket table: oldest dropped first. */
  private readonly conns: LruTable<number, Conn>;
  /** Connections forgotten because the table was full. */
  get connEvictions(): number {
    return this.conns.evictions;
  }
  private readonly decoder = new FrameDecoder();
  private readonly d = new DecodedFrame();
  /** Why the last frame given to {@link receive} was not taken, as a code (`undefined` when it was). */
  ignoredCode: PodIgnore | undefined;
  // The particular of the last refusal (an address, a protocol number), put into words only when asked.
  private ignoredArg = 0;
  /** {@link ignoredCode} in words, with the particular (which address, which protocol): for traces. */
  get ignored(): string | undefined {
    const a = this.ignoredArg;
    switch (this.ignoredCode) {
      case undefined:
        return undefined;
      case 'malformed':
        return 'malformed frame';
      case 'not-its-mac':
        return `Ethernet destination ${[40, 32, 24, 16, 8, 0].map((b) => Math.floor(a / 2 ** b) % 256).map((x) => x.toString(16).padStart(2, '0')).join(':')} is not its MAC`;
      case 'arp-not-its-ip':
        return `ARP for ${formatIPv4(a)}, not its address`;
      case 'ethertype':
        return `EtherType 0x${a.toString(16).padStart(4, '0')}`;
      case 'not-its-ip':
        return `IPv4 destination ${formatIPv4(a)} is not its address`;
      case 'ip-proto':
        return `IP protocol ${a} (only TCP ${this.port} and ping are served)`;
      default:
        return DROP_TEXT[`pod.${this.ignoredCode}`];
    }
  }
  private readonly mac: Uint8Array;
  private readonly ip: number;
  /** Its IPv6 address's bytes on a dual-stack subnet (undefined: IPv6 is not taken). */
  private readonly ip6: Uint8Array | undefined;
  /**
   * Open IPv6 connections by peer (`address bytes in hex` + port): a string key, made per IPv6 segment — the
   * IPv4 hot path keeps its number keys; IPv6 to pods is the dual-stack scenario's, not the bulk replay's.
   */
  private readonly conns6: LruTable<string, Conn>;
  constructor(readonly pod: PodState, readonly port = 80, connLimit = 65536) {
    this.conns = new LruTable(connLimit);
    this.conns6 = new LruTable(connLimit);
    this.mac = parseMac(pod.mac);
    this.ip = parseIPv4(pod.ip);
    this.ip6 = pod.ip6 ? parseIPv6(pod.ip6) : undefined;
  }

  /**
   * A TCP segment back to the sender of `req` (its MAC and IPv4 source), laid out as {@link buildFrame} would
   * (IPv4 ident 0, DF, TTL 64; TCP without options) but written directly: pods answer on the replay's hot path.
   */
  private tcpFrame(req: Uint8Array, sport: number, dport: number, seq: number, ack: number, flags: number, window: number, payload?: string): Uint8Array {
    const n = payload?.length ?? 0;
    const f = new Uint8Array(54 + n);
    f.set(req.subarray(6, 12), 0);
    f.set(this.mac, 6);
    f[12] = 0x08;
    const ipTotal = 40 + n;
    f[14] = 0x45;
    f[16] = ipTotal >> 8;
    f[17] = ipTotal & 0xff;
    f[20] = 0x40;
    f[22] = 64;
    f[23] = 6;
    writeIPv4(f, 26, this.ip);
    // The request's IPv4 source: its header starts after the Ethernet header and any VLAN tags.
    f.set(req.subarray(this.d.l3Offset + 12, this.d.l3Offset + 16), 30);
    const ipSum = internetChecksum(f, 14, 20);
    f[24] = ipSum >> 8;
    f[25] = ipSum & 0xff;
    f[34] = sport >> 8;
    f[35] = sport & 0xff;
    f[36] = dport >> 8;
    f[37] = dport & 0xff;
    writeU32(f, 38, seq);
    writeU32(f, 42, ack);
    f[46] = 0x50 | ((flags >> 8) & 1);
    f[47] = flags & 0xff;
    f[48] = window >> 8;
    f[49] = window & 0xff;
    // The payload's text written as latin1 into the frame (no buffer of it first).
    if (payload) for (let i = 0; i < n; i++) f[54 + i] = payload.charCodeAt(i) & 0xff;
    const sum = internetChecksum(f, 34, 20 + n, pseudoHeaderSumV4(this.ip, readIPv4(f, 30), 6, 20 + n));
    f[50] = sum >> 8;
    f[51] = sum & 0xff;
    return f;
  }

  /** Frames the pod sends in answer to `frame` (possibly none). */
  receive(frame: Uint8Array, now: number): Uint8Array[] {
    const d = this.d;
    this.ignoredCode = undefined;
    if (this.decoder.decode(frame, d) !== 0) return this.ignore('malformed');
    const me = this.pod;
    const mac = this.mac;
    if ((frame[0]! & 1) === 0 && !(frame[0] === mac[0] && frame[1] === mac[1] && frame[2] === mac[2] && frame[3] === mac[3] && frame[4] === mac[4] && frame[5] === mac[5])) {
      return this.ignore('not-its-mac', ((frame[0]! << 8) | frame[1]!) * 2 ** 32 + readIPv4(frame, 2));
    }
    if (d.l3 === L3.ARP) {
      if (d.arpOp !== 1) return this.ignore('arp-reply');
      if (d.arpTpa !== this.ip) return this.ignore('arp-not-its-ip', d.arpTpa);
      const sha = formatMac(frame, d.l3Offset + 8);
      return [buildFrame({ dst: sha, src: me.mac, arp: { op: 2, senderMac: me.mac, senderIp: me.ip, targetMac: sha, targetIp: formatIPv4(d.arpSpa) } })];
    }
    if (d.l3 === L3.IPV6) return this.ip6 ? this.receive6(frame, now) : this.ignore('ipv6');
    if (d.l3 !== L3.IPV4) return this.ignore('ethertype', d.etherType);
    if (d.ipDst !== this.ip) return this.ignore('not-its-ip', d.ipDst);
    if (d.ipProto === 1 && d.icmpType === 8 && !d.ipFragment) {
      // Echo request: the kernel answers with the same identifier, sequence and data.
      const rest = frame.slice(d.l4Offset + 4, d.l3End);
      return [buildFrame({ dst: formatMac(frame, 6), src: me.mac, ipv4: { src: me.ip, dst: formatIPv4(d.ipSrc) }, icmp: { type: 0, code: 0, body: rest } })];
    }
    if (d.ipProto !== 6) return this.ignore('ip-proto', d.ipProto);
    const seg: Seg = (seq, ack, flags, window, payload) => this.tcpFrame(frame, d.dstPort, d.srcPort, seq, ack, flags, window, payload);
    if (d.dstPort !== this.port) {
      if (d.tcpFlags & 0x04) return this.ignore('rst-closed-port');
      return this.refuse(seg);
    }
    const key = ((d.ipSrc | 0) >>> 0) * 65536 + d.srcPort;
    // An ISN derived from the connection, so replays are deterministic.
    const isn = Math.imul(d.ipSrc ^ (d.srcPort << 16), 0x9e3779b1) >>> 0;
    const client = formatIPv4(d.ipSrc);
    return this.tcpStep(this.conns.get(key), seg, isn, (c) => this.openConn(d.ipSrc, d.srcPort, c), () => this.closeConn(d.ipSrc, d.srcPort), () => {
      const text = Buffer.from(frame.buffer, frame.byteOffset + d.payloadOffset, d.payloadLength).toString('latin1');
      const target = GET_LINE.exec(text)?.[1];
      return target === undefined ? undefined : this.answerGet(target, client, `${client}:${d.srcPort}`, now);
    });
  }

  /** An RST refusing the segment (window 0): from its ACK if it has one, else acknowledging it (Linux tcp_v4_send_reset). */
  private refuse(seg: Seg): Uint8Array[] {
    const d = this.d;
    const f = d.tcpFlags;
    if (f & ACK) return [seg(d.tcpAck, 0, RST, 0)];
    return [seg(0, d.tcpSeq + d.payloadLength + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0), RST | ACK, 0)];
  }

  /**
   * A segment to the pod's port on the connection `c` (undefined: none), answered as PodHost's tcpConn answers it
   * (Linux's answers per socket state), written out plainly: `open` and `close` change the table, `serve` answers
   * the payload as a GET (undefined: not one).
   */
  private tcpStep(c: Conn | undefined, seg: Seg, isn: number, open: (c: Conn) => void, close: () => void, serve: () => string | undefined): Uint8Array[] {
    const d = this.d;
    const f = d.tcpFlags;
    const W = 65535;
    const synAck = (): Uint8Array[] => {
      open({ seq: (isn + 1) >>> 0, ack: (d.tcpSeq + 1) >>> 0, state: 'syn-received' });
      return [seg(isn, (d.tcpSeq + 1) >>> 0, SYN | ACK, W)];
    };
    if (!c) {
      if ((f & (SYN | ACK | RST)) === SYN) return synAck();
      return f & RST ? NO_FRAMES : this.refuse(seg);
    }
    const ackIt = (): Uint8Array[] => [seg(c.seq, c.ack, ACK, W)];
    const len = d.payloadLength;
    const fin = f & FIN ? 1 : 0;
    const by = diff32(d.tcpSeq, c.ack);
    const end = diff32(d.tcpSeq + len + fin, c.ack);
    if (f & RST) {
      const inWindow = by >= 0 && by <= W;
      if (c.state === 'fin-wait-2' ? inWindow : by === 0 || (c.state === 'last-ack' && by === -1)) {
        close();
        return NO_FRAMES;
      }
      return c.state === 'fin-wait-2' || inWindow ? ackIt() : NO_FRAMES;
    }
    if (c.state === 'fin-wait-2') {
      if (!(by === 0 || (end > 0 && by < W) || (by === W && len + fin === 0))) return ackIt();
      if (f & SYN) {
        close();
        return this.refuse(seg);
      }
      if (!(f & ACK) || end <= 0 || len + fin === 0) return NO_FRAMES;
      close();
      return fin && end === 1 ? [seg(c.seq, c.ack + 1, ACK, W)] : this.refuse(seg);
    }
    if (f & SYN) {
      if (c.state !== 'syn-received') return ackIt();
      if (!(f & ACK)) return synAck();
      return this.refuse(seg);
    }
    if (by > W || end < 0) return ackIt();
    if (!(f & ACK)) return NO_FRAMES;
    // Whatever the ACK number (a capture's client acknowledges another server's numbers); past the client's own
    // with its request or FIN, it acknowledges the pod's FIN.
    if (c.state === 'syn-received') c.state = 'established';
    const acked = c.clientAck !== undefined && diff32(d.tcpAck, c.clientAck) > 0;
    if (c.state === 'last-ack') {
      if (acked) {
        close();
        return NO_FRAMES;
      }
      return end === 0 && by < 0 ? ackIt() : NO_FRAMES;
    }
    if (c.state === 'fin-wait-1') {
      if (len + fin > 0 && by + len > 0) {
        close();
        return this.refuse(seg);
      }
      if (fin) {
        close();
        return [seg(c.seq, c.ack + 1, ACK, W)];
      }
      if (acked) {
        c.state = 'fin-wait-2';
        return NO_FRAMES;
      }
      return end === 0 && len > 0 ? ackIt() : NO_FRAMES;
    }
    if (by > 0 || (by < 0 && end === 0)) return len + fin > 0 ? ackIt() : NO_FRAMES;
    const out: Uint8Array[] = [];
    if (len > 0) {
      c.ack = (d.tcpSeq + len) >>> 0;
      const response = serve();
      if (response !== undefined) {
        out.push(seg(c.seq, c.ack, ACK | PSH | FIN, W, response));
        c.seq = (c.seq + response.length + 1) >>> 0;
        c.state = 'fin-wait-1';
        c.clientAck = d.tcpAck;
      } else out.push(seg(c.seq, c.ack, ACK, W));
    }
    if (fin) {
      c.ack = (c.ack + 1) >>> 0;
      if (c.state === 'fin-wait-1') {
        out.push(seg(c.seq, c.ack, ACK, W));
        close();
      } else {
        out.push(seg(c.seq, c.ack, ACK | FIN, W));
        c.seq = (c.seq + 1) >>> 0;
        c.state = 'last-ack';
        c.clientAck = d.tcpAck;
      }
    }
    return out.length > 0 ? out : NO_FRAMES;
  }

  /**
   * IPv6 to a dual-stack pod, as Linux answers: a neighbor solicitation for its address with a solicited,
   * override advertisement carrying its MAC (RFC 4861 §7.2.4; hop limit 255), an echo request with its reply,
   * and TCP on its port as over IPv4 (closed ports RST). Anything else IPv6 is not taken (`ipv6`).
   */
  private receive6(frame: Uint8Array, now: number): Uint8Array[] {
    const d = this.d;
    const me = this.pod;
    const ip6 = this.ip6!;
    const l3 = d.l3Offset;
    const src = formatIPv6(frame, l3 + 8);
    const dstIsMe = equal16(frame, l3 + 24, ip6);
    if (d.ipProto === 58 && d.icmpType === 135) {
      // Neighbor solicitation: to its address or its solicited-node group (ff02::1:ffXX:XXXX), target its address,
      // hop limit 255 (RFC 4861 §7.1.1); answered to the source, or to all nodes from the unspecified address.
      const solicited = frame[l3 + 24] === 0xff && frame[l3 + 25] === 0x02 && frame[l3 + 35] === 0x01 && frame[l3 + 36] === 0xff && frame[l3 + 37] === ip6[13] && frame[l3 + 38] === ip6[14] && frame[l3 + 39] === ip6[15];
      if (!(dstIsMe || solicited) || d.ipTtl !== 255 || d.l4Offset + 24 > d.l3End || !equal16(frame, d.l4Offset + 8, ip6)) return this.ignore('ipv6');
      const dad = src === '::';
      return [buildFrame({
        dst: dad ? '33:33:00:00:00:01' : formatMac(frame, 6), src: me.mac,
        ipv6: { src: me.ip6!, dst: dad ? 'ff02::1' : src, hopLimit: 255 },
        ndp: { type: 136, router: false, solicited: !dad, override: true, target: me.ip6!, options: [{ type: 2, data: this.mac }] },
      })];
    }
    if (!dstIsMe) return this.ignore('ipv6');
    if (d.ipProto === 58 && d.icmpType === 128 && !d.ipFragment) {
      const rest = frame.slice(d.l4Offset + 4, d.l3End);
      return [buildFrame({ dst: formatMac(frame, 6), src: me.mac, ipv6: { src: me.ip6!, dst: src }, icmp: { type: 129, code: 0, body: rest } })];
    }
    if (d.ipProto !== 6) return this.ignore('ipv6');
    const seg: Seg = (seq, ack, flags, window, payload) => buildFrame({
      dst: formatMac(frame, 6), src: me.mac, ipv6: { src: me.ip6!, dst: src },
      tcp: { srcPort: d.dstPort, dstPort: d.srcPort, seq: seq >>> 0, ack: ack >>> 0, flags, window, ...(payload ? { payload: Buffer.from(payload, 'latin1') } : {}) },
    });
    if (d.dstPort !== this.port) {
      if (d.tcpFlags & RST) return this.ignore('rst-closed-port');
      return this.refuse(seg);
    }
    const key = `${Buffer.from(frame.buffer, frame.byteOffset + l3 + 8, 16).toString('hex')}/${d.srcPort}`;
    // The ISN from the connection (the source's low 32 bits and port), deterministic as over IPv4.
    const isn = Math.imul(readIPv4(frame, l3 + 20) ^ (d.srcPort << 16), 0x9e3779b1) >>> 0;
    const close = (): void => {
      this.conns6.delete(key);
      this.connChanges++;
    };
    return this.tcpStep(this.conns6.get(key), seg, isn, (c) => {
      this.connChanges++;
      this.conns6.set(key, c);
    }, close, () => {
      const text = Buffer.from(frame.buffer, frame.byteOffset + d.payloadOffset, d.payloadLength).toString('latin1');
      const target = GET_LINE.exec(text)?.[1];
      // Go's RemoteAddr (what agnhost's /clientip prints) brackets an IPv6 address.
      return target === undefined ? undefined : this.answerGet(target, src, `[${src}]:${d.srcPort}`, now);
    });
  }

  /**
   * An HTTP GET as agnhost's netexec answers it, over either family: logged (bounded), its client counted by
   * address, and the whole response (headers and body, `Connection: close`) returned.
   * @param remote the peer as Go's RemoteAddr prints it (`/clientip`'s body)
   */
  private answerGet(target: string, addr: string, remote: string, now: number): string {
    const path = target.length > ACCESS_LOG_LIMITS.pathChars ? `${target.slice(0, ACCESS_LOG_LIMITS.pathChars)}…` : target;
    this.requests++;
    // A 1 000-entry array: shift() moves 1 000 pointers, cheaper than anything cleverer here.
    if (this.log.push({ time: now, client: remote, path }) > ACCESS_LOG_LIMITS.entries) this.log.shift();
    const seen = this.clients.get(addr);
    if (seen !== undefined) this.clients.set(addr, seen + 1);
    else if (this.clients.size < ACCESS_LOG_LIMITS.clients) this.clients.set(addr, 1);
    else this.otherClientRequests++;
    const body = target === '/clientip' ? remote : target === '/hostname' ? this.pod.name : 'NOW: simulated';
    return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  }

  /** True when the pod has an open connection with the peer `ip` (uint32) `:port`. */
  hasConn(ip: number, port: number): boolean {
    return this.conns.has((ip >>> 0) * 65536 + port);
  }

  /** Bumped whenever a connection opens or closes (a flow cache's cheap "nothing changed" check). */
  connChanges = 0;

  private openConn(ip: number, port: number, c: Conn): void {
    this.connChanges++;
    this.conns.set((ip >>> 0) * 65536 + port, c);
  }

  private closeConn(ip: number, port: number): void {
    this.connChanges++;
    this.conns.delete((ip >>> 0) * 65536 + port);
  }

  private ignore(code: PodIgnore, arg = 0): Uint8Array[] {
    this.ignoredCode = code;
    this.ignoredArg = arg;
    return NO_FRAMES;
  }
}
