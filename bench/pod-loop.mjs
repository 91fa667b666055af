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

const root = resolve(process.argv[2] ?? '.');
const total = Number(process.argv[3] ?? 300000);
const { PodHost } = await import(`${root}/packages/cluster/dist/pods.js`);
const { buildFrame } = await import(`${root}/packages/wire/dist/index.js`);
const { podIsn } = await import(`${root}/bench/workloads.mjs`);
const pod = { name: 'nginx-abc', node: 'node1', mac: '0a:58:0a:10:00:05', ip: '10.16.0.5', lsp: 'x' };
const GET = Buffer.from('GET /clientip HTTP/1.1\r\nHost: 172.18.0.100\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n', 'latin1');
const frames = [];
for (let c = 0; c < 1000; c++) {
  const src = `192.168.${c >> 8}.${c & 255}`;
  const sport = 30000 + c;
  const base = { dst: '0a:58:0a:10:00:05', src: '02:00:00:00:00:01', ipv4: { src, dst: '10.16.0.5' } };
  const seq = 1000;
  const isn = podIsn(((192 << 24) | (168 << 16) | c) >>> 0, sport);
  frames.push(buildFrame({ ...base, tcp: { srcPort: sport, dstPort: 80, seq, ack: 0, flags: 0x02 } }));
  frames.push(buildFrame({ ...base, tcp: { srcPort: sport, dstPort: 80, seq: seq + 1, ack: (isn + 1) >>> 0, flags: 0x10 } }));
  frames.push(buildFrame({ ...base, tcp: { srcPort: sport, dstPort: 80, seq: seq + 1, ack: (isn + 1) >>> 0, flags: 0x18, payload: GET } }));
  frames.push(buildFrame({ ...base, tcp: { srcPort: sport, dstPort: 80, seq: seq + 1 + GET.length, ack: (isn + 1 + 200) >>> 0, flags: 0x11 } }));
  frames.push(buildFrame({ ...base, tcp: { srcPort: sport, dstPort: 80, seq: seq + 2 + GET.length, ack: (isn + 1 + 200) >>> 0, flags: 0x10 } }));
}
const h = new PodHost(pod, 80, 65536);
let out = 0;
for (let i = 0; i < total; i++) {
  const r = h.answer(frames[i % frames.length], i);
  out += r.length;
  h.release(r);
}
console.log('replies', out, 'requests', h.requests);
