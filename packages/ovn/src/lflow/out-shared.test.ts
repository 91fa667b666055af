import { describe, expect, it } from 'vitest';
import { buildFrame, type FrameSpec } from '@vippath/wire';
import { OvsConntrack } from '../ct/engine.js';
import { LflowExecutor } from './executor.js';
import type { SouthboundState } from './types.js';
import { flowList, oneSwitch, vif } from './switch.test-helpers.js';

// The walk of an input frame runs in the first output's buffer (copyInput), and that output is delivered without a
// copy; whatever writes the frame after it — a later output's egress rewrite, a conntrack call's NAT, a VLAN push
// onto that very output, a nested packet's outputs — must leave the first output's bytes as they were delivered.
// Each case is run on a fresh executor with and without the megaflow cache, and compared with the same walk on a
// frame handed over as the executor's own (input = false: no copy in, every output copied out, as before).

const P1 = { mac: '00:00:00:00:00:01', ip: '10.0.0.1' };
const P2 = { mac: '00:00:00:00:00:02', ip: '10.0.0.2' };
const P3 = { mac: '00:00:00:00:00:03', ip: '10.0.0.3' };

function switchOf(ingress: Array<[number, number, string, string]>, egress: Array<[number, number, string, string]>): SouthboundState {
  const l = flowList();
  for (const [table, priority, match, actions] of ingress) l.add('ingress', table, priority, match, actions);
  for (const [table, priority, match, actions] of egress) l.add('egress', table, priority, match, actions);
  const ln = { logicalPort: 'ln', type: 'localnet', mac: ['unknown'], portSecurity: [], tunnelKey: 1, options: { network_name: 'provider' }, tag: 341, datapath: 'ls' };
  return {
    ...oneSwitch(l.flows, [ln, vif('p1', 2, `${P1.mac} ${P1.ip}`), vif('p2', 3, `${P2.mac} ${P2.ip}`), vif('p3', 4, `${P3.mac} ${P3.ip}`)]),
    multicastGroups: [
      { name: '_MC_flood', datapath: 'ls', tunnelKey: 32768, ports: ['p1', 'ln', 'p2', 'p3'] },
      { name: '_MC_unknown', datapath: 'ls', tunnelKey: 32769, ports: ['ln'] },
    ],
  };
}

const tcp = (sport: number): FrameSpec => ({ src: P3.mac, dst: 'ff:ff:ff:ff:ff:ff', ipv4: { src: P3.ip, dst: '10.0.0.200' }, tcp: { srcPort: sport, dstPort: 80, flags: 0x002 } });

const hex = (f: Uint8Array, n: number): string => Buffer.from(f.subarray(0, n)).toString('hex');

/** Every output of `frames` run through a fresh executor: port and bytes; `input` as runFrame takes it. */
function outputs(sb: SouthboundState, chassis: string | undefined, frames: FrameSpec[], input: boolean, megaflows: boolean): string[][] {
  const ex = new LflowExecutor(sb, 'ls', { chassis, ct: new OvsConntrack(), megaflows, wordsOut: false });
  const seen: string[][] = [];
  let now = 0;
  for (const spec of frames) {
    const f = buildFrame(spec);
    const buf = new Uint8Array(f.length + 8);
    buf.set(f);
    const r = ex.runFrame(buf, f.length, 'p3', (now += 10), false, input);
    // The caller's frame is not written when handed over as input.
    if (input) expect(hex(buf, f.length)).toBe(hex(f, f.length));
    seen.push(r.outputs.map((o) => `${o.port} ${hex(o.frame, o.length)}`));
  }
  return seen;
}

/** The same outputs with the input copied in as without; returns how many outputs the first ones' differ from. */
function check(sb: SouthboundState, chassis: string | undefined, frames: FrameSpec[]): { outputs: number; differing: number } {
  let differing = 0;
  let count = 0;
  for (const megaflows of [false, true]) {
    const own = outputs(sb, chassis, frames, false, megaflows);
    const copied = outputs(sb, chassis, frames, true, megaflows);
    expect(copied).toEqual(own);
    for (const outs of own) {
      count += outs.length;
      // Outputs after the first whose bytes differ from the first's: a write the first output must not see.
      for (let i = 1; i < outs.length; i++) if (outs[i]!.split(' ')[1] !== outs[0]!.split(' ')[1]) differing++;
    }
  }
  return { outputs: count, differing };
}

const flood: Array<[number, number, string, string]> = [[0, 0, '1', 'outport = "_MC_flood"; output;']];

describe('the first output delivered from the walk\'s own buffer', () => {
  it('keeps its bytes when a later output\'s egress rewrites the frame', () => {
    const sb = switchOf(flood, [
      [0, 10, 'outport == "p1"', 'eth.src = 00:00:00:00:00:aa; ip4.src = 10.0.0.99; output;'],
      [0, 0, '1', 'output;'],
    ]);
    const frames = [tcp(1000), tcp(1001), tcp(1000)];
    const r = check(sb, undefined, frames);
    // ln first, as delivered; p1 rewritten after it (and p2 after p1 keeps the rewrite, as the walk on the executor's
    // own frame always did).
    expect(r.outputs).toBe(18);
    expect(r.differing).toBe(12);
  });

  it('keeps its bytes when a conntrack call after it rewrites the frame (NAT)', () => {
    const sb = switchOf(flood, [
      [0, 10, 'outport == "p2" && ip4', 'ct_snat(10.0.0.77);'],
      [0, 0, '1', 'next;'],
      [1, 0, '1', 'output;'],
    ]);
    const frames = [tcp(2000), tcp(2001), tcp(2000)];
    const r = check(sb, undefined, frames);
    // p2's source translated to 10.0.0.77 after ln and p1 went out.
    expect(r.outputs).toBe(18);
    expect(r.differing).toBe(6);
  });

  it('keeps the walk\'s frame when the first output is the tagged localnet port (VLAN pushed onto its bytes)', () => {
    // On a chassis the localnet port pushes its tag; ln is the flood's first output, p1 and p2 follow untagged.
    const sb = switchOf(flood, [[0, 0, '1', 'output;']]);
    const frames = [tcp(3000), tcp(3001)];
    const r = check(sb, 'node1', frames);
    expect(r.outputs).toBe(12);
    expect(r.differing).toBe(8);
    const own = outputs(sb, 'node1', frames, false, true);
    // 802.1Q with VID 341 after the MACs; the others as they came.
    expect(own[0]![0]!.split(' ')[1]!.slice(24, 32)).toBe('81000155');
    expect(own[0]![1]!.split(' ')[1]).toBe(hex(buildFrame(frames[0]!), 54));
  });

  it('keeps the walk\'s frame when a nested packet (arp) is output first', () => {
    // The nested ARP request is the first output (its buffer is where the walk's frame was copied in); the walk's
    // own frame goes out after it.
    const sb = switchOf([[0, 0, 'ip4', 'arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.op = 1; outport = "p1"; output; }; outport = "p2"; output;']], [[0, 0, '1', 'output;']]);
    const frames = [tcp(4000), tcp(4001)];
    const r = check(sb, undefined, frames);
    expect(r.outputs).toBe(8);
    expect(r.differing).toBe(4);
    const own = outputs(sb, undefined, frames, false, false);
    expect(own[0]![1]).toBe(`p2 ${hex(buildFrame(frames[0]!), 54)}`);
    expect(own[0]![0]!.slice(0, 31)).toBe('p1 ffffffffffff0000000000030806');
  });
});
