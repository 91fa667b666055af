// What a client MAC the cluster has not seen costs the OVN switch (issue 17, session 10): the http workload through
// SimulatedCluster.processAt, frame by frame, each frame put in a class (an on-link client's first ARP, its first SYN,
// the SYN right after that ARP, other SYNs, the rest) and charged with the switch's megaflow misses and segments
// recorded (LogicalSwitch.megaflowStats) and its time.
//
//   node bench/new-mac.mjs [ROOT] [--frames N] [--random-macs] [--no-cache] [--arp-twice] [--stages]
//
// --random-macs gives each on-link client a random unicast MAC (consistently, frames and ARP sender alike) instead of
//   the workload's 52:54:00:<a>:<hi>:<lo>: a LAN's MACs vary in every byte after the vendor's prefix.
// --no-cache turns the cluster's whole-path caches off (every frame takes the full path).
// --arp-twice hands every ARP to the cluster twice (the second time its MAC is known): whether what the next SYN
//   pays comes from the MAC being new or from the ARP's full path just before it.
// --stages also counts, per logical stage, the eth.src/eth.dst bits the switch's slow path put in a recorded key: it
//   wraps two private methods of the executor's build (lookupRec, recRead), so it fails loudly if they are renamed.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const flag = (n) => args.includes(n);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const root = resolve(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--frames') ?? '.');
const at = (p) => import(pathToFileURL(resolve(root, p)).href);
const { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster } = await at('packages/cluster/dist/index.js');
const { CaptureCursor, Next } = await at('packages/pcap/dist/index.js');
const { httpCapture } = await at('bench/workloads.mjs');
const frames = Number(opt('--frames', 200000));

const ETH_WORDS = ['eth.src[0..31]', 'eth.src[32..47]', 'eth.dst[0..31]', 'eth.dst[32..47]'];
const stageReads = new Map();
let measuring = false;
if (flag('--stages')) {
  const { LflowExecutor } = await at('packages/ovn/dist/lflow/executor.js');
  const { W } = await at('packages/ovn/dist/lflow/fields.js');
  const P = LflowExecutor.prototype;
  if (typeof P.lookupRec !== 'function' || typeof P.recRead !== 'function') throw new Error('--stages: the executor has no lookupRec/recRead any more');
  let stage = '(a helper: port security, FDB, hairpin)';
  const lookupRec = P.lookupRec;
  P.lookupRec = function (t, w) {
    const prev = stage;
    stage = t.stage;
    try {
      return lookupRec.call(this, t, w);
    } finally {
      stage = prev;
    }
  };
  const recRead = P.recRead;
  P.recRead = function (w, word, mask) {
    const i = word - W.ETH_SRC;
    if (i >= 0 && i < 4) {
      // What recRead itself will add: the bits the segment did not write.
      const eff = (mask & ~this.dirtyOf(this.slotOf(w))[word]) >>> 0;
      if (eff !== 0) {
        const k = `${stage} ${ETH_WORDS[i]} mask 0x${eff.toString(16)}`;
        stageReads.set(k, (stageReads.get(k) ?? 0) + 1);
      }
    }
    return recRead.call(this, w, word, mask);
  };
}

const h = httpCapture(frames);
const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, flowCache: !flag('--no-cache') });
const GATEWAY = '525400ee0001';
const remap = new Map();
let seed = 20261202;
const byte = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 255;
const seen = new Set();
const synSeen = new Set();
const classes = new Map();
const cursor = new CaptureCursor();
cursor.feed(h.capture, true);
let t0;
let n = 0;
let lastArp = false;
const mega = () => sim.ls.megaflowStats();
while (cursor.next() === Next.RECORD) {
  const b = cursor.buffer;
  const o = cursor.dataOffset;
  const vlan = b[o + 12] === 0x81 && b[o + 13] === 0;
  const et = vlan ? (b[o + 16] << 8) | b[o + 17] : (b[o + 12] << 8) | b[o + 13];
  let mac = Buffer.from(b.subarray(o + 6, o + 12)).toString('hex');
  if (flag('--random-macs') && mac !== GATEWAY) {
    let r = remap.get(mac);
    if (!r) remap.set(mac, (r = [byte() & 0xfc, byte(), byte(), byte(), byte(), byte()]));
    for (let j = 0; j < 6; j++) b[o + 6 + j] = r[j];
    // The ARP's sender hardware address (after the 802.1Q tag, the 8-byte ARP header).
    if (et === 0x806) for (let j = 0; j < 6; j++) b[o + 18 + 8 + j] = r[j];
    mac = Buffer.from(r).toString('hex');
  }
  const ip = o + (vlan ? 18 : 14);
  const flags = et === 0x800 && b[ip + 9] === 6 ? b[ip + (b[ip] & 15) * 4 + 13] : 0;
  const fresh = !seen.has(mac);
  seen.add(mac);
  let k = 'other';
  if (et === 0x806) k = fresh && mac !== GATEWAY ? "on-link client's first ARP" : 'ARP';
  else if (flags === 2) {
    if (mac === GATEWAY) k = 'SYN, routed client';
    else if (synSeen.has(mac)) k = 'SYN, on-link client, later';
    else k = lastArp ? 'SYN, on-link client, first, right after its ARP' : 'SYN, on-link client, first';
    synSeen.add(mac);
  }
  lastArp = et === 0x806;
  const ms = cursor.seconds * 1000 + cursor.nanos / 1e6;
  t0 ??= ms;
  // The first quarter warms up (JIT, tables, the first entries) and is not counted.
  measuring = n++ >= frames / 4;
  const m0 = mega();
  const s = process.hrtime.bigint();
  sim.processAt(b, o, cursor.captureLength, ms - t0);
  if (et === 0x806 && flag('--arp-twice')) sim.processAt(b, o, cursor.captureLength, ms - t0);
  const ns = Number(process.hrtime.bigint() - s);
  if (!measuring) continue;
  const m1 = mega();
  const c = classes.get(k) ?? { frames: 0, ns: [], misses: 0, inserted: 0, stale: 0 };
  c.frames++;
  c.ns.push(ns);
  c.misses += m1.misses - m0.misses;
  c.inserted += m1.inserted - m0.inserted;
  c.stale += m1.stale - m0.stale;
  classes.set(k, c);
}
const all = [...classes.values()].reduce((a, c) => a + c.ns.reduce((x, y) => x + y, 0), 0);
console.log(`http ${frames} frames (the last ${n - Math.ceil(frames / 4)} measured), ${seen.size} source MACs${flag('--random-macs') ? ' (on-link clients random)' : ''}, whole-path caches ${flag('--no-cache') ? 'off' : 'on'}`);
console.log('class | frames | switch megaflow misses | segments recorded | stale | median µs | p90 µs | share of time %');
for (const [k, c] of [...classes].sort((a, b) => b[1].frames - a[1].frames)) {
  c.ns.sort((a, b) => a - b);
  const total = c.ns.reduce((a, b) => a + b, 0);
  console.log([k, c.frames, c.misses, c.inserted, c.stale, (c.ns[c.frames >> 1] / 1000).toFixed(1), (c.ns[Math.floor(c.frames * 0.9)] / 1000).toFixed(1), ((100 * total) / all).toFixed(1)].join(' | '));
}
if (flag('--stages')) {
  console.log('\nbits of eth.src/eth.dst put in recorded keys (the whole run), by stage: count');
  for (const [k, v] of [...stageReads].sort((a, b) => b[1] - a[1])) console.log(`${k}: ${v}`);
}
