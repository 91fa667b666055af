/**
 * The external client of the seed document's verification step (`curl http://<VIP>` from a host on VLAN 341),
 * as a small Linux-like host on the outside of the wire: an ARP cache that gratuitous ARP updates (Linux
 * updates existing entries with arp_accept=0), a TCP client that does the three-way handshake, one HTTP GET,
 * and the close — and that refuses a SYN-ACK from an address it did not call, as a real stack does (it answers
 * with RST). Every frame goes through {@link SimulatedCluster.inject}, so the transcript is the path's own.
 */
import { buildFrame, checkTime, DecodedFrame, FrameDecoder, formatIPv4, formatMac, InvalidArgumentError, L3, parseIPv4 } from '@vippath/wire';
import { describeFrame } from './describe.js';
import type { SimulatedCluster } from './simulation.js';

/** One line of a transcript: a frame the client sent (`>`) or received (`<`). */
export interface CurlFrame {
  time: number;
  dir: '>' | '<';
  flow: string;
}

/** What `curl` saw, and what the pod saw. */
export interface CurlResult {
  ok: boolean;
  /** Why it failed, in one sentence. */
  error?: string;
  /** The MAC the VIP resolved to and the node that owns it. */
  arp?: { mac: string; node?: string; fromCache: boolean };
  response?: { status: number; body: string };
  /** The pod that served the request and the client address it saw (the seed's access-log check). */
  servedBy?: { pod: string; node: string; client: string };
  transcript: CurlFrame[];
  /** Simulated time when the exchange ended. */
  end: number;
}

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;
const PSH = 0x08;

/**
 * The ephemeral source ports the client takes in turn, Linux's default net.ipv4.ip_local_port_range
 * (32768 60999, Documentation/networking/ip-sysctl.rst): after 60999 it starts again at 32768, never at 0.
 */
export const EPHEMERAL_PORTS = { first: 32768, last: 60999 } as const;

/** An external client on the VLAN. */
export class ExternalClient {
  /** The ARP cache: IPv4 → MAC. */
  readonly arpCache = new Map<string, string>();
  private nextPort = 40000;
  /** SYN retransmissions before giving up (Linux's tcp_syn_retries is 6; two keep runs short). */
  synRetries = 2;
  private readonly decoder = new FrameDecoder();
  private readonly d = new DecodedFrame();

  constructor(readonly sim: SimulatedCluster, readonly ip = sim.cluster.client.ip, readonly mac = sim.cluster.client.mac, readonly vlan = sim.cluster.vlan) {}

  /**
   * `curl http://ip:port/path` at simulated time `at` (ms). Each frame takes `stepMs` of simulated time, so
   * scheduled events (failover, GARP) happen during the exchange as they would.
   */
  curl(target: { ip: string; port?: number; path?: string }, at: number, stepMs = 1): CurlResult {
    checkTime(at, 'curl at');
    if (typeof stepMs !== 'number' || !(stepMs >= 0 && stepMs <= 3_600_000)) throw new InvalidArgumentError('curl stepMs', `the time each frame takes is from 0 to 3 600 000 ms, not ${String(stepMs)}`);
    const port = target?.port ?? 80;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError('curl port', `a TCP port is a whole number from 1 to 65535, not ${String(port)}`);
    const transcript: CurlFrame[] = [];
    let now = at;
    const path = target.path ?? '/clientip';
    const send = (frame: Uint8Array): Uint8Array[] => {
      transcript.push({ time: now, dir: '>', flow: describeFrame(frame) });
      const res = this.sim.inject(frame, now);
      const mine = [...res.background, ...res.outside].filter((f) => this.forMe(f));
      for (const f of mine) transcript.push({ time: now, dir: '<', flow: describeFrame(f) });
      now += stepMs;
      return mine;
    };
    const fail = (error: string, extra: Partial<CurlResult> = {}): CurlResult => ({ ok: false, error, transcript, end: now, ...extra });
    // What the cluster sent before now (gratuitous ARP after a failover) reaches the client first.
    for (const f of this.sim.advance(now).outside) if (this.forMe(f)) transcript.push({ time: now, dir: '<', flow: describeFrame(f) });
    // 1. Resolve the VIP.
    let mac = this.arpCache.get(target.ip);
    const fromCache = mac !== undefined;
    if (!mac) {
      send(buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: this.mac, vlans: [this.vlan], arp: { op: 1, senderMac: this.mac, senderIp: this.ip, targetMac: '00:00:00:00:00:00', targetIp: target.ip }, padTo: 60 }));
      mac = this.arpCache.get(target.ip);
      if (!mac) return fail(`no ARP reply for ${target.ip}: no node announces it`);
    }
    const nodeOf = (m: string): string | undefined => this.sim.cluster.nodes.find((n) => n.mac === m)?.name;
    const arp: NonNullable<CurlResult['arp']> = { mac, ...(nodeOf(mac) ? { node: nodeOf(mac)! } : {}), fromCache };
    // 2. Handshake.
    const sport = this.nextPort;
    this.nextPort = sport >= EPHEMERAL_PORTS.last ? EPHEMERAL_PORTS.first : sport + 1;
    const isn = 1000;
    const seg = (flags: number, seq: number, ack: number, payload?: Uint8Array): Uint8Array =>
      buildFrame({ dst: mac!, src: this.mac, vlans: [this.vlan], ipv4: { src: this.ip, dst: target.ip }, tcp: { srcPort: sport, dstPort: port, seq, ack, flags, window: 64240, ...(payload ? { payload } : {}) } });
    const logsBefore = new Map([...this.sim.pods.values()].map((p) => [p, p.requests]));
    let synTime = now;
    let synAck = this.tcpFrom(send(seg(SYN, isn, 0)), sport, target.ip, port);
    // Unanswered SYNs are sent again after 1 s, then 2 s (Linux's initial RTO, doubled), to the MAC the ARP
    // cache holds by then — which is how a client rides out a failover once the new owner's GARP arrives.
    for (let i = 0, rto = 1000; i < this.synRetries && !synAck.ok && !synAck.rst && !synAck.stray; i++, rto *= 2) {
      synTime += rto;
      now = Math.max(now, synTime);
      mac = this.arpCache.get(target.ip) ?? mac;
      arp.mac = mac;
      const n = nodeOf(mac);
      if (n) arp.node = n;
      synAck = this.tcpFrom(send(seg(SYN, isn, 0)), sport, target.ip, port);
    }
    if (!synAck.ok) {
      if (synAck.stray) {
        // A SYN-ACK from an address the client never called: its stack resets it and the connect times out.
        send(buildFrame({ dst: formatMac(synAck.stray.frame, 6), src: this.mac, vlans: [this.vlan], ipv4: { src: this.ip, dst: synAck.stray.from }, tcp: { srcPort: sport, dstPort: synAck.stray.port, seq: synAck.stray.ack, ack: 0, flags: RST, window: 0 } }));
        return fail(`the SYN-ACK came from ${synAck.stray.from}:${synAck.stray.port}, not ${target.ip}:${port}: the reply was not un-DNATed (it left through a node without the connection's conntrack entry), so the client reset it and the connection failed`, { arp });
      }
      return fail(synAck.rst ? `connection refused (RST from ${target.ip}:${port})` : `no SYN-ACK from ${target.ip}:${port}: the connection timed out`, { arp });
    }
    const serverIsn = synAck.seq;
    let mySeq = isn + 1;
    send(seg(ACK, mySeq, serverIsn + 1));
    // 3. The request.
    const request = new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: ${target.ip}${port === 80 ? '' : `:${port}`}\r\nUser-Agent: vippath-curl\r\nAccept: */*\r\n\r\n`);
    const answers = send(seg(PSH | ACK, mySeq, serverIsn + 1, request));
    mySeq += request.length;
    let body = '';
    let serverFin = false;
    let serverNext = serverIsn + 1;
    for (const f of answers) {
      this.decoder.decode(f, this.d);
      if (this.d.l3 !== L3.IPV4 || this.d.ipProto !== 6 || this.d.dstPort !== sport) continue;
      if (this.d.payloadLength > 0) body += Buffer.from(f.subarray(this.d.payloadOffset, this.d.payloadOffset + this.d.payloadLength)).toString('latin1');
      serverNext = (this.d.tcpSeq + this.d.payloadLength + (this.d.tcpFlags & FIN ? 1 : 0)) >>> 0;
      if (this.d.tcpFlags & FIN) serverFin = true;
    }
    // 4. Close.
    send(seg(FIN | ACK, mySeq, serverNext));
    if (!serverFin) send(seg(ACK, mySeq + 1, serverNext));
    const m = /^HTTP\/1\.[01] (\d{3})[^\r]*\r\n[\s\S]*?\r\n\r\n([\s\S]*)$/.exec(body);
    let servedBy: CurlResult['servedBy'];
    for (const [p, n] of logsBefore) {
      // The log keeps the newest entries: the one this request added is its last.
      const entry = p.requests > n ? p.log.at(-1) : undefined;
      if (entry) servedBy = { pod: p.pod.name, node: p.pod.node, client: entry.client };
    }
    if (!m) return fail(body ? 'the response is not HTTP' : 'no response to the request', { arp, ...(servedBy ? { servedBy } : {}) });
    return { ok: true, arp, response: { status: Number(m[1]), body: m[2]! }, ...(servedBy ? { servedBy } : {}), transcript, end: now };
  }

  /** Takes what a real stack would from a frame on the wire: ARP updates, and says whether it is for us. */
  private forMe(f: Uint8Array): boolean {
    this.decoder.decode(f, this.d);
    if (this.d.vlanCount !== 1 || this.d.vid(0) !== this.vlan) return false;
    const dst = formatMac(f, 0);
    if (dst !== this.mac && dst !== 'ff:ff:ff:ff:ff:ff') return false;
    if (this.d.l3 === L3.ARP) {
      const spa = formatIPv4(this.d.arpSpa);
      const sha = formatMac(f, this.d.l3Offset + 8);
      // Replies to us create entries; gratuitous ones (SPA = TPA) only update entries we have.
      if (dst === this.mac || this.arpCache.has(spa)) this.arpCache.set(spa, sha);
      return true;
    }
    return this.d.l3 === L3.IPV4 && this.d.ipDst === parseIPv4(this.ip);
  }

  private tcpFrom(frames: Uint8Array[], sport: number, ip: string, port: number): { ok: true; seq: number } | { ok: false; rst: boolean; stray?: { from: string; port: number; ack: number; frame: Uint8Array } } {
    let rst = false;
    let stray: { from: string; port: number; ack: number; frame: Uint8Array } | undefined;
    for (const f of frames) {
      this.decoder.decode(f, this.d);
      if (this.d.l3 !== L3.IPV4 || this.d.ipProto !== 6 || this.d.dstPort !== sport) continue;
      if ((this.d.tcpFlags & (SYN | ACK)) === (SYN | ACK)) {
        if (formatIPv4(this.d.ipSrc) === ip && this.d.srcPort === port) return { ok: true, seq: this.d.tcpSeq };
        stray = { from: formatIPv4(this.d.ipSrc), port: this.d.srcPort, ack: this.d.tcpAck, frame: f };
      }
      if (this.d.tcpFlags & RST) rst = true;
    }
    return { ok: false, rst, ...(stray ? { stray } : {}) };
  }
}
