#!/usr/bin/env node
// What a user's small capture costs, start to finish (issue 17; bench/README "A small capture, start to finish"):
// every step in a fresh node process, as a user runs it, wall clock (spawn to exit, measured here) and CPU (user +
// system, read by a preload in the child at its exit), the median of --runs runs, the load average beside it.
//   import       `import('vippath')` (the library, every package) and `import('@vippath/cluster')` (what replay needs)
//   construct    the default scenario's objects and `new SimulatedCluster` of them (northd, tables)
//   replay N     the first N frames of the http workload (bench/workloads.mjs httpCapture) as a pcap file through
//                `vippath replay FILE --out DIR` (the default outputs: wire.pcapng, trace.jsonl, summary.json)
//   main job     `vippath replay test/fixtures/vip-ipv4.pcap --report FILE` (the README's)
// Inside the child, the import / construct steps also time themselves (performance.now around the step alone: the
// process's own start, ≈ 40 ms of node, is then not in the figure).
// Usage: node bench/startup.mjs [--root DIR] [--runs N] [--frames 1000,10000,100000] [--only a,b] [--json]
//   --root DIR: the built tree to measure (default this one); captures are made by this tree's bench/workloads.mjs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const root = resolve(opt('--root', join(here, '..')));
const runs = Number(opt('--runs', '5'));
const sizes = opt('--frames', '1000,10000,100000').split(',').map(Number);
const only = opt('--only', undefined)?.split(',');
const dir = mkdtempSync(join(tmpdir(), 'vippath-startup-'));
const probe = join(dir, 'probe.mjs');
// The child's own CPU time and inner timings, written at its exit (a preload: the CLI is run unchanged).
writeFileSync(probe, `import { writeFileSync } from 'node:fs';
process.on('exit', () => { const u = process.cpuUsage(); writeFileSync(process.env.STARTUP_PROBE, JSON.stringify({ cpuMs: (u.user + u.system) / 1000, inner: globalThis.__startupInner ?? null })); });
`);
const url = (p) => pathToFileURL(join(root, p)).href;
const cli = join(root, 'packages/vippath/dist/cli.js');

/** One fresh process: wall (ms, spawn to exit), CPU (ms), and the child's inner figure if it set one. */
function once(argv, cwd = root) {
  const out = join(dir, 'probe.json');
  rmSync(out, { force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(probe).href, ...argv], { cwd, env: { ...process.env, STARTUP_PROBE: out }, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stderr}`);
  const p = JSON.parse(readFileSync(out, 'utf8'));
  return { wall, cpu: p.cpuMs, inner: p.inner };
}

const inline = (code) => ['--input-type=module', '-e', code];
const steps = [
  { name: 'node -e 0', argv: () => inline('0') },
  { name: 'import vippath', argv: () => inline(`const t = performance.now(); await import(${JSON.stringify(url('packages/vippath/dist/index.js'))}); globalThis.__startupInner = performance.now() - t;`) },
  { name: 'import @vippath/cluster', argv: () => inline(`const t = performance.now(); await import(${JSON.stringify(url('packages/cluster/dist/index.js'))}); globalThis.__startupInner = performance.now() - t;`) },
  { name: 'default objects', argv: () => inline(`const c = await import(${JSON.stringify(url('packages/cluster/dist/index.js'))}); const t = performance.now(); c.defaultObjects(); globalThis.__startupInner = performance.now() - t;`) },
  { name: 'construct (objects + sim)', argv: () => inline(`const c = await import(${JSON.stringify(url('packages/cluster/dist/index.js'))}); const t = performance.now(); new c.SimulatedCluster(c.defaultObjects(), c.DEFAULT_CLUSTER, { trace: false }); globalThis.__startupInner = performance.now() - t;`) },
];
const { httpCapture } = await import(pathToFileURL(join(here, 'workloads.mjs')).href);
for (const n of sizes) {
  const file = join(dir, `http-${n}.pcap`);
  writeFileSync(file, httpCapture(n).capture);
  steps.push({ name: `replay ${n.toLocaleString('en')} frames --out`, argv: () => [cli, 'replay', file, '--out', join(dir, 'out')] });
}
steps.push({ name: 'main job (bundled, --report)', argv: () => [cli, 'replay', join(root, 'test/fixtures/vip-ipv4.pcap'), '--report', join(dir, 'report.html')] });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results = [];
const loadBefore = loadavg()[0];
for (const step of steps) {
  if (only && !only.some((o) => step.name.startsWith(o))) continue;
  const rs = [];
  for (let i = 0; i < runs; i++) rs.push(once(step.argv()));
  const inner = rs.every((r) => typeof r.inner === 'number') ? median(rs.map((r) => r.inner)) : undefined;
  results.push({ step: step.name, wallMs: median(rs.map((r) => r.wall)), cpuMs: median(rs.map((r) => r.cpu)), ...(inner !== undefined ? { innerMs: inner } : {}), runs });
}
const load = [loadBefore, loadavg()[0]];
rmSync(dir, { recursive: true, force: true });
if (args.includes('--json')) console.log(JSON.stringify({ root, load, results }, null, 2));
else {
  console.log(`${root}: median of ${runs} fresh processes each; load ${load.map((l) => l.toFixed(2)).join(' → ')}`);
  console.log(`${'step'.padEnd(34)} ${'wall ms'.padStart(9)} ${'CPU ms'.padStart(9)} ${'inner ms'.padStart(9)}`);
  for (const r of results) console.log(`${r.step.padEnd(34)} ${r.wallMs.toFixed(0).padStart(9)} ${r.cpuMs.toFixed(0).padStart(9)} ${(r.innerMs === undefined ? '' : r.innerMs.toFixed(1)).padStart(9)}`);
}
