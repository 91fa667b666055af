/**
 * LogicalSwitch's check of a packet's inport and chassis: skipped while the packet comes from one of the last two ports
 * checked on the same chassis, done again on any other port, on another chassis and after a Northbound change; an
 * empty name is checked too (a version that kept the ports as '' instead of undefined, to keep V8's compares on
 * strings, would have let it through without a flag: bench/README "V8's recurring work on the hot path (session 30)").
 */
import { describe, expect, it } from 'vitest';
import { buildFrame, TcpFlag } from '@vippath/wire';
import { LflowError } from './lflow/executor.js';
import { LogicalSwitch, LogicalSwitchError, SwitchOutcome } from './switch.js';

const port = (name: string, n: number) => ({ name, addresses: [`00:00:00:00:00:0${n} 10.0.0.${n}`] });
const nbOf = (...names: string[]) => ({ switches: [{ name: 'ls', ports: names.map((p, i) => port(p, i + 1)) }] });
const frame = new Uint8Array(60);

/** The error a call throws (its message), or 'ok'. */
function outcome(sw: LogicalSwitch, inport: string, chassis: string): string {
  try {
    sw.processInto(frame, frame.length, inport, chassis, 0);
    return 'ok';
  } catch (e) {
    if (e instanceof LogicalSwitchError) return e.message;
    throw e;
  }
}

describe('the inport and chassis check', () => {
  it('checks a first packet whose port and chassis are empty names', () => {
    const sw = new LogicalSwitch(nbOf('p1', 'p2'), 'ls', { p1: 'node1', p2: 'node1' });
    expect(outcome(sw, '', '')).toBe('no logical port "" on ls');
  });

  it('checks a port other than the last two on the chassis, and a port on another chassis than its binding', () => {
    const sw = new LogicalSwitch(nbOf('p1', 'p2', 'p3'), 'ls', { p1: 'node1', p2: 'node1', p3: 'node2' });
    expect(outcome(sw, 'p1', 'node1')).toBe('ok');
    expect(outcome(sw, 'p2', 'node1')).toBe('ok');
    expect(outcome(sw, 'p1', 'node1')).toBe('ok');
    expect(outcome(sw, 'p3', 'node1')).toBe('p3 is bound to node2, not node1');
    expect(outcome(sw, 'nope', 'node1')).toBe('no logical port "nope" on ls');
    // After a chassis change the one port checked there is the only one remembered: p2 (the last on node1) and p1
    // are checked again.
    expect(outcome(sw, 'p3', 'node2')).toBe('ok');
    expect(outcome(sw, 'p3', 'node2')).toBe('ok');
    expect(outcome(sw, 'p2', 'node2')).toBe('p2 is bound to node1, not node2');
    expect(outcome(sw, 'p1', 'node2')).toBe('p1 is bound to node1, not node2');
    expect(outcome(sw, '', 'node2')).toBe('no logical port "" on ls');
  });

  it('checks again after a Northbound change: a port taken out is refused', () => {
    const sw = new LogicalSwitch(nbOf('p1', 'p2'), 'ls', { p1: 'node1', p2: 'node1' });
    expect(outcome(sw, 'p1', 'node1')).toBe('ok');
    sw.setNorthbound(nbOf('p2'));
    expect(outcome(sw, 'p1', 'node1')).toBe('no logical port "p1" on ls');
    expect(outcome(sw, 'p2', 'node1')).toBe('ok');
  });

  it('writes each output port into the outcome, the port array growing by one as more ports are output', () => {
    const sw = new LogicalSwitch(nbOf('p1', 'p2', 'p3'), 'ls', { p1: 'node1', p2: 'node1', p3: 'node1' });
    const ports = (dst: string, inport: string) => {
      const f = buildFrame({ dst, src: '00:00:00:00:00:01' });
      const out = sw.processInto(f, f.length, inport, 'node1', 0);
      return [out.ports.slice(0, out.count), out.ports.length];
    };
    expect(ports('00:00:00:00:00:03', 'p1')).toEqual([['p3'], 1]);
    expect(ports('ff:ff:ff:ff:ff:ff', 'p1')).toEqual([['p2', 'p3'], 2]);
    expect(ports('00:00:00:00:00:02', 'p1')).toEqual([['p2'], 2]);
    expect(ports('ff:ff:ff:ff:ff:ff', 'p3')).toEqual([['p1', 'p2'], 2]);
  });

  // The switch hands the executor the port's number it keeps beside the name (bench/README "Port names compared as
  // numbers (session 33)"): a broadcast leaves by every port but the one it entered by, so a number kept for the
  // wrong name shows in the outputs.
  it('runs each packet from the port it names while the two kept ports rotate, and after the ports are numbered anew', () => {
    const names = ['p1', 'p2', 'p3'];
    const sw = new LogicalSwitch(nbOf(...names), 'ls', { p1: 'node1', p2: 'node1', p3: 'node1' });
    const flood = (inport: string) => {
      const f = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: `00:00:00:00:00:0${names.indexOf(inport) + 1}` });
      const out = sw.processInto(f, f.length, inport, 'node1', 0);
      return out.ports.slice(0, out.count).sort();
    };
    const others = (inport: string) => names.filter((p) => p !== inport);
    const order = ['p1', 'p2', 'p1', 'p2', 'p3', 'p2', 'p3', 'p1', 'p1', 'p3', 'p2', 'p1'];
    for (const p of order) expect(flood(p)).toEqual(others(p));
    const keys = names.map((p) => sw.zoneOf(p));
    // The ports in the reverse order: northd numbers them anew.
    sw.setNorthbound({ switches: [{ name: 'ls', ports: names.map((p, i) => port(p, i + 1)).reverse() }] });
    expect(names.map((p) => sw.zoneOf(p))).not.toEqual(keys);
    for (const p of order) expect(flood(p)).toEqual(others(p));
  });

  it('refuses a multicast group as the inport with the executor\'s error', () => {
    const sw = new LogicalSwitch(nbOf('p1', 'p2'), 'ls', { p1: 'node1', p2: 'node1' });
    expect(outcome(sw, 'p1', 'node1')).toBe('ok');
    expect(() => sw.processInto(frame, frame.length, '_MC_flood', 'node1', 0)).toThrow(new LflowError('UNKNOWN_PORT', 'unknown logical port "_MC_flood" on datapath "ls"'));
    expect(outcome(sw, 'p1', 'node1')).toBe('ok');
  });
});

describe('the outcome traced and untraced (one fill, LogicalSwitch.into)', () => {
  it('gives process with a trace the outputs or drop processInto gives, on generated frames', async () => {
    const fc = (await import('fast-check')).default;
    const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
    const macs = ['00:00:00:00:00:01', '00:00:00:00:00:02', '00:00:00:00:00:03', '00:00:00:00:00:09', 'ff:ff:ff:ff:ff:ff'];
    const names = ['p1', 'p2', 'p3'];
    const pkt = fc.record({ dst: fc.nat({ max: macs.length - 1 }), src: fc.nat({ max: 3 }), inport: fc.nat({ max: 2 }), ip: fc.boolean(), len: fc.integer({ min: 0, max: 70 }) });
    fc.assert(
      fc.property(fc.array(pkt, { minLength: 1, maxLength: 20 }), (pkts) => {
        const bind = { p1: 'node1', p2: 'node1', p3: 'node1' };
        const traced = new LogicalSwitch(nbOf(...names), 'ls', bind);
        const plain = new LogicalSwitch(nbOf(...names), 'ls', bind);
        for (const p of pkts) {
          const built = buildFrame({ dst: macs[p.dst]!, src: macs[p.src]!, ...(p.ip ? { ipv4: { src: `10.0.0.${p.src + 1}`, dst: `10.0.0.${p.dst + 1}` }, udp: { srcPort: 5000, dstPort: 53 } } : {}) });
          // Some frames cut short (a runt the executor cannot decode is a drop with a code).
          const f = p.len < 14 ? built.slice(0, Math.max(p.len, 0)) : built;
          const inport = names[p.inport]!;
          const a = traced.process(f, inport, 'node1', 0, []);
          const o = plain.processInto(f, f.length, inport, 'node1', 0);
          const b = o.count === 0 ? { ...o.toDrop() } : { verdict: 'output', outputs: Array.from({ length: o.count }, (_, i) => ({ port: o.ports[i], chassis: o.chassis, frame: o.frames[i]!.slice(0, o.lengths[i]) })) };
          expect(a).toEqual(b);
        }
      }),
      { seed, numRuns: 60 },
    );
  });
});

// `into` writes the verdict, stage and pipeline with one compare when there is one output, relying on what it wrote
// last into the outcome ('output' with stage and pipeline empty), and fills one output without its loop. An outcome
// reused across a run of packets must read as a new outcome given each packet alone: drops with a stage between
// outputs, several outputs between single ones, undecodable frames, the kept ports changing.
describe('an outcome reused across packets (LogicalSwitch.into)', () => {
  it('reads as a new outcome for each packet, on generated runs of outputs and drops', async () => {
    const fc = (await import('fast-check')).default;
    const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
    console.log(`reused outcome: seed ${seed}`);
    const macs = ['00:00:00:00:00:01', '00:00:00:00:00:02', '00:00:00:00:00:03', '00:00:00:00:00:09', 'ff:ff:ff:ff:ff:ff'];
    const names = ['p1', 'p2', 'p3', 'p4'];
    const seen = { one: 0, several: 0, stageDrop: 0, outputAfterStageDrop: 0, decoded: 0, onePortChanged: 0, oneLengthChanged: 0, oneBufferChanged: 0, chassisChanged: 0 };
    // p4 is bound to another chassis (a packet runs on its inport's); `lend`: the frame lent to the run, which hands
    // it out as the first output — so that output's buffer is another one each packet.
    const pkt = fc.record({ dst: fc.nat({ max: macs.length - 1 }), src: fc.nat({ max: 3 }), inport: fc.nat({ max: 3 }), proto: fc.nat({ max: 2 }), len: fc.integer({ min: 0, max: 70 }), lend: fc.boolean() });
    const view = (o: SwitchOutcome) => ({
      verdict: o.verdict, count: o.count, chassis: o.chassis, code: o.count === 0 ? o.code : 0, stage: o.stage, pipeline: o.pipeline, table: o.table,
      ports: o.ports.slice(0, o.count), frames: o.frames.slice(0, o.count).map((f, i) => Array.from(f.subarray(0, o.lengths[i]))),
      decodedFor: o.decodedFor, inL3: o.inL3, inSrc: o.inSrc, inDst: o.inDst,
    });
    fc.assert(
      fc.property(fc.array(pkt, { minLength: 1, maxLength: 24 }), (pkts) => {
        const bind: Record<string, string> = { p1: 'node1', p2: 'node1', p3: 'node1', p4: 'node2' };
        const fresh = new LogicalSwitch(nbOf(...names), 'ls', bind);
        const kept = new LogicalSwitch(nbOf(...names), 'ls', bind);
        const reused = new SwitchOutcome();
        let lastStageDrop = false;
        // The previous single output's port and length: the one output's branch stores both without a compare.
        let lastOne: { port: string; length: number; frame: Uint8Array } | undefined;
        let lastChassis = '';
        for (const p of pkts) {
          const ipv4 = { src: `10.0.0.${p.src + 1}`, dst: `10.0.0.${p.dst + 1}` };
          const l4 = p.proto === 0 ? {} : p.proto === 1 ? { ipv4, udp: { srcPort: 5000, dstPort: 53 } } : { ipv4, tcp: { srcPort: 40000, dstPort: 80, flags: TcpFlag.SYN } };
          const built = buildFrame({ dst: macs[p.dst]!, src: macs[p.src]!, ...l4 });
          const f = p.len < 14 ? built.slice(0, Math.max(p.len, 0)) : built;
          const inport = names[p.inport]!;
          const chassis = bind[inport]!;
          // A lent frame has room for 8 bytes past its length; each switch is lent its own copy (the run writes it).
          const lent = () => { const g = new Uint8Array(f.length + 8); g.set(f); return g; };
          const fa = p.lend ? lent() : f;
          const fb = p.lend ? lent() : f;
          const a = view(fresh.processInto(fa, f.length, inport, chassis, 0, new SwitchOutcome(), true, undefined, p.lend));
          const b = view(kept.processInto(fb, f.length, inport, chassis, 0, reused, true, undefined, p.lend));
          expect(b).toEqual(a);
          if (a.count === 1) {
            seen.one++;
            if (lastOne !== undefined && lastOne.port !== a.ports[0]) seen.onePortChanged++;
            if (lastOne !== undefined && lastOne.length !== a.frames[0]!.length) seen.oneLengthChanged++;
            if (lastOne !== undefined && lastOne.frame !== reused.frames[0]) seen.oneBufferChanged++;
            lastOne = { port: a.ports[0]!, length: a.frames[0]!.length, frame: reused.frames[0]! };
          }
          if (lastChassis !== '' && lastChassis !== chassis) seen.chassisChanged++;
          lastChassis = chassis;
          if (a.count > 1) seen.several++;
          if (a.decodedFor === 0) seen.decoded++;
          if (a.count > 0 && lastStageDrop) seen.outputAfterStageDrop++;
          lastStageDrop = a.count === 0 && a.stage !== '';
          if (lastStageDrop) seen.stageDrop++;
        }
      }),
      { seed, numRuns: 80 },
    );
    // The cases the fused compare and the one output's branch must get right all came up.
    expect(seen.one).toBeGreaterThan(0);
    expect(seen.onePortChanged).toBeGreaterThan(0);
    expect(seen.oneLengthChanged).toBeGreaterThan(0);
    expect(seen.oneBufferChanged).toBeGreaterThan(0);
    expect(seen.chassisChanged).toBeGreaterThan(0);
    expect(seen.several).toBeGreaterThan(0);
    expect(seen.stageDrop).toBeGreaterThan(0);
    expect(seen.outputAfterStageDrop).toBeGreaterThan(0);
    expect(seen.decoded).toBeGreaterThan(0);
    console.log(`reused outcome: ${JSON.stringify(seen)}`);
  });
});
