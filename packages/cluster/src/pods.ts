/**
 * The pods of the default workload as the network sees them: agnhost `netexec --http-port 80`. Enough of a
 * host to answer what the simulation sends: ARP for its own address, a TCP listener on its port that completes
 * handshakes (SYN → SYN-ACK), acknowledges data, answers `GET /clientip` with the `ip:port` it saw and
 * `/hostname` with its name, and closes when the client does; everything it receives is in its access log.
 */
import { buildFrame, DecodedFrame, FrameDecoder, formatIPv4, formatMac, L3 } from '@vippath/wire';
import type { PodState } from './derive.js';

/** What a pod saw (the seed's "access log" check: the client IP must be the real one). */
export interface AccessLogEntry {
  time: number;
  client: string;
  path: string;
}

interface Conn {
  /** Next sequence number the pod sends. */
  seq: number;
  /** Next sequence number it expects. */
  ack: number;
  peerMac: string;
}

/** One pod's network stack. */
export class PodHost {
  readonly log: AccessLogEntry[] = [];
  private readonly conns = new Map<string, Conn>();
  private readonly decoder = new FrameDecoder();
  private readonly d = new DecodedFrame();
  /** Why the last frame given to {@link receive} was not taken (`undefined` when it was). */
  ignored: string | undefined;
  constructor(readonly pod: PodState, readonly port = 80) {}

  /** Frames the pod sends in answer to `frame` (possibly none). */
  receive(frame: Uint8Array, now: number): Uint8Array[] {
    const d = this.d;
    this.ignored = undefined;
    if (this.decoder.decode(frame, d) !== 0) return this.ignore(`malformed frame (${d.errorReason})`);
    const me = this.pod;
    const dstMac = formatMac(frame, 0);
    if (dstMac !== me.mac && (frame[0]! & 1) === 0) return this.ignore(`Ethernet destination ${dstMac} is not its MAC`);
    if (d.l3 === L3.ARP) {
      if (d.arpOp !== 1) return this.ignore('ARP reply not asked for');
      if (formatIPv4(d.arpTpa) !== me.ip) return this.ignore(`ARP for ${formatIPv4(d.arpTpa)}, not its address`);
      const sha = formatMac(frame, d.l3Offset + 8);
      return [buildFrame({ dst: sha, src: me.mac, arp: { op: 2, senderMac: me.mac, senderIp: me.ip, targetMac: sha, targetIp: formatIPv4(d.arpSpa) } })];
    }
    if (d.l3 !== L3.IPV4) return this.ignore(d.l3 === L3.IPV6 ? 'IPv6 (the pod has no IPv6 address)' : `EtherType 0x${d.etherType.toString(16).padStart(4, '0')}`);
    if (formatIPv4(d.ipDst) !== me.ip) return this.ignore(`IPv4 destination ${formatIPv4(d.ipDst)} is not its address`);
    const client = formatIPv4(d.ipSrc);
    if (d.ipProto === 1 && d.icmpType === 8 && !d.ipFragment) {
      // Echo request: the kernel answers with the same identifier, sequence and data.
      const rest = frame.slice(d.l4Offset + 4, d.l3End);
      return [buildFrame({ dst: formatMac(frame, 6), src: me.mac, ipv4: { src: me.ip, dst: client }, icmp: { type: 0, code: 0, body: rest } })];
    }
    if (d.ipProto !== 6) return this.ignore(`IP protocol ${d.ipProto} (only TCP ${this.port} and ping are served)`);
    if (d.dstPort !== this.port) {
      if (d.tcpFlags & 0x04) return this.ignore('RST to a closed port');
      // A closed port answers with RST (RFC 9293 §3.10.7.1).
      const ackOnly = (d.tcpFlags & 0x10) !== 0;
      return [buildFrame({ dst: formatMac(frame, 6), src: me.mac, ipv4: { src: me.ip, dst: client }, tcp: { srcPort: d.dstPort, dstPort: d.srcPort, seq: ackOnly ? d.tcpAck : 0, ack: ackOnly ? 0 : (d.tcpSeq + d.payloadLength + ((d.tcpFlags & 0x02) ? 1 : 0)) >>> 0, flags: ackOnly ? 0x04 : 0x14, window: 0 } })];
    }
    const key = `${client}:${d.srcPort}`;
    const peerMac = formatMac(frame, 6);
    const reply = (flags: number, seq: number, ack: number, payload?: Uint8Array): Uint8Array =>
      buildFrame({ dst: peerMac, src: me.mac, ipv4: { src: me.ip, dst: client }, tcp: { srcPort: this.port, dstPort: d.srcPort, seq, ack, flags, window: 65535, ...(payload ? { payload } : {}) } });
    const SYN = 0x02;
    const ACK = 0x10;
    const FIN = 0x01;
    const RST = 0x04;
    if (d.tcpFlags & RST) {
      this.conns.delete(key);
      return [];
    }
    if (d.tcpFlags & SYN) {
      // An ISN derived from the connection, so replays are deterministic.
      const isn = (Math.imul(d.ipSrc ^ (d.srcPort << 16), 0x9e3779b1) >>> 0) & 0x7fffffff;
      this.conns.set(key, { seq: isn + 1, ack: (d.tcpSeq + 1) >>> 0, peerMac });
      return [reply(SYN | ACK, isn, (d.tcpSeq + 1) >>> 0)];
    }
    const c = this.conns.get(key);
    if (!c) return [reply(RST, d.tcpAck, 0)];
    const out: Uint8Array[] = [];
    if (d.payloadLength > 0) {
      c.ack = (d.tcpSeq + d.payloadLength) >>> 0;
      const text = Buffer.from(frame.subarray(d.payloadOffset, d.payloadOffset + d.payloadLength)).toString('latin1');
      const m = /^GET (\S+) HTTP\/1\.[01]\r\n/.exec(text);
      if (m) {
        this.log.push({ time: now, client: `${client}:${d.srcPort}`, path: m[1]! });
        const body = m[1] === '/clientip' ? `${client}:${d.srcPort}` : m[1] === '/hostname' ? me.name : 'NOW: simulated';
        const response = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, 'latin1');
        out.push(reply(ACK | 0x08 | FIN, c.seq, c.ack, new Uint8Array(response)));
        c.seq = (c.seq + response.length + 1) >>> 0;
      } else out.push(reply(ACK, c.seq, c.ack));
    }
    if (d.tcpFlags & FIN) {
      c.ack = (d.tcpSeq + d.payloadLength + 1) >>> 0;
      out.push(reply(ACK, c.seq, c.ack));
      this.conns.delete(key);
    }
    return out;
  }

  private ignore(reason: string): Uint8Array[] {
    this.ignored = reason;
    return [];
  }
}
