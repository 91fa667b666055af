#!/usr/bin/env node
// Conntrack work per frame of a whole-path workload: ct() calls, hash-table lookups, key extractions, key hashes
// and inserts (hashAt, and hashTk for the scratch reply key; insertNodes, a connection's two nodes a call), counted by
// wrapping the engine's (private) methods — a count, not a time, so it holds on a loaded machine. ROOT runs another build (a scratch copy of another commit, built). Usage:
//   node bench/ct-work.mjs full-cold|http [FRAMES] [ROOT]
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const [kase = 'full-cold', framesArg = '20000', root = fileURLToPath(new URL('..', import.meta.url))] = process.argv.slice(2);
const frames = Number(framesArg);
const { coldCapture, httpCapture } = await import(join(root, 'bench/workloads.mjs'));
const { replayInMemory } = await import(join(root, 'bench/replay-loop.mjs'));
const { OvsConntrack } = await import(join(root, 'packages/ovn/dist/index.js'));
const P = OvsConntrack.prototype;
const counts = {};
for (const m of ['execute', 'lookupKey', 'extractKey', 'hashAt', 'hashTk', 'insertNodes']) {
  const f = P[m];
  if (typeof f !== 'function') continue;
  counts[m] = 0;
  P[m] = function (...a) {
    counts[m]++;
    return f.apply(this, a);
  };
}
replayInMemory(kase === 'full-cold' ? coldCapture(frames) : httpCapture(frames).capture);
console.log(JSON.stringify({ case: kase, frames, perFrame: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number((v / frames).toFixed(2))])) }));
