#!/usr/bin/env node
// Which stores a replay writes, and how much: the typed-array storage reachable from a SimulatedCluster after one
// replay of a capture, per object path (a Map's keys and arrays' indexes folded), as bytes allocated and 4 KiB pages
// holding a non-zero byte — about the pages first written (a page written only with zeros is missed), deduplicated
// by ArrayBuffer (the conntrack reservation's columns are views of one). With the engine's and pods' counts, so a
// store's pages ÷ connections is its bytes per connection (bench/README "A new connection, end to end (session 16)").
//   node --max-old-space-size=4000 bench/store-pages.mjs ROOT [cold|http] [FRAMES]
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [rootArg = '.', kind = 'cold', frames = '100000'] = process.argv.slice(2);
const root = resolve(rootArg);
const { replayInMemory } = await import(pathToFileURL(`${root}/bench/replay-loop.mjs`).href);
const W = await import(pathToFileURL(`${root}/bench/workloads.mjs`).href);
const capture = kind === 'http' ? W.httpCapture(Number(frames)).capture : W.coldCapture(Number(frames));
const { sim } = replayInMemory(capture);

const seen = new Set();
const bufs = new Map();
function walk(o, path, depth) {
  if (o === null || typeof o !== 'object' || seen.has(o) || depth > 12) return;
  seen.add(o);
  if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer) {
    const b = o instanceof ArrayBuffer ? o : o.buffer;
    if (!bufs.has(b)) bufs.set(b, path);
    return;
  }
  if (o instanceof Map) {
    let i = 0;
    for (const v of o.values()) {
      walk(v, `${path}{}`, depth + 1);
      if (++i > 64) break;
    }
    return;
  }
  if (Array.isArray(o)) {
    for (let i = 0; i < Math.min(o.length, 64); i++) walk(o[i], `${path}[]`, depth + 1);
    return;
  }
  for (const k of Object.getOwnPropertyNames(o)) {
    let v;
    try {
      v = o[k];
    } catch {
      continue;
    }
    walk(v, `${path}.${k}`, depth + 1);
  }
}
walk(sim, 'sim', 0);
const rows = new Map();
for (const [b, path] of bufs) {
  if (b instanceof SharedArrayBuffer) continue;
  const u = new Uint8Array(b);
  let pages = 0;
  for (let i = 0; i < u.length; i += 4096) {
    const end = Math.min(u.length, i + 4096);
    for (let j = i; j < end; j++) {
      if (u[j] !== 0) {
        pages++;
        break;
      }
    }
  }
  const r = rows.get(path) ?? { bytes: 0, pages: 0, n: 0 };
  r.bytes += b.byteLength;
  r.pages += pages;
  r.n++;
  rows.set(path, r);
}
for (const [path, r] of [...rows].sort((a, b) => b[1].pages - a[1].pages).slice(0, 30)) {
  console.log(`${String(r.pages).padStart(7)} pages ${(r.bytes / 1048576).toFixed(2).padStart(8)} MiB ×${r.n}  ${path}`);
}
const ct = sim.ls?.executor?.ct?.inner;
if (ct) console.log(`conntrack: ${ct.nConns} connections, pool ${ct.capacity}`);
for (const [name, p] of sim.pods ?? []) console.log(`pod ${name}: ${p.conns?.size ?? '?'} connections`);
