#!/usr/bin/env node
// Where a replay's memory goes, step by step: the http case's replay (the capture in memory through
// SimulatedCluster.process, as bench/cases/http.mjs runs it, without the warm-up) with RSS, the V8 heap, array
// buffers and each chassis' conntrack (entries / slots of its pool) printed every --every frames, then after a
// forced GC. --ct-initial N makes every conntrack pool N slots up front (a diagnosis: the run without the pool's
// doublings). Run with --expose-gc for the last line. Usage:
//   node --expose-gc bench/rss-steps.mjs [--frames 1000000] [--every 50000] [--ct-initial N] [--workload http|cold|warm]
import { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster } from '../packages/cluster/dist/index.js';
import { CaptureCursor, Next } from '../packages/pcap/dist/index.js';
import { coldCapture, httpCapture, warmCapture } from './workloads.mjs';

const args = process.argv.slice(2);
const opt = (flag, dflt) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : dflt);
const frames = Number(opt('--frames', '1000000'));
const every = Number(opt('--every', '50000'));
const workload = opt('--workload', 'http');
const mib = (x) => (x / 2 ** 20).toFixed(0).padStart(4);

function show(label, sim) {
  const m = process.memoryUsage();
  const cts = sim ? sim.ls.conntracks().filter(({ conntrack }) => conntrack.size > 0).map(({ chassis, conntrack }) => `${chassis} ${conntrack.size}/${conntrack.poolCapacity}`).join(', ') : '';
  console.log(`${label.padStart(10)}  RSS ${mib(m.rss)} MiB (peak ${mib(process.resourceUsage().maxRSS * 1024)})  heap ${mib(m.heapUsed)}/${mib(m.heapTotal)}  array buffers ${mib(m.arrayBuffers)}  ${cts}`);
}

function capture() {
  // Made in a function of its own: nothing but the returned buffer outlives it.
  return workload === 'cold' ? coldCapture(frames) : workload === 'warm' ? warmCapture(frames) : httpCapture(frames).capture;
}

show('start');
const bytes = capture();
show('input');
const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
if (opt('--ct-initial', undefined)) sim.ls.ctOptions = { ...sim.ls.ctOptions, initialCapacity: Number(opt('--ct-initial', undefined)) };
show('simulation', sim);
const cursor = new CaptureCursor();
cursor.feed(bytes, true);
let n = 0;
let t0;
while (cursor.next() === Next.RECORD) {
  const ms = cursor.seconds * 1000 + cursor.nanos / 1e6;
  t0 ??= ms;
  sim.processAt(cursor.buffer, cursor.dataOffset, cursor.captureLength, ms - t0);
  if (++n % every === 0) show(String(n), sim);
}
show('end', sim);
if (globalThis.gc) {
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 200));
  show('after GC', sim);
}
