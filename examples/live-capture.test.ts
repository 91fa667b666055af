/**
 * Runs examples/live-capture.ts for real: a client in a namespace on a veth pair asks for the VIP's MAC; the
 * capture on the other end — an access port for VLAN 341 (this machine's kernel has no 802.1Q module, so the
 * client cannot tag itself) — feeds the simulation, which answers from node3. Guarded: needs root, iproute2,
 * ping and the `cap` addon (CI has them all).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { liveCaptureAvailable } from '@vippath/pcap';
import { watchLive } from './live-capture.js';

const NS = 'vp-live-example';
const HOST_END = 'vple-host';
const NS_END = 'vple-ns';

function why(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('ip', ['-V']).status !== 0) return 'no `ip` command (iproute2)';
  if (spawnSync('ping', ['-V']).status !== 0) return 'no `ping` command (iputils-ping)';
  if (!liveCaptureAvailable()) return 'the optional `cap` addon is not built (needs libpcap-dev)';
  return undefined;
}
const reason = why();
if (reason) console.warn(`live capture example skipped: ${reason}`);

function cleanup(): void {
  spawnSync('ip', ['link', 'del', HOST_END]);
  spawnSync('ip', ['netns', 'del', NS]);
}
afterAll(cleanup);

it.skipIf(reason !== undefined)('a client asking for the VIP on VLAN 341 is answered by the simulated node3', async () => {
  cleanup();
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['link', 'add', HOST_END, 'type', 'veth', 'peer', 'name', NS_END, 'netns', NS]);
  execFileSync('ip', ['-n', NS, 'link', 'set', NS_END, 'address', '52:54:00:aa:00:64', 'up']);
  execFileSync('ip', ['-n', NS, 'addr', 'add', '10.180.204.100/24', 'dev', NS_END]);
  execFileSync('ip', ['link', 'set', HOST_END, 'up']);
  const watching = watchLive(HOST_END, { frames: 4, timeoutMs: 10_000, accessVlan: 341 });
  const pinger = spawn('ip', ['netns', 'exec', NS, 'ping', '-c', '6', '-i', '0.5', '10.180.204.252'], { stdio: 'ignore' });
  const seen = await watching;
  pinger.kill();
  const arp = seen.filter((s) => s.flow.startsWith('arp who-has 10.180.204.252 tell 10.180.204.100 vlan 341'));
  expect(arp.length).toBeGreaterThan(0);
  expect(arp.every((s) => s.verdict === 'answered')).toBe(true);
});
