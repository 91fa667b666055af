// The benchmarks' replay (bench/replay-loop.mjs) with holdMaps: the kept cluster is a cluster of its own — a replay
// answers as one without it — and a bad frame count is a RangeError.
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedCluster } from '@vippath/cluster';
// @ts-expect-error: a plain .mjs module of the benchmarks, without types.
import { heldClusters, holdMaps, replayInMemory } from '../bench/replay-loop.mjs';
// @ts-expect-error: a plain .mjs module of the benchmarks, without types.
import { coldCapture } from '../bench/workloads.mjs';

/** What a replay leaves that tells one simulation from another. */
function outcome(sim: SimulatedCluster, frames: number): unknown {
  return {
    frames,
    stages: sim.stageCounts,
    drops: [...sim.dropCounts],
    backends: [...sim.backendCounts],
    caches: sim.cacheStats(),
    edges: sim.edges(),
    requests: [...sim.pods].map(([name, p]) => [name, p.requests]),
  };
}

const replay = (capture: Uint8Array): unknown => {
  const { frames, sim } = replayInMemory(capture) as { frames: number; sim: SimulatedCluster };
  return outcome(sim, frames);
};

describe('bench replay-loop holdMaps', () => {
  afterEach(() => holdMaps(0));

  it('rejects a frame count that is not an integer ≥ 0', () => {
    for (const bad of [-1, 1.5, Number.NaN, '20' as unknown as number]) expect(() => holdMaps(bad)).toThrow(RangeError);
  });

  it('a replay with a kept cluster answers as one without', () => {
    const capture = coldCapture(3000) as Uint8Array;
    const plain = replay(capture);
    const held = heldClusters() as number;
    holdMaps(500);
    const withHeld = replay(capture);
    expect(heldClusters()).toBe(held + 1);
    expect(withHeld).toEqual(plain);
    // Once kept, later replays of the same scenario make no other.
    expect(replay(capture)).toEqual(plain);
    expect(heldClusters()).toBe(held + 1);
  });
});
