// The whole path (wire → underlay0.341 → MetalLB/br-provider → OVN → LB DNAT → pods, and back) on the default
// scenario, driven by `SimulatedCluster.process` from a capture in memory: warm (10 k flows repeating, 1 in 64 an
// ARP request), cold (every frame a new flow) and ARP only; the warm workload also sharded over 2 worker threads.
// Cold and ARP take the full path for every frame and are measured on at most 100 000 frames (bench/README.md).
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { replayInMemory } from '../replay-loop.mjs';
import { arpCapture, coldCapture, warmCapture } from '../workloads.mjs';

const replay = (capture) => replayInMemory(capture).frames;

function sequential(name, make, cap) {
  return {
    name,
    frames: cap,
    setup: ({ frames }) => ({ capture: make(cap ? Math.min(frames, cap) : frames) }),
    run: ({ capture }) => replay(capture),
  };
}

function sharded(name, make, shards) {
  return {
    name,
    setup: ({ frames }) => {
      const bytes = make(frames);
      const shared = new SharedArrayBuffer(bytes.length);
      new Uint8Array(shared).set(bytes);
      const workers = Array.from({ length: shards }, (_, shard) => new Worker(fileURLToPath(new URL('../shard-worker.mjs', import.meta.url)), { workerData: { capture: shared, shard, shards } }));
      return { workers };
    },
    run: async ({ workers }) => {
      const done = workers.map((w) => new Promise((resolve) => w.once('message', resolve)));
      for (const w of workers) w.postMessage('go');
      const results = await Promise.all(done);
      return results.reduce((n, r) => n + r.frames, 0);
    },
    teardown: ({ workers }) => workers.forEach((w) => w.terminate()),
  };
}

export default [
  sequential('full-warm', warmCapture),
  sharded('full-warm-2w', warmCapture, 2),
  sequential('full-cold', coldCapture, 100_000),
  sequential('arp', arpCapture, 100_000),
];
