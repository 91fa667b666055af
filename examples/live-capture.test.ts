/**
 * Runs examples/live-capture.ts for real: a client in a namespace on a veth pair asks for the VIP's MAC; the
 * capture on the other end — an access port for VLAN 341 (this machine's kernel has no 802.1Q module, so the
 * client cannot tag itself) — feeds the simulation, which answers from node3. Guarded: needs root, iproute2,
 * ping and the `cap` addon (CI has them all).
 */
import { spawn } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { liveCaptureAvailable } from '@vippath/pcap';
import { makeVethClient, vethUnavailable } from '../test/veth.js';
import { watchLive } from './live-capture.js';

const NS = 'vp-live-example';
const HOST_END = 'vple-host';
const NS_END = 'vple-ns';

const reason = vethUnavailable(liveCaptureAvailable);
if (reason) console.warn(`live capture example skipped: ${reason}`);
let cleanup = (): void => undefined;
afterAll(() => cleanup());

it.skipIf(reason !== undefined)('a client asking for the VIP on VLAN 341 is answered by the simulated node3', async () => {
  cleanup = makeVethClient(NS, HOST_END, NS_END, '52:54:00:aa:00:64');
  const watching = watchLive(HOST_END, { frames: 4, timeoutMs: 10_000, accessVlan: 341 });
  const pinger = spawn('ip', ['netns', 'exec', NS, 'ping', '-c', '6', '-i', '0.5', '10.180.204.252'], { stdio: 'ignore' });
  const seen = await watching;
  pinger.kill();
  const arp = seen.filter((s) => s.flow.startsWith('arp who-has 10.180.204.252 tell 10.180.204.100 vlan 341'));
  expect(arp.length).toBeGreaterThan(0);
  expect(arp.every((s) => s.verdict === 'answered')).toBe(true);
});
