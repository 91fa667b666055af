#!/usr/bin/env node
// The files a replay writes, as sha256 per file, to show that a change to the output writers left them byte for byte
// as they were (bench/outputs-hash.mjs covers the datapath; this covers replayCapture's outputs: wire.pcapng,
// nodes.pcapng, trace.jsonl, summary.json and the HTML report):
//   node bench/replay-files.mjs [--frames N] ROOT [ROOT2]
// Each ROOT's built packages replay the same captures — made once by the first ROOT's bench/workloads.mjs into a
// temporary directory: http (N frames, default 100 000), http-lossy (N), full-cold's SYNs (N / 2), and every capture
// in test/fixtures — at each trace level (none, summary, detailed; detailed on the first 5 000 frames of the
// generated ones: ≈ 10 KB a frame), with `capturePorts` at its default (none), `pods` and `all`, the bundled capture
// also pinned to a node's NIC, with the cluster's own frames injected and with the report. Prints one line per file;
// with two roots, each file's hash on both and `ok` or `DIFF`, and exits 1 on any difference.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
let frames = 100_000;
const fi = args.indexOf('--frames');
if (fi >= 0) {
  frames = Number(args[fi + 1]);
  args.splice(fi, 2);
}
const roots = args.map((r) => resolve(r));
if (roots.length < 1 || roots.length > 2 || !(frames > 0)) {
  console.error('usage: node bench/replay-files.mjs [--frames N] ROOT [ROOT2]');
  process.exit(2);
}
const url = (root, p) => pathToFileURL(join(root, p)).href;
const work = mkdtempSync(join(tmpdir(), 'vippath-replay-files-'));

/** The first `n` records of a classic pcap (the generated captures are classic, little-endian). */
const head = (cap, n) => {
  let at = 24;
  for (let i = 0; i < n && at < cap.length; i++) at += 16 + cap.readUInt32LE(at + 8);
  return cap.subarray(0, at);
};

const { httpCapture, coldCapture, LOSSY_MIX } = await import(url(roots[0], 'bench/workloads.mjs'));
const captures = [];
const put = (name, bytes) => {
  const file = join(work, name);
  writeFileSync(file, bytes);
  captures.push({ name, file });
  return file;
};
const http = Buffer.from(httpCapture(frames).capture);
const lossy = Buffer.from(httpCapture(frames, { mix: LOSSY_MIX }).capture);
const cold = Buffer.from(coldCapture(Math.ceil(frames / 2)));
put('http.pcap', http);
put('lossy.pcap', lossy);
put('cold.pcap', cold);
const small = [put('http-5k.pcap', head(http, 5000)), put('lossy-5k.pcap', head(lossy, 5000)), put('cold-5k.pcap', head(cold, 5000))];
const fixtures = join(roots[0], 'test/fixtures');
const fixtureFiles = readdirSync(fixtures).filter((f) => /\.pcapng?$/.test(f)).map((f) => join(fixtures, f));

// [label, capture, options]
const runs = [];
for (const c of captures.filter((c) => !small.includes(c.file))) {
  runs.push([`${c.name} summary`, c.file, {}]);
  runs.push([`${c.name} none`, c.file, { trace: 'none' }]);
  runs.push([`${c.name} summary pods`, c.file, { capturePorts: ['pods'] }]);
  runs.push([`${c.name} summary all`, c.file, { capturePorts: ['all'] }]);
}
for (const f of small) runs.push([`${f.split('/').pop()} detailed all`, f, { trace: 'detailed', capturePorts: ['all'] }]);
for (const f of fixtureFiles) {
  const n = f.split('/').pop();
  runs.push([`${n} summary`, f, {}]);
  runs.push([`${n} detailed all`, f, { trace: 'detailed', capturePorts: ['all'] }]);
  runs.push([`${n} none pods+report`, f, { trace: 'none', capturePorts: ['pods'], report: true }]);
}
const bundled = join(fixtures, 'vip-ipv4.pcap');
runs.push(['vip-ipv4.pcap ingress node3', bundled, { ingress: 'node3', capturePorts: ['node3'] }]);
runs.push(['vip-ipv4.pcap cluster frames', bundled, { includeClusterFrames: true, trace: 'detailed', capturePorts: ['*/underlay0.341'] }]);

const hashes = roots.map(() => new Map());
for (let r = 0; r < roots.length; r++) {
  const cl = await import(url(roots[r], 'packages/cluster/dist/index.js'));
  for (const [label, file, opts] of runs) {
    const outDir = join(work, `out-${r}`);
    rmSync(outDir, { recursive: true, force: true });
    const report = opts.report ? join(work, `report-${r}.html`) : undefined;
    const { report: _, ...rest } = opts;
    let error = '';
    try {
      await cl.replayCapture(file, cl.defaultObjects(), cl.DEFAULT_CLUSTER, { ...rest, outDir, ...(report ? { report } : {}) });
    } catch (e) {
      error = `${e?.code ?? ''} ${e?.message ?? e}`;
    }
    const files = readdirSync(outDir).sort().map((f) => [f, join(outDir, f)]);
    if (report) files.push(['report.html', report]);
    if (error) hashes[r].set(`${label} error`, error);
    for (const [f, path] of files) {
      const bytes = readFileSync(path);
      hashes[r].set(`${label} ${f}`, `${createHash('sha256').update(bytes).digest('hex').slice(0, 16)} ${bytes.length}`);
    }
    if (roots.length === 1) for (const [f] of files) console.log(`${label} ${f} ${hashes[r].get(`${label} ${f}`)}`);
  }
}
rmSync(work, { recursive: true, force: true });
if (roots.length === 2) {
  let bad = 0;
  const keys = new Set([...hashes[0].keys(), ...hashes[1].keys()]);
  for (const k of keys) {
    const a = hashes[0].get(k);
    const b = hashes[1].get(k);
    const same = a === b;
    if (!same) bad++;
    console.log(`${same ? 'ok  ' : 'DIFF'} ${k} ${a ?? '(none)'}${same ? '' : ` | ${b ?? '(none)'}`}`);
  }
  console.log(`${keys.size} files, ${bad} differ`);
  process.exit(bad ? 1 : 0);
}
