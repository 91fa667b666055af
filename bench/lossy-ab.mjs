#!/usr/bin/env node
// http against http-lossy in one process, rounds alternating which goes first: each round replays both captures
// (bench/workloads.mjs httpCapture, without and with LOSSY_MIX) once and reports ns a frame and the ratio
// lossy ÷ http — what the mix costs, as far as a shared machine's noise lets a pair say (both see the same load).
// Usage: node bench/lossy-ab.mjs [FRAMES] [ROUNDS]
import { replayInMemory } from './replay-loop.mjs';
import { httpCapture, LOSSY_MIX } from './workloads.mjs';

const [framesArg = '200000', roundsArg = '6'] = process.argv.slice(2);
const frames = Number(framesArg);
const http = httpCapture(frames).capture;
const lossy = httpCapture(frames, { mix: LOSSY_MIX }).capture;
const time = (capture) => {
  const t0 = process.hrtime.bigint();
  const n = replayInMemory(capture).frames;
  return Number(process.hrtime.bigint() - t0) / n;
};
// Warm-up: both, twice.
for (let i = 0; i < 2; i++) {
  time(http);
  time(lossy);
}
const ratios = [];
for (let r = 0; r < Number(roundsArg); r++) {
  let a;
  let b;
  if (r % 2 === 0) {
    a = time(http);
    b = time(lossy);
  } else {
    b = time(lossy);
    a = time(http);
  }
  ratios.push(b / a);
  console.log(`round ${r + 1} (${r % 2 === 0 ? 'http first' : 'lossy first'}): http ${a.toFixed(0)} ns/frame, lossy ${b.toFixed(0)} ns/frame, ratio ${(b / a).toFixed(3)}`);
}
const sorted = [...ratios].sort((x, y) => x - y);
console.log(`median ratio ${sorted[Math.floor(sorted.length / 2)].toFixed(3)}; lossy slower in ${ratios.filter((x) => x > 1).length} of ${ratios.length} rounds`);
