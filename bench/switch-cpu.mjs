#!/usr/bin/env node
// CPU time (user + system) per frame of the switch-only workloads (bench/switch-workload.mjs) through the switch of
// the tree at ROOT (default: this one), best of RUNS after a warm-up; only the frames' loop is timed (not the
// handshakes of switch-est, nor emptying conntrack before each switch-new pass). A tree before commit 1d2a7d2 runs its
// hand-modelled switch. Usage: node bench/switch-cpu.mjs new|est [FRAMES] [ROOT] [RUNS]
import { fileURLToPath } from 'node:url';
import { estWorkload, loadSwitch, newWorkload } from './switch-workload.mjs';

const [kase = 'new', framesArg, root = fileURLToPath(new URL('..', import.meta.url)), runsArg = '5'] = process.argv.slice(2);
if (kase !== 'new' && kase !== 'est') throw new Error('usage: node bench/switch-cpu.mjs new|est [FRAMES] [ROOT] [RUNS]');
const frames = Number(framesArg ?? (kase === 'new' ? 50_000 : 200_000));
const sw = await loadSwitch(root);
let cpu = 0;
const time = { start: () => process.cpuUsage(), stop: (t) => { const c = process.cpuUsage(t); cpu = (c.user + c.system) / 1e6; } };
const w = kase === 'new' ? newWorkload(sw, frames) : estWorkload(sw);
const once = () => (kase === 'new' ? w.run(time) : w.run(frames, time));
once();
let best = Infinity;
for (let i = 0; i < Number(runsArg); i++) {
  once();
  best = Math.min(best, cpu);
}
console.log(JSON.stringify({ case: `switch-${kase}`, root, switch: sw.logicalFlows ? 'logical flows' : 'hand-modelled', frames, cpuSeconds: best, nsPerFrame: Math.round((best / frames) * 1e9), framesPerCpuSecond: Math.round(frames / best) }));
