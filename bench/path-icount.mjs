#!/usr/bin/env node
// A fixed amount of whole-path work for instruction counting under valgrind (bench/README "The path outside the
// switch, per http frame (session 14)"): the first WARM frames of a capture file through ROOT's SimulatedCluster.process,
// then N more. Two runs that differ only in N give the instructions of those N frames, without the capture's making
// (buildFrame per frame) or the simulation's construction that a run of bench/run.mjs counts — ≈ 88 % of its total:
//   node bench/path-icount.mjs --write FILE FRAMES          (once: bench/workloads.mjs httpCapture to a file)
//   valgrind --tool=callgrind --callgrind-out-file=cg.N node bench/path-icount.mjs ROOT FILE WARM N
// for N = 0 and N = 100000; the difference ÷ N is the instructions per frame. With node's --no-concurrent-recompilation
// after --perf-basic-prof, unchanged functions count the same to the instruction from run to run (bench/README,
// "The path outside the executor (session 15)"); without it the JIT's timing under valgrind moves hundreds a frame.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
if (args[0] === '--write') {
  const { httpCapture } = await import('./workloads.mjs');
  writeFileSync(args[1], httpCapture(Number(args[2])).capture);
  process.exit(0);
}
const [rootArg, file, warm = '100000', n = '0'] = args;
if (!rootArg || !file) throw new Error('usage: node bench/path-icount.mjs ROOT FILE WARM N | --write FILE FRAMES');
const root = resolve(rootArg);
const { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster } = await import(`${root}/packages/cluster/dist/index.js`);
const { CaptureCursor, Next } = await import(`${root}/packages/pcap/dist/index.js`);
const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
const cursor = new CaptureCursor();
cursor.feed(readFileSync(file), true);
const total = Number(warm) + Number(n);
let t0;
let done = 0;
let outside = 0;
sim.onOutside = () => outside++;
while (done < total && cursor.next() === Next.RECORD) {
  const ms = cursor.seconds * 1000 + cursor.nanos / 1e6;
  t0 ??= ms;
  sim.processAt(cursor.buffer, cursor.dataOffset, cursor.captureLength, ms - t0);
  done++;
}
if (done !== total) throw new Error(`the capture holds ${done} frames, ${total} wanted`);
console.log(JSON.stringify({ frames: done, outside }));
