#!/usr/bin/env node
// Counts the conntrack engine's calls per established ACK of the switch-est workload (bench/switch-workload.mjs) on
// ROOT's switch: execute, key extractions (checksums verified), kept keys reused, hash lookups, hints taken. Shows
// which work a replayed ACK still does. Usage: node bench/ct-calls.mjs [ROOT] [FLOWS] [FRAMES]
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { estWorkload, loadSwitch } from './switch-workload.mjs';

const [root = fileURLToPath(new URL('..', import.meta.url)), flows = '100', frames = '1000'] = process.argv.slice(2);
const sw = await loadSwitch(root);
const w = estWorkload(sw, Number(flows));
const { OvsConntrack } = await import(pathToFileURL(join(root, 'packages/ovn/dist/index.js')).href);
const P = OvsConntrack.prototype;
const counts = {};
for (const name of ['execute', 'executeHinted', 'extractKey', 'reuseKey', 'lookupCk', 'lookupKey', 'hinted', 'natPacket']) {
  const orig = P[name];
  if (typeof orig !== 'function') continue;
  P[name] = function (...a) {
    const r = orig.apply(this, a);
    const key = name === 'hinted' ? (r >= 0 ? 'hinted (taken)' : 'hinted (refused)') : name;
    counts[key] = (counts[key] ?? 0) + 1;
    return r;
  };
}
w.run(Number(frames));
for (const k in counts) counts[k] = 0;
w.run(Number(frames));
console.log(JSON.stringify({ root, flows: Number(flows), acks: Number(frames), perAck: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / Number(frames)])) }));
