// The full-path workloads (issue #8), generated reproducibly as classic pcaps in memory:
//   warm: `flows` client flows of VLAN-341 TCP to the VIP:80 that repeat — each flow's first frame a SYN, its
//         second the handshake's ACK, then pure ACKs — with one frame in 64 an ARP request for the VIP;
//   cold: every frame a new flow (a SYN from a new client address and port): conntrack insert + LB choice each,
//         its clients the http workload's (mostly routed: the gateway's MAC);
//   arp:  ARP requests for the VIP from 1 024 clients in turn.
// Clients are 10.181.0.0/16 hosts (MAC 52:54:00:cc:xx:xx) on the outside of the wire.
import { buildFrame, formatIPv6 } from '../packages/wire/dist/index.js';

const VIP = '10.180.204.252';
const OWNER_MAC = '52:54:00:bb:00:03';

function client(i) {
  const hi = (i >> 8) & 0xff;
  const lo = i & 0xff;
  return { ip: `10.181.${hi}.${lo}`, mac: `52:54:00:cc:${hi.toString(16).padStart(2, '0')}:${lo.toString(16).padStart(2, '0')}` };
}

function tcp(c, sport, flags, seq, ack) {
  return buildFrame({ dst: OWNER_MAC, src: c.mac, vlans: [341], ipv4: { src: c.ip, dst: VIP }, tcp: { srcPort: sport, dstPort: 80, flags, seq, ack, window: 64240 } });
}

function arp(c) {
  return buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: c.mac, vlans: [341], arp: { op: 1, senderMac: c.mac, senderIp: c.ip, targetMac: '00:00:00:00:00:00', targetIp: VIP }, padTo: 60 });
}

/** Writes frames (from `frameAt(i)`) into a classic pcap, 1 µs apart. */
function pcap(frames, frameAt) {
  const parts = [];
  let size = 24;
  for (let i = 0; i < frames; i++) {
    const f = frameAt(i);
    parts.push(f);
    size += 16 + f.length;
  }
  const out = Buffer.alloc(size);
  pcapHeader(out);
  let at = 24;
  for (let i = 0; i < frames; i++) at = pcapRecord(out, at, i, parts[i]);
  return out;
}

/** A classic pcap's global header (microseconds, v2.4, snaplen 262 144, Ethernet) at the start of `out`. */
function pcapHeader(out) {
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(0, 8);
  out.writeUInt32LE(0, 12);
  out.writeUInt32LE(262144, 16);
  out.writeUInt32LE(1, 20);
}

/** Frame `n`'s record at `at` (1 µs after frame n − 1); returns where the next one goes. */
function pcapRecord(out, at, n, f) {
  out.writeUInt32LE(1_700_000_000 + Math.floor(n / 1e6), at);
  out.writeUInt32LE(n % 1e6, at + 4);
  out.writeUInt32LE(f.length, at + 8);
  out.writeUInt32LE(f.length, at + 12);
  out.set(f, at + 16);
  return at + 16 + f.length;
}

export function warmCapture(frames, flows = 10_000) {
  const syn = [];
  const acks = [];
  const arps = [];
  for (let f = 0; f < flows; f++) {
    const c = client(f % 4096);
    const sport = 20000 + Math.floor(f / 4096);
    syn.push(tcp(c, sport, 0x02, 1000, 0));
    acks.push(tcp(c, sport, 0x10, 1001, 0));
    arps.push(arp(c));
  }
  let n = 0;
  return pcap(frames, (i) => {
    if (i % 64 === 63) return arps[i % flows];
    const f = n % flows;
    const round = Math.floor(n / flows);
    n++;
    return round === 0 ? syn[f] : acks[f];
  });
}

/**
 * Every frame a new connection: SYNs from 65 536 clients in turn (a new source port each round), the clients
 * {@link httpClient}'s — one in 16 on the VLAN with its own MAC, which ARPs for the VIP before its first SYN, the
 * rest routed, so their frames carry the gateway's MAC; the gateway ARPs once, first. (Until session 7 every
 * client was on the VLAN with a MAC of its own: 65 536 MACs turned the wire's 8 192-entry table over, it forgot
 * the VIP owner's NIC — the pods' answers carry the pods' MACs, so nothing refreshed it — and every later SYN was
 * flooded to all three nodes, each of which answered it from its own pod; and br-provider, which had never seen
 * a client's MAC through NORMAL, flooded each SYN-ACK to its LOCAL port too. A capture of a VIP serving that many
 * clients does not look like that.)
 */
export function coldCapture(frames) {
  let conv = 0;
  let pending;
  return pcap(frames, (i) => {
    if (i === 0) return arp(GATEWAY);
    if (pending) {
      const f = pending;
      pending = undefined;
      return f;
    }
    const ci = conv % 65536;
    const c = httpClient(ci);
    const syn = tcp(c, 1024 + Math.floor(conv / 65536), 0x02, 1000, 0);
    conv++;
    if (c.onLink && conv <= 65536) {
      pending = syn;
      return arp(c);
    }
    return syn;
  });
}

export function arpCapture(frames) {
  const arps = Array.from({ length: 1024 }, (_, i) => arp(client(i)));
  return pcap(frames, (i) => arps[i % 1024]);
}

// The pods' initial sequence number for a connection (packages/cluster/src/pods.ts `podIsn`, on a SYN): derived
// from the client's address and port so replays are deterministic, over all 32 bits as Linux's (since session 16;
// 31 bits before). The http workload's ACKs depend on it; the case's setup replays the capture once and refuses to
// measure if any pod answered with RST.
export function podIsn(ip, sport) {
  return Math.imul(ip ^ (sport << 16), 0x9e3779b1) >>> 0;
}

// The router in front of the VLAN: clients off the subnet reach the VIP through it, so their frames carry its MAC.
const GATEWAY = { ip: '10.180.204.1', mac: '52:54:00:ee:00:01' };

/**
 * Client `i` as {@link HttpConversations} numbers them: 10.181.0.0/15 hosts; one in 16 on the VLAN itself (its own
 * MAC, it ARPs for the VIP), the rest behind the gateway (its MAC; the gateway resolved the VIP once): a VIP serving
 * many clients sees most of them routed.
 */
function httpClient(i) {
  const a = 181 + (i >>> 16);
  const hi = (i >> 8) & 0xff;
  const lo = i & 0xff;
  const h = (v) => v.toString(16).padStart(2, '0');
  const onLink = i % 16 === 0;
  return { ip: `10.${a}.${hi}.${lo}`, mac: onLink ? `52:54:00:${h(a)}:${h(hi)}:${h(lo)}` : GATEWAY.mac, onLink };
}

const GET = Buffer.from(`GET /clientip HTTP/1.1\r\nHost: ${VIP}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n`, 'latin1');
/** The largest record httpCapture writes: a GET (16 + 143 bytes). */
const MAX_HTTP_RECORD = 16 + 143;
const ipBytes = (ip) => ip.split('.').map(Number);
const GATEWAY_MAC = [0x52, 0x54, 0x00, 0xee, 0x00, 0x01];
// Offsets in the conversations' frames (Ethernet, one 802.1Q tag, a 20-byte IPv4 header, a 20-byte TCP header).
const ETH_SRC = 6;
const IP_SUM = 28;
const IP_SRC = 30;
const TCP = 38;
const TCP_SUM = TCP + 16;
const ARP_SENDER_MAC = 18 + 8;
const ARP_SENDER_IP = 18 + 14;

/** The ones' complement sum of the 16-bit words of `b[from, to)` (even length), unfolded. */
function sum16(b, from, to) {
  let s = 0;
  for (let i = from; i < to; i += 2) s += (b[i] << 8) | b[i + 1];
  return s;
}

/** ~fold(sum) as the checksum field holds it. */
function checksum(sum) {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * A TCP step of a conversation as a template: the frame buildFrame makes with the fields that vary (source MAC,
 * address and port, sequence and acknowledgement numbers) zero, and the sums of its IPv4 header and of its TCP
 * segment with the pseudo-header, both without the varying words and the checksum fields: a record is the template
 * copied, those fields written, and the two checksums completed from the sums (RFC 1071's sum is order-free).
 */
function tcpTemplate(flags, payload) {
  const frame = buildFrame({ dst: OWNER_MAC, src: '00:00:00:00:00:00', vlans: [341], ipv4: { src: '0.0.0.0', dst: VIP }, tcp: { srcPort: 0, dstPort: 80, flags, seq: 0, ack: 0, window: 64240, ...(payload ? { payload } : {}) } });
  frame[IP_SUM] = frame[IP_SUM + 1] = frame[TCP_SUM] = frame[TCP_SUM + 1] = 0;
  const tcpLength = frame.length - TCP;
  const [a, b, c, d] = ipBytes(VIP);
  const pseudo = ((a << 8) | b) + ((c << 8) | d) + 6 + tcpLength;
  return { frame, ipSum: sum16(frame, 18, TCP), tcpSum: pseudo + sum16(frame, TCP, frame.length - (tcpLength & 1)) + (tcpLength & 1 ? frame[frame.length - 1] << 8 : 0) };
}

/**
 * Conversations as curl makes them to http://VIP/clientip, `concurrent` at a time interleaved step by step, written
 * as classic pcap records `1e6 / fps` µs apart: ARP for the VIP (an on-link client's first conversation only; the
 * gateway's once, first), SYN, the handshake's ACK, the request (PSH|ACK with a curl-like GET), the ACK of the
 * pod's response (which carries FIN: agnhost closes), then FIN|ACK. Up to `clients` distinct clients; every fourth
 * conversation is a client reconnecting from its next port (a client's ports cycle through 28 000, so no 4-tuple
 * repeats within billions of conversations). The ACKs assume the ISN each connection's pod chooses ({@link podIsn}).
 * Records are made from one template per step kind with the varying fields patched and the checksums completed
 * from precomputed sums — no frame built and no string made per record — so the generator costs a fraction of the
 * replay it feeds (bench/rss-replay.mjs streams gigabytes of it). Counts what it wrote: `frames`, `syns`, `requests`,
 * `fins`. With `mix` ({@link LOSSY_MIX}) some conversations also retransmit, reorder, duplicate or delay segments
 * (http-lossy), counted as `synRetx`, `reqRetx`, `lateAcks`, `dupAcks` and `coalesced`; without one the records are
 * the same bytes as before the mix existed.
 */
export class HttpConversations {
  constructor({ clients = 100_000, concurrent = 64, fps = 1e6, mix = undefined } = {}) {
    this.clients = clients;
    this.concurrent = concurrent;
    this.usPerFrame = 1e6 / fps;
    this.frames = 0;
    this.syns = 0;
    this.requests = 0;
    this.fins = 0;
    // What the lossy mix wrote ({@link LOSSY_MIX}): each kind's count, and the pod's answers they call for.
    this.mix = mix;
    this.synRetx = 0;
    this.reqRetx = 0;
    this.lateAcks = 0;
    this.dupAcks = 0;
    this.coalesced = 0;
    this.events = new Uint8Array(concurrent);
    this.conv = 0;
    this.fresh = 0;
    this.conns = new Uint16Array(clients);
    const g = concurrent;
    // The group's conversations: client address, on-link (own MAC, ARP first), port, sequence numbers.
    this.ip = new Uint32Array(g);
    this.onLink = new Uint8Array(g);
    this.arp = new Uint8Array(g);
    this.sport = new Uint16Array(g);
    this.seq = new Uint32Array(g);
    this.isn = new Uint32Array(g);
    this.respLen = new Uint16Array(g);
    this.clientMac = Uint8Array.of(0x52, 0x54, 0, 0, 0, 0);
    this.syn = tcpTemplate(0x02);
    this.ack = tcpTemplate(0x10);
    this.get = tcpTemplate(0x18, new Uint8Array(GET));
    this.fin = tcpTemplate(0x11);
    this.arpTemplate = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: '00:00:00:00:00:00', vlans: [341], arp: { op: 1, senderMac: '00:00:00:00:00:00', senderIp: '0.0.0.0', targetMac: '00:00:00:00:00:00', targetIp: VIP }, padTo: 60 });
  }

  /** A record's header for the next frame and the template's bytes after it; returns the frame's offset. */
  record(out, at, template) {
    const us = Math.round(this.frames * this.usPerFrame);
    const sec = Math.floor(us / 1e6);
    out.writeUInt32LE(1_700_000_000 + sec, at);
    out.writeUInt32LE(us - sec * 1e6, at + 4);
    out.writeUInt32LE(template.length, at + 8);
    out.writeUInt32LE(template.length, at + 12);
    out.set(template, at + 16);
    this.frames++;
    return at + 16;
  }

  /** An ARP request for the VIP from `mac`/`ip`; returns where the next record goes. */
  arpRecord(out, at, mac, ip) {
    const f = this.record(out, at, this.arpTemplate);
    for (let i = 0; i < 6; i++) out[f + ETH_SRC + i] = out[f + ARP_SENDER_MAC + i] = mac[i];
    out.writeUInt32BE(ip, f + ARP_SENDER_IP);
    return f + this.arpTemplate.length;
  }

  /** A TCP step of conversation `k` of the group; returns where the next record goes. */
  tcpRecord(out, at, t, k, seq, ack) {
    const f = this.record(out, at, t.frame);
    const ip = this.ip[k];
    const sport = this.sport[k];
    if (this.onLink[k]) {
      out[f + ETH_SRC + 3] = ip >>> 16 & 0xff;
      out[f + ETH_SRC + 4] = ip >>> 8 & 0xff;
      out[f + ETH_SRC + 5] = ip & 0xff;
      out[f + ETH_SRC] = 0x52;
      out[f + ETH_SRC + 1] = 0x54;
      out[f + ETH_SRC + 2] = 0;
    } else for (let i = 0; i < 6; i++) out[f + ETH_SRC + i] = GATEWAY_MAC[i];
    out.writeUInt32BE(ip, f + IP_SRC);
    out.writeUInt16BE(sport, f + TCP);
    out.writeUInt32BE(seq, f + TCP + 4);
    out.writeUInt32BE(ack, f + TCP + 8);
    const ipWords = (ip >>> 16) + (ip & 0xffff);
    out.writeUInt16BE(checksum(t.ipSum + ipWords), f + IP_SUM);
    out.writeUInt16BE(checksum(t.tcpSum + ipWords + sport + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff)), f + TCP_SUM);
    return f + t.frame.length;
  }

  /** Chooses the next group's conversations. */
  nextGroup() {
    for (let k = 0; k < this.concurrent; k++, this.conv++) {
      const conv = this.conv;
      const reconnect = conv % 4 === 3 && this.fresh > 0;
      const isNew = !reconnect && this.fresh < this.clients;
      const ci = reconnect ? (Math.imul(conv, 7919) >>> 0) % this.fresh : isNew ? this.fresh++ : conv % this.clients;
      // Client ci: 10.181.0.0/15 hosts; one in 16 on the VLAN itself (its own MAC, it ARPs for the VIP), the rest
      // behind the gateway (its MAC; the gateway resolved the VIP once): a VIP serving many clients sees most of them routed.
      const a = 181 + (ci >>> 16);
      const hi = (ci >> 8) & 0xff;
      const lo = ci & 0xff;
      const ip = ((10 << 24) | (a << 16) | (hi << 8) | lo) >>> 0;
      const onLink = ci % 16 === 0;
      const sport = 32768 + (this.conns[ci]++ % 28000);
      this.ip[k] = ip;
      this.onLink[k] = onLink ? 1 : 0;
      this.arp[k] = isNew && onLink ? 1 : 0;
      this.sport[k] = sport;
      // Spread over all 32 bits from the first conversation, as real clients' ISNs are (RFC 6528): a counter that
      // crossed 2^31 only at conversation 32 768 made V8 deoptimize and re-optimize ≈ 30 functions of the path mid-run
      // (bench/README "A sequence number crossing 2^31 (session 15)").
      this.seq[k] = Math.imul(conv + 1, 0x9e3779b1) >>> 0;
      this.isn[k] = podIsn(ip, sport);
      // The pod's answer: `HTTP/1.1 200 OK\r\nContent-Length: N\r\nConnection: close\r\n\r\n` + `ip:port` (5 digits).
      const body = 3 + digits(a) + 1 + digits(hi) + 1 + digits(lo) + 6;
      this.respLen[k] = 56 + digits(body) + body;
      if (this.mix !== undefined) this.events[k] = lossyEvents(conv, this.mix);
    }
  }

  /**
   * Writes records into `out` from `at` until `frames` records are written in all (the gateway's ARP first, then
   * groups of conversations) or, with `untilByte`, the last whole group that starts before that offset (`out` must
   * have room for one more group: {@link HttpConversations.groupBytes}). Returns where the next record goes.
   */
  write(out, at, frames, untilByte = Infinity) {
    if (this.frames === 0 && frames > 0) at = this.arpRecord(out, at, GATEWAY_MAC, ipv4Number(GATEWAY.ip));
    while (this.frames < frames && at < untilByte) {
      this.nextGroup();
      for (let step = 0; step < 6 && this.frames < frames; step++) {
        for (let k = 0; k < this.concurrent && this.frames < frames; k++) {
          // Step 0 is the ARP, which only an on-link client's first conversation makes; the others wait for step 1.
          const s = step;
          if (s === 0 && this.arp[k] === 0) continue;
          const seq = this.seq[k];
          const s1 = (seq + 1) >>> 0;
          const s2 = (s1 + GET.length) >>> 0;
          const a1 = (this.isn[k] + 1) >>> 0;
          const a2 = (a1 + this.respLen[k] + 1) >>> 0; // the response and its FIN
          const ev = this.events[k];
          if (ev !== 0 && s >= 2 && s <= 4) {
            at = this.lossyStep(out, at, frames, s, k, ev, seq, s1, s2, a1, a2);
            continue;
          }
          if (s === 0) {
            const ip = this.ip[k];
            const mac = this.clientMac;
            mac[3] = ip >>> 16 & 0xff;
            mac[4] = ip >>> 8 & 0xff;
            mac[5] = ip & 0xff;
            at = this.arpRecord(out, at, mac, ip);
          } else if (s === 1) {
            at = this.tcpRecord(out, at, this.syn, k, seq, 0);
            this.syns++;
          } else if (s === 2) at = this.tcpRecord(out, at, this.ack, k, s1, a1);
          else if (s === 3) {
            at = this.tcpRecord(out, at, this.get, k, s1, a1);
            this.requests++;
          } else if (s === 4) at = this.tcpRecord(out, at, this.ack, k, s2, a2);
          else {
            at = this.tcpRecord(out, at, this.fin, k, s2, a2);
            this.fins++;
          }
        }
      }
    }
    return at;
  }

  /**
   * Steps 2–4 (the handshake's ACK, the request, the ACK of the response) of a conversation with lossy events `ev`
   * ({@link LOSSY_MIX}), each record within the budget of `frames`; returns where the next record goes.
   */
  lossyStep(out, at, frames, s, k, ev, seq, s1, s2, a1, a2) {
    const swap = (ev & EV_SWAP) !== 0;
    if (s === 2) {
      if (ev & EV_SYN_RETX) {
        at = this.tcpRecord(out, at, this.syn, k, seq, 0);
        this.synRetx++;
      }
      if (this.frames >= frames) return at;
      if (swap) {
        at = this.tcpRecord(out, at, this.get, k, s1, a1);
        this.requests++;
        return at;
      }
      at = this.tcpRecord(out, at, this.ack, k, s1, a1);
      if (ev & EV_DUP_HS_ACK && this.frames < frames) {
        at = this.tcpRecord(out, at, this.ack, k, s1, a1);
        this.dupAcks++;
      }
      return at;
    }
    if (s === 3) {
      if (swap) {
        // The handshake's ACK after the request: before what the pod expects (see LOSSY_MIX's `swap`).
        at = this.tcpRecord(out, at, this.ack, k, s1, a1);
        this.lateAcks++;
        return at;
      }
      at = this.tcpRecord(out, at, this.get, k, s1, a1);
      this.requests++;
      return at;
    }
    if (ev & EV_REQ_RETX) {
      at = this.tcpRecord(out, at, this.get, k, s1, a1);
      this.reqRetx++;
    }
    if (ev & EV_COALESCE) {
      this.coalesced++;
      return at;
    }
    if (this.frames >= frames) return at;
    at = this.tcpRecord(out, at, this.ack, k, s2, a2);
    if (ev & EV_DUP_RESP_ACK && this.frames < frames) {
      at = this.tcpRecord(out, at, this.ack, k, s2, a2);
      this.dupAcks++;
    }
    return at;
  }

  /** The most bytes one group of conversations writes. */
  get groupBytes() {
    return this.concurrent * (this.mix === undefined ? 6 : 10) * MAX_HTTP_RECORD;
  }
}

// A conversation's lossy events (bits of HttpConversations' `events`).
const EV_SYN_RETX = 1;
const EV_SWAP = 2;
const EV_DUP_HS_ACK = 4;
const EV_REQ_RETX = 8;
const EV_DUP_RESP_ACK = 16;
const EV_COALESCE = 32;

/**
 * The http-lossy mix, in conversations per 10 000, each event drawn on its own from a hash of the conversation's
 * number (so a capture is the same every time, and events combine as chance has it):
 * - `synRetx`: the client's SYN again before its handshake's ACK (the SYN-ACK lost on the way back; it crosses the
 *   pod's SYN-ACK): the pod (Linux's tcp_check_req) sends the same SYN-ACK again;
 * - `swap`: the request before the handshake's ACK (the two, sent back to back, reordered): the request completes
 *   the handshake and is served; the ACK, now before what the pod expects, is answered with a duplicate ACK (as
 *   Linux does; the pod model only since session 20, before which it checked only data against what it expected);
 * - `dupAck`: the handshake's ACK (unless swapped) and, on its own draw, the response's ACK delivered twice:
 *   in sequence, answered with nothing. Never an old pure ACK twice on one connection: Linux answers those at most
 *   once in 500 ms (tcp_oow_rate_limited), the model every time;
 * - `reqRetx`: the request again after the response went out (the client had not seen it yet): the pod
 *   acknowledges it again and does not serve it again;
 * - `lateAck`: no ACK of the response of its own: the client's delayed ACK goes with its FIN.
 */
export const LOSSY_MIX = Object.freeze({ synRetx: 200, swap: 200, dupAck: 100, reqRetx: 200, lateAck: 500 });

/** A 32-bit mix of `x` (murmur3's finalizer): draws independent of each other and of the conversation's neighbours. */
function fmix(x) {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Conversation `conv`'s events under `mix` ({@link LOSSY_MIX}'s shape), as EV_ bits. */
function lossyEvents(conv, mix) {
  let ev = 0;
  if (draw(conv, 1, mix.synRetx)) ev |= EV_SYN_RETX;
  if (draw(conv, 2, mix.swap)) ev |= EV_SWAP;
  else if (draw(conv, 3, mix.dupAck)) ev |= EV_DUP_HS_ACK;
  if (draw(conv, 4, mix.reqRetx)) ev |= EV_REQ_RETX;
  if (draw(conv, 5, mix.lateAck)) ev |= EV_COALESCE;
  else if (draw(conv, 6, mix.dupAck)) ev |= EV_DUP_RESP_ACK;
  return ev;
}

/** Whether draw `salt` of conversation `conv` falls in the first `per10k` of 10 000. */
function draw(conv, salt, per10k) {
  return fmix(Math.imul(conv, 8) + salt) % 10_000 < per10k;
}

const digits = (v) => (v >= 100 ? 3 : v >= 10 ? 2 : 1);
const ipv4Number = (ip) => ipBytes(ip).reduce((n, b) => n * 256 + b, 0);

/**
 * `frames` records of {@link HttpConversations} (1 µs apart) as a classic pcap in one buffer. Returns the pcap and
 * how many SYNs and requests it holds (a conversation cut by the frame budget may lack its later steps).
 */
export function httpCapture(frames, { clients = 100_000, concurrent = 64, mix = undefined } = {}) {
  // Sized for the largest record: the buffer's untouched tail is never resident.
  const out = Buffer.allocUnsafe(24 + frames * MAX_HTTP_RECORD);
  pcapHeader(out);
  const gen = new HttpConversations({ clients, concurrent, mix });
  const at = gen.write(out, 24, frames);
  const { requests, syns, fins, synRetx, reqRetx, lateAcks, dupAcks, coalesced } = gen;
  return { capture: out.subarray(0, at), requests, syns, frames: gen.frames, fins, synRetx, reqRetx, lateAcks, dupAcks, coalesced };
}

/**
 * An endless classic pcap of {@link HttpConversations} at `fps` frames a second of capture time, `totalBytes` of
 * it (whole groups of conversations: the last chunk may pass the total by less than a group), as the header and
 * then fresh ~`chunkBytes` buffers, each ending at a record boundary. The generator holds only its state (a
 * counter per client), so a replay's memory is the replay's.
 */
export function* httpStream(totalBytes, { fps = 10_000, chunkBytes = 1 << 20, clients = 100_000, concurrent = 64, stats = {} } = {}) {
  const gen = new HttpConversations({ clients, concurrent, fps });
  const header = Buffer.alloc(24);
  pcapHeader(header);
  yield header;
  let written = 24;
  while (written < totalBytes) {
    const out = Buffer.allocUnsafe(chunkBytes + gen.groupBytes);
    const end = gen.write(out, 0, Infinity, Math.min(chunkBytes, totalBytes - written));
    written += end;
    Object.assign(stats, { frames: gen.frames, syns: gen.syns, requests: gen.requests, bytes: written });
    yield out.subarray(0, end);
  }
}

/**
 * The http workload over IPv6 (session 9): {@link httpCapture}'s conversations with each record carried over to
 * the dual-stack scenario's IPv6 VIP — the client 10.a.b.c becomes fd00:10:181::a.b.c (its low 32 bits the
 * IPv4 address, so the pod's ISN is {@link podIsn}'s), an ARP request for the VIP a neighbor solicitation for
 * it, every TCP segment the same ports, flags, sequence numbers and payload, to `ownerMac` (the IPv6 VIP's
 * owner); the ACKs of the pod's response acknowledge its IPv6 length (agnhost's /clientip prints
 * `[address]:port`). Built frame by frame (buildFrame): a setup cost, not a generator for streams.
 */
export function http6Capture(frames, { ownerMac, clients = 100_000, concurrent = 64 } = {}) {
  const v4 = httpCapture(frames, { clients, concurrent });
  const src = v4.capture;
  const parts = [];
  let size = 24;
  const mac = (at) => Array.from(src.subarray(at, at + 6), (b) => b.toString(16).padStart(2, '0')).join(':');
  const addr6 = (ip) => {
    const b = new Uint8Array(16);
    b.set([0xfd, 0x00, 0x00, 0x10, 0x01, 0x81]);
    b[12] = ip >>> 24;
    b[13] = (ip >>> 16) & 0xff;
    b[14] = (ip >>> 8) & 0xff;
    b[15] = ip & 0xff;
    return formatIPv6(b);
  };
  for (let at = 24; at < src.length; ) {
    const len = src.readUInt32LE(at + 8);
    const f = at + 16;
    const time = [src.readUInt32LE(at), src.readUInt32LE(at + 4)];
    at = f + len;
    let out;
    if (src[f + 16] === 0x08 && src[f + 17] === 0x06) {
      const ip = src.readUInt32BE(f + 18 + 14);
      const sll = src.subarray(f + 18 + 8, f + 18 + 14);
      out = buildFrame({ dst: VIP6_SNMC, src: mac(f + 6), vlans: [341], ipv6: { src: addr6(ip), dst: VIP6_GROUP, hopLimit: 255 }, ndp: { type: 135, router: false, solicited: false, override: false, target: VIP6, options: [{ type: 1, data: new Uint8Array(sll) }] } });
    } else {
      const ip = src.readUInt32BE(f + 30);
      const t = f + 38;
      const sport = src.readUInt16BE(t);
      const seq = src.readUInt32BE(t + 4);
      let ack = src.readUInt32BE(t + 8);
      const flags = src[t + 13];
      const total = src.readUInt16BE(f + 20);
      const payload = src.subarray(t + 20, f + 18 + total);
      const isn = podIsn(ip, sport);
      const text = addr6(ip);
      if (ack !== 0 && ack !== ((isn + 1) >>> 0)) {
        // The pod's response: the head, Content-Length, and `[address]:port` (a 5-digit port).
        const body = text.length + 3 + String(sport).length;
        ack = (isn + 1 + 56 + String(body).length + body + 1) >>> 0;
      }
      out = buildFrame({ dst: ownerMac, src: mac(f + 6), vlans: [341], ipv6: { src: text, dst: VIP6 }, tcp: { srcPort: sport, dstPort: 80, flags, seq, ack, window: 64240, ...(payload.length ? { payload: new Uint8Array(payload) } : {}) } });
    }
    parts.push([time, out]);
    size += 16 + out.length;
  }
  const buf = Buffer.alloc(size);
  pcapHeader(buf);
  let at = 24;
  for (const [[sec, us], f] of parts) {
    buf.writeUInt32LE(sec, at);
    buf.writeUInt32LE(us, at + 4);
    buf.writeUInt32LE(f.length, at + 8);
    buf.writeUInt32LE(f.length, at + 12);
    buf.set(f, at + 16);
    at += 16 + f.length;
  }
  return { capture: buf, requests: v4.requests, syns: v4.syns, frames: v4.frames };
}

/** The dual-stack scenario's IPv6 VIP (test/fixtures/manifests/dual-stack.yaml), its solicited-node group and that group's MAC. */
export const VIP6 = 'fd00:10:180::fc';
const VIP6_GROUP = 'ff02::1:ff00:fc';
const VIP6_SNMC = '33:33:ff:00:00:fc';
