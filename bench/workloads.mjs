// The full-path workloads (issue #8), generated reproducibly as classic pcaps in memory:
//   warm: `flows` client flows of VLAN-341 TCP to the VIP:80 that repeat — each flow's first frame a SYN, its
//         second the handshake's ACK, then pure ACKs — with one frame in 64 an ARP request for the VIP;
//   cold: every frame a new flow (a SYN from a new client address and port): conntrack insert + LB choice each;
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
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(262144, 16);
  out.writeUInt32LE(1, 20);
  let at = 24;
  for (let i = 0; i < frames; i++) {
    const f = parts[i];
    out.writeUInt32LE(1_700_000_000 + Math.floor(i / 1e6), at);
    out.writeUInt32LE(i % 1e6, at + 4);
    out.writeUInt32LE(f.length, at + 8);
    out.writeUInt32LE(f.length, at + 12);
    out.set(f, at + 16);
    at += 16 + f.length;
  }
  return out;
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

export function coldCapture(frames) {
  return pcap(frames, (i) => tcp(client(i % 65536), 1024 + Math.floor(i / 65536), 0x02, 1000, 0));
}

export function arpCapture(frames) {
  const arps = Array.from({ length: 1024 }, (_, i) => arp(client(i)));
  return pcap(frames, (i) => arps[i % 1024]);
}
