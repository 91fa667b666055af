#!/usr/bin/env node
// vippath benchmarks. Each case runs in its own child process (so peak RSS is the case's own), on a
// reproducible input it generates, with a warm-up run and then measured runs; results as a table, or
// JSON with --json. Usage: node bench/run.mjs [--json] [--only a,b] [--frames N] [--runs N] [--hold-maps K]
// --hold-maps K: a cluster that replayed the capture's first K frames kept for the child's life, so the runs do not
// optimize their code again (bench/replay-loop.mjs holdMaps; only the cases that replay through replayInMemory).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { cpus } from 'node:os';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const frames = Number(opt('--frames', '1000000'));
const runs = Number(opt('--runs', '3'));
const only = opt('--only', undefined)?.split(',');
const child = opt('--child', undefined);
const holdMapsArg = opt('--hold-maps', undefined);

async function loadCases() {
  const files = readdirSync(`${here}cases`).filter((f) => f.endsWith('.mjs')).sort();
  const cases = [];
  for (const f of files) cases.push(...[(await import(pathToFileURL(`${here}cases/${f}`).href)).default].flat());
  return cases;
}

async function runChild(name) {
  const kase = (await loadCases()).find((c) => c.name === name);
  if (!kase) throw new Error(`no bench case ${name}`);
  if (holdMapsArg !== undefined) (await import('./replay-loop.mjs')).holdMaps(Number(holdMapsArg));
  const { vipTcpCapture } = await import('./input.mjs');
  // The shared input is made only for the cases that read it (74 MB at 1 M frames: the http cases make their own).
  let capture;
  const input = { frames, get capture() { return (capture ??= vipTcpCapture(frames)); } };
  // A case may measure fewer frames than asked (the full-path cases whose every frame takes the slow path).
  const expected = kase.frames ? Math.min(frames, kase.frames) : frames;
  const state = await kase.setup(input);
  let gcMs = 0;
  // Collections forced between runs (below) are not the runs' own.
  const forced = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (!forced.some(([a, b]) => e.startTime >= a && e.startTime <= b)) gcMs += e.duration;
  });
  // What making the input left behind (frames built and copied, a capture written to a file and dropped) is
  // garbage before the warm-up: collected here, outside the timing, so the peak RSS is a run's over its input.
  globalThis.gc?.();
  await kase.run(state); // warm-up: let the JIT settle
  // --profile FILE [--profile-interval US]: a CPU profile of the measured runs only (not of making the input or the
  // warm-up).
  const profileTo = opt('--profile', undefined);
  let session;
  if (profileTo) {
    const { Session } = await import('node:inspector/promises');
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    // --profile-interval US: the sampling interval (V8's default is 1 000 µs: a few hundred samples per second of run).
    const interval = opt('--profile-interval', undefined);
    if (interval !== undefined) await session.post('Profiler.setSamplingInterval', { interval: Number(interval) });
  }
  obs.observe({ entryTypes: ['gc'] });
  let best = Infinity;
  let count = 0;
  for (let r = 0; r < runs; r++) {
    // The previous run's simulation is garbage: collected before this one starts (outside the timing and the GC
    // figure), so the peak RSS is one run's, not the sum of the warm-up's and the measured runs'.
    const g0 = performance.now();
    globalThis.gc?.();
    forced.push([g0, performance.now()]);
    // The profiler starts after the first forced collection: a profile of one run (bench/profile.mjs) holds the run
    // only, not the collection of what the warm-up left (it read as ≈ 13 % "GC" of ct-new).
    if (session && r === 0) await session.post('Profiler.start');
    const t0 = performance.now();
    count = await kase.run(state);
    best = Math.min(best, performance.now() - t0);
  }
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(profileTo, JSON.stringify(profile));
    session.disconnect();
  }
  await new Promise((r) => setTimeout(r, 10));
  obs.disconnect();
  if (count !== expected) throw new Error(`${name} processed ${count} frames of ${expected}`);
  const extra = kase.extra?.(state) ?? {};
  await kase.teardown?.(state);
  const seconds = best / 1000;
  process.stdout.write(JSON.stringify({
    name,
    frames: count,
    framesPerSecond: Math.round(count / seconds),
    nsPerFrame: Number(((seconds * 1e9) / count).toFixed(1)),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    gcMs: Number((gcMs / runs).toFixed(1)),
    ...extra,
  }));
}

async function main() {
  if (child) return runChild(child);
  const names = (await loadCases()).map((c) => c.name).filter((n) => !only || only.includes(n));
  const results = [];
  for (const name of names) {
    const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', name, '--frames', String(frames), '--runs', String(runs), ...(holdMapsArg !== undefined ? ['--hold-maps', holdMapsArg] : [])], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) {
      process.stderr.write(`bench ${name} failed:\n${r.stderr}\n`);
      process.exitCode = 1;
      continue;
    }
    results.push(JSON.parse(r.stdout));
    if (!args.includes('--json')) process.stderr.write(`  ${name} done\n`);
  }
  if (args.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
    return;
  }
  const byName = Object.fromEntries(results.map((r) => [r.name, r]));
  console.log(`\n${cpus()[0]?.model ?? 'cpu'} · node ${process.version} · ${frames.toLocaleString('en')} frames · best of ${runs}\n`);
  console.log('| case | frames/s | ns/frame | peak RSS | GC ms/run |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    console.log(`| ${r.name} | ${r.framesPerSecond.toLocaleString('en')} | ${r.nsPerFrame} | ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB | ${r.gcMs} |`);
  }
  for (const r of results) if (r.outputBytes !== undefined) console.log(`\n${r.name}: outputs ${r.outputBytes.toLocaleString('en')} bytes for ${r.inputBytes.toLocaleString('en')} input bytes (${r.outputRatio}×): ${Object.entries(r.outputs).map(([f, n]) => `${f} ${n.toLocaleString('en')}`).join(', ')}`);
  if (byName.reader && byName['pcap-parser']) console.log(`\nreader / pcap-parser: ${(byName.reader.framesPerSecond / byName['pcap-parser'].framesPerSecond).toFixed(1)}×`);
  if (byName.reader && byName.walk) console.log(`reader / walk (floor): ${(byName.reader.framesPerSecond / byName.walk.framesPerSecond).toFixed(2)}×`);
}

await main();
