/**
 * `vippath verify` end to end: a capture through vippath and a throwaway real OVS + OVN cluster (skipped with
 * the reason where OVS/OVN are missing), the JSON shape, exit 0 when both agree and 1 when they do not, and
 * exit 2 with what to install when the programs are not there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter } from '@vippath/pcap';
import { buildFrame } from '@vippath/wire';
import { testbedUnavailable } from '../packages/vippath/src/testbed/index.js';
import { run } from './helpers/cli.js';

const unavailable = testbedUnavailable();
const capture = fileURLToPath(new URL('./fixtures/vip-ipv4.pcap', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vippath-verify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


interface VerifyJson {
  compared: number;
  real: number;
  simulated: number;
  differences: Array<{ input: number; port: string; real: string | null; simulated: string | null; hint?: string }>;
  excluded: Record<string, number>;
}

describe('vippath verify without Open vSwitch and OVN', () => {
  it('says what to install and exits 2', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'empty');
    try {
      const r = await run('verify', capture);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/apt-get install openvswitch-switch ovn-central ovn-host/);
      expect(r.err).toMatch(/ovs-vswitchd/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe.skipIf(unavailable !== undefined)(`vippath verify against a real cluster${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('the bundled capture: --json totals, no difference, exit 0', async () => {
    const r = await run('verify', capture, '--json');
    const j = JSON.parse(r.out) as VerifyJson;
    expect(j.compared).toBeGreaterThan(20);
    expect(j.real).toBeGreaterThan(20);
    expect(j.simulated).toBeGreaterThan(20);
    // The capture's own cluster frames are not fed (21 of them): counted, not silently dropped.
    expect(j.excluded['cluster-frame-in-capture']).toBe(21);
    // The real capture agrees byte for byte since the testbed's NB carries Kube-OVN's use_ct_inv_match=false
    // (before, its out-of-window ACKs were dropped by the real side only); the differences' shape is checked on a
    // capture that must differ, in the next test.
    expect(j.differences, JSON.stringify(j.differences.slice(0, 2))).toEqual([]);
    expect(r.code).toBe(0);
  }, 120_000);

  it('a capture that must differ (the real cluster built as upstream OVN, vippath as Kube-OVN 1.14): exit 1, each difference with input, port and the frame of the side that sent it', async () => {
    const r = await run('verify', capture, '--profile', 'upstream', '--json');
    const j = JSON.parse(r.out) as VerifyJson;
    expect(r.code).toBe(1);
    expect(j.differences.length).toBeGreaterThan(0);
    expect(j.simulated).toBeGreaterThan(j.real);
    for (const d of j.differences) {
      expect(d.input).toBeGreaterThan(0);
      expect(d.port).toMatch(/^(outside|node\d\/\S+)$/);
      expect(d.real !== null || d.simulated !== null).toBe(true);
      for (const f of [d.real, d.simulated]) if (f !== null) expect(f).toMatch(/^([0-9a-f]{2})+$/);
    }
  }, 120_000);

  it('a capture both agree on (ARP for the VIP and a pod, pings to a pod and the VIP): exit 0, text totals', async () => {
    const file = join(dir, 'agree.pcap');
    const w = new PcapWriter(file);
    const client = '52:54:00:aa:00:64';
    const frames = [
      buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: client, vlans: [341], arp: { op: 1, senderMac: client, senderIp: '10.180.204.100', targetMac: '00:00:00:00:00:00', targetIp: '10.180.204.252' } }),
      buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: client, vlans: [341], arp: { op: 1, senderMac: client, senderIp: '10.180.204.100', targetMac: '00:00:00:00:00:00', targetIp: '10.180.204.2' } }),
      buildFrame({ dst: '00:00:00:b4:cc:02', src: client, vlans: [341], ipv4: { src: '10.180.204.100', dst: '10.180.204.2' }, icmp: { type: 8, code: 0, body: new Uint8Array(12) } }),
      buildFrame({ dst: '52:54:00:bb:00:03', src: client, vlans: [341], ipv4: { src: '10.180.204.100', dst: '10.180.204.252' }, icmp: { type: 8, code: 0, body: new Uint8Array(12) } }),
    ];
    frames.forEach((data, i) => w.write({ timestamp: 1_700_000_000_000_000_000n + BigInt(i) * 10_000_000n, data }));
    await w.close();
    const r = await run('verify', file);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/4 input frame\(s\), profile kube-ovn: \d+ frame\(s\) compared/);
    expect(r.out).toMatch(/agree, byte for byte/);
    expect(r.code).toBe(0);
  }, 120_000);
});
