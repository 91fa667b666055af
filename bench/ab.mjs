#!/usr/bin/env node
// Two builds in one process, alternating short runs, CPU time per frame (best and median of the rounds): on a
// machine whose load moves separate runs by 20–40 %, both builds then see the same load. BASE and NEW are roots
// of built checkouts. Usage:
//   node bench/ab.mjs BASE NEW ct-new|ct-est|full-cold|full-warm|cold-misses|http|http-lossy|http6|replay|replay-out [FRAMES] [ROUNDS]
// http-lossy: the http workload with LOSSY_MIX (bench/workloads.mjs; each root's own, as http's).
// http6: the http workload over IPv6 on the dual-stack scenario (bench/cases/http.mjs; capture and scenario this tree's).
// cold-misses: the cold capture's frames from clients on the VLAN only (their ARP and first SYN: the misses).
// replay / replay-out: the http capture from a file through each root's replayCapture (what `vippath replay` runs),
// without outputs / with --out at the default level.
// --hold-maps K (anywhere; full-cold, full-warm, cold-misses, http, http-lossy): per root, a cluster that replayed the
// capture's first K frames is kept for the process, so a run's code is not optimized again after the previous run's
// cluster is collected (bench/replay-loop.mjs holdMaps; bench/README "Every run compiled again (session 20)"). Made
// with each root's own replayInMemory, so it works with roots from before that option.
import { resolve } from 'node:path';

const argv = process.argv.slice(2);
const holdAt = argv.indexOf('--hold-maps');
const holdArg = holdAt < 0 ? '0' : argv.splice(holdAt, 2)[1];
const holdMaps = Number(holdArg);
if (holdArg === undefined || !Number.isInteger(holdMaps) || holdMaps < 0) throw new RangeError(`--hold-maps takes a frame count ≥ 0, not ${holdArg}`);
const [baseArg, nextArg, kase = 'ct-est', framesArg, roundsArg] = argv;
// Roots as given on the command line, relative to where it runs (a dynamic import would resolve a relative path
// against this file's directory).
const base = baseArg && resolve(baseArg);
const next = nextArg && resolve(nextArg);
if (!base || !next) {
  console.error('usage: node bench/ab.mjs BASE NEW ct-new|ct-est|full-cold|full-warm|cold-misses|http|http-lossy|http6|replay|replay-out [FRAMES] [ROUNDS]');
  process.exit(2);
}
const ct = kase.startsWith('ct-');
if (holdMaps > 0 && (ct || kase === 'replay' || kase === 'replay-out' || kase === 'http6')) throw new Error(`--hold-maps is not implemented for ${kase}`);
const frames = Number(framesArg ?? (kase === 'ct-est' ? 200000 : ct ? 100000 : 50000));
const rounds = Number(roundsArg ?? (ct ? 20 : 6));

async function load(root) {
  if (ct) {
    const c = (await import(`${root}/bench/cases/conntrack.mjs`)).default.find((x) => x.name === kase);
    const s = await c.setup({ frames });
    c.run(s);
    return { run: () => c.run(s), t: [] };
  }
  const w = await import(`${root}/bench/workloads.mjs`);
  if (kase === 'replay' || kase === 'replay-out') {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { replayCapture, defaultObjects, DEFAULT_CLUSTER } = await import(`${root}/packages/cluster/dist/index.js`);
    const dir = mkdtempSync(join(tmpdir(), 'vippath-ab-'));
    const file = join(dir, 'capture.pcap');
    writeFileSync(file, w.httpCapture(frames).capture);
    const options = kase === 'replay-out' ? { outDir: join(dir, 'out') } : {};
    const run = async () => (await replayCapture(file, defaultObjects(), DEFAULT_CLUSTER, options)).summary.framesRead;
    await run();
    return { run, t: [], dir };
  }
  if (kase === 'http6') {
    // The capture and the dual-stack scenario are this tree's (an older root has neither); the simulation is each root's.
    const { http6Capture } = await import(new URL("./workloads.mjs", import.meta.url).href);
    const { DUAL_SCENARIO } = await import(new URL("./cases/http.mjs", import.meta.url).href);
    const { SimulatedCluster } = await import(`${root}/packages/cluster/dist/index.js`);
    const { CaptureCursor, Next } = await import(`${root}/packages/pcap/dist/index.js`);
    const capture = http6Capture(frames, { ownerMac: DUAL_SCENARIO.ownerMac }).capture;
    const run = () => {
      const sim = new SimulatedCluster(DUAL_SCENARIO.objects(), DUAL_SCENARIO.cluster, { trace: false });
      const cursor = new CaptureCursor();
      cursor.feed(capture, true);
      let n = 0;
      let t0;
      while (cursor.next() === Next.RECORD) {
        const ms = cursor.seconds * 1000 + cursor.nanos / 1e6;
        t0 ??= ms;
        sim.processAt(cursor.buffer, cursor.dataOffset, cursor.captureLength, ms - t0);
        n++;
      }
      return n;
    };
    run();
    return { run, t: [] };
  }
  const { replayInMemory } = await import(`${root}/bench/replay-loop.mjs`);
  // Each root's own workload: full-cold's differs before session 7 (bench/README "Cold path (session 7)").
  const capture = kase === 'full-cold' || kase === 'cold-misses' ? w.coldCapture(frames) : kase === 'full-warm' ? w.warmCapture(frames) : kase === 'http-lossy' ? w.httpCapture(frames, { mix: w.LOSSY_MIX }).capture : w.httpCapture(frames).capture;
  // Frames whose source MAC is not the gateway's (52:54:00:ee:00:01): the on-link clients'.
  const keep = kase === 'cold-misses' ? (buf, at) => buf[at + 9] !== 0xee : undefined;
  let held = 0;
  const anchor = holdMaps > 0 ? replayInMemory(capture, (buf, at, len) => (!keep || keep(buf, at, len)) && held++ < holdMaps).sim : undefined;
  const n = replayInMemory(capture, keep).frames;
  return { run: () => (replayInMemory(capture, keep), n), t: [], anchor };
}

const a = await load(base);
const b = await load(next);
for (let r = 0; r < rounds; r++) {
  for (const x of r % 2 ? [a, b] : [b, a]) {
    const c0 = process.cpuUsage();
    const n = await x.run();
    const c = process.cpuUsage(c0);
    x.t.push(((c.user + c.system) * 1000) / n);
  }
}
// Round by round (a round's two runs are next to each other in time): the median of NEW's ratios to BASE and the
// rounds NEW was faster in — a load that drifts over the rounds moves both runs of a round.
const ratios = b.t.map((t, r) => t / a.t[r]).sort((p, q) => p - q);
const faster = b.t.filter((t, r) => t < a.t[r]).length;
const stat = (t) => {
  t.sort((p, q) => p - q);
  return { bestNs: Math.round(t[0]), medianNs: Math.round(t[t.length >> 1]) };
};
console.log(JSON.stringify({ case: kase, frames, rounds, base: stat(a.t), new: stat(b.t), newToBase: Number(ratios[ratios.length >> 1].toFixed(3)), newFasterRounds: `${faster}/${rounds}` }));
const { rmSync } = await import('node:fs');
for (const x of [a, b]) if (x.dir) rmSync(x.dir, { recursive: true, force: true });
