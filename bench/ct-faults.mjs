#!/usr/bin/env node
// Page faults of a whole-path case's replays, and the conntrack's share of them: each replay of CASE (http,
// full-cold, …) in one process after a warm-up, the minor faults of the replay (getrusage) and of the calls into
// the conntrack engines (execute, executeHinted, sweep, flush wrapped on the prototype: one getrusage pair per
// call, ≈ 1 µs each — the times printed are not the case's), the connections the engines hold at the end and their
// pools. Usage: node --expose-gc bench/ct-faults.mjs CASE [FRAMES] [REPLAYS] [ROOT]
import { pathToFileURL } from 'node:url';
const [name = 'http', framesArg = '200000', replaysArg = '3', root = new URL('..', import.meta.url).pathname] = process.argv.slice(2);
const frames = Number(framesArg);
const { OvsConntrack } = await import(pathToFileURL(`${root}/packages/ovn/dist/index.js`).href);
const kases = [];
for (const f of ['full.mjs', 'http.mjs']) kases.push(...[(await import(pathToFileURL(`${root}/bench/cases/${f}`).href)).default].flat());
const kase = kases.find((c) => c.name === name);
if (!kase) throw new Error(`no case ${name}`);
const { vipTcpCapture } = await import(pathToFileURL(`${root}/bench/input.mjs`).href);
let capture;
const state = await kase.setup({ frames, get capture() { return (capture ??= vipTcpCapture(frames)); } });
let inCt = 0;
const engines = new Set();
const P = OvsConntrack.prototype;
for (const m of ['execute', 'executeHinted', 'sweep', 'flush']) {
  const f = P[m];
  P[m] = function (...a) {
    engines.add(this);
    const r0 = process.resourceUsage().minorPageFault;
    const r = f.apply(this, a);
    inCt += process.resourceUsage().minorPageFault - r0;
    return r;
  };
}
const out = [];
for (let r = 0; r <= Number(replaysArg); r++) {
  globalThis.gc?.();
  engines.clear();
  inCt = 0;
  const f0 = process.resourceUsage().minorPageFault;
  const c0 = process.cpuUsage();
  const n = await kase.run(state);
  const c = process.cpuUsage(c0);
  const total = process.resourceUsage().minorPageFault - f0;
  const ens = [...engines];
  const row = { replay: r, frames: n, faults: total, ctFaults: inCt, cpuMs: Math.round((c.user + c.system) / 1000), engines: ens.length, conns: ens.reduce((s, e) => s + e.size, 0), pools: ens.map((e) => e.poolCapacity).join('+') };
  if (r > 0) out.push(row);
  console.log(JSON.stringify(row));
}
const med = (k) => { const s = out.map((o) => o[k]).sort((a, b) => a - b); return s[s.length >> 1]; };
console.log(JSON.stringify({ case: name, frames, median: { faults: med('faults'), ctFaults: med('ctFaults'), bytesPerConn: Math.round((med('ctFaults') * 4096) / med('conns')) } }));
