// The switch-only workloads (issue 15: "pnpm bench does not get slower: a switch-only case for new and established
// flows"), written against whichever tree ROOT is, so that the same frames run through the logical-flow switch of
// this tree and through the hand-modelled switch of an older one (bench/switch-cpu.mjs):
//   new: every frame a client's TCP SYN of a new connection (address and port varying) entering node3's switch from
//        the localnet port for the VIP 10.180.204.252:80, as br-provider hands it over (untagged, dst MAC rewritten);
//        conntrack is emptied before each run, so every run sees the same SYNs as new;
//   est: pure ACKs of 10 000 load-balanced connections established before timing (SYN in, the pod's SYN-ACK back,
//        the handshake's ACK).
// The switch is the one the default scenario's cluster builds (SimulatedCluster.ls: northd's flows, OvsConntrack per
// chassis and the megaflow cache by default — or, in a tree before 1d2a7d2, the hand-modelled LogicalSwitch with its
// own conntrack), run on node3, the VIP's owner, whose local backend prefer_local_backend picks.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHASSIS = 'node3';
const VIP = '10.180.204.252';
/** eth.dst of a frame br-provider sends into OVN (its Kube-OVN flow rewrites it; seen on the cluster's OVN hop). */
const TO_OVN_MAC = '00:00:00:01:00:01';
export const EST_FLOWS = 10_000;
export const NEW_FRAMES = 100_000;

const clientIp = (i) => `10.181.${(i >>> 8) & 0xff}.${i & 0xff}`;
const clientMac = (i) => `52:54:00:cc:${((i >>> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

/** Loads ROOT's packages and wraps its switch in one interface: `run(frame, inport) → outputs`. */
export async function loadSwitch(root) {
  const url = (p) => pathToFileURL(join(root, p)).href;
  const { SimulatedCluster, defaultObjects, DEFAULT_CLUSTER } = await import(url('packages/cluster/dist/index.js'));
  const wire = await import(url('packages/wire/dist/index.js'));
  const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
  const ls = sim.ls;
  const localnet = `localnet.${ls.name}`;
  const logicalFlows = typeof ls.processInto === 'function';
  let run;
  let flush;
  if (logicalFlows) {
    // The cluster's own call: the outcome written into a reused SwitchOutcome, outputs in the switch's buffers.
    const { SwitchOutcome } = await import(url('packages/ovn/dist/index.js'));
    const out = new SwitchOutcome();
    run = (frame, inport, now) => ls.processInto(frame, frame.length, inport, CHASSIS, now, out);
    flush = () => {
      for (const { conntrack } of ls.conntracks()) conntrack.flush();
    };
  } else {
    // The hand-modelled switch's only call (what its cluster called): its outputs are new arrays; the wrapper copies
    // their references into one reused outcome, so that it adds no allocation of its own.
    const out = { count: 0, ports: [], frames: [], lengths: [] };
    run = (frame, inport, now) => {
      const r = ls.process(frame, inport, CHASSIS, now);
      out.count = 0;
      if (r.verdict !== 'output') return out;
      const os = r.outputs;
      for (let i = 0; i < os.length; i++) {
        out.ports[i] = os[i].port;
        out.frames[i] = os[i].frame;
        out.lengths[i] = os[i].frame.length;
      }
      out.count = os.length;
      return out;
    };
    flush = () => {
      for (const { conntrack } of ls.allZones()) for (const e of conntrack.entries()) conntrack.remove(e);
    };
  }
  return { ls, wire, localnet, logicalFlows, run, flush };
}

function syn(wire, i, sport) {
  return wire.buildFrame({ dst: TO_OVN_MAC, src: clientMac(i), ipv4: { src: clientIp(i), dst: VIP }, tcp: { srcPort: sport, dstPort: 80, flags: 0x02, seq: 1000, ack: 0, window: 64240 } });
}

/** `switch-new`: `n` SYNs of distinct connections (65 536 clients, then their next source port). */
export function newWorkload(sw, n = NEW_FRAMES) {
  const frames = [];
  for (let i = 0; i < n; i++) frames.push(syn(sw.wire, i & 0xffff, 1024 + (i >>> 16)));
  const pristine = frames.map((f) => f.slice());
  return {
    frames,
    /** One pass: conntrack emptied first (outside the frames' timing when `time` is given), then every SYN. */
    run(time) {
      sw.flush();
      const t = time?.start();
      let out = 0;
      // Both switches copy the frame they are given before working on it (LogicalSwitch.run, the hand-modelled
      // process): the frames are handed over as they are, and checked unchanged after the pass.
      for (let i = 0; i < frames.length; i++) {
        const o = sw.run(frames[i], sw.localnet, 0);
        if (o.count === 1 && o.ports[0] !== sw.localnet) out++;
      }
      time?.stop(t);
      if (out !== frames.length) throw new Error(`switch-new: ${out} of ${frames.length} SYNs reached a pod`);
      unchanged(frames, pristine, 'switch-new');
      return frames.length;
    },
  };
}

/** `switch-est`: the handshakes of {@link EST_FLOWS} connections, then pure ACKs of them in turn. */
export function estWorkload(sw, flows = EST_FLOWS) {
  const { wire } = sw;
  const acks = [];
  let pod = '';
  for (let i = 0; i < flows; i++) {
    const c = i & 0xffff;
    const sport = 2048 + (i >>> 16);
    const s = syn(wire, c, sport);
    const o = sw.run(s, sw.localnet, 0);
    if (o.count !== 1 || o.ports[0] === sw.localnet) throw new Error(`switch-est: the SYN of connection ${i} reached no pod`);
    // The pod answers from the address the SYN was DNATed to, to the MAC it came from.
    const f = o.frames[0];
    const podPort = o.ports[0];
    pod = podPort;
    const podMac = wire.formatMac(f, 0);
    const podIp = wire.formatIPv4(((f[30] << 24) | (f[31] << 16) | (f[32] << 8) | f[33]) >>> 0);
    const synack = wire.buildFrame({ dst: clientMac(c), src: podMac, ipv4: { src: podIp, dst: clientIp(c) }, tcp: { srcPort: 80, dstPort: sport, flags: 0x12, seq: 5000, ack: 1001, window: 64240 } });
    const r = sw.run(synack, podPort, 0);
    if (r.count !== 1 || r.ports[0] !== sw.localnet) throw new Error(`switch-est: the SYN-ACK of connection ${i} did not leave by the localnet port`);
    const ack = wire.buildFrame({ dst: TO_OVN_MAC, src: clientMac(c), ipv4: { src: clientIp(c), dst: VIP }, tcp: { srcPort: sport, dstPort: 80, flags: 0x10, seq: 1001, ack: 5001, window: 64240 } });
    const a = sw.run(ack, sw.localnet, 0);
    if (a.count !== 1 || a.ports[0] !== podPort) throw new Error(`switch-est: the handshake's ACK of connection ${i} did not reach its pod`);
    acks.push(ack);
  }
  const pristine = acks.map((f) => f.slice());
  return {
    frames: acks,
    pod,
    /** `n` pure ACKs, the connections in turn (handed over as they are: see newWorkload). */
    run(n, time) {
      const t = time?.start();
      let out = 0;
      for (let i = 0, j = 0; i < n; i++) {
        const o = sw.run(acks[j], sw.localnet, 1000);
        if (o.count === 1 && o.ports[0] !== sw.localnet) out++;
        if (++j === acks.length) j = 0;
      }
      time?.stop(t);
      if (out !== n) throw new Error(`switch-est: ${out} of ${n} ACKs reached a pod`);
      unchanged(acks, pristine, 'switch-est');
      return n;
    },
  };
}

/** Throws if a switch wrote into a frame it was given (the driver would then have to copy each one). */
function unchanged(frames, pristine, name) {
  for (let i = 0; i < frames.length; i++) {
    const a = frames[i];
    const b = pristine[i];
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) throw new Error(`${name}: the switch changed input frame ${i}`);
  }
}
