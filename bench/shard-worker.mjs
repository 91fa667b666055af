// One shard of a parallel replay: every worker sees the whole capture (shared, not copied) and takes the frames
// whose symmetric flow hash falls to it — like RSS spreading flows over NIC queues — so both directions of a
// connection, and all its packets, land on one simulation. Counts go back to the parent to be summed.
import { parentPort, workerData } from 'node:worker_threads';
import { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster } from '../packages/cluster/dist/index.js';
import { CaptureCursor, Next } from '../packages/pcap/dist/index.js';
import { shardOf } from './shard.mjs';

const { capture, shard, shards } = workerData;
const bytes = new Uint8Array(capture);
parentPort.on('message', () => {
  const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
  const cursor = new CaptureCursor();
  cursor.feed(bytes, true);
  let n = 0;
  let t0;
  while (cursor.next() === Next.RECORD) {
    if (shardOf(cursor.buffer, cursor.dataOffset, cursor.captureLength, shards) !== shard) continue;
    const ms = cursor.seconds * 1000 + cursor.nanos / 1e6;
    t0 ??= ms;
    sim.process(cursor.buffer.subarray(cursor.dataOffset, cursor.dataOffset + cursor.captureLength), cursor.captureLength, ms - t0);
    n++;
  }
  parentPort.postMessage({ frames: n, hits: sim.cacheStats().hits });
});
