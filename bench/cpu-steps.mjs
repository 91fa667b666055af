#!/usr/bin/env node
// CPU time per step of frames along one replay of the http capture, in one process: a re-optimization mid-run
// (values of a new kind — a sequence number ≥ 2^31 — reaching code compiled for small integers) shows as a burst in
// the steps where it happens (bench/README "A sequence number crossing 2^31 (session 15)", whose method this is).
// With `node --trace-deopt`, a line `=== frame N` is printed before each step, so each bailout is placed in its
// step. ROOT (default this tree) gives its packages and its bench/workloads.mjs. Prints µs of CPU (user + system)
// per frame for each step, then the median and the worst step. Usage:
//   node [--trace-deopt] bench/cpu-steps.mjs [FRAMES=200000] [STEP=5000] [RUNS=1] [ROOT]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [framesArg = '200000', stepArg = '5000', runsArg = '1', root = fileURLToPath(new URL('..', import.meta.url))] = process.argv.slice(2);
const frames = Number(framesArg);
const step = Number(stepArg);
const { httpCapture } = await import(join(root, 'bench/workloads.mjs'));
const { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster } = await import(join(root, 'packages/cluster/dist/index.js'));
const { CaptureCursor, Next } = await import(join(root, 'packages/pcap/dist/index.js'));
const { capture } = httpCapture(frames);
for (let run = 0; run < Number(runsArg); run++) {
  const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
  const cursor = new CaptureCursor();
  cursor.feed(capture, true);
  const us = [];
  let n = 0;
  let t0;
  let c0 = process.cpuUsage();
  console.log(`=== run ${run} frame 0`);
  while (cursor.next() === Next.RECORD) {
    const ms = cursor.seconds * 1000 + cursor.nanos / 1e6;
    t0 ??= ms;
    sim.processAt(cursor.buffer, cursor.dataOffset, cursor.captureLength, ms - t0);
    if (++n % step === 0) {
      const d = process.cpuUsage(c0);
      us.push((d.user + d.system) / step);
      console.log(`=== run ${run} frame ${n}`);
      c0 = process.cpuUsage();
    }
  }
  const sorted = [...us].sort((a, b) => a - b);
  const worst = us.indexOf(sorted[sorted.length - 1]);
  console.log(`run ${run}: µs CPU a frame per ${step} frames: ${us.map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`run ${run}: median ${sorted[sorted.length >> 1].toFixed(2)}, worst ${sorted[sorted.length - 1].toFixed(2)} at frames ${worst * step}–${(worst + 1) * step}`);
}
