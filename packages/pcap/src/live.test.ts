/**
 * Live capture through `cap` on a veth pair: one end stays in this namespace (no address, so nothing
 * here routes through it), the other sits in a namespace the test creates and sends real ARP requests.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { FrameDecoder, DecodedFrame, formatIPv4, formatMac } from '@vippath/wire';
import { liveCaptureAvailable, openLive } from './live.js';
import { LiveCaptureError } from './errors.js';
import type { CaptureRecord } from './reader.js';
import { makeVethClient, vethUnavailable } from '../../../test/veth.js';

const NS = 'vp-live-test';
const HOST_END = 'vpl-host';
const NS_END = 'vpl-ns';
const NS_MAC = '52:54:00:aa:00:99';

const reason = vethUnavailable(liveCaptureAvailable);
if (reason) console.warn(`live capture test skipped: ${reason}`);
let cleanup = (): void => undefined;

describe.skipIf(reason !== undefined)('openLive on a veth pair in a test namespace', () => {
  afterAll(() => cleanup());

  it('captures the ARP requests the namespace sends, as EN10MB records', async () => {
    cleanup = makeVethClient(NS, HOST_END, NS_END, NS_MAC);

    const live = openLive({ device: HOST_END, filter: 'arp', snaplen: 2048 });
    expect(live.linktype).toBe(1);
    // Nobody answers for .252, so the kernel keeps asking: real ARP requests, about one a second.
    const pinger = spawn('ip', ['netns', 'exec', NS, 'ping', '-c', '4', '-i', '0.5', '10.180.204.252'], { stdio: 'ignore' });
    const got: CaptureRecord[] = [];
    const timer = setTimeout(() => live.close(), 8000);
    for await (const rec of live) {
      got.push(rec);
      if (got.length === 2) break;
    }
    clearTimeout(timer);
    live.close();
    pinger.kill();
    expect(got.length).toBe(2);
    const d = new DecodedFrame();
    for (const rec of got) {
      expect(rec.linktype).toBe(1);
      expect(new FrameDecoder().decode(rec.data, d)).toBe(0);
      expect(d.arpOp).toBe(1);
      expect(formatIPv4(d.arpTpa)).toBe('10.180.204.252');
      expect(formatMac(rec.data, 6)).toBe(NS_MAC);
      expect(rec.timestamp).toBeGreaterThan(BigInt(Date.now() - 60_000) * 1_000_000n);
    }
  }, 20_000);

  it('names the device it cannot open', () => {
    expect(() => openLive({ device: 'vp-no-such-dev' })).toThrow(LiveCaptureError);
    expect(() => openLive({ device: 'vp-no-such-dev' })).toThrow(/vp-no-such-dev/);
  });
});
