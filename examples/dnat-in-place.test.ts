import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCaptureSync } from '@vippath/pcap';
import { expect, it } from 'vitest';
import { parseFrame } from '@vippath/wire';
import { dnatInPlace } from './dnat-in-place.js';

const capture = fileURLToPath(new URL('../test/fixtures/vip-ipv4.pcap', import.meta.url));

it('rewrites every client frame to VIP:80 to the pod, keeping checksums consistent', async () => {
  const frames: Uint8Array[] = [];
  const n = await dnatInPlace(capture, '10.180.204.13', (f) => frames.push(f));
  // Counted independently, through the representation parser instead of the hot-path decoder.
  const expected = readCaptureSync(new Uint8Array(readFileSync(capture))).records
    .map((r) => parseFrame(r.data))
    .filter((p) => p.eth.vlans[0]?.vid === 341 && p.ipv4?.dst === '10.180.204.252' && p.tcp?.dstPort === 80).length;
  expect(expected).toBeGreaterThan(10);
  expect(n).toBe(expected);
  expect(frames.length).toBe(n);
  for (const f of frames) {
    const p = parseFrame(f);
    expect(p.ipv4!.dst).toBe('10.180.204.13');
    expect(p.ipv4!.src).toBe('10.180.204.100');
    expect(p.tcp!.dstPort).toBe(80);
    expect(p.checksum).toBe('ok');
  }
});
