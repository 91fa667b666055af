#!/usr/bin/env node
// Memory under a long replay: a capture of SIZE bytes (default 10 GB) generated on the fly — never stored —
// streamed through replayCapture on the default scenario, RSS sampled every 5 % (each sample printed as it is
// taken, so a run stopped early still says how far it got), the growth and the slope after warm-up reported; exits 1
// if RSS grows by more than 64 MiB after the first 10 %. Workloads:
//   warm (default): 10 000 client flows repeating, 1 in 64 an ARP request (full-warm's traffic), 1 µs apart;
//   http: httpCapture's conversations (ARP, handshake, GET, the pods' answers, FIN) from 100 000 clients, at
//         --fps frames per second of capture time (default 10 000: ≈ 1 800 new connections a second, whose
//         conntrack entries live 30 s after the close — OVS's CT_TM_TCP_CLOSED — so the table holds ≈ 110 000
//         entries once the first 30 s have passed), made as they are streamed (bench/workloads.mjs httpStream:
//         templates with the fields patched, every conversation a new 4-tuple) in fresh 1 MiB buffers.
// Usage: node bench/rss-replay.mjs [--gb 10] [--workload warm|http] [--fps 10000] [--json]
import { Readable } from 'node:stream';
import { DEFAULT_CLUSTER, defaultObjects, replayCapture } from '../packages/cluster/dist/index.js';
import { httpStream, warmCapture } from './workloads.mjs';

const args = process.argv.slice(2);
const opt = (flag, dflt) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : dflt);
const gb = Number(opt('--gb', '10')) || 10;
const workload = opt('--workload', 'warm');
if (workload !== 'warm' && workload !== 'http') {
  console.error(`--workload warm|http, not ${workload}`);
  process.exit(2);
}
const total = Math.round(gb * 1e9);

function* warmChunks() {
  // One block of records repeated with advancing timestamps: 1 µs apart, like the warm workload.
  const block = warmCapture(64 * 10_000 + 1);
  const body = block.subarray(24);
  yield block.subarray(0, 24);
  let written = 24;
  let blockIndex = 0;
  while (written < total) {
    const copy = Buffer.from(body);
    // Shift every record's timestamp by the blocks before it (seconds field += blockIndex).
    let at = 0;
    while (at < copy.length) {
      copy.writeUInt32LE(copy.readUInt32LE(at) + blockIndex, at);
      at += 16 + copy.readUInt32LE(at + 8);
    }
    yield copy;
    written += copy.length;
    blockIndex++;
  }
}

const sent = { requests: 0 };
const samples = [];
const line = (s) => `${String(s.share).padStart(3)} %  ${s.frames.toLocaleString('en').padStart(14)} frames  ${String(s.seconds).padStart(6)} s  RSS ${s.rssMiB} MiB (heap ${s.heapMiB}, array buffers ${s.arrayBuffersMiB})`;
let next = 0;
const started = Date.now();
const { summary, sim } = await replayCapture(Readable.from(workload === 'http' ? httpStream(total, { fps: Number(opt('--fps', '10000')), stats: sent }) : warmChunks(), { objectMode: false }), defaultObjects(), DEFAULT_CLUSTER, {
  onProgress: (frames, bytes) => {
    if (bytes / total >= next && next <= 1.0001) {
      const m = process.memoryUsage();
      const s = { share: Math.round(next * 100), frames, seconds: Math.round((Date.now() - started) / 1000), rssMiB: Math.round(m.rss / 2 ** 20), heapMiB: Math.round(m.heapUsed / 2 ** 20), arrayBuffersMiB: Math.round(m.arrayBuffers / 2 ** 20) };
      samples.push(s);
      if (!args.includes('--json')) console.log(line(s));
      next += 0.05;
    }
  },
});
const seconds = (Date.now() - started) / 1000;
{
  // The end of the stream (the last 5 % step may fall a chunk short of the total).
  const m = process.memoryUsage();
  const s = { share: 100, frames: summary.framesRead, seconds: Math.round(seconds), rssMiB: Math.round(m.rss / 2 ** 20), heapMiB: Math.round(m.heapUsed / 2 ** 20), arrayBuffersMiB: Math.round(m.arrayBuffers / 2 ** 20) };
  if (samples.at(-1)?.share === 100) samples.pop();
  samples.push(s);
  if (!args.includes('--json')) console.log(`${line(s)} (end)`);
}
const after = samples.filter((s) => s.share >= 10).map((s) => s.rssMiB);
const growth = after.length ? Math.max(...after) - after[0] : 0;
// Least-squares slope of RSS against the share replayed, from 10 % on: MiB per 10 % of the run.
const pts = samples.filter((s) => s.share >= 10);
const mx = pts.reduce((n, s) => n + s.share, 0) / pts.length;
const my = pts.reduce((n, s) => n + s.rssMiB, 0) / pts.length;
const slope = pts.length > 1 ? (pts.reduce((n, s) => n + (s.share - mx) * (s.rssMiB - my), 0) / pts.reduce((n, s) => n + (s.share - mx) ** 2, 0)) * 10 : 0;
let requests = 0;
for (const p of sim.pods.values()) requests += p.requests;
const result = { workload, gigabytes: gb, frames: summary.framesRead, requests, ...(workload === 'http' ? { requestsSent: sent.requests } : {}), seconds, framesPerSecond: Math.round(summary.framesRead / seconds), rssAt10PercentMiB: after[0], maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), growthAfterWarmupMiB: growth, slopeMiBPer10Percent: Number(slope.toFixed(2)), samples };
if (args.includes('--json')) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`${result.frames.toLocaleString('en')} frames (${requests.toLocaleString('en')} requests served${workload === 'http' ? ` of ${sent.requests.toLocaleString('en')} sent` : ''}) in ${seconds.toFixed(0)} s (${result.framesPerSecond.toLocaleString('en')}/s); peak RSS ${result.maxRssMiB} MiB; RSS growth after the first 10 %: ${growth} MiB; slope ${result.slopeMiBPer10Percent} MiB per 10 %`);
}
process.exitCode = growth > 64 ? 1 : 0;
