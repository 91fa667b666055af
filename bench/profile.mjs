#!/usr/bin/env node
// Profiles one benchmark case: one measured run, after the usual warm-up, under the inspector's CPU profiler
// (run.mjs --profile: the measured run only — not making the input, which for http is buildFrame per frame, nor
// the warm-up), and prints the functions with the most self time. --interval US samples every US µs (default V8's
// 1 000: a short run gets a few hundred samples). Usage: node bench/profile.mjs CASE [--frames N] [--top N]
// [--interval US] [--lines NAME,...]: also the self-time samples by source line (of dist/*.js) of the functions so named.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const name = args[0];
if (!name || name.startsWith('--')) {
  console.error('usage: node bench/profile.mjs CASE [--frames N] [--top N] [--interval US] [--lines NAME,...]');
  process.exit(2);
}
const opt = (flag, dflt) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : dflt);
const dir = mkdtempSync(join(tmpdir(), 'vippath-prof-'));
const run = fileURLToPath(new URL('./run.mjs', import.meta.url));
const r = spawnSync(process.execPath, ['--expose-gc', run, '--child', name, '--frames', opt('--frames', '1000000'), '--runs', '1', '--profile', join(dir, 'run.cpuprofile'), ...(args.includes('--interval') ? ['--profile-interval', opt('--interval', '1000')] : [])], { encoding: 'utf8' });
if (r.status !== 0) {
  console.error(r.stderr);
  process.exit(1);
}
const profile = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8'));
rmSync(dir, { recursive: true, force: true });
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const byPackage = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  // The first delta runs from the profiler's start (inside the inspector's own dispatch) to the first sample.
  const dt = i === 0 ? 0 : (profile.timeDeltas[i] ?? 0);
  total += dt;
  const f = byId.get(id).callFrame;
  const key = `${f.functionName || '(anonymous)'}  ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + dt);
  // By package (packages/<name>/…), Node's own code, the bench's, GC and the idle/program ticks.
  const m = /packages\/([^/]+)\//.exec(f.url);
  const where = m ? `@vippath/${m[1]}` : f.url.includes('/bench/') ? 'bench (input, driver)' : f.url.startsWith('node:') ? 'node internals' : f.functionName.startsWith('(') ? f.functionName : f.url ? 'other' : 'native/builtins';
  byPackage.set(where, (byPackage.get(where) ?? 0) + dt);
});
console.log(`${name}: ${JSON.parse(r.stdout).framesPerSecond.toLocaleString('en')} frames/s under the profiler; self time of the measured run:`);
for (const [key, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(opt('--top', '25')))) console.log(`${((t / total) * 100).toFixed(1).padStart(6)} %  ${key}`);
const lineOf = opt('--lines', '');
if (lineOf) {
  const names = new Set(lineOf.split(','));
  const lines = new Map();
  let sampled = 0;
  for (const n of profile.nodes) {
    sampled += n.hitCount ?? 0;
    if (!names.has(n.callFrame.functionName)) continue;
    for (const t of n.positionTicks ?? []) {
      const key = `${n.callFrame.functionName}  ${n.callFrame.url.split('/').slice(-2).join('/')}:${t.line}`;
      lines.set(key, (lines.get(key) ?? 0) + t.ticks);
    }
  }
  console.log('\nby line (share of all samples):');
  for (const [key, t] of [...lines].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${((t / sampled) * 100).toFixed(2).padStart(6)} %  ${key}`);
}
console.log('\nby package (self time):');
for (const [key, t] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`${((t / total) * 100).toFixed(1).padStart(6)} %  ${key}`);
