// NORMAL's MAC learning in br-provider alone, the way an on-link client's first ARP meets it (issue 17, session 11):
// per client a broadcast ARP request from a MAC the bridge has not seen, in on the uplink (learned: a new entry, the
// megaflow cache misses and installs nothing), then the answer from LOCAL to that MAC (a lookup of a fresh entry);
// then a second pass of answers to every client (lookups in a full table). One process alternating the trees, a
// fresh bridge per round; prints ns per client (request + answer + second answer), best (median) per tree.
//
//   node bench/normal-ab.mjs ROOT_A ROOT_B [--clients N] [--rounds R]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? Number(args[args.indexOf(n) + 1]) : d);
const roots = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const clients = opt('--clients', 6000);
const rounds = opt('--rounds', 10);
const trees = [];
for (const r of roots) {
  const of = await import(pathToFileURL(resolve(r, 'packages/openflow/dist/index.js')).href);
  const wire = await import(pathToFileURL(resolve(r, 'packages/wire/dist/index.js')).href);
  trees.push({ root: r, of, wire, times: [] });
}
const hex = (n) => n.toString(16).padStart(2, '0');
const mac = (i) => `52:54:00:b5:${hex((i >> 8) & 0xff)}:${hex(i & 0xff)}`;
const OWNER = '52:54:00:bb:00:03';

function frames(wire) {
  const req = [];
  const rep = [];
  for (let i = 0; i < clients; i++) {
    const ip = `10.180.${(i >> 8) & 0xff}.${i & 0xff}`;
    req.push(wire.buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: mac(i), arp: { op: 1, senderMac: mac(i), senderIp: ip, targetMac: '00:00:00:00:00:00', targetIp: '10.180.204.252' }, padTo: 60 }));
    rep.push(wire.buildFrame({ dst: mac(i), src: OWNER, arp: { op: 2, senderMac: OWNER, senderIp: '10.180.204.252', targetMac: mac(i), targetIp: ip }, padTo: 60 }));
  }
  return { req, rep };
}

function round(t) {
  const { of } = t;
  const br = new of.Bridge('br-provider', [{ name: 'underlay0.341', ofport: 1 }, { name: 'patch', ofport: 2 }]);
  br.addFlows('table=0,priority=0,actions=NORMAL');
  const out = new of.BridgeOutcome();
  const { req, rep } = t.f;
  let n = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < clients; i++) {
    br.processInto(req[i], req[i].length, 1, i, out);
    n += out.count;
    br.processInto(rep[i], rep[i].length, of.Port.LOCAL, i, out);
    n += out.count;
  }
  for (let i = 0; i < clients; i++) {
    br.processInto(rep[i], rep[i].length, of.Port.LOCAL, clients + i, out);
    n += out.count;
  }
  const ns = Number(process.hrtime.bigint() - t0) / clients;
  if (n !== 4 * clients) throw new Error(`${t.root}: ${n} outputs, expected ${4 * clients}`);
  return ns;
}

for (const t of trees) t.f = frames(t.wire);
for (let r = 0; r < rounds + 2; r++) {
  for (const t of r % 2 ? [...trees].reverse() : trees) {
    const ns = round(t);
    if (r >= 2) t.times.push(ns);
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const t of trees) console.log(`${t.root}: ${Math.min(...t.times).toFixed(0)} (${med(t.times).toFixed(0)}) ns a client`);
if (trees.length === 2) {
  const ratios = trees[1].times.map((x, i) => x / trees[0].times[i]);
  console.log(`B ÷ A per round, median: ${med(ratios).toFixed(3)}`);
}
