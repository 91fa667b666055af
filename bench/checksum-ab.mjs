#!/usr/bin/env node
// wire's checksum sums of two built trees in one process, alternating (CPU time): an IPv4 header (internetChecksum
// of 20 bytes) and a 32-byte TCP segment's sum (sumWords, then foldSum) per frame, over 4 096 frames of 74 bytes.
// Usage: node bench/checksum-ab.mjs ROOT_A ROOT_B [ROUNDS]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [a, b, roundsArg = '12'] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node bench/checksum-ab.mjs ROOT_A ROOT_B [ROUNDS]');
  process.exit(2);
}
const load = (root) => import(pathToFileURL(join(root, 'packages/wire/dist/checksum.js')).href);
const trees = [
  { root: a, m: await load(a), ns: [] },
  { root: b, m: await load(b), ns: [] },
];
const N = 4096;
const bufs = [];
for (let i = 0; i < N; i++) {
  const buf = new Uint8Array(74);
  for (let j = 0; j < 74; j++) buf[j] = (i * 31 + j * 7) & 255;
  bufs.push(buf);
}
const FRAMES = 4_000_000;
let sink = 0;
const run = (m) => {
  const t = process.cpuUsage();
  for (let k = 0; k < FRAMES; k++) {
    const buf = bufs[k & (N - 1)];
    sink += m.internetChecksum(buf, 14, 20) + m.foldSum(m.sumWords(buf, 34, 32, 0x1234 + (k & 0xffff)));
  }
  const c = process.cpuUsage(t);
  return ((c.user + c.system) * 1000) / FRAMES;
};
for (let r = 0; r < Number(roundsArg); r++) for (const t of r % 2 ? [...trees].reverse() : trees) t.ns.push(run(t.m));
for (const t of trees) {
  const s = [...t.ns].sort((x, y) => x - y);
  console.log(JSON.stringify({ case: 'checksum', root: t.root, bestNs: +s[0].toFixed(1), medianNs: +s[s.length >> 1].toFixed(1), sink: sink & 1 }));
}
