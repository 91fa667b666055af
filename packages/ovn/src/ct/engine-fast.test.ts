// process_one_fast (lib/conntrack.c branch-3.1): a packet's ct() answered from the connection its previous ct()
// found (`pkt->md.conn`) instead of a key extraction and a lookup. conntrack_execute takes it only when that
// connection is remembered (set_cached_conn: the previous call had no NAT; process_one_fast forgets it after a NAT),
// is of this call's zone, the call has no force and the packet is no ALG control packet (get_alg_ctl_type); the
// engine also asks the slot's generation to be unchanged (a freed slot is no connection). Each case counts the calls
// answered without process_one, and where the answers differ checks the full path's.
import { describe, expect, it } from 'vitest';
import { CtState } from '../lflow/ct-api.js';
import { F, frame, Runner } from './packets.test-helpers.js';

const { NEW, EST, RPL, TRK } = CtState;
const C = '10.0.0.1';
const V = '10.96.0.10';
const B = '10.1.0.5';

/** A Runner whose engine counts its execute calls that skipped process_one (the fast path; an invalid packet's too). */
function counting(options: ConstructorParameters<typeof Runner>[0] = {}): { r: Runner; fast: () => number } {
  // The plain path whatever VIPPATH_CT_WORDS says: the counts below wrap execute, which a words runner does not call.
  const r = new Runner(options, false);
  const ct = r.ct as unknown as { processOne: (...a: unknown[]) => void; execute: (...a: unknown[]) => void };
  const processOne = ct.processOne.bind(ct);
  const execute = ct.execute.bind(ct);
  let full = 0;
  let calls = 0;
  ct.processOne = (...a) => {
    full++;
    processOne(...a);
  };
  ct.execute = (...a) => {
    calls++;
    execute(...a);
  };
  return { r, fast: () => calls - full };
}

const udp = (dport: number) => frame({ src: C, dst: V, proto: 'udp', sport: 40000, dport, payload: 8 });

describe('OvsConntrack: process_one_fast', () => {
  it('taken: a second ct() in the zone reads the connection the first committed, and writes its mark', () => {
    const { r, fast } = counting();
    const f = udp(53);
    r.res.reset();
    expect(r.call(f, { zone: 1, commit: true })).toBe(NEW | TRK);
    expect(r.call(f, { zone: 1, mark: [7, 0xff] })).toBe(NEW | TRK);
    expect(fast()).toBe(1);
    expect(r.res.mark).toBe(7);
    expect(r.ct.connections(0)[0]!.mark).toBe(7);
  });

  it('not in another zone: the packet is looked up there (nothing), with no mark', () => {
    const { r, fast } = counting();
    const f = udp(53);
    r.res.reset();
    r.call(f, { zone: 1, commit: true, mark: [7, 0xff] });
    expect(r.call(f, { zone: 2 })).toBe(NEW | TRK);
    expect(r.res.mark).toBe(0);
    expect(r.res.zone).toBe(2);
    expect(fast()).toBe(0);
  });

  it('not with force: a connection found in the reply direction is replaced by one in this packet\'s', () => {
    const { r, fast } = counting();
    r.run(udp(53), { zone: 1, commit: true });
    const back = frame({ src: V, dst: C, proto: 'udp', sport: 53, dport: 40000, payload: 8 });
    r.res.reset();
    expect(r.call(back, { zone: 1 })).toBe(EST | RPL | TRK);
    expect(r.call(back, { zone: 1, force: true })).toBe(NEW | TRK);
    expect(fast()).toBe(0);
    // The replaced one is expired (its slot held until swept): the dump lists the new one only.
    expect(r.ct.formatDump(0)).toEqual(['udp,orig=(src=10.96.0.10,dst=10.0.0.1,sport=53,dport=40000),reply=(src=10.0.0.1,dst=10.96.0.10,sport=40000,dport=53),zone=1']);
  });

  it('not for an ALG control packet (TFTP: UDP to 69): process_one updates it, FIRST to MULTIPLE and its expiry', () => {
    // otherFirst and otherMultiple apart, so that the second update shows in the connection's timeout.
    const timeouts = { otherFirst: 100, otherMultiple: 40 };
    for (const [dport, alg] of [
      [69, true],
      [68, false],
    ] as const) {
      const { r, fast } = counting({ timeouts });
      const f = udp(dport);
      r.res.reset();
      r.call(f, { zone: 1, commit: true });
      expect(r.call(f, { zone: 1 })).toBe(NEW | TRK);
      expect({ dport, fast: fast(), timeout: r.ct.connections(0)[0]!.timeout }).toEqual({ dport, fast: alg ? 0 : 1, timeout: alg ? 40 : 100 });
    }
  });

  it('not for an ALG control packet (FTP: TCP from or to 21)', () => {
    for (const [sport, dport, alg] of [
      [40000, 21, true],
      [21, 40000, true],
      [40000, 22, false],
    ] as const) {
      const { r, fast } = counting();
      const f = frame({ src: C, dst: V, proto: 'tcp', sport, dport, flags: F.SYN, seq: 1000 });
      r.res.reset();
      r.call(f, { zone: 1, commit: true });
      expect(r.call(f, { zone: 1 })).toBe(NEW | TRK);
      expect({ sport, dport, fast: fast() }).toEqual({ sport, dport, fast: alg ? 0 : 1 });
    }
  });

  it('not after a NAT: process_one_fast forgets the connection once it translated the packet', () => {
    const { r, fast } = counting();
    r.run(frame({ src: C, dst: V, proto: 'tcp', sport: 40000, dport: 80, flags: F.SYN, seq: 1000 }), { zone: 1, commit: true, dnat: `${B}:8080` });
    const ack = frame({ src: C, dst: V, proto: 'tcp', sport: 40000, dport: 80, flags: F.ACK, seq: 1001, ack: 1 });
    r.res.reset();
    // Found without NAT (remembered), then translated from the memory (forgotten), then looked up.
    r.call(ack, { zone: 1 });
    r.call(ack, { zone: 1, nat: 'apply' });
    expect(fast()).toBe(1);
    r.call(ack, { zone: 1, nat: 'apply' });
    expect(fast()).toBe(1);
    // A connection without NAT: ct(nat) changes nothing in the packet, and still forgets the connection.
    const f = udp(53);
    r.res.reset();
    r.call(f, { zone: 2, commit: true });
    r.call(f, { zone: 2, nat: 'apply' });
    expect(fast()).toBe(2);
    expect(r.call(f, { zone: 2 })).toBe(NEW | TRK);
    expect(fast()).toBe(2);
  });

  it('not after a process_one with NAT: nothing is remembered', () => {
    const { r, fast } = counting();
    const f = frame({ src: C, dst: V, proto: 'tcp', sport: 40000, dport: 80, flags: F.SYN, seq: 1000 });
    r.res.reset();
    r.call(f, { zone: 1, commit: true, dnat: `${B}:8080` });
    r.call(f, { zone: 1 });
    expect(fast()).toBe(0);
  });

  it('not on a connection flushed since (its slot freed): nothing found, no mark', () => {
    const { r, fast } = counting();
    const f = udp(53);
    r.res.reset();
    r.call(f, { zone: 1, commit: true, mark: [7, 0xff] });
    expect(r.ct.flush(1)).toBe(1);
    expect(r.call(f, { zone: 1 })).toBe(NEW | TRK);
    expect(r.res.mark).toBe(0);
    expect(r.ct.size).toBe(0);
    expect(fast()).toBe(0);
  });

  it('not on a connection expired since (a later time for the same packet): nothing found, no mark', () => {
    const { r, fast } = counting();
    const f = udp(53);
    r.res.reset();
    r.call(f, { zone: 1, commit: true, mark: [7, 0xff] });
    // UDP's first timeout is 60 s; the runner's engine never sweeps by itself, so the slot still holds it.
    r.now = 120_000;
    expect(r.call(f, { zone: 1 })).toBe(NEW | TRK);
    expect(r.res.mark).toBe(0);
    expect(r.ct.connections(r.now)).toEqual([]);
    expect(fast()).toBe(0);
  });
});
