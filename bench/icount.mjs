#!/usr/bin/env node
// Instructions per frame, load-independent: a fixed amount of work under valgrind's callgrind, run twice with only the
// measured count differing; the difference of the two totals ÷ the frames between them is the instructions of one
// frame in the steady state (setup, warm-up and the capture's making cancel out). One tool, three drivers — each
// is the former script of that name, call for call, so the figures bench/README cites from them reproduce:
//   --driver replay-loop ROOT TOTAL COUNT   (was http-icount.mjs) the http capture of TOTAL frames built in-process
//       (ROOT's bench/workloads.mjs httpCapture), its first COUNT frames through ROOT's bench/replay-loop.mjs (one
//       SimulatedCluster, as run.mjs replays). Pair: COUNT = 20000 and 60000 of 60000, or 100000 and 140000 of 140000.
//       `--capture cold`: full-cold's capture instead (every frame a new connection's SYN; its first 65 536
//       conversations new clients), so a pair's difference is SYNs in one cluster's steady state, without the
//       capture's making (the case driver's pairs hold it) or a cluster's set-up (≈ 50 ms CPU each, per run).
//       A pair's runs are dumped at frame A (callgrind_control): cg.N.1 holds the run up to it, cg.N the rest, so
//       bench/cg-self.py compares only code that ran in the window; `perFrame` is still both parts' difference,
//       `perFrameWindow` the second parts' (bench/README "The profile's window (session 37)").
//   --driver process-at ROOT FILE WARM N    (was path-icount.mjs) a capture file's first WARM frames, then N more,
//       through ROOT's SimulatedCluster.processAt (no capture making, no replay-loop). Pair: N = 0 and 100000 after
//       WARM = 100000. The file, once: `node bench/icount.mjs --write FILE FRAMES` (this tree's httpCapture).
//   --driver case ROOT CASE FRAMES WARM N   (was case-icount.mjs) ROOT's bench case CASE (bench/cases: ct-new,
//       switch-new, …) set up for FRAMES, run WARM times, a gc() if exposed, then N more. Pair: N = 0 and 2; per
//       frame = difference ÷ (N × FRAMES).
// Each run by hand:
//   valgrind --tool=callgrind --callgrind-out-file=cg.N node [NODE FLAGS] bench/icount.mjs --driver … N
// or both runs of a pair and the difference by this tool (the per-driver node flags below unless --node-flags):
//   node bench/icount.mjs --callgrind OUTDIR [--node-flags '…'] --driver process-at ROOT FILE 100000 0,100000
// (the measured count — COUNT or N — given as A,B). JIT functions are named from each run's perf-PID.map (node's perf map, in the temp directory)
// (--perf-basic-prof; copy it while the run lasts: other processes' clean-ups delete such maps); the switch alone
// has bench/switch-icount.mjs. V8's GC and tier-up points move a run's total by a few tenths of a percent, even under
// `--single-threaded --random-seed=1 --hash-seed=1`: compare pairs' differences, not single totals (bench/README
// "One instruction-count tool; colliding DNAT against OVS (session 15)"). With node's --no-concurrent-recompilation
// after --perf-basic-prof, unchanged functions count the same to the instruction from run to run; without it the
// JIT's timing under valgrind moves hundreds a frame (bench/README "The path outside the executor (session 15)").
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const USAGE = `usage: node bench/icount.mjs [--callgrind OUTDIR [--node-flags '…']] --driver replay-loop ROOT TOTAL COUNT
       node bench/icount.mjs [--callgrind OUTDIR [--node-flags '…']] --driver process-at ROOT FILE WARM N
       node bench/icount.mjs [--callgrind OUTDIR [--node-flags '…']] --driver case ROOT CASE FRAMES WARM N
       node bench/icount.mjs --write FILE FRAMES
(with --callgrind, the last argument is a pair A,B)`;

// The node flags each former script's head gave for its callgrind runs.
const NODE_FLAGS = {
  'replay-loop': [],
  'process-at': ['--perf-basic-prof'],
  case: ['--no-concurrent-recompilation', '--perf-basic-prof', '--expose-gc'],
};

const MARK_ENV = 'VIPPATH_ICOUNT_MARK';
const args = process.argv.slice(2);
const take = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};

if (args[0] === '--write') {
  const { httpCapture } = await import('./workloads.mjs');
  writeFileSync(args[1], httpCapture(Number(args[2])).capture);
  process.exit(0);
}
const cgDir = take('--callgrind');
// --capture cold: the replay-loop driver on full-cold's capture (every frame a new connection) instead of http's.
const captureName = take('--capture') ?? 'http';
if (captureName !== 'http' && captureName !== 'cold') throw new Error(`--capture is http or cold, not ${captureName}`);
const nodeFlags = take('--node-flags');
const driver = take('--driver');
if (!driver || !(driver in NODE_FLAGS) || !args[0]) throw new Error(USAGE);
if (cgDir !== undefined) await pair(cgDir);
else if (driver === 'replay-loop') await replayLoop(...args);
else if (driver === 'process-at') await processAt(...args);
else await runCase(...args);

/** Both runs of a pair under callgrind, their totals and the difference per frame. */
async function pair(dir) {
  // Imported here only: loading node:child_process in the measured runs costs ≈ 24 M instructions of parsing, which
  // the former scripts did not spend (the per-frame difference would not see it; the totals would).
  const { spawn, spawnSync } = await import('node:child_process');
  const [a, b] = (args.at(-1) ?? '').split(',').map(Number);
  if (!Number.isInteger(a) || !Number.isInteger(b) || b <= a) throw new Error(`the last argument must be A,B with A < B\n${USAGE}`);
  mkdirSync(dir, { recursive: true });
  const flags = nodeFlags !== undefined ? nodeFlags.split(/\s+/).filter(Boolean) : NODE_FLAGS[driver];
  const self = fileURLToPath(import.meta.url);
  // The runs work in OUTDIR (--perf-basic-prof leaves an isolate-*-v8.log in the working directory): ROOT and FILE
  // made absolute first.
  const paths = args.slice(0, -1).map((x, i) => (i === 0 || (i === 1 && driver === 'process-at') ? resolve(x) : x));
  const totals = [];
  const windows = [];
  for (const n of [a, b]) {
    const out = join(dir, `cg.${driver}.${n}`);
    const cmd = ['--tool=callgrind', `--callgrind-out-file=${resolve(out)}`, process.execPath, ...flags, self, '--driver', driver, '--capture', captureName, ...paths, String(n)];
    console.error(`valgrind ${cmd.join(' ')}`);
    // Only the replay-loop driver has a frame loop to mark; the others' runs are whole.
    const marked = driver === 'replay-loop';
    await run(spawn, spawnSync, cmd, dir, out, marked ? a : -1);
    if (!marked) {
      totals.push(totalOf(out));
      continue;
    }
    // Part 1 (cg.N.1): the capture's making, the set-up and the first A frames; part 2 (cg.N): the rest.
    const parts = [totalOf(`${out}.1`), totalOf(out)];
    totals.push(parts[0] + parts[1]);
    windows.push(parts[1]);
  }
  const frames = (b - a) * (driver === 'case' ? Number(args[2]) : 1);
  const per = (x, y) => Math.round(((y - x) / frames) * 10) / 10;
  const result = { driver, args: args.slice(0, -1), counts: [a, b], totals, frames, perFrame: per(totals[0], totals[1]) };
  // The window's own difference: equal to perFrame but for the noise of part 1 (GC and tier-up timing), which it leaves out.
  if (windows.length === 2) result.perFrameWindow = per(windows[0], windows[1]);
  console.log(JSON.stringify(result));
}

function totalOf(file) {
  const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no total in ${file}`);
  return Number(m[1]);
}

/**
 * One run under callgrind; with `mark` ≥ 0 (a replay-loop run) a dump when its loop reaches frame `mark` (the pair's
 * A): the run's counts before it go to OUT.1, the rest to OUT. Why: JIT code has no symbols, so bench/cg-self.py names
 * an address by the last perf-map entry covering it — an address that held the capture's builders (emitEthernet,
 * buildFrame) and later a steady-state function was named one way in one run and the other way in the other
 * (bench/README "The profile's window (session 37)"). With the dump, part 2 holds only code that ran in the window.
 * The child waits at the mark (MARK_ENV) until the dump is written (callgrind_control talks to the run through vgdb).
 */
async function run(spawn, spawnSync, cmd, dir, out, mark) {
  const sync = resolve(join(dir, `sync.${mark}.${Date.now()}`));
  let env = process.env;
  if (mark >= 0) {
    const mk = spawnSync('mkfifo', [`${sync}.go`], { encoding: 'utf8' });
    if (mk.status !== 0) throw new Error(`mkfifo ${sync}.go failed: ${mk.stderr}`);
    env = { ...env, [MARK_ENV]: `${mark}:${sync}` };
  }
  const child = spawn('valgrind', cmd, { cwd: dir, stdio: ['ignore', 'inherit', 'pipe'], env });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-8000)));
  let status = null;
  const exited = new Promise((ok) => child.on('exit', (code, signal) => ok((status = code ?? signal))));
  try {
    if (mark >= 0) {
      const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
      while (status === null && !existsSync(`${sync}.ready`)) await sleep(200);
      if (status === null) {
        const r = spawnSync('callgrind_control', ['-d', String(child.pid)], { encoding: 'utf8' });
        if (r.status !== 0 || !existsSync(`${out}.1`)) {
          child.kill();
          throw new Error(`callgrind_control -d ${child.pid} failed (${r.status}): ${r.stdout}${r.stderr}`);
        }
        writeFileSync(`${sync}.go`, 'go');
      }
    }
    await exited;
  } finally {
    rmSync(`${sync}.ready`, { force: true });
    rmSync(`${sync}.go`, { force: true });
  }
  if (status !== 0) throw new Error(`valgrind exited ${status}: ${stderr.split('\n').slice(-8).join('\n')}`);
  if (mark >= 0 && !existsSync(`${out}.1`)) throw new Error(`the run ended before frame ${mark}: no ${out}.1`);
}

/**
 * In a marked run (pair's run): at the mark, says so and waits until the dump has been taken — blocked in a read
 * of the FIFO the pair made, which the pair writes after the dump (no JavaScript runs while it waits: a polling loop
 * would add its turns to part 2).
 */
function waitAtMark(sync) {
  writeFileSync(`${sync}.ready`, '');
  readFileSync(`${sync}.go`);
}

/** Was bench/http-icount.mjs: the first COUNT frames of the http capture of TOTAL frames, through ROOT's replay loop. */
async function replayLoop(root, total = '60000', count = '20000') {
  const url = (p) => pathToFileURL(join(root, p)).href;
  const { replayInMemory } = await import(url('bench/replay-loop.mjs'));
  const { httpCapture, coldCapture } = await import(url('bench/workloads.mjs'));
  const capture = captureName === 'cold' ? coldCapture(Number(total)) : httpCapture(Number(total)).capture;
  let n = 0;
  const last = Number(count);
  // Set by pair's run(): "MARK:SYNC" — a dump of callgrind's counts when the loop reaches frame MARK.
  const marked = process.env[MARK_ENV] ?? '';
  const colon = marked.indexOf(':');
  let r;
  if (colon < 0) r = replayInMemory(capture, () => n++ < last);
  else {
    // A marked run replays a capture of its first COUNT frames (the records cut after them), not all TOTAL with the
    // rest skipped: run A's skipping loop, after its mark, was the window's only other work (`replay` −231.9 a frame in
    // the difference). So perFrame now holds the cursor's read of each frame (≈ +46 a frame on http), which A's
    // skipping used to cancel.
    const mark = Number(marked.slice(0, colon));
    const sync = marked.slice(colon + 1);
    // The wait's call site runs two other functions first (no-ops, at frames 1000 and 1001: after this closure has
    // its feedback vector, before TurboFan compiles the loop), so its feedback is megamorphic and the loop's code
    // (this closure inlined) holds a plain call there. Called only at the mark, the site had no feedback: the loop's
    // code was thrown away at the mark ("Insufficient type feedback for call"), ran in baseline code until compiled
    // again, and that OSR compile and pcap's `next` compile fell in the window (bench/README "What V8 compiles in the
    // window (session 40)"). Primed at frames 0 and 1 instead, the closure had no feedback vector yet: the loop's
    // code was thrown away at the mark all the same ("Insufficient type feedback for compare operation").
    const noops = [() => {}, () => {}];
    r = replayInMemory(firstRecords(capture, last), () => {
      if (n === mark || n === 1000 || n === 1001) (n === mark ? waitAtMark : noops[n - 1000])(sync);
      n++;
      return true;
    });
    // Run A: the mark is its last frame's end.
    if (n === mark) waitAtMark(sync);
  }
  if (r.frames !== Math.min(last, Number(total))) throw new Error(`replayed ${r.frames} frames`);
}

/** The classic pcap `capture` cut after its first `n` records (workloads.mjs writes little-endian ones). */
function firstRecords(capture, n) {
  let at = 24;
  for (let i = 0; i < n && at + 16 <= capture.length; i++) at += 16 + capture.readUInt32LE(at + 8);
  return capture.subarray(0, at);
}

/** Was bench/path-icount.mjs: a capture file's first WARM frames, then N more, through ROOT's SimulatedCluster.processAt. */
async function processAt(rootArg, file, warm = '100000', n = '0') {
  if (!file) throw new Error(USAGE);
  const root = resolve(rootArg);
  const { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster } = await import(`${root}/packages/cluster/dist/index.js`);
  const { CaptureCursor, Next } = await import(`${root}/packages/pcap/dist/index.js`);
  const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
  const cursor = new CaptureCursor();
  cursor.feed(readFileSync(file), true);
  const total = Number(warm) + Number(n);
  let t0;
  let done = 0;
  let outside = 0;
  sim.onOutside = () => outside++;
  while (done < total && cursor.next() === Next.RECORD) {
    const ms = cursor.seconds * 1000 + cursor.nanos / 1e6;
    t0 ??= ms;
    sim.processAt(cursor.buffer, cursor.dataOffset, cursor.captureLength, ms - t0);
    done++;
  }
  if (done !== total) throw new Error(`the capture holds ${done} frames, ${total} wanted`);
  console.log(JSON.stringify({ frames: done, outside }));
}

/** Was bench/case-icount.mjs: ROOT's bench case set up for FRAMES, run WARM times, then N more. */
async function runCase(root, name, framesArg = '200000', warm = '3', n = '0') {
  const kases = [];
  for (const f of readdirSync(`${root}/bench/cases`).filter((x) => x.endsWith('.mjs')).sort()) {
    kases.push(...[(await import(pathToFileURL(`${root}/bench/cases/${f}`).href)).default].flat());
  }
  const kase = kases.find((c) => c.name === name);
  if (!kase) throw new Error(`no case ${name} in ${root}`);
  const frames = Number(framesArg);
  const state = await kase.setup({ frames, get capture() { throw new Error('icount --driver case: cases that read the shared capture are not supported'); } });
  for (let i = 0; i < Number(warm); i++) await kase.run(state);
  globalThis.gc?.();
  for (let i = 0; i < Number(n); i++) await kase.run(state);
}
