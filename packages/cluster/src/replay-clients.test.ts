import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { memorySink, PcapWriter } from '@vippath/pcap';
import { buildFrame } from '@vippath/wire';
import { loadManifests } from './manifests.js';
import { replayCapture } from './replay.js';
import { clusterFrom, DEFAULT_CLUSTER, defaultObjects, withDefaults } from './scenario.js';

function capture(frames: Uint8Array[]): Readable {
  const sink = memorySink();
  const w = new PcapWriter(sink);
  frames.forEach((f, i) => w.write({ timestamp: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, data: f }));
  return Readable.from([sink.bytes()]);
}

const DUAL = readFileSync(new URL('../../../test/fixtures/manifests/dual-stack.yaml', import.meta.url), 'utf8');

describe("the replay summary's clients and frames back, IPv6 as IPv4", () => {
  it('counts IPv6 sources beside IPv4 ones, ranks both in one top list (IPv4 first on ties), writes IPv6 as RFC 5952 text', async () => {
    const frames: Uint8Array[] = [];
    const v6 = (src: string, port: number): Uint8Array => buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:cc:00:10', vlans: [341], ipv6: { src, dst: 'fd00:10:180::fc' }, tcp: { srcPort: port, dstPort: 80 } });
    const v4 = (src: string, port: number): Uint8Array => buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:cc:00:10', vlans: [341], ipv4: { src, dst: '10.180.204.252' }, tcp: { srcPort: port, dstPort: 80 } });
    // fd00:1::5 sends most, then 10.0.0.1 and fd00:1:0:0:0:0:0:7 tie, then twelve single-frame IPv6 clients.
    for (let i = 0; i < 5; i++) frames.push(v6('fd00:1::5', 1000 + i));
    for (let i = 0; i < 3; i++) frames.push(v6('fd00:1:0:0:0:0:0:7', 2000 + i), v4('10.0.0.1', 2000 + i));
    for (let i = 0; i < 12; i++) frames.push(v6(`2001:db8::${(i + 1).toString(16)}`, 3000));
    const { summary } = await replayCapture(capture(frames), defaultObjects(), DEFAULT_CLUSTER);
    expect(summary.clients.addresses).toBe(15);
    expect(summary.clients.addressesCapped).toBeUndefined();
    expect(summary.clients.top.slice(0, 4)).toEqual([
      { address: 'fd00:1::5', frames: 5 }, { address: '10.0.0.1', frames: 3 }, { address: 'fd00:1::7', frames: 3 }, { address: '2001:db8::1', frames: 1 },
    ]);
    expect(summary.clients.top).toHaveLength(10);
  });

  it('a dual-stack Service: the pods\' IPv6 SYN-ACKs back to the client count as TCP from the VIP', async () => {
    const o = withDefaults(loadManifests(DUAL, 'dual.yaml').objects);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) frames.push(buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:cc:00:10', vlans: [341], ipv6: { src: 'fd00:10:180::80', dst: 'fd00:10:180::fc' }, tcp: { srcPort: 40000 + i, dstPort: 80, flags: 0x02, seq: 1001, ack: 0 } }));
    const { summary } = await replayCapture(capture(frames), o, clusterFrom(o));
    expect(summary.toClient.tcpFromVip).toBe(4);
    expect(summary.toClient.tcpFromPodIp).toBe(0);
    expect(summary.clients).toEqual({ addresses: 1, top: [{ address: 'fd00:10:180::80', frames: 4 }] });
  });
});
