#!/usr/bin/env node
// Counts the conntrack engine's calls per established ACK of the switch-est workload (bench/switch-workload.mjs) on
// ROOT's switch: execute, key extractions (checksums verified), kept keys reused, hash lookups, hints taken (by the lookup or by executeHinted's IPv4 TCP path, hintedTcp4). Shows
// which work a replayed ACK still does. Usage: node bench/ct-calls.mjs [ROOT] [FLOWS] [FRAMES] [est|new] — `new`: per
// SYN of the switch-new workload (FRAMES distinct connections; FLOWS unused).
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { estWorkload, loadSwitch, newWorkload } from './switch-workload.mjs';

const [root = fileURLToPath(new URL('..', import.meta.url)), flows = '100', frames = '1000', kase = 'est'] = process.argv.slice(2);
const sw = await loadSwitch(root);
const w = kase === 'new' ? newWorkload(sw, Number(frames)) : estWorkload(sw, Number(flows));
const { OvsConntrack } = await import(pathToFileURL(join(root, 'packages/ovn/dist/index.js')).href);
const P = OvsConntrack.prototype;
const counts = {};
for (const name of ['execute', 'executeHinted', 'hintedTcp4', 'extractKey', 'reuseKey', 'lookupCk', 'lookupKey', 'hinted', 'natPacket']) {
  const orig = P[name];
  if (typeof orig !== 'function') continue;
  P[name] = function (...a) {
    const r = orig.apply(this, a);
    const key = name === 'hinted' ? (r >= 0 ? 'hinted (taken)' : 'hinted (refused)') : name === 'hintedTcp4' ? (r ? 'hintedTcp4 (taken)' : 'hintedTcp4 (left to execute)') : name;
    counts[key] = (counts[key] ?? 0) + 1;
    return r;
  };
}
w.run(kase === 'new' ? undefined : Number(frames));
for (const k in counts) counts[k] = 0;
w.run(kase === 'new' ? undefined : Number(frames));
console.log(JSON.stringify({ root, case: kase, flows: Number(flows), frames: Number(frames), perAck: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / Number(frames)])) }));
