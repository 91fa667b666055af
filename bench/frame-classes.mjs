#!/usr/bin/env node
// Which frames of a whole-path replay reach the OVN switch, by class (way in from the localnet port or back from a
// pod; ARP, or TCP by flags and whether it carries data), how many per replay, how long each class's runs take, and
// how many of them the executor answered by a connection's replay rather than its full run (segment cache, ct calls
// made for real). The executor's runFrameKey (the switch's entry: runFrame calls it too) and replayConn are wrapped
// on the prototype: each run is timed with
// process.hrtime (≈ 40–80 ns of its own per frame: compare classes, not absolute figures with run.mjs).
// lossy: the http-lossy case's capture (LOSSY_MIX); a TCP segment the replay has already seen (same 4-tuple, flags
// and sequence number: a retransmission or duplicate, or the pod's answer repeated) is classed `… again`.
// Usage: node bench/frame-classes.mjs [http|cold|lossy] [FRAMES] [RUNS] [ROOT]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [kind = 'http', framesArg = '200000', runsArg = '3', root = new URL('..', import.meta.url).pathname] = process.argv.slice(2);
const frames = Number(framesArg);
const runs = Number(runsArg);
const url = (p) => pathToFileURL(join(root, p)).href;
const { LflowExecutor } = await import(url('packages/ovn/dist/index.js'));
const { replayInMemory } = await import(url('bench/replay-loop.mjs'));
const { coldCapture, httpCapture, LOSSY_MIX } = await import(url('bench/workloads.mjs'));
const capture = kind === 'http' ? httpCapture(frames).capture : kind === 'cold' ? coldCapture(frames) : kind === 'lossy' ? httpCapture(frames, { mix: LOSSY_MIX }).capture : undefined;
if (!capture) throw new Error('usage: node bench/frame-classes.mjs [http|cold|lossy] [FRAMES] [RUNS] [ROOT]');
// The TCP segments this replay has seen (lossy only; made outside the timed runs).
const seen = new Set();

function classOf(f, inport, localnet) {
  const off = f[12] === 0x81 && f[13] === 0 ? 18 : 14;
  const type = (f[off - 2] << 8) | f[off - 1];
  const way = localnet ? 'in' : 'back';
  if (type === 0x0806) return `${way} ARP`;
  if (type !== 0x0800 || f[off + 9] !== 6) return `${way} other`;
  const ihl = (f[off] & 15) * 4;
  const t = off + ihl;
  const flags = f[t + 13];
  const data = ((f[off + 2] << 8) | f[off + 3]) - ihl - (f[t + 12] >> 4) * 4;
  const names = [[2, 'SYN'], [1, 'FIN'], [4, 'RST'], [8, 'PSH'], [16, 'ACK']].filter(([b]) => flags & b).map(([, n]) => n);
  let again = '';
  if (kind === 'lossy') {
    const key = `${way} ${f.subarray(off + 12, off + 20).join('.')} ${f.subarray(t, t + 8).join('.')} ${flags}`;
    if (seen.has(key)) again = ' again';
    else seen.add(key);
  }
  return `${way} ${names.join('|')}${data > 0 ? ' +data' : ''}${again}`;
}

const stats = new Map();
let on = false;
let replays = 0;
const P = LflowExecutor.prototype;
const runFrameKey = P.runFrameKey;
const replayConn = P.replayConn;
P.replayConn = function (...a) {
  replays++;
  return replayConn.apply(this, a);
};
P.runFrameKey = function (...a) {
  if (!on) return runFrameKey.apply(this, a);
  // Classed before the run: a lent frame is edited in place.
  const [frame, , portKey] = a;
  const port = this.portsByKey.get(portKey);
  const key = classOf(frame, port?.name, port?.localnet === true);
  const before = replays;
  const t0 = process.hrtime.bigint();
  const r = runFrameKey.apply(this, a);
  const ns = Number(process.hrtime.bigint() - t0);
  let s = stats.get(key);
  if (!s) stats.set(key, (s = { n: 0, ns: 0, replayed: 0 }));
  s.n++;
  s.ns += ns;
  s.replayed += replays - before;
  return r;
};
for (let i = 0; i < 2; i++) replayInMemory(capture);
on = true;
let sim;
for (let i = 0; i < runs; i++) {
  seen.clear();
  sim = replayInMemory(capture).sim;
}
let total = 0;
let count = 0;
for (const s of stats.values()) {
  total += s.ns;
  count += s.n;
}
// None seen: the wrapped entry is no longer the one the switch calls (this script printed "0 switch runs" for a while).
if (count === 0) throw new Error('no switch run went through LflowExecutor.prototype.runFrameKey: the wrapped entry is not the one the switch calls');
console.log(`${kind}, ${frames} frames: ${count / runs} switch runs per replay, ${(total / runs / 1e6).toFixed(1)} ms in them per replay (${runs} replays after 2)`);
// The connection replay's store after the last replay (walks replayed, of them from a template's slot, stopped at a
// call, given up for another).
const m = sim.ls.megaflowStats();
console.log(`connection walks: ${m.connHits} replayed (${m.templateHits} from a template's slot), ${m.connBreaks} stopped at a call, ${m.connEvictions} given up for another, ${m.connEntries} held at the end`);
console.log('| class | runs per replay | replayed | ns per run | share of the switch |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [k, s] of [...stats].sort((a, b) => b[1].ns - a[1].ns)) {
  console.log(`| ${k} | ${s.n / runs} | ${s.replayed / runs} | ${Math.round(s.ns / s.n)} | ${((100 * s.ns) / total).toFixed(1)} % |`);
}
