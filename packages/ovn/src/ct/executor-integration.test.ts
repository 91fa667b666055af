/**
 * The engine behind the logical-flow executor: a load-balanced connection through OVN-shaped flows
 * (ingress `ct_lb_mark` in the inport's zone, then `ct_lb_mark(backends=…)` for new connections; egress
 * `ct_lb_mark` in the outport's zone), as ls_in_pre_stateful / ls_in_lb / ls_out_pre_stateful do it.
 */
import { describe, expect, it } from 'vitest';
import { buildFrame, parseFrame, type FrameSpec } from '@vippath/wire';
import { LflowExecutor } from '../lflow/executor.js';
import type { LogicalFlow, SouthboundState } from '../lflow/types.js';
import { OvsConntrack } from './engine.js';
import { checksumsOk } from './packets.test-helpers.js';

const CLIENT = { mac: '52:54:00:00:00:64', ip: '10.0.0.50' };
const P1 = { mac: '00:00:00:00:00:01', ip: '10.0.0.1' };
const P2 = { mac: '00:00:00:00:00:02', ip: '10.0.0.2' };
const VIP = '10.0.0.100';

function lbSwitch(): SouthboundState {
  let n = 0;
  const mk = (pipeline: 'ingress' | 'egress') => ([table, priority, match, actions]: [number, number, string, string]): LogicalFlow => ({ pipeline, table, stage: `ls_${pipeline === 'ingress' ? 'in' : 'out'}_t${table}`, priority, match, actions, uuid: `${(++n).toString(16).padStart(8, '0')}-0000-0000-0000-000000000000` });
  const ingress: Array<[number, number, string, string]> = [
    [0, 100, 'ip', 'ct_lb_mark;'],
    [0, 0, '1', 'next;'],
    [1, 120, `ct.new && ip4.dst == ${VIP} && tcp.dst == 80`, `ct_lb_mark(backends=${P1.ip}:8080,${P2.ip}:8080);`],
    [1, 0, '1', 'next;'],
    [2, 50, `ip4.dst == ${P1.ip}`, 'outport = "p1"; output;'],
    [2, 50, `ip4.dst == ${P2.ip}`, 'outport = "p2"; output;'],
    [2, 50, `ip4.dst == ${CLIENT.ip}`, 'outport = "ln"; output;'],
    [2, 0, '1', 'drop;'],
  ];
  const egress: Array<[number, number, string, string]> = [
    [0, 100, 'ip', 'ct_lb_mark;'],
    [0, 0, '1', 'next;'],
    [1, 0, '1', 'output;'],
  ];
  return {
    datapaths: [{ name: 'ls', tunnelKey: 1 }],
    flows: new Map([['ls', [...ingress.map(mk('ingress')), ...egress.map(mk('egress'))]]]),
    portBindings: [
      { logicalPort: 'ln', type: 'localnet', mac: ['unknown'], portSecurity: [], tunnelKey: 1, options: { network_name: 'provider' }, datapath: 'ls' },
      { logicalPort: 'p1', type: '', mac: [`${P1.mac} ${P1.ip}`], portSecurity: [], tunnelKey: 2, options: {}, datapath: 'ls' },
      { logicalPort: 'p2', type: '', mac: [`${P2.mac} ${P2.ip}`], portSecurity: [], tunnelKey: 3, options: {}, datapath: 'ls' },
    ],
    multicastGroups: [
      { name: '_MC_flood', datapath: 'ls', tunnelKey: 32768, ports: ['ln', 'p1', 'p2'] },
      { name: '_MC_unknown', datapath: 'ls', tunnelKey: 32769, ports: ['ln'] },
    ],
    loadBalancers: [{ name: 'lb', protocol: 'tcp', vips: { [`${VIP}:80`]: `${P1.ip}:8080,${P2.ip}:8080` }, options: {}, datapaths: ['ls'] }],
    fdb: [],
    options: {},
    addressSets: new Map(),
    portGroups: new Map(),
  };
}

function send(ex: LflowExecutor, inport: string, spec: FrameSpec): Array<{ port: string; frame: Uint8Array }> {
  const f = buildFrame(spec);
  const buf = new Uint8Array(f.length + 8);
  buf.set(f);
  const r = ex.runFrame(buf, f.length, inport, 0);
  return r.outputs.map((o) => ({ port: o.port, frame: o.frame.slice(0, o.length) }));
}

describe('OvsConntrack behind the logical-flow executor', () => {
  it('a client SYN is DNATed to a backend, the backend SYN-ACK un-DNATed on the way out, the ACK is est and DNATed', () => {
    const ct = new OvsConntrack();
    const ex = new LflowExecutor(lbSwitch(), 'ls', { ct });
    const out = send(ex, 'ln', { src: CLIENT.mac, dst: P1.mac, ipv4: { src: CLIENT.ip, dst: VIP }, tcp: { srcPort: 40000, dstPort: 80, flags: 0x02, seq: 1000 } });
    expect(out).toHaveLength(1);
    const fwd = parseFrame(out[0]!.frame);
    const backend = fwd.ipv4!.dst;
    expect([P1.ip, P2.ip]).toContain(backend);
    expect(out[0]!.port).toBe(backend === P1.ip ? 'p1' : 'p2');
    expect(fwd.tcp!.dstPort).toBe(8080);
    expect(checksumsOk(out[0]!.frame)).toBe(true);
    // The committed connection lives in the localnet port's zone (its tunnel key here).
    expect(ct.formatDump(0)).toEqual([`tcp,orig=(src=${CLIENT.ip},dst=${VIP},sport=40000,dport=80),reply=(src=${backend},dst=${CLIENT.ip},sport=8080,dport=40000),zone=1,mark=2,protoinfo=(state=SYN_SENT)`]);

    const pod = backend === P1.ip ? P1 : P2;
    const back = send(ex, backend === P1.ip ? 'p1' : 'p2', { src: pod.mac, dst: CLIENT.mac, ipv4: { src: backend, dst: CLIENT.ip }, tcp: { srcPort: 8080, dstPort: 40000, flags: 0x12, seq: 5000, ack: 1001 } });
    expect(back.map((o) => o.port)).toEqual(['ln']);
    const rep = parseFrame(back[0]!.frame);
    expect([rep.ipv4!.src, rep.tcp!.srcPort, rep.ipv4!.dst, rep.tcp!.dstPort]).toEqual([VIP, 80, CLIENT.ip, 40000]);
    expect(checksumsOk(back[0]!.frame)).toBe(true);
    expect(ct.connections(0).find((c) => c.zone === 1)!.tcpStateOrig).toBe('ESTABLISHED');

    const ack = send(ex, 'ln', { src: CLIENT.mac, dst: P1.mac, ipv4: { src: CLIENT.ip, dst: VIP }, tcp: { srcPort: 40000, dstPort: 80, flags: 0x10, seq: 1001, ack: 5001 } });
    expect(ack.map((o) => o.port)).toEqual([backend === P1.ip ? 'p1' : 'p2']);
    expect(parseFrame(ack[0]!.frame).ipv4!.dst).toBe(backend);
    const c = ct.connections(0).find((x) => x.zone === 1)!;
    expect([c.tcpStateOrig, c.tcpStateReply]).toEqual(['ESTABLISHED', 'ESTABLISHED']);
  });

  it('a SYN+RST to the VIP is invalid: not load-balanced, no connection', () => {
    const ct = new OvsConntrack();
    const ex = new LflowExecutor(lbSwitch(), 'ls', { ct });
    const out = send(ex, 'ln', { src: CLIENT.mac, dst: P1.mac, ipv4: { src: CLIENT.ip, dst: VIP }, tcp: { srcPort: 40001, dstPort: 80, flags: 0x06 } });
    expect(out).toEqual([]);
    expect(ct.size).toBe(0);
  });

  it("runs that alternate outputs and drops each hand out exactly their own (the result's arrays are reused)", () => {
    const ex = new LflowExecutor(lbSwitch(), 'ls', { ct: new OvsConntrack() });
    const frameTo = (dst: string, sport: number) => {
      const f = buildFrame({ src: CLIENT.mac, dst: P1.mac, ipv4: { src: CLIENT.ip, dst }, udp: { srcPort: sport, dstPort: 53 } });
      const buf = new Uint8Array(f.length + 8);
      buf.set(f);
      return [buf, f.length] as const;
    };
    for (let i = 0; i < 6; i++) {
      const [a, al] = frameTo(P2.ip, 1000 + i);
      const r1 = ex.runFrame(a, al, 'ln', 0);
      expect([r1.outputs.map((o) => o.port), r1.drops.length]).toEqual([['p2'], 0]);
      // Nobody routes 10.9.9.9: table 2's drop.
      const [b, bl] = frameTo('10.9.9.9', 2000 + i);
      const r2 = ex.runFrame(b, bl, 'ln', 0);
      expect([r2.outputs.length, r2.drops.map((d) => [d.pipeline, d.table])]).toEqual([0, [['ingress', 2]]]);
      // What a caller adds to a run's empty array does not show in a later run's.
      r2.outputs.push(r1.outputs[0] ?? ({} as never));
    }
    const [c, cl] = frameTo('10.9.9.9', 3000);
    ex.runFrame(c, cl, 'ln', 0);
    const [d, dl] = frameTo('10.9.9.9', 3001);
    expect(ex.runFrame(d, dl, 'ln', 0).outputs).toEqual([]);
  });
});
