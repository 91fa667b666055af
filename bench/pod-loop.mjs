#!/usr/bin/env node
// The pod model alone (packages/cluster pods.ts PodHost.answer) for a callgrind pair: TOTAL frames of 1 000 clients'
// connections as curl makes them to /clientip — SYN, ACK, GET, FIN, the last ACK (bench/pod-ab.mjs's frames and the
// ACK), five frames a connection like the http capture's — through one pod. Run it twice, TOTAL = A and B, each under
//   valgrind --tool=callgrind --callgrind-out-file=cg.N node --perf-basic-prof --no-concurrent-recompilation bench/pod-loop.mjs ROOT N
// and read the pair with bench/cg-self.py cg.A cg.B (B - A) (the perf maps in the temp directory): instructions a frame
// by function in seconds, not a pair's quarter hour; the pods' functions inline differently here than in the cluster's
// replay (getTarget, add into tcpConn and answerGet), so a change found here is then measured by the replay's pair
// (bench/README "The pods' request line and answers' numbers (session 40)"). Usage: node bench/pod-loop.mjs ROOT TOTAL
import { resolve } from 'node:path';
import { podConversations } from './pod-frames.mjs';

const root = resolve(process.argv[2] ?? '.');
const total = Number(process.argv[3] ?? 300000);
const { PodHost, pod, frames } = await podConversations(root, { lastAck: true });
const h = new PodHost(pod, 80, 65536);
let out = 0;
for (let i = 0; i < total; i++) {
  const r = h.answer(frames[i % frames.length], i);
  out += r.length;
  h.release(r);
}
console.log('replies', out, 'requests', h.requests);
