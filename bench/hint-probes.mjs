#!/usr/bin/env node
// The executor's segment-hint checks per frame of a replay (the http or the full-cold capture): each probe or
// residual compared (hintHolds), by where it was called from — after a cached ct op (nextOps: the op's action and
// how many known triples its call leaves, MfInstr.known) or elsewhere (enterRoot, lookupSegment's last hits) — with
// its checks a frame, the share that held, its padded length in triples and the triples themselves (word&mask=value).
// Shows which fields a frame's checks compare and how many of the compared triples are padding.
// Usage: node bench/hint-probes.mjs [ROOT] [http|cold] [FRAMES] [FROM] — counted over frames FROM..FRAMES.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [root = fileURLToPath(new URL('..', import.meta.url)), kind = 'cold', frames = '30000', from = '20000'] = process.argv.slice(2);
const url = (p) => pathToFileURL(join(root, p)).href;
const { LflowExecutor, W } = await import(url('packages/ovn/dist/index.js'));
const { replayInMemory } = await import(url('bench/replay-loop.mjs'));
const { coldCapture, httpCapture } = await import(url('bench/workloads.mjs'));
const P = LflowExecutor.prototype;
const hintHolds = P.hintHolds;
const nextOps = P.nextOps;
let via;
let on = false;
const stats = new Map();
P.nextOps = function (o, w) {
  via = `${o.action?.k ?? o.op}:K${o.known === undefined ? 0 : o.known.length / 3}`;
  try {
    return nextOps.call(this, o, w);
  } finally {
    via = undefined;
  }
};
P.hintHolds = function (n, ws, p) {
  const r = hintHolds.call(this, n, ws, p);
  if (on) {
    const key = `${via ?? 'other'} ${p === n.probe ? 'probe' : 'resid'} ${Array.from(p).join(',')}`;
    const s = stats.get(key) ?? { calls: 0, held: 0 };
    s.calls++;
    if (r) s.held++;
    stats.set(key, s);
  }
  return r;
};
const capture = kind === 'cold' ? coldCapture(Number(frames)) : httpCapture(Number(frames)).capture;
let i = 0;
replayInMemory(capture, () => {
  if (++i === Number(from)) on = true;
  return true;
});
const n = Number(frames) - Number(from) + 1;
const names = Object.fromEntries(Object.entries(W).map(([k, v]) => [v, k]));
let slots = 0;
let real = 0;
for (const [key, s] of [...stats].sort((a, b) => b[1].calls - a[1].calls)) {
  const [where, what, list] = key.split(' ');
  const a = list.split(',').map(Number);
  const t = [];
  for (let j = 0; j < a.length; j += 3) if (a[j + 1] !== 0) t.push(`${names[a[j]] ?? a[j]}&${(a[j + 1] >>> 0).toString(16)}=${(a[j + 2] >>> 0).toString(16)}`);
  slots += (s.calls / n) * (a.length / 3);
  real += (s.calls / n) * t.length;
  console.log(`${(s.calls / n).toFixed(3)} a frame, held ${(s.held / s.calls).toFixed(3)}, ${where} ${what} ${a.length / 3}: ${t.join(' ')}`);
}
console.log(`triples compared a frame: ${slots.toFixed(1)} (${real.toFixed(1)} not padding)`);
