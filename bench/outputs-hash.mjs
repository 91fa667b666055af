// A replay's outputs as one sha256, to show a speed change left them byte for byte as they were:
//   node bench/outputs-hash.mjs ROOT http|cold [FRAMES=20000] [MODE=outside]
// ROOT's built packages replay ROOT's bench capture (bench/workloads.mjs: http's conversations or full-cold's SYNs)
// through SimulatedCluster.processAt. Hashed: every frame to the outside and each frame's verdict, then the drop,
// stage and backend counters, the recorder's edges and the wire's MAC table size and evictions; MODE adds
//   deliver  every delivery to a pod,
//   wire     every delivery and every frame on the wire with its time,
//   ports    every frame on every port with its time (onPort turns the caches' shortcuts off),
//   nocache  deliver's hash with `flowCache: false` — equal to deliver's on any tree (cached and uncached runs agree).
// Compare two trees' hashes mode by mode (bench/README sections of session 31 on).
import { createHash } from 'node:crypto';
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';
const [rootArg, kind = 'http', framesArg = '20000', mode = 'outside'] = process.argv.slice(2);
if (!rootArg || !['http', 'cold'].includes(kind) || !['outside', 'deliver', 'wire', 'ports', 'nocache'].includes(mode) || !(Number(framesArg) > 0)) {
  console.error('usage: node bench/outputs-hash.mjs ROOT http|cold [FRAMES] [outside|deliver|wire|ports|nocache]');
  process.exit(2);
}
const root = resolve(rootArg);
const u = (p) => pathToFileURL(join(root, p)).href;
const { httpCapture, coldCapture } = await import(u('bench/workloads.mjs'));
const cl = await import(u('packages/cluster/dist/index.js'));
const { CaptureCursor, Next } = await import(u('packages/pcap/dist/index.js'));
const frames = Number(framesArg);
const bytes = kind === 'cold' ? coldCapture(frames) : httpCapture(frames).capture;
const h = createHash('sha256');
const sim = new cl.SimulatedCluster(cl.defaultObjects(), cl.DEFAULT_CLUSTER, { trace: false, flowCache: mode !== 'nocache' });
const put = (tag, f, n) => { h.update(tag); if (n !== undefined) h.update(String(n)); h.update(f); };
sim.onOutside = (f) => put('O', f);
if (mode === 'wire' || mode === 'deliver' || mode === 'nocache') {
  sim.onDeliver = (pod, f, len) => put('D' + pod.name, f.subarray(0, len));
}
if (mode === 'wire') sim.onWire = (from, f, now) => put('W' + from, f, now);
if (mode === 'ports') sim.onPort = (port, f, now) => put('P' + port, f, now);
const cursor = new CaptureCursor();
cursor.feed(bytes, true);
let t0; let n = 0;
while (cursor.next() === Next.RECORD) {
  const ms = cursor.seconds * 1000 + cursor.nanos / 1e6;
  t0 ??= ms;
  const v = sim.processAt(cursor.buffer, cursor.dataOffset, cursor.captureLength, ms - t0);
  h.update('V' + JSON.stringify(v ?? null));
  n++;
}
h.update(JSON.stringify([...sim.dropCounts]));
h.update(JSON.stringify(sim.stageCounts));
h.update(JSON.stringify([...sim.backendCounts]));
h.update(JSON.stringify(sim.edges()));
h.update(String(sim.wireMacs) + '/' + String(sim.wireMacEvictions));
console.log(`${kind} ${mode} ${n} frames ${h.digest('hex').slice(0, 16)}`);
