// Real-shaped traffic (issue #17): curl-like conversations to the VIP (bench/workloads.mjs httpCapture) through
// the whole path, the pods answering from their model; and the same capture through `replayCapture` writing
// every output at its default level (`replay-out`), with the bytes written reported against the input's.
// Every run checks that the conversations worked: each request reached a pod's access log and no RST came
// back to a client, and the pods' SYN-ACKs and responses carry the sequence numbers the capture's ACKs assume (a capture whose ACKs the pods refused would measure error handling, not traffic).
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CLUSTER, defaultObjects, replayCapture } from '../../packages/cluster/dist/index.js';
import { replayInMemory } from '../replay-loop.mjs';
import { httpCapture, podIsn } from '../workloads.mjs';

/**
 * Watches what reaches the clients: each SYN-ACK must carry the ISN the capture's ACKs were computed from, each
 * response (data + FIN) must start at ISN + 1 and acknowledge the whole request, and no RST may come back.
 */
function watcher(state) {
  const w = { synAcks: 0, responses: 0, wrong: 0, rst: 0 };
  const see = (f) => {
    const off = f[12] === 0x81 && f[13] === 0 ? 18 : 14;
    if (f[off - 2] !== 8 || f[off - 1] !== 0 || f[off + 9] !== 6) return;
    const t = off + (f[off] & 15) * 4;
    const flags = f[t + 13];
    if (flags & 4) { w.rst++; return; }
    const rd = (at) => ((f[at] << 24) | (f[at + 1] << 16) | (f[at + 2] << 8) | f[at + 3]) >>> 0;
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
    let inner;
    // One wrapper for the run: a getter making a closure per read cost the measured loop an allocation per frame.
    const wrapped = (f) => {
      see(f);
      inner?.(f);
    };
    Object.defineProperty(sim, 'onOutside', { configurable: true, get: () => wrapped, set: (h) => { inner = h; } });
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
];
