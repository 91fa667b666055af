import { describe, expect, it } from 'vitest';
import { buildFrame, parseFrame } from '@vippath/wire';
import { Bridge, BridgeEffects, BridgeError, BridgeOutcome, formatTrace, type TraceStep } from './bridge.js';
import { Port } from './actions.js';

const A = '52:54:00:aa:00:64';
const B = '52:54:00:bb:00:03';
const udp = (src: string, dst: string, vlans: number[] = []): Uint8Array => buildFrame({ dst, src, vlans, ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { srcPort: 1, dstPort: 2 } });

describe('effects: what packets did, recorded and replayed by the bridge (a cache\'s XC_RULE / XC_NORMAL)', () => {
  it('a replay credits the same rules and refreshes the same MACs as running the packet again', () => {
    const make = (): Bridge => {
      const br = new Bridge('br0', [{ name: 'p1', ofport: 1 }, { name: 'p2', ofport: 2 }]);
      br.addFlows('table=0,priority=10,udp,actions=resubmit(,1)\ntable=1,priority=0,actions=NORMAL');
      br.process(udp(B, A), 2, { now: 0 });
      return br;
    };
    const ran = make();
    const replayed = make();
    replayed.effects = new BridgeEffects();
    replayed.process(udp(A, B), 1, { now: 10 });
    const fx = replayed.effects;
    replayed.effects = undefined;
    expect(fx.rules.map((f) => f.table)).toEqual([0, 1]);
    expect(fx.bytes).toEqual([udp(A, B).length, udp(A, B).length]);
    expect(fx.normal).toBe(1);
    // A is new on port 1: a created learning (a cache must not replay one); B's entry was not touched.
    expect(fx.macs.map((m) => [m.port, m.created])).toEqual([[1, true]]);
    ran.process(udp(A, B), 1, { now: 10 });
    // The second packet of the flow: recorded, it refreshes A's entry (not new), and replaying it is running it.
    replayed.effects = new BridgeEffects();
    replayed.process(udp(A, B), 1, { now: 20 });
    const second = replayed.effects;
    replayed.effects = undefined;
    expect(second.macs.map((m) => m.created)).toEqual([false]);
    expect(second.macs.every((m) => replayed.learnedStill(m))).toBe(true);
    ran.process(udp(A, B), 1, { now: 20 });
    ran.process(udp(A, B), 1, { now: 30 });
    replayed.replayEffects(second, 30);
    expect(replayed.dumpFlows({ stats: true })).toBe(ran.dumpFlows({ stats: true }));
    expect(replayed.learnedMacs()).toEqual(ran.learnedMacs());
    // A moved: the recorded learning no longer stands, so a cache must not replay it.
    replayed.process(udp(A, B), 2, { now: 40 });
    expect(second.macs.every((m) => replayed.learnedStill(m))).toBe(false);
    // Flushed and learned anew on the same port: a new entry, so the learning recorded before the flush is void.
    replayed.effects = new BridgeEffects();
    replayed.process(udp(A, B), 2, { now: 50 });
    const third = replayed.effects;
    replayed.effects = undefined;
    expect(third.macs.length === 1 && replayed.learnedStill(third.macs[0]!)).toBe(true);
    replayed.flushMacs();
    replayed.process(udp(A, B), 2, { now: 60 });
    expect(replayed.learnedMacs().some((m) => m.port === 2)).toBe(true);
    expect(replayed.learnedStill(third.macs[0]!)).toBe(false);
  });

  it('credit counts one packet of so many bytes on a rule, as a hit does', () => {
    const br = new Bridge('br0', [{ name: 'p1', ofport: 1 }, { name: 'p2', ofport: 2 }]);
    const [flow] = br.addFlows('priority=10,actions=output:2');
    br.credit(flow!, 60);
    br.process(udp(A, B), 1);
    expect(flow!.nPackets).toBe(2);
    expect(flow!.nBytes).toBe(60 + udp(A, B).length);
  });
});

describe('Bridge.flowTableChanges: every bridge\'s flow-table changes, counted over the process', () => {
  it('moves with each bridge\'s version (adding, clearing, removing a flow) and with nothing else', () => {
    const a = new Bridge('a', [{ name: 'p1', ofport: 1 }]);
    const b = new Bridge('b', [{ name: 'p1', ofport: 1 }]);
    const at = (): number[] => [Bridge.flowTableChanges, a.version, b.version];
    let [c0, va, vb] = at();
    const step = (what: () => unknown, da: number, db: number): void => {
      what();
      const [c, xa, xb] = at();
      // The count moves exactly when some version moved: a reader comparing it alone misses no change.
      expect([c - c0!, xa! - va!, xb! - vb!]).toEqual([da + db, da, db]);
      [c0, va, vb] = [c, xa, xb];
    };
    step(() => a.addFlows('priority=10,udp,actions=NORMAL'), 1, 0);
    const [f] = b.addFlows('priority=5,tcp,actions=drop');
    [c0, va, vb] = at();
    step(() => b.removeFlow(f!), 0, 1);
    // A flow the bridge does not hold: nothing changed.
    step(() => b.removeFlow(f!), 0, 0);
    step(() => a.clearFlows(), 1, 0);
    // Packets, learning and ports are not flow-table changes.
    step(() => b.process(udp(A, B), 1, { now: 0 }), 0, 0);
    step(() => a.addPort({ name: 'p2', ofport: 2 }), 0, 0);
  });
});

describe('NORMAL: MAC learning with VLAN port modes and ageing', () => {
  it('floods unknown destinations, then forwards to the learned port, never back out of the input port', () => {
    const br = new Bridge('br0', [{ name: 'p1', ofport: 1 }, { name: 'p2', ofport: 2 }, { name: 'p3', ofport: 3 }]);
    br.addFlows('priority=0,actions=NORMAL');
    expect(br.process(udp(A, B), 1).outputs.map((o) => o.port)).toEqual([2, 3, Port.LOCAL]);
    expect(br.process(udp(B, A), 2).outputs.map((o) => o.port)).toEqual([1]);
    expect(br.process(udp(A, B), 1).outputs.map((o) => o.port)).toEqual([2]);
    // B moves behind port 1: a frame from A to B on port 1 is now dropped (learned port = input port).
    br.process(udp(B, A), 1);
    expect(br.process(udp(A, B), 1).drop).toBe(true);
  });

  it('forgets MACs after the ageing time (simulated, ms)', () => {
    const br = new Bridge('br0', [{ name: 'p1', ofport: 1 }, { name: 'p2', ofport: 2 }]);
    br.addFlows('priority=0,actions=NORMAL');
    br.process(udp(B, A), 2, { now: 0 });
    expect(br.process(udp(A, B), 1, { now: 299_000 }).outputs.map((o) => o.port)).toEqual([2]);
    expect(br.process(udp(A, B), 1, { now: 299_000 + 301_000 }).outputs.map((o) => o.port)).toEqual([2, Port.LOCAL]);
  });

  it('access ports take untagged frames into their VLAN and send untagged; trunks carry tags; bounded table', () => {
    const br = new Bridge('br0', [{ name: 'access', ofport: 1, tag: 341 }, { name: 'trunk', ofport: 2 }, { name: 'other', ofport: 3, tag: 100 }]);
    br.addFlows('priority=0,actions=NORMAL');
    const out = br.process(udp(A, 'ff:ff:ff:ff:ff:ff'), 1).outputs;
    // LOCAL, like any port without a tag, is a trunk of all VLANs; the other access port is in VLAN 100.
    expect(out.map((o) => o.port)).toEqual([2, Port.LOCAL]);
    expect(parseFrame(out[0]!.packet).eth.vlans.map((v) => v.vid)).toEqual([341]);
    const back = br.process(udp(B, A, [341]), 2).outputs;
    expect(back.map((o) => o.port)).toEqual([1]);
    expect(parseFrame(back[0]!.packet).eth.vlans).toEqual([]);
    expect(br.process(udp(B, A, [341]), 1).drop).toBe(true);
    br.macLimit = 2;
    for (let i = 0; i < 5; i++) br.process(udp(`52:54:00:00:00:0${i}`, B), 2);
    expect(br.macEvictions).toBeGreaterThan(0);
    // The bound holds over every VLAN's table (the trunk's untagged VLAN 0 and the access port's 100 count
    // together), through evictions and flushes.
    expect(br.learnedMacs()).toHaveLength(2);
    br.process(udp('52:54:00:00:01:00', B), 3);
    expect(br.learnedMacs()).toHaveLength(2);
    expect(new Set(br.learnedMacs().map((m) => m.vlan))).toEqual(new Set([0, 100]));
    br.flushMacs();
    br.macLimit = 3;
    for (let i = 0; i < 3; i++) br.process(udp(`52:54:00:00:02:0${i}`, B), 2);
    const evicted = br.macEvictions;
    expect(br.learnedMacs()).toHaveLength(3);
    br.process(udp('52:54:00:00:02:09', B), 2);
    expect(br.macEvictions).toBe(evicted + 1);
  });

  it('a full table forgets the entry seen longest ago: the first VLAN\'s, then the first learned, among equals', () => {
    const br = new Bridge('br', [{ name: 'trunk', ofport: 1 }, { name: 'access', ofport: 2, tag: 100 }, { name: 'other', ofport: 3 }]);
    br.addFlows('priority=0,actions=NORMAL');
    br.macLimit = 4;
    const mac = (i: number): string => `52:54:00:00:03:0${i}`;
    // VLAN 0's table first (learned first), then VLAN 100's; times 5, 3, 3 | 3, then 1 learns the fifth.
    br.process(udp(mac(1), B), 1, { now: 5 });
    br.process(udp(mac(2), B), 1, { now: 3 });
    br.process(udp(mac(3), B), 2, { now: 3 });
    br.process(udp(mac(4), B), 1, { now: 3 });
    br.process(udp(mac(5), B), 1, { now: 9 });
    const left = (): string[] => br.learnedMacs().map((m) => `${m.vlan}/${m.mac.toString(16).slice(-2)}`);
    // Seen at 3: 02 (VLAN 0, learned before 04) and 03 (VLAN 100): VLAN 0's table comes first, and 02 in it.
    expect(left()).toEqual(['0/01', '0/04', '0/05', '100/03']);
    br.process(udp(mac(6), B), 1, { now: 9 });
    expect(left()).toEqual(['0/01', '0/05', '0/06', '100/03']);
    br.process(udp(mac(7), B), 1, { now: 9 });
    expect(left()).toEqual(['0/01', '0/05', '0/06', '0/07']);
    expect(br.macEvictions).toBe(3);
  });
});

describe('actions and trace', () => {
  it('the Kube-OVN rule rewrites the MAC and outputs to the patch port; the trace tells the same story', () => {
    const br = new Bridge('br-provider', [{ name: 'underlay0.341', ofport: 1 }, { name: 'patch-localnet.underlay-subnet-to-br-int', ofport: 2 }]);
    br.addFlows('cookie=0x1000,priority=10000,in_port=underlay0.341,tcp,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:patch-localnet.underlay-subnet-to-br-int\npriority=0,actions=NORMAL');
    const syn = buildFrame({ dst: B, src: A, ipv4: { src: '10.180.204.100', dst: '10.180.204.252' }, tcp: { srcPort: 40000, dstPort: 80 } });
    const trace: TraceStep[] = [];
    const r = br.process(syn, 1, { trace });
    expect(r.outputs.map((o) => o.port)).toEqual([2]);
    expect(parseFrame(r.outputs[0]!.packet).eth.dst).toBe('00:00:00:01:00:01');
    expect(trace[0]).toMatchObject({ kind: 'lookup', table: 0, priority: 10000, cookie: '0x1000', flow: 'tcp,in_port=1,nw_dst=10.180.204.252,tp_dst=80' });
    expect(trace.filter((s) => s.kind === 'output')).toEqual([{ kind: 'output', port: 2, packet: Buffer.from(r.outputs[0]!.packet).toString('hex') }]);
    const text = formatTrace('br-provider', trace, r);
    expect(text).toMatch(/0\. tcp,in_port=1,nw_dst=10\.180\.204\.252,tp_dst=80, priority 10000, cookie 0x1000/);
    expect(text).toMatch(/Final: 2/);
    expect(br.dumpFlows()).toMatch(/n_packets=1, n_bytes=54, priority=10000/);
  });

  it('resubmit and registers; table miss drops; dec_ttl expiry goes to the controller', () => {
    const br = new Bridge('br0', [{ name: 'p1', ofport: 1 }, { name: 'p2', ofport: 2 }]);
    br.addFlows(['priority=5,ip,actions=load:0x7->NXM_NX_REG3[],resubmit(,1),output:1', 'table=1,reg3=7,actions=output:2', 'table=2,actions=output:2'].join('\n'));
    expect(br.process(udp(A, B), 1).outputs.map((o) => o.port)).toEqual([2]);
    const arp = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: A, arp: { op: 1, senderMac: A, senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.2' } });
    expect(br.process(arp, 1)).toMatchObject({ drop: true, outputs: [] });
    const ttl = new Bridge('br0', [{ name: 'p1', ofport: 1 }, { name: 'p2', ofport: 2 }]);
    ttl.addFlows('ip,actions=dec_ttl,output:2');
    const one = buildFrame({ dst: B, src: A, ipv4: { src: '10.0.0.1', dst: '10.0.0.2', ttl: 1 }, udp: { srcPort: 1, dstPort: 2 } });
    expect(ttl.process(one, 1)).toMatchObject({ drop: true, controller: 1 });
  });

  it('rejects unknown ports with a typed error', () => {
    const br = new Bridge('br0', [{ name: 'p1', ofport: 1 }]);
    expect(() => br.process(udp(A, B), 9)).toThrow(BridgeError);
    expect(() => br.addPort({ name: 'p1', ofport: 2 })).toThrow(/taken/);
  });
});

describe('trace()', () => {
  it('returns the result, the steps and the text together', async () => {
    const { trace: traceOf } = await import('./bridge.js');
    const br = new Bridge('br0', [{ name: 'p1', ofport: 1 }, { name: 'p2', ofport: 2 }]);
    br.addFlows('priority=1,actions=output:2');
    const t = traceOf(br, udp(A, B), 1);
    expect(t.result.outputs.map((o) => o.port)).toEqual([2]);
    expect(t.steps[0]).toMatchObject({ kind: 'lookup', priority: 1 });
    expect(t.text).toMatch(/^bridge\("br0"\)/);
  });
});

describe('as ovs-vswitchd 3.1 does it (test/openflow-ovs-semantics.test.ts checks these against it)', () => {
  const frame = buildFrame({ dst: '52:54:00:aa:00:01', src: '52:54:00:aa:00:01', ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { srcPort: 1, dstPort: 2 } });

  it('a flow with the same table, match and priority replaces the earlier one, in its place', () => {
    const br = new Bridge('br0', [1, 2, 3].map((p) => ({ name: `p${p}`, ofport: p })));
    br.addFlows('priority=5,in_port=1,udp actions=output:2\npriority=5,in_port=1 actions=output:3\ntable=0,priority=5,udp,in_port=1,actions=LOCAL');
    expect(br.flows()).toHaveLength(2);
    // The replacement wins the equal-priority overlap with in_port=1 as the flow it replaced did.
    expect(br.process(frame, 1).outputs.map((o) => o.port)).toEqual([0xfffe]);
    br.addFlows('priority=6,in_port=1 actions=output:2\npriority=6,in_port=1 actions=drop');
    expect(br.flows()).toHaveLength(3);
    expect(br.process(frame, 1).drop).toBe(true);
  });

  it('NORMAL with learn: false (a microflow trace) learns nothing: a frame to its own source floods', () => {
    const br = new Bridge('br0', [1, 2, 3].map((p) => ({ name: `p${p}`, ofport: p })));
    br.addFlows('priority=0,actions=NORMAL');
    expect(br.process(frame, 1, { learn: false }).outputs.map((o) => o.port).sort()).toEqual([2, 3, 0xfffe]);
    expect(br.learnedMacs()).toEqual([]);
    // Learning (a packet trace, or forwarding): the source is learned first, so the same frame is dropped.
    expect(br.process(frame, 1).drop).toBe(true);
    expect(br.learnedMacs()).toHaveLength(1);
  });
});

describe('processInto: the outputs written into a reused outcome', () => {
  const make = (): Bridge => {
    const br = new Bridge('br0', [{ name: 'p1', ofport: 1 }, { name: 'p2', ofport: 2 }, { name: 'p3', ofport: 3 }]);
    // Port 1 floods (NORMAL), tags for port 2 and strips for port 3: outputs of three lengths from one packet.
    br.addFlows([
      'table=0,priority=20,in_port=1,udp,actions=output:3,mod_vlan_vid:7,output:2,NORMAL',
      'table=0,priority=20,in_port=2,actions=strip_vlan,output:3',
      'table=0,priority=10,in_port=3,actions=resubmit(,0),resubmit(,0)',
      'table=0,priority=0,actions=NORMAL',
    ].join('\n'));
    return br;
  };
  const outputs = (o: BridgeOutcome): Array<[number, string]> => Array.from({ length: o.count }, (_, i) => [o.ports[i]!, Buffer.from(o.packets[i]!).toString('hex')]);

  it('gives the ports and bytes process() gives, packet after packet, with one outcome', () => {
    const a = make();
    const b = make();
    const out = new BridgeOutcome();
    const frames: Array<[Uint8Array, number]> = [[udp(A, B), 1], [udp(B, A, [7]), 2], [udp(B, A), 1], [udp(A, B, [9]), 2], [udp(A, B), 1]];
    let seen = 0;
    for (const [frame, port] of frames) {
      const want = a.process(frame, port, { now: 5 });
      b.processInto(frame, frame.length, port, 5, out);
      expect(outputs(out)).toEqual(want.outputs.map((o) => [o.port, Buffer.from(o.packet).toString('hex')]));
      expect(out.packets.slice(0, out.count).map((p) => p.length)).toEqual(want.outputs.map((o) => o.packet.length));
      seen += out.count;
    }
    expect(seen).toBeGreaterThan(frames.length);
    expect(b.dumpFlows({ stats: true })).toBe(a.dumpFlows({ stats: true }));
    expect(b.learnedMacs()).toEqual(a.learnedMacs());
  });

  it('reads only frame[0, length), and reports a translation error with no outputs', () => {
    const br = make();
    const out = new BridgeOutcome();
    const frame = udp(A, B);
    const padded = new Uint8Array(frame.length + 10).fill(0xee);
    padded.set(frame);
    br.processInto(padded, frame.length, 1, 0, out);
    expect(out.count).toBe(5);
    expect(out.packets[0]).toEqual(frame);
    // Port 3's rule resubmits to itself twice per level: the recursion limit stops it.
    br.processInto(frame, frame.length, 3, 0, out);
    expect(out.error).toBe('RECURSION_TOO_DEEP');
    expect(out.count).toBe(0);
    expect(br.process(frame, 3).error).toBe('RECURSION_TOO_DEEP');
    expect(() => br.processInto(frame, frame.length, 9, 0, out)).toThrow(BridgeError);
  });
});
