#!/usr/bin/env node
// Memory under a long replay: a capture of SIZE bytes (default 10 GB) generated on the fly — never stored —
// streamed through replayCapture on the default scenario (10 000 client flows repeating, 1 in 64 an ARP request,
// as in full-warm). Prints RSS every 5 % and the growth after warm-up; exits 1 if RSS grows by more than 64 MiB
// after the first 10 %. Usage: node bench/rss-replay.mjs [--gb 10] [--json]
import { Readable } from 'node:stream';
import { DEFAULT_CLUSTER, defaultObjects, replayCapture } from '../packages/cluster/dist/index.js';
import { warmCapture } from './workloads.mjs';

const args = process.argv.slice(2);
const gb = Number(args[args.indexOf('--gb') + 1] ?? 10) || 10;
const total = Math.round(gb * 1e9);
// One block of records repeated with advancing timestamps: 1 µs apart, like the warm workload.
const block = warmCapture(64 * 10_000 + 1);
const header = block.subarray(0, 24);
const body = block.subarray(24);
const perBlock = 64 * 10_000 + 1;

function* chunks() {
  yield header;
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

const samples = [];
let next = 0;
const started = Date.now();
const { summary } = await replayCapture(Readable.from(chunks(), { objectMode: false }), defaultObjects(), DEFAULT_CLUSTER, {
  onProgress: (frames, bytes) => {
    if (bytes / total >= next && next <= 1.0001) {
      samples.push({ share: Math.round(next * 100), frames, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) });
      next += 0.05;
    }
  },
});
const seconds = (Date.now() - started) / 1000;
const after = samples.filter((s) => s.share >= 10).map((s) => s.rssMiB);
const growth = after.length ? Math.max(...after) - after[0] : 0;
const result = { gigabytes: gb, frames: summary.framesRead, seconds, framesPerSecond: Math.round(summary.framesRead / seconds), rssAt10PercentMiB: after[0], maxRssMiB: Math.max(...samples.map((s) => s.rssMiB)), growthAfterWarmupMiB: growth, samples };
if (args.includes('--json')) console.log(JSON.stringify(result, null, 2));
else {
  for (const s of samples) console.log(`${String(s.share).padStart(3)} %  ${s.frames.toLocaleString('en').padStart(14)} frames  RSS ${s.rssMiB} MiB`);
  console.log(`${result.frames.toLocaleString('en')} frames in ${seconds.toFixed(0)} s (${result.framesPerSecond.toLocaleString('en')}/s); RSS growth after the first 10 %: ${growth} MiB`);
}
process.exitCode = growth > 64 ? 1 : 0;
