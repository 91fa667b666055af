// One shard of a parallel replay: every worker sees the whole capture (shared, not copied) and takes the frames
// whose symmetric flow hash falls to it — like RSS spreading flows over NIC queues — so both directions of a
// connection, and all its packets, land on one simulation. Counts go back to the parent to be summed.
import { parentPort, workerData } from 'node:worker_threads';
import { replayInMemory } from './replay-loop.mjs';
import { shardOf } from './shard.mjs';

const { capture, shard, shards } = workerData;
const bytes = new Uint8Array(capture);
parentPort.on('message', () => {
  const { frames, sim } = replayInMemory(bytes, (buf, at, length) => shardOf(buf, at, length, shards) === shard);
  parentPort.postMessage({ frames, hits: sim.cacheStats().hits });
});
