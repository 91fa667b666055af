/**
 * Issue 19 item 4: an IPv6 address in `excludeIps` of an IPv4 subnet (or of a dual-stack one) hung `status`
 * and `replay` (IPv4 arithmetic on a 128-bit value: `v++` on 3.4e38 does not move) and lint said nothing.
 * Run through the CLI in a child process with a timeout, so a hang fails the test instead of the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { derive, lint, loadManifests, withDefaults, DEFAULT_CLUSTER } from '@vippath/cluster';

const cli = fileURLToPath(new URL('../../packages/vippath/dist/cli.js', import.meta.url));
const capture = fileURLToPath(new URL('../fixtures/vip-ipv4.pcap', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vippath-ipam-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function subnet(cidrBlock: string, excludeIps: string[]): string {
  return `apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: underlay-subnet}
spec:
  protocol: ${cidrBlock.includes(',') ? 'Dual' : 'IPv4'}
  provider: ovn
  cidrBlock: ${JSON.stringify(cidrBlock)}
  gateway: 10.180.204.1
  vlan: underlay-vlan
  excludeIps: ${JSON.stringify(excludeIps)}
  enableExternalLBAddress: true
`;
}

const cases: Array<[string, string, string[]]> = [
  ['an IPv6 address in an IPv4 subnet', '10.180.204.0/24', ['10.180.204.250..10.180.204.252', 'fd00::1']],
  ['an IPv6 range in an IPv4 subnet', '10.180.204.0/24', ['10.180.204.250..10.180.204.252', 'fd00::1..fd00::ffff']],
  ['a dual-stack subnet listing an IPv6 address', '10.180.204.0/24,fd00:10:180::/64', ['10.180.204.250..10.180.204.252', 'fd00:10:180::5']],
  ['a dual-stack subnet, IPv6 block first', 'fd00:10:180::/64,10.180.204.0/24', ['fd00:10:180::5', '10.180.204.250..10.180.204.252']],
];

describe('IPv6 in excludeIps', () => {
  for (const [what, cidr, excludes] of cases) {
    it(`${what}: status and replay finish, pods get the IPv4 addresses`, () => {
      const file = join(dir, `${what.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, subnet(cidr, excludes));
      const status = spawnSync(process.execPath, [cli, 'status', '--defaults', '--manifests', file, '--json'], { encoding: 'utf8', timeout: 20_000 });
      expect(status.error, 'status must not hang').toBeUndefined();
      expect(status.stderr).toBe('');
      const pods = (JSON.parse(status.stdout) as { pods: Array<{ ip: string }> }).pods.map((p) => p.ip);
      expect(pods).toEqual(['10.180.204.2', '10.180.204.3', '10.180.204.4']);
      const replay = spawnSync(process.execPath, [cli, 'replay', capture, '--defaults', '--manifests', file], { encoding: 'utf8', timeout: 20_000 });
      expect(replay.error, 'replay must not hang').toBeUndefined();
      expect(replay.status).toBe(0);
    });
  }

  it('lint reports an IPv6 address in an IPv4 subnet, and a backwards range', () => {
    const objects = withDefaults(loadManifests(subnet('10.180.204.0/24', ['10.180.204.250..10.180.204.252', 'fd00::1', '10.180.204.9..10.180.204.3']), 's.yaml').objects);
    const findings = lint(objects, DEFAULT_CLUSTER.flags).filter((d) => d.field.startsWith('spec.excludeIps'));
    expect(findings.map((d) => [d.code, d.field])).toEqual([['EXCLUDE_IP_OUTSIDE_SUBNET', 'spec.excludeIps[1]'], ['BAD_EXCLUDE_IP', 'spec.excludeIps[2]']]);
    expect(findings[0]!.message).toMatch(/IPv6 address in an IPv4 subnet/);
  });

  it('a /8 with a huge excluded range: the allocation steps over it', () => {
    const objects = withDefaults(loadManifests(subnet('10.0.0.0/8', ['10.0.0.2..10.255.255.200']), 's.yaml').objects);
    const s = derive(objects, { ...DEFAULT_CLUSTER });
    // .1 is free here: the gateway 10.180.204.1 sits inside the excluded range.
    expect(s.pods.map((p) => p.ip)).toEqual(['10.0.0.1', '10.255.255.201', '10.255.255.202']);
  });
});
