/**
 * Hairpin against a real OVS + OVN (one chassis, all userspace): Debian's ovn-northd 23.03 and ovn-controller
 * compile the switch into a dummy-datapath ovs-vswitchd; vippath's LflowExecutor runs the very Logical_Flow table
 * that northd wrote (read back with `ovsdb-client backup`), on that chassis, with the OVS-like conntrack engine.
 * What ovn-trace cannot show is what is checked here: ovn-controller's hairpin tables (chk_lb_hairpin and the
 * reply flows it learns, ct_snat_to_vip to options:hairpin_snat_ip or the VIP), IPv4 and IPv6.
 *
 * fast-check generates conversations: a pod opens a connection to a VIP of one of several load balancers (one
 * backend, itself or another pod; several backends; with and without hairpin_snat_ip, with and without ports, a VIP
 * shared with a load balancer of a second switch that has a hairpin_snat_ip,
 * TCP and UDP), the pod that receives the first packet answers it as a host would (to the source it saw), and the
 * sender goes on with a second packet; then load balancers are generated too (VIPs and ports, protocol, backends,
 * hairpin_snat_ip of either or both families), one at a time in place of the last. Every frame every pod port
 * receives must be the same, byte for byte.
 * A last part pauses northd and takes options:hairpin_orig_tuple off a load balancer's Southbound row, so
 * ovn-controller matches the conntrack original tuple (ct_nw_dst, ct_nw_proto, ct_tp_dst) after two ct()
 * actions instead of registers.
 * IPv4-mapped addresses, where ovn-trace is not OVN: IPv6 packets to an IPv4 VIP's `::ffff:a.b.c.d` (ovn-trace takes
 * the connection for one to the VIP; OVN balances nothing), and load balancers whose IPv6 VIP is written
 * `[::ffff:a.b.c.d]` (northd balances it as IPv6, ovn-controller's hairpin flows for it are IPv4).
 * Port ranges, where ovn-trace is not OVN either (it translates the address only): probe flows `ct_dnat(IP, LO-HI)` /
 * `ct_snat(IP, LO-HI)` written into the Southbound (northd paused), one connection more than the range has ports.
 * Logical flows OVN refuses to parse (one of each part × refusal kind, northd paused): ovn-controller installs no
 * OpenFlow flow with their cookie, and vippath skips exactly them.
 * IP header writes (`ip.ttl--`, `ip.ttl = N`, `ip.dscp = N`, `ip.ecn = N`, `ip6.label = N`) before and after ct_next / ct_dnat /
 * ct_lb_mark, then a match on ip.ttl, IPv4 and IPv6, TTL 0/1/2/64/255 (generated flows written into the Southbound,
 * northd paused): the same frames out, the header checksum right.
 * With a chassis that lacks ct-no-masked-label (a Chassis row without it: northd 23.03 then writes ct_lb, whose
 * natted bit goes into ct_label, and ovn-controller's hairpin flows read it there), generated conversations again.
 * Cases: VIPPATH_HAIRPIN_CASES (default 40) conversations, VIPPATH_HAIRPIN_LBS (default 8) generated load
 * balancers with 1–3 conversations each, VIPPATH_HAIRPIN_LABEL_CASES (default 16) conversations on ct_lb's flows, VIPPATH_HAIRPIN_MAPPED (default 16) packets to mapped addresses and half as
 * many load balancers with a mapped VIP, VIPPATH_HAIRPIN_NAT_RANGES (default 6) port ranges, VIPPATH_HAIRPIN_IP_WRITES
 * (default 40) IP header write cases; seed
 * VIPPATH_HAIRPIN_SEED (printed; `random` explores).
 */
import { mkdtempSync, mkdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LflowExecutor, OvsConntrack, readOvsdbFile, sbFromOvsdb } from '@vippath/ovn';
import { buildFrame, internetChecksum, parseFrame } from '@vippath/wire';
import { Daemons, testbedUnavailable } from '../packages/vippath/src/testbed/index.js';

const unavailable = testbedUnavailable();
if (unavailable) console.warn(`hairpin differential test skipped: ${unavailable}`);
const CASES = Number(process.env.VIPPATH_HAIRPIN_CASES ?? 40);
const SEED = process.env.VIPPATH_HAIRPIN_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_HAIRPIN_SEED ?? 20261201);

// p4 is on a second switch, whose load balancer shares lb-vip's VIPs and has a hairpin_snat_ip: ovn-controller's
// SNAT flow for it matches that datapath only (priority 200 + metadata), lb-vip's (100) every other.
// p5 has no port security (only the IPv4-mapped part uses it): a frame to an address not its own reaches it.
const PODS = [1, 2, 3, 4, 5].map((i) => ({ name: `p${i}`, ls: i === 4 ? 'ls2' : 'ls', mac: `0a:58:0a:00:00:0${i}`, ip4: `10.0.0.${i}`, ip6: `fd00::${i}`, portSecurity: i !== 5 }));
const GW = '0a:58:0a:00:00:fe';
interface Lb {
  name: string;
  proto: 'tcp' | 'udp';
  /** VIP → backends, per family; port 0: no ports. */
  v4: { vip: string; port: number; backends: number[]; bport: number };
  v6: { vip: string; port: number; backends: number[]; bport: number };
  snat?: string;
}
const LBS: Lb[] = [
  { name: 'lb-vip', proto: 'tcp', v4: { vip: '10.96.0.10', port: 80, backends: [0], bport: 8080 }, v6: { vip: 'fd00:96::10', port: 80, backends: [0], bport: 8080 } },
  { name: 'lb-snat', proto: 'tcp', v4: { vip: '10.96.0.11', port: 80, backends: [1], bport: 8080 }, v6: { vip: 'fd00:96::11', port: 80, backends: [1], bport: 8080 }, snat: '169.254.169.5 fd00:169::5' },
  { name: 'lb-noport', proto: 'tcp', v4: { vip: '10.96.0.12', port: 0, backends: [2], bport: 0 }, v6: { vip: 'fd00:96::12', port: 0, backends: [2], bport: 0 }, snat: '169.254.169.6' },
  { name: 'lb-multi', proto: 'tcp', v4: { vip: '10.96.0.13', port: 80, backends: [0, 1, 2], bport: 8080 }, v6: { vip: 'fd00:96::13', port: 80, backends: [0, 1, 2], bport: 8080 }, snat: 'fd00:169::7' },
  { name: 'lb-udp', proto: 'udp', v4: { vip: '10.96.0.14', port: 53, backends: [2], bport: 5353 }, v6: { vip: 'fd00:96::14', port: 53, backends: [2], bport: 5353 }, snat: '169.254.169.8 fd00:169::8' },
  // Its Southbound row loses options:hairpin_orig_tuple in the last part (see the header).
  { name: 'lb-ct', proto: 'tcp', v4: { vip: '10.96.0.15', port: 80, backends: [0], bport: 8080 }, v6: { vip: 'fd00:96::15', port: 80, backends: [0], bport: 8080 } },
];
const LB_LS2: Lb = { name: 'lb-ls2', proto: 'tcp', v4: { vip: '10.96.0.10', port: 80, backends: [3], bport: 8080 }, v6: { vip: 'fd00:96::10', port: 80, backends: [3], bport: 8080 }, snat: '169.254.169.9 fd00:169::9' };

/** One dummy port's unix stream: 2-byte big-endian length + frame. */
class Stream {
  private buf: Buffer = Buffer.alloc(0);
  readonly got: Uint8Array[] = [];
  last = 0;
  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      while (this.buf.length >= 2) {
        const n = this.buf.readUInt16BE(0);
        if (this.buf.length < 2 + n) break;
        this.got.push(new Uint8Array(this.buf.subarray(2, 2 + n)));
        this.last = Date.now();
        this.buf = this.buf.subarray(2 + n);
      }
    });
    socket.on('error', () => undefined);
  }
  send(f: Uint8Array): void {
    const h = Buffer.alloc(2);
    h.writeUInt16BE(f.length);
    this.socket.write(Buffer.concat([h, f]));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hex = (f: Uint8Array): string => Buffer.from(f).toString('hex');

async function open(path: string): Promise<Stream> {
  for (let i = 0; ; i++) {
    try {
      return new Stream(await new Promise<Socket>((res, rej) => {
        const c = connect(path);
        c.once('connect', () => res(c));
        c.once('error', rej);
      }));
    } catch (e) {
      if (i > 200) throw e;
      await sleep(20);
    }
  }
}

class Bed {
  readonly dir = mkdtempSync(join(tmpdir(), 'vphp-'));
  readonly d = new Daemons(this.dir);
  readonly streams = new Map<string, Stream>();
  private env(r: string): NodeJS.ProcessEnv {
    return { OVS_RUNDIR: r, OVS_LOGDIR: r, OVS_DBDIR: r, OVS_SYSCONFDIR: r, OVN_RUNDIR: r, OVN_LOGDIR: r, OVN_DBDIR: r, OVN_SYSCONFDIR: r };
  }
  private db(r: string, name: string, schema: string): void {
    this.d.run(this.env(r), 'ovsdb-tool', ['create', join(r, `${name}.db`), schema]);
    this.d.start(this.env(r), 'ovsdb-server', [`--log-file=${join(r, `${name}.log`)}`, `--remote=punix:${join(r, `${name}.sock`)}`, `--unixctl=${join(r, `${name}.ctl`)}`, join(r, `${name}.db`)], join(r, `${name}.pid`));
  }
  nbctl(...a: string[]): string {
    return this.d.run({}, 'ovn-nbctl', [`--db=unix:${join(this.dir, 'nb.sock')}`, '--timeout=20', ...a]);
  }
  sbctl(...a: string[]): string {
    return this.d.run({}, 'ovn-sbctl', [`--db=unix:${join(this.dir, 'sb.sock')}`, '--timeout=20', ...a]);
  }
  sbBackup(): Uint8Array {
    return new Uint8Array(Buffer.from(this.d.run({}, 'ovsdb-client', ['backup', `unix:${join(this.dir, 'sb.sock')}`]), 'utf8'));
  }
  ofctl(...a: string[]): string {
    const [cmd, ...rest] = a;
    return this.d.run({}, 'ovs-ofctl', [cmd!, `unix:${join(this.dir, 'n', 'br-int.mgmt')}`, ...rest]);
  }

  async start(): Promise<void> {
    const c = this.dir;
    this.db(c, 'nb', '/usr/share/ovn/ovn-nb.ovsschema');
    this.db(c, 'sb', '/usr/share/ovn/ovn-sb.ovsschema');
    this.d.start(this.env(c), 'ovn-northd', [`--log-file=${join(c, 'northd.log')}`, `--ovnnb-db=unix:${join(c, 'nb.sock')}`, `--ovnsb-db=unix:${join(c, 'sb.sock')}`, `--unixctl=${join(c, 'northd.ctl')}`], join(c, 'northd.pid'));
    const cmds: string[] = ['--', 'init', '--', 'ls-add', 'ls', '--', 'ls-add', 'ls2'];
    for (const p of PODS) {
      const a = `${p.mac} ${p.ip4} ${p.ip6}`;
      cmds.push('--', 'lsp-add', p.ls, p.name, '--', 'lsp-set-addresses', p.name, a, ...(p.portSecurity ? ['--', 'lsp-set-port-security', p.name, a] : []));
    }
    this.nbctl(...cmds);
    for (const lb of LBS) this.addLb(lb);
    this.addLb(LB_LS2, 'ls2');
    const r = join(c, 'n');
    mkdirSync(r);
    this.db(r, 'conf', '/usr/share/openvswitch/vswitch.ovsschema');
    const vsctl = (...a: string[]): string => this.d.run(this.env(r), 'ovs-vsctl', [`--db=unix:${join(r, 'conf.sock')}`, '--timeout=20', ...a]);
    vsctl('--no-wait', 'init');
    this.d.start(this.env(r), 'ovs-vswitchd', ['--enable-dummy=override', '--disable-system', `--log-file=${join(r, 'ovs-vswitchd.log')}`, `--unixctl=${join(r, 'ovs-vswitchd.ctl')}`, `unix:${join(r, 'conf.sock')}`], join(r, 'ovs-vswitchd.pid'));
    vsctl('set', 'open', '.', 'external_ids:system-id=node1', `external_ids:ovn-remote=unix:${join(c, 'sb.sock')}`, 'external_ids:ovn-encap-type=geneve', 'external_ids:ovn-encap-ip=127.0.0.1');
    const args = ['add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=dummy', 'fail-mode=secure'];
    for (const p of PODS) args.push('--', 'add-port', 'br-int', p.name, '--', 'set', 'interface', p.name, 'type=dummy', `options:pstream=punix:${join(r, `${p.name}.sock`)}`, `external_ids:iface-id=${p.name}`);
    vsctl(...args);
    this.d.start(this.env(r), 'ovn-controller', [`--log-file=${join(r, 'ovn-controller.log')}`, `unix:${join(r, 'conf.sock')}`], join(r, 'ovn-controller.pid'));
    for (const p of PODS) this.streams.set(p.name, await open(join(r, `${p.name}.sock`)));
    this.nbctl('--wait=hv', 'sync');
    // `--wait=hv` can return before the last port's claim is in the SB: the simulation would find it unbound.
    for (let i = 0; PODS.some((p) => !this.sbctl('--bare', '--columns=chassis', 'find', 'Port_Binding', `logical_port=${p.name}`).trim()); i++) {
      if (i > 400) throw new Error('ovn-controller did not bind every pod port');
      await sleep(25);
    }
  }

  private addLb(lb: Lb, ls = 'ls'): void {
    for (const fam of [lb.v4, lb.v6]) {
      const v6 = fam === lb.v6;
      const ep = (ip: string, port: number): string => (port ? (v6 ? `[${ip}]:${port}` : `${ip}:${port}`) : ip);
      this.nbctl('lb-add', lb.name, ep(fam.vip, fam.port), fam.backends.map((i) => ep(v6 ? PODS[i]!.ip6 : PODS[i]!.ip4, fam.bport)).join(','), ...(fam.port ? [lb.proto] : []));
    }
    if (lb.snat) this.nbctl('set', 'load_balancer', lb.name, `options:hairpin_snat_ip="${lb.snat}"`);
    this.nbctl('ls-lb-add', ls, lb.name);
  }

  private generated: string | undefined;
  /** Swaps the generated load balancer for `lb` and waits until the chassis has its flows. */
  replaceLb(lb: Lb): void {
    if (this.generated) this.nbctl('lb-del', this.generated);
    this.addLb(lb);
    this.generated = lb.name;
    this.nbctl('--wait=hv', 'sync');
  }

  /** Sends one frame from a pod; what every pod port received until 120 ms of quiet (at most 400 ms waiting for a first frame). */
  async exchange(from: string, frame: Uint8Array): Promise<Map<string, string[]>> {
    for (const s of this.streams.values()) s.got.length = 0;
    const t0 = Date.now();
    this.streams.get(from)!.send(frame);
    for (;;) {
      await sleep(5);
      const got = [...this.streams.values()].some((s) => s.got.length);
      const last = Math.max(...[...this.streams.values()].map((s) => s.last));
      if (got && Date.now() - last > 120) break;
      if (!got && Date.now() - t0 > 400) break;
    }
    const out = new Map<string, string[]>();
    for (const [name, s] of this.streams) if (s.got.length) out.set(name, s.got.map(hex));
    return out;
  }

  async stop(): Promise<void> {
    for (const s of this.streams.values()) s.socket.destroy();
    await this.d.stop();
  }
}

interface Conv {
  pod: number;
  lb: number;
  v6: boolean;
}
const convArb: fc.Arbitrary<Conv> = fc.record({ pod: fc.integer({ min: 0, max: 3 }), lb: fc.integer({ min: 0, max: LBS.length - 2 }), v6: fc.boolean() });

let sport = 30000;

const GENERATED = Number(process.env.VIPPATH_HAIRPIN_LBS ?? 8);
const MAPPED_CASES = Number(process.env.VIPPATH_HAIRPIN_MAPPED ?? 16);
/** Conversations on the Southbound of a chassis without ct-no-masked-label (ct_lb, ct_label). */
const LABEL_CASES = Number(process.env.VIPPATH_HAIRPIN_LABEL_CASES ?? 16);
const famArb = (v6: boolean): fc.Arbitrary<Lb['v4']> =>
  fc.record({
    vip: v6 ? fc.integer({ min: 1, max: 0xfffe }).map((x) => `fd00:97::${x.toString(16)}`) : fc.integer({ min: 1, max: 254 }).map((x) => `10.97.0.${x}`),
    port: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 65535 })),
    backends: fc.uniqueArray(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }),
    bport: fc.integer({ min: 1, max: 65535 }),
  }).map((f) => ({ ...f, bport: f.port ? f.bport : 0 }));
const lbArb: fc.Arbitrary<Omit<Lb, 'name'>> = fc.record({
  proto: fc.constantFrom('tcp' as const, 'udp' as const),
  v4: famArb(false),
  v6: famArb(true),
  // Only values ovn-controller accepts: a bad one (e.g. 'fd00:170::3/64') makes 23.03 SNAT to freed memory (hairpin.ts).
  snat: fc.option(fc.constantFrom('169.254.170.1', 'fd00:170::1', '169.254.170.2 fd00:170::2', 'fd00:170::3/128 169.254.170.3/32', '169.254.170.4 junk fd00:170::4'), { nil: undefined }),
}).map((l) => (l.snat === undefined ? { proto: l.proto, v4: l.v4, v6: l.v6 } : l));

/** Sets an untagged frame's TTL / hop limit (and the IPv4 header sum): the probe flows match `ip.ttl`. */
function withTtl(f: Uint8Array, v6: boolean, ttl: number): Uint8Array {
  f[v6 ? 21 : 22] = ttl;
  if (!v6) {
    f[24] = 0;
    f[25] = 0;
    const sum = internetChecksum(f, 14, 20);
    f[24] = sum >> 8;
    f[25] = sum & 0xff;
  }
  return f;
}

function packet(v6: boolean, proto: 'tcp' | 'udp', src: { mac: string; ip: string; port: number }, dst: { mac: string; ip: string; port: number }, flags: number, seq: number, ack: number): Uint8Array {
  const l3 = v6 ? { ipv6: { src: src.ip, dst: dst.ip } } : { ipv4: { src: src.ip, dst: dst.ip } };
  const l4 = proto === 'tcp' ? { tcp: { srcPort: src.port, dstPort: dst.port, seq, ack, flags } } : { udp: { srcPort: src.port, dstPort: dst.port, payload: new Uint8Array([seq & 255, 1, 2, 3]) } };
  return buildFrame({ src: src.mac, dst: dst.mac, ...l3, ...l4 });
}

describe.skipIf(unavailable !== undefined)('hairpin against real ovn-controller + ovs-vswitchd (1 chassis)', () => {
  const bed = new Bed();
  /** One executor per switch, on the Southbound as it is now (each switch's zones its own). */
  const ex = new Map<string, LflowExecutor>();
  const rebuild = (): void => {
    const sb = sbFromOvsdb(readOvsdbFile(bed.sbBackup()));
    for (const ls of ['ls', 'ls2']) ex.set(ls, new LflowExecutor(sb, ls, { chassis: 'node1', ct: new OvsConntrack() }));
  };
  let now = 0;
  const stats = { conversations: 0, frames: 0, hairpins: 0, snatIp: 0, v6: 0, replies: 0 };

  beforeAll(async () => {
    await bed.start();
    rebuild();
  }, 60_000);
  afterAll(async () => {
    console.log(`hairpin-ovs: seed ${SEED}, ${stats.conversations} conversations, ${stats.frames} frames compared; ${stats.hairpins} hairpinned first packets (${stats.snatIp} to a hairpin_snat_ip, ${stats.v6} IPv6), ${stats.replies} replies through a learned hairpin reply flow`);
    await bed.stop();
  });

  /** Runs one frame through the simulation: the frames each pod port gets. */
  function simulate(from: string, frame: Uint8Array): Map<string, string[]> {
    const r = ex.get(PODS.find((p) => p.name === from)!.ls)!.runFrame(frame.slice(), frame.length, from, (now += 10), false);
    const out = new Map<string, string[]>();
    for (const o of r.outputs) out.set(o.port, [...(out.get(o.port) ?? []), hex(o.frame.subarray(0, o.length))]);
    return out;
  }

  async function step(from: string, frame: Uint8Array, what: string): Promise<Map<string, string[]>> {
    const real = await bed.exchange(from, frame);
    const sim = simulate(from, frame);
    stats.frames++;
    const show = (m: Map<string, string[]>): string => JSON.stringify([...m.entries()].sort());
    expect(show(sim), `${what}: frame ${hex(frame)} from ${from}`).toBe(show(real));
    return real;
  }

  async function conversation(c: Conv, given?: Lb): Promise<void> {
    stats.conversations++;
    const pod = PODS[c.pod]!;
    const lb = given ?? (pod.ls === 'ls2' ? LB_LS2 : LBS[c.lb]!);
    const fam = c.v6 ? lb.v6 : lb.v4;
    const me = { mac: pod.mac, ip: c.v6 ? pod.ip6 : pod.ip4, port: sport++ };
    const vipPort = fam.port || 7000 + (sport % 100);
    const syn = packet(c.v6, lb.proto, me, { mac: GW, ip: fam.vip, port: vipPort }, 0x002, 1000, 0);
    const first = await step(pod.name, syn, `first packet of ${lb.name} ${c.v6 ? 'IPv6' : 'IPv4'}`);
    // The pod that got it answers the source it saw.
    const [to, frames] = [...first.entries()][0] ?? [];
    if (!to || !frames) return;
    const got = parseFrame(Buffer.from(frames[0]!, 'hex'));
    const l3 = got.ipv4 ?? got.ipv6;
    const l4 = got.tcp ?? got.udp;
    if (!l3 || !l4) return;
    if (to === pod.name) {
      stats.hairpins++;
      if (l3.src !== fam.vip) stats.snatIp++;
      if (c.v6) stats.v6++;
    }
    const answer = packet(c.v6, lb.proto, { mac: got.eth.dst, ip: l3.dst, port: l4.dstPort }, { mac: got.eth.src, ip: l3.src, port: l4.srcPort }, 0x012, 5000, 1001);
    const back = await step(to, answer, `answer of ${to}`);
    if (to === pod.name && back.has(pod.name)) stats.replies++;
    // The sender goes on (ACK / a second datagram) in its original direction.
    const next = packet(c.v6, lb.proto, me, { mac: GW, ip: fam.vip, port: vipPort }, 0x010, 1001, 5001);
    await step(pod.name, next, 'second packet');
  }

  it(`${CASES} generated conversations give the same frames`, async () => {
    await fc.assert(fc.asyncProperty(convArb, (c) => conversation(c)), { numRuns: CASES, seed: SEED, endOnFailure: true });
    // Every kind the generator can reach was reached.
    expect(stats.hairpins).toBeGreaterThan(0);
    expect(stats.snatIp).toBeGreaterThan(0);
    expect(stats.v6).toBeGreaterThan(0);
    expect(stats.replies).toBeGreaterThan(0);
  }, 150_000);

  it(`${GENERATED} generated load balancers (VIPs, ports, protocol, backends, hairpin_snat_ip) give the same frames`, async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(lbArb, fc.array(fc.record({ pod: fc.integer({ min: 0, max: 2 }), v6: fc.boolean() }), { minLength: 1, maxLength: 3 }), async (gen, convs) => {
      const lb: Lb = { ...gen, name: `lb-gen${n++}` };
      bed.replaceLb(lb);
      rebuild();
      for (const c of convs) await conversation({ ...c, lb: -1 }, lb);
    }), { numRuns: GENERATED, seed: SEED, endOnFailure: true });
  }, 150_000);

  // A chassis without other_config:ct-no-masked-label (an ovn-controller older than the feature, as in a cluster not
  // fully upgraded) turns northd 23.03 to ct_lb, which commits the natted bit into ct_label (actions.c encode_ct_lb's
  // flag_reg), and to SB_Global options:lb_hairpin_use_ct_mark=false, so ovn-controller's hairpin flows read that bit
  // from ct_label (controller/lflow.c add_lb_vip_hairpin_flows). A Chassis row of our own, with no controller, does it.
  it(`with a chassis without ct-no-masked-label: northd's ct_lb and ct_label, ${LABEL_CASES} generated conversations give the same frames`, async () => {
    const before = { ...stats };
    bed.sbctl('chassis-add', 'old-chassis', 'geneve', '127.0.0.2');
    try {
      bed.nbctl('--wait=hv', 'sync');
      rebuild();
      const sb = sbFromOvsdb(readOvsdbFile(bed.sbBackup()));
      const lflows = sb.flows.get('ls')!.map((f) => f.actions).join('\n');
      expect(lflows).toMatch(/\bct_lb\(backends=/);
      expect(lflows).not.toMatch(/\bct_lb_mark\b/);
      expect(sb.options['lb_hairpin_use_ct_mark']).toBe('false');
      // ovn-controller's groups for ct_lb write the bit into ct_label.
      const groups = bed.ofctl('dump-groups', '-O', 'OpenFlow15');
      expect(groups, groups).toMatch(/set_field:0x2\/0x2->ct_label/);
      await fc.assert(fc.asyncProperty(convArb, (c) => conversation(c)), { numRuns: LABEL_CASES, seed: SEED + 1, endOnFailure: true });
      // Hairpins (the bit read back from ct_label) and their replies were among them.
      expect(stats.hairpins - before.hairpins).toBeGreaterThan(0);
      expect(stats.snatIp - before.snatIp).toBeGreaterThan(0);
      expect(stats.replies - before.replies).toBeGreaterThan(0);
    } finally {
      bed.sbctl('chassis-del', 'old-chassis');
      bed.nbctl('--wait=hv', 'sync');
      rebuild();
    }
  }, 150_000);

  // ovn-trace 23.03 takes an IPv6 connection to ::ffff:a.b.c.d for one to the IPv4 VIP a.b.c.d (get_lb_vip_data;
  // test/ipv6-text.test.ts MAPPED_VIP); OVN does not: no flow northd writes for an IPv4 VIP matches an IPv6 packet.
  it(`IPv6 packets to an IPv4 VIP's IPv4-mapped address are not load balanced (${MAPPED_CASES} generated, seed ${SEED})`, async () => {
    const ls = PODS.filter((p) => p.ls === 'ls');
    const seen = { sent: 0, unchanged: 0, fromBackend: 0, toBackendDropped: 0, answered: 0 };
    await fc.assert(
      fc.asyncProperty(fc.record({ pod: fc.nat(ls.length - 1), lb: fc.nat(LBS.length - 1), to: fc.nat(ls.length), vipPort: fc.boolean(), port: fc.integer({ min: 1, max: 65535 }) }), async (m) => {
        const pod = ls[m.pod]!;
        const lb = LBS[m.lb]!;
        const mapped = `::ffff:${lb.v4.vip}`;
        const dport = m.vipPort && lb.v4.port ? lb.v4.port : m.port;
        // To a pod's MAC (a backend of the VIP or not, the sender's own, p5's) or the gateway's, which no port owns.
        const dst = m.to < ls.length ? ls[m.to]! : undefined;
        const frame = packet(true, lb.proto, { mac: pod.mac, ip: pod.ip6, port: sport++ }, { mac: dst?.mac ?? GW, ip: mapped, port: dport }, 0x002, 1000, 0);
        const got = await step(pod.name, frame, `IPv6 to [${mapped}]:${dport} (${lb.name}'s IPv4 VIP) from ${pod.name} to ${dst?.name ?? 'the gateway MAC'}`);
        seen.sent++;
        if (lb.v4.backends.some((b) => PODS[b] === pod)) seen.fromBackend++;
        // Not load balanced: what arrives anywhere is the frame as sent (no DNAT, no hairpin SNAT, no port change), at
        // the port that owns its MAC only — a port with port security drops it (its ip6.dst is not the port's).
        expect([...got.keys()].every((k) => k === dst?.name && !dst.portSecurity), `${[...got.keys()].join(',')}`).toBe(true);
        if (dst && lb.v4.backends.some((b) => PODS[b] === dst) && got.size === 0) seen.toBackendDropped++;
        for (const [port, frames] of got) {
          expect(frames, `${port} got the frame as sent`).toEqual([hex(frame)]);
          seen.unchanged++;
          // The receiver answers from the address it saw; that too is switched as it is.
          const p = parseFrame(Buffer.from(frames[0]!, 'hex'));
          const l4 = p.tcp ?? p.udp;
          const back = packet(true, lb.proto, { mac: p.eth.dst, ip: mapped, port: l4!.dstPort }, { mac: p.eth.src, ip: pod.ip6, port: l4!.srcPort }, 0x012, 5000, 1001);
          const reply = await step(port, back, `answer of ${port}`);
          if (reply.has(pod.name)) {
            expect(reply.get(pod.name), 'the answer as sent').toEqual([hex(back)]);
            seen.answered++;
          }
        }
      }),
      { numRuns: MAPPED_CASES, seed: SEED, endOnFailure: true },
    );
    console.log(`hairpin-ovs: IPv6 to an IPv4 VIP's mapped address: ${seen.sent} sent (${seen.fromBackend} by a backend of the VIP), ${seen.unchanged} delivered unchanged (to p5), ${seen.toBackendDropped} to a backend's MAC dropped by its port security, ${seen.answered} answers back`);
    expect(seen.unchanged).toBeGreaterThan(0);
    expect(seen.fromBackend).toBeGreaterThan(0);
    expect(seen.toBackendDropped).toBeGreaterThan(0);
    expect(seen.answered).toBeGreaterThan(0);
  }, 120_000);

  // An IPv6 VIP written IPv4-mapped (`[::ffff:a.b.c.d]`): northd balances it as IPv6, but ovn-controller gives it IPv4
  // hairpin flows (IN6_IS_ADDR_V4MAPPED), so a pod that reaches it and is picked as the backend is not hairpinned.
  it(`${MAPPED_CASES / 2} generated load balancers with an IPv4-mapped IPv6 VIP never hairpin IPv6`, async () => {
    let n = 0;
    const seen = { conversations: 0, toItself: 0 };
    await fc.assert(
      fc.asyncProperty(lbArb, fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }), fc.nat(0xffff), async (gen, pods, x) => {
        const lb: Lb = { ...gen, v6: { ...gen.v6, vip: `::ffff:10.98.${x >> 8}.${x & 255}` }, name: `lb-mapped${n++}` };
        bed.replaceLb(lb);
        rebuild();
        for (const pod of pods) {
          const before = stats.hairpins;
          await conversation({ pod, lb: -1, v6: true }, lb);
          seen.conversations++;
          if (lb.v6.backends.includes(pod)) seen.toItself++;
          expect(stats.hairpins, `${lb.name}: a pod's IPv6 packet to [${lb.v6.vip}] came back hairpinned`).toBe(before);
        }
      }),
      { numRuns: MAPPED_CASES / 2, seed: SEED, endOnFailure: true },
    );
    console.log(`hairpin-ovs: IPv4-mapped IPv6 VIPs: ${seen.conversations} conversations, ${seen.toItself} from a pod that is a backend`);
    expect(seen.toItself).toBeGreaterThan(0);
  }, 120_000);

  // ct_dnat(IP, LO-HI) / ct_snat(IP, LO-HI) (OVN lib/actions.c parse_ct_nat, encode_ct_nat): ovn-trace leaves the
  // ports alone (execute_ct_nat), OVS picks one of the range by a hash of its random per-process basis
  // (lib/conntrack.c nat_range_hash), so the frames are compared with the translated port masked, and the ports taken
  // must be the same set: one more connection than the range has ports, all to one reply tuple space — DNAT moves the
  // last one's source port, SNAT finds none free. Replies go back through `ct_dnat;` / `ct_snat;`, unmasked.
  it(`ct_dnat/ct_snat to a port range: ovn-controller's nat(…:LO-HI), the same ports taken, the same frames up to the port (seed ${SEED})`, async () => {
    bed.d.run({}, 'ovn-appctl', ['-t', join(bed.dir, 'northd.ctl'), 'pause']);
    const dp = bed.sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=ls').trim();
    const [p1, p2] = [PODS[0]!, PODS[1]!];
    const seen = { cases: 0, frames: 0, moved: 0, refused: 0 };
    let ttl = 32;
    await fc.assert(
      fc.asyncProperty(fc.record({ lo: fc.integer({ min: 1024, max: 60000 }), width: fc.integer({ min: 2, max: 4 }) }), async ({ lo, width }) => {
        // DNAT and SNAT, IPv4 and IPv6 in turn: each of the four in every run of four cases or more.
        const dnat = seen.cases % 2 === 0;
        const v6 = (seen.cases >> 1) % 2 === 1;
        seen.cases++;
        ttl++;
        const hi = lo + width - 1;
        const ip = (p: typeof p1): string => (v6 ? p.ip6 : p.ip4);
        const l3 = v6 ? 'ip6' : 'ip4';
        // DNAT: p1 → p2's address on ports 80, 81, …, translated to p2:LO-HI. SNAT: p1 from 40000, 40001, … to p2:80,
        // translated to p1:LO-HI. Each direction's reply flow undoes it in the same zone.
        const to = dnat ? ip(p2) : ip(p1);
        const action = `${dnat ? 'ct_dnat' : 'ct_snat'}(${to}, ${lo}-${hi});`;
        const mk = (inport: string, acts: string, prio: number): string => bed.sbctl('create', 'Logical_Flow', `logical_datapath=${dp}`, 'pipeline=ingress', 'table_id=0', `priority=${prio}`, `match="inport == \\"${inport}\\" && ${l3} && ip.ttl == ${ttl}"`, `actions="${acts}"`, 'external_ids:stage-name=ls_in_check_port_sec');
        mk(p1.name, action, 300);
        mk(p2.name, dnat ? 'ct_dnat;' : 'ct_snat;', 300);
        const want = new RegExp(`nat\\(${dnat ? 'dst' : 'src'}=\\[?${to.replace(/\./g, '\\.')}\\]?:${lo}-${hi}\\)`);
        for (let i = 0; i < 200 && !want.test(bed.ofctl('dump-flows')); i++) await sleep(25);
        expect(bed.ofctl('dump-flows'), `ovn-controller's flow for ${action}`).toMatch(want);
        rebuild();
        const l4 = (v6 ? 54 : 34) + (dnat ? 2 : 0);
        const mask = (h: string): string => `${h.slice(0, l4 * 2)}xxxx${h.slice(l4 * 2 + 4, (v6 ? 54 : 34) * 2 + 32)}xxxx${h.slice((v6 ? 54 : 34) * 2 + 36)}`;
        const taken = { real: [] as number[], sim: [] as number[] };
        const base = 41000 + seen.cases * 16;
        for (let k = 0; k <= width; k++) {
          // Client ports of their own per case: the chassis keeps the earlier cases' connections, the simulation not.
          const me = { mac: p1.mac, ip: ip(p1), port: base + (dnat ? 0 : k) };
          const them = { mac: p2.mac, ip: ip(p2), port: dnat ? 80 + k : 80 };
          const f = packet(v6, 'tcp', me, them, 0x002, 1000, 0);
          withTtl(f, v6, ttl);
          const real = await bed.exchange(p1.name, f);
          const sim = simulate(p1.name, f);
          seen.frames++;
          const show = (m: Map<string, string[]>): string => JSON.stringify([...m.entries()].sort().map(([port, fs]) => [port, fs.map(mask)]));
          const what = `${action} connection ${k}: frame ${hex(f)}`;
          expect(show(sim), what).toBe(show(real));
          const got = { real: real.get(p2.name)?.[0], sim: sim.get(p2.name)?.[0] };
          expect(got.real, `${what}: reached ${p2.name}`).toBeDefined();
          for (const side of ['real', 'sim'] as const) {
            const o = parseFrame(Buffer.from(got[side]!, 'hex'));
            expect(o.checksum, `${what}: ${side}`).toBe('ok');
            const port = dnat ? o.tcp!.dstPort : o.tcp!.srcPort;
            if (!dnat && k === width) {
              // No port of the range is free: OVS 3.1 (lib/conntrack.c conn_not_found, nat_res_exhaustion) commits
              // nothing and the packet goes on untranslated; the engine the same.
              expect(port, `${what}: ${side} untranslated`).toBe(me.port);
              if (side === 'real') seen.refused++;
              continue;
            }
            expect(port, `${what}: ${side}'s port in the range`).toBeGreaterThanOrEqual(lo);
            expect(port, `${what}: ${side}'s port in the range`).toBeLessThanOrEqual(hi);
            taken[side].push(port);
            if (dnat && k === width) expect(o.tcp!.srcPort, `${what}: ${side} moved the source port`).not.toBe(base);
            if (side === 'real' && dnat && o.tcp!.srcPort !== base) seen.moved++;
          }
          // The receiver answers each side's frame; the answers, translated back, must be the same.
          const answers = (['real', 'sim'] as const).map((side) => {
            const o = parseFrame(Buffer.from(got[side]!, 'hex'));
            const a = packet(v6, 'tcp', { mac: p2.mac, ip: (o.ipv4 ?? o.ipv6)!.dst, port: o.tcp!.dstPort }, { mac: p1.mac, ip: (o.ipv4 ?? o.ipv6)!.src, port: o.tcp!.srcPort }, 0x012, 5000, 1001);
            return withTtl(a, v6, ttl);
          });
          const backReal = await bed.exchange(p2.name, answers[0]!);
          const backSim = simulate(p2.name, answers[1]!);
          seen.frames++;
          expect(JSON.stringify([...backSim.entries()].sort()), `${what}: the answer`).toBe(JSON.stringify([...backReal.entries()].sort()));
        }
        expect(taken.sim.slice(0, width).sort(), action).toEqual(taken.real.slice(0, width).sort());
        expect(new Set(taken.real.slice(0, width)).size, `${action}: the range's every port`).toBe(width);
      }),
      { numRuns: Number(process.env.VIPPATH_HAIRPIN_NAT_RANGES ?? 6), seed: SEED, endOnFailure: true },
    );
    console.log(`hairpin-ovs: ct_dnat/ct_snat port ranges: ${seen.cases} ranges, ${seen.frames} frames compared, ${seen.moved} DNAT source ports moved, ${seen.refused} SNAT connections refused`);
    expect(seen.moved).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  }, 120_000);

  // IP header writes around a ct call (OVN lib/actions.c: `ip.ttl--` is dec_ttl, `ip.ttl = N` / `ip.dscp = N` /
  // `ip.ecn = N` / `ip6.label = N` set_field on nw_ttl / ip_dscp / nw_ecn / ipv6_label): OVS commits them to the packet before ct()
  // (ofproto-dpif-xlate.c compose_conntrack_action → xlate_commit_actions), so the frame out carries them, the
  // header checksum updated (lib/packets.c packet_set_ipv4), and the flows after the ct call match the written values.
  // ovs-vswitchd is the oracle, not ovn-trace: ovn-trace models these actions itself (execute_dec_ttl). Two flows per
  // case written into the Southbound (northd paused), told apart by a TCP source port of the case's own: ingress
  // table 0 does the writes and the ct call, table 1 matches ip.ttl after it (to p2, its own writes after) or not
  // (to p5). Not ip.dscp or ip.ecn: ovn-controller 23.03 installs no OpenFlow match for them (their masks, 0x3f and
  // 0x3, are not all-ones for OVS 3.1's one-byte nominal fields: lib/meta-flow.c mf_set returns OFPUTIL_P_NONE and
  // sets nothing), so a flow matching `ip.dscp == N` matches any DSCP on the chassis — where vippath, as ovn-trace,
  // compares (noticed, not modelled); their writes are checked in the bytes out. dec_ttl at TTL 0 or 1 stops the flow's
  // actions (compose_dec_ttl: "decrement TTL exception"; ovn-trace decrements 1 to 0 and goes on): no frame out.
  it(`IP TTL, DSCP, ECN and IPv6 flow label writes before and after ct_next / ct_dnat / ct_lb_mark: the same frames out (seed ${SEED})`, async () => {
    bed.d.run({}, 'ovn-appctl', ['-t', join(bed.dir, 'northd.ctl'), 'pause']);
    const dp = bed.sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=ls').trim();
    const [p1, p2] = [PODS[0]!, PODS[1]!];
    type Wr = { k: 'dec' } | { k: 'ttl' | 'dscp' | 'ecn' | 'label'; v: number };
    const wrArb: fc.Arbitrary<Wr> = fc.oneof(
      fc.constant({ k: 'dec' as const }),
      fc.record({ k: fc.constant('ttl' as const), v: fc.constantFrom(0, 1, 2, 63, 254, 255) }),
      fc.record({ k: fc.constant('dscp' as const), v: fc.integer({ min: 0, max: 63 }) }),
      fc.record({ k: fc.constant('ecn' as const), v: fc.integer({ min: 0, max: 3 }) }),
      // ip6.label (set_field on ipv6_label: packet_set_ipv6), IPv6 cases only; its top 4 bits share a byte with the class.
      fc.record({ k: fc.constant('label' as const), v: fc.constantFrom(0, 1, 0x10000, 0xfffff, 0x5a5a5) }),
    );
    const caseArb = fc.record({
      v6: fc.boolean(),
      ttl: fc.constantFrom(0, 1, 2, 64, 255),
      tos: fc.integer({ min: 0, max: 255 }),
      pre: fc.array(wrArb, { maxLength: 3 }),
      ct: fc.constantFrom('ct_next', 'ct_dnat', 'ct_lb_mark'),
      post: fc.array(wrArb, { maxLength: 2 }),
      // Whether table 1's flow matches the values OVS holds after the call (else the frame's first ones).
      hit: fc.boolean(),
    });
    const seen = { cases: 0, hits: 0, misses: 0, v6: 0, stopped: 0 };
    let sport = 52000;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        seen.cases++;
        const port = sport++;
        const l3 = c.v6 ? 'ip6' : 'ip4';
        // The header as OVS holds it along the actions, and whether a dec_ttl at TTL 1 or 0 stopped them (see above).
        const h: { ttl: number; dscp: number; ecn: number } = { ttl: c.ttl, dscp: c.tos >> 2, ecn: c.tos & 3 };
        let stopped = false;
        const text = (ws: Wr[]): string => ws.filter((w) => w.k !== 'label' || c.v6).map((w) => {
          if (w.k === 'label') return `ip6.label = ${w.v}; `;
          if (!stopped) {
            if (w.k !== 'dec') h[w.k] = w.v;
            else if (h.ttl > 1) h.ttl--;
            else stopped = true;
          }
          return w.k === 'dec' ? 'ip.ttl--; ' : `ip.${w.k} = ${w.v}; `;
        }).join('');
        const pre = text(c.pre);
        const after = { ...h };
        const stoppedBefore = stopped;
        const post = text(c.post);
        // Table 1's writes run only in its flow to p2, which matches the TTL after the call (hit) or the frame's first
        // one: nothing goes out when table 0's writes stopped, or when that flow ran and its writes stopped.
        const toP2 = c.hit || after.ttl === c.ttl;
        const none = stoppedBefore || (toP2 && stopped);
        const target = c.v6 ? p2.ip6 : p2.ip4;
        const call = c.ct === 'ct_next' ? 'ct_next;' : c.ct === 'ct_dnat' ? `ct_dnat(${target});` : `ct_lb_mark(backends=${target});`;
        const m = c.hit ? after : { ttl: c.ttl };
        const mk = (table: number, stage: string, prio: number, match: string, actions: string): string => bed.sbctl('create', 'Logical_Flow', `logical_datapath=${dp}`, 'pipeline=ingress', `table_id=${table}`, `priority=${prio}`, `match="${match.replace(/"/g, '\\"')}"`, `actions="${actions.replace(/"/g, '\\"')}"`, `external_ids:stage-name=${stage}`).trim();
        const sel = `inport == "${p1.name}" && ${l3} && tcp.src == ${port}`;
        const made = [
          mk(0, 'ls_in_check_port_sec', 300, sel, `${pre}${call}`),
          mk(1, 'ls_in_apply_port_sec', 300, `${sel} && ip.ttl == ${m.ttl}`, `${post}outport = "${p2.name}"; output;`),
          mk(1, 'ls_in_apply_port_sec', 299, sel, `outport = "p5"; output;`),
        ];
        const cookie = (uuid: string): number => parseInt(uuid.slice(0, 8), 16);
        const cookies = (): Set<number> => new Set([...bed.ofctl('dump-flows').matchAll(/cookie=0x([0-9a-f]+)/g)].map((x) => parseInt(x[1]!, 16)));
        for (let i = 0; i < 200 && !made.every((u) => cookies().has(cookie(u))); i++) await sleep(25);
        expect(made.every((u) => cookies().has(cookie(u))), 'the case\'s flows reached OpenFlow').toBe(true);
        rebuild();
        // To p2's address for ct_next (its egress port security), to another for a NAT that makes it p2's.
        const dst = c.ct === 'ct_next' ? target : c.v6 ? 'fd00::99' : '10.0.0.99';
        const f = packet(c.v6, 'tcp', { mac: p1.mac, ip: c.v6 ? p1.ip6 : p1.ip4, port }, { mac: p2.mac, ip: dst, port: 80 }, 0x002, 1000, 0);
        if (c.v6) {
          f[14] = 0x60 | (c.tos >> 4);
          f[15] = (f[15]! & 15) | ((c.tos & 15) << 4);
        } else f[15] = c.tos;
        withTtl(f, c.v6, c.ttl);
        const real = await bed.exchange(p1.name, f);
        const sim = simulate(p1.name, f);
        const what = `${pre}${call} then ${post}(table 1 matching ${JSON.stringify(m)}): frame ${hex(f)}`;
        const show = (x: Map<string, string[]>): string => JSON.stringify([...x.entries()].sort());
        expect(show(sim), what).toBe(show(real));
        const to = [...real.keys()];
        if (none) {
          expect(to.length, `${what}: a decrement TTL exception, nothing out`).toBe(0);
          seen.stopped++;
          for (const u of made) bed.sbctl('destroy', 'Logical_Flow', u);
          return;
        }
        expect(to.length, `${what}: one port got it`).toBe(1);
        const o = parseFrame(Buffer.from(real.get(to[0]!)![0]!, 'hex'));
        expect(o.checksum, what).toBe('ok');
        // The oracle agrees with the header OVS's rules give (dec_ttl, set_field): the generator's own model checked.
        const want = to[0] === p2.name ? h : after;
        expect([o.ipv4 ? o.ipv4.ttl : o.ipv6!.hopLimit, o.ipv4 ? o.ipv4.tos : o.ipv6!.trafficClass], what).toEqual([want.ttl, (want.dscp << 2) | want.ecn]);
        if (to[0] === p2.name) seen.hits++;
        else seen.misses++;
        if (c.v6) seen.v6++;
        for (const u of made) bed.sbctl('destroy', 'Logical_Flow', u);
      }),
      { numRuns: Number(process.env.VIPPATH_HAIRPIN_IP_WRITES ?? 40), seed: SEED },
    );
    console.log(`hairpin-ovs: IP header writes: ${seen.cases} cases (${seen.v6} IPv6), ${seen.hits} matched the written values after the call, ${seen.misses} did not, ${seen.stopped} stopped at a decrement TTL exception`);
    expect(seen.hits).toBeGreaterThan(0);
    expect(seen.misses).toBeGreaterThan(0);
    expect(seen.stopped).toBeGreaterThan(0);
  }, 300_000);

  it('without options:hairpin_orig_tuple ovn-controller reads the conntrack original tuple after the second ct()', async () => {
    bed.d.run({}, 'ovn-appctl', ['-t', join(bed.dir, 'northd.ctl'), 'pause']);
    const uuid = bed.sbctl('--bare', '--columns=_uuid', 'find', 'Load_Balancer', 'name=lb-ct').trim();
    bed.sbctl('remove', 'Load_Balancer', uuid, 'options', 'hairpin_orig_tuple');
    // The chk flow of lb-ct now matches ct_nw_dst (ct_state=+trk+dnat) instead of reg1.
    for (let i = 0; i < 200 && !/ct_nw_dst=10\.96\.0\.15/.test(bed.ofctl('dump-flows')); i++) await sleep(25);
    expect(bed.ofctl('dump-flows')).toMatch(/ct_nw_dst=10\.96\.0\.15/);
    rebuild();
    for (const v6 of [false, true]) {
      const before = stats.hairpins;
      await conversation({ pod: 0, lb: LBS.length - 1, v6 });
      expect(stats.hairpins, 'the SYN came back hairpinned').toBe(before + 1);
    }
  }, 60_000);

  // A logical flow OVN refuses (controller/lflow.c lflow_parse_actions / convert_match_to_expr: "error parsing
  // actions" / "error parsing match") gets no OpenFlow flow, whose cookie would be the flow's uuid's first 32 bits; a
  // good one written with them does. vippath skips exactly the refused ones (test/lflow-skip.test.ts: ovn-trace too).
  it('ovn-controller installs nothing for a logical flow OVN refuses to parse, and vippath skips exactly those', async () => {
    bed.d.run({}, 'ovn-appctl', ['-t', join(bed.dir, 'northd.ctl'), 'pause']);
    const dp = bed.sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=ls').trim();
    // One of each part × refusal kind (syntax, constant, unknown name, type), then the good one.
    const refused: Array<[string, string]> = [
      ['ip4 && ip.ttl == 240 &&', 'next;'], ['ip4 && ip.ttl == 0241', 'next;'], ['ip4 && ip.ttl == 242 && foo.bar == 1', 'next;'], ['ip4 && ip.ttl == 243 && tcp.dst == 65536', 'next;'],
      ['ip4 && ip.ttl == 244', 'next'], ['ip4 && ip.ttl == 245', 'next(0x3);'], ['ip4 && ip.ttl == 246', 'frob; next;'], ['ip4 && ip.ttl == 247', 'tcp.dst = 10.0.0.1; next;'],
    ];
    const mk = ([match, actions]: [string, string]): string => bed.sbctl('create', 'Logical_Flow', `logical_datapath=${dp}`, 'pipeline=ingress', 'table_id=0', 'priority=300', `match="${match}"`, `actions="${actions}"`, 'external_ids:stage-name=ls_in_check_port_sec').trim();
    const bad = refused.map(mk);
    const good = mk(['ip4 && ip.ttl == 249', 'next;']);
    const cookie = (uuid: string): number => parseInt(uuid.slice(0, 8), 16);
    const cookies = (): Set<number> => new Set([...bed.ofctl('dump-flows').matchAll(/cookie=0x([0-9a-f]+)/g)].map((m) => parseInt(m[1]!, 16)));
    for (let i = 0; i < 200 && !cookies().has(cookie(good)); i++) await sleep(25);
    const installed = cookies();
    expect(installed.has(cookie(good)), 'the good flow reached OpenFlow').toBe(true);
    expect(bad.filter((u) => installed.has(cookie(u))), 'refused flows ovn-controller installed').toEqual([]);
    const skipped = new LflowExecutor(sbFromOvsdb(readOvsdbFile(bed.sbBackup())), 'ls', { chassis: 'node1' }).skipped;
    expect(skipped.map((f) => f.flow.uuid).sort()).toEqual([...bad].sort());
    for (const u of [...bad, good]) bed.sbctl('destroy', 'Logical_Flow', u);
  }, 60_000);
});
