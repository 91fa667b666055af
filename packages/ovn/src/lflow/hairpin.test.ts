import { describe, expect, it } from 'vitest';
import { buildFrame, parseIPv4, parseIPv6, type DecodedFrame } from '@vippath/wire';
import { CtState, type ConntrackEngine, type CtRequest, type CtResult } from './ct-api.js';
import { LflowExecutor } from './executor.js';
import { HairpinTables, hairpinSnatIps } from './hairpin.js';
import { W, regWord } from './fields.js';
import { loadV6 } from './packet.js';
import type { LogicalFlow, SbLoadBalancer, SouthboundState } from './types.js';

describe('hairpin_snat_ip as ovn-controller reads it (extract_ip_addresses)', () => {
  it('at most one IPv4 and one IPv6, host prefixes allowed, reading stops at the first token that is no address', () => {
    expect(hairpinSnatIps('169.254.0.1 fd00::1')).toEqual({ v4: '169.254.0.1', v6: 'fd00::1' });
    expect(hairpinSnatIps('fd00::1/128  10.0.0.1/32')).toEqual({ v4: '10.0.0.1', v6: 'fd00::1' });
    expect(hairpinSnatIps('10.0.0.1 bogus fd00::1 fd00::2')).toEqual({ v4: '10.0.0.1' });
    expect(hairpinSnatIps('bogus 10.0.0.1')).toEqual({});
    expect(hairpinSnatIps(undefined)).toEqual({});
  });

  it('a bad value (two of a family, a network prefix) is ignored as a whole', () => {
    expect(hairpinSnatIps('10.0.0.1 10.0.0.2')).toEqual({});
    expect(hairpinSnatIps('fd00::3/64 169.254.0.3')).toEqual({});
    expect(hairpinSnatIps('169.254.0.3/24')).toEqual({});
  });
});

const words4 = (): Uint32Array => new Uint32Array(W.SIZE);

/** A packet's words after the LB stages: DNATed (ct_mark.natted) to `backend`, from `backend`, VIP in reg1/reg2. */
function hairpinned4(backend: string, vip: string, vport: number, bport: number): Uint32Array {
  const w = words4();
  w[W.ETH_TYPE] = 0x800;
  w[W.IP_PROTO] = 6;
  w[W.IPV4_SRC] = parseIPv4(backend);
  w[W.IPV4_DST] = parseIPv4(backend);
  w[W.TP_SRC] = 40000;
  w[W.TP_DST] = bport;
  w[W.CT_STATE] = CtState.TRK | CtState.NEW | CtState.DNAT;
  w[W.CT_MARK] = 2;
  w[regWord(1)] = parseIPv4(vip);
  w[regWord(2)] = vport;
  return w;
}

function hairpinned6(backend: string, vip: string, vport: number, bport: number): Uint32Array {
  const w = words4();
  w[W.ETH_TYPE] = 0x86dd;
  w[W.IP_PROTO] = 6;
  loadV6(w, W.IPV6_SRC, parseIPv6(backend), 0);
  loadV6(w, W.IPV6_DST, parseIPv6(backend), 0);
  w[W.TP_SRC] = 40000;
  w[W.TP_DST] = bport;
  w[W.CT_STATE] = CtState.TRK | CtState.NEW | CtState.DNAT;
  w[W.CT_MARK] = 2;
  loadV6(w, W.REGS + 4, parseIPv6(vip), 0);
  w[regWord(2)] = vport;
  return w;
}

const lb = (name: string, vips: Record<string, string>, options: Record<string, string>, datapaths = ['ls']): SbLoadBalancer => ({ name, protocol: 'tcp', vips, options: { hairpin_orig_tuple: 'true', ...options }, datapaths });

describe('HairpinTables (ovn-controller OFTABLE_CHK_LB_HAIRPIN, _REPLY, OFTABLE_CT_SNAT_HAIRPIN)', () => {
  it('IPv6: the hairpin learns a reply flow to the hairpin_snat_ip, per chassis; a reply to the VIP is not one', () => {
    const t = new HairpinTables([lb('a', { '[fd00:96::10]:80': '[fd00::1]:8080' }, { hairpin_snat_ip: '169.254.0.9 fd00:169::9' })], 'ls', {});
    const w = hairpinned6('fd00::1', 'fd00:96::10', 80, 8080);
    expect(t.check(w, 'node1')).toBe(true);
    expect(t.snatTarget(w)?.bytes).toEqual(parseIPv6('fd00:169::9'));
    const reply = words4();
    reply[W.ETH_TYPE] = 0x86dd;
    reply[W.IP_PROTO] = 6;
    loadV6(reply, W.IPV6_SRC, parseIPv6('fd00::1'), 0);
    loadV6(reply, W.IPV6_DST, parseIPv6('fd00:169::9'), 0);
    reply[W.TP_SRC] = 8080;
    reply[W.TP_DST] = 40000;
    expect(t.reply(reply, 'node1')).toBe(true);
    expect(t.reply(reply, 'node2')).toBe(false);
    reply[W.TP_SRC] = 8081;
    expect(t.reply(reply, 'node1')).toBe(false);
    reply[W.TP_SRC] = 8080;
    loadV6(reply, W.IPV6_DST, parseIPv6('fd00:96::10'), 0);
    expect(t.reply(reply, 'node1')).toBe(false);
  });

  it('an IPv6 VIP written IPv4-mapped gets IPv4 flows (IN6_IS_ADDR_V4MAPPED): VIP a.b.c.d, backends as in6_addr_get_mapped_ipv4 takes them, the IPv4 hairpin_snat_ip', () => {
    const t = new HairpinTables([lb('m', { '[::ffff:10.96.0.20]:80': '[fd00::1]:8080,[::ffff:10.0.0.7]:8080' }, { hairpin_snat_ip: '169.254.0.9 fd00:169::9' })], 'ls', {});
    // The real hairpin-ovs run: an IPv6 packet DNATed back to its sender through such a VIP is no hairpin.
    for (const b of ['fd00::1', '::ffff:10.0.0.7']) {
      const w = hairpinned6(b, '::ffff:10.96.0.20', 80, 8080);
      expect(t.check(w, 'node1'), b).toBe(false);
      expect(t.snatTarget(w), b).toBeUndefined();
    }
    // What the flows do match: IPv4 with reg1 = 10.96.0.20, src = dst = the backend's low 32 bits if it is mapped
    // (10.0.0.7), 0.0.0.0 if not (fd00::1), SNAT to the IPv4 hairpin_snat_ip.
    for (const b of ['10.0.0.7', '0.0.0.0']) expect(t.check(hairpinned4(b, '10.96.0.20', 80, 8080), 'node1'), b).toBe(true);
    expect(t.snatTarget(hairpinned4('10.0.0.7', '10.96.0.20', 80, 8080))?.bytes.subarray(0, 4)).toEqual(Uint8Array.from([169, 254, 0, 9]));
  });

  it('no hairpin without ct_mark.natted, with another VIP in reg1, or with another backend port', () => {
    const t = new HairpinTables([lb('a', { '10.96.0.10:80': '10.0.0.1:8080' }, {})], 'ls', {});
    expect(t.check(hairpinned4('10.0.0.1', '10.96.0.10', 80, 8080), 'n')).toBe(true);
    const unnatted = hairpinned4('10.0.0.1', '10.96.0.10', 80, 8080);
    unnatted[W.CT_MARK] = 0;
    expect(t.check(unnatted, 'n')).toBe(false);
    expect(t.check(hairpinned4('10.0.0.1', '10.96.0.11', 80, 8080), 'n')).toBe(false);
    expect(t.check(hairpinned4('10.0.0.1', '10.96.0.10', 81, 8080), 'n')).toBe(false);
    expect(t.check(hairpinned4('10.0.0.1', '10.96.0.10', 80, 8081), 'n')).toBe(false);
    // lb_hairpin_use_ct_mark=false: ct.natted is ct_label bit 1.
    const label = new HairpinTables([lb('a', { '10.96.0.10:80': '10.0.0.1:8080' }, {})], 'ls', { lb_hairpin_use_ct_mark: 'false' });
    expect(label.check(hairpinned4('10.0.0.1', '10.96.0.10', 80, 8080), 'n')).toBe(false);
    const viaLabel = hairpinned4('10.0.0.1', '10.96.0.10', 80, 8080);
    viaLabel[W.CT_LABEL] = 2;
    expect(label.check(viaLabel, 'n')).toBe(true);
  });

  it('without hairpin_orig_tuple the flows read the conntrack original tuple (ct_state +trk+dnat, ct_nw_dst, ct_nw_proto, ct_tp_dst)', () => {
    const t = new HairpinTables([{ name: 'a', protocol: 'tcp', vips: { '10.96.0.10:80': '10.0.0.1:8080' }, options: {}, datapaths: ['ls'] }], 'ls', {});
    const w = hairpinned4('10.0.0.1', '10.96.0.99', 0, 8080);
    expect(t.check(w, 'n')).toBe(false);
    w[W.CT_NW_DST] = parseIPv4('10.96.0.10');
    w[W.CT_TP_DST] = 80;
    expect(t.check(w, 'n')).toBe(false);
    w[W.CT_NW_PROTO] = 6;
    expect(t.check(w, 'n')).toBe(true);
    expect(t.snatTarget(w)?.words[0]).toBe(parseIPv4('10.96.0.10'));
    w[W.CT_STATE] = CtState.TRK | CtState.NEW;
    expect(t.check(w, 'n')).toBe(false);
  });

  it('ct_snat_to_vip: a hairpin_snat_ip flow (priority 200) only on the LB datapaths, over the plain VIP flow (100) of another LB with the same VIP', () => {
    const lbs = [lb('plain', { '10.96.0.10:80': '10.0.0.1:8080' }, {}, ['other']), lb('snat', { '10.96.0.10:80': '10.0.0.1:8080' }, { hairpin_snat_ip: '169.254.0.9' })];
    const w = hairpinned4('10.0.0.1', '10.96.0.10', 80, 8080);
    expect(new HairpinTables(lbs, 'ls', {}).snatTarget(w)?.words[0]).toBe(parseIPv4('169.254.0.9'));
    expect(new HairpinTables(lbs, 'other', {}).snatTarget(w)?.words[0]).toBe(parseIPv4('10.96.0.10'));
    // The IPv6 side of an LB whose hairpin_snat_ip is IPv4 only SNATs to its VIP.
    const v6 = new HairpinTables([lb('snat', { '[fd00:96::10]:80': '[fd00::1]:8080' }, { hairpin_snat_ip: '169.254.0.9' })], 'ls', {});
    expect(v6.snatTarget(hairpinned6('fd00::1', 'fd00:96::10', 80, 8080))?.bytes).toEqual(parseIPv6('fd00:96::10'));
    // A port-less VIP's flow (priority 90) matches any protocol and port.
    const noport = new HairpinTables([lb('np', { '10.96.0.12': '10.0.0.3' }, { hairpin_snat_ip: '169.254.0.6' })], 'ls', {});
    const u = hairpinned4('10.0.0.3', '10.96.0.12', 0, 53);
    u[W.IP_PROTO] = 17;
    expect(noport.check(u, 'n')).toBe(true);
    expect(noport.snatTarget(u)?.words[0]).toBe(parseIPv4('169.254.0.6'));
  });
});

/** An engine scripted per call: what each ct() reports, and what it was handed. */
class Scripted implements ConntrackEngine {
  readonly seen: Array<{ hasOriginal: boolean; dst: number }> = [];
  /** The tuple's other fields each call was handed. */
  readonly handed: Array<{ proto: number; srcPort: number; dstPort: number; src: number }> = [];
  constructor(private readonly script: Array<(res: CtResult) => void>) {}
  execute(_f: Uint8Array, _l: number, _d: DecodedFrame, _req: CtRequest, res: CtResult): void {
    this.seen.push({ hasOriginal: res.hasOriginal, dst: (res.originalDst[0]! << 24 | res.originalDst[1]! << 16 | res.originalDst[2]! << 8 | res.originalDst[3]!) >>> 0 });
    const s = res.originalSrc;
    this.handed.push({ proto: res.originalProto, srcPort: res.originalSrcPort, dstPort: res.originalDstPort, src: ((s[0]! << 24) | (s[1]! << 16) | (s[2]! << 8) | s[3]!) >>> 0 });
    this.script[this.seen.length - 1]?.(res);
  }
}

function sbWith(rows: Array<[number, number, string, string]>): SouthboundState {
  const flows: LogicalFlow[] = rows.map(([table, priority, match, actions], i) => ({ pipeline: 'ingress', table, stage: `ls_in_t${table}`, priority, match, actions, uuid: `${i}0000000-0000-0000-0000-000000000000` }));
  flows.push({ pipeline: 'egress', table: 0, stage: 'ls_out_t0', priority: 0, match: '1', actions: 'output;' });
  return {
    datapaths: [{ name: 'ls', tunnelKey: 1 }],
    flows: new Map([['ls', flows]]),
    portBindings: [
      { logicalPort: 'p1', type: '', mac: ['00:00:00:00:00:01 10.0.0.1'], portSecurity: [], tunnelKey: 1, chassis: 'n', options: {}, datapath: 'ls' },
      { logicalPort: 'p2', type: '', mac: ['00:00:00:00:00:02 10.0.0.2'], portSecurity: [], tunnelKey: 2, chassis: 'n', options: {}, datapath: 'ls' },
    ],
    multicastGroups: [], loadBalancers: [], fdb: [], options: {}, addressSets: new Map(), portGroups: new Map(),
  };
}

describe('the conntrack original tuple between ct() actions (OVS write_ct_md)', () => {
  const sb = sbWith([
    [0, 0, '1', 'ct_next;'],
    [1, 0, '1', 'ct_next;'],
    [2, 10, 'ct_nw_dst == 10.96.0.10', 'outport = "p2"; output;'],
    [2, 0, '1', 'drop;'],
  ]);
  const conn = (res: CtResult): void => {
    res.state = CtState.TRK | CtState.EST;
    res.tupleWritten = true;
    res.hasOriginal = true;
    res.originalIpv6 = false;
    res.originalDst.set([10, 96, 0, 10]);
    res.originalSrc.set([10, 0, 0, 1]);
    res.originalProto = 6;
    res.originalDstPort = 80;
  };
  const run = (engine: Scripted, on = sb, chassis: string | null = 'n'): string[] => {
    const f = buildFrame({ src: '00:00:00:00:00:01', dst: '00:00:00:00:00:02', ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { srcPort: 40000, dstPort: 80 } });
    return new LflowExecutor(on, 'ls', { ...(chassis ? { chassis } : {}), ct: engine }).runFrame(f, f.length, 'p1').outputs.map((o) => o.port);
  };

  it('a second ct() that cannot track the packet zeroes ct_nw_dst; one that finds a connection writes its tuple', () => {
    const untrackable = (res: CtResult): void => {
      res.state = CtState.TRK | CtState.INV;
      res.clearOriginal();
      res.tupleWritten = true;
    };
    expect(run(new Scripted([conn, untrackable]))).toEqual([]);
    expect(run(new Scripted([untrackable, conn]))).toEqual(['p2']);
  });

  it('the tuple the first ct() wrote is handed to the second (check_orig_tuple reads it); an engine that writes none leaves it', () => {
    const e = new Scripted([conn, (res) => (res.state = CtState.TRK | CtState.EST)]);
    expect(run(e)).toEqual(['p2']);
    expect(e.seen).toEqual([{ hasOriginal: false, dst: 0 }, { hasOriginal: true, dst: parseIPv4('10.96.0.10') }]);
  });

  it('each ct() replaces every tuple word: none is left from the call before (a tuple-less call, an IPv4 tuple after an IPv6 one)', () => {
    // The executor writes each word of the tuple once per call (storeOriginal): a word skipped as "already written"
    // would keep the previous call's value here.
    const withPorts = (res: CtResult): void => {
      conn(res);
      res.originalSrcPort = 40000;
    };
    // No tuple (hasOriginal false): the numbers the result still holds are not the packet's.
    const none = (res: CtResult): void => {
      res.state = CtState.TRK | CtState.INV;
      res.tupleWritten = true;
      res.hasOriginal = false;
    };
    const three = sbWith([
      [0, 0, '1', 'ct_next;'],
      [1, 0, '1', 'ct_next;'],
      [2, 0, '1', 'ct_next;'],
      [3, 0, '1', 'outport = "p2"; output;'],
    ]);
    const e = new Scripted([withPorts, none, (res) => (res.state = CtState.TRK | CtState.EST)]);
    expect(run(e, three)).toEqual(['p2']);
    expect(e.handed[1]).toEqual({ proto: 6, srcPort: 40000, dstPort: 80, src: parseIPv4('10.0.0.1') });
    // (Without a protocol no engine reads the addresses: loadOriginal leaves those as they were.)
    expect([e.handed[2]!.proto, e.handed[2]!.srcPort, e.handed[2]!.dstPort]).toEqual([0, 0, 0]);
    expect(e.seen[2]!.hasOriginal).toBe(false);
    // One ct_ipv6_dst word set at a time (word i of the field holds bytes 12 - 4i .. 15 - 4i): after an IPv4 tuple,
    // none of them matches.
    for (const a of ['fd00:96::', '0:0:fd00:96::', '::fd00:96:0:0', '::fd00:96']) {
      const v6conn = (res: CtResult): void => {
        conn(res);
        res.originalIpv6 = true;
        res.originalDst.set(parseIPv6(a));
      };
      const sb6 = sbWith([
        [0, 0, '1', 'ct_next;'],
        [1, 0, '1', 'ct_next;'],
        [2, 10, `ct_ipv6_dst == ${a}`, 'outport = "p2"; output;'],
        [2, 0, '1', 'drop;'],
      ]);
      expect(run(new Scripted([conn, v6conn]), sb6), a).toEqual(['p2']);
      expect(run(new Scripted([v6conn, conn]), sb6), a).toEqual([]);
    }
  });

  it('after ct_commit (no recirculation) the rest of the pass sees an untracked packet on a chassis, not in ovn-trace', () => {
    const committed = sbWith([
      [0, 0, '1', 'ct_next;'],
      [1, 0, '1', 'ct_commit { ct_mark.blocked = 0; }; next;'],
      [2, 10, 'ct.trk', 'outport = "p2"; output;'],
      [2, 0, '1', 'drop;'],
    ]);
    expect(run(new Scripted([conn, conn]), committed)).toEqual([]);
    expect(run(new Scripted([conn, conn]), committed, null)).toEqual(['p2']);
  });
});
