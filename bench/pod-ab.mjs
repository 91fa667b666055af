#!/usr/bin/env node
// The pod model alone (packages/cluster pods.ts PodHost.answer), two trees in one process alternating rounds: 1 000
// clients' connections as curl makes them — SYN, ACK, GET /clientip, FIN — 200 000 frames a round, a fresh pod per
// round; ns per frame best and median of the rounds. Usage: node bench/pod-ab.mjs ROOT_A ROOT_B [ROUNDS]
import { resolve } from 'node:path';

const roots = process.argv.slice(2, 4).map((r) => resolve(r));
const rounds = Number(process.argv[4] ?? 8);
const N = 200000;
async function load(root) {
  const { PodHost } = await import(`${root}/packages/cluster/dist/pods.js`);
  const { buildFrame } = await import(`${root}/packages/wire/dist/index.js`);
  const { podIsn } = await import(`${root}/bench/workloads.mjs`);
  const pod = { name: 'nginx-abc', node: 'node1', mac: '0a:58:0a:10:00:05', ip: '10.16.0.5', lsp: 'x' };
  const mk = () => new PodHost(pod, 80, 65536);
  const GET = Buffer.from('GET /clientip HTTP/1.1\r\nHost: 172.18.0.100\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n', 'latin1');
  // Frames for 1000 clients: SYN, ACK, GET, FIN
  const frames = [];
  for (let c = 0; c < 1000; c++) {
    const src = `192.168.${c >> 8}.${c & 255}`;
    const sport = 30000 + c;
    const base = { dst: '0a:58:0a:10:00:05', src: '02:00:00:00:00:01', ipv4: { src, dst: '10.16.0.5' } };
    const seq = 1000;
    // The tree's own ISN rule (its bench/workloads.mjs podIsn: 31 bits before session 16, 32 since), for its ACKs to match.
    const isn = podIsn(((192 << 24) | (168 << 16) | c) >>> 0, sport);
    frames.push(buildFrame({ ...base, tcp: { srcPort: sport, dstPort: 80, seq, ack: 0, flags: 0x02 } }));
    frames.push(buildFrame({ ...base, tcp: { srcPort: sport, dstPort: 80, seq: seq + 1, ack: (isn + 1) >>> 0, flags: 0x10 } }));
    frames.push(buildFrame({ ...base, tcp: { srcPort: sport, dstPort: 80, seq: seq + 1, ack: (isn + 1) >>> 0, flags: 0x18, payload: GET } }));
    frames.push(buildFrame({ ...base, tcp: { srcPort: sport, dstPort: 80, seq: seq + 1 + GET.length, ack: (isn + 1 + 200) >>> 0, flags: 0x11 } }));
  }
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
