#!/usr/bin/env node
// The floor under switch-est: the same ACKs over the same connections of the same switch (set up by the workload),
// but only what no executor can skip — a copy of the frame, a decode, the two ct() calls OVN makes per
// established ACK (ct_lb_mark in the localnet port's zone, which applies the connection's DNAT to the backend, then
// ct_lb_mark in the pod's zone) on the switch's own OvsConntrack, and a copy out. No logical flow runs. Compare
// with the whole hand-modelled switch (bench/switch-cpu.mjs est … ROOT of fb418bc): if this alone costs as much,
// no executor work can reach parity. Usage: node bench/switch-floor.mjs [FLOWS] [FRAMES] [ROOT] [RUNS]; also
// `node bench/switch-ab.mjs est floor:ROOT …` (alternating with other trees in one process).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHASSIS, estWorkload, loadSwitch } from './switch-workload.mjs';

/**
 * The floor workload over an est workload `w` of the logical-flow switch `sw` (bench/switch-workload.mjs):
 * `run(n)` sends `n` ACKs through the two ct() calls alone.
 */
export async function floorWorkload(sw, w, root) {
  if (!sw.logicalFlows) throw new Error('switch-floor: ROOT must be a tree with the logical-flow switch');
  const ovn = await import(pathToFileURL(join(root, 'packages/ovn/dist/index.js')).href);
  const { FrameDecoder, DecodedFrame } = sw.wire;
  const ct = sw.ls.conntracks().find((c) => c.chassis === CHASSIS).conntrack;
  const request = (zone) => {
    const r = new ovn.CtRequest();
    r.action = ovn.CtAction.CT_LB_MARK;
    r.nat = ovn.CtNat.APPLY;
    r.zone = zone;
    return r;
  };
  const inZone = request(sw.ls.zoneOf(sw.localnet));
  const podZone = request(sw.ls.zoneOf(w.pod));
  const res = new ovn.CtResult();
  const decoder = new FrameDecoder();
  const d = new DecodedFrame();
  const buf = new Uint8Array(2048);
  const out = new Uint8Array(2048);
  const acks = w.frames;
  const EST = ovn.CtState.EST;
  return {
    run(n, time) {
      const t = time?.start();
      let est = 0;
      for (let i = 0, j = 0; i < n; i++) {
        const f = acks[j];
        if (++j === acks.length) j = 0;
        buf.set(f);
        decoder.decode(buf, d, f.length);
        res.reset();
        ct.execute(buf, f.length, d, inZone, res, 1000);
        const first = res.state;
        ct.execute(buf, f.length, d, podZone, res, 1000);
        if (first & EST && res.state & EST) est++;
        out.set(buf.subarray(0, f.length));
      }
      time?.stop(t);
      if (est !== n) throw new Error(`switch-floor: ${n - est} of ${n} ACKs not established in both zones`);
      return n;
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [flowsArg = '10000', framesArg = '100000', root = fileURLToPath(new URL('..', import.meta.url)), runsArg = '6'] = process.argv.slice(2);
  const frames = Number(framesArg);
  const sw = await loadSwitch(root);
  const f = await floorWorkload(sw, estWorkload(sw, Number(flowsArg)), root);
  let cpu = 0;
  const time = { start: () => process.cpuUsage(), stop: (t) => { const c = process.cpuUsage(t); cpu = (c.user + c.system) / 1e6; } };
  f.run(frames);
  let best = Infinity;
  for (let r = 0; r < Number(runsArg); r++) {
    f.run(frames, time);
    best = Math.min(best, cpu);
  }
  console.log(JSON.stringify({ case: 'switch-floor', root, flows: Number(flowsArg), frames, cpuSeconds: best, nsPerFrame: Math.round((best / frames) * 1e9) }));
}
