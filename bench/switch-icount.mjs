#!/usr/bin/env node
// A fixed amount of switch-est work for instruction counting under valgrind (bench/README "Where a replayed ACK's
// instructions go (session 13)"): WARM ACKs, then N more, through ROOT's switch (est) or its hinted floor (hfloor).
// Two runs that differ only in N give the instructions of N₂ − N₁ ACKs exactly (nothing allocates per ACK; a GC
// cycle or a compile landing in one window shows as a few hundred per ACK — read the JIT functions' own counts):
//   valgrind --tool=callgrind --callgrind-out-file=cg.N node --no-concurrent-recompilation --perf-basic-prof \
//     bench/switch-icount.mjs ROOT est 1000 100000 N
// for N = 50000 and 150000; callgrind_annotate of each, JIT addresses named from perf-PID.map (node's perf map, in the temp directory) (copy it while
// the run lasts: other processes' clean-ups delete such maps), difference ÷ 100 000. Add --dump-instr=yes and
// --print-opt-code to attribute each optimized function's instructions one by one.
// Usage: node bench/switch-icount.mjs ROOT est|hfloor FLOWS WARM N
import { estWorkload, loadSwitch } from './switch-workload.mjs';
import { floorHintedWorkload } from './switch-floor.mjs';

const [root, mode = 'est', flows = '1000', warm = '100000', n = '0'] = process.argv.slice(2);
if (!root || (mode !== 'est' && mode !== 'hfloor')) throw new Error('usage: node bench/switch-icount.mjs ROOT est|hfloor FLOWS WARM N');
const sw = await loadSwitch(root);
let w = estWorkload(sw, Number(flows));
if (mode === 'hfloor') w = await floorHintedWorkload(sw, w, root);
for (let i = 0; i < 10; i++) w.run(Number(warm) / 10);
if (Number(n) > 0) w.run(Number(n));
