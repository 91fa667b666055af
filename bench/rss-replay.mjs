#!/usr/bin/env node
// Memory under a long replay: a capture of SIZE bytes (default 10 GB) generated on the fly — never stored —
// streamed through replayCapture on the default scenario, RSS sampled every 5 %, the growth after warm-up
// reported; exits 1 if RSS grows by more than 64 MiB after the first 10 %. Workloads:
//   warm (default): 10 000 client flows repeating, 1 in 64 an ARP request (full-warm's traffic), 1 µs apart;
//   http: httpCapture's conversations (ARP, handshake, GET, the pods' answers, FIN) from 100 000 clients, at
//         --fps frames per second of capture time (default 10 000: ≈ 2 000 new connections a second, whose
//         conntrack entries live 30 s after the close — OVS's CT_TM_TCP_CLOSED — so the table holds ≈ 120 000
//         entries once the first 30 s have passed). A block of --block frames (default 500 000, 45 MB, ≥ 50 s
//         of capture time so that a 4-tuple meets its old entry only after that expired) is made once and
//         repeated with advancing timestamps; the generator holds it, and hands out 1 MiB copies.
// Usage: node bench/rss-replay.mjs [--gb 10] [--workload warm|http] [--fps 10000] [--block 500000] [--json]
import { Readable } from 'node:stream';
import { DEFAULT_CLUSTER, defaultObjects, replayCapture } from '../packages/cluster/dist/index.js';
import { httpCapture, warmCapture } from './workloads.mjs';

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

function* httpChunks() {
  const fps = Number(opt('--fps', '10000'));
  const perBlock = Number(opt('--block', '500000'));
  const block = httpCapture(perBlock).capture;
  yield Buffer.from(block.subarray(0, 24));
  const body = block.subarray(24);
  let written = 24;
  let index = 0;
  const slice = 1 << 20;
  while (written < total) {
    // The block again, its records `index` onwards in capture time (`fps` a second), handed out in 1 MiB
    // copies cut at record boundaries.
    let at = 0;
    while (at < body.length && written < total) {
      let end = at;
      while (end < body.length && end - at < slice) end += 16 + body.readUInt32LE(end + 8);
      const copy = Buffer.from(body.subarray(at, end));
      for (let r = 0; r < copy.length; r += 16 + copy.readUInt32LE(r + 8), index++) {
        const us = Math.round((index * 1e6) / fps);
        copy.writeUInt32LE(1_700_000_000 + Math.floor(us / 1e6), r);
        copy.writeUInt32LE(us % 1e6, r + 4);
      }
      yield copy;
      written += copy.length;
      at = end;
    }
  }
}

const samples = [];
let next = 0;
const started = Date.now();
const { summary, sim } = await replayCapture(Readable.from(workload === 'http' ? httpChunks() : warmChunks(), { objectMode: false }), defaultObjects(), DEFAULT_CLUSTER, {
  onProgress: (frames, bytes) => {
    if (bytes / total >= next && next <= 1.0001) {
      const m = process.memoryUsage();
      samples.push({ share: Math.round(next * 100), frames, rssMiB: Math.round(m.rss / 2 ** 20), heapMiB: Math.round(m.heapUsed / 2 ** 20), arrayBuffersMiB: Math.round(m.arrayBuffers / 2 ** 20) });
      next += 0.05;
    }
  },
});
const seconds = (Date.now() - started) / 1000;
const after = samples.filter((s) => s.share >= 10).map((s) => s.rssMiB);
const growth = after.length ? Math.max(...after) - after[0] : 0;
let requests = 0;
for (const p of sim.pods.values()) requests += p.requests;
const result = { workload, gigabytes: gb, frames: summary.framesRead, requests, seconds, framesPerSecond: Math.round(summary.framesRead / seconds), rssAt10PercentMiB: after[0], maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), growthAfterWarmupMiB: growth, samples };
if (args.includes('--json')) console.log(JSON.stringify(result, null, 2));
else {
  for (const s of samples) console.log(`${String(s.share).padStart(3)} %  ${s.frames.toLocaleString('en').padStart(14)} frames  RSS ${s.rssMiB} MiB (heap ${s.heapMiB}, array buffers ${s.arrayBuffersMiB})`);
  console.log(`${result.frames.toLocaleString('en')} frames (${requests.toLocaleString('en')} requests served) in ${seconds.toFixed(0)} s (${result.framesPerSecond.toLocaleString('en')}/s); peak RSS ${result.maxRssMiB} MiB; RSS growth after the first 10 %: ${growth} MiB`);
}
process.exitCode = growth > 64 ? 1 : 0;
