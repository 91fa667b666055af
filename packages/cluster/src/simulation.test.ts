import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCaptureSync } from '@vippath/pcap';
import { LogicalSwitch, type SwitchOutcome } from '@vippath/ovn';
import { parseFrame, buildFrame, copyPlainTcp4Segment, DecodedFrame, decodePlainTcp4, PLAIN_TCP4_SEGMENT_FIELDS, plainTcp4, readPlainTcp4Segment } from '@vippath/wire';
import { PodHost } from './pods.js';
import { DEFAULT_CLUSTER, defaultObjects } from './scenario.js';
import { SimulatedCluster } from './simulation.js';

const capture = fileURLToPath(new URL('../../../test/fixtures/vip-ipv4.pcap', import.meta.url));
const VIP = '10.180.204.252';

describe('the real capture through the default scenario', () => {
  it('ARP answered by node3; SYNs DNATed to node3\'s pod with the client IP; replies tagged 341 with src = VIP', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
    const records = readCaptureSync(new Uint8Array(readFileSync(capture))).records;
    const t0 = records[0]!.timestamp;
    let injected = 0;
    const outside: Uint8Array[] = [];
    for (const rec of records) {
      // The capture holds both directions; the node's own replies are what the simulation must produce itself.
      if (sim.fromCluster(rec.data)) continue;
      injected++;
      const r = sim.inject(rec.data, Number(rec.timestamp - t0) / 1e6);
      outside.push(...r.background, ...r.outside);
    }
    expect(injected).toBeGreaterThan(15);
    const parsed = outside.map((f) => parseFrame(f));
    // Everything that reaches the client is tagged 341.
    expect(parsed.every((p) => p.eth.vlans.length === 1 && p.eth.vlans[0]!.vid === 341)).toBe(true);
    // ARP for the VIP: the client's request answered once, by node3's br-provider MAC, to the client.
    const arpReplies = parsed.filter((p) => p.arp?.op === 2 && p.arp.senderIp === VIP && p.eth.dst === '52:54:00:aa:00:64');
    expect(arpReplies.map((p) => p.arp!.senderMac)).toEqual(['52:54:00:bb:00:03']);
    // Gratuitous ARP (broadcast request + reply per burst) comes from node3 only.
    const garp = parsed.filter((p) => p.arp && p.eth.dst === 'ff:ff:ff:ff:ff:ff' && p.arp.senderIp === VIP && p.arp.targetIp === VIP);
    expect(garp.length).toBeGreaterThan(0);
    expect(new Set(garp.map((p) => p.eth.src))).toEqual(new Set(['52:54:00:bb:00:03']));
    // TCP from the VIP: SYN-ACKs and HTTP responses with src = VIP:80, never a pod IP.
    const tcp = parsed.filter((p) => p.tcp);
    expect(tcp.length).toBeGreaterThan(5);
    expect(tcp.every((p) => p.ipv4!.src === VIP && p.tcp!.srcPort === 80)).toBe(true);
    expect(tcp.filter((p) => p.tcp!.flags === 0x12).length).toBe(3);
    expect(tcp.every((p) => p.checksum === 'ok')).toBe(true);
    // The pod on node3 served all three requests and saw the real client address.
    const node3Pod = [...sim.pods.values()].find((p) => p.pod.node === 'node3')!;
    expect(node3Pod.log.map((l) => l.path)).toEqual(['/', '/index.html', '/clientip']);
    expect(node3Pod.log.every((l) => l.client.startsWith('10.180.204.100:'))).toBe(true);
    for (const p of sim.pods.values()) if (p.pod.node !== 'node3') expect(p.log).toEqual([]);
    // The /clientip answer carries the client's own address.
    const bodies = tcp.map((p) => Buffer.from(p.tcp!.payload).toString('latin1')).filter((b) => b.startsWith('HTTP/1.1 200'));
    expect(bodies.some((b) => /\r\n\r\n10\.180\.204\.100:\d+$/.test(b))).toBe(true);
  });

  it('frames on another VLAN or untagged never enter the OVN path (counted)', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
    const syn = (vlans: number[]): Uint8Array => buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', vlans, ipv4: { src: '10.180.204.100', dst: VIP }, tcp: { srcPort: 40000, dstPort: 80 } });
    const notArp = (fs: Uint8Array[]): Uint8Array[] => fs.filter((f) => !parseFrame(f).arp);
    expect(notArp(sim.inject(syn([100]), 0).outside)).toEqual([]);
    expect(notArp(sim.inject(syn([]), 1).outside)).toEqual([]);
    expect(sim.dropCounts.get('nic.other-vlan')).toBeGreaterThan(0);
    expect(sim.dropCounts.get('nic.untagged')).toBeGreaterThan(0);
  });

  it('an empty frame entering at a LOCAL port is a counted drop, not an exception (fuzz crash: FrameEditError)', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
    for (const at of ['node2/br-provider', 'node3/underlay0.341', 'node1', 'node3/deploy-169402624-2', 'outside']) {
      const r = sim.inject(new Uint8Array(0), 1, at);
      expect(r.verdict, at).toBe('dropped');
      expect(r.drops.map((d) => [d.code, d.reason]), at).toEqual([['wire.runt', 'runt frame (shorter than an Ethernet header)']]);
    }
  });

  it('the wire\'s MAC table and the pods\' connection tables are bounded, evictions counted', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, wireMacLimit: 16, podConnLimit: 8 });
    for (let i = 0; i < 40; i++) {
      const mac = `52:54:00:cc:00:${i.toString(16).padStart(2, '0')}`;
      const f = buildFrame({ dst: '52:54:00:bb:00:03', src: mac, vlans: [341], ipv4: { src: `10.181.0.${i + 1}`, dst: VIP }, tcp: { srcPort: 40000, dstPort: 80, flags: 0x02 } });
      sim.process(f, f.length, i);
    }
    // 40 clients plus node3's NIC and its pod's MAC (relearned whenever evicted) went through 16 places.
    expect(sim.wireMacs).toBe(16);
    expect(sim.wireMacEvictions).toBeGreaterThanOrEqual(40 + 2 - 16);
    const pod = sim.pod('deploy-169402624-2')!;
    expect(pod.connEvictions).toBe(40 - 8);
    expect(pod.hasConn(0x0ab50028, 40000)).toBe(true);
    expect(pod.hasConn(0x0ab50001, 40000)).toBe(false);
  });
});

describe('callbacks unset with null (JavaScript callers)', () => {
  // processAt compares its callbacks with undefined per frame; a caller that unhooks one with null must get what an
  // unset one gives, with the caches (the served path) and without them.
  const records = readCaptureSync(new Uint8Array(readFileSync(capture))).records;
  const t0 = records[0]!.timestamp;
  const verdicts = (flowCache: boolean, unset: undefined | null): string[] => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, flowCache });
    const loose = sim as unknown as Record<'onOutside' | 'onDeliver' | 'onWire' | 'onPort' | 'onTap', unknown>;
    let seen = 0;
    sim.onOutside = () => seen++;
    sim.onDeliver = () => seen++;
    for (const k of ['onOutside', 'onDeliver', 'onWire', 'onPort', 'onTap'] as const) loose[k] = unset;
    const out: string[] = [];
    for (const rec of records) {
      if (sim.fromCluster(rec.data)) continue;
      out.push(sim.processAt(rec.data, 0, rec.data.length, Number(rec.timestamp - t0) / 1e6));
    }
    expect(seen).toBe(0);
    expect(sim.onOutside).toBeUndefined();
    expect(sim.onPort).toBeUndefined();
    return out;
  };
  for (const flowCache of [true, false]) {
    it(`null is as undefined for every callback (${flowCache ? 'caches on' : 'caches off'})`, () => {
      const plain = verdicts(flowCache, undefined);
      expect(plain).toContain('delivered');
      expect(verdicts(flowCache, null)).toEqual(plain);
    });
  }
});

/**
 * The bundled capture through `sim` (the SYNs' full walks: `onCapture` sees each frame and its verdict), then —
 * after `atConversations` has seen the verdicts and frames out so far — six clients of 10.181.`net`.0/24 (ports from
 * `port`), each a handshake and `then(send, tcp, isn1)` on its connection: frames the caches serve. `sim.onOutside`
 * is set here (the frames out, in hex). Returns every verdict in order, the frames out and the clock.
 */
function converse(
  sim: SimulatedCluster,
  net: number,
  port: number,
  then: (send: (f: Uint8Array) => void, tcp: (flags: number, seq: number, ack: number, payload?: string) => Uint8Array, isn1: number) => void,
  onCapture: (data: Uint8Array, verdict: string) => void = () => {},
  atConversations: (verdicts: readonly string[], out: readonly string[]) => void = () => {},
): { verdicts: string[]; out: string[]; now: number } {
  const records = readCaptureSync(new Uint8Array(readFileSync(capture))).records;
  const t0 = records[0]!.timestamp;
  const verdicts: string[] = [];
  const out: string[] = [];
  let last: Uint8Array | undefined;
  sim.onOutside = (f) => {
    out.push(Buffer.from(f).toString('hex'));
    last = f.slice();
  };
  let now = 0;
  for (const rec of records) {
    if (sim.fromCluster(rec.data)) continue;
    now = Number(rec.timestamp - t0) / 1e6;
    const v = sim.process(rec.data, rec.data.length, now);
    verdicts.push(v);
    onCapture(rec.data, v);
  }
  atConversations(verdicts, out);
  for (let c = 0; c < 6; c++) {
    const ip = `10.181.${net}.${10 + c}`;
    const mac = `52:54:00:cc:${net.toString(16).padStart(2, '0')}:${(10 + c).toString(16).padStart(2, '0')}`;
    const tcp = (flags: number, seq: number, ack: number, payload?: string): Uint8Array =>
      buildFrame({ dst: '52:54:00:bb:00:03', src: mac, vlans: [341], ipv4: { src: ip, dst: VIP }, tcp: { srcPort: port + c, dstPort: 80, flags, seq, ack, ...(payload ? { payload: new TextEncoder().encode(payload) } : {}) } });
    const send = (f: Uint8Array): void => {
      now += 1;
      verdicts.push(sim.process(f, f.length, now));
    };
    last = undefined;
    send(tcp(0x02, 1000, 0));
    const synAck = last ? parseFrame(last).tcp : undefined;
    if (!synAck || synAck.flags !== 0x12) continue;
    then(send, tcp, (synAck.seq + 1) >>> 0);
  }
  return { verdicts, out, now };
}

describe('the pods take the switch\'s decode of an output (SwitchOutcome.decodedFor)', () => {
  // The real capture's connections (the SYNs' full walks), then conversations of clients that go on past the
  // handshake — ACKs and a request on the connection (the switch replays their walks) — answered with the pod's numbers.
  const run = (tapped: boolean): string[] => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
    // A tap's callback may run anything between the switch and the pod: the OVN hop hands no decode over then.
    if (tapped) sim.onTap = () => {};
    // The hot path (process): inject traces, and a traced switch hands no decode over.
    return converse(sim, 1, 41000, (send, tcp, isn1) => {
      for (let i = 0; i < 4; i++) send(tcp(0x10, 1001, isn1));
      send(tcp(0x18, 1001, isn1, 'GET /clientip HTTP/1.1\r\nHost: x\r\n\r\n'));
    }).out;
  };

  it('every decode handed over is the delivered frame\'s, and the frames out are those of a run without (taps on)', () => {
    const answer = PodHost.prototype.answer;
    const fresh = new DecodedFrame();
    const copied = new DecodedFrame();
    let handed = 0;
    let read = 0;
    PodHost.prototype.answer = function (this: PodHost, frame: Uint8Array, now: number, decoded?: Readonly<DecodedFrame>): Uint8Array[] {
      if (decoded !== undefined) {
        handed++;
        expect(readPlainTcp4Segment(frame, frame.length, fresh)).not.toBe(0);
        copyPlainTcp4Segment(decoded, copied);
        for (const k of PLAIN_TCP4_SEGMENT_FIELDS) if (copied[k] !== fresh[k]) expect({ field: k, handed: copied[k] }).toEqual({ field: k, handed: fresh[k] });
      } else if (plainTcp4(frame, frame.length) !== 0) read++;
      return answer.call(this, frame, now, decoded);
    };
    try {
      const without = run(true);
      expect(handed).toBe(0);
      const plainWithout = read;
      read = 0;
      const withDecode = run(false);
      expect(withDecode).toEqual(without);
      // The SYNs' full walks and the connections' replayed ones are handed over: every plain frame a pod got.
      expect(handed).toBe(plainWithout);
      expect(handed).toBeGreaterThan(10);
      expect(read).toBe(0);
    } finally {
      PodHost.prototype.answer = answer;
    }
  });
});

describe('frames handed to the switch with their decode (LogicalSwitch.processInto\'s `decoded`)', () => {
  // The way in's fast-lane hits (the caches' decode of the frame at the switch) and the pods' TCP/IPv4 answers (theirs)
  // come with a decode the switch takes instead of decoding the frame: each must be what decodePlainTcp4 of the bytes
  // writes, and the run the same as one whose switch decodes every frame itself.
  const run = (): { verdicts: string[]; out: string[]; pods: unknown[] } => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    const r = converse(sim, 3, 43000, (send, tcp, isn1) => {
      for (let i = 0; i < 3; i++) send(tcp(0x10, 1001, isn1));
      send(tcp(0x18, 1001, isn1, 'GET /clientip HTTP/1.1\r\nHost: x\r\n\r\n'));
      send(tcp(0x11, 1036, isn1));
    });
    const pods = [...sim.pods.values()].map((p) => ({ requests: p.requests, log: p.log, clients: [...p.clients], ignored: p.ignored }));
    return { verdicts: r.verdicts, out: r.out, pods };
  };

  it('each decode is decodePlainTcp4\'s of the frame, from the way in and from the pods, and the run is one without them', () => {
    const processInto = LogicalSwitch.prototype.processInto;
    const fresh = new DecodedFrame();
    const given = { in: 0, pods: 0, not: 0 };
    let drop = false;
    LogicalSwitch.prototype.processInto = function (this: LogicalSwitch, frame: Uint8Array, length: number, inport: string, chassis: string, now: number, out?: SwitchOutcome, checksumsGood?: boolean, decoded?: Readonly<DecodedFrame>): SwitchOutcome {
      if (decoded !== undefined) {
        if (checksumsGood === true) given.pods++;
        else given.in++;
        expect(decodePlainTcp4(frame, length, fresh)).toBe(true);
        const fields = Object.keys(fresh).filter((k) => k !== 'vlanTpid' && k !== 'vlanTci') as Array<keyof DecodedFrame>;
        const got = Object.fromEntries(fields.map((k) => [k, decoded[k]]));
        const want = Object.fromEntries(fields.map((k) => [k, fresh[k]]));
        if (JSON.stringify(got) !== JSON.stringify(want)) expect({ inport, got }).toEqual({ inport, got: want });
      } else given.not++;
      return processInto.call(this, frame, length, inport, chassis, now, out, checksumsGood, drop ? undefined : decoded);
    };
    try {
      const withDecodes = run();
      console.log(`switch runs with a decode: ${given.in} from the way in, ${given.pods} from the pods; ${given.not} without`);
      // The caches served the conversations' frames and the pods answered them with TCP/IPv4 segments.
      expect(given.in).toBeGreaterThan(20);
      expect(given.pods).toBeGreaterThan(20);
      // The capture's frames (the SYNs' full walks, ARP) and the pods' other answers come without.
      expect(given.not).toBeGreaterThan(0);
      drop = true;
      expect(run()).toEqual(withDecodes);
    } finally {
      LogicalSwitch.prototype.processInto = processInto;
    }
  });
});

describe('what a real OVS + OVN run showed (issue 16, test/testbed.test.ts)', () => {
  const tapsOf = (sim: SimulatedCluster): Array<[string, Uint8Array]> => {
    const taps: Array<[string, Uint8Array]> = [];
    sim.onTap = (tap, f) => taps.push([tap, f.slice()]);
    return taps;
  };

  it('ovn-controller announces bound VIFs at 0, 2, 6, 14 and 30 s after binding, out of the localnet port, so the wire learns the pods\' MACs', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { vifBoundAt: 1000 });
    const taps = tapsOf(sim);
    const pod = sim.state.pods[0]!;
    sim.advance(999);
    // MetalLB's own announcements run from time 0; nothing from ovn-controller before binding.
    expect(taps.filter(([, f]) => parseFrame(f).arp?.senderIp === pod.ip)).toEqual([]);
    sim.advance(1000);
    const garp = taps.filter(([tap]) => tap === 'outside').map(([, f]) => parseFrame(f)).filter((p) => p.arp?.senderIp === pod.ip);
    expect(garp).toHaveLength(1);
    expect(garp[0]!.eth).toMatchObject({ dst: 'ff:ff:ff:ff:ff:ff', src: pod.mac });
    expect(garp[0]!.eth.vlans.map((v) => v.vid)).toEqual([341]);
    expect(garp[0]!.arp).toMatchObject({ op: 1, senderMac: pod.mac, targetIp: pod.ip, targetMac: '00:00:00:00:00:00' });
    const times: number[] = [0];
    for (let t = 1500; t <= 40_000; t += 500) {
      taps.length = 0;
      sim.advance(t);
      if (taps.some(([tap, f]) => tap === 'outside' && parseFrame(f).arp?.senderIp === pod.ip)) times.push(t - 1000);
    }
    expect(times).toEqual([0, 2000, 6000, 14000, 30000]);
    // Learned: a frame from the outside to the pod's MAC goes to its node only, not flooded.
    taps.length = 0;
    sim.inject(buildFrame({ dst: pod.mac, src: '52:54:00:aa:00:64', vlans: [341], ipv4: { src: '10.180.204.100', dst: pod.ip }, udp: { srcPort: 5000, dstPort: 53 } }), 41_000);
    expect(taps.filter(([tap]) => tap.endsWith(':in')).map(([tap]) => tap)).toEqual([`${pod.node}/underlay0:in`]);
  });

  it('without vifBoundAt (the pods were bound long before), no such announcement, and the wire floods to an unknown pod MAC', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
    const taps = tapsOf(sim);
    sim.advance(60_000);
    const pod = sim.state.pods[0]!;
    expect(taps.filter(([, f]) => parseFrame(f).arp?.senderIp === pod.ip)).toEqual([]);
    taps.length = 0;
    sim.inject(buildFrame({ dst: pod.mac, src: '52:54:00:aa:00:64', vlans: [341], ipv4: { src: '10.180.204.100', dst: pod.ip }, udp: { srcPort: 5000, dstPort: 53 } }), 61_000);
    expect(taps.filter(([tap]) => tap.endsWith(':in')).map(([tap]) => tap).sort()).toEqual(['node1/underlay0:in', 'node2/underlay0:in', 'node3/underlay0:in']);
  });

  it('a node that goes down with its link takes its switch port\'s MACs with it: frames to its pods\' MACs flood to the nodes left', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { vifBoundAt: 0 });
    const taps = tapsOf(sim);
    sim.advance(10);
    const pod = sim.state.pods.find((p) => p.node === 'node3')!;
    const udp = buildFrame({ dst: pod.mac, src: '52:54:00:aa:00:64', vlans: [341], ipv4: { src: '10.180.204.100', dst: pod.ip }, udp: { srcPort: 5000, dstPort: 53 } });
    taps.length = 0;
    sim.inject(udp, 20);
    expect(taps.filter(([tap]) => tap.endsWith(':in')).map(([tap]) => tap)).toEqual(['node3/underlay0:in']);
    sim.nodeDown('node3', 30, { linkDown: true });
    taps.length = 0;
    sim.inject(udp, 40);
    expect(taps.filter(([tap]) => tap.endsWith(':in')).map(([tap]) => tap).sort()).toEqual(['node1/underlay0:in', 'node2/underlay0:in']);
  });

  it('the wire learns per VLAN: the owner\'s MAC learned on VLAN 341 is unknown on VLAN 100 and untagged, so those flood', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
    const taps = tapsOf(sim);
    const client = '52:54:00:aa:00:64';
    // The owner (node3) answers ARP on VLAN 341: the wire learns its MAC there.
    sim.inject(buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: client, vlans: [341], arp: { op: 1, senderMac: client, senderIp: '10.180.204.100', targetMac: '00:00:00:00:00:00', targetIp: VIP } }), 10);
    const owner = '52:54:00:bb:00:03';
    const to = (vlans: number[]): string[] => {
      taps.length = 0;
      sim.inject(buildFrame({ dst: owner, src: client, vlans, ipv4: { src: '10.180.204.100', dst: VIP }, icmp: { type: 8, code: 0, body: new Uint8Array(8) } }), 20);
      return taps.filter(([tap]) => tap.endsWith(':in')).map(([tap]) => tap).sort();
    };
    expect(to([341])).toEqual(['node3/underlay0:in']);
    expect(to([100, 341])).toEqual(['node1/underlay0:in', 'node2/underlay0:in', 'node3/underlay0:in']);
    expect(to([])).toEqual(['node1/underlay0:in', 'node2/underlay0:in', 'node3/underlay0:in']);
    // The client on three VLANs (341, 100, untagged) and the owner on 341.
    expect(sim.wireMacs).toBe(4);
  });

  it('the wire ages a MAC from when it was last seen: the owner answering ARP stays learned in a full table', () => {
    for (const cached of [false, true]) {
      const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, wireMacLimit: 4, ...(cached ? {} : { flowCache: false }) });
      const owner = '52:54:00:bb:00:03';
      const mac = (i: number): string => `52:54:00:cc:00:${i.toString(16).padStart(2, '0')}`;
      const arp = (i: number, at: number): void => void sim.inject(buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: mac(i), vlans: [341], arp: { op: 1, senderMac: mac(i), senderIp: `10.180.204.${100 + i}`, targetMac: '00:00:00:00:00:00', targetIp: VIP }, padTo: 60 }), at);
      // A segment to the owner's MAC that nothing answers (no LB on port 81: br-provider's NORMAL hands it to the host).
      const toOwner = (i: number, at: number): void => void sim.inject(buildFrame({ dst: owner, src: mac(i), vlans: [341], ipv4: { src: `10.180.204.${100 + i}`, dst: VIP }, tcp: { srcPort: 40000, dstPort: 81, flags: 0x02, seq: 1 } }), at);
      // After MetalLB's gratuitous ARPs (0–4.4 s) the wire knows node3. Client 1 ARPs (node3 answers), clients 2
      // and 3 fill the table, client 1 sends and ARPs again (node3 answers: seen last, from the ARP cache when it
      // is on), client 4 arrives.
      arp(1, 10_000);
      arp(1, 10_000.5); // the ARP cache's entry is made from a request that changes no MAC table
      toOwner(2, 10_001);
      toOwner(3, 10_002);
      toOwner(1, 10_002.5); // client 1 seen again: node3 is now the oldest entry until it answers again
      arp(1, 10_003);
      if (cached) expect(sim.cacheStats()).toMatchObject({ arpEntries: 1, arpHits: 1 });
      // Taps only now: with a tap the caches stand aside, and the ARPs above must take them.
      const taps = tapsOf(sim);
      toOwner(4, 10_004);
      // Aged from first sight, node3's MAC was the oldest entry and went for client 4's: the segment flooded.
      expect(taps.filter(([tap]) => tap.endsWith(':in')).map(([tap]) => tap), `flow cache ${cached}`).toEqual(['node3/underlay0:in']);
    }
  });
});

describe('injectTransient: inject with the simulation\'s own result', () => {
  it('gives what inject gives, frame by frame, in one reused result whose background is the caller\'s', () => {
    const records = readCaptureSync(new Uint8Array(readFileSync(capture))).records;
    const t0 = records[0]!.timestamp;
    const kept = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    const reused = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    const hex = (f: Uint8Array): string => Buffer.from(f).toString('hex');
    const view = (r: ReturnType<SimulatedCluster['inject']>) => ({ verdict: r.verdict, outside: r.outside.map(hex), background: r.background.map(hex), delivered: r.delivered.map((d) => `${d.pod} ${hex(d.frame)}`), drops: r.drops.map((d) => `${d.at} ${d.code}`) });
    const results = new Set<object>();
    let backgrounds = 0;
    for (const rec of records) {
      if (kept.fromCluster(rec.data)) continue;
      const now = Number(rec.timestamp - t0) / 1e6;
      const want = view(kept.inject(rec.data, now));
      const r = reused.injectTransient(rec.data, now);
      results.add(r);
      backgrounds += r.background.length;
      expect(view(r)).toEqual(want);
    }
    // Gratuitous ARP went out as background of some frames; every frame's result was the same object.
    expect(backgrounds).toBeGreaterThan(0);
    expect(results.size).toBe(1);
    expect(reused.edges()).toEqual(kept.edges());
  });
});

describe('deliveries nobody reads (process without onDeliver)', () => {
  // Without onDeliver a cache hit's deliveries are counted for the verdict, not listed, and a pod handed the switch's
  // decode gets the switch's buffer as it is (no view at the output's length): the verdicts, the frames out and the
  // pods' state must be a run's whose deliveries are read (onDeliver: listed, each at its length).
  const run = (read: boolean): { verdicts: string[]; out: string[]; pods: unknown[]; hits: number; delivered: number } => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    let delivered = 0;
    if (read) sim.onDeliver = () => delivered++;
    const quiet: Uint8Array[] = [];
    // Conversations past the handshake (the ACKs and the request from the way-in cache), then an RST and ACKs after
    // the connection is gone (the pod takes them and answers the ACKs with an RST). Each frame a pod takes crossed
    // the load balancer's DNAT, each answer out its un-DNAT: the hop counts both (lb-dnat), from the switch's decode
    // of an output it vouches for, from the output's bytes otherwise.
    let lb0 = 0;
    let out0 = 0;
    let v0 = 0;
    const r = converse(
      sim,
      2,
      42000,
      (send, tcp, isn1) => {
        for (let i = 0; i < 3; i++) send(tcp(0x10, 1001, isn1));
        send(tcp(0x18, 1001, isn1, 'GET /clientip HTTP/1.1\r\nHost: x\r\n\r\n'));
        send(tcp(0x04, 1036, 0));
        send(tcp(0x10, 1036, isn1));
        send(tcp(0x10, 1036, isn1));
      },
      (data, v) => {
        if (v !== 'delivered') quiet.push(data);
      },
      (verdicts, out) => {
        lb0 = sim.stageCounts['lb-dnat'];
        out0 = out.length;
        v0 = verdicts.length;
      },
    );
    const { verdicts, out } = r;
    let now = r.now;
    expect(sim.stageCounts['lb-dnat'] - lb0).toBe(verdicts.slice(v0).filter((v) => v === 'delivered').length + out.length - out0);
    // After the cache's deliveries, frames that deliver nothing: the capture's that did not, again (its ARP requests).
    for (const f of quiet) {
      now += 1;
      verdicts.push(sim.process(f, f.length, now));
    }
    const pods = [...sim.pods.values()].map((p) => ({ requests: p.requests, log: p.log, clients: [...p.clients], ignored: p.ignored }));
    return { verdicts, out, pods, hits: sim.cacheStats().hits, delivered };
  };

  it('gives each frame the verdict, the frames out and the pods\' state of a run that reads its deliveries', () => {
    const answer = PodHost.prototype.answer;
    let past = 0;
    PodHost.prototype.answer = function (this: PodHost, frame: Uint8Array, now: number, decoded?: Readonly<DecodedFrame>): Uint8Array[] {
      // A buffer running past the packet (its IPv4 total length after 14 bytes of Ethernet): the switch's own.
      if (decoded !== undefined && frame.length > 14 + ((frame[16]! << 8) | frame[17]!)) past++;
      return answer.call(this, frame, now, decoded);
    };
    try {
      const unread = run(false);
      const unreadPast = past;
      past = 0;
      const read = run(true);
      expect(unread.verdicts).toEqual(read.verdicts);
      expect(unread.out).toEqual(read.out);
      expect(unread.pods).toEqual(read.pods);
      expect(unread.hits).toBe(read.hits);
      // The cache served deliveries (the verdicts say so) and the pods got the switch's buffer only where unread.
      expect(unread.hits).toBeGreaterThan(20);
      expect(read.delivered).toBe(unread.verdicts.filter((v) => v === 'delivered').length);
      expect(unreadPast).toBeGreaterThan(10);
      expect(past).toBe(0);
      expect(new Set(unread.verdicts)).toEqual(new Set(['delivered', 'answered', 'dropped']));
    } finally {
      PodHost.prototype.answer = answer;
    }
  });
});
