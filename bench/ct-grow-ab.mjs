#!/usr/bin/env node
// The NEW path with pool growth, two builds in one process (as bench/ab.mjs): a fresh engine (default
// initialCapacity 1024, so it doubles up to N) takes N SYNs of new connections through OVN's ct_lb pattern —
// ct(zone, nat) then ct(commit, zone, nat(dst=backend)) —, CPU time per SYN, best and median of the rounds.
// bench/cases/conntrack.mjs' ct-new preallocates its table and so never grows. Usage:
//   node bench/ct-grow-ab.mjs BASE NEW [N] [ROUNDS]
const [base, next, nArg = '200000', roundsArg = '10'] = process.argv.slice(2);
const N = Number(nArg);
async function load(root) {
  const w = await import(`${root}/packages/wire/dist/index.js`);
  const o = await import(`${root}/packages/ovn/dist/index.js`);
  const dec = new w.FrameDecoder(), d = new w.DecodedFrame(), res = new o.CtResult(), apply = new o.CtRequest(), commit = new o.CtRequest();
  apply.zone = 7; apply.nat = o.CtNat.APPLY;
  commit.zone = 7; commit.commit = true; commit.nat = o.CtNat.DNAT;
  w.write32(commit.natAddrMin, 0, w.parseIPv4('10.180.204.11')); w.write32(commit.natAddrMax, 0, w.parseIPv4('10.180.204.11'));
  commit.natPortMin = 8080; commit.natPortMax = 8080;
  const pristine = [];
  for (let i = 0; i < N; i++) pristine.push(w.buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', ipv4: { src: w.formatIPv4(0x0a000000 + 1 + (i >>> 14)), dst: '10.180.204.252' }, tcp: { srcPort: 1024 + (i & 0x3fff), dstPort: 80, flags: 2, seq: 1000, ack: 0, window: 65535 } }));
  const work = new Uint8Array(pristine[0].length);
  return { t: [], f: [], run() {
    const ct = new o.OvsConntrack({ sweepIntervalMs: 0 });
    for (let i = 0; i < N; i++) {
      work.set(pristine[i]); dec.decode(work, d); res.reset();
      ct.execute(work, work.length, d, apply, res, 0);
      ct.execute(work, work.length, d, commit, res, 0);
    }
    if (ct.size !== N) throw new Error('size ' + ct.size);
    return N;
  } };
}
const a = await load(base), b = await load(next);
a.run(); b.run();
for (let r = 0; r < Number(roundsArg); r++) for (const x of r % 2 ? [a, b] : [b, a]) {
  const f0 = process.resourceUsage().minorPageFault;
  const c0 = process.cpuUsage(); const n = x.run(); const c = process.cpuUsage(c0); x.t.push(((c.user + c.system) * 1000) / n);
  x.f.push(process.resourceUsage().minorPageFault - f0);
}
const st = (x) => { const s = [...x.t].sort((p, q) => p - q); const f = [...x.f].sort((p, q) => p - q); return { bestNs: Math.round(s[0]), medianNs: Math.round(s[s.length >> 1]), faults: f[f.length >> 1] }; };
// Per-round ratio new ÷ base (a round's two runs are next to each other in time) and rounds new was faster in.
const ratios = a.t.map((t, i) => b.t[i] / t).sort((p, q) => p - q);
console.log(JSON.stringify({ case: 'ct-grow', n: N, base: st(a), new: st(b), ratio: +ratios[ratios.length >> 1].toFixed(3), newFaster: ratios.filter((r) => r < 1).length + '/' + ratios.length }));
