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
/** What both established floors share: the chassis' engine, the two ct_lb_mark requests (the localnet port's zone,
 * then the pod's), a result, a decoder and the buffers. */
async function estFloorSetup(sw, w, root) {
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
  return {
    ct, reqs: [request(sw.ls.zoneOf(sw.localnet)), request(sw.ls.zoneOf(w.pod))], res: new ovn.CtResult(),
    decoder: new FrameDecoder(), d: new DecodedFrame(), buf: new Uint8Array(2048), out: new Uint8Array(2048),
    acks: w.frames, EST: ovn.CtState.EST,
  };
}

export async function floorWorkload(sw, w, root) {
  const { ct, reqs: [inZone, podZone], res, decoder, d, buf, out, acks, EST } = await estFloorSetup(sw, w, root);
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

/**
 * The floor under switch-est as the switch calls the engine: the same two ct() calls per ACK, through
 * `executeHinted` with the node each call found last time for that ACK (what the executor's replayed walks keep and
 * hand back: bench/README "Established flows (session 9)"), the packet numbered and its ct fields cleared before each
 * call as the executor's replay does. `run(n)` as floorWorkload's.
 */
export async function floorHintedWorkload(sw, w, root) {
  const { ct, reqs, res, decoder, d, buf, out, acks, EST } = await estFloorSetup(sw, w, root);
  if (typeof ct.executeHinted !== 'function') throw new Error('switch-floor: ROOT has no lookup hints (hfloor: needs session 9 or later)');
  // Per ACK and call: the node found last time and its slot's generation (-1: none yet).
  const hints = new Int32Array(acks.length * 4).fill(-1);
  return {
    run(n, time) {
      const t = time?.start();
      let est = 0;
      for (let i = 0, j = 0; i < n; i++) {
        const f = acks[j];
        buf.set(f);
        decoder.decode(buf, d, f.length);
        res.reset();
        res.packet++;
        const epoch = ct.epoch;
        for (let k = 0, h = j * 4; k < 2; k++, h += 2) {
          res.state = 0;
          res.mark = 0;
          res.hasOriginal = false;
          res.originalProto = 0;
          res.tupleWritten = false;
          res.rewritten = false;
          ct.executeHinted(buf, f.length, d, reqs[k], res, 1000, hints[h], hints[h + 1], epoch);
          hints[h] = ct.foundNode;
          hints[h + 1] = ct.foundGen;
          if (res.state & EST) est++;
        }
        out.set(buf.subarray(0, f.length));
        if (++j === acks.length) j = 0;
      }
      time?.stop(t);
      if (est !== 2 * n) throw new Error(`switch-floor: ${2 * n - est} of ${2 * n} calls not established`);
      return n;
    },
  };
}

/**
 * The floor under switch-new: the same SYNs through the same switch's OvsConntrack, with only what no executor can
 * skip — a copy of the frame, a decode, and the five ct() calls OVN makes per new load-balanced connection, each
 * given what the executor gave it on a recorded pass (the request, the packet's ct metadata from its words, the
 * decode's translated addresses and ports). Conntrack is emptied before each pass, as switch-new's is; the
 * recorded inputs are put back per call (a few stores each: the floor's own cost, not the engine's).
 */
export async function floorNewWorkload(sw, w, root) {
  if (!sw.logicalFlows) throw new Error('switch-floor: ROOT must be a tree with the logical-flow switch');
  // One pass first: the chassis' engine exists once a frame has run on it.
  w.run();
  const ct = sw.ls.conntracks().find((c) => c.chassis === CHASSIS).conntrack;
  const { FrameDecoder, DecodedFrame } = sw.wire;
  const frames = w.frames;
  const n = frames.length;
  // Record: the calls of each SYN as the executor makes them (wrapping this engine's execute for one pass).
  const reqs = [];
  const CALL = 16;
  let calls = 0;
  let rec = new Int32Array(n * 6 * CALL);
  const perFrame = new Int32Array(n);
  let frameNo = -1;
  const record = (d, req, state, mark, label, flags, proto, sport, dport) => {
    let id = reqs.indexOf(req);
    if (id < 0) id = reqs.push(req) - 1;
    const b = calls++ * CALL;
    if (b + CALL > rec.length) {
      const r2 = new Int32Array(rec.length * 2);
      r2.set(rec);
      rec = r2;
    }
    rec[b] = id;
    rec[b + 1] = req.zone;
    rec[b + 2] = state;
    rec[b + 3] = mark;
    for (let i = 0; i < 4; i++) rec[b + 4 + i] = label(i);
    rec[b + 8] = flags;
    rec[b + 9] = proto;
    rec[b + 10] = sport;
    rec[b + 11] = dport;
    rec[b + 12] = d.ipSrc;
    rec[b + 13] = d.ipDst;
    rec[b + 14] = (d.srcPort << 16) | d.dstPort;
    perFrame[frameNo]++;
  };
  const execute = ct.execute;
  ct.execute = function (frame, length, d, req, res, now) {
    record(d, req, res.state, res.mark, (i) => res.label[i], (res.hasOriginal ? 1 : 0) | (res.originalIpv6 ? 2 : 0), res.originalProto, res.originalSrcPort, res.originalDstPort);
    return execute.call(this, frame, length, d, req, res, now);
  };
  // The executor hands this engine the packet's ct fields in its flow words (OvsConntrack.executeWords; the word
  // numbers are lflow/fields.ts W's): the same inputs, as its CtResult copy (lflow/ct-words.ts) would read them.
  const W = { CT_STATE: 13, CT_MARK: 14, CT_LABEL: 15, ETH_TYPE: 23, CT_TP_DST: 59, CT_TP_SRC: 65, CT_NW_PROTO: 66 };
  const executeWords = ct.executeWords;
  ct.executeWords = function (frame, length, d, req, res, words, now) {
    const proto = words[W.CT_NW_PROTO];
    record(d, req, words[W.CT_STATE], words[W.CT_MARK], (i) => words[W.CT_LABEL + i], (proto !== 0 ? 1 : 0) | (words[W.ETH_TYPE] === 0x86dd ? 2 : 0), proto, words[W.CT_TP_SRC], words[W.CT_TP_DST]);
    return executeWords.call(this, frame, length, d, req, res, words, now);
  };
  sw.flush();
  for (let i = 0; i < n; i++) {
    frameNo = i;
    sw.run(frames[i], sw.localnet, 0);
  }
  delete ct.execute;
  delete ct.executeWords;
  // The original addresses are not put back (the engine reads them only in check_orig_tuple, which a new
  // connection's calls do not reach: a floor without them).
  const ovn = await import(pathToFileURL(join(root, 'packages/ovn/dist/index.js')).href);
  const r = new ovn.CtResult();
  const decoder = new FrameDecoder();
  const d = new DecodedFrame();
  const buf = new Uint8Array(2048);
  const out = new Uint8Array(2048);
  return {
    calls: calls / n,
    run(time) {
      sw.flush();
      const t = time?.start();
      for (let i = 0, c = 0; i < n; i++) {
        const f = frames[i];
        buf.set(f);
        decoder.decode(buf, d, f.length);
        for (let k = perFrame[i]; k > 0; k--, c++) {
          const b = c * CALL;
          r.state = rec[b + 2];
          r.mark = rec[b + 3];
          r.label[0] = rec[b + 4];
          r.label[1] = rec[b + 5];
          r.label[2] = rec[b + 6];
          r.label[3] = rec[b + 7];
          r.hasOriginal = (rec[b + 8] & 1) !== 0;
          r.originalIpv6 = (rec[b + 8] & 2) !== 0;
          r.originalProto = rec[b + 9];
          r.originalSrcPort = rec[b + 10];
          r.originalDstPort = rec[b + 11];
          r.tupleWritten = false;
          r.rewritten = false;
          d.ipSrc = rec[b + 12] >>> 0;
          d.ipDst = rec[b + 13] >>> 0;
          d.srcPort = rec[b + 14] >>> 16;
          d.dstPort = rec[b + 14] & 0xffff;
          const q = reqs[rec[b]];
          q.zone = rec[b + 1];
          ct.execute(buf, f.length, d, q, r, 0);
        }
        out.set(buf.subarray(0, f.length));
      }
      time?.stop(t);
      const created = ct.size;
      if (created !== 2 * n) throw new Error(`switch-floor new: ${created} connections for ${n} SYNs (expected two each)`);
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
