#!/usr/bin/env node
// A fixed amount of http work for instruction counting under valgrind (bench/README "Short connections through the
// connection replay (session 14)"): the first COUNT frames of the http capture of TOTAL frames through ROOT's
// cluster, one SimulatedCluster (bench/replay-loop.mjs, as run.mjs replays). Two runs that differ only in COUNT give
// the instructions of the frames between them exactly, in the steady state (the JIT warm, the caches filled):
//   valgrind --tool=callgrind --callgrind-out-file=cg.C node bench/http-icount.mjs ROOT 60000 C
// for C = 20000 and 60000; (total₆₀₀₀₀ − total₂₀₀₀₀) ÷ 40 000 is the instructions per frame.
// Usage: node bench/http-icount.mjs ROOT TOTAL COUNT
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, total = '60000', count = '20000'] = process.argv.slice(2);
if (!root) throw new Error('usage: node bench/http-icount.mjs ROOT TOTAL COUNT');
const url = (p) => pathToFileURL(join(root, p)).href;
const { replayInMemory } = await import(url('bench/replay-loop.mjs'));
const { httpCapture } = await import(url('bench/workloads.mjs'));
const capture = httpCapture(Number(total)).capture;
let n = 0;
const last = Number(count);
const r = replayInMemory(capture, () => n++ < last);
if (r.frames !== Math.min(last, Number(total))) throw new Error(`replayed ${r.frames} frames`);
