/**
 * A lent input frame (LflowExecutor.runFrameKey's `lend`): the run walks the caller's buffer in place and hands it out as its
 * first output instead of copying it in — a replayed connection's walk (connLookup) and any other walk (copyInput,
 * a tagged frame's too). The caller gets its buffer back at the next run's start, and the first output's own buffer
 * serves the next frame that is copied. Here one executor's caller lends some frames, chosen at random, from one
 * reused buffer (as the flow cache lends its scratch buffer) and hands the others over as input; after reading each
 * run's outputs it writes junk over that buffer, as its next frame would. Two such buffers, each frame's chosen at
 * random: a lent frame lent again by the next run stays the first output's buffer (runFrameKey keeps it), another
 * buffer must not; a frame not lent is handed over in one of them now and then (never written: the slot gave it back).
 * Another executor runs the same frames,
 * each copied. Outputs (ports, bytes) and drops must be equal after every frame, the junk must still be in the lent
 * buffer when the caller comes back to it (nothing of a later run wrote there), and a frame not lent is never written.
 *
 * Seed: 20261207 unless VIPPATH_LEND_SEED gives one (`random`: a new one, printed); VIPPATH_LEND_RUNS (default 150).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame } from '@vippath/wire';
import { OvsConntrack } from '../ct/engine.js';
import { LflowExecutor } from './executor.js';
import { flowList, oneSwitch, vif } from './switch.test-helpers.js';
import type { SouthboundState } from './types.js';

const SEED_ENV = process.env.VIPPATH_LEND_SEED;
const SEED = SEED_ENV === 'random' ? (Math.random() * 2 ** 31) | 0 : SEED_ENV ? Number(SEED_ENV) : 20261207;
const RUNS = Number(process.env.VIPPATH_LEND_RUNS ?? 150);

const VIP = '10.0.0.100';
const TAG = 341;
/** Clients: p1's, and one behind the localnet port (its frames tagged, its answers tagged on the way out). */
const CLIENTS = [
  { port: 'p1', mac: '00:00:00:00:00:01', ip: '10.0.1.1', tagged: false },
  { port: 'ln', mac: '00:00:00:00:00:09', ip: '10.0.9.9', tagged: true },
] as const;
const SERVER = { port: 'p2', mac: '00:00:00:00:00:02', ip: '10.0.0.2' };

function southbound(): SouthboundState {
  const { flows, add } = flowList();
  // The VIP's DNAT in the inport's zone, then routing by destination (the translated one for a client's segment).
  add('ingress', 0, 0, '1', 'ct_lb_mark;');
  add('ingress', 1, 20, `ct.new && ip4.dst == ${VIP} && tcp.dst == 80`, `ct_lb_mark(backends=${SERVER.ip}:8080);`);
  add('ingress', 1, 10, 'ct.new', 'ct_commit; next;');
  add('ingress', 1, 0, '1', 'next;');
  add('ingress', 2, 10, `ip4.dst == ${SERVER.ip}`, `eth.dst = ${SERVER.mac}; outport = "p2"; output;`);
  add('ingress', 2, 10, `ip4.dst == ${CLIENTS[0].ip}`, 'outport = "p1"; output;');
  add('ingress', 2, 10, `ip4.dst == ${CLIENTS[1].ip}`, 'eth.src = 00:00:00:00:00:aa; outport = "ln"; output;');
  add('ingress', 2, 0, '1', 'drop;');
  add('egress', 0, 0, '1', 'ct_next;');
  add('egress', 1, 10, 'ct.new', 'ct_commit; next;');
  add('egress', 1, 0, '1', 'next;');
  add('egress', 2, 0, '1', 'output;');
  const ln = { logicalPort: 'ln', type: 'localnet', mac: ['unknown'], portSecurity: [], tunnelKey: 1, options: { network_name: 'provider' }, tag: TAG, datapath: 'ls' };
  return oneSwitch(flows, [ln, vif('p1', 2, `${CLIENTS[0].mac} ${CLIENTS[0].ip}`), vif('p2', 3, `${SERVER.mac} ${SERVER.ip}`)]);
}

/** A segment of connection `conn` (its client by parity, its port by number); `lend`: handed over lent. */
interface Seg {
  conn: number;
  server: boolean;
  flags: number;
  payload: number;
  lend: boolean;
  /** Which of the caller's two lent buffers (when `lend`; or, not lent, with `inBuf`, the buffer it is handed in). */
  buf?: number;
  /** Not lent, yet handed over in a lent buffer (the caller's again since this run's start): never written. */
  inBuf?: boolean;
  /**
   * Not lent, handed over in an array of exactly the frame's length (as a capture's frames come): the run copies it
   * whole (connLookup's and copyInput's one-call copy), not byte by byte as a frame in a larger array.
   */
  exact?: boolean;
  times: number;
}

function frameOf(s: Seg): { frame: Uint8Array; inport: string } {
  const c = CLIENTS[s.conn & 1]!;
  const sport = 40000 + s.conn;
  const syn = (s.flags & 0x02) !== 0;
  const payload = new Uint8Array(s.payload).fill(0x41 + (s.conn & 15));
  if (!s.server) {
    const frame = buildFrame({ src: c.mac, dst: SERVER.mac, ...(c.tagged ? { vlans: [TAG] } : {}), ipv4: { src: c.ip, dst: VIP }, tcp: { srcPort: sport, dstPort: 80, flags: s.flags, seq: syn ? 1000 : 1001, ack: s.flags & 0x10 ? 5001 : 0 }, payload });
    return { frame, inport: c.port };
  }
  const frame = buildFrame({ src: SERVER.mac, dst: c.mac, ipv4: { src: SERVER.ip, dst: c.ip }, tcp: { srcPort: 8080, dstPort: sport, flags: s.flags, seq: syn ? 5000 : 5001, ack: s.flags & 0x10 ? 1001 : 0 }, payload });
  return { frame, inport: SERVER.port };
}

const hex = (f: Uint8Array, n: number): string => Buffer.from(f.subarray(0, n)).toString('hex');

function view(r: ReturnType<LflowExecutor['runFrame']>): string {
  return JSON.stringify({ outputs: r.outputs.map((o) => [o.port, hex(o.frame, o.length)]), drops: r.drops.map((d) => [d.pipeline, d.table, d.reason]) });
}

const JUNK = 0xee;

/** Plays `segs` (each after a handshake of its connection's, the first time it comes); returns how often a lent buffer was handed out. */
function play(segs: readonly Seg[]): { lentOut: number; connHits: number; again: number; exactHits: number } {
  const sb = southbound();
  const a = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: new OvsConntrack(), wordsOut: false });
  const b = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: new OvsConntrack(), wordsOut: false });
  a.enableMegaflows({ templates: true });
  b.enableMegaflows({ templates: true });
  // The caller's two lent buffers, each reused frame after frame (with the 8 bytes' room lending asks for).
  const bufs = [new Uint8Array(2048).fill(JUNK), new Uint8Array(2048).fill(JUNK)];
  let lentOut = 0;
  // Lent runs whose buffer the run before lent too (and handed out): the first output's buffer kept over the run's start.
  let again = 0;
  let last: Uint8Array | undefined;
  // Replayed walks of frames handed over in arrays of their own length.
  let exactHits = 0;
  let now = 1000;
  const run = (s: Seg): void => {
    const { frame, inport } = frameOf(s);
    for (let t = 0; t < s.times; t++) {
      now += 10;
      // Nothing since the caller wrote its junk has written either lent buffer.
      for (const lent of bufs) for (let i = 0; i < lent.length; i++) if (lent[i] !== JUNK) expect({ at: i, byte: lent[i] }).toEqual({ at: i, byte: JUNK });
      const copy = new Uint8Array(frame.length + 8);
      copy.set(frame);
      let x: string;
      if (s.lend) {
        const lent = bufs[s.buf ?? 0]!;
        lent.set(frame);
        const r = a.runFrame(lent, frame.length, inport, now, false, true, false, true);
        const out = r.outputs.some((o) => o.frame === lent);
        if (out && last === lent) again++;
        if (out) lentOut++;
        last = out ? lent : undefined;
        x = view(r);
        // Read: the caller's next frame may go there now.
        lent.fill(JUNK);
      } else if (s.inBuf === true) {
        const own = bufs[s.buf ?? 0]!;
        own.set(frame);
        x = view(a.runFrame(own, frame.length, inport, now, false, true));
        expect(hex(own, frame.length)).toBe(hex(frame, frame.length));
        own.fill(JUNK);
        last = undefined;
      } else if (s.exact === true) {
        const given = new Uint8Array(frame);
        const hits = a.megaflowStats().connHits;
        x = view(a.runFrame(given, frame.length, inport, now, false, true));
        if (a.megaflowStats().connHits !== hits) exactHits++;
        last = undefined;
        expect(hex(given, frame.length)).toBe(hex(frame, frame.length));
      } else {
        x = view(a.runFrame(copy, frame.length, inport, now, false, true));
        last = undefined;
        expect(hex(copy, frame.length)).toBe(hex(frame, frame.length));
      }
      const y = view(b.runFrame(copy.slice(), frame.length, inport, now, false, true));
      if (x !== y) expect({ seg: s, time: t, result: x }).toEqual({ seg: s, time: t, result: y });
    }
  };
  const opened = new Set<number>();
  for (const s of segs) {
    if (!opened.has(s.conn)) {
      opened.add(s.conn);
      const h = { conn: s.conn, payload: 0, lend: s.lend, buf: s.buf, times: 1 };
      run({ ...h, server: false, flags: 0x02 });
      run({ ...h, server: true, flags: 0x12 });
      run({ ...h, server: false, flags: 0x10, times: 2 });
    }
    run(s);
  }
  return { lentOut, connHits: a.megaflowStats().connHits, again, exactHits };
}

const seg: fc.Arbitrary<Seg> = fc.record({
  conn: fc.nat(5),
  server: fc.boolean(),
  flags: fc.constantFrom(0x10, 0x10, 0x18, 0x18, 0x11, 0x04, 0x02, 0x12),
  payload: fc.constantFrom(0, 0, 6, 200, 1400),
  lend: fc.boolean(),
  buf: fc.constantFrom(0, 0, 1),
  inBuf: fc.boolean(),
  exact: fc.boolean(),
  times: fc.constantFrom(1, 2, 3),
});

describe('a lent input frame', () => {
  it('gives the outputs of a copied one, and the caller its buffer back at the next run', () => {
    if (SEED_ENV === 'random') console.log(`lend.property seed ${SEED}`);
    let lentOut = 0;
    let connHits = 0;
    let again = 0;
    let exactHits = 0;
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 40 }), (segs) => {
        const r = play(segs);
        lentOut += r.lentOut;
        connHits += r.connHits;
        again += r.again;
        exactHits += r.exactHits;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The cases reach what they are for: lent buffers handed out as outputs, and replayed walks.
    expect(lentOut).toBeGreaterThan(RUNS);
    expect(connHits).toBeGreaterThan(RUNS);
    console.log(`lend.property: ${lentOut} lent buffers handed out, ${again} of them lent again by the run before; ${exactHits} replays of frames in arrays of their own length`);
    expect(again).toBeGreaterThan(RUNS / 2);
    expect(exactHits).toBeGreaterThan(RUNS / 2);
  });

  it('is walked in place when its walk is replayed, tagged on the way out to the localnet port', () => {
    // One connection from behind the localnet port: its ACKs replay the client's walk, the server's ACKs the server's
    // (whose output to ln is tagged in the lent buffer's room); every lent run hands out the lent buffer.
    const segs: Seg[] = [];
    for (let i = 0; i < 6; i++) segs.push({ conn: 1, server: false, flags: 0x10, payload: 0, lend: true, times: 1 }, { conn: 1, server: true, flags: 0x18, payload: 100, lend: true, times: 1 });
    const r = play(segs);
    expect(r.connHits).toBeGreaterThan(6);
    expect(r.lentOut).toBe(4 + 12);
  });
});
