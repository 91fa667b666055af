/**
 * A real cluster in userspace, built from vippath's own derived state: the oracle the simulation is checked
 * against, end to end (issue 16; recipe in shared/research/ovs-ovn-userspace.md).
 *
 * - OVN central: NB and SB ovsdb-servers and ovn-northd. The NB holds what Kube-OVN's controller writes for the
 *   scenario: the logical switch, its localnet port (`network_name=provider`), one VIF port per pod (addresses
 *   and port security "MAC IP"), and the load balancer with its VIPs, `ip_port_mappings`, options and
 *   external_ids, attached to the switch.
 * - The physical switch: an ovs-vswitchd whose one bridge (`wire`, action NORMAL) has a port for the outside
 *   client and one per node NIC.
 * - Per node (chassis = node name): an ovsdb-server, an ovs-vswitchd (dummy datapath) and an ovn-controller, each
 *   in the node's own run directory. Bridges: `br-nic` stands for the kernel's NIC and its VLAN device
 *   (`underlay0` tagged ↔ `underlay0.341` untagged: strip VLAN 341 in, push it out; nothing else crosses),
 *   `br-provider` (MAC = the node's, the Kube-OVN flows vippath derives, LOCAL = MetalLB and the host) and
 *   `br-int` (ovn-controller's, pods as dummy ports with `external_ids:iface-id`).
 * - The ends are answered by vippath's own models, so the application side is the same on both: each pod by a
 *   {@link PodHost}, each node's LOCAL port by its MetalLB speaker (ARP/NDP replies; gratuitous announcements
 *   when simulated time says so).
 *
 * Frames cross the ends as 2-byte big-endian length + bytes on the dummy ports' unix streams; what the NICs
 * carry is read from `tx_pcap` files. Profiles: upstream OVN as installed; `kube-ovn` writes Kube-OVN's northd
 * patches (prefer-local ls_in_lb 140, ls_in_l2_lkup 55, ls_in_pre_lb 105, …), as vippath's northd computes them
 * for the cluster's profile, straight into the SB after pausing ovn-northd; the real ovn-controllers compile them.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backs, derive, isLoadBalancerService, northboundFor, northdProfile, ovnLoadBalancers, PodHost, type ClusterSpec, type DerivedState, type K8sObject } from '@vippath/cluster';
import { nbTransaction, type LogicalFlow, type OvnVersion } from '@vippath/ovn';
import { CollectedNorthboundError, collectedNbOverlay, collectedOverlay, collectedPortFor, prepareCollectedNorthbound, type CollectedNorthbound } from './collected.js';
import { Daemons, installedOvnVersion, TestbedError } from './daemons.js';
import { testbedProviderFlows } from './flows.js';
import { kubeOvnOverlay, residentPorts } from './overlay.js';

/** Which OVN the testbed runs: as installed, or with Kube-OVN's northd patches written into the SB. */
export type TestbedProfile = 'upstream' | 'kube-ovn';

/** Options of {@link Testbed.start}. */
export interface TestbedOptions {
  profile?: TestbedProfile;
  /**
   * Quiet time that ends a settle (ms); default 100. Frames have been seen to take 50 ms and more on a busy
   * 2-core machine (an upcall after a port change, a multicast neighbor solicitation): a shorter wait hands them to
   * the next input.
   */
  settleMs?: number;
  /**
   * How long a settle waits for the first frame after a send when none has come yet (ms); default 300. Some
   * frames take longer than the quiet time to come out at all (an IPv6 neighbor solicitation to a multicast
   * group: ~50 ms through ovs-vswitchd 3.1's NORMAL here, against ~1 ms for a TCP SYN through OVS and OVN).
   */
  firstFrameMs?: number;
  /** Keep the run directory (logs, databases) after stopping, for a post-mortem. */
  keep?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
  /**
   * A collected Northbound database file (a snapshot's `ovn/nb.db`): the NB runs on it instead of vippath's
   * derived Northbound (see collected.ts).
   */
  northbound?: string;
  /**
   * The collected Southbound rows of the switch: Kube-OVN's patches are those of them the testbed's ovn-northd
   * does not write (instead of vippath's overlay computation). Used with {@link northbound} and profile kube-ovn.
   */
  collectedFlows?: readonly LogicalFlow[];
}

/** Where a testbed's Northbound and Kube-OVN patch flows came from. */
export interface TestbedSource {
  northbound: { from: 'derived' } | { from: 'collected'; file: string; format: string; version: string; convertedTo?: string; ports: Record<string, string>; unbound: string[] };
  /** `vippath`: computed by vippath's northd (overlay.ts); `collected`: the collected Southbound's own rows; `none`. */
  patchFlows: { from: 'vippath' | 'collected' | 'none'; added: number; removed: number };
}

/** One frame a port sent, as recorded. */
export interface TapFrame {
  tap: string;
  frame: Uint8Array;
  /** Wall-clock time it was seen (ms since the epoch). */
  time: number;
  /**
   * For a frame that reached a pod: whether the pod's model took it (false: ignored, with its reason in the
   * model) — what the simulation's deliveries list, so a run that watches only deliveries compares the same.
   */
  accepted?: boolean;
}

const NIC_PORT = 'underlay0';

/** A unix-stream end of a dummy port. */
class StreamEnd {
  private buf: Buffer = Buffer.alloc(0);
  constructor(readonly socket: Socket, onFrame: (f: Uint8Array) => void) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      while (this.buf.length >= 2) {
        const n = this.buf.readUInt16BE(0);
        if (this.buf.length < 2 + n) break;
        onFrame(new Uint8Array(this.buf.subarray(2, 2 + n)));
        this.buf = this.buf.subarray(2 + n);
      }
    });
    socket.on('error', () => undefined);
  }

  send(frame: Uint8Array): void {
    const h = Buffer.alloc(2);
    h.writeUInt16BE(frame.length);
    this.socket.write(Buffer.concat([h, frame]));
  }
}

async function openStream(path: string, onFrame: (f: Uint8Array) => void): Promise<StreamEnd> {
  for (let i = 0; ; i++) {
    try {
      const s = await new Promise<Socket>((resolve, reject) => {
        const c = connect(path);
        c.once('connect', () => resolve(c));
        c.once('error', reject);
      });
      return new StreamEnd(s, onFrame);
    } catch (e) {
      if (i >= 100) throw new TestbedError(`cannot connect to ${path}: ${(e as Error).message}`);
      await sleep(20);
    }
  }
}

/** Reads the records a dummy port appends to its tx_pcap, as they come. */
class PcapTail {
  private offset = 24;
  private fd: number | undefined;
  constructor(readonly path: string) {}

  /** New records since the last call. */
  read(): Uint8Array[] {
    if (this.fd === undefined) {
      if (!existsSync(this.path)) return [];
      this.fd = openSync(this.path, 'r');
    }
    const size = fstatSync(this.fd).size;
    const out: Uint8Array[] = [];
    while (this.offset + 16 <= size) {
      const h = Buffer.alloc(16);
      readSync(this.fd, h, 0, 16, this.offset);
      // OVS writes the host's byte order (ovs_pcap_write); this runs on the same host.
      const incl = h.readUInt32LE(8);
      if (this.offset + 16 + incl > size) break;
      const data = Buffer.alloc(incl);
      readSync(this.fd, data, 0, incl, this.offset + 16);
      out.push(new Uint8Array(data));
      this.offset += 16 + incl;
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `ovs-vsctl`/`ovn-nbctl` quoting of one string value. */
function q(s: string): string {
  return JSON.stringify(s);
}

/** The real cluster. */
export class Testbed {
  /** The testbed's own derived state: its MetalLB and pods are separate from any simulation's. */
  readonly state: DerivedState;
  /** Ports recorded, in a stable order: outside, then per node NIC in/out, br-provider LOCAL, its pods. */
  readonly taps: string[] = [];
  readonly pods = new Map<string, PodHost>();
  /** Logical flows written into the SB for the kube-ovn profile (stage, priority, match, actions). */
  readonly overlay: Array<{ stage: string; priority: number; match: string; actions: string }> = [];
  /** Where the Northbound and the patch flows came from (set by start). */
  source: TestbedSource = { northbound: { from: 'derived' }, patchFlows: { from: 'none', added: 0, removed: 0 } };
  private collectedNb: CollectedNorthbound | undefined;
  /** The logical port each pod binds (iface-id): its derived name, or the collected Northbound's. */
  private readonly ifaceId = new Map<string, string>();
  /** The installed OVN's release (`ovn-northd --version`): what a simulation compared with this testbed must run. */
  readonly ovnVersion: OvnVersion;
  /** What the ports sent while the testbed came up (ovn-controller's first announcements), before any input. */
  startup: TapFrame[] = [];
  private readonly daemons: Daemons;
  private readonly streams = new Map<string, StreamEnd>();
  private readonly tails: Array<{ tap: string; tail: PcapTail }> = [];
  private relinks = 0;
  private recorded: TapFrame[] = [];
  /** Nodes whose machine is down: their link to the physical switch is gone, nothing of theirs is recorded. */
  readonly down = new Set<string>();
  private readonly scheduled: Array<{ time: number; run: () => void | Promise<void> }> = [];
  private lastActivity = 0;
  private lastSend = 0;
  private seenSinceSend = true;
  private readonly firstFrameMs: number;
  private now = 0;
  private readonly settleMs: number;
  private readonly log: (line: string) => void;

  private constructor(readonly objects: K8sObject[], readonly cluster: ClusterSpec, readonly dir: string, readonly options: TestbedOptions) {
    this.state = derive(objects, cluster);
    this.ovnVersion = installedOvnVersion();
    this.daemons = new Daemons(dir, options.keep);
    this.settleMs = options.settleMs ?? 100;
    this.firstFrameMs = options.firstFrameMs ?? 300;
    this.log = options.log ?? (() => undefined);
  }

  /** Builds and starts the real cluster; stops everything it started if any step fails. */
  static async start(objects: K8sObject[], cluster: ClusterSpec, options: TestbedOptions = {}): Promise<Testbed> {
    // Short paths: unix socket names are limited to 107 bytes.
    const dir = mkdtempSync(join(tmpdir(), 'vptb-'));
    const bed = new Testbed(objects, cluster, dir, options);
    try {
      await bed.build();
      return bed;
    } catch (e) {
      await bed.stop();
      throw e;
    }
  }

  private lsName(): string {
    return this.objects.find((o) => o.kind === 'Subnet')?.metadata.name ?? 'underlay-subnet';
  }

  private nodeDir(i: number): string {
    return join(this.dir, `n${i}`);
  }

  private env(rundir: string): NodeJS.ProcessEnv {
    return { OVS_RUNDIR: rundir, OVS_LOGDIR: rundir, OVS_DBDIR: rundir, OVS_SYSCONFDIR: rundir, OVN_RUNDIR: rundir, OVN_LOGDIR: rundir, OVN_DBDIR: rundir, OVN_SYSCONFDIR: rundir };
  }

  private ovsdb(rundir: string, name: string, schema: string, existing = false): void {
    const env = this.env(rundir);
    if (!existing) this.daemons.run(env, 'ovsdb-tool', ['create', join(rundir, `${name}.db`), schema]);
    this.daemons.start(env, 'ovsdb-server', [`--log-file=${join(rundir, `${name}.log`)}`, `--remote=punix:${join(rundir, `${name}.sock`)}`, `--unixctl=${join(rundir, `${name}.ctl`)}`, join(rundir, `${name}.db`)], join(rundir, `${name}.pid`));
  }

  private vswitchd(rundir: string): (...args: string[]) => string {
    const env = this.env(rundir);
    this.ovsdb(rundir, 'conf', '/usr/share/openvswitch/vswitch.ovsschema');
    const vsctl = (...args: string[]): string => this.daemons.run(env, 'ovs-vsctl', [`--db=unix:${join(rundir, 'conf.sock')}`, '--timeout=20', ...args]);
    vsctl('--no-wait', 'init');
    this.daemons.start(env, 'ovs-vswitchd', ['--enable-dummy=override', '--disable-system', `--log-file=${join(rundir, 'ovs-vswitchd.log')}`, `--unixctl=${join(rundir, 'ovs-vswitchd.ctl')}`, `unix:${join(rundir, 'conf.sock')}`], join(rundir, 'ovs-vswitchd.pid'));
    return vsctl;
  }

  /** `ovs-appctl` on node `i`'s ovs-vswitchd. */
  private vswitchdAppctl(i: number, ...args: string[]): string {
    return this.daemons.run(this.env(this.nodeDir(i)), 'ovs-appctl', ['-t', join(this.nodeDir(i), 'ovs-vswitchd.ctl'), ...args]);
  }

  /** {@link vswitchdAppctl} without holding this process (see Daemons.runAsync). */
  private vswitchdAppctlAsync(i: number, ...args: string[]): Promise<string> {
    return this.daemons.runAsync(this.env(this.nodeDir(i)), 'ovs-appctl', ['-t', join(this.nodeDir(i), 'ovs-vswitchd.ctl'), ...args]);
  }

  /** {@link nbctl} and {@link sbctl} without holding this process (see Daemons.runAsync). */
  private nbctlAsync(...args: string[]): Promise<string> {
    return this.daemons.runAsync({}, 'ovn-nbctl', [`--db=unix:${join(this.dir, 'c', 'nb.sock')}`, '--timeout=20', ...args]);
  }

  private sbctlAsync(...args: string[]): Promise<string> {
    return this.daemons.runAsync({}, 'ovn-sbctl', [`--db=unix:${join(this.dir, 'c', 'sb.sock')}`, '--timeout=20', ...args]);
  }

  nbctl(...args: string[]): string {
    return this.daemons.run({}, 'ovn-nbctl', [`--db=unix:${join(this.dir, 'c', 'nb.sock')}`, '--timeout=20', ...args]);
  }

  sbctl(...args: string[]): string {
    return this.daemons.run({}, 'ovn-sbctl', [`--db=unix:${join(this.dir, 'c', 'sb.sock')}`, '--timeout=20', ...args]);
  }

  ofctl(node: number, ...args: string[]): string {
    const [cmd, bridge, ...rest] = args;
    return this.daemons.run({}, 'ovs-ofctl', [cmd!, `unix:${join(this.nodeDir(node), `${bridge}.mgmt`)}`, ...rest]);
  }

  private async build(): Promise<void> {
    const t0 = Date.now();
    const { state, cluster } = this;
    const ls = this.lsName();
    // OVN central.
    const c = join(this.dir, 'c');
    mkdir(c);
    const nbSchema = '/usr/share/ovn/ovn-nb.ovsschema';
    const collectedNb = this.options.northbound ? prepareCollectedNorthbound(this.options.northbound, join(c, 'nb.db'), ls, nbSchema, (a) => this.daemons.run({}, 'ovsdb-tool', a)) : undefined;
    this.collectedNb = collectedNb;
    for (const p of state.pods) this.ifaceId.set(p.name, (collectedNb ? collectedPortFor(collectedNb, p) : p.lsp) ?? p.lsp);
    if (collectedNb) {
      // A port Kube-OVN requested on another node than the Pod's is bound by no ovn-controller of the testbed
      // (chassis = node name): cluster.yaml and the Northbound are from different moments.
      for (const p of state.pods) {
        const lsp = collectedNb.ports.find((x) => x.name === this.ifaceId.get(p.name));
        if (lsp?.requestedChassis !== undefined && lsp.requestedChassis !== p.node) throw new CollectedNorthboundError(`${this.options.northbound}: Logical_Switch_Port ${lsp.name} has options:requested-chassis=${lsp.requestedChassis}, but Pod ${p.namespace}/${p.name} is on ${p.node} in cluster.yaml: no chassis would bind it (the snapshot's files are from different moments?)`);
        // The pod model answers with the Pod's MAC; the real switch delivers and announces by the port's addresses.
        const macs = lsp?.addresses.map((x) => x.split(/\s+/)[0]!.toLowerCase()).filter((x) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(x)) ?? [];
        if (macs.length && !macs.includes(p.mac.toLowerCase())) throw new CollectedNorthboundError(`${this.options.northbound}: Logical_Switch_Port ${lsp!.name} has addresses "${lsp!.addresses.join(', ')}", but Pod ${p.namespace}/${p.name} has MAC ${p.mac} in cluster.yaml (the snapshot's files are from different moments?)`);
      }
      const ports = Object.fromEntries(state.pods.filter((p) => collectedPortFor(collectedNb, p)).map((p) => [p.name, this.ifaceId.get(p.name)!]));
      this.source.northbound = { from: 'collected', file: this.options.northbound!, format: collectedNb.format, version: collectedNb.version, ...(collectedNb.convertedTo ? { convertedTo: collectedNb.convertedTo } : {}), ports, unbound: state.pods.filter((p) => !(p.name in ports)).map((p) => p.name) };
    }
    const localnet = collectedNb?.localnet.name ?? `localnet.${ls}`;
    this.ovsdb(c, 'nb', nbSchema, collectedNb !== undefined);
    this.ovsdb(c, 'sb', '/usr/share/ovn/ovn-sb.ovsschema');
    this.daemons.start(this.env(c), 'ovn-northd', [`--log-file=${join(c, 'northd.log')}`, `--ovnnb-db=unix:${join(c, 'nb.sock')}`, `--ovnsb-db=unix:${join(c, 'sb.sock')}`, `--unixctl=${join(c, 'northd.ctl')}`], join(c, 'northd.pid'));
    // The NB as Kube-OVN's controller writes it: the very NB vippath's simulation runs northd on
    // (northboundFor), sent as one transaction, so the two sides cannot differ in what they were given.
    const markers = this.vipNodeMarkers();
    // `init` makes the NB_Global row if ovn-northd has not yet: the transaction's NB_Global update (its options,
    // e.g. use_ct_inv_match=false) would otherwise find no row and set nothing — a race seen in CI.
    this.nbctl('--no-wait', 'init');
    if (!collectedNb) {
      const { nb } = northboundFor(this.objects, state.pods, cluster, state.loadBalancers);
      const res = JSON.parse(this.daemons.run({}, 'ovsdb-client', ['transact', `unix:${join(c, 'nb.sock')}`, JSON.stringify(['OVN_Northbound', ...nbTransaction(nb).ops])])) as Array<{ error?: string; details?: string } | null>;
      const failed = res.find((r) => r?.error);
      if (failed) throw new TestbedError(`NB transaction: ${failed.error}: ${failed.details ?? ''}`);
    }
    // The physical switch.
    const w = join(this.dir, 'w');
    mkdir(w);
    const wctl = this.vswitchd(w);
    const wargs = ['add-br', 'wire', '--', 'set', 'bridge', 'wire', 'datapath_type=dummy', '--', 'add-port', 'wire', 'outside', '--', 'set', 'interface', 'outside', 'type=dummy', `options:pstream=punix:${join(w, 'outside.sock')}`];
    cluster.nodes.forEach((_, i) => wargs.push('--', 'add-port', 'wire', `n${i}`, '--', 'set', 'interface', `n${i}`, 'type=dummy', `options:pstream=punix:${join(w, `n${i}.sock`)}`, `options:tx_pcap=${join(w, `n${i}.pcap`)}`));
    wctl(...wargs);
    this.taps.push('outside');
    this.streams.set('outside', await openStream(join(w, 'outside.sock'), (f) => this.record('outside', f)));
    // The nodes.
    for (const [i, n] of cluster.nodes.entries()) {
      const r = this.nodeDir(i);
      mkdir(r);
      const vsctl = this.vswitchd(r);
      vsctl('set', 'open', '.', `external_ids:system-id=${n.name}`, `external_ids:ovn-remote=unix:${join(c, 'sb.sock')}`, 'external_ids:ovn-encap-type=geneve', `external_ids:ovn-encap-ip=127.0.1.${i + 1}`, `external_ids:ovn-bridge-mappings=${collectedNb?.localnet.network ?? 'provider'}:br-provider`, `external_ids:hostname=${n.name}`);
      const nicAt = `${n.name}/${n.nic}`;
      const args = [
        'add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=dummy', 'fail-mode=secure',
        '--', 'add-br', 'br-provider', '--', 'set', 'bridge', 'br-provider', 'datapath_type=dummy', `other-config:hwaddr=${n.mac}`,
        '--', 'set', 'interface', 'br-provider', `options:pstream=punix:${join(r, 'local.sock')}`,
        '--', 'add-port', 'br-provider', `${NIC_PORT}.${cluster.vlan}`, '--', 'set', 'interface', `${NIC_PORT}.${cluster.vlan}`, 'type=patch', 'options:peer=vlan-dev', 'ofport_request=1',
        '--', 'add-br', 'br-nic', '--', 'set', 'bridge', 'br-nic', 'datapath_type=dummy', 'fail-mode=secure',
        '--', 'add-port', 'br-nic', NIC_PORT, '--', 'set', 'interface', NIC_PORT, 'type=dummy', `options:stream=unix:${join(w, `n${i}.sock`)}`, `options:tx_pcap=${join(r, 'nic.pcap')}`, 'ofport_request=1',
        '--', 'add-port', 'br-nic', 'vlan-dev', '--', 'set', 'interface', 'vlan-dev', 'type=patch', `options:peer=${NIC_PORT}.${cluster.vlan}`, 'ofport_request=2',
      ];
      const pods = state.pods.filter((p) => p.node === n.name);
      if (collectedNb ? collectedNb.allPorts.has(`node-${n.name}`) : markers.length) args.push('--', 'add-port', 'br-int', 'ovn0', '--', 'set', 'interface', 'ovn0', 'type=dummy', `external_ids:iface-id=node-${n.name}`);
      pods.forEach((p, j) => args.push('--', 'add-port', 'br-int', `pod${j}`, '--', 'set', 'interface', `pod${j}`, 'type=dummy', `options:pstream=punix:${join(r, `pod${j}.sock`)}`, `external_ids:iface-id=${this.ifaceId.get(p.name)}`));
      vsctl(...args);
      // The kernel's VLAN device: tagged 341 in becomes untagged on underlay0.341, and the reverse.
      this.daemons.run({}, 'ovs-ofctl', ['replace-flows', `unix:${join(r, 'br-nic.mgmt')}`, '-'], `in_port=1,dl_vlan=${cluster.vlan},actions=strip_vlan,output:2\nin_port=2,actions=mod_vlan_vid:${cluster.vlan},output:1\n`);
      this.taps.push(`${nicAt}:in`, `${nicAt}:out`);
      this.tails.push({ tap: `${nicAt}:in`, tail: new PcapTail(join(w, `n${i}.pcap`)) }, { tap: `${nicAt}:out`, tail: new PcapTail(join(r, 'nic.pcap')) });
      const localTap = `${n.name}/br-provider`;
      this.taps.push(localTap);
      this.streams.set(localTap, await openStream(join(r, 'local.sock'), (f) => this.fromLocal(n.name, localTap, f)));
      for (const [j, p] of pods.entries()) {
        this.pods.set(p.name, new PodHost(p, 80));
        const tap = `${n.name}/${p.name}`;
        this.taps.push(tap);
        // The pod is looked up per frame: resetConnections puts fresh ones in.
        this.streams.set(tap, await openStream(join(r, `pod${j}.sock`), (f) => this.fromPod(this.pods.get(p.name)!, tap, f)));
      }
    }
    // The ovn-controllers only once every node is on the wire and every end is open. A chassis announces a VIF
    // when it binds it (gratuitous ARPs 0, 2, 6, 14, 30 s after) and the simulation binds every pod at time 0 with
    // every node up, so every br-provider has learned every pod's MAC before the first input. Started node by
    // node, node1's controller could bind its pods while node3's NIC was still connecting: the switch's dummy port
    // sends to connected streams only (netdev-dummy.c, dummy_packet_conn_send; its tx_pcap records the frame all
    // the same), so node3 learned node1's pods from the second round, 2 s later — after the first input when the
    // rest came up fast, and a SYN-ACK to such a pod flooded out of node3's LOCAL port (testbed.test.ts, seen
    // under load). The NIC is the active end: its state says when it is connected.
    for (const [i, n] of cluster.nodes.entries()) {
      const nic = async (): Promise<string> => (await this.vswitchdAppctlAsync(i, 'netdev-dummy/conn-state', NIC_PORT)).trim();
      await this.waitFor(async () => (/: connected$/.test(await nic()) ? true : undefined), `${n.name}: its NIC did not connect to the switch`, 15_000);
    }
    for (const [i] of cluster.nodes.entries()) {
      const r = this.nodeDir(i);
      this.daemons.start(this.env(r), 'ovn-controller', [`--log-file=${join(r, 'ovn-controller.log')}`, `unix:${join(r, 'conf.sock')}`], join(r, 'ovn-controller.pid'));
    }
    // ovn-controller announces each VIF when it binds it; the first round has gone out (the switches learned the
    // pods' MACs) before the first input, as in a simulation whose pods were bound at time 0. (Outside, tagged:
    // the ARP sender MAC is at byte 26.) Waited for first, polling: a frame is stamped when this process reads it,
    // and the synchronous commands below (`--wait=hv sync` above all) would hold the first round and stamp it late
    // (the GARP test compares the rounds' offsets).
    // (A pod the collected Northbound has no port for is bound to nothing and announced by no one.)
    const v4 = state.pods.filter((p) => !p.ip.includes(':') && (!collectedNb || collectedPortFor(collectedNb, p)));
    await this.waitFor(() => {
      const seen = new Set(this.recorded.filter((r) => r.tap === 'outside' && r.frame.length >= 46 && r.frame[0] === 0xff && r.frame[16] === 0x08 && r.frame[17] === 0x06).map((r) => Array.from(r.frame.subarray(26, 32), (x) => x.toString(16).padStart(2, '0')).join(':')));
      return v4.every((p) => seen.has(p.mac)) ? true : undefined;
    }, 'ovn-controller did not announce every bound pod', 15_000);
    // Every chassis has caught up with the NB (ports bound, flows installed). From here on the commands run without
    // holding this process: the later GARP rounds are on their way, and the GARP test compares when they came.
    await this.nbctlAsync('--wait=hv', 'sync');
    const patch = `patch-${localnet}-to-br-int`;
    for (const [i, n] of cluster.nodes.entries()) {
      const local = state.pods.some((p) => p.node === n.name);
      let flows = state.brProviderFlows[n.name]!;
      let ofport = 2;
      if (local) {
        ofport = await this.waitFor(async () => {
          const out = (await this.daemons.runAsync(this.env(this.nodeDir(i)), 'ovs-vsctl', [`--db=unix:${join(this.nodeDir(i), 'conf.sock')}`, '--if-exists', 'get', 'interface', patch, 'ofport'])).trim();
          return /^\d+$/.test(out) && out !== '0' ? Number(out) : undefined;
        }, `${n.name}: ovn-controller did not create ${patch}`);
        // vippath derives the rules for ofport 2 (the patch port is the second port ovn-controller's bridge gets).
        if (ofport !== 2 && !cluster.brProvider?.[n.name]) flows = flows.map((f) => f.replace(/output:2\b/, `output:${ofport}`));
      }
      // A snapshot's flows, as dump-flows printed them on the node, onto this bridge's ports.
      const collected = cluster.brProvider?.[n.name];
      if (collected) flows = testbedProviderFlows(flows, collected.ports, { uplink: { name: `${n.nic}.${cluster.vlan}`, ofport: 1 }, patch: { name: patch, ofport } });
      await this.daemons.runAsync({}, 'ovs-ofctl', ['replace-flows', `unix:${join(this.nodeDir(i), 'br-provider.mgmt')}`, '-'], `${flows.join('\n')}\n`);
    }
    if (this.options.profile === 'kube-ovn') await this.applyKubeOvnOverlay();
    // …and every node's br-provider has learned them (the state the simulation starts from): a frame to a pod
    // another node has not learned floods out of that node's LOCAL port too. Waited for, not assumed — the
    // switch takes a NIC's stream when it next runs, a little after the NIC says it is connected, and a node that
    // missed the first round learns from the second. (A snapshot's br-provider flows may not learn at all.)
    await this.waitFor(async () => {
      for (const [i, n] of cluster.nodes.entries()) {
        if (cluster.brProvider?.[n.name]) continue;
        const fdb = parseFdb(await this.vswitchdAppctlAsync(i, 'fdb/show', 'br-provider'));
        if (v4.some((p) => !fdb.has(p.mac.toLowerCase()))) return undefined;
      }
      return true;
    }, () => `a br-provider did not learn every announced pod's MAC: ${cluster.nodes.map((n, i) => `${n.name} knows ${[...this.fdb(i, 'br-provider')].map(([m, port]) => `${m}@${port}`).join(' ') || 'none'}`).join('; ')}`, 8000);
    await this.settle();
    this.startup = this.take();
    this.log(`testbed up in ${Date.now() - t0} ms: ${cluster.nodes.length} node(s), ${state.pods.length} pod(s), profile ${this.options.profile ?? 'upstream'} (${this.dir})`);
  }

  /** The VIP-node markers Kube-OVN 1.15.20 writes into the load balancers' external_ids. */
  private vipNodeMarkers(): string[] {
    if (this.cluster.profiles.kubeOvn !== 'kube-ovn-1.15.20' || this.options.profile !== 'kube-ovn') return [];
    return this.state.loadBalancers.flatMap((lb) => Object.entries(lb.externalIds ?? {}).filter(([k]) => k.startsWith('kube-ovn.io/local-external-vip/')).map(([, v]) => v));
  }

  /**
   * Polls `probe` until it gives a value; past `ms`, a TestbedError saying `what` (a function: read then). A probe
   * that runs a tool while GARP rounds may be coming runs it with Daemons.runAsync (see build).
   */
  private async waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string | (() => string), ms = 10_000): Promise<T> {
    const until = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > until) throw new TestbedError(typeof what === 'function' ? what() : what);
      await sleep(25);
    }
  }

  /**
   * Kube-OVN's northd patches as logical flows: the difference vippath's northd makes between the cluster's
   * profile and upstream (see overlay.ts), so the flows are the simulation's own. ovn-northd is paused after its
   * sync so it does not take them out again; the upstream rows the patch replaces are deleted, the new ones
   * created (table numbers from the stage's rows), and the testbed waits until every ovn-controller that runs the
   * switch has compiled them (their OpenFlow cookies appear on br-int).
   */
  private async applyKubeOvnOverlay(): Promise<void> {
    const { state, cluster } = this;
    const ls = this.lsName();
    const c = join(this.dir, 'c');
    await this.daemons.runAsync({}, 'ovn-appctl', ['-t', join(c, 'northd.ctl'), 'pause']);
    const dp = (await this.sbctlAsync('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', `external_ids:name=${ls}`)).trim();
    if (!dp) throw new TestbedError(`no SB datapath for ${ls}`);
    const listed = JSON.parse(await this.sbctlAsync('--format=json', '--columns=_uuid,pipeline,table_id,priority,match,actions,external_ids,logical_datapath,logical_dp_group', 'list', 'Logical_Flow')) as { headings: string[]; data: unknown[][] };
    const col = (name: string): number => listed.headings.indexOf(name);
    // A collected Northbound may hold other switches and routers: only this switch's rows (its own, or a
    // datapath group's it is in) are the ones the patches touch.
    const groups = new Set<string>();
    if (this.collectedNb) {
      const g = JSON.parse(await this.sbctlAsync('--format=json', '--columns=_uuid,datapaths', 'list', 'Logical_DP_Group')) as { data: Array<[[string, string], [string, unknown]]> };
      for (const [[, uuid], dps] of g.data) if (JSON.stringify(dps).includes(dp)) groups.add(uuid);
    }
    const uuidOf = (v: unknown): string | undefined => (Array.isArray(v) && v[0] === 'uuid' ? (v[1] as string) : undefined);
    const rows = listed.data.filter((r) => !this.collectedNb || uuidOf(r[col('logical_datapath')]) === dp || groups.has(uuidOf(r[col('logical_dp_group')]) ?? '')).map((r) => {
      const ext = new Map(((r[col('external_ids')] as [string, Array<[string, string]>])[1] ?? []));
      return { uuid: (r[col('_uuid')] as [string, string])[1], pipeline: r[col('pipeline')] as LogicalFlow['pipeline'], table: r[col('table_id')] as number, priority: r[col('priority')] as number, match: r[col('match')] as string, actions: r[col('actions')] as string, stage: ext.get('stage-name') ?? '' };
    });
    const collected = this.collectedNb ? this.options.collectedFlows : undefined;
    const chassis = (): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const p of state.pods) out[this.ifaceId.get(p.name) ?? p.lsp] = p.node;
      for (const n of cluster.nodes) out[`node-${n.name}`] = n.name;
      return out;
    };
    const delta = collected ? collectedOverlay(rows, collected) : this.collectedNb ? collectedNbOverlay(this.collectedNb, ls, northdProfile(cluster), chassis(), this.ovnVersion) : kubeOvnOverlay(this.objects, state, cluster, ls, this.ovnVersion);
    this.source.patchFlows = { from: collected ? 'collected' : 'vippath', added: delta.added.length, removed: delta.removed.length };
    for (const f of delta.removed) {
      const i = rows.findIndex((r) => r.pipeline === f.pipeline && r.stage === f.stage && r.priority === f.priority && r.match === f.match && r.actions === f.actions);
      if (i < 0) throw new TestbedError(`the Kube-OVN ${collected ? 'patch flows of the collected Southbound replace' : 'overlay replaces'} ${f.stage} priority ${f.priority} "${f.match}" / "${f.actions}", which ovn-northd did not write (vippath's upstream northd and the real one disagree)`);
      await this.sbctlAsync('destroy', 'Logical_Flow', rows[i]!.uuid);
      rows.splice(i, 1);
    }
    const table = (pipeline: string, stage: string, fallback: number): number => rows.find((r) => r.pipeline === pipeline && r.stage === stage)?.table ?? fallback;
    const bound = new Map(state.pods.map((p) => [this.ifaceId.get(p.name) ?? p.lsp, p.node]));
    for (const n of cluster.nodes) bound.set(`node-${n.name}`, n.name);
    const created: Array<{ cookie: string; nodes: string[] }> = [];
    const runners = cluster.nodes.filter((n) => state.pods.some((p) => p.node === n.name)).map((n) => n.name);
    for (const f of delta.added) {
      this.overlay.push({ stage: f.stage, priority: f.priority, match: f.match, actions: f.actions });
      const uuid = (await this.sbctlAsync('create', 'Logical_Flow', `logical_datapath=${dp}`, `pipeline=${f.pipeline}`, `table_id=${table(f.pipeline, f.stage, f.table)}`, `priority=${f.priority}`, `match=${q(f.match)}`, `actions=${q(f.actions)}`, `external_ids:stage-name=${f.stage}`)).trim();
      // ovn-controller compiles a switch's flows where a port of it is bound (no pods: no local datapath), and a
      // flow guarded by is_chassis_resident("P") only where P is.
      const resident = residentPorts(f.match);
      const nodes = resident.length ? runners.filter((n) => resident.every((p) => bound.get(p) === n)) : runners;
      created.push({ cookie: `cookie=0x${uuid.slice(0, 8).replace(/^0+(?=.)/, '')},`, nodes });
    }
    for (const [i, n] of cluster.nodes.entries()) {
      const want = created.filter((r) => r.nodes.includes(n.name)).map((r) => r.cookie);
      if (!want.length) continue;
      await this.waitFor(async () => {
        const flows = await this.daemons.runAsync({}, 'ovs-ofctl', ['dump-flows', `unix:${join(this.nodeDir(i), 'br-int.mgmt')}`]);
        return want.every((k) => flows.includes(k)) ? true : undefined;
      }, collected ? `${n.name}: ovn-controller did not compile the collected Southbound's patch rows (another OVN version's match or actions? see ovn-controller.log with --keep)` : `${n.name}: ovn-controller did not compile the Kube-OVN overlay flows`);
    }
  }

  private record(tap: string, frame: Uint8Array): TapFrame | undefined {
    this.lastActivity = Date.now();
    this.seenSinceSend = true;
    const node = tap.split('/')[0]!;
    if (this.down.has(node)) return undefined;
    const r = { tap, frame, time: this.lastActivity };
    this.recorded.push(r);
    return r;
  }

  private fromLocal(node: string, tap: string, frame: Uint8Array): void {
    if (this.down.has(node)) return;
    this.record(tap, frame);
    const v = this.state.metallb.receive(node, 'br-provider', frame);
    if (v.verdict === 'reply') this.streams.get(tap)!.send(v.frame);
  }

  private fromPod(host: PodHost, tap: string, frame: Uint8Array): void {
    if (this.down.has(host.pod.node)) return;
    const r = this.record(tap, frame);
    const replies = host.receive(frame, this.now);
    if (r) r.accepted = host.ignoredCode === undefined;
    for (const reply of replies) this.streams.get(tap)!.send(reply);
  }

  /**
   * Runs simulated time up to `now` (ms) as the simulation does: MetalLB's frames due (sent on the speaker's
   * LOCAL port, then settled) and scheduled node losses, in time order. Returns how many frames were sent.
   */
  async advance(now: number): Promise<number> {
    this.now = now;
    let sent = 0;
    for (;;) {
      const next = this.scheduled[0];
      const frames = this.state.metallb.advance(next && next.time <= now ? next.time : now);
      // One at a time, each settled (answers included) before the next, as the simulation runs them: sent
      // together, one speaker's announcement could overtake another's reply to an earlier one.
      for (const g of frames) {
        if (this.down.has(g.node)) continue;
        this.streams.get(`${g.node}/br-provider`)?.send(g.frame);
        this.lastActivity = Date.now();
        sent++;
        await this.settle();
      }
      if (!next || next.time > now) break;
      await this.scheduled.shift()!.run();
    }
    return sent;
  }

  /**
   * Takes `node` down at `at` (ms, simulated): its link to the physical switch goes (the port is deleted, so the
   * switch forgets its MACs), its speaker dies (MetalLB's other speakers notice after failure detection), its
   * pods answer nothing. Endpoint readiness is not followed here: {@link Differential.nodeDown} schedules it
   * ({@link setPodReady}) as the simulation does.
   */
  nodeDown(node: string, at: number): void {
    const i = this.cluster.nodes.findIndex((n) => n.name === node);
    if (i < 0) throw new TestbedError(`no node named ${node}`);
    this.state.metallb.nodeDown(node, at);
    let k = this.scheduled.length;
    while (k > 0 && this.scheduled[k - 1]!.time > at) k--;
    this.scheduled.splice(k, 0, {
      time: at,
      run: () => {
        this.down.add(node);
        const w = join(this.dir, 'w');
        this.daemons.run(this.env(w), 'ovs-vsctl', [`--db=unix:${join(w, 'conf.sock')}`, '--timeout=20', 'del-port', 'wire', `n${i}`]);
      },
    });
  }

  private at(time: number, run: () => void | Promise<void>): void {
    let k = this.scheduled.length;
    while (k > 0 && this.scheduled[k - 1]!.time > time) k--;
    this.scheduled.splice(k, 0, { time, run });
  }

  /**
   * Brings `node` back at `at` (ms, simulated), as the simulation's nodeUp: its link to the physical switch
   * returns (the switch port is added again and the node's NIC reconnects to it), its speaker is back, and its
   * pods turn ready at once.
   */
  nodeUp(node: string, at: number): void {
    const i = this.cluster.nodes.findIndex((n) => n.name === node);
    if (i < 0) throw new TestbedError(`no node named ${node}`);
    this.state.metallb.nodeUp(node, at);
    this.at(at, async () => {
      if (!this.down.has(node)) return;
      const w = join(this.dir, 'w');
      // A new pcap file: OVS would truncate the old one under the tail reading it.
      const pcap = join(w, `n${i}-${++this.relinks}.pcap`);
      this.daemons.run(this.env(w), 'ovs-vsctl', [`--db=unix:${join(w, 'conf.sock')}`, '--timeout=20', '--may-exist', 'add-port', 'wire', `n${i}`, '--', 'set', 'interface', `n${i}`, 'type=dummy', `options:pstream=punix:${join(w, `n${i}.sock`)}`, `options:tx_pcap=${pcap}`]);
      const tap = `${node}/${this.cluster.nodes[i]!.nic}:in`;
      const t = this.tails.find((x) => x.tap === tap);
      if (t) {
        t.tail.close();
        t.tail = new PcapTail(pcap);
      }
      // The node's NIC is the active end: it reconnects on its own (netdev-dummy's reconnect backoff).
      const state = (): string => this.vswitchdAppctl(i, 'netdev-dummy/conn-state', NIC_PORT).trim();
      await this.waitFor(() => (/: connected$/.test(state()) ? true : undefined), `${node}: its NIC did not reconnect to the switch`, 15_000);
      this.down.delete(node);
    });
    for (const p of this.state.pods) if (p.node === node) this.setPodReady(p.name, true, at);
  }

  /**
   * Changes a pod's readiness at `at` (ms, simulated), as the simulation's setPodReady: its endpoints in every
   * LoadBalancer Service (MetalLB's ETP=Local announcement follows) and the OVN load balancers, which the
   * controller rewrites in the NB. With Kube-OVN's patches, ovn-northd runs again for the change and the patch
   * flows are written anew for the new Northbound (see applyKubeOvnOverlay).
   */
  setPodReady(name: string, ready: boolean, at: number): void {
    const pod = this.state.pods.find((p) => p.name === name);
    if (!pod) throw new TestbedError(`no pod named ${name}; pods: ${this.state.pods.map((p) => p.name).join(', ')}`);
    for (const s of this.objects.filter(isLoadBalancerService)) {
      const index = this.state.pods.filter((p) => backs(s, p)).indexOf(pod);
      if (index >= 0) this.state.metallb.setEndpointReady(`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`, index, ready, at);
    }
    this.at(at, async () => {
      if (pod.ready === ready) return;
      pod.ready = ready;
      await this.rewriteLoadBalancers();
    });
  }

  /** The controller's rewrite of the OVN load balancers after a readiness change, and the chassis caught up. */
  private async rewriteLoadBalancers(): Promise<void> {
    const { state, cluster } = this;
    // The controller's rewrite is of the load balancers vippath derives: on a collected Northbound it would write
    // over what the user's cluster had (and the collected patch flows are of the old one).
    if (this.collectedNb) throw new TestbedError('a readiness change cannot be applied to a collected Northbound (ovn/nb.db): the real side would be rewritten with the load balancers vippath derives');
    state.loadBalancers = ovnLoadBalancers(this.objects, state.pods, cluster, state.metallb);
    const args: string[] = [];
    for (const lb of state.loadBalancers) {
      args.push('--', 'clear', 'load_balancer', lb.name, 'vips', '--', 'clear', 'load_balancer', lb.name, 'ip_port_mappings');
      const sets = [...Object.entries(lb.vips).map(([k, v]) => `vips:${q(k)}=${q(v)}`), ...Object.entries(lb.ipPortMappings ?? {}).map(([k, v]) => `ip_port_mappings:${q(k)}=${q(v)}`)];
      if (sets.length) args.push('--', 'set', 'load_balancer', lb.name, ...sets);
      const ext = Object.entries(lb.externalIds ?? {});
      args.push('--', 'clear', 'load_balancer', lb.name, 'external_ids');
      if (ext.length) args.push('--', 'set', 'load_balancer', lb.name, ...ext.map(([k, v]) => `external_ids:${q(k)}=${q(v)}`));
    }
    if (!args.length) return;
    const c = join(this.dir, 'c');
    if (this.options.profile === 'kube-ovn') this.daemons.run({}, 'ovn-appctl', ['-t', join(c, 'northd.ctl'), 'resume']);
    this.nbctl(...args.slice(1));
    this.nbctl('--wait=hv', 'sync');
    if (this.options.profile === 'kube-ovn') {
      this.overlay.length = 0;
      await this.applyKubeOvnOverlay();
    }
  }

  /**
   * Changes the running cluster's Northbound as an operator or another controller would (`ovn-nbctl` arguments):
   * ovn-northd runs again and, with Kube-OVN's patches, they are written anew (applyKubeOvnOverlay). For a cluster
   * whose Northbound is not what vippath derives — e.g. to collect a snapshot of one.
   */
  async editNorthbound(...args: string[]): Promise<void> {
    const c = join(this.dir, 'c');
    const patched = this.options.profile === 'kube-ovn';
    if (patched) this.daemons.run({}, 'ovn-appctl', ['-t', join(c, 'northd.ctl'), 'resume']);
    this.nbctl(...args);
    this.nbctl('--wait=hv', 'sync');
    if (patched) {
      this.overlay.length = 0;
      await this.applyKubeOvnOverlay();
    }
  }

  /**
   * Forgets every connection (as SimulatedCluster.resetConnections does): `dpctl/flush-conntrack` on every node's
   * ovs-vswitchd, and fresh pods. Learned MACs, OVN's FDB, ovn-controller's learned flows and MetalLB stay.
   */
  resetConnections(): void {
    for (const [i] of this.cluster.nodes.entries()) this.vswitchdAppctl(i, 'dpctl/flush-conntrack');
    for (const p of this.state.pods) this.pods.set(p.name, new PodHost(p, 80));
  }

  /**
   * Where the physical switch has learned `mac` (on the cluster's VLAN) now: `outside`, a node's name, or undefined
   * (not learned). ovs-vswitchd learns from a frame that takes a datapath flow already installed only when a
   * revalidator pushes that flow's statistics, not as the frame passes, so right after a MAC moved its table can
   * lag what a switch in hardware (and vippath's wire) would know: a test that moves a MAC waits on this.
   */
  wireMacPort(mac: string): string | undefined {
    const w = join(this.dir, 'w');
    const names = new Map<string, string>();
    for (const line of this.daemons.run(this.env(w), 'ovs-vsctl', [`--db=unix:${join(w, 'conf.sock')}`, '--bare', '--columns=ofport,name', 'list', 'interface']).split('\n\n')) {
      const [ofport, name] = line.trim().split('\n');
      if (ofport && name) names.set(ofport.trim(), name.trim());
    }
    const want = mac.toLowerCase();
    for (const line of this.daemons.run(this.env(w), 'ovs-appctl', ['-t', join(w, 'ovs-vswitchd.ctl'), 'fdb/show', 'wire']).split('\n')) {
      const [port, vlan, m] = line.trim().split(/\s+/);
      if (m?.toLowerCase() !== want || Number(vlan) !== this.cluster.vlan) continue;
      const name = names.get(port!);
      if (name === 'outside') return 'outside';
      const i = name?.startsWith('n') ? Number(name.slice(1)) : NaN;
      return this.cluster.nodes[i]?.name;
    }
    return undefined;
  }

  /**
   * Waits until the physical switch's datapath flows follow its MAC table: two revalidation rounds
   * (`revalidator/wait` waits for the end of the round under way, which may have passed a flow already). After a
   * MAC moved, a flow installed before keeps forwarding to the old port until revalidated.
   */
  wireRevalidated(): void {
    const w = join(this.dir, 'w');
    for (let i = 0; i < 2; i++) this.daemons.run(this.env(w), 'ovs-appctl', ['-t', join(w, 'ovs-vswitchd.ctl'), 'revalidator/wait']);
  }

  /**
   * Where `node`'s br-provider has learned `mac` now: `LOCAL`, an OpenFlow port number, or undefined (not learned).
   * Its NORMAL learns as the physical switch does (see {@link wireMacPort}): a frame on an installed datapath flow
   * teaches it only when a revalidator runs — e.g. the node's own MAC, learned on the uplink from a frame of the
   * outside that carried it, comes back to LOCAL only then, though the speaker has answered from LOCAL since.
   */
  bridgeMacPort(node: string, mac: string): string | undefined {
    const i = this.cluster.nodes.findIndex((n) => n.name === node);
    if (i < 0) throw new TestbedError(`no node named ${node}`);
    return this.fdb(i, 'br-provider').get(mac.toLowerCase());
  }

  /** Node `i`'s MAC table of `bridge` (`fdb/show`): lower-case MAC → port (`LOCAL` or an OpenFlow port number). */
  private fdb(i: number, bridge: string): Map<string, string> {
    return parseFdb(this.vswitchdAppctl(i, 'fdb/show', bridge));
  }

  /** Two revalidation rounds of `node`'s ovs-vswitchd (see {@link wireRevalidated}). */
  nodeRevalidated(node: string): void {
    const i = this.cluster.nodes.findIndex((n) => n.name === node);
    if (i < 0) throw new TestbedError(`no node named ${node}`);
    for (let k = 0; k < 2; k++) this.vswitchdAppctl(i, 'revalidator/wait');
  }

  /**
   * Puts a frame on the wire from the outside client (`outside`), sends it from a pod (`<node>/<pod>`) or from the
   * node's own host into br-provider's LOCAL port (`<node>/br-provider`: the stream MetalLB's speaker sends on).
   */
  send(at: string, frame: Uint8Array): void {
    const s = this.streams.get(at);
    if (!s) throw new TestbedError(`cannot send at ${at}: use outside, <node>/<pod> or <node>/br-provider (${this.taps.filter((t) => t !== 'outside' && !t.includes(':')).join(', ')})`);
    this.lastActivity = this.lastSend = Date.now();
    this.seenSinceSend = false;
    s.send(frame);
  }

  /** Waits until no port has sent anything for the settle time (pods' and MetalLB's answers included); at most `maxMs`. */
  async settle(maxMs = 5000): Promise<void> {
    const until = Date.now() + maxMs;
    for (;;) {
      await sleep(4);
      for (const { tap, tail } of this.tails) for (const f of tail.read()) this.record(tap, f);
      const now = Date.now();
      const quiet = now - this.lastActivity >= this.settleMs;
      if ((quiet && (this.seenSinceSend || now - this.lastSend >= this.firstFrameMs)) || now > until) return;
    }
  }

  /**
   * Waits (at most `maxMs`) until what the ports sent since the last {@link take} satisfies `want` — e.g. as many
   * frames per port as the simulation sent, so a frame the real datapath is merely slow with is not handed to
   * the next input — then settles again.
   */
  async settleUntil(want: (seen: readonly TapFrame[]) => boolean, maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    while (!want(this.recorded) && Date.now() < until) {
      await sleep(4);
      for (const { tap, tail } of this.tails) for (const f of tail.read()) this.record(tap, f);
    }
    await this.settle();
  }

  /** What the ports sent since the last call, in the order it was seen (in order per port). */
  take(): TapFrame[] {
    const r = this.recorded;
    this.recorded = [];
    return r;
  }

  /** The pids of the run directory's daemons and their `--monitor` processes still running. */
  running(): number[] {
    return this.daemons.running();
  }

  async stop(): Promise<void> {
    for (const s of this.streams.values()) s.socket.destroy();
    for (const t of this.tails) t.tail.close();
    await this.daemons.stop();
  }
}

/** `ovs-appctl fdb/show` text: lower-case MAC → port (`LOCAL` or an OpenFlow port number). */
function parseFdb(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [port, vlan, m] = line.trim().split(/\s+/);
    if (port && /^\d+$/.test(vlan ?? '') && m) out.set(m.toLowerCase(), port);
  }
  return out;
}

function mkdir(p: string): void {
  mkdirSync(p, { recursive: true });
}
