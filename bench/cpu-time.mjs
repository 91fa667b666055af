#!/usr/bin/env node
// CPU time (user + system) per frame of one workload, best of 3 after a warm-up: on a shared machine whose
// wall clock moves 2× between identical runs, the comparison that holds. ROOT lets an older build (a scratch
// copy of another commit, built) run the same workload. Any other case name is looked up among ROOT's bench cases
// (bench/cases/*.mjs: setup, then run timed). Usage:
//   node bench/cpu-time.mjs http|replay-out|full-cold|full-warm|CASE [FRAMES] [ROOT]
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [kase = 'http', framesArg = '100000', root = fileURLToPath(new URL('..', import.meta.url))] = process.argv.slice(2);
const frames = Number(framesArg);
if (!['http', 'replay-out', 'full-cold', 'full-warm'].includes(kase)) {
  const cases = [];
  for (const f of readdirSync(join(root, 'bench/cases')).filter((x) => x.endsWith('.mjs')).sort()) cases.push(...[(await import(pathToFileURL(join(root, 'bench/cases', f)).href)).default].flat());
  const c = cases.find((x) => x.name === kase);
  if (!c) throw new Error(`no case ${kase} in ${root}`);
  const state = await c.setup({ frames });
  await c.run(state);
  let best = Infinity;
  let n = 0;
  for (let i = 0; i < 3; i++) {
    const c0 = process.cpuUsage();
    n = await c.run(state);
    const d = process.cpuUsage(c0);
    best = Math.min(best, (d.user + d.system) / 1e6);
  }
  console.log(JSON.stringify({ case: kase, frames: n, cpuSeconds: best, framesPerCpuSecond: Math.round(n / best) }));
  process.exit(0);
}
const { httpCapture, coldCapture, warmCapture } = await import(join(root, 'bench/workloads.mjs'));
const { replayInMemory } = await import(join(root, 'bench/replay-loop.mjs'));
const { replayCapture, defaultObjects, DEFAULT_CLUSTER } = await import(join(root, 'packages/cluster/dist/index.js'));
const capture = kase === 'full-cold' ? coldCapture(frames) : kase === 'full-warm' ? warmCapture(frames) : httpCapture(frames).capture;
const dir = mkdtempSync(join(tmpdir(), 'vippath-cpu-'));
const file = join(dir, 'capture.pcap');
writeFileSync(file, capture);
const once = async () => {
  if (kase === 'replay-out') await replayCapture(file, defaultObjects(), DEFAULT_CLUSTER, { outDir: join(dir, 'out') });
  else replayInMemory(capture);
};
try {
  await once();
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const c0 = process.cpuUsage();
    await once();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
  }
  console.log(JSON.stringify({ case: kase, frames, cpuSeconds: best, framesPerCpuSecond: Math.round(frames / best) }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
