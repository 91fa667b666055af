/**
 * The real Open vSwitch as a test oracle: ovsdb-server and ovs-vswitchd from Debian's openvswitch-switch,
 * userspace only (dummy datapath), in a private run directory, stopped by pid. Packets are injected with
 * `netdev-dummy/receive` and read back from each port's `options:tx_pcap` — the exact bytes OVS emitted.
 * Recipe: shared/research/ovs-ovn-userspace.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemons, logTail, sleepSync, stillRunning } from './oracle-process.js';
import { CaptureCursor, Next } from '@vippath/pcap';

export const LOCAL = 0xfffe;
/** How many of the last commands sent to ovs-vswitchd a death report shows. */
const RECENT = 8;

/** Why the real OVS cannot run here, or undefined when it can. */
export function ovsUnavailable(): string | undefined {
  for (const bin of ['ovsdb-server', 'ovs-vswitchd', 'ovs-vsctl', 'ovs-ofctl', 'ovs-appctl', 'ovsdb-tool']) {
    if (spawnSync('which', [bin]).status !== 0) return `${bin} not found (apt-get install openvswitch-switch)`;
  }
  if (!existsSync('/usr/share/openvswitch/vswitch.ovsschema')) return 'vswitch.ovsschema not found';
  return undefined;
}

export class OvsOracle {
  readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly seen = new Map<number, number>();
  /** Per port: the `tx_pcap` bytes read so far, those not yet a whole record, the cursor, the frames parsed. */
  private readonly taps = new Map<number, { read: number; pending: Uint8Array; cursor: CaptureCursor; frames: Uint8Array[] }>();
  /** `streams`: ports that also listen on `<dir>/p<N>.sock` (netdev-dummy `pstream`), as the testbed's ports do. */
  constructor(readonly ports: number[], streams: number[] = []) {
    this.dir = mkdtempSync(join(tmpdir(), 'vippath-ovs-'));
    const R = this.dir;
    this.env = { ...process.env, OVS_RUNDIR: R, OVS_LOGDIR: R, OVS_DBDIR: R, OVS_SYSCONFDIR: R };
    this.daemons = new Daemons(R);
    const run = (cmd: string, ...args: string[]): void => {
      execFileSync(cmd, args, { env: this.env, stdio: ['ignore', 'ignore', 'pipe'] });
    };
    run('ovsdb-tool', 'create', `${R}/conf.db`, '/usr/share/openvswitch/vswitch.ovsschema');
    // Detached, monitored, stopped by their recorded pids (test/oracle-process.ts, Daemons.start).
    this.daemons.start(this.env, 'ovsdb-server', [`--log-file=${R}/ovsdb-server.log`, `--remote=punix:${R}/db.sock`, `${R}/conf.db`], `${R}/ovsdb-server.pid`);
    run('ovs-vsctl', `--db=unix:${R}/db.sock`, '--no-wait', 'init');
    this.daemons.start(this.env, 'ovs-vswitchd', ['--enable-dummy', '--disable-system', `--log-file=${R}/ovs-vswitchd.log`, `unix:${R}/db.sock`], `${R}/ovs-vswitchd.pid`);
    const args = [`--db=unix:${R}/db.sock`, 'add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=dummy', 'fail-mode=secure', 'other-config:hwaddr=02:00:00:00:00:fe'];
    for (const p of ports) args.push('--', 'add-port', 'br0', `p${p}`, '--', 'set', 'interface', `p${p}`, 'type=dummy', `ofport_request=${p}`, `options:tx_pcap=${R}/p${p}.pcap`, ...(streams.includes(p) ? [`options:pstream=punix:${R}/p${p}.sock`] : []));
    args.push('--', 'set', 'interface', 'br0', `options:tx_pcap=${R}/local.pcap`);
    run('ovs-vsctl', ...args);
  }

  /** The daemons, started detached under OVS's `--monitor` and recorded (see Daemons.start). */
  private readonly daemons: Daemons;
  /** The last commands sent to ovs-vswitchd (packets as hex), oldest first: the input a death is reported with. */
  private readonly recent: string[] = [];
  private sent(what: string): void {
    if (this.recent.push(what) > RECENT) this.recent.shift();
  }

  /**
   * Why the oracle is no longer the one started ('' while it is): each daemon that died, with how it ended (exit
   * status or signal, core dumped — its monitor's word), the log's end, and the last commands sent to ovs-vswitchd.
   * `waitMs`: how long to wait for a death to show.
   */
  deathReport(waitMs = 0): string {
    // A daemon killed closes its sockets before the kernel shows it gone (exit_files comes before exit_notify): a
    // caller that saw its socket reset gives it a moment.
    for (let until = Date.now() + waitMs; this.alive() && Date.now() < until; ) sleepSync(10);
    const d = this.daemons.deaths();
    if (!d.length) return '';
    return `\n${d.join('\n')}\nthe last ${this.recent.length} commands sent to ovs-vswitchd, oldest first (run directory ${this.dir} kept):\n${this.recent.join('\n')}`;
  }

  private ctl(cmd: string, ...args: string[]): string {
    // A daemon restarted by its monitor answers on the same bridge socket: never talk to it as if it were ours.
    if (!this.alive()) throw new Error(`${cmd} ${args.join(' ')}: not run, ovs-vswitchd is not the one started${this.deathReport()}`);
    this.sent(`${cmd} ${args.join(' ')}`);
    const r = spawnSync(cmd, args, { env: this.env, encoding: 'utf8' });
    if (r.status !== 0) {
      // A daemon that died shows here first (its socket reset): say how, with its last words and what it was sent.
      throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}${this.deathReport(300)}`);
    }
    return r.stdout;
  }

  /** The open control connection (see {@link appctlAsync}), or undefined before the first call and after a failure. */
  private control?: Socket;
  /** The control connection's reply not yet whole, and the call waiting for it. */
  private controlText = '';
  private controlWaiting?: { resolve: (text: string) => void; reject: (e: Error) => void };

  /**
   * `ovs-appctl CMD ARGS…` over one control connection kept open to ovs-vswitchd, instead of an ovs-appctl process
   * per call: the packets' commands are the suites' hot loop, and an ovs-appctl process took 41–85 ms a call on this
   * 2-core machine at load 12–17 ({@link send} went from 83–95 ms to 33–34 ms a packet with it). The protocol is ovs-appctl's own (lib/unixctl.c:
   * unixctl_server_create listens on `<rundir>/<program>.<pid>.ctl`; a request is a JSON-RPC object whose method is
   * the command and whose params are its arguments as strings, process_command runs the same handler, the reply
   * carries `result` or `error` — unixctl_client_transact reads it so). One call at a time: the next request is sent
   * only after the reply, as ovs-appctl does.
   */
  async appctlAsync(cmd: string, ...args: string[]): Promise<string> {
    if (this.controlWaiting) throw new Error('appctlAsync: one call at a time');
    const sock = this.control ?? this.openControl();
    this.sent(`ovs-appctl ${cmd} ${args.join(' ')}`);
    // Held open while a reply is awaited (nothing else may keep the process alive then), let go between calls.
    sock.ref();
    const reply = await new Promise<string>((resolve, reject) => {
      this.controlWaiting = { resolve, reject };
      sock.write(JSON.stringify({ id: 0, method: cmd, params: args }));
    }).finally(() => sock.unref());
    const msg = JSON.parse(reply) as { result?: string | null; error?: string | null };
    if (msg.error != null) throw new Error(`ovs-appctl ${cmd} ${args.join(' ')}: ${String(msg.error)}`);
    return msg.result ?? '';
  }

  private openControl(): Socket {
    // The pid recorded at start, not the pidfile's: after a crash the monitor's new daemon writes its own there.
    const pid = this.daemons.recorded('ovs-vswitchd')?.pid;
    if (pid === undefined || !this.alive()) throw new Error(`ovs-vswitchd's control connection: ovs-vswitchd is not the one started${this.deathReport()}`);
    const sock = createConnection(join(this.dir, `ovs-vswitchd.${pid}.ctl`));
    sock.setEncoding('utf8');
    sock.unref();
    const fail = (why: string): void => {
      if (this.control === sock) this.control = undefined;
      sock.destroy();
      const w = this.controlWaiting;
      this.controlWaiting = undefined;
      this.controlText = '';
      if (!w) return;
      w.reject(new Error(`ovs-vswitchd's control connection: ${why}${this.deathReport(1000)}`));
    };
    sock.on('data', (chunk: string) => {
      this.controlText += chunk;
      // One reply per request, a single JSON object: whole once it parses.
      try {
        JSON.parse(this.controlText);
      } catch {
        return;
      }
      const text = this.controlText;
      this.controlText = '';
      const w = this.controlWaiting;
      this.controlWaiting = undefined;
      w?.resolve(text);
    });
    sock.on('error', (e) => fail(e.message));
    sock.on('close', () => fail('closed'));
    this.control = sock;
    return sock;
  }

  /** Replaces all flows; returns OVS's error text if it refused them. */
  setFlows(lines: string[]): string | undefined {
    const file = join(this.dir, 'flows.txt');
    writeFileSync(file, lines.join('\n') + '\n');
    this.ctl('ovs-ofctl', 'del-flows', 'br0');
    this.sent(`ovs-ofctl add-flows br0 flows.txt (${lines.length} flows)`);
    const r = spawnSync('ovs-ofctl', ['add-flows', 'br0', file], { env: this.env, encoding: 'utf8' });
    this.ctl('ovs-appctl', 'fdb/flush', 'br0');
    return r.status === 0 ? undefined : r.stderr;
  }

  private pcapOf(port: number): string {
    return join(this.dir, port === LOCAL ? 'local.pcap' : `p${port}.pcap`);
  }

  /**
   * Every frame `port` has sent so far, in order. Its `tx_pcap` only grows (ovs-vswitchd appends and flushes each
   * frame), so only the bytes past the last read are read and parsed, through one streaming cursor per port; a
   * record not yet whole is handed back to the cursor with the next bytes. Reading the whole file at every poll
   * cost time quadratic in the frames sent (test/ct-ovs.test.ts sends thousands through one port).
   */
  private records(port: number): Uint8Array[] {
    let tap = this.taps.get(port);
    if (!tap) this.taps.set(port, (tap = { read: 0, pending: new Uint8Array(0), cursor: new CaptureCursor({ onError: 'skip' }), frames: [] }));
    const f = this.pcapOf(port);
    let fd: number;
    try {
      fd = openSync(f, 'r');
    } catch {
      return tap.frames;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= tap.read) return tap.frames;
      const buf = Buffer.alloc(tap.pending.length + size - tap.read);
      buf.set(tap.pending, 0);
      const got = readSync(fd, buf, tap.pending.length, size - tap.read, tap.read);
      tap.read += got;
      const bytes = buf.subarray(0, tap.pending.length + got);
      tap.cursor.feed(bytes, false);
      while (tap.cursor.next() === Next.RECORD) tap.frames.push(tap.cursor.data.slice());
      tap.pending = bytes.slice(tap.cursor.consumed);
      return tap.frames;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Injects a packet on `inPort` and returns what left each port, as hex strings. With `waitFor`, first waits
   * (up to 5 s) until that port has sent that many frames — robust when the machine is loaded and vswitchd slow.
   */
  async send(inPort: number, frame: Uint8Array, waitFor?: { port: number; count: number }): Promise<Map<number, string[]>> {
    const all = [...this.ports, LOCAL];
    for (const p of all) if (!this.seen.has(p)) this.seen.set(p, this.records(p).length);
    await this.appctlAsync('netdev-dummy/receive', inPort === LOCAL ? 'br0' : `p${inPort}`, Buffer.from(frame).toString('hex'));
    if (waitFor) {
      const base = this.seen.get(waitFor.port)!;
      for (let i = 0; i < 1000 && this.records(waitFor.port).length - base < waitFor.count; i++) await new Promise((r) => setTimeout(r, 5));
    }
    // Packets are handled by the vswitchd main loop; wait until the tx captures stop growing.
    let last = -1;
    let stable = 0;
    let out = new Map<number, string[]>();
    for (let i = 0; i < 40 && stable < 2; i++) {
      await new Promise((r) => setTimeout(r, 8));
      out = new Map();
      let total = 0;
      for (const p of all) {
        const recs = this.records(p).slice(this.seen.get(p));
        total += recs.length;
        if (recs.length) out.set(p, recs.map((r) => Buffer.from(r).toString('hex')));
      }
      stable = total === last ? stable + 1 : 0;
      last = total;
    }
    for (const p of all) this.seen.set(p, this.records(p).length);
    return out;
  }

  /** The frames `port` has sent, from the `from`-th on (its `tx_pcap`). */
  framesSince(port: number, from: number): Uint8Array[] {
    return this.records(port).slice(from);
  }

  /** Runs `ovs-ofctl ARGS…` against this oracle's bridge (e.g. `-O OpenFlow15 add-group br0 …`); returns stdout. */
  ofctl(...args: string[]): string {
    return this.ctl('ovs-ofctl', ...args);
  }

  /** Runs `ovs-appctl` against this oracle's ovs-vswitchd (e.g. `dpctl/dump-conntrack`); returns stdout. */
  appctl(...args: string[]): string {
    return this.ctl('ovs-appctl', ...args);
  }

  /** `ovs-appctl ofproto/trace` of one packet arriving on `inPort`: OVS's own text. */
  trace(inPort: number, frame: Uint8Array): string {
    return this.ctl('ovs-appctl', 'ofproto/trace', 'br0', `in_port=${inPort === LOCAL ? 'LOCAL' : inPort}`, Buffer.from(frame).toString('hex'));
  }

  /** The datapath port number of each OpenFlow port (`dpif/show`: `p1 1/1`), LOCAL as {@link LOCAL}. */
  datapathPorts(): Map<number, number> {
    const out = new Map<number, number>();
    for (const m of this.ctl('ovs-appctl', 'dpif/show').matchAll(/^\s+\S+ (\d+)\/(\d+):/gm)) out.set(Number(m[1]), Number(m[2]));
    return out;
  }

  /** `ovs-ofctl dump-flows br0 --no-stats`, one flow per line. */
  dumpFlows(): string[] {
    return this.ctl('ovs-ofctl', 'dump-flows', 'br0', '--no-stats').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('NXST') && !l.startsWith('OFPST'));
  }

  /**
   * `ovs-appctl ofproto/trace br0 ARGS…`: its text and the OpenFlow ports of its `Datapath actions` (datapath
   * port numbers mapped back through `dpif/show`; LOCAL as {@link LOCAL}), sorted.
   */
  traceArgs(...args: string[]): { text: string; ports: number[] } {
    const text = this.ctl('ovs-appctl', 'ofproto/trace', 'br0', ...args);
    const dp = new Map<number, number>();
    for (const m of this.ctl('ovs-appctl', 'dpif/show').matchAll(/^\s+(\S+) (\d+)\/(\d+):/gm)) dp.set(Number(m[3]), Number(m[2]) === 65534 ? LOCAL : Number(m[2]));
    const actions = /Datapath actions: (.*)$/m.exec(text)?.[1] ?? 'drop';
    const ports = actions === 'drop' ? [] : actions.split(',').filter((a) => /^\d+$/.test(a.trim())).map((a) => dp.get(Number(a.trim())) ?? -1);
    return { text, ports: ports.sort((a, b) => a - b) };
  }

  /** Bytes of ovs-vswitchd.log read so far by {@link cleanups}, and the clean-thread lines counted in them. */
  private logRead = 0;
  private cleaned = 0;

  /** How many times ovs-vswitchd's conntrack clean thread has swept (its `conntrack cleanup` debug lines). */
  private cleanups(): number {
    const fd = openSync(join(this.dir, 'ovs-vswitchd.log'), 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > this.logRead) {
        const b = Buffer.alloc(size - this.logRead);
        readSync(fd, b, 0, b.length, this.logRead);
        // Whole lines only: a line being written is read again next time.
        const text = b.toString('latin1');
        const end = text.lastIndexOf('\n') + 1;
        this.logRead += end;
        this.cleaned += text.slice(0, end).split('conntrack cleanup ').length - 1;
      }
      return this.cleaned;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Stops ovs-vswitchd's monotonic clock (`time/stop`, registered by `--enable-dummy`: lib/dummy.c dummy_enable →
   * lib/timeval.c v3.1.0 timeval_dummy_register), so that conntrack's `now` moves only by {@link warp}, and turns on
   * the conntrack module's debug log, whose `conntrack cleanup` line (lib/conntrack.c v3.1.0 conntrack_clean) tells
   * when the clean thread has swept. Besides each warp's wake-up (see {@link warp}) the clean thread wakes when its
   * timer (20 s of the clock it read, slept as 20 s of real time) runs out, and sweeps again at the same stopped
   * `now`: it finds nothing newly expired but force-expired entries (expiration 0), and its line is one
   * {@link warp} would count as its own. The first warp here restarts that timer; while warps come more often than
   * every 20 s of real time it does not run out.
   */
  async stopTime(): Promise<void> {
    this.ctl('ovs-appctl', 'vlog/set', 'conntrack:file:dbg');
    this.ctl('ovs-appctl', 'time/stop');
    await this.warp(20_001);
  }

  /**
   * `time/warp MS` on the stopped clock, then waits (up to 5 s) until the conntrack clean thread has swept at the
   * new time. Every warp wakes it (lib/poll-loop.c v3.1.0 poll_block → lib/timeval.c timewarp_run: a thread other
   * than the warping one waits on `timewarp_seq`, which timewarp_work changes), and clean_thread_main runs
   * conntrack_clean at each wake-up whatever its 20 s timer says: the sweep at the warped `now` is certain, only
   * its moment in real time is not — hence the wait, after which the table holds no entry expired at `now`.
   */
  async warp(ms: number): Promise<void> {
    const before = this.cleanups();
    await this.appctlAsync('time/warp', String(ms));
    for (let i = 0; i < 2500 && this.cleanups() === before; i++) await new Promise((r) => setTimeout(r, 2));
    if (this.cleanups() === before) throw new Error(`ovs-vswitchd's conntrack clean thread did not run after time/warp ${ms}`);
  }

  /** Stops the daemons (each by its recorded pid); removes the run directory unless one died (see {@link deathReport}). */
  stop(): void {
    this.control?.destroy();
    this.control = undefined;
    this.daemons.stopNow();
  }

  /** Whether ovs-vswitchd still runs — the process started, not one its monitor restarted after a crash. */
  alive(): boolean {
    const rec = this.daemons.recorded('ovs-vswitchd');
    return rec !== undefined && stillRunning(rec);
  }

  /** The last `lines` lines of ovs-vswitchd's log ('' without one). */
  logTail(lines = 12): string {
    return logTail(join(this.dir, 'ovs-vswitchd.log'), lines);
  }

}
