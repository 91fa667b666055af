#!/usr/bin/env node
// The switch-only workloads (bench/switch-workload.mjs) of several built trees in one process, alternating short
// runs, CPU time per frame (best and median over the rounds): on this shared machine separate runs move by 20–40 %
// with the other processes' load, alternating runs in one process see the same load. Each tree after the first is
// also compared with the first round by round (median per-round ratio, rounds faster). A tree before commit 1d2a7d2
// runs its hand-modelled switch; `floor:ROOT` runs bench/switch-floor.mjs's ct() calls alone on ROOT's switch, with no
// executor: the two per ACK (est), the five per SYN as recorded from the switch (new); `hfloor:ROOT` (est only) the two per
// ACK with the lookup hints the switch hands the engine. Usage: node bench/switch-ab.mjs new|est ROOT|floor:ROOT|hfloor:ROOT... [--frames N] [--rounds N] [--flows N]
import { estWorkload, loadSwitch, newWorkload } from './switch-workload.mjs';
import { floorHintedWorkload, floorNewWorkload, floorWorkload } from './switch-floor.mjs';

const args = process.argv.slice(2);
const opt = (flag, dflt) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : dflt);
const kase = args[0];
const roots = args.slice(1).filter((a, i, all) => !a.startsWith('--') && !(i > 0 && all[i - 1].startsWith('--')));
if ((kase !== 'new' && kase !== 'est') || roots.length === 0) {
  console.error('usage: node bench/switch-ab.mjs new|est ROOT... [--frames N] [--rounds N] [--flows N]');
  process.exit(2);
}
const frames = opt('--frames', kase === 'new' ? 30_000 : 100_000);
const rounds = opt('--rounds', 8);
const flows = opt('--flows', 10_000);
let cpu = 0;
const time = { start: () => process.cpuUsage(), stop: (t) => { const c = process.cpuUsage(t); cpu = (c.user + c.system) / 1e6; } };
const trees = [];
for (const spec of roots) {
  const hinted = spec.startsWith('hfloor:');
  const floor = hinted || spec.startsWith('floor:');
  const root = floor ? spec.slice(spec.indexOf(':') + 1) : spec;
  if (hinted && kase !== 'est') throw new Error('switch-ab: hfloor: is for est only');
  const sw = await loadSwitch(root);
  let w = kase === 'new' ? newWorkload(sw, frames) : estWorkload(sw, flows);
  if (floor) w = kase === 'new' ? await floorNewWorkload(sw, w, root) : hinted ? await floorHintedWorkload(sw, w, root) : await floorWorkload(sw, w, root);
  const once = () => (kase === 'new' ? w.run(time) : w.run(frames, time));
  once();
  trees.push({ root: spec, kind: floor ? (kase === 'new' ? 'five ct() calls, no executor' : hinted ? 'two hinted ct() calls, no executor' : 'two ct() calls, no executor') : sw.logicalFlows ? 'logical flows' : 'hand-modelled', once, ns: [] });
}
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? [...trees].reverse() : trees;
  for (const t of order) {
    t.once();
    t.ns.push((cpu / frames) * 1e9);
  }
}
// Against the first tree, round by round (the two runs of a round are next to each other in time, so a load that
// drifts over the rounds moves both): the median of the per-round ratios and the rounds this tree was faster in.
const first = trees[0];
for (const t of trees) {
  const s = [...t.ns].sort((a, b) => a - b);
  const ratios = t.ns.map((ns, r) => ns / first.ns[r]).sort((a, b) => a - b);
  const faster = t.ns.filter((ns, r) => ns < first.ns[r]).length;
  const vsFirst = t === first ? {} : { ratioToFirst: Number(ratios[ratios.length >> 1].toFixed(3)), fasterRounds: `${faster}/${rounds}` };
  console.log(JSON.stringify({ case: `switch-${kase}`, root: t.root, switch: t.kind, frames, rounds, bestNs: Math.round(s[0]), medianNs: Math.round(s[s.length >> 1]), ...vsFirst }));
}
