#!/usr/bin/env node
// The pod model alone (packages/cluster pods.ts PodHost.answer), two trees in one process alternating rounds: 1 000
// clients' connections as curl makes them — SYN, ACK, GET /clientip, FIN — 200 000 frames a round, a fresh pod per
// round; ns per frame best and median of the rounds. Usage: node bench/pod-ab.mjs ROOT_A ROOT_B [ROUNDS]
import { resolve } from 'node:path';
import { podConversations } from './pod-frames.mjs';

const roots = process.argv.slice(2, 4).map((r) => resolve(r));
const rounds = Number(process.argv[4] ?? 8);
const N = 200000;
async function load(root) {
  const { PodHost, pod, frames } = await podConversations(root);
  const mk = () => new PodHost(pod, 80, 65536);
  return { mk, frames };
}
const L = [];
for (const r of roots) L.push(await load(r));
const res = roots.map(() => []);
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < L.length; k++) {
    const { mk, frames } = L[k];
    const h = mk();
    let out = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const f = frames[i % frames.length];
      const r = h.answer(f, i);
      out += r.length;
      h.release(r);
    }
    res[k].push(Number(process.hrtime.bigint() - t0) / N);
    if (round === 0) console.log(roots[k], 'replies', out, 'requests', h.requests);
  }
}
for (let k = 0; k < L.length; k++) { const s = [...res[k]].sort((a, b) => a - b); console.log(roots[k], 'ns/frame best', s[0].toFixed(1), 'median', s[s.length >> 1].toFixed(1)); }
