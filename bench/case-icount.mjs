#!/usr/bin/env node
// A fixed amount of one bench case's work for instruction counting under valgrind: ROOT's CASE (bench/cases:
// ct-new, switch-new, …) set up for FRAMES, run WARM times, then N more. Two runs that differ only in N give the
// instructions of the N − N' extra runs exactly (setup and warm-up cancel out), per frame: (Ir(N) − Ir(N')) ÷
// ((N − N') × frames). JIT functions are named from /tmp/perf-PID.map (bench/switch-icount.mjs says how):
//   valgrind --tool=callgrind --callgrind-out-file=cg.N node --no-concurrent-recompilation --perf-basic-prof \
//     --expose-gc bench/case-icount.mjs ROOT ct-new 200000 3 N
// Usage: node bench/case-icount.mjs ROOT CASE FRAMES WARM N
import { readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [root, name, framesArg = '200000', warm = '3', n = '0'] = process.argv.slice(2);
const kases = [];
for (const f of readdirSync(`${root}/bench/cases`).filter((x) => x.endsWith('.mjs')).sort()) {
  kases.push(...[(await import(pathToFileURL(`${root}/bench/cases/${f}`).href)).default].flat());
}
const kase = kases.find((c) => c.name === name);
if (!kase) throw new Error(`no case ${name} in ${root}`);
const frames = Number(framesArg);
const state = await kase.setup({ frames, get capture() { throw new Error('case-icount: cases that read the shared capture are not supported'); } });
for (let i = 0; i < Number(warm); i++) await kase.run(state);
globalThis.gc?.();
for (let i = 0; i < Number(n); i++) await kase.run(state);
