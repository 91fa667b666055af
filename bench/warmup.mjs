#!/usr/bin/env node
// Why a fresh process's first frames are slow (bench/README "A small capture, start to finish"): the http workload's
// first FRAMES frames through SimulatedCluster.processAt, CPU time per BLOCK frames, three times in one process —
// (1) a fresh simulation in a fresh process: cold JIT and cold caches; (2) a second fresh simulation: JIT warm,
// the simulation's caches, conntrack and tables empty again (every early frame a miss, fresh pages written);
// (3) the same capture again through simulation 2, shifted in time (its connections ended long ago: new again,
// pages already touched). (1) − (2) is the JIT's warm-up; (2) against the steady state is the caches'.
// Usage: node bench/warmup.mjs [FRAMES=10000] [BLOCK=1000] [ROOT]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [framesArg = '10000', blockArg = '1000', rootArg] = process.argv.slice(2);
const frames = Number(framesArg);
const block = Number(blockArg);
const root = resolve(rootArg ?? new URL('..', import.meta.url).pathname);
const { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster } = await import(pathToFileURL(`${root}/packages/cluster/dist/index.js`).href);
const { CaptureCursor, Next } = await import(pathToFileURL(`${root}/packages/pcap/dist/index.js`).href);
const { httpCapture } = await import(new URL('./workloads.mjs', import.meta.url).href);
const capture = httpCapture(frames).capture;
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function pass(sim, shiftMs) {
  const cursor = new CaptureCursor();
  cursor.feed(capture, true);
  const blocks = [];
  let n = 0;
  let t0;
  let c0 = cpu();
  while (cursor.next() === Next.RECORD) {
    const ms = cursor.seconds * 1000 + cursor.nanos / 1e6;
    t0 ??= ms;
    sim.processAt(cursor.buffer, cursor.dataOffset, cursor.captureLength, ms - t0 + shiftMs);
    if (++n % block === 0) {
      const c = cpu();
      blocks.push(((c - c0) * 1000) / block);
      c0 = c;
    }
  }
  return blocks;
}
const c0 = cpu();
const sim1 = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
const build1 = cpu() - c0;
const first = pass(sim1, 0);
const c1 = cpu();
const sim2 = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
const build2 = cpu() - c1;
const second = pass(sim2, 0);
// Two hours later: conntrack's entries of the first pass have expired, the tables' pages are touched.
const third = pass(sim2, 7_200_000);
console.log(`construction: ${build1.toFixed(1)} ms CPU cold, ${build2.toFixed(1)} ms again in the same process`);
console.log(`µs CPU per frame, by block of ${block}: fresh process / 2nd simulation / same simulation again (2 h later)`);
for (let i = 0; i < first.length; i++) console.log(`${String((i + 1) * block).padStart(8)}  ${first[i].toFixed(1).padStart(7)}  ${second[i].toFixed(1).padStart(7)}  ${third[i].toFixed(1).padStart(7)}`);
const sum = (xs) => xs.reduce((a, b) => a + b, 0) * block / 1000;
console.log(`total ms: ${sum(first).toFixed(0)} / ${sum(second).toFixed(0)} / ${sum(third).toFixed(0)}`);
