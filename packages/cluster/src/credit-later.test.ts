import { expect, it } from 'vitest';
import { type CounterDeltas, ST_BRIDGE, ST_OVN, ST_WIRE, TraceRecorder } from './recorder.js';

// A cache hit's counters are owed (creditLater) and added when read: every way of reading them must see what
// crediting each frame at once (credit) gives. Each reader is checked on a recorder of its own, with frames still
// owed when it reads: a reader that forgot to settle would see the counters without them.

const N_STAGES = 8;

/** Two recorders with the same steps and edges, then the same three frames credited: at once (`now`) and owed (`later`). */
function twins(): { now: TraceRecorder; later: TraceRecorder; deltas: CounterDeltas[] } {
  const make = (): TraceRecorder => {
    const r = new TraceRecorder(false);
    r.step('wire', 'outside', '', undefined);
    r.step('br-provider', 'node1/br-provider', '', 'outside');
    r.step('ovn', 'node1/ovn', '', 'node1/br-provider');
    r.edgeId('node1/ovn', 'outside');
    return r;
  };
  const now = make();
  const later = make();
  const stageDelta = new Int32Array(N_STAGES);
  stageDelta[ST_WIRE] = 1;
  stageDelta[ST_BRIDGE] = 2;
  stageDelta[ST_OVN] = 1;
  const a: CounterDeltas = { stageDelta, edgeIds: Int32Array.of(0, 1), edgeDelta: Int32Array.of(1, 2), owed: 0 };
  const b: CounterDeltas = { stageDelta: stageDelta.slice(), edgeIds: Int32Array.of(2), edgeDelta: Int32Array.of(1), owed: 0 };
  for (const d of [a, a, b]) {
    now.credit(d.stageDelta, d.edgeIds, d.edgeDelta);
    later.creditLater(d);
  }
  return { now, later, deltas: [a, b] };
}

it('owes the frames until read: the deltas listed once each, with their count', () => {
  const { later, deltas } = twins();
  expect(deltas.map((d) => d.owed)).toEqual([2, 1]);
  // Each listed once, however many frames it is owed: the list is read nowhere else, and listed per frame it would
  // grow without bound between two reads of the counters.
  expect((later as unknown as { owing: CounterDeltas[] }).owing).toEqual(deltas);
  later.stageVector();
  expect(deltas.map((d) => d.owed)).toEqual([0, 0]);
});

it('every read empties the list: credited again between reads, each deltas is listed once, and the sums hold', () => {
  const { now, later, deltas } = twins();
  const owing = (later as unknown as { owing: CounterDeltas[] }).owing;
  for (let round = 0; round < 3; round++) {
    later.stageVector();
    expect(owing).toEqual([]);
    // b then a: listed in the order first owed since the read, each once however many frames.
    for (const d of [deltas[1]!, deltas[0]!, deltas[1]!]) {
      later.creditLater(d);
      now.credit(d.stageDelta, d.edgeIds, d.edgeDelta);
    }
    expect(owing).toEqual([deltas[1], deltas[0]]);
    expect([...later.stageVector()]).toEqual([...now.stageVector()]);
    expect(later.edges()).toEqual(now.edges());
  }
});

it('stageCounts read', () => {
  const { now, later } = twins();
  expect({ ...later.stageCounts }).toEqual({ ...now.stageCounts });
  expect(later.stageCounts['br-provider']).toBe(1 + 3 * 2);
});

it('stageCounts written: the owed frames are added before the write, not after it', () => {
  const { now, later } = twins();
  later.stageCounts.wire = 100;
  now.stageCounts.wire = 100;
  expect({ ...later.stageCounts }).toEqual({ ...now.stageCounts });
  expect(later.stageCounts.wire).toBe(100);
});

it('stageVector', () => {
  const { now, later } = twins();
  expect([...later.stageVector()]).toEqual([...now.stageVector()]);
});

it('edgeFrames', () => {
  const { now, later } = twins();
  expect([...later.edgeFrames]).toEqual([...now.edgeFrames]);
  expect(later.edgeFrames).toEqual([1 + 2, 1 + 4, 1]);
});

it('edges', () => {
  const { now, later } = twins();
  expect(later.edges()).toEqual(now.edges());
});

it('deltasSince, against counters taken before the frames', () => {
  const r = new TraceRecorder(false);
  r.step('wire', 'outside', '', undefined);
  r.step('br-provider', 'node1/br-provider', '', 'outside');
  const stages = r.stageVector();
  const edges = r.edgeFrames.slice();
  const d: CounterDeltas = { stageDelta: Int32Array.of(1, 0, 0, 1, 0, 0, 0, 0), edgeIds: Int32Array.of(0), edgeDelta: Int32Array.of(1), owed: 0 };
  for (let i = 0; i < 5; i++) r.creditLater(d);
  const got = r.deltasSince(stages, edges);
  expect([...got.stageDelta]).toEqual([5, 0, 0, 5, 0, 0, 0, 0]);
  expect([...got.edgeIds]).toEqual([0]);
  expect([...got.edgeDelta]).toEqual([5]);
});

it('steps and credits mixed, in any order, give the sums', () => {
  const { now, later, deltas } = twins();
  for (const r of [now, later]) r.step('ovn', 'node1/ovn', '', 'node1/br-provider');
  later.creditLater(deltas[1]!);
  now.credit(deltas[1]!.stageDelta, deltas[1]!.edgeIds, deltas[1]!.edgeDelta);
  expect([...later.stageVector()]).toEqual([...now.stageVector()]);
  expect(later.edges()).toEqual(now.edges());
});
