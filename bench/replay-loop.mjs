// The benchmarks' replay: a capture in memory through SimulatedCluster.process on the default scenario (or another), frame
// by frame with the capture's timestamps, optionally only the frames `keep` accepts (a shard's).
import { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster } from '../packages/cluster/dist/index.js';
import { CaptureCursor, Next } from '../packages/pcap/dist/index.js';

export function replayInMemory(bytes, keep = undefined, hook = undefined, scenario = undefined) {
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
