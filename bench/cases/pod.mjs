// The pod model alone (packages/cluster pods.ts PodHost.answer, as the datapath calls it: answer, then release):
// what a pod receives of the http workload — per connection SYN, ACK, GET /clientip, the ACK of the response, FIN|ACK, 64 connections
// interleaved at a time from 2 000 clients (beyond the access log's 256 counted ones, as http's 100 000 are) — and
// answers (SYN-ACK, response with FIN, ACK of the FIN). For instruction counts of a pod's answer:
//   node bench/icount.mjs --callgrind OUT --driver case ROOT pod-answer 100000 2 0,2
import { buildFrame } from '../../packages/wire/dist/index.js';
import { PodHost } from '../../packages/cluster/dist/pods.js';
import { podIsn } from '../workloads.mjs';

const POD = { name: 'deploy-169402624-0', node: 'node1', mac: '00:00:00:0a:0b:01', ip: '10.180.204.2', lsp: 'x' };
const GET = Buffer.from('GET /clientip HTTP/1.1\r\nHost: 10.180.204.252\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n', 'latin1');

function frames(n) {
  const out = [];
  const concurrent = 64;
  // The last group as many conversations as the frames left hold (n a multiple of 5): every connection the case
  // opens it closes, so its runs on one pod repeat the same answers (a conversation cut after its SYN left open
  // would meet its SYN again in the next run, which a connection open gets a challenge ACK for, as on Linux).
  for (let conv = 0, group = concurrent; out.length < n; conv += group) {
    group = Math.min(concurrent, Math.max(1, Math.floor((n - out.length) / 5)));
    const steps = [];
    for (let k = 0; k < group; k++) {
      const c = (conv + k) % 2000;
      const ip = ((10 << 24) | (181 << 16) | c) >>> 0;
      const sport = 32768 + ((conv + k) / 2000 | 0) % 28000;
      const seq = Math.imul(conv + k + 1, 0x9e3779b1) >>> 0;
      const isn = podIsn(ip, sport);
      const resp = 56 + 2 + `10.181.${c >> 8}.${c & 255}:${sport}`.length + 2;
      const base = { dst: POD.mac, src: '00:00:00:3c:5a:01', ipv4: { src: `10.181.${c >> 8}.${c & 255}`, dst: POD.ip } };
      const tcp = (flags, s, a, payload) => buildFrame({ ...base, tcp: { srcPort: sport, dstPort: 80, flags, seq: s >>> 0, ack: a >>> 0, window: 64240, ...(payload ? { payload } : {}) } });
      steps.push([
        tcp(0x02, seq, 0),
        tcp(0x10, seq + 1, isn + 1),
        tcp(0x18, seq + 1, isn + 1, GET),
        tcp(0x10, seq + 1 + GET.length, isn + 1 + resp + 1),
        tcp(0x11, seq + 1 + GET.length, isn + 1 + resp + 1),
      ]);
    }
    for (let s = 0; s < 5; s++) for (const st of steps) out.push(st[s]);
  }
  return out.slice(0, n);
}

export default {
  name: 'pod-answer',
  setup: ({ frames: n }) => ({ frames: frames(n), pod: new PodHost(POD, 80, 65536) }),
  run(state) {
    const { frames: fs, pod } = state;
    let replies = 0;
    for (let i = 0; i < fs.length; i++) {
      const r = pod.answer(fs[i], i);
      replies += r.length;
      pod.release(r);
    }
    const conns = fs.length / 5;
    if (replies !== conns * 3 || pod.ignoredCode !== undefined) throw new Error(`${replies} answers to ${conns} connections (3 each expected)`);
    return fs.length;
  },
};
