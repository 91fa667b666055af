// The full-path workloads (issue #8), generated reproducibly as classic pcaps in memory:
//   warm: `flows` client flows of VLAN-341 TCP to the VIP:80 that repeat — each flow's first frame a SYN, its
//         second the handshake's ACK, then pure ACKs — with one frame in 64 an ARP request for the VIP;
//   cold: every frame a new flow (a SYN from a new client address and port): conntrack insert + LB choice each,
//         its clients the http workload's (mostly routed: the gateway's MAC);
//   arp:  ARP requests for the VIP from 1 024 clients in turn.
// Clients are 10.181.0.0/16 hosts (MAC 52:54:00:cc:xx:xx) on the outside of the wire.
import { buildFrame } from '../packages/wire/dist/index.js';

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

// The pods' initial sequence number for a connection (packages/cluster/src/pods.ts, PodHost.receive on a SYN):
// derived from the client's address and port so replays are deterministic. The http workload's ACKs depend on
// it; the case's setup replays the capture once and refuses to measure if any pod answered with RST.
export function podIsn(ip, sport) {
  return (Math.imul(ip ^ (sport << 16), 0x9e3779b1) >>> 0) & 0x7fffffff;
}

// The router in front of the VLAN: clients off the subnet reach the VIP through it, so their frames carry its MAC.
const GATEWAY = { ip: '10.180.204.1', mac: '52:54:00:ee:00:01' };

/**
 * Client `i`: 10.181.0.0/15 hosts; one in 16 on the VLAN itself (its own MAC, it ARPs for the VIP), the rest
 * behind the gateway (its MAC; the gateway resolved the VIP once): a VIP serving many clients sees most of them
 * routed. (This mix first worked around the wire's MAC table ageing entries from first sight; that is fixed.)
 */
function httpClient(i) {
  const a = 181 + (i >>> 16);
  const hi = (i >> 8) & 0xff;
  const lo = i & 0xff;
  const h = (v) => v.toString(16).padStart(2, '0');
  const onLink = i % 16 === 0;
  return { ip: `10.${a}.${hi}.${lo}`, n: ((10 << 24) | (a << 16) | (hi << 8) | lo) >>> 0, mac: onLink ? `52:54:00:${h(a)}:${h(hi)}:${h(lo)}` : GATEWAY.mac, onLink };
}

function tcpData(c, sport, flags, seq, ack, payload) {
  return buildFrame({ dst: OWNER_MAC, src: c.mac, vlans: [341], ipv4: { src: c.ip, dst: VIP }, tcp: { srcPort: sport, dstPort: 80, flags, seq, ack, window: 64240, ...(payload ? { payload } : {}) } });
}

/**
 * Conversations as curl makes them to http://VIP/clientip, `concurrent` at a time interleaved step by step: ARP
 * for the VIP (an on-link client's first conversation only; the gateway's once, first), SYN, the handshake's ACK, the request (PSH|ACK with a
 * curl-like GET), the ACK of the pod's response (which carries FIN: agnhost closes), then FIN|ACK. Up to
 * `clients` distinct clients; every fourth conversation is a client reconnecting from a new port. Returns the
 * pcap and how many SYNs and requests it holds (a conversation cut by the frame budget may lack its later
 * steps); the ISN each connection's pod is expected to choose is {@link podIsn}'s. The records are written
 * straight into one buffer as they are made (a million frames kept as arrays first took ~1 GB of RSS).
 */
export function httpCapture(frames, { clients = 100_000, concurrent = 64 } = {}) {
  // The largest record is a GET (16 + 143 bytes): the buffer's untouched tail is never resident.
  const out = Buffer.allocUnsafe(24 + frames * 176);
  pcapHeader(out);
  let at = 24;
  let n = 0;
  const put = (f) => {
    at = pcapRecord(out, at, n++, f);
  };
  put(arp(GATEWAY));
  let requests = 0;
  let conv = 0;
  let fresh = 0;
  let syns = 0;
  const conns = new Uint16Array(clients);
  const get = Buffer.from(`GET /clientip HTTP/1.1\r\nHost: ${VIP}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n`, 'latin1');
  while (n < frames) {
    const group = [];
    for (let k = 0; k < concurrent; k++, conv++) {
      const reconnect = conv % 4 === 3 && fresh > 0;
      const isNew = !reconnect && fresh < clients;
      const ci = reconnect ? (Math.imul(conv, 7919) >>> 0) % fresh : isNew ? fresh++ : conv % clients;
      const c = httpClient(ci);
      // A client's connections use successive ports, so no 4-tuple repeats (a reused one would meet the old
      // connection's conntrack entry).
      const sport = 32768 + (conns[ci]++ % 28000);
      const isn = podIsn(c.n, sport);
      const seq = Math.imul(conv, 0x10001) >>> 0;
      const body = `${c.ip}:${sport}`;
      const respLen = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`.length;
      const s1 = (seq + 1) >>> 0;
      const s2 = (s1 + get.length) >>> 0;
      const a1 = (isn + 1) >>> 0;
      const a2 = (a1 + respLen + 1) >>> 0; // the response and its FIN
      const steps = [
        ...(isNew && c.onLink ? [arp(c)] : []),
        tcpData(c, sport, 0x02, seq, 0),
        tcpData(c, sport, 0x10, s1, a1),
        tcpData(c, sport, 0x18, s1, a1, new Uint8Array(get)),
        tcpData(c, sport, 0x10, s2, a2),
        tcpData(c, sport, 0x11, s2, a2),
      ];
      group.push(steps);
    }
    for (let step = 0; step < 6 && n < frames; step++) {
      for (const steps of group) {
        // Clients without an ARP step start one step later, so every request still follows its handshake.
        const s = steps.length === 6 ? steps[step] : step === 0 ? undefined : steps[step - 1];
        if (!s || n >= frames) continue;
        if (s.length > 100 && s[51] === 0x18) requests++;
        if (s[16] === 8 && s[51] === 0x02) syns++;
        put(s);
      }
    }
  }
  return { capture: out.subarray(0, at), requests, syns, frames: n };
}
