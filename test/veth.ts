/**
 * A client in a network namespace on one end of a veth pair, the other end left here for capturing: what the
 * live-capture tests (the `cap` addon's, and the example's) need. `vethUnavailable()` says why it cannot be made
 * on this machine (they skip with that reason; CI has everything).
 */
import { execFileSync, spawnSync } from 'node:child_process';

export function vethUnavailable(liveCaptureAvailable: () => boolean): string | undefined {
  const ns = namespaceUnavailable();
  if (ns) return ns;
  if (spawnSync('ping', ['-V']).status !== 0) return 'no `ping` command (iputils-ping)';
  if (!liveCaptureAvailable()) return 'the optional `cap` addon is not built (needs libpcap-dev)';
  return undefined;
}

/** Why network namespaces and veth pairs cannot be made here (`undefined`: they can). */
export function namespaceUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('ip', ['-V']).status !== 0) return 'no `ip` command (iproute2)';
  return undefined;
}

/** Makes (after removing any leftover) namespace `ns` holding `nsEnd` with `mac` and 10.180.204.100/24; `hostEnd` up here. */
export function makeVethClient(ns: string, hostEnd: string, nsEnd: string, mac: string): () => void {
  const cleanup = (): void => {
    spawnSync('ip', ['link', 'del', hostEnd]);
    spawnSync('ip', ['netns', 'del', ns]);
  };
  cleanup();
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd, 'netns', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', nsEnd, 'address', mac]);
  execFileSync('ip', ['-n', ns, 'addr', 'add', '10.180.204.100/24', 'dev', nsEnd]);
  execFileSync('ip', ['link', 'set', hostEnd, 'up']);
  execFileSync('ip', ['-n', ns, 'link', 'set', nsEnd, 'up']);
  return cleanup;
}
