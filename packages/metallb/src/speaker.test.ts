import { describe, expect, it } from 'vitest';
import { buildFrame, parseFrame, findLinkLayerAddress, type FrameSpec } from '@vippath/wire';
import { GARP_PERIOD_MS, linkLocalFromMac, solicitedNode, Speaker, type SpeakerInterface } from './speaker.js';
import { parseIPv6, formatIPv6 } from '@vippath/wire';

const MAC = '52:54:00:bb:00:03';
const CLIENT = '52:54:00:aa:00:64';
const VIP = '10.180.204.252';
const VIP6 = 'fd00:10:180:204::252';
const brProvider: SpeakerInterface = { name: 'br-provider', mac: MAC };

function arpRequest(over: Partial<FrameSpec> = {}, arp: Partial<NonNullable<FrameSpec['arp']>> = {}): Uint8Array {
  return buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: CLIENT, arp: { op: 1, senderMac: CLIENT, senderIp: '10.180.204.100', targetMac: '00:00:00:00:00:00', targetIp: VIP, ...arp }, ...over });
}

function speaker(interfaces: SpeakerInterface[] = [brProvider]): Speaker {
  const s = new Speaker('node3', interfaces);
  s.announce('default/nginx-lb', [VIP, VIP6], { all: true, interfaces: [] }, 0);
  return s;
}

describe('ARP responder (arp.go, TestARPResponder)', () => {
  it('answers a broadcast request exactly as mdlayher/arp builds the reply', () => {
    const v = speaker().receive('br-provider', arpRequest());
    expect(v.verdict).toBe('reply');
    const frame = (v as { frame: Uint8Array }).frame;
    expect(frame.length).toBe(60);
    expect(Array.from(frame.subarray(42))).toEqual(new Array(18).fill(0));
    const p = parseFrame(frame);
    expect(p.eth).toEqual({ dst: CLIENT, src: MAC, vlans: [], ethertype: 0x0806 });
    expect(p.arp).toEqual({ op: 2, senderMac: MAC, senderIp: VIP, targetMac: CLIENT, targetIp: '10.180.204.100' });
  });

  it('replies to the ARP SHA, not the Ethernet source; answers probes from 0.0.0.0 and unicast to its own MAC', () => {
    const odd = speaker().receive('br-provider', arpRequest({ src: '02:00:00:00:00:99' }));
    expect(parseFrame((odd as { frame: Uint8Array }).frame).eth.dst).toBe(CLIENT);
    const probe = speaker().receive('br-provider', arpRequest({}, { senderIp: '0.0.0.0' }));
    expect(parseFrame((probe as { frame: Uint8Array }).frame).arp!.targetIp).toBe('0.0.0.0');
    expect(speaker().receive('br-provider', arpRequest({ dst: MAC })).verdict).toBe('reply');
  });

  it('drops with MetalLB reasons, and counts them', () => {
    const s = speaker();
    expect(s.receive('br-provider', arpRequest({}, { op: 2 }))).toEqual({ verdict: 'drop', reason: 'arpReply' });
    expect(s.receive('br-provider', arpRequest({ dst: '06:05:04:03:02:01' }))).toEqual({ verdict: 'drop', reason: 'ethernetDestination' });
    expect(s.receive('br-provider', arpRequest({}, { targetIp: '10.180.204.253' }))).toEqual({ verdict: 'drop', reason: 'announceIP' });
    expect(s.receive('eth9', arpRequest())).toEqual({ verdict: 'drop', reason: 'noResponder' });
    expect(s.drops).toEqual({ arpReply: 1, ethernetDestination: 1, announceIP: 1, noResponder: 1 });
    const scoped = new Speaker('node3', [brProvider, { name: 'eth1', mac: '52:54:00:cc:00:01' }]);
    scoped.announce('svc', [VIP], { all: false, interfaces: ['eth1'] }, 0);
    expect(scoped.receive('br-provider', arpRequest())).toEqual({ verdict: 'drop', reason: 'notMatchInterface' });
    expect(scoped.receive('eth1', arpRequest()).verdict).toBe('reply');
    expect(s.receive('br-provider', buildFrame({ dst: MAC, src: CLIENT, ipv4: { src: '10.180.204.100', dst: VIP }, tcp: { srcPort: 1, dstPort: 80 } }))).toEqual({ verdict: 'ignore' });
  });

  it('records the reasons of what it did not answer while effects are wanted, and credits them back as receive counts them', () => {
    const s = speaker();
    s.receive('br-provider', arpRequest({}, { op: 2 }));
    s.effects = [];
    s.receive('br-provider', arpRequest({}, { targetIp: '10.180.204.253' }));
    s.receive('br-provider', arpRequest());
    s.receive('eth9', arpRequest());
    const recorded = s.effects;
    s.effects = undefined;
    // Only unanswered frames while recording, in order; a reply records nothing.
    expect(recorded).toEqual(['announceIP', 'noResponder']);
    const other = speaker();
    other.receive('br-provider', arpRequest({}, { op: 2 }));
    for (const reason of recorded) other.creditDrop(reason);
    other.receive('br-provider', arpRequest({}, { targetIp: '10.180.204.253' }));
    expect(other.drops).toEqual({ arpReply: 1, announceIP: 2, noResponder: 1 });
    expect(s.drops).toEqual({ arpReply: 1, announceIP: 1, noResponder: 1 });
  });

  it('parses through 802.1Q tags like mdlayher/arp', () => {
    expect(speaker().receive('br-provider', arpRequest({ vlans: [341] })).verdict).toBe('reply');
  });

  it('interfaces: none for ports with a master (OVS), NOARP, down, or excluded names', () => {
    const s = new Speaker('n', [
      { name: 'underlay0.341', mac: MAC, master: 'ovs-system' },
      { name: 'br-provider', mac: MAC },
      { name: 'noarp0', mac: MAC, noarp: true },
      { name: 'down0', mac: MAC, up: false },
      { name: 'veth1234', mac: MAC },
      { name: 'p2p0', mac: MAC, broadcast: false, ipv6LinkLocal: null },
    ], { profile: 'metallb-current' });
    expect(s.arpInterfaces).toEqual(['br-provider']);
    // v0.13.7 has no default exclusion list: veth interfaces answer too.
    expect(new Speaker('n', [{ name: 'veth1234', mac: MAC }], { profile: 'metallb-0.13.7' }).arpInterfaces).toEqual(['veth1234']);
  });

  it('an advertisement naming only interfaces the node lacks leaves the VIP dark and says so', () => {
    const s = new Speaker('node3', [brProvider]);
    const r = s.announce('svc', [VIP], { all: false, interfaces: ['underlay0.341-typo'] }, 0);
    expect(r.announceFailed).toMatch(/don't exist on node node3/);
    expect(s.receive('br-provider', arpRequest())).toEqual({ verdict: 'drop', reason: 'announceIP' });
    // A listed interface that exists but has no responder (enslaved) is silent, without an error.
    const t = new Speaker('node3', [brProvider, { name: 'underlay0.341', mac: MAC, master: 'ovs-system' }]);
    expect(t.announce('svc', [VIP], { all: false, interfaces: ['underlay0.341'] }, 0).announceFailed).toBeUndefined();
    expect(t.receive('br-provider', arpRequest())).toEqual({ verdict: 'drop', reason: 'notMatchInterface' });
  });
});

describe('gratuitous announcements (Announce.spamLoop)', () => {
  it('a fresh burst: t = 0, 1.1, 2.2, 3.3, 4.4 s, each a broadcast request then reply (SHA=MAC, SPA=TPA=VIP, THA=ff…); one unsolicited NA for IPv6', () => {
    const s = new Speaker('node3', [brProvider]);
    s.announce('svc', [VIP, VIP6], { all: true, interfaces: [] }, 1000);
    const frames = s.tick(20_000);
    const v4 = frames.filter((f) => parseFrame(f.frame).arp);
    expect([...new Set(v4.map((f) => f.time))]).toEqual([1000, 2100, 3200, 4300, 5400]);
    expect(v4.length).toBe(10);
    v4.forEach((f, i) => {
      const p = parseFrame(f.frame);
      expect(p.eth.dst).toBe('ff:ff:ff:ff:ff:ff');
      expect(f.frame.length).toBe(60);
      expect(p.arp).toEqual({ op: i % 2 === 0 ? 1 : 2, senderMac: MAC, senderIp: VIP, targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: VIP });
    });
    const v6 = frames.filter((f) => parseFrame(f.frame).ndp);
    expect(v6.map((f) => f.time)).toEqual([1000, 2100, 3200, 4300, 5400]);
    const na = parseFrame(v6[0]!.frame);
    expect(na.eth.dst).toBe('33:33:00:00:00:01');
    expect(na.ipv6).toMatchObject({ src: linkLocalFromMac(MAC), dst: 'ff02::1', hopLimit: 255 });
    expect(na.ndp).toMatchObject({ solicited: false, override: true, router: false, target: VIP6 });
    expect(findLinkLayerAddress(na.ndp!, 2)).toBe(MAC);
    expect(na.checksum).toBe('ok');
    expect(s.tick(60_000)).toEqual([]);
    expect(s.nextDue()).toBeUndefined();
  });

  it('a repeat within the window only extends it; withdrawal stops the burst and sends nothing', () => {
    const s = new Speaker('node3', [brProvider]);
    s.announce('svc', [VIP], { all: true, interfaces: [] }, 0);
    s.tick(1500);
    s.announce('svc', [VIP], { all: true, interfaces: [] }, 2000);
    const times = [...new Set(s.tick(30_000).map((f) => f.time))];
    // Ticks continue at the ticker's phase (0 + k·1.1 s) until 2 s + 5 s.
    expect(times).toEqual([2200, 3300, 4400, 5500, 6600]);
    const t = new Speaker('node3', [brProvider]);
    t.announce('svc', [VIP], { all: true, interfaces: [] }, 0);
    t.tick(GARP_PERIOD_MS);
    t.withdraw('svc');
    expect(t.tick(30_000)).toEqual([]);
  });
});

describe('NDP responder (ndp.go)', () => {
  function ns(opts: { sllao?: boolean; dst?: string; target?: string; src?: string } = {}): Uint8Array {
    const target = opts.target ?? VIP6;
    const dst = opts.dst ?? formatIPv6(solicitedNode(parseIPv6(target)));
    return buildFrame({
      dst: '33:33:ff:00:02:52', src: CLIENT,
      ipv6: { src: opts.src ?? 'fd00:10:180:204::100', dst, hopLimit: 255 },
      ndp: { type: 135, router: false, solicited: false, override: false, target, options: opts.sllao === false ? [] : [{ type: 1, data: Uint8Array.from([0x52, 0x54, 0, 0xaa, 0, 0x64]) }] },
    });
  }

  it('answers an NS with a source link-layer option: NA from the link-local address, S=1, O=0, TLLA = MAC', () => {
    const v = speaker().receive('br-provider', ns());
    expect(v.verdict).toBe('reply');
    const p = parseFrame((v as { frame: Uint8Array }).frame);
    expect(p.eth).toMatchObject({ dst: CLIENT, src: MAC });
    expect(p.ipv6).toMatchObject({ src: 'fe80::5054:ff:febb:3', dst: 'fd00:10:180:204::100', hopLimit: 255 });
    expect(p.ndp).toMatchObject({ type: 136, router: false, solicited: true, override: false, target: VIP6 });
    expect(findLinkLayerAddress(p.ndp!, 2)).toBe(MAC);
    expect(p.checksum).toBe('ok');
  });

  it('ignores NS without SLLAO (DAD), unicast NS to the VIP (metallb#2920), its own NS, and unknown targets', () => {
    const s = speaker();
    expect(s.receive('br-provider', ns({ sllao: false }))).toEqual({ verdict: 'drop', reason: 'noSourceLL' });
    expect(s.receive('br-provider', ns({ dst: VIP6 }))).toEqual({ verdict: 'drop', reason: 'notListening' });
    expect(s.receive('br-provider', ns({ src: linkLocalFromMac(MAC), dst: 'ff02::1' }))).toEqual({ verdict: 'drop', reason: 'ownLinkLocal' });
    expect(s.receive('br-provider', ns({ target: 'fd00:10:180:204::253', dst: 'ff02::1' }))).toEqual({ verdict: 'drop', reason: 'announceIP' });
  });
});

describe('announcer refcount (announcer_test.go)', () => {
  it('two services on one address: it stays announced until both withdraw', () => {
    const s = new Speaker('node3', [brProvider]);
    s.announce('default/a', ['192.168.1.20'], { all: true, interfaces: [] }, 0);
    s.announce('default/b', ['192.168.1.20'], { all: true, interfaces: [] }, 0);
    s.withdraw('default/a');
    expect(s.receive('br-provider', arpRequest({}, { targetIp: '192.168.1.20' })).verdict).toBe('reply');
    s.withdraw('default/b');
    expect(s.receive('br-provider', arpRequest({}, { targetIp: '192.168.1.20' }))).toEqual({ verdict: 'drop', reason: 'announceIP' });
  });
});
