// Reproducible inputs for the benchmarks, generated in memory (never committed).
import { buildFrame, DecodedFrame, FrameDecoder, rewriteIpv4Address, rewritePort, parseIPv4 } from '../packages/wire/dist/index.js';

/**
 * A classic pcap (little-endian, µs) of `frames` VLAN-341 TCP frames from clients 10.180.204.x:port to the
 * VIP 10.180.204.252:80, `flows` distinct client flows cycling, 1 µs apart. Checksums are valid.
 */
export function vipTcpCapture(frames, flows = 10_000) {
  const template = buildFrame({
    dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', vlans: [341],
    ipv4: { src: '10.180.204.100', dst: '10.180.204.252' }, tcp: { srcPort: 40000, dstPort: 80, flags: 0x10 },
  });
  const rec = 16 + template.length;
  const out = Buffer.alloc(24 + frames * rec);
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(262144, 16);
  out.writeUInt32LE(1, 20);
  const d = new DecodedFrame();
  const decoder = new FrameDecoder();
  const base = parseIPv4('10.180.204.0');
  for (let i = 0; i < frames; i++) {
    const at = 24 + i * rec;
    const t = 1_700_000_000_000_000 + i; // µs
    out.writeUInt32LE(Math.floor(t / 1e6), at);
    out.writeUInt32LE(t % 1e6, at + 4);
    out.writeUInt32LE(template.length, at + 8);
    out.writeUInt32LE(template.length, at + 12);
    const f = out.subarray(at + 16, at + 16 + template.length);
    f.set(template);
    const flow = i % flows;
    decoder.decode(f, d);
    rewriteIpv4Address(f, d, 12, base + 2 + (flow % 240));
    rewritePort(f, d, 0, 1024 + Math.floor(flow / 240));
  }
  return out;
}
