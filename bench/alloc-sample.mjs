#!/usr/bin/env node
// Bytes allocated per frame by function on a replay (V8's sampling heap profiler, every 256 bytes, objects
// collected since counted too), after a warm-up replay of the same capture. Builtins (subarray, slice…) are
// named with their caller. replay / replay-out: the http capture written to a file and run through
// replayCapture (what `vippath replay` runs), without outputs / with `--out` at the default level.
// switch-new: the switch-only SYNs (bench/switch-workload.mjs), conntrack emptied before each pass.
// http6: the http workload over IPv6 on the dual-stack scenario (this tree's capture and scenario, ROOT's simulation).
// FROM (in-memory workloads): sampling starts at that frame of the sampled replay, so the simulation's setup
// (tokenize, compile…) and its first frames' table growth are left out and the figure is per sampled frame, the
// steady state. The in-process inspector answers synchronously, so sampling starts from the replay's `keep`
// callback between two frames.
// Usage: node bench/alloc-sample.mjs [ROOT] [FRAMES] [http|http6|cold|warm|replay|replay-out|switch-new] [FROM]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [root = new URL('..', import.meta.url).pathname, framesArg = '100000', workload = 'http', fromArg = '0'] = process.argv.slice(2);
const frames = Number(framesArg);
const from = Number(fromArg);
if (!Number.isInteger(from) || from < 0 || from >= frames) throw new RangeError(`FROM must be an integer in [0, FRAMES), not ${fromArg}`);
if (from > 0 && (workload.startsWith('replay') || workload === 'switch-new')) throw new RangeError(`FROM is for the in-memory workloads, not ${workload}`);
const w = await import(`${root}/bench/workloads.mjs`);
const { replayInMemory } = await import(`${root}/bench/replay-loop.mjs`);
const dual = workload === 'http6' ? (await import(new URL('./cases/http.mjs', import.meta.url).href)).DUAL_SCENARIO : undefined;
const capture = workload === 'switch-new' ? undefined : workload === 'cold' ? w.coldCapture(frames) : workload === 'warm' ? w.warmCapture(frames) : dual ? (await import(new URL('./workloads.mjs', import.meta.url).href)).http6Capture(frames, { ownerMac: dual.ownerMac }).capture : w.httpCapture(frames).capture;
const replay = workload.startsWith('replay');
const dir = replay ? mkdtempSync(join(tmpdir(), 'vippath-alloc-')) : '';
let run = () => replayInMemory(capture, undefined, undefined, dual);
if (replay) {
  const { replayCapture, defaultObjects, DEFAULT_CLUSTER } = await import(`${root}/packages/cluster/dist/index.js`);
  writeFileSync(join(dir, 'capture.pcap'), capture);
  const options = workload === 'replay-out' ? { outDir: join(dir, 'out') } : {};
  run = () => replayCapture(join(dir, 'capture.pcap'), defaultObjects(), DEFAULT_CLUSTER, options);
}
if (workload === 'switch-new') {
  const sw = await import(`${root}/bench/switch-workload.mjs`);
  const syns = sw.newWorkload(await sw.loadSwitch(root), frames);
  run = async () => syns.run();
}
await run();
const session = new Session();
session.connect();
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
const startSampling = () => post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
await post('HeapProfiler.enable');
if (from > 0) {
  let n = 0;
  const keep = () => {
    if (n++ === from) startSampling();
    return true;
  };
  replayInMemory(capture, keep, undefined, dual);
} else {
  await startSampling();
  await run();
}
const { profile } = await post('HeapProfiler.stopSampling');
const by = new Map();
let total = 0;
const walk = (n, parent) => {
  total += n.selfSize;
  const f = n.callFrame;
  const key = `${f.url ? '' : `${parent} > `}${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-1)[0]}:${f.lineNumber + 1}`;
  by.set(key, (by.get(key) ?? 0) + n.selfSize);
  for (const c of n.children) walk(c, `${f.functionName}:${f.lineNumber + 1}`);
};
walk(profile.head, '');
const sampled = frames - from;
console.log(from > 0 ? `${workload}, frames ${from}–${frames}: ${(total / sampled).toFixed(1)} bytes allocated per frame (steady state)` : `${workload}, ${frames} frames: ${(total / frames).toFixed(0)} bytes allocated per frame (the replay's simulation made once included)`);
for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(v / sampled).toFixed(1).padStart(8)}  ${k}`);
if (dir) rmSync(dir, { recursive: true, force: true });
