#!/usr/bin/env node
// NORMAL past a full MAC table (issue 17, session 12): a bridge with one NORMAL flow learns 20 000 new clients' broadcast
// ARPs (8 192 MACs fit: the rest each evict the oldest). One process alternating the trees, a fresh bridge per round;
// prints ns per client, best (median of 6) per tree, and checks the trees leave the same tables and eviction counts.
//   node bench/normal-evict.mjs ROOT_A ROOT_B
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const roots = process.argv.slice(2);
const clients = 20000;
const trees = [];
for (const r of roots) trees.push({ root: r, of: await import(pathToFileURL(resolve(r, 'packages/openflow/dist/index.js')).href), wire: await import(pathToFileURL(resolve(r, 'packages/wire/dist/index.js')).href), t: [] });
const hex = (n) => n.toString(16).padStart(2, '0');
const mac = (i) => `52:54:00:${hex((i >> 16) & 0xff)}:${hex((i >> 8) & 0xff)}:${hex(i & 0xff)}`;
for (const t of trees) t.req = Array.from({ length: clients }, (_, i) => t.wire.buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: mac(i), arp: { op: 1, senderMac: mac(i), senderIp: '10.1.2.3', targetMac: '00:00:00:00:00:00', targetIp: '10.180.204.252' }, padTo: 60 }));
let check;
for (let r = 0; r < 8; r++) for (const t of r % 2 ? [...trees].reverse() : trees) {
  const br = new t.of.Bridge('br', [{ name: 'up', ofport: 1 }, { name: 'patch', ofport: 2 }]);
  br.addFlows('table=0,priority=0,actions=NORMAL');
  const out = new t.of.BridgeOutcome();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < clients; i++) br.processInto(t.req[i], t.req[i].length, 1, i >> 4, out);
  const ns = Number(process.hrtime.bigint() - t0) / clients;
  if (r >= 2) t.t.push(ns);
  const sig = JSON.stringify([br.macEvictions, br.learnedMacs().slice(0, 50), br.learnedMacs().length]);
  if (check === undefined) check = sig; else if (check !== sig) throw new Error('trees differ');
}
for (const t of trees) console.log(t.root, Math.min(...t.t).toFixed(0), 'ns best;', [...t.t].sort((a, b) => a - b)[3].toFixed(0), 'median');
