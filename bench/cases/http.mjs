// Real-shaped traffic (issue #17): curl-like conversations to the VIP (bench/workloads.mjs httpCapture) through
// the whole path, the pods answering from their model; and the same capture through `replayCapture` writing
// every output at its default level (`replay-out`), with the bytes written reported against the input's.
// Every run checks that the conversations worked: each request reached a pod's access log and no RST came
// back to a client, and the pods' SYN-ACKs and responses carry the sequence numbers the capture's ACKs assume (a capture whose ACKs the pods refused would measure error handling, not traffic).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterFrom, DEFAULT_CLUSTER, defaultObjects, loadManifests, replayCapture, SimulatedCluster, withDefaults } from '../../packages/cluster/dist/index.js';
import { formatIPv6 as formatV6 } from '../../packages/wire/dist/index.js';
import { replayInMemory } from '../replay-loop.mjs';
import { http6Capture, httpCapture, LOSSY_MIX, podIsn, VIP6 } from '../workloads.mjs';

/** Where the IP header starts: after the 802.1Q tag the VLAN adds, if any. */
const ipOffset = (f) => (f[12] === 0x81 && f[13] === 0 ? 18 : 14);

/** The TCP header's offset in an IPv4 TCP frame, tagged or not; -1 in any other frame. */
function tcp4Offset(f) {
  const off = ipOffset(f);
  if (f[off - 2] !== 8 || f[off - 1] !== 0 || f[off + 9] !== 6) return -1;
  return off + (f[off] & 15) * 4;
}

const rd32 = (f, at) => ((f[at] << 24) | (f[at + 1] << 16) | (f[at + 2] << 8) | f[at + 3]) >>> 0;

/**
 * Watches what reaches the clients: each SYN-ACK must carry the ISN the capture's ACKs were computed from, each
 * response (data + FIN) must start at ISN + 1 and acknowledge the whole request, and no RST may come back.
 */
function watcher(state) {
  const w = { synAcks: 0, responses: 0, wrong: 0, rst: 0 };
  const see = (f) => {
    const t = tcp4Offset(f);
    if (t < 0) return;
    const off = ipOffset(f);
    const flags = f[t + 13];
    if (flags & 4) { w.rst++; return; }
    const rd = (at) => rd32(f, at);
    // The ISN the capture's ACKs were computed from, for the client's address and port (the reply's destination).
    const isn = podIsn(rd(off + 16), (f[t + 2] << 8) | f[t + 3]);
    if (flags === 0x12) {
      if (rd(t + 4) === isn) w.synAcks++;
      else w.wrong++;
    } else if (flags === 0x19) {
      if (rd(t + 4) === ((isn + 1) >>> 0)) w.responses++;
      else w.wrong++;
    }
  };
  // replayCapture sets onOutside after `setup` runs, so the watcher wraps whatever handler is installed; with
  // traces it takes `inject`'s results instead, so those are watched too (process and inject never call each other).
  w.hook = (sim) => {
    // replayCapture's summary lines take injectTransientAt (inject with a reused result, the frame where it lies in
    // the capture's chunk; injectTransient calls it too), traced lines inject.
    for (const name of ['inject', 'injectTransientAt']) {
      if (typeof sim[name] !== 'function') continue;
      const inject = sim[name].bind(sim);
      sim[name] = (...a) => {
        const r = inject(...a);
        for (const f of r.outside) see(f);
        return r;
      };
    }
    watchOutside(sim, see);
  };
  return w;
}

function check(name, sim, state, w) {
  let served = 0;
  for (const p of sim.pods.values()) served += p.requests;
  if (served !== state.requests || w.responses !== state.requests || w.synAcks !== state.syns || w.wrong || w.rst) {
    throw new Error(`${name}: ${served} of ${state.requests} requests served, ${w.responses} responses and ${w.synAcks} of ${state.syns} SYN-ACKs as expected, ${w.wrong} with other sequence numbers, ${w.rst} RST: the capture does not match the pod model`);
  }
}

/**
 * The dual-stack scenario (test/fixtures/manifests/dual-stack.yaml) with one replica: its VIPs' owner is the pod's
 * node. (With three, the switch on the owner's node balances two connections in three to another node's pod, which
 * it drops as a loopback — the localnet port it came in by is the way there: Kube-OVN's ip_port_mappings hold the
 * IPv6 backends bare, so northd's ETP Local filter keeps them all — and two thirds of the conversations would end at
 * their SYN.)
 */
const DUAL = `${readFileSync(new URL('../../test/fixtures/manifests/dual-stack.yaml', import.meta.url), 'utf8')}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: deploy-169402624, labels: {app: nginx}}
spec:
  replicas: 1
  selector: {matchLabels: {app: nginx}}
  template:
    metadata:
      annotations: {ovn.kubernetes.io/logical_switch: underlay-subnet}
      labels: {app: nginx}
    spec:
      containers: [{name: nginx, image: kubeovn/agnhost:2.47, args: [netexec, --http-port, "80"]}]
`;

/** The http6 case's scenario (objects made anew per run: a simulation may keep them). */
export const DUAL_SCENARIO = (() => {
  const objects = () => withDefaults(loadManifests(DUAL, 'bench-dual-stack.yaml').objects);
  const cluster = clusterFrom(objects());
  const sim = new SimulatedCluster(objects(), cluster, { trace: false });
  const owner = sim.state.metallb.owners(VIP6)[0];
  return { objects, cluster, ownerMac: sim.cluster.nodes.find((n) => n.name === owner).mac };
})();

/**
 * Calls `see` on every frame the cluster sends to the outside, around whatever handler replayCapture installs
 * (it sets onOutside after `setup` runs). One wrapper for the run: a getter making a closure per read cost the
 * measured loop an allocation per frame.
 */
function watchOutside(sim, see) {
  let inner;
  const wrapped = (f) => {
    see(f);
    inner?.(f);
  };
  // Where onOutside is SimulatedCluster's accessor (processAt calls the handler it stored, not the property), the
  // wrapper goes in through it; an older root's plain field is read per frame, so the property alone does there.
  const own = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(sim), 'onOutside');
  if (own?.set) own.set.call(sim, wrapped);
  Object.defineProperty(sim, 'onOutside', { configurable: true, get: () => wrapped, set: (h) => { inner = h; } });
}

/** {@link watcher} over IPv6: the SYN-ACKs' ISN, the responses' sequence number and length (which the capture's ACKs assume), no RST. */
function watcher6() {
  const w = { synAcks: 0, responses: 0, wrong: 0, rst: 0 };
  const see = (f) => {
    if (f[16] !== 0x86 || f[17] !== 0xdd || f[18 + 6] !== 6) return;
    const t = 18 + 40;
    const flags = f[t + 13];
    if (flags & 4) { w.rst++; return; }
    const ip = ((f[18 + 36] << 24) | (f[18 + 37] << 16) | (f[18 + 38] << 8) | f[18 + 39]) >>> 0;
    const dport = (f[t + 2] << 8) | f[t + 3];
    const isn = podIsn(ip, dport);
    const seq = ((f[t + 4] << 24) | (f[t + 5] << 16) | (f[t + 6] << 8) | f[t + 7]) >>> 0;
    if (flags === 0x12) {
      if (seq === isn) w.synAcks++;
      else w.wrong++;
    } else if (flags === 0x19) {
      const len = ((f[18 + 4] << 8) | f[18 + 5]) - ((f[t + 12] >> 4) << 2);
      const b = new Uint8Array(16);
      b.set(f.subarray(18 + 24, 18 + 40));
      // `[address]:port` as http6Capture assumed it (the address's text: fd00:10:181::…).
      const text = formatV6(b);
      const body = text.length + 3 + String(dport).length;
      if (seq === ((isn + 1) >>> 0) && len === 56 + String(body).length + body) w.responses++;
      else w.wrong++;
    }
  };
  w.hook = (sim) => {
    watchOutside(sim, see);
  };
  return w;
}

/**
 * {@link watcher} for http-lossy: besides the SYN-ACKs (one per SYN, retransmitted ones too) and the responses, the
 * pod's pure ACKs — of a client's FIN, of a retransmitted request — must carry the sequence number after the
 * response's FIN (ISN + 1 + the response's length + 1).
 */
function lossyWatcher() {
  const w = { synAcks: 0, responses: 0, acks: 0, wrong: 0, rst: 0 };
  const see = (f) => {
    const t = tcp4Offset(f);
    if (t < 0) return;
    const off = ipOffset(f);
    const flags = f[t + 13];
    if (flags & 4) { w.rst++; return; }
    const rd = (at) => rd32(f, at);
    const port = (f[t + 2] << 8) | f[t + 3];
    const isn = podIsn(rd(off + 16), port);
    const seq = rd(t + 4);
    if (flags === 0x12) {
      if (seq === isn) w.synAcks++;
      else w.wrong++;
    } else if (flags === 0x19) {
      if (seq === ((isn + 1) >>> 0)) w.responses++;
      else w.wrong++;
    } else if (flags === 0x10) {
      // `ip:port` as /clientip prints it: the address's four numbers, three dots, a colon, the port.
      let body = 4 + decimals(port);
      for (let i = 16; i < 20; i++) body += decimals(f[off + i]);
      const resp = 56 + decimals(body) + body;
      if (seq === ((isn + 1 + resp + 1) >>> 0)) w.acks++;
      else w.wrong++;
    } else w.wrong++;
  };
  w.hook = (sim) => watchOutside(sim, see);
  return w;
}

const decimals = (v) => (v >= 10000 ? 5 : v >= 1000 ? 4 : v >= 100 ? 3 : v >= 10 ? 2 : 1);

/**
 * http-lossy's check: every request served once (retransmitted ones not again), a SYN-ACK per SYN written
 * (retransmissions included), an ACK per client FIN, per retransmitted request and per handshake ACK overtaken by
 * its request (before what the pod expects: a duplicate ACK, as Linux sends), and nothing else: duplicate ACKs in
 * sequence and delayed ACKs are answered with nothing, as by Linux. No RST.
 */
function checkLossy(name, sim, state, w) {
  let served = 0;
  for (const p of sim.pods.values()) served += p.requests;
  // An ACK for each FIN, retransmitted request and handshake ACK overtaken by its request (a duplicate ACK).
  const acks = state.fins + state.reqRetx + state.lateAcks;
  if (served !== state.requests || w.responses !== state.requests || w.synAcks !== state.syns + state.synRetx || w.acks !== acks || w.wrong || w.rst) {
    throw new Error(`${name}: ${served} of ${state.requests} requests served, ${w.responses} responses, ${w.synAcks} of ${state.syns} + ${state.synRetx} SYN-ACKs, ${w.acks} of ${acks} ACKs (${state.fins} FINs, ${state.reqRetx} retransmitted requests, ${state.lateAcks} late handshake ACKs) as expected, ${w.wrong} other answers, ${w.rst} RST: the capture does not match the pod model`);
  }
}

export default [
  {
    name: 'http',
    setup: ({ frames }) => httpCapture(frames),
    run: (state) => {
      const w = watcher(state);
      const { frames, sim } = replayInMemory(state.capture, undefined, w.hook);
      check('http', sim, state, w);
      return frames;
    },
    extra: (state) => ({ inputBytes: state.capture.length, requests: state.requests }),
  },
  {
    // The http workload with retransmissions, reordering, duplicate and delayed ACKs (bench/workloads.mjs LOSSY_MIX).
    name: 'http-lossy',
    setup: ({ frames }) => httpCapture(frames, { mix: LOSSY_MIX }),
    run: (state) => {
      const w = lossyWatcher();
      const { frames, sim } = replayInMemory(state.capture, undefined, w.hook);
      checkLossy('http-lossy', sim, state, w);
      return frames;
    },
    extra: (state) => ({ inputBytes: state.capture.length, requests: state.requests, synRetx: state.synRetx, reqRetx: state.reqRetx, lateAcks: state.lateAcks, dupAcks: state.dupAcks, coalesced: state.coalesced }),
  },
  {
    name: 'replay-out',
    setup: ({ frames }) => {
      const h = httpCapture(frames);
      const dir = mkdtempSync(join(tmpdir(), 'vippath-bench-'));
      const file = join(dir, 'http.pcap');
      writeFileSync(file, h.capture);
      // The replay reads the file: the capture in memory is not kept (91 MB at 1 M frames).
      return { requests: h.requests, syns: h.syns, inputBytes: h.capture.length, dir, file, outDir: join(dir, 'out'), outputBytes: 0 };
    },
    run: async (state) => {
      const w = watcher(state);
      const { summary, sim } = await replayCapture(state.file, defaultObjects(), DEFAULT_CLUSTER, { outDir: state.outDir, setup: w.hook });
      check('replay-out', sim, state, w);
      state.outputBytes = readdirSync(state.outDir).reduce((n, f) => n + statSync(join(state.outDir, f)).size, 0);
      state.outputs = Object.fromEntries(readdirSync(state.outDir).map((f) => [f, statSync(join(state.outDir, f)).size]));
      return summary.framesRead;
    },
    extra: (state) => ({ inputBytes: state.inputBytes, outputBytes: state.outputBytes, outputRatio: Number((state.outputBytes / state.inputBytes).toFixed(2)), outputs: state.outputs }),
    teardown: (state) => rmSync(state.dir, { recursive: true, force: true }),
  },
  {
    // The http workload over IPv6, to the dual-stack scenario's IPv6 VIP (session 9: the caches serve IPv6).
    name: 'http6',
    setup: ({ frames }) => http6Capture(frames, { ownerMac: DUAL_SCENARIO.ownerMac }),
    run: (state) => {
      const w = watcher6();
      const { frames, sim } = replayInMemory(state.capture, undefined, w.hook, DUAL_SCENARIO);
      check('http6', sim, state, w);
      return frames;
    },
    extra: (state) => ({ inputBytes: state.capture.length, requests: state.requests }),
  },
];
