#!/usr/bin/env node
// One tree, one process: a workload through the simulation with the cluster's caches on and off (flowCache: the
// way-in, way-back and ARP caches; br-provider's and the switch's megaflows stay), alternating rounds, CPU time per
// frame (best and median). What the caches save on that workload, free of a second tree's JIT and layout. Usage:
//   node bench/cache-onoff.mjs http|http6 [FRAMES] [ROUNDS]
import { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster } from '../packages/cluster/dist/index.js';
import { CaptureCursor, Next } from '../packages/pcap/dist/index.js';
import { DUAL_SCENARIO } from './cases/http.mjs';
import { http6Capture, httpCapture } from './workloads.mjs';

const [kase = 'http6', framesArg = '100000', roundsArg = '6'] = process.argv.slice(2);
const frames = Number(framesArg);
const rounds = Number(roundsArg);
const six = kase === 'http6';
const capture = six ? http6Capture(frames, { ownerMac: DUAL_SCENARIO.ownerMac }).capture : httpCapture(frames).capture;

function run(flowCache) {
  const sim = six ? new SimulatedCluster(DUAL_SCENARIO.objects(), DUAL_SCENARIO.cluster, { trace: false, flowCache }) : new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, flowCache });
  const cursor = new CaptureCursor();
  cursor.feed(capture, true);
  let n = 0;
  let t0;
  const c0 = process.cpuUsage();
  while (cursor.next() === Next.RECORD) {
    const ms = cursor.seconds * 1000 + cursor.nanos / 1e6;
    t0 ??= ms;
    sim.processAt(cursor.buffer, cursor.dataOffset, cursor.captureLength, ms - t0);
    n++;
  }
  const c = process.cpuUsage(c0);
  return { ns: ((c.user + c.system) * 1000) / n, stats: sim.cacheStats() };
}

const on = [];
const off = [];
let stats;
run(true);
run(false);
for (let r = 0; r < rounds; r++) {
  for (const cache of r % 2 ? [true, false] : [false, true]) {
    const x = run(cache);
    (cache ? on : off).push(x.ns);
    if (cache) stats = x.stats;
  }
}
const stat = (t) => {
  t.sort((p, q) => p - q);
  return { bestNs: Math.round(t[0]), medianNs: Math.round(t[t.length >> 1]) };
};
console.log(JSON.stringify({ case: kase, frames, rounds, cachesOn: stat(on), cachesOff: stat(off), hits: stats.hits, misses: stats.misses, backHits: stats.backHits, arpHits: stats.arpHits }));
