// A large engine's slot storage is handed to the next engine once the first is collected (engine.ts `slotStores`):
// what the storage held must never show. An engine that takes a dirty storage answers as one with fresh zero pages.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { OvsConntrack } from './engine.js';
import { F, frame, Runner, tupleOf } from './packets.test-helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const V = '10.96.0.10';
const B = '10.1.0.5';
// 2^18 slots are 35.6 MB of slot storage: past the 32 MiB an engine's storage must have to be kept for reuse.
const OPTIONS = { initialCapacity: 4, reservedCapacity: 1 << 18, sweepIntervalMs: 0 };

function storage(ct: OvsConntrack): ArrayBuffer {
  return (ct as unknown as { keys: Uint32Array }).keys.buffer as ArrayBuffer;
}

/** `n` connections through DNAT, each answered; `dirty` marks, labels and half-closes them, in other ports. */
function workload(r: Runner, n: number, dirty: boolean): unknown[] {
  const out: unknown[] = [];
  const port = dirty ? 20000 : 40000;
  for (let i = 0; i < n; i++) {
    const c = `10.0.${i >> 8}.${i & 255}`;
    r.now += 1;
    const syn = frame({ src: c, dst: V, proto: 'tcp', sport: port + i, dport: 80, flags: F.SYN, seq: 1000 + i });
    const calls = dirty ? [{ zone: 1, commit: true, dnat: `${B}:8080`, mark: [0xabcd0000 + i, 0xffffffff] as [number, number], label: [[i, 7, 9, 0xffff], [-1, -1, -1, -1]] as [number[], number[]] }] : [{ zone: 1, commit: true, dnat: `${B}:8080` }];
    out.push(r.run(syn, ...calls), r.res.mark, [...r.res.label], tupleOf(syn));
    const synack = frame({ src: B, dst: c, proto: 'tcp', sport: 8080, dport: port + i, flags: F.SYN | F.ACK, seq: 9000, ack: 1001 + i });
    out.push(r.run(synack, { zone: 1, nat: 'apply' }), r.res.mark, [...r.res.label], tupleOf(synack));
    if (dirty) r.run(frame({ src: c, dst: V, proto: 'tcp', sport: port + i, dport: 80, flags: F.FIN | F.ACK, seq: 1001 + i, ack: 9001 }), { zone: 1, nat: 'apply' });
  }
  out.push(r.ct.connections(r.now).map((c) => ({ ...c, timeout: c.timeout })));
  return out;
}

describe('OvsConntrack: slot storage reused across engines', () => {
  it('an engine on a collected engine’s storage answers as one on fresh storage', async () => {
    const n = 300;
    // The reference, on fresh storage (no engine has been collected yet in this file), kept alive throughout.
    const fresh = new Runner(OPTIONS);
    const expected = workload(fresh, n, false);
    let old: Runner | undefined = new Runner(OPTIONS);
    workload(old, n, true);
    const dirty = storage(old.ct);
    // Identity compared as a boolean: a failing toBe on two 35 MB buffers would print (and diff) them.
    expect(dirty === storage(fresh.ct)).toBe(false);
    old = undefined;
    // A WeakRef's target lives until the job that made or read it ends: one turn of the event loop, then collect.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    const next = new Runner(OPTIONS);
    const got = workload(next, n, false);
    expect(storage(next.ct) === dirty).toBe(true);
    expect(got).toEqual(expected);
    // The fresh engine's storage is still its own: a live engine's storage is never handed out.
    expect(storage(fresh.ct) === dirty).toBe(false);
  });
});
