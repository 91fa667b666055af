// What the engine remembers between calls to save work — the last missed key, the packet's key across its ct()
// calls — must never change an answer. Each test here is a case where a stale memory would answer wrongly.
import { describe, expect, it } from 'vitest';
import { rewriteIpv4Address, rewritePort } from '@vippath/wire';
import { CtState } from '../lflow/ct-api.js';
import { checksumsOk, F, frame, Runner, tupleOf, tupleView } from './packets.test-helpers.js';

const { NEW, EST, RPL, INV, TRK, DNAT, SNAT } = CtState;
const C = '10.0.0.1';
const V = '10.96.0.10';
const B = '10.1.0.5';
const syn = (over: Partial<Parameters<typeof frame>[0]> = {}) => frame({ src: C, dst: V, proto: 'tcp', sport: 40000, dport: 80, flags: F.SYN, seq: 1000, ...over });

describe('OvsConntrack: the miss memo', () => {
  it('a key that missed is found once committed, by the same packet and by the next', () => {
    const r = new Runner();
    const f = syn();
    r.res.reset();
    expect(r.call(f, { zone: 1 })).toBe(NEW | TRK);
    expect(r.call(f, { zone: 1, commit: true })).toBe(NEW | TRK);
    // The packet's own third ct() finds the entry its second one created.
    expect(r.call(f, { zone: 1 })).toBe(NEW | TRK);
    expect(r.ct.size).toBe(1);
    const synack = frame({ src: V, dst: C, proto: 'tcp', sport: 80, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 });
    expect(r.run(synack, { zone: 1 })).toBe(EST | RPL | TRK);
  });

  it("is one engine's: another engine's miss of a key this engine holds is not this engine's answer", () => {
    // The memo's words are shared by every engine (engine.ts MK); each engine's insert count, time and hash are its own.
    const a = new Runner();
    const b = new Runner();
    expect(a.run(syn(), { zone: 1, commit: true })).toBe(NEW | TRK);
    // A's memo: another client's key missed after A's last insert (A's insert count stays).
    expect(a.run(syn({ src: '10.0.0.2' }), { zone: 1 })).toBe(NEW | TRK);
    const synack = () => frame({ src: V, dst: C, proto: 'tcp', sport: 80, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 });
    // B has no connection: the reply's key misses there, and is the memo's key now.
    expect(b.run(synack(), { zone: 1 })).toBe(INV | TRK);
    // A holds the connection whose reply this is.
    expect(a.run(synack(), { zone: 1 })).toBe(EST | RPL | TRK);
    expect(a.ct.size).toBe(1);
    expect(b.ct.size).toBe(0);
  });

  it('time running backwards finds an entry that looked expired (capture timestamps are not monotonic)', () => {
    const r = new Runner();
    const synack = frame({ src: V, dst: C, proto: 'tcp', sport: 80, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 });
    expect(r.run(syn(), { zone: 1, commit: true })).toBe(NEW | TRK);
    // SYN_SENT times out after 30 s: at 31 s the SYN-ACK has no connection (a SYN-ACK cannot start one).
    r.now = 31_000;
    expect(r.run(synack, { zone: 1 })).toBe(INV | TRK);
    // A frame stamped earlier (reordered capture) sees the entry alive again.
    r.now = 1_000;
    expect(r.run(synack, { zone: 1 })).toBe(EST | RPL | TRK);
  });

  it('a miss in one zone says nothing about another zone', () => {
    const r = new Runner();
    expect(r.run(syn(), { zone: 2, commit: true })).toBe(NEW | TRK);
    expect(r.run(syn(), { zone: 1 })).toBe(NEW | TRK);
    const synack = frame({ src: V, dst: C, proto: 'tcp', sport: 80, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 });
    expect(r.run(synack, { zone: 1 })).toBe(INV | TRK);
    expect(r.run(synack, { zone: 2 })).toBe(EST | RPL | TRK);
  });
});

describe("OvsConntrack: the packet's key kept across its ct() calls", () => {
  it('follows a port rewrite by the caller between two calls in different zones', () => {
    const r = new Runner();
    const f = syn();
    r.res.reset();
    expect(r.call(f, { zone: 1, commit: true })).toBe(NEW | TRK);
    r.decoder.decode(f, r.d);
    rewritePort(f, r.d, 0, 41000);
    expect(r.call(f, { zone: 2, commit: true })).toBe(NEW | TRK);
    // Zone 2 holds the rewritten tuple, zone 1 the original.
    expect(r.ct.connections(0, 2).map((c) => c.orig.sport)).toEqual([41000]);
    expect(r.ct.connections(0, 1).map((c) => c.orig.sport)).toEqual([40000]);
  });

  it('follows an address rewrite by the caller', () => {
    const r = new Runner();
    const f = syn();
    r.res.reset();
    r.call(f, { zone: 1, commit: true });
    r.decoder.decode(f, r.d);
    rewriteIpv4Address(f, r.d, 12, 0x0a000063);
    r.call(f, { zone: 2, commit: true });
    expect(r.ct.connections(0, 2).map((c) => c.orig.src)).toEqual(['10.0.0.99']);
  });

  it("follows the engine's own NAT: after ct_lb's DNAT the egress zone tracks the translated tuple", () => {
    const r = new Runner();
    const f = syn();
    r.res.reset();
    expect(r.call(f, { zone: 1, nat: 'apply' })).toBe(NEW | TRK);
    expect(r.call(f, { zone: 1, commit: true, dnat: `${B}:8080` })).toBe(NEW | TRK | DNAT);
    expect(r.call(f, { zone: 2, commit: true })).toBe(NEW | TRK);
    expect(tupleOf(f)).toEqual({ src: C, dst: B, sport: 40000, dport: 8080 });
    expect(checksumsOk(f)).toBe(true);
    expect(r.ct.formatDump(0, { zone: 2 })).toEqual(['tcp,orig=(src=10.0.0.1,dst=10.1.0.5,sport=40000,dport=8080),reply=(src=10.1.0.5,dst=10.0.0.1,sport=8080,dport=40000),zone=2,protoinfo=(state=SYN_SENT)']);
  });

  it("after NAT, the zone's next ct() finds the connection by the translated key — original and reply direction", () => {
    const r = new Runner();
    const f = syn();
    r.res.reset();
    expect(r.call(f, { zone: 1, nat: 'apply' })).toBe(NEW | TRK);
    expect(r.call(f, { zone: 1, commit: true, dnat: `${B}:8080` })).toBe(NEW | TRK | DNAT);
    // ct_commit in the same zone: looked up by the reverse of the translated packet, found, not translated again.
    expect(r.call(f, { zone: 1, commit: true })).toBe(NEW | TRK | DNAT);
    expect(r.ct.size).toBe(1);
    const synack = frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 });
    r.res.reset();
    expect(r.call(synack, { zone: 1, nat: 'apply' })).toBe(EST | RPL | TRK | SNAT);
    expect(r.call(synack, { zone: 1, commit: true })).toBe(EST | RPL | TRK | SNAT);
    expect(tupleOf(synack)).toEqual({ src: V, dst: C, sport: 80, dport: 40000 });
    expect(r.ct.size).toBe(1);
  });

  it('after NAT, a connection swept between two calls of the packet is not found by its old key', () => {
    const r = new Runner({ sweepIntervalMs: 1_000 });
    const f = syn();
    r.res.reset();
    expect(r.call(f, { zone: 1, commit: true, dnat: `${B}:8080` })).toBe(NEW | TRK | DNAT);
    // 31 s later SYN_SENT has expired; this call sweeps it first, so the packet's connection is gone: new again,
    // in a reused slot, committed without translation (this ct() asks none).
    r.now = 31_000;
    expect(r.call(f, { zone: 1, commit: true })).toBe(NEW | TRK);
    expect(r.ct.formatDump(r.now)).toEqual(['tcp,orig=(src=10.0.0.1,dst=10.1.0.5,sport=40000,dport=8080),reply=(src=10.1.0.5,dst=10.0.0.1,sport=8080,dport=40000),zone=1,protoinfo=(state=SYN_SENT)']);
  });

  it('is not reused for another packet: a fresh packet in the same buffer is checked again', () => {
    const r = new Runner();
    const f = syn();
    expect(r.run(f, { zone: 1 })).toBe(NEW | TRK);
    // Same buffer, same headers, a corrupted byte the TCP checksum covers (the sequence number): OVS drops it
    // as invalid, and so must we although the last call saw these very headers valid.
    f[14 + 20 + 4] = f[14 + 20 + 4]! ^ 0xff;
    expect(r.run(f, { zone: 1 })).toBe(INV | TRK);
  });
});

describe("OvsConntrack: the kept key is each engine's own", () => {
  // Words-mode runners: a packet's calls after its first take the kept key on the frame generation's promise, without
  // samePacket's compares with the decode — a key another engine left in shared words would be taken unchecked.
  it("another engine's call between two of a packet's calls leaves this engine the packet's own key", () => {
    const a = new Runner({}, true);
    const b = new Runner({}, true);
    const f = syn();
    a.res.reset();
    expect(a.call(f, { zone: 1, commit: true })).toBe(NEW | TRK);
    // B's packet (another client) is the shared array's key now.
    expect(b.run(syn({ src: '10.0.0.2', sport: 41000 }), { zone: 1, commit: true })).toBe(NEW | TRK);
    const promised = a.promisedCalls;
    expect(a.call(f, { zone: 2, commit: true })).toBe(NEW | TRK);
    // The call was made on the promise (the same generation), and tracked A's packet nonetheless.
    expect(a.promisedCalls).toBe(promised + 1);
    expect(a.ct.connections(0, 2).map((c) => [c.orig.src, c.orig.sport])).toEqual([[C, 40000]]);
    expect(b.ct.connections(0, 1).map((c) => [c.orig.src, c.orig.sport])).toEqual([['10.0.0.2', 41000]]);
  });

  it("after this engine's NAT, another engine's call between keeps the translated tuple this engine's", () => {
    const a = new Runner({}, true);
    const b = new Runner({}, true);
    const f = syn();
    a.res.reset();
    expect(a.call(f, { zone: 1, commit: true, dnat: `${B}:8080` })).toBe(NEW | TRK | DNAT);
    const g = syn({ src: '10.0.0.2', sport: 41000 });
    expect(b.run(g, { zone: 1, commit: true })).toBe(NEW | TRK);
    expect(a.call(f, { zone: 2, commit: true })).toBe(NEW | TRK);
    expect(a.ct.formatDump(0, { zone: 2 })).toEqual(['tcp,orig=(src=10.0.0.1,dst=10.1.0.5,sport=40000,dport=8080),reply=(src=10.1.0.5,dst=10.0.0.1,sport=8080,dport=40000),zone=2,protoinfo=(state=SYN_SENT)']);
    // And B's own kept key still B's: its packet's next call, interleaved after A's.
    expect(b.call(g, { zone: 3, commit: true })).toBe(NEW | TRK);
    expect(b.ct.connections(0, 3).map((c) => [c.orig.src, c.orig.sport])).toEqual([['10.0.0.2', 41000]]);
  });

  it("another engine's hinted call (its own key writes) between two of a packet's calls leaves this engine its key", () => {
    const a = new Runner({}, true);
    const b = new Runner();
    const g = syn({ src: '10.0.0.2', sport: 41000 });
    expect(b.run(g, { zone: 1, commit: true })).toBe(NEW | TRK);
    const synack = frame({ src: V, dst: '10.0.0.2', proto: 'tcp', sport: 80, dport: 41000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 });
    expect(b.run(synack, { zone: 1 })).toBe(EST | RPL | TRK);
    const ack = () => frame({ src: '10.0.0.2', dst: V, proto: 'tcp', sport: 41000, dport: 80, flags: F.ACK, seq: 1001, ack: 5001 });
    // With NAT asked, no connection is kept for process_one_fast (which the hinted path leaves to execute).
    expect(b.run(ack(), { zone: 1, nat: 'apply' })).toBe(EST | TRK);
    // The connection's original node, found by that ACK: the hint of B's next ACK below.
    expect(b.ct.foundNode).toBeGreaterThanOrEqual(0);
    const hint = [b.ct.foundNode, b.ct.foundGen, b.ct.epoch] as const;
    b.hintTuple = tupleView(b.res);
    const f = syn();
    a.res.reset();
    expect(a.call(f, { zone: 1, commit: true })).toBe(NEW | TRK);
    // B's next packet, on the hinted path as a new packet (the hint its connection's node): hintedTcp4 keeps its key.
    b.hint = hint;
    b.fresh = true;
    expect(b.run(ack(), { zone: 1 })).toBe(EST | TRK);
    expect(b.ct.foundNode).toBe(hint[0]);
    expect(a.call(f, { zone: 2, commit: true })).toBe(NEW | TRK);
    expect(a.ct.connections(0, 2).map((c) => [c.orig.src, c.orig.sport])).toEqual([[C, 40000]]);
  });
});
