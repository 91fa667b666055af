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

  it('replay\'s event options on both sides: the VIP owner\'s only pod not ready (MetalLB moves the VIP, the real NB\'s load balancer is rewritten and the patch flows made anew): both agree', async () => {
    const r = await run('verify', capture, '--not-ready', 'deploy-169402624-2@100ms', '--json');
    const j = JSON.parse(r.out) as VerifyJson & { events: Array<{ time: number; kind: string; text: string }> };
    const texts = j.events.map((e) => e.text);
    expect(texts).toEqual(expect.arrayContaining(['deploy-169402624-2 not ready', expect.stringMatching(/^node3 stops announcing/), expect.stringMatching(/^node[12] announces 10\.180\.204\.252/)]));
    expect(j.compared).toBeGreaterThan(20);
    expect(j.differences, JSON.stringify(j.differences.slice(0, 2))).toEqual([]);
    expect(r.code).toBe(0);
    // Not vacuous: without the event the pod on node3 serves; with it, it receives nothing.
    const plain = JSON.parse((await run('verify', capture, '--json')).out) as VerifyJson & { events: unknown[] };
    expect(plain.real).not.toBe(j.real);
    // At time 0, before any frame: the speakers' announcements at once (node3 elected, then node1) — sent one by
    // one and each settled, as vippath runs them (sent together, node1's announcement overtook its reply to
    // node3's on the real side).
    const at0 = await run('verify', capture, '--not-ready', 'deploy-169402624-2@0', '--json');
    expect((JSON.parse(at0.out) as VerifyJson).differences, at0.out.slice(0, 2000)).toEqual([]);
    // A name the cluster does not have is a usage error before any testbed is built.
    const bad = await run('verify', capture, '--not-ready', 'nosuchpod@0');
    expect([bad.code, bad.err]).toEqual([2, expect.stringMatching(/no pod named nosuchpod/)]);
  }, 120_000);

  // node1, not the VIP's owner: with the owner's link down, the client's frames to its MAC flood to both other
  // nodes, both answer, and the order of the two answers on the outside port is a race between two real
  // ovs-vswitchd processes (seen here: vippath's flood order is node1 then node2, the real one either).
  it('--node-down and --node-up on both sides: the node\'s switch port goes and comes back between the frames; both agree', async () => {
    const r = await run('verify', capture, '--node-down', 'node1@100ms', '--node-up', 'node1@240ms');
    expect(r.out).toMatch(/0\.100 s {2}node1 lost[^\n]*\n *0\.240 s {2}node1 back/);
    expect(r.out, r.out + r.err).toMatch(/agree, byte for byte/);
    expect(r.code).toBe(0);
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
