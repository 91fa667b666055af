import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame, DecodedFrame, FrameDecoder, formatIPv4, parseFrame, popVlan, writeIPv4, parseIPv4 } from '@vippath/wire';
import { MetalLB } from './metallb.js';
import { defaultNodes, nginxLb, nodeMac, seedAdvertisement, seedPool } from './scenario.test-helpers.js';

const SVC = 'default/nginx-lb';
const VIP = '10.180.204.252';

function defaultScenario(opts: ConstructorParameters<typeof MetalLB>[1] = {}): MetalLB {
  return new MetalLB({ pools: [seedPool], advertisements: [seedAdvertisement], nodes: defaultNodes(), services: [nginxLb(VIP)] }, opts);
}

const arpFor = (ip: string): Uint8Array => buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: '52:54:00:aa:00:64', arp: { op: 1, senderMac: '52:54:00:aa:00:64', senderIp: '10.180.204.100', targetMac: '00:00:00:00:00:00', targetIp: ip } });
const answering = (m: MetalLB, ip: string): string[] => ['node1', 'node2', 'node3'].filter((n) => m.receive(n, 'br-provider', arpFor(ip)).verdict === 'reply');

describe('the seed and the default scenario', () => {
  it('the seed manifests as written give .250, announced by node2 (DATAPATH.md §1)', () => {
    const m = new MetalLB({ pools: [seedPool], advertisements: [seedAdvertisement], nodes: defaultNodes(), services: [nginxLb()] });
    expect(m.ingressOf(SVC)).toEqual(['10.180.204.250']);
    expect(m.owners('10.180.204.250')).toEqual(['node2']);
    expect(answering(m, '10.180.204.250')).toEqual(['node2']);
  });

  it('the default scenario requests .252, announced by node3 with a gratuitous burst at t = 0', () => {
    const m = defaultScenario();
    expect(m.ingressOf(SVC)).toEqual([VIP]);
    expect(m.owners(VIP)).toEqual(['node3']);
    const frames = m.advance(10_000);
    expect(new Set(frames.map((f) => f.node))).toEqual(new Set(['node3']));
    expect(frames.map((f) => f.time)).toEqual([0, 0, 1100, 1100, 2200, 2200, 3300, 3300, 4400, 4400]);
    expect(frames.every((f) => f.interface === 'br-provider')).toBe(true);
    expect(m.events.filter((e) => e.type === 'nodeAssigned')).toEqual([{ time: 0, type: 'nodeAssigned', service: SVC, node: 'node3', ips: [VIP] }]);
  });

  it('replaying the real capture: ARP requests for the VIP get replies only from node3, other pool addresses none', () => {
    const m = defaultScenario();
    const bytes = new Uint8Array(readFileSync(fileURLToPath(new URL('../../../test/fixtures/vip-ipv4.pcap', import.meta.url))));
    // Classic pcap, little-endian (as tcpdump wrote it): walk the records.
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const decoder = new FrameDecoder();
    const d = new DecodedFrame();
    let requests = 0;
    for (let at = 24; at < bytes.length; ) {
      const caplen = dv.getUint32(at + 8, true);
      const frame = bytes.slice(at + 16, at + 16 + caplen);
      at += 16 + caplen;
      decoder.decode(frame, d);
      if (d.etherType !== 0x0806 || d.arpOp !== 1) continue;
      requests++;
      expect(d.vid(0)).toBe(341);
      // underlay0.341 is untagged by the kernel before br-provider sees the frame.
      const len = popVlan(frame, frame.length);
      const untagged = frame.subarray(0, len);
      const replies = ['node1', 'node2', 'node3'].map((n) => ({ n, v: m.receive(n, 'br-provider', untagged) })).filter((x) => x.v.verdict === 'reply');
      expect(replies.map((r) => r.n)).toEqual(['node3']);
      expect(parseFrame((replies[0]!.v as { frame: Uint8Array }).frame).eth.src).toBe(nodeMac(3));
      for (const other of ['10.180.204.250', '10.180.204.251', '10.180.204.253', '10.180.204.254']) {
        writeIPv4(untagged, 14 + 24, parseIPv4(other));
        expect(['node1', 'node2', 'node3'].map((n) => m.receive(n, 'br-provider', untagged).verdict)).toEqual(['drop', 'drop', 'drop']);
      }
    }
    expect(requests).toBeGreaterThan(0);
  });
});

describe('failover in simulated time', () => {
  it('node3 lost: silence until memberlist notices, then node1 announces with a GARP burst; node3 back: it reclaims', () => {
    const m = defaultScenario();
    m.advance(10_000);
    m.nodeDown('node3', 10_000);
    const during = m.advance(14_999);
    expect(during).toEqual([]);
    expect(m.owners(VIP)).toEqual([]);
    expect(answering(m, VIP)).toEqual([]);
    const after = m.advance(20_000);
    expect(after[0]).toMatchObject({ time: 15_000, node: 'node1' });
    expect(new Set(after.map((f) => f.node))).toEqual(new Set(['node1']));
    expect(parseFrame(after[0]!.frame).arp).toMatchObject({ senderMac: nodeMac(1), senderIp: VIP, targetIp: VIP });
    expect(answering(m, VIP)).toEqual(['node1']);
    m.nodeUp('node3', 30_000);
    const back = m.advance(40_000);
    expect(new Set(back.map((f) => f.node))).toEqual(new Set(['node3']));
    expect(back[0]!.time).toBe(30_000);
    expect(answering(m, VIP)).toEqual(['node3']);
    expect(m.events.map((e) => e.type)).toEqual(expect.arrayContaining(['speakerDown', 'viewChanged', 'withdrawn', 'speakerUp']));
  });

  it('a node back before the others declared it dead is not removed when the old detection fires (found by the cluster property, seed 263055463)', () => {
    const m = defaultScenario();
    m.nodeDown('node3', 0);
    m.nodeUp('node3', 1);
    m.advance(10_000);
    // Without the fix, node1 took over at 5 s while node3 announced too: two owners.
    expect(m.owners(VIP)).toEqual(['node3']);
    expect(answering(m, VIP)).toEqual(['node3']);
  });

  it('ETP=Local: the owner\'s pod not ready moves the VIP at once; no ready pod anywhere leaves it unannounced', () => {
    const m = defaultScenario();
    m.advance(6000);
    m.setEndpointReady(SVC, 2, false, 7000);
    const frames = m.advance(8000);
    expect(frames[0]).toMatchObject({ time: 7000, node: 'node1' });
    expect(m.owners(VIP)).toEqual(['node1']);
    m.setEndpointReady(SVC, 0, false, 9000);
    m.setEndpointReady(SVC, 1, false, 9000);
    m.advance(10_000);
    expect(m.owners(VIP)).toEqual([]);
    expect(answering(m, VIP)).toEqual([]);
  });

  it('split views: a partitioned owner keeps announcing while the others elect another: two owners (metallb#589)', () => {
    const m = defaultScenario();
    m.setView('node3', ['node3'], 1000);
    m.setView('node1', ['node1', 'node2'], 1000);
    m.setView('node2', ['node1', 'node2'], 1000);
    m.advance(2000);
    expect(m.owners(VIP).sort()).toEqual(['node1', 'node3']);
    expect(answering(m, VIP).sort()).toEqual(['node1', 'node3']);
  });

  it('property: losing a node that does not own the VIP never moves it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 250, max: 254 }), fc.integer({ min: 3, max: 6 }), fc.nat(), (last, count, pick) => {
        const vip = `10.180.204.${last}`;
        const m = new MetalLB({ pools: [seedPool], advertisements: [seedAdvertisement], nodes: defaultNodes(count), services: [nginxLb(vip, count)] });
        const owner = m.owners(vip);
        expect(owner.length).toBe(1);
        const others = Array.from({ length: count }, (_, i) => `node${i + 1}`).filter((n) => n !== owner[0]);
        m.nodeDown(others[pick % others.length]!, 100);
        const frames = m.advance(20_000);
        expect(m.owners(vip)).toEqual(owner);
        // Only the owner speaks. The memberlist NodeLeave forces a resync, and every successful reconcile on
        // the winner renews its gratuitous window (research/metallb.md §4.3), so it keeps sending after 5.1 s.
        expect(frames.every((f) => f.node === owner[0])).toBe(true);
        expect(frames.some((f) => f.time > 5100)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});

it('the decoder sees the reply as ARP from the owner (sanity of the frames the model emits)', () => {
  const m = defaultScenario();
  const v = m.receive('node3', 'br-provider', arpFor(VIP));
  const d = new DecodedFrame();
  new FrameDecoder().decode((v as { frame: Uint8Array }).frame, d);
  expect(d.arpOp).toBe(2);
  expect(formatIPv4(d.arpSpa)).toBe(VIP);
});
