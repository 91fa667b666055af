// The benchmarks' replay: a capture in memory through SimulatedCluster.process on the default scenario (or another), frame
// by frame with the capture's timestamps, optionally only the frames `keep` accepts (a shard's).
import { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster } from '../packages/cluster/dist/index.js';
import { CaptureCursor, Next } from '../packages/pcap/dist/index.js';

// holdMaps: a small cluster per scenario kept for the process. V8's optimized code depends on the hidden classes
// (maps) of the objects it saw; a class instance's map is reachable only from its instances (transitions are weak),
// so when a run's cluster is collected before the next is made, those maps die and every function optimized
// against them is thrown away and optimized again in the next run (≈ 150 deopts, ≈ 340 functions recompiled a
// full-cold or http replay: bench/README "Every run compiled again (session 20)"). A cluster holding the same maps
// keeps them alive; its frames are the first ones of the replayed capture.
const anchors = new Map();
let anchorFrames = 0;

/** Keep, per scenario, a cluster that replayed the first `frames` frames of the first capture replayed (0: none). */
export function holdMaps(frames) {
  if (!Number.isInteger(frames) || frames < 0) throw new RangeError(`holdMaps: frames must be an integer ≥ 0, not ${frames}`);
  anchorFrames = frames;
}

/** The clusters holdMaps keeps (one per scenario replayed while it was on). */
export const heldClusters = () => anchors.size;

export function replayInMemory(bytes, keep = undefined, hook = undefined, scenario = undefined) {
  if (anchorFrames > 0 && !anchors.has(scenario)) {
    let n = 0;
    anchors.set(scenario, replay(bytes, () => n++ < anchorFrames, undefined, scenario).sim);
  }
  return replay(bytes, keep, hook, scenario);
}

function replay(bytes, keep, hook, scenario) {
  // `scenario`: another scenario's objects (made anew per run) and cluster, e.g. http6's dual-stack one.
  const sim = new SimulatedCluster(scenario ? scenario.objects() : defaultObjects(), scenario ? scenario.cluster : DEFAULT_CLUSTER, { trace: false });
  hook?.(sim);
  const cursor = new CaptureCursor();
  cursor.feed(bytes, true);
  let n = 0;
  let t0;
  // The frame is handed as (buffer, offset, length): no view made per frame.
  while (cursor.next() === Next.RECORD) {
    if (keep && !keep(cursor.buffer, cursor.dataOffset, cursor.captureLength)) continue;
    const ms = cursor.seconds * 1000 + cursor.nanos / 1e6;
    t0 ??= ms;
    sim.processAt(cursor.buffer, cursor.dataOffset, cursor.captureLength, ms - t0);
    n++;
  }
  return { frames: n, sim };
}
