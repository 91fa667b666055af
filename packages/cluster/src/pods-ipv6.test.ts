import { describe, expect, it } from 'vitest';
import { buildFrame, internetChecksum, parseFrame, pseudoHeaderSumV6 } from '@vippath/wire';
import type { PodState } from './derive.js';
import { PodHost } from './pods.js';

const POD: PodState = { name: 'web-0', namespace: 'default', node: 'node1', ip: '10.180.204.2', ip6: 'fd00:10:180::3', mac: '00:00:00:b4:cc:02', ready: true, labels: {}, lsp: 'web-0.default' };
const CLIENT = { mac: '52:54:00:aa:01:10', ip: 'fd00:10:180::100' };
const SLL = Uint8Array.from(CLIENT.mac.split(':').map((x) => parseInt(x, 16)));

/** The ICMPv6/TCP checksum of an IPv6 frame without VLAN tags is right (the sum over it and its pseudo-header is 0). */
function checksumOk(f: Uint8Array): boolean {
  const len = (f[18]! << 8) | f[19]!;
  return internetChecksum(f, 54, len, pseudoHeaderSumV6(f, 22, 38, f[20]!, len)) === 0;
}

const ns = (target: string, opts: { dst?: string; src?: string; hop?: number } = {}): Uint8Array => buildFrame({
  dst: '33:33:ff:00:00:03', src: CLIENT.mac,
  ipv6: { src: opts.src ?? CLIENT.ip, dst: opts.dst ?? 'ff02::1:ff00:3', hopLimit: opts.hop ?? 255 },
  ndp: { type: 135, router: false, solicited: false, override: false, target, options: [{ type: 1, data: SLL }] },
});
const tcp = (flags: number, seq: number, ack: number, payload?: string, dport = 80): Uint8Array => buildFrame({
  dst: POD.mac, src: CLIENT.mac, ipv6: { src: CLIENT.ip, dst: POD.ip6! },
  tcp: { srcPort: 40000, dstPort: dport, seq, ack, flags, window: 64240, ...(payload ? { payload: new TextEncoder().encode(payload) } : {}) },
});

describe('a dual-stack pod over IPv6', () => {
  it('answers a neighbor solicitation for its address (solicited-node group) with a solicited, override NA carrying its MAC', () => {
    const [na, ...more] = new PodHost(POD).receive(ns(POD.ip6!), 0);
    expect(more).toEqual([]);
    const r = parseFrame(na!);
    expect(r.eth).toMatchObject({ dst: CLIENT.mac, src: POD.mac });
    expect(r.ipv6).toMatchObject({ src: POD.ip6, dst: CLIENT.ip, hopLimit: 255 });
    expect(r.ndp).toEqual({ type: 136, router: false, solicited: true, override: true, target: POD.ip6, options: [{ type: 2, data: Uint8Array.from([0, 0, 0, 0xb4, 0xcc, 2]) }] });
    expect(checksumOk(na!)).toBe(true);
  });

  it('a solicitation from the unspecified address (DAD) is answered to all nodes, unsolicited', () => {
    const [na] = new PodHost(POD).receive(ns(POD.ip6!, { src: '::' }), 0);
    const r = parseFrame(na!);
    expect(r.eth.dst).toBe('33:33:00:00:00:01');
    expect(r.ipv6).toMatchObject({ dst: 'ff02::1' });
    expect(r.ndp).toMatchObject({ solicited: false, override: true });
  });

  it('does not answer a solicitation for another address, with a hop limit below 255, or IPv6 when it has no IPv6 address', () => {
    const host = new PodHost(POD);
    expect(host.receive(ns('fd00:10:180::4', { dst: 'ff02::1:ff00:4' }), 0)).toEqual([]);
    expect(host.ignoredCode).toBe('ipv6');
    expect(host.receive(ns(POD.ip6!, { hop: 64 }), 0)).toEqual([]);
    const { ip6: _, ...v4only } = POD;
    const single = new PodHost(v4only);
    expect(single.receive(ns(POD.ip6!), 0)).toEqual([]);
    expect(single.ignoredCode).toBe('ipv6');
  });

  it('TCP on its port: SYN-ACK, the /clientip answer with the bracketed client address and FIN, the FIN acknowledged; the access log has the request', () => {
    const host = new PodHost(POD);
    const [synack] = host.receive(tcp(0x02, 1000, 0), 0);
    const s = parseFrame(synack!);
    expect(s.ipv6).toMatchObject({ src: POD.ip6, dst: CLIENT.ip });
    expect(s.tcp).toMatchObject({ srcPort: 80, dstPort: 40000, ack: 1001, flags: 0x12 });
    expect(checksumOk(synack!)).toBe(true);
    const isn = s.tcp!.seq;
    expect(host.receive(tcp(0x10, 1001, isn + 1), 1)).toEqual([]);
    const req = 'GET /clientip HTTP/1.1\r\nHost: x\r\n\r\n';
    const [resp] = host.receive(tcp(0x18, 1001, isn + 1, req), 2);
    const r = parseFrame(resp!);
    expect(r.tcp).toMatchObject({ seq: isn + 1, ack: 1001 + req.length, flags: 0x19 });
    expect(new TextDecoder().decode(r.tcp!.payload)).toMatch(/\r\n\r\n\[fd00:10:180::100\]:40000$/);
    expect(checksumOk(resp!)).toBe(true);
    expect(host.log).toEqual([{ time: 2, client: '[fd00:10:180::100]:40000', path: '/clientip' }]);
    const [finAck] = host.receive(tcp(0x11, 1001 + req.length, r.tcp!.seq + r.tcp!.payload.length + 1), 3);
    expect(parseFrame(finAck!).tcp).toMatchObject({ flags: 0x10, ack: 1001 + req.length + 1 });
    // Closed: a further segment gets a RST.
    expect(parseFrame(host.receive(tcp(0x10, 1001 + req.length + 1, 5), 4)[0]!).tcp!.flags).toBe(0x04);
  });

  it('a SYN to a closed port is refused with RST+ACK; a segment to another IPv6 address is not taken', () => {
    const host = new PodHost(POD);
    expect(parseFrame(host.receive(tcp(0x02, 7, 0, undefined, 8080), 0)[0]!).tcp).toMatchObject({ flags: 0x14, ack: 8, seq: 0 });
    const other = buildFrame({ dst: POD.mac, src: CLIENT.mac, ipv6: { src: CLIENT.ip, dst: 'fd00:10:180::9' }, tcp: { srcPort: 1, dstPort: 80, seq: 1, flags: 0x02 } });
    expect(host.receive(other, 0)).toEqual([]);
    expect(host.ignoredCode).toBe('ipv6');
  });
});
