/**
 * The segment cache's hints (megaflow.ts `MfInstr.next`, executor.ts `enterNext` and `enterRoot`): the segment that
 * followed a ct call last, or served the port's last frame, is tried first, and taken only when its probe matches, its learned-state versions are
 * current and it is still in its table (its epoch). These tests fail when the hint is followed without one of those
 * checks, or when a segment leaves its table with its epoch left current — or, for a hint followed from where it
 * was set (its residual probe, `MfSegment.resid`), when bits a conntrack call writes or a frame brings are taken as
 * decided there.
 */
import { describe, expect, it } from 'vitest';
import { buildFrame, write32, type DecodedFrame, type FrameSpec } from '@vippath/wire';
import { CtState, type ConntrackEngine, type CtRequest, type CtResult } from './ct-api.js';
import { LflowExecutor } from './executor.js';
import { MfOp, type MegaflowTable, type MfSegment } from './megaflow.js';
import { W } from './fields.js';
import { residualOf } from './hints.test-helpers.js';
import { localnet, oneSwitch, rowsOf, vif, type FlowRow } from './switch.test-helpers.js';
import type { SouthboundState } from './types.js';

const P1 = { mac: '00:00:00:00:00:01', ip: '10.0.0.1' };

/** Ingress: ct_next, then the learned FDB decides the output (a segment after the call that rests on it). */
function fdbSwitch(): SouthboundState {
  const ingress: FlowRow[] = [
    [0, 50, 'inport == "ln"', 'put_fdb(inport, eth.src); ct_next;'],
    [0, 0, '1', 'ct_next;'],
    [1, 50, 'ct.new', 'reg0[3] = 1; next;'],
    [1, 0, '1', 'next;'],
    [2, 0, '1', 'outport = get_fdb(eth.dst); next;'],
    [3, 10, 'outport == "none"', 'drop;'],
    [3, 0, '1', 'output;'],
  ];
  return oneSwitch(rowsOf(ingress), [localnet(), vif('p1', 2, `${P1.mac} ${P1.ip}`)]);
}

/** Answers every ct() with the state it is given (changed between frames by the test). */
class StateCt implements ConntrackEngine {
  state = CtState.TRK | CtState.EST;
  execute(_f: Uint8Array, _l: number, _d: DecodedFrame, _r: CtRequest, res: CtResult): void {
    res.state = this.state;
  }
}

const udp = (src: string, dst: string, sport: number): FrameSpec => ({ src, dst, ipv4: { src: '10.0.0.9', dst: '10.0.0.8' }, udp: { srcPort: sport, dstPort: 53 } });

function side(megaflows: boolean | { maxEntries: number }): { ex: LflowExecutor; ct: StateCt; send(spec: FrameSpec, inport: string): string } {
  const ct = new StateCt();
  const ex = new LflowExecutor(fdbSwitch(), 'ls', { chassis: 'node1', ct, megaflows: megaflows === false ? false : megaflows === true ? { connections: false } : { ...megaflows, connections: false } });
  const buf = new Uint8Array(256);
  return {
    ex,
    ct,
    send(spec, inport) {
      const f = buildFrame(spec);
      buf.set(f);
      const r = ex.runFrame(buf, f.length, inport, 0);
      return `${r.outputs.map((o) => o.port).join(',')}|${r.drops.map((d) => `${d.table}/${d.reason}`).join(',')}`;
    },
  };
}

/** The segments held in a table's shapes, and the hints its segments' ct ops and the executor's ports hold. */
/**
 * A seeded sequence of 600 frames (the seed is printed by the caller): to and from a few MACs, learning on the
 * localnet port, ct states changing. Each frame goes through `cached` (hints cleared first with `clearFirst`) and an
 * uncached side, which must answer alike; `check` then looks at `cached`'s tables after frame `i`.
 */
function seededFrames(seed: number, cached: ReturnType<typeof side>, check: (i: number) => void, clearFirst = false): void {
  let x = seed;
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 16) % n;
  };
  const macs = ['52:54:00:00:00:07', '52:54:00:00:00:08', '52:54:00:00:00:09', '52:54:00:00:00:0a'];
  const plain = side(false);
  for (let i = 0; i < 600; i++) {
    const state = rnd(3) === 0 ? CtState.TRK | CtState.NEW : CtState.TRK | CtState.EST;
    cached.ct.state = state;
    plain.ct.state = state;
    const m = macs[rnd(macs.length)]!;
    const spec = rnd(4) === 0 ? udp(m, P1.mac, 2000 + rnd(2)) : udp(P1.mac, m, 1000 + rnd(2));
    const inport = spec.src === P1.mac ? 'p1' : 'ln';
    if (clearFirst) clearHints(cached.ex);
    const a = cached.send(spec, inport);
    const b = plain.send(spec, inport);
    if (a !== b) expect({ seed, frame: i, cached: a }).toEqual({ seed, frame: i, cached: b });
    check(i);
  }
}

function segmentsOf(t: MegaflowTable, ex: LflowExecutor): { held: Set<MfSegment>; hints: MfSegment[] } {
  const held = new Set<MfSegment>();
  for (const shapes of t.points) {
    if (shapes === undefined) continue;
    for (const sh of shapes) for (const first of sh.map.values()) for (let e: MfSegment | undefined = first; e !== undefined; e = e.chain === e ? undefined : e.chain) held.add(e);
  }
  const hints: MfSegment[] = [];
  for (const s of held) {
    for (const o of s.ops) {
      if (o.op !== MfOp.CT_FORK && o.op !== MfOp.CT_COMMIT && o.op !== MfOp.CT_SNAT_VIP) continue;
      if (o.next !== undefined) hints.push(o.next);
      if (o.next2 !== undefined) hints.push(o.next2);
    }
  }
  // The ports' root hints (executor.ts enterRoot) and the table's two per port behind them (rootMiss).
  for (const p of (ex as unknown as { ports: Map<string, { root: MfSegment | undefined }> }).ports.values()) if (p.root !== undefined) hints.push(p.root);
  for (const h of t.rootHints) if (h !== undefined) hints.push(h);
  return { held, hints };
}

const tables = (ex: LflowExecutor): MegaflowTable[] => [...(ex as unknown as { megaTables: Map<string, MegaflowTable> }).megaTables.values()];

describe('the segment hint after a ct op', () => {
  it('is not followed when the segment it names rests on a learned FDB that has moved since', () => {
    const M = '52:54:00:00:00:07';
    const cached = side(true);
    const plain = side(false);
    const both = (spec: FrameSpec, inport: string): string => {
      const a = cached.send(spec, inport);
      expect(a).toBe(plain.send(spec, inport));
      return a;
    };
    // To an unknown MAC: get_fdb answers none and the frame is dropped; the third time the ct op's hint is set and taken.
    for (let i = 0; i < 3; i++) expect(both(udp(P1.mac, M, 1000), 'p1')).toBe('|3/0');
    const hinted = tables(cached.ex).flatMap((t) => segmentsOf(t, cached.ex).hints);
    expect(hinted.length).toBeGreaterThan(0);
    // The localnet port learns M (the FDB's version moves); the same frame's hint matches word for word but is stale.
    expect(both(udp(M, P1.mac, 2000), 'ln')).toBe('|3/0');
    expect(both(udp(P1.mac, M, 1000), 'p1')).toBe('ln|');
    expect(both(udp(P1.mac, M, 1000), 'p1')).toBe('ln|');
  });

  it('is not followed when the segment after the call differs (the ct outcome changed)', () => {
    const cached = side(true);
    const plain = side(false);
    for (const state of [CtState.TRK | CtState.EST, CtState.TRK | CtState.NEW, CtState.TRK | CtState.EST, CtState.TRK | CtState.NEW]) {
      cached.ct.state = state;
      plain.ct.state = state;
      for (let i = 0; i < 2; i++) expect(cached.send(udp(P1.mac, '52:54:00:00:00:08', 1000), 'p1')).toBe(plain.send(udp(P1.mac, '52:54:00:00:00:08', 1000), 'p1'));
    }
  });

  it('names a segment of the current epoch only while that segment is in its table (learning, replacement, flushes)', () => {
    // A seeded sequence (printed): frames to and from a few MACs, learning on the localnet port, ct states changing,
    // a table of 8 entries flushed when full. After each frame every held segment is of the table's epoch and every
    // hint of that epoch is held — what lets enterNext trust a hint's epoch instead of searching the table for it.
    const seed = 20261203;
    const cached = side({ maxEntries: 8 });
    let hintsSeen = 0;
    let stale = 0;
    let flushes = 0;
    seededFrames(seed, cached, (i) => {
      for (const t of tables(cached.ex)) {
        const { held, hints } = segmentsOf(t, cached.ex);
        for (const s of held) if (s.epoch !== t.epoch) expect({ seed, frame: i, heldEpoch: s.epoch }).toEqual({ seed, frame: i, heldEpoch: t.epoch });
        for (const h of hints) {
          hintsSeen++;
          if (h.epoch === t.epoch && !held.has(h)) expect({ seed, frame: i, hintNotHeld: true }).toBeUndefined();
        }
      }
    });
    for (const t of tables(cached.ex)) {
      stale += t.stats.stale;
      flushes += t.stats.flushes;
    }
    console.log(`segment hint property: seed ${seed}, 600 frames, ${hintsSeen} hints checked, ${stale} entries voided by learning, ${flushes} flushes`);
    expect(hintsSeen).toBeGreaterThan(0);
    expect(stale).toBeGreaterThan(0);
    expect(flushes).toBeGreaterThan(0);
  });

  it("is checked by the residual of its own op's known bits, swapped with the hint (MfInstr.nextCheck)", () => {
    // The seeded sequence again, without flushes: after each frame each ct op's two hints (of the table's epoch)
    // are checked by the residual of the segment's probe for that op's known bits — the whole probe for an op that
    // knows none — however often they swapped, were replaced, or their segment took a third via.
    const seed = 20261206;
    const cached = side({ maxEntries: 1000 });
    let checked = 0;
    let residuals = 0;
    let vias2 = 0;
    let swaps = 0;
    const firstOf = new Map<object, unknown>();
    seededFrames(seed, cached, (i) => {
      for (const t of tables(cached.ex)) {
        for (const s of segmentsOf(t, cached.ex).held) {
          if (s.via2 !== undefined) vias2++;
          for (const o of s.ops) {
            if (o.next2 !== undefined && firstOf.get(o) === o.next2) swaps++;
            firstOf.set(o, o.next);
            for (const [n, c] of [[o.next, o.nextCheck], [o.next2, o.next2Check]] as const) {
              if (n === undefined || n.epoch !== t.epoch) continue;
              checked++;
              if (o.known !== undefined) residuals++;
              const want = o.known === undefined ? [...n.probe] : residualOf(n.probe, o.known);
              if ([...c].join() !== want.join()) expect({ seed, frame: i, check: [...c] }).toEqual({ seed, frame: i, check: want });
            }
          }
        }
      }
    });
    console.log(`hint check property: seed ${seed}, 600 frames, ${checked} hints' checks compared (${residuals} residuals), ${vias2} segment-frames with a second via, ${swaps} swaps or replacements seen`);
    expect(residuals).toBeGreaterThan(0);
    expect(swaps).toBeGreaterThan(0);
  });
});

/** Forgets every hint (ct ops' and ports'): the next frame's segments are all found by lookupSegment. */
function clearHints(ex: LflowExecutor): void {
  for (const t of tables(ex)) {
    for (const s of segmentsOf(t, ex).held) {
      for (const o of s.ops) {
        o.next = undefined;
        o.next2 = undefined;
      }
    }
    t.rootHints.length = 0;
  }
  for (const p of (ex as unknown as { ports: Map<string, { root: MfSegment | undefined }> }).ports.values()) p.root = undefined;
}

/** The shapes' last hits (MfShape.last) of a table, each with whether its shape still holds it. */
function lastsOf(t: MegaflowTable): Array<{ last: MfSegment; held: boolean }> {
  const out: Array<{ last: MfSegment; held: boolean }> = [];
  for (const shapes of t.points) {
    if (shapes === undefined) continue;
    for (const sh of shapes) {
      if (sh.last === undefined) continue;
      let held = false;
      for (let e = sh.map.get(sh.last.hash); e !== undefined && !held; e = e.chain === e ? undefined : e.chain) held = e === sh.last;
      out.push({ last: sh.last, held });
    }
  }
  return out;
}

describe("a shape's last hit (looked at before hashing, every hint cleared first)", () => {
  it('is not taken when the segment rests on a learned FDB that has moved since', () => {
    const M = '52:54:00:00:00:07';
    const cached = side(true);
    const plain = side(false);
    const both = (spec: FrameSpec, inport: string): string => {
      clearHints(cached.ex);
      const a = cached.send(spec, inport);
      expect(a).toBe(plain.send(spec, inport));
      return a;
    };
    for (let i = 0; i < 3; i++) expect(both(udp(P1.mac, M, 1000), 'p1')).toBe('|3/0');
    // The segment after the ct call (get_fdb answered none) is its shape's last hit.
    const lasts = tables(cached.ex).flatMap(lastsOf);
    expect(lasts.some((l) => l.held && l.last.deps !== 0)).toBe(true);
    expect(both(udp(M, P1.mac, 2000), 'ln')).toBe('|3/0');
    // Its probe matches word for word; its FDB version does not.
    expect(both(udp(P1.mac, M, 1000), 'p1')).toBe('ln|');
    expect(both(udp(P1.mac, M, 1000), 'p1')).toBe('ln|');
    expect(tables(cached.ex).reduce((n, t) => n + t.stats.stale, 0)).toBeGreaterThan(0);
  });

  it('is always a segment its shape holds (learning, replacement, flushes)', () => {
    // A seeded sequence (printed), as the hints' above, with every hint cleared before each frame: after each frame
    // cached = uncached and every shape's last hit is held by its shape, of the table's epoch.
    const seed = 20261218;
    const cached = side({ maxEntries: 8 });
    let lastsSeen = 0;
    let stale = 0;
    seededFrames(seed, cached, (i) => {
      for (const t of tables(cached.ex)) {
        for (const { last, held } of lastsOf(t)) {
          lastsSeen++;
          if (!held || last.epoch !== t.epoch) expect({ seed, frame: i, held, epoch: last.epoch }).toEqual({ seed, frame: i, held: true, epoch: t.epoch });
        }
      }
    }, true);
    for (const t of tables(cached.ex)) stale += t.stats.stale;
    console.log(`shape last-hit property: seed ${seed}, 600 frames, ${lastsSeen} last hits checked, ${stale} entries voided by learning`);
    expect(lastsSeen).toBeGreaterThan(0);
    expect(stale).toBeGreaterThan(0);
  });
});

/**
 * Answers the frame's i-th ct() with `states[i]` (the last one after that), and translates the destination address
 * to `natTo` when it is set (as a DNAT of an established connection does: the executor reads the address back).
 */
class ScriptCt implements ConntrackEngine {
  states = [CtState.TRK | CtState.EST];
  natTo: number | undefined;
  private call = 0;
  private packet = -1;
  execute(f: Uint8Array, _l: number, d: DecodedFrame, _r: CtRequest, res: CtResult): void {
    if (res.packet !== this.packet) {
      this.packet = res.packet;
      this.call = 0;
    }
    res.state = this.states[Math.min(this.call++, this.states.length - 1)]!;
    res.rewritten = this.natTo !== undefined;
    if (this.natTo !== undefined) write32(f, d.l3Offset + 16, this.natTo);
  }
}

/** One switch of `ingress` rows, cached and uncached, each on its own ScriptCt; `send` runs a frame through both. */
function scripted(ingress: FlowRow[], chassis: string | undefined = 'node1') {
  const sb = oneSwitch(rowsOf(ingress), [localnet(), vif('p1', 2, `${P1.mac} ${P1.ip}`), vif('p2', 3, '00:00:00:00:00:02 10.0.0.2'), vif('p3', 4, '00:00:00:00:00:03 10.0.0.3')]);
  const mk = (megaflows: boolean) => {
    const ct = new ScriptCt();
    return { ct, ex: new LflowExecutor(sb, 'ls', { chassis, ct, megaflows: megaflows && { connections: false } }) };
  };
  const cached = mk(true);
  const plain = mk(false);
  const buf = new Uint8Array(256);
  const run = (ex: LflowExecutor, spec: FrameSpec, inport: string): string => {
    const f = buildFrame(spec);
    buf.set(f);
    const r = ex.runFrame(buf, f.length, inport, 0);
    return `${r.outputs.map((o) => o.port).join(',')}|${r.drops.map((d) => `${d.table}/${d.reason}`).join(',')}`;
  };
  return {
    cached,
    plain,
    script(states: number[], natTo?: number): void {
      for (const side of [cached, plain]) {
        side.ct.states = states;
        side.ct.natTo = natTo;
      }
    },
    /** The frame's outputs and drops, the same from both executors. */
    send(spec: FrameSpec, inport: string): string {
      const a = run(cached.ex, spec, inport);
      expect(a).toBe(run(plain.ex, spec, inport));
      return a;
    },
  };
}

/** The hints of `ex`'s tables followed from where they were set with fewer triples than their probe. */
function residualHints(ex: LflowExecutor): number {
  const real = (p: Int32Array): number => {
    let n = 0;
    for (let i = 0; i < p.length; i += 3) if (p[i + 1] !== 0) n++;
    return n;
  };
  let n = 0;
  for (const t of tables(ex)) for (const h of segmentsOf(t, ex).hints) if ((h.via !== undefined && real(h.resid) < real(h.probe)) || (h.via2 !== undefined && real(h.resid2) < real(h.probe))) n++;
  return n;
}

const EST = CtState.TRK | CtState.EST;
const NEW = CtState.TRK | CtState.NEW;

describe('a hint followed from where it was set (its residual probe)', () => {
  it('compares the ct state a call wrote, though the segment before the call read it', () => {
    // The segment after the first call reads ct.est and makes a second call; the segment after that reads ct.est again.
    const sw = scripted([
      [0, 0, '1', 'ct_next;'],
      [1, 10, 'ct.est', 'ct_next;'],
      [1, 0, '1', 'outport = "p2"; output;'],
      [2, 10, 'ct.est', 'outport = "p1"; output;'],
      [2, 0, '1', 'outport = "ln"; output;'],
    ]);
    const frame = udp('00:00:00:00:00:03', P1.mac, 1000);
    sw.script([EST, EST]);
    for (let i = 0; i < 3; i++) expect(sw.send(frame, 'p3')).toBe('p1|');
    expect(residualHints(sw.cached.ex)).toBeGreaterThan(0);
    sw.script([EST, NEW]);
    expect(sw.send(frame, 'p3')).toBe('ln|');
    sw.script([EST, EST]);
    expect(sw.send(frame, 'p3')).toBe('p1|');
  });

  it('compares an address the call translated, though the segment before the call read it', () => {
    // The root segment reads ip4.dst; after the call the next segment reads it again — the same ct state either way.
    const sw = scripted([
      [0, 10, 'ip4.dst == 10.0.0.100', 'ct_next;'],
      [0, 0, '1', 'next;'],
      [1, 10, 'ip4.dst == 10.0.0.100', 'outport = "p1"; output;'],
      [1, 0, '1', 'outport = "p2"; output;'],
    ]);
    const frame: FrameSpec = { src: '00:00:00:00:00:03', dst: P1.mac, ipv4: { src: '10.0.0.3', dst: '10.0.0.100' }, udp: { srcPort: 1000, dstPort: 53 } };
    sw.script([EST]);
    for (let i = 0; i < 3; i++) expect(sw.send(frame, 'p3')).toBe('p1|');
    expect(residualHints(sw.cached.ex)).toBeGreaterThan(0);
    sw.script([EST], 0x0a000007);
    expect(sw.send(frame, 'p3')).toBe('p2|');
    sw.script([EST]);
    expect(sw.send(frame, 'p3')).toBe('p1|');
  });

  it("compares at the root the header a frame brings, not only what its port decides", () => {
    const sw = scripted([
      [0, 10, 'ip4.dst == 10.0.0.100', 'outport = "p1"; output;'],
      [0, 0, '1', 'outport = "p2"; output;'],
    ]);
    const to = (dst: string): FrameSpec => ({ src: '00:00:00:00:00:03', dst: P1.mac, ipv4: { src: '10.0.0.3', dst }, udp: { srcPort: 1000, dstPort: 53 } });
    for (let i = 0; i < 3; i++) expect(sw.send(to('10.0.0.100'), 'p3')).toBe('p1|');
    expect(residualHints(sw.cached.ex)).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) {
      expect(sw.send(to('10.0.0.101'), 'p3')).toBe('p2|');
      expect(sw.send(to('10.0.0.100'), 'p3')).toBe('p1|');
    }
  });

  it('keeps each of two ct ops its own residual for the segment both are followed by', () => {
    // Both calls fork at table 1 and go on at table 2, whose segment reads eth.src only. The call of p2's frames
    // follows a segment that read eth.src (decided there); the call of p3's follows one that did not (compared).
    const sw = scripted([
      [0, 0, '1', 'next;'],
      [1, 10, 'inport == "p2" && eth.src == 00:00:00:00:00:02', 'ct_next;'],
      [1, 5, 'inport == "p3"', 'ct_next;'],
      [1, 0, '1', 'drop;'],
      [2, 10, 'eth.src == 00:00:00:00:00:02', 'next;'],
      [2, 0, '1', 'drop;'],
      [3, 0, '1', 'drop;'],
    ]);
    // Drops, not outputs: an output reads inport (its loopback check), which would make the two segments after the calls two.
    const [inTable2, inTable3] = ['|2/', '|3/'];
    const from = (mac: string): FrameSpec => udp(mac, P1.mac, 1000);
    sw.script([EST]);
    for (let i = 0; i < 3; i++) expect(sw.send(from('00:00:00:00:00:02'), 'p2')).toContain(inTable3);
    for (let i = 0; i < 3; i++) expect(sw.send(from('00:00:00:00:00:02'), 'p3')).toContain(inTable3);
    // p3's first frame took the slow path, which recorded the segment after its call anew (the same key): p2's hint
    // to the old one is void, and its next frame looks the new one up.
    for (let i = 0; i < 3; i++) expect(sw.send(from('00:00:00:00:00:02'), 'p2')).toContain(inTable3);
    // One segment after the calls, followed from both with a residual each: p2's call's decides eth.src, p3's not.
    const after = new Set<MfSegment>();
    for (const t of tables(sw.cached.ex)) for (const h of segmentsOf(t, sw.cached.ex).hints) if (h.via !== undefined && h.via2 !== undefined) after.add(h);
    expect(after.size).toBe(1);
    for (let i = 0; i < 3; i++) {
      expect(sw.send(from('00:00:00:00:00:03'), 'p3')).toContain(inTable2);
      expect(sw.send(from('00:00:00:00:00:02'), 'p3')).toContain(inTable3);
      expect(sw.send(from('00:00:00:00:00:02'), 'p2')).toContain(inTable3);
    }
  });

  it('takes the layout of a plain untagged TCP/IPv4 frame as known at the root only for such a frame', () => {
    // The root segment reads the tag and the protocol; a plain TCP frame's root hint compares neither (they are its
    // layout's), a UDP or a tagged TCP frame's compares both.
    const sw = scripted([
      [0, 20, 'vlan.present', 'drop;'],
      [0, 10, 'tcp', 'outport = "p1"; output;'],
      [0, 0, '1', 'outport = "p2"; output;'],
    ]);
    const tcp = (vlans?: number[]): FrameSpec => ({ src: '00:00:00:00:00:03', dst: P1.mac, ...(vlans ? { vlans } : {}), ipv4: { src: '10.0.0.3', dst: '10.0.0.1' }, tcp: { srcPort: 1000, dstPort: 80 } });
    const udp3: FrameSpec = { src: '00:00:00:00:00:03', dst: P1.mac, ipv4: { src: '10.0.0.3', dst: '10.0.0.1' }, udp: { srcPort: 1000, dstPort: 80 } };
    for (let i = 0; i < 3; i++) expect(sw.send(tcp(), 'p3')).toBe('p1|');
    // The TCP frames' root segment, followed from the port's plain token with a residual without the protocol.
    const proto = (p: Int32Array): boolean => {
      for (let i = 0; i < p.length; i += 3) if (p[i + 1] !== 0 && p[i] === W.IP_PROTO) return true;
      return false;
    };
    let plain = 0;
    for (const t of tables(sw.cached.ex)) for (const h of segmentsOf(t, sw.cached.ex).hints) if (proto(h.probe) && h.via !== undefined && !proto(h.resid)) plain++;
    expect(plain).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) {
      expect(sw.send(udp3, 'p3')).toBe('p2|');
      expect(sw.send(tcp(), 'p3')).toBe('p1|');
      expect(sw.send(tcp([7]), 'p3')).toContain('|0/');
      expect(sw.send(tcp(), 'p3')).toBe('p1|');
    }
  });

  it("takes a frame's flags at the root from the table it runs in: the chassis-blind one is not a chassis named ''", () => {
    // A localnet port's frames carry flags.localnet on a chassis (any name), never without one: dropped in table 0
    // with it, in table 1 without.
    const sw = scripted([
      [0, 10, 'flags.localnet == 1', 'drop;'],
      [0, 0, '1', 'next;'],
      [1, 0, '1', 'drop;'],
    ], '');
    const frame = udp('52:54:00:00:00:07', P1.mac, 1000);
    const [inTable0, inTable1] = ['|0/', '|1/'];
    for (let i = 0; i < 3; i++) expect(sw.send(frame, 'ln')).toContain(inTable0);
    expect(residualHints(sw.cached.ex)).toBeGreaterThan(0);
    for (const side of [sw.cached, sw.plain]) side.ex.setChassis(undefined);
    for (let i = 0; i < 3; i++) expect(sw.send(frame, 'ln')).toContain(inTable1);
    for (const side of [sw.cached, sw.plain]) side.ex.setChassis('');
    expect(sw.send(frame, 'ln')).toContain(inTable0);
  });
});

/** Counts calls of `ex`'s private method `name` from here on. */
function countCalls(ex: LflowExecutor, name: string): { n: number } {
  const count = { n: 0 };
  const inner = ex as unknown as Record<string, (...a: unknown[]) => unknown>;
  const fn = inner[name]!;
  inner[name] = function (this: unknown, ...a: unknown[]): unknown {
    count.n++;
    return fn.apply(this, a);
  };
  return count;
}

/** Counts `ex`'s segment lookups (the search a hint saves) from here on. */
const countLookups = (ex: LflowExecutor): { n: number } => countCalls(ex, 'lookupSegment');

const INV = CtState.TRK | CtState.INV;

describe('the second hints (a ct op\'s next2, the table\'s two root segments per port)', () => {
  it('finds either of two segments that follow one ct call in turn without a lookup, and takes neither for a third', () => {
    const sw = scripted([
      [0, 0, '1', 'ct_next;'],
      [1, 10, 'ct.est', 'outport = "p1"; output;'],
      [1, 5, 'ct.new', 'outport = "p2"; output;'],
      [1, 0, '1', 'drop;'],
    ]);
    const frame = udp('00:00:00:00:00:03', P1.mac, 1000);
    const est = (): string => (sw.script([EST]), sw.send(frame, 'p3'));
    const nu = (): string => (sw.script([NEW]), sw.send(frame, 'p3'));
    for (let i = 0; i < 3; i++) {
      expect(est()).toBe('p1|');
      expect(nu()).toBe('p2|');
    }
    const looked = countLookups(sw.cached.ex);
    for (let i = 0; i < 4; i++) {
      expect(est()).toBe('p1|');
      expect(nu()).toBe('p2|');
    }
    expect(looked.n).toBe(0);
    // The one that held last is tried first: a run of one kind after a frame of the other misses the first hint once
    // (the last frame above was ct.new: the first est, the new and the est after it; kept in lookup order instead,
    // every est frame would).
    const missed = countCalls(sw.cached.ex, 'nextMiss');
    for (let i = 0; i < 3; i++) expect(est()).toBe('p1|');
    expect(nu()).toBe('p2|');
    for (let i = 0; i < 4; i++) expect(est()).toBe('p1|');
    expect(missed.n).toBe(3);
    // Neither hint holds for an invalid state: looked up (a miss, the slow path), dropped as the plain executor does.
    sw.script([INV]);
    expect(sw.send(frame, 'p3')).toContain('|1/');
    expect(looked.n).toBeGreaterThan(0);
    expect(nu()).toBe('p2|');
    expect(est()).toBe('p1|');
  });

  it("finds each chassis' root segments for one port's frames without a lookup when the executor's chassis alternates", () => {
    const sw = scripted([
      [0, 10, 'ip4.dst == 10.0.0.100', 'outport = "p1"; output;'],
      [0, 5, 'ip4.dst == 10.0.0.101', 'outport = "p2"; output;'],
      [0, 0, '1', 'drop;'],
    ]);
    const to = (dst: string): FrameSpec => ({ src: '00:00:00:00:00:03', dst: P1.mac, ipv4: { src: '10.0.0.3', dst }, udp: { srcPort: 1000, dstPort: 53 } });
    const on = (chassis: string, dst: string): string => {
      for (const side of [sw.cached, sw.plain]) side.ex.setChassis(chassis);
      return sw.send(to(dst), 'p3');
    };
    // Each frame's outputs are the plain executor's (send); where they go depends on the chassis (a port not bound to
    // it is reached through the localnet port), not on the round.
    const first: string[] = [];
    const round = (): void => {
      let k = 0;
      for (const chassis of ['node1', 'node2']) {
        for (const dst of ['10.0.0.100', '10.0.0.101']) {
          const out = on(chassis, dst);
          expect(out).not.toContain('|0/');
          if (first.length < 4) first.push(out);
          else expect(out).toBe(first[k]);
          k++;
        }
      }
    };
    for (let i = 0; i < 3; i++) round();
    const looked = countLookups(sw.cached.ex);
    for (let i = 0; i < 3; i++) round();
    expect(looked.n).toBe(0);
    // A third destination matches none of the hints on either chassis: looked up, dropped as the plain executor does.
    expect(on('node1', '10.0.0.102')).toContain('|0/');
    expect(on('node2', '10.0.0.102')).toContain('|0/');
    expect(looked.n).toBeGreaterThan(0);
    round();
  });
});
