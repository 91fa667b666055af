#!/usr/bin/env node
// Where full-cold's bench time goes before the steady state (bench/README "A fresh cluster's warm-up is a fresh
// process's (session 40)"). The cold capture's first FRAMES frames replayed RUNS times in one process, each on a new
// cluster: run 0 in this fresh process (nothing compiled, no warm-up), every later one after a gc() with the previous
// cluster dropped — run.mjs's measured runs. CPU (user + system, all threads: V8's compile threads too) and wall
// time per SLICE frames; the first slice is the cluster's set-up.
//   node --expose-gc bench/cold-runs.mjs [ROOT] [--runs 3] [--frames 100000] [--slice 10000] [--hold-maps K]
// --hold-maps K: replay-loop's holdMaps(K) (run 0 then makes the held cluster first; later runs keep their code).
// --same-maps (needs node's --allow-natives-syntax): two clusters alive at once, each after the capture's first K
// (--hold-maps, default 2 000) frames; both object graphs walked by the same keys, and every pair of corresponding
// objects whose hidden classes differ reported by constructor, with the first path and the properties' modes.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const rootArg = args[0] !== undefined && !args[0].startsWith('--') ? args[0] : undefined;
const root = resolve(rootArg ?? new URL('..', import.meta.url).pathname);
const runs = Number(opt('--runs', '3'));
const frames = Number(opt('--frames', '100000'));
const slice = Number(opt('--slice', '10000'));
const hold = opt('--hold-maps', undefined);
const loop = await import(pathToFileURL(`${root}/bench/replay-loop.mjs`).href);
const { coldCapture } = await import(pathToFileURL(`${root}/bench/workloads.mjs`).href);

if (args.includes('--same-maps')) {
  // The natives are reached through `new Function` so that this file parses without --allow-natives-syntax.
  const native = (name) => new Function('a', 'b', `return %${name}(a${name === 'HaveSameMap' ? ', b' : ''});`);
  const sameMap = native('HaveSameMap');
  const fast = native('HasFastProperties');
  const capture = coldCapture(Number(hold ?? 2000));
  const sims = [];
  for (let i = 0; i < 2; i++) loop.replayInMemory(capture, undefined, (s) => sims.push(s));
  const seen = new Set();
  const differ = new Map();
  let compared = 0;
  let shared = 0;
  const queue = [[sims[0], sims[1], 'sim']];
  for (let q = 0; q < queue.length; q++) {
    const [a, b, path] = queue[q];
    if (a === null || b === null || (typeof a !== 'object' && typeof a !== 'function') || typeof a !== typeof b) continue;
    if (a === b || seen.has(a)) continue; // one object of both clusters (a module's), or walked already
    seen.add(a);
    compared++;
    if (sameMap(a, b)) shared++;
    else {
      const what = `${a.constructor?.name ?? '(no constructor)'}${Array.isArray(a) ? ' (array)' : ''}`;
      const d = differ.get(what) ?? { n: 0, path, modes: `fast properties ${fast(a)}/${fast(b)}` };
      d.n++;
      differ.set(what, d);
    }
    if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer || typeof a === 'function') continue;
    if (a instanceof Map) {
      for (const k of [...a.keys()].slice(0, 64)) if (b instanceof Map && b.has(k)) queue.push([a.get(k), b.get(k), `${path}.get(${String(k).slice(0, 24)})`]);
      continue;
    }
    if (Array.isArray(a)) {
      for (let i = 0; i < Math.min(a.length, b.length, 64); i++) queue.push([a[i], b[i], `${path}[${i}]`]);
      continue;
    }
    for (const k of Object.getOwnPropertyNames(a)) {
      const da = Object.getOwnPropertyDescriptor(a, k);
      const db = Object.getOwnPropertyDescriptor(b, k);
      if (da && db && 'value' in da && 'value' in db) queue.push([da.value, db.value, `${path}.${k}`]);
    }
  }
  console.log(`objects compared ${compared}, sharing their map ${shared}`);
  for (const [what, d] of [...differ].sort((x, y) => y[1].n - x[1].n)) console.log(`${String(d.n).padStart(6)}  ${what}  first at ${d.path}  (${d.modes})`);
  process.exit(0);
}

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
if (hold !== undefined) loop.holdMaps(Number(hold));
const capture = coldCapture(frames);
globalThis.gc();
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (let r = 0; r < runs; r++) {
  if (r > 0) globalThis.gc();
  const cells = [];
  const start = [cpu(), performance.now()];
  let at = start;
  let n = 0;
  const mark = () => {
    const now = [cpu(), performance.now()];
    cells.push(`${(now[0] - at[0]).toFixed(1)}/${(now[1] - at[1]).toFixed(1)}`);
    at = now;
  };
  // `keep` sees every frame first: the slice boundaries, and frame 0's mark ends the set-up.
  loop.replayInMemory(capture, () => {
    if (n++ % slice === 0) mark();
    return true;
  });
  mark();
  console.log(`${r === 0 ? 'fresh process' : `after gc() ${r}`}: CPU ${(cpu() - start[0]).toFixed(1)} ms, wall ${(performance.now() - start[1]).toFixed(1)} ms; CPU/wall ms — set-up ${cells[0]}, then per ${slice} frames ${cells.slice(1).join(' ')}`);
}
