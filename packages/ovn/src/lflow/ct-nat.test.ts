/**
 * `ct_dnat` / `ct_snat` with an argument, as OVN v23.03.1 reads, prints and compiles it (lib/actions.c parse_ct_nat,
 * format_ct_nat, encode_ct_nat): `(IP)`, `(IP, LO)`, `(IP, LO-HI)`; and what a port range does with the OVS-like
 * conntrack engine (a port of the range per connection, as lib/conntrack.c nat_get_unique_tuple) and with the
 * ovn-trace imitation (execute_ct_nat: the address only). test/ipv6-text.test.ts checks the same against ovn-trace.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame, parseFrame, type DecodedFrame } from '@vippath/wire';
import { OvsConntrack } from '../ct/index.js';
import { parseActions } from './actions.js';
import { CtNat, type ConntrackEngine, type CtRequest, type CtResult } from './ct-api.js';
import { TraceConntrack } from './ct-trace.js';
import { LflowExecutor } from './executor.js';
import { LflowSyntaxError } from './lexer.js';
import type { SouthboundState } from './types.js';
import { flowList, oneSwitch, vif } from './switch.test-helpers.js';

const text = (a: string): string => parseActions(a, 'ingress', 0).actions[0]!.text;

describe('ct_dnat / ct_snat arguments (parse_ct_nat)', () => {
  it('takes an address, a port or a port range after a comma, and prints them as format_ct_nat', () => {
    expect(text('ct_dnat(10.0.0.5);')).toBe('ct_dnat(10.0.0.5);');
    expect(text('ct_dnat(10.0.0.5, 80);')).toBe('ct_dnat(10.0.0.5,80);');
    expect(text('ct_snat( 10.0.0.5 ,80 - 90 );')).toBe('ct_snat(10.0.0.5,80-90);');
    expect(text('ct_dnat(fd00:0:0::0:a, 8080-8081);')).toBe('ct_dnat(fd00::a,8080-8081);');
    // An IPv6 address and a port cannot be told apart without a comma (lib/lex.c): one address.
    expect(text('ct_dnat(fd00::1:80);')).toBe('ct_dnat(fd00::1:80);');
    // The ports are uint16_t (struct ovnact_ct_nat): a larger constant keeps its low 16 bits.
    expect(text('ct_dnat(10.0.0.5, 65617);')).toBe('ct_dnat(10.0.0.5,81);');
    // The high end is any unmasked integer constant (only LEX_T_INTEGER is checked): hex, even an address.
    expect(text('ct_dnat(10.0.0.5, 80-0x5A);')).toBe('ct_dnat(10.0.0.5,80-90);');
    expect(text('ct_dnat(10.0.0.5, 80-10.0.1.0);')).toBe('ct_dnat(10.0.0.5,80-256);');
    expect(text('ct_dnat(10.0.0.5, 1-65536064);')).toBe('ct_dnat(10.0.0.5,1-64);');
    const [a] = parseActions('ct_snat(10.0.0.5, 80-90);', 'ingress', 0).actions;
    expect(a).toMatchObject({ k: 'ct_snat', to: { ipv6: false, ip4: 0x0a000005, portLo: 80, portHi: 90 } });
  });

  it('refuses what OVN refuses: IP:port, brackets, masks, hex or zero low ports, ranges that do not rise', () => {
    for (const bad of [
      'ct_dnat(10.0.0.5:80);',
      'ct_dnat([fd00::1]);',
      'ct_dnat([fd00::1]:80);',
      'ct_dnat(10.0.0.0/24);',
      'ct_dnat(167772165);',
      'ct_dnat();',
      'ct_dnat(10.0.0.5,);',
      'ct_dnat(10.0.0.5, 0x50);',
      'ct_dnat(10.0.0.5, 0);',
      'ct_dnat(10.0.0.5, 65536);',
      'ct_dnat(10.0.0.5, 80-80);',
      'ct_dnat(10.0.0.5, 80-79);',
      'ct_dnat(10.0.0.5, 80-65536);',
      'ct_dnat(10.0.0.5, 80-);',
      'ct_dnat(10.0.0.5, 80-90/8);',
      'ct_dnat(10.0.0.5, -80);',
      'ct_dnat(10.0.0.5, 80--90);',
      'ct_dnat(10.0.0.5, 80, 90);',
      'ct_snat(10.0.0.5 80);',
      'ct_snat(10.0.0.5, 080);',
    ]) expect(() => parseActions(bad, 'ingress', 0), bad).toThrow(LflowSyntaxError);
  });

  it('generated arguments: accepted exactly when parse_ct_nat would, printed from the values', () => {
    fc.assert(
      fc.property(fc.constantFrom('ct_dnat', 'ct_snat'), fc.tuple(fc.nat(255), fc.nat(255)), fc.option(fc.tuple(fc.nat(70000), fc.option(fc.tuple(fc.nat(70000), fc.boolean()), { nil: undefined })), { nil: undefined }), (name, [b, c], ports) => {
        let arg = `10.${b}.${c}.1`;
        let want: string | undefined = `${name}(10.${b}.${c}.1`;
        if (ports) {
          const [lo, hi] = ports;
          arg += `, ${lo}`;
          const lo16 = lo & 0xffff;
          want = lo16 === 0 ? undefined : `${want},${lo16}`;
          if (hi) {
            arg += `-${hi[1] ? `0x${hi[0].toString(16)}` : hi[0]}`;
            const hi16 = hi[0] & 0xffff;
            want = want === undefined || hi16 <= lo16 ? undefined : `${want}-${hi16}`;
          }
        }
        const action = `${name}(${arg});`;
        if (want === undefined) expect(() => parseActions(action, 'ingress', 0), action).toThrow(LflowSyntaxError);
        else expect(text(action), action).toBe(`${want});`);
      }),
      { numRuns: 500 },
    );
  });
});

/** Records each ct() request's NAT part, then hands the call on. */
class Spy implements ConntrackEngine {
  readonly calls: Array<{ nat: number; commit: boolean; zone: number; lo: number; hi: number }> = [];
  constructor(private readonly inner: ConntrackEngine) {}
  execute(f: Uint8Array, l: number, d: DecodedFrame, r: CtRequest, res: CtResult, now: number): void {
    this.calls.push({ nat: r.nat, commit: r.commit, zone: r.zone, lo: r.natPortMin, hi: r.natPortMax });
    this.inner.execute(f, l, d, r, res, now);
  }
}

const C = { mac: '00:00:00:00:00:01', ip: '10.0.0.1' };
const S = { mac: '00:00:00:00:00:02', ip: '10.0.0.2' };

/** `ct_dnat(10.0.0.9, 8080-8082)` on every IP packet from p1, then out of p2; replies from p2 through `ct_dnat;`. */
function rangeSwitch(action: string): SouthboundState {
  const f = flowList();
  f.add('ingress', 0, 10, 'inport == "p1" && ip4', action);
  f.add('ingress', 0, 10, 'inport == "p2" && ip4', 'ct_dnat;');
  f.add('ingress', 1, 10, 'inport == "p1"', 'outport = "p2"; output;');
  f.add('ingress', 1, 10, 'inport == "p2"', 'outport = "p1"; output;');
  f.add('egress', 0, 0, '1', 'output;');
  return oneSwitch(f.flows, [vif('p1', 1, `${C.mac} ${C.ip}`), vif('p2', 2, `${S.mac} ${S.ip}`)]);
}

function send(ex: LflowExecutor, inport: string, spec: Parameters<typeof buildFrame>[0]): ReturnType<typeof parseFrame> | undefined {
  const f = buildFrame(spec);
  const buf = new Uint8Array(f.length + 64);
  buf.set(f);
  const r = ex.runFrame(buf, f.length, inport, 0, false);
  const o = r.outputs[0];
  return o ? parseFrame(o.frame.subarray(0, o.length)) : undefined;
}

describe('ct_dnat(IP, LO-HI) executed', () => {
  it('with the OVS-like engine: commit, nat(dst=IP:LO-HI) in the DNAT zone; each connection a free port of the range, replies translated back', () => {
    const spy = new Spy(new OvsConntrack());
    const ex = new LflowExecutor(rangeSwitch('ct_dnat(10.0.0.9, 8080-8082);'), 'ls', { ct: spy });
    const ports: number[] = [];
    // Four connections from one client port to one server: three take the range's three ports; the fourth finds
    // none free and keeps a port of the range with its source port moved (lib/conntrack.c v3.1.0
    // nat_get_unique_tuple: the destination range first, then the source port).
    for (let i = 0; i < 4; i++) {
      const out = send(ex, 'p1', { src: C.mac, dst: S.mac, ipv4: { src: C.ip, dst: `10.0.0.${100 + i}` }, tcp: { srcPort: 40000, dstPort: 80, flags: 0x002 } });
      expect([out?.ipv4?.dst, out?.checksum], `connection ${i}`).toEqual(['10.0.0.9', 'ok']);
      ports.push(out!.tcp!.dstPort);
      expect(out!.tcp!.srcPort === 40000, `connection ${i}'s source port kept`).toBe(i < 3);
    }
    expect(spy.calls[0]).toEqual({ nat: CtNat.DNAT, commit: true, zone: spy.calls[0]!.zone, lo: 8080, hi: 8082 });
    expect([...ports.slice(0, 3)].sort()).toEqual([8080, 8081, 8082]);
    expect(ports[3]).toBeGreaterThanOrEqual(8080);
    expect(ports[3]).toBeLessThanOrEqual(8082);
    // The server's answer to the second connection leaves as from that connection's original destination.
    const back = send(ex, 'p2', { src: S.mac, dst: C.mac, ipv4: { src: '10.0.0.9', dst: C.ip }, tcp: { srcPort: ports[1]!, dstPort: 40000, flags: 0x012 } });
    expect([back?.ipv4?.src, back?.tcp?.srcPort, back?.checksum]).toEqual(['10.0.0.101', 80, 'ok']);
  });

  it('the trace names the port of the range each connection got, not the range (the note `vippath trace` shows)', () => {
    const ex = new LflowExecutor(rangeSwitch('ct_dnat(10.0.0.9, 8080-8082);'), 'ls', { ct: new OvsConntrack() });
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      const f = buildFrame({ src: C.mac, dst: S.mac, ipv4: { src: C.ip, dst: `10.0.0.${100 + i}` }, tcp: { srcPort: 40000, dstPort: 80, flags: 0x002 } });
      const buf = new Uint8Array(f.length + 64);
      buf.set(f);
      const r = ex.runFrame(buf, f.length, 'p1', 0, true);
      const out = parseFrame(r.outputs[0]!.frame.subarray(0, r.outputs[0]!.length));
      expect(r.ct[0]?.backend, `connection ${i}`).toBe(`10.0.0.9:${out.tcp!.dstPort}`);
      got.push(r.ct[0]!.backend!);
    }
    expect(got.sort()).toEqual(['10.0.0.9:8080', '10.0.0.9:8081', '10.0.0.9:8082']);
  });

  it('ct_dnat(IP, LO) is the one port LO', () => {
    const spy = new Spy(new OvsConntrack());
    const ex = new LflowExecutor(rangeSwitch('ct_dnat(10.0.0.9, 8080);'), 'ls', { ct: spy });
    const out = send(ex, 'p1', { src: C.mac, dst: S.mac, ipv4: { src: C.ip, dst: '10.0.0.100' }, tcp: { srcPort: 40000, dstPort: 80, flags: 0x002 } });
    expect([out?.ipv4?.dst, out?.tcp?.dstPort]).toEqual(['10.0.0.9', 8080]);
    expect(spy.calls[0]).toMatchObject({ lo: 8080, hi: 8080 });
  });

  it('with the ovn-trace imitation: the address changes, the port does not (execute_ct_nat)', () => {
    const ex = new LflowExecutor(rangeSwitch('ct_dnat(10.0.0.9, 8080-8082);'), 'ls', { ct: new TraceConntrack() });
    const out = send(ex, 'p1', { src: C.mac, dst: S.mac, ipv4: { src: C.ip, dst: '10.0.0.100' }, tcp: { srcPort: 40000, dstPort: 80, flags: 0x002 } });
    expect([out?.ipv4?.dst, out?.tcp?.dstPort]).toEqual(['10.0.0.9', 80]);
  });
});
