/**
 * The README's library example, runnable: stream a capture, find the client's frames to VIP:80 on
 * VLAN 341, and rewrite their destination to a pod in place, as OVN's load balancer would (DNAT).
 *   npx tsx examples/dnat-in-place.ts   (or through the test beside it)
 */
import { scanCapture } from '@vippath/pcap';
import { FrameDecoder, DecodedFrame, completeOffloadChecksum, rewriteIpv4Address, parseIPv4, formatIPv4 } from '@vippath/wire';

/** Rewrites every VLAN-341 frame to VIP:80 in `path` to `podIp`; calls `seen` with each rewritten frame. */
export async function dnatInPlace(path: string, podIp: string, seen: (frame: Uint8Array) => void = () => {}): Promise<number> {
  const decoder = new FrameDecoder();
  const d = new DecodedFrame(); // reused: no allocation per frame
  const pod = parseIPv4(podIp);
  let rewritten = 0;
  await scanCapture(path, (rec) => {
    decoder.decode(rec.buffer, d, rec.captureLength, rec.dataOffset); // the frame where it lies
    if (d.vid(0) !== 341 || d.dstPort !== 80 || formatIPv4(d.ipDst) !== '10.180.204.252') return;
    completeOffloadChecksum(rec.buffer, d); // captured on the sender: finish the checksum as its NIC did
    rewriteIpv4Address(rec.buffer, d, 16, pod); // DNAT in place; IP and TCP checksums fixed (RFC 1624)
    rewritten++;
    seen(rec.buffer.slice(rec.dataOffset, rec.dataOffset + rec.captureLength));
  });
  return rewritten;
}
