#!/usr/bin/env node
// What the whole-path caches (the way-in flow cache, the way-back table and the programs their entries share)
// hold after an http replay: the heap with them and after emptying their tables, per entry. Internal fields are
// reached by name (a diagnosis, not an API). Usage: node --expose-gc bench/cache-mem.mjs [ROOT] [FRAMES]
const [root = new URL('..', import.meta.url).pathname, framesArg = '300000'] = process.argv.slice(2);
const frames = Number(framesArg);
const w = await import(`${root}/bench/workloads.mjs`);
const { replayInMemory } = await import(`${root}/bench/replay-loop.mjs`);
const { sim } = replayInMemory(w.httpCapture(frames).capture);
const st = sim.cacheStats();
const settle = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const before = settle();
const c = sim.caches;
const empty = (t) => {
  if (!t) return;
  t.map?.clear();
  t.oldest = t.newest = undefined;
};
empty(c.flows.table);
empty(c.backs);
empty(c.inPrograms?.table);
empty(c.backPrograms?.table);
const after = settle();
const mib = (x) => (x / 2 ** 20).toFixed(2);
console.log(JSON.stringify({ frames, entries: st.entries, backEntries: st.backEntries, heapMiB: mib(before), cachesMiB: mib(before - after), bytesPerEntry: Math.round((before - after) / (st.entries + st.backEntries)) }));
