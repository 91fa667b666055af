/**
 * Daemons of a throwaway testbed: each started detached in its own run directory with a pidfile, and stopped
 * by the pid in that file — never by name, so other Open vSwitch or OVN processes on the machine are left
 * alone. A process-exit hook stops whatever a failed or interrupted run left behind.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SWITCH_STAGES, type OvnVersion } from '@vippath/ovn';
import { VippathError } from '@vippath/wire';

/** A testbed daemon or tool failed. */
export class TestbedError extends VippathError {
  constructor(message: string) {
    super('TESTBED', message);
  }
}

/** The programs a testbed runs, with the Debian package that holds each. */
export const TESTBED_PROGRAMS: Array<[string, string]> = [
  ['ovsdb-tool', 'openvswitch-switch'], ['ovsdb-server', 'openvswitch-switch'], ['ovs-vswitchd', 'openvswitch-switch'],
  ['ovs-vsctl', 'openvswitch-switch'], ['ovs-ofctl', 'openvswitch-switch'], ['ovs-appctl', 'openvswitch-switch'],
  ['ovn-northd', 'ovn-central'], ['ovn-nbctl', 'ovn-central'], ['ovn-sbctl', 'ovn-central'], ['ovn-appctl', 'ovn-central'], ['ovn-controller', 'ovn-host'],
];

/** Why a testbed cannot run here (what to install), or undefined when it can. */
export function testbedUnavailable(): string | undefined {
  const missing = TESTBED_PROGRAMS.filter(([bin]) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0);
  const schemas = ['/usr/share/openvswitch/vswitch.ovsschema', '/usr/share/ovn/ovn-nb.ovsschema', '/usr/share/ovn/ovn-sb.ovsschema'].filter((f) => !existsSync(f));
  if (missing.length === 0 && schemas.length === 0) return undefined;
  const packages = [...new Set(missing.map(([, p]) => p))];
  return `Open vSwitch and OVN are needed (${[...missing.map(([b]) => b), ...schemas].join(', ')} not found): install them, e.g. \`apt-get install openvswitch-switch ovn-central ovn-host\` (Debian/Ubuntu; OVS ≥ 3.1, OVN ≥ 23.03)${packages.length ? `; missing packages: ${packages.join(', ')}` : ''}`;
}

/**
 * The release of the installed OVN (`ovn-northd --version`: "ovn-northd 23.03.1"), as the OVN version vippath's
 * northd writes for: the simulation a testbed is compared with must run that release's flows, whatever release the
 * profile's own images carry. A release vippath has no flows for is a {@link TestbedError}.
 */
export function installedOvnVersion(): OvnVersion {
  const r = spawnSync('ovn-northd', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const m = /ovn-northd\s+(\d+)\.(\d+)/.exec(r.stdout ?? '');
  if (!m) throw new TestbedError(`ovn-northd --version: no version in "${(r.stdout || r.stderr || r.error?.message || '').trim()}"`);
  const v = `${m[1]}.${m[2]!.padStart(2, '0')}`;
  if (!(v in SWITCH_STAGES)) throw new TestbedError(`installed OVN ${v} is not one vippath writes flows for (${Object.keys(SWITCH_STAGES).join(', ')})`);
  return v as OvnVersion;
}

const live = new Set<Daemons>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  // 'exit' handlers must be synchronous: SIGTERM by pid, nothing awaited.
  process.on('exit', () => {
    for (const d of live) d.stopNow();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const d of live) d.stopNow();
      process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    });
  }
}

/** Whether process `pid` runs (not a zombie). Exported for the tests' oracles (not in the package's index). */
export function processAlive(pid: number): boolean {
  try {
    // A zombie still answers signal 0; its state in /proc says it is gone.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * `/proc/PID/stat`'s fields from the third (the state) on — the name before them may hold spaces and parentheses, so
 * they start after its last `)` — or undefined when the process is gone or there is no /proc.
 */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * A process as it was when a testbed recorded it: its pid and the start time the kernel gave it (`/proc/PID/stat`
 * field 22, clock ticks since boot). A pid is reused once its process is gone and reaped — with pid_max 32 768 and
 * the many short-lived tools the suites run, within minutes —, and a pid read later from a pidfile may name another
 * program by then; the start time tells them apart. Exported for the tests' oracles (not in the package's index).
 */
export interface ProcessRecord {
  readonly pid: number;
  /** Undefined without /proc: then only the pid is checked. */
  readonly start: string | undefined;
}

/** Records process `pid` as it runs now; undefined when it does not run (gone, or a zombie). */
export function recordProcess(pid: number): ProcessRecord | undefined {
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const f = statFields(pid);
  if (!f) return processAlive(pid) ? { pid, start: undefined } : undefined;
  return f[0] === 'Z' ? undefined : { pid, start: f[19] };
}

/** Whether the recorded process still runs: its pid not a zombie and started when the recorded one did. */
export function stillRunning(rec: ProcessRecord): boolean {
  const f = statFields(rec.pid);
  if (!f) return rec.start === undefined && processAlive(rec.pid);
  return f[0] !== 'Z' && f[19] === rec.start;
}

/**
 * Sends `signal` to the recorded process if it is still that process (see {@link stillRunning}), never to another
 * program that took its pid; whether it was sent. (Between the check and the signal the process could exit and its
 * pid be taken again; that needs the kernel to hand out every other pid meanwhile — a pidfd would close even that
 * gap, Node has none.)
 */
export function signalRecorded(rec: ProcessRecord, signal: NodeJS.Signals): boolean {
  if (!stillRunning(rec)) return false;
  try {
    process.kill(rec.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The parent pid of process `pid` (`/proc/PID/stat` field 4), or undefined. */
function parentOf(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[1]) : undefined;
}

/**
 * Whether process `pid` runs (not a zombie) with `arg` among its arguments (`/proc/PID/cmdline`). For a pid read from
 * a pidfile without a record: a daemon started with `--pidfile=PATH` carries that argument, another program that took
 * its pid does not. Without /proc, whether the pid runs. Exported for the tests' oracles (not in the package's index).
 */
export function runsWithArg(pid: number, arg: string): boolean {
  if (!Number.isInteger(pid) || pid <= 1 || !processAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(arg);
  } catch {
    return !existsSync('/proc/self/cmdline');
  }
}

/** Sleeps `ms` without returning to the event loop (the synchronous paths that wait for a death to show). Exported for the tests' oracles. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** One daemon a testbed started: its pidfile, log, the process recorded at start and its `--monitor` process. */
interface Started {
  readonly cmd: string;
  readonly pidfile: string;
  readonly log: string | undefined;
  readonly daemon: ProcessRecord | undefined;
  readonly monitor: ProcessRecord | undefined;
}

/**
 * How a daemon started with `--monitor` ended, in its monitor's words from the log: OVS's monitor (lib/daemon-unix.c
 * v3.1.0 monitor_daemon) waits for the daemon and logs `pid N died, <status>` — exit status, or the signal and whether
 * it dumped core (process_status_msg) — then `, restarting` after SIGSEGV, SIGABRT, SIGBUS and the other error
 * signals (should_restart) or `, exiting`. Without it a daemon's death leaves no trace of its own for SIGKILL, nor for
 * SIGSEGV: ovs-vswitchd 3.1's handler (lib/fatal-signal.c fatal_signal_handler) re-raises SIGSEGV at once, and its
 * backtrace needs libunwind, which Debian's build lacks ("Backtrace using libunwind not supported."); SIGABRT (a glibc
 * heap check) is not one of its fatal signals at all. Undefined when the log has no such line.
 */
function monitorWord(log: string, pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(log, 'latin1');
  } catch {
    return undefined;
  }
  const re = new RegExp(`\\(monitor\\)\\|\\w+\\|(.*\\bpid ${pid} died, .*)$`, 'm');
  return re.exec(text)?.[1];
}

/** The daemons of one testbed. */
export class Daemons {
  private readonly started: Started[] = [];
  private stopped = false;
  constructor(readonly root: string, private readonly keep = false) {
    hook();
    live.add(this);
  }

  /** Runs a tool to completion; its stdout. Throws {@link TestbedError} with its stderr when it fails (and any daemon's death). */
  run(env: NodeJS.ProcessEnv, cmd: string, args: string[], input?: string): string {
    this.refuseAfterDeath(cmd, args);
    const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', input, timeout: 30_000 });
    if (r.status !== 0) throw new TestbedError(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}${this.deathNote()}`);
    return r.stdout;
  }

  /**
   * {@link run} without holding this process: what the testbed's streams bring meanwhile is read, and stamped, as
   * it comes (a run of ovn-nbctl --wait=hv sync took seconds on a loaded machine).
   */
  runAsync(env: NodeJS.ProcessEnv, cmd: string, args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      try {
        this.refuseAfterDeath(cmd, args);
      } catch (e) {
        reject(e as Error);
        return;
      }
      const child = execFile(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new TestbedError(`${cmd} ${args.join(' ')}: ${(stderr || err.message).trim()}${this.deathNote()}`));
        else resolve(stdout);
      });
      // A tool that exits without reading its input closes the pipe first: its status says how it went, not EPIPE.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    });
  }

  /**
   * Throws {@link TestbedError} when a daemon started here is no longer the one started: a daemon its monitor
   * restarted after a crash answers on the same sockets with none of the state the testbed gave the first, and a
   * tool run against it would quietly compare something else.
   */
  private refuseAfterDeath(cmd: string, args: string[]): void {
    const note = this.deathNote();
    if (note) throw new TestbedError(`${cmd} ${args.join(' ')}: not run, a daemon is not the one started:${note}`);
  }

  /**
   * Starts a daemon that detaches itself (`--detach --monitor --pidfile=PIDFILE`, in PIDFILE's directory, where a
   * core dump lands); remembered for {@link stop}. The daemon and its monitor are recorded as they run now
   * ({@link recordProcess}): only they are ever signalled, and a daemon that is no longer the recorded one — gone, or
   * restarted by its monitor after a crash — is reported by {@link deaths} with its monitor's word on how it ended.
   */
  start(env: NodeJS.ProcessEnv, cmd: string, args: string[], pidfile: string): void {
    if (this.stopped) throw new TestbedError('testbed already stopped');
    const log = args.find((a) => a.startsWith('--log-file='))?.slice('--log-file='.length);
    try {
      execFileSync(cmd, ['--detach', '--monitor', '--no-chdir', `--pidfile=${pidfile}`, ...args], { cwd: dirname(pidfile), env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      // What may have started is still stopped by its pidfile (checked against the daemon's arguments).
      this.started.push({ cmd, pidfile, log, daemon: undefined, monitor: undefined });
      throw new TestbedError(`${cmd}: ${(err.stderr?.toString() || err.message).trim()}`);
    }
    // The pidfile is written before the starting process returns (lib/daemon-unix.c daemonize_start → make_pidfile,
    // then daemonize_complete tells the parent); the daemon's parent is its monitor.
    let daemon: ProcessRecord | undefined;
    try {
      daemon = recordProcess(Number(readFileSync(pidfile, 'utf8').trim()));
    } catch {
      daemon = undefined;
    }
    const ppid = daemon && parentOf(daemon.pid);
    this.started.push({ cmd, pidfile, log, daemon, monitor: ppid !== undefined && runsMonitorOf(ppid, daemon!.pid, pidfile) ? recordProcess(ppid) : undefined });
  }

  /**
   * The daemons started here that are no longer the processes recorded at start, each with how it ended (its
   * monitor's line), whether it was restarted, where its core and log are, and its log's last lines.
   */
  deaths(): string[] {
    const out: string[] = [];
    for (const s of this.started) {
      if (!s.daemon || stillRunning(s.daemon)) continue;
      // The monitor logs once waitpid returns: give it a moment (it was just found gone).
      let word = s.log && monitorWord(s.log, s.daemon.pid);
      for (let i = 0; !word && s.log && i < 100; i++) {
        // A monitor that is gone has written all it will: one more read.
        const waiting = s.monitor !== undefined && stillRunning(s.monitor);
        if (waiting) sleepSync(20);
        word = monitorWord(s.log, s.daemon.pid);
        if (!waiting) break;
      }
      const how = word ?? `no word from its monitor${s.monitor ? (stillRunning(s.monitor) ? ` (pid ${s.monitor.pid}, still running)` : ` (pid ${s.monitor.pid}, gone too: both ended from outside — SIGKILL, the OOM killer?)`) : ''}`;
      const now = this.currentChild(s);
      const dir = dirname(s.pidfile);
      let cores: string[] = [];
      try {
        cores = readdirSync(dir).filter((f) => /^core/.test(f)).map((f) => join(dir, f));
      } catch {
        // the directory is gone
      }
      const tail = s.log ? logTail(s.log, 15) : '';
      out.push(
        `${s.cmd} (pid ${s.daemon.pid}) died: ${how}${now !== undefined ? `; its monitor restarted it as pid ${now}` : ''}` +
          `${cores.length ? `; core: ${cores.join(', ')}` : ''}${s.log ? `; its log (${s.log}, kept with the run directory) ends:\n${tail}` : ''}`,
      );
    }
    return out;
  }

  /** The process recorded when `cmd` was started here (the first such daemon), if it was. */
  recorded(cmd: string): ProcessRecord | undefined {
    return this.started.find((s) => s.cmd === cmd)?.daemon;
  }

  /** {@link deaths} as a note to append to an error ('' when every daemon is the one started). */
  deathNote(): string {
    const d = this.deaths();
    return d.length ? `\n${d.join('\n')}` : '';
  }

  /** The pid a monitor restarted `s`'s daemon as: the pidfile's, if that process is the recorded monitor's child. */
  private currentChild(s: Started): number | undefined {
    if (!s.monitor || !stillRunning(s.monitor)) return undefined;
    try {
      const pid = Number(readFileSync(s.pidfile, 'utf8').trim());
      return pid !== s.daemon?.pid && parentOf(pid) === s.monitor.pid && processAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The processes to stop, each checked to be one this testbed started: the recorded daemon if it still runs (its
   * monitor exits by itself when the daemon dies of SIGTERM); else every child of its monitor, the monitor stopped
   * (it outlives SIGTERM: lib/daemon-unix.c monitor_daemon retries waitpid on EINTR; {@link orphanMonitors} are
   * killed). A daemon whose start failed before it was recorded: the pidfile's pid if that process carries
   * `--pidfile=PIDFILE`.
   */
  private targets(): ProcessRecord[] {
    const out: ProcessRecord[] = [];
    // Controllers first, then switches, then databases: the reverse of the start order.
    for (const s of [...this.started].reverse()) {
      if (s.daemon && stillRunning(s.daemon)) {
        out.push(s.daemon);
        continue;
      }
      // Stopped first (it forks no other meanwhile), then every child of it: the daemon it restarted, or is
      // restarting (no pidfile yet: a stop right after the crash was seen left one running).
      if (s.monitor && signalRecorded(s.monitor, 'SIGSTOP')) out.push(...childrenOf(s.monitor.pid));
      if (!s.daemon) {
        try {
          const pid = Number(readFileSync(s.pidfile, 'utf8').trim());
          const r = runsWithArg(pid, `--pidfile=${s.pidfile}`) ? recordProcess(pid) : undefined;
          if (r) out.push(r);
        } catch {
          // never written: the daemon did not start
        }
      }
    }
    return out;
  }

  /** The monitors to stop once their daemons are: those whose daemon died (a monitor whose daemon lives exits with it). */
  private orphanMonitors(): ProcessRecord[] {
    return this.started.filter((s) => s.monitor && s.daemon && !stillRunning(s.daemon) && stillRunning(s.monitor)).map((s) => s.monitor!);
  }

  /** Whether the run directory stays: asked for, or a daemon died (its log and core are what explain it). */
  private keepRoot(): boolean {
    return this.keep || this.started.some((s) => s.daemon && !stillRunning(s.daemon));
  }

  /** SIGTERM to every daemon this testbed started (checked by its record), at once, synchronously (the exit hook's way). */
  stopNow(): void {
    if (this.stopped) return;
    const keep = this.keepRoot();
    this.stopped = true;
    live.delete(this);
    const monitors = this.orphanMonitors();
    const targets = this.targets();
    for (const rec of targets) signalRecorded(rec, 'SIGTERM');
    for (const rec of monitors) signalRecorded(rec, 'SIGKILL');
    // Each monitor reopens the log to write the daemon's end, then exits: a directory removed meanwhile gets a new
    // file (ENOTEMPTY, seen at load 26). Wait for them (at most 3 s; a daemon slower than that is left to its SIGTERM).
    const all = [...targets, ...this.started.flatMap((s) => (s.monitor ? [s.monitor] : []))];
    for (let i = 0; i < 150 && all.some(stillRunning); i++) sleepSync(20);
    if (!keep) rmSync(this.root, { recursive: true, force: true, maxRetries: 5 });
  }

  /**
   * Stops every daemon this testbed started and waits until each is gone (SIGKILL after 3 s — to a process still the
   * one recorded, never to a pid another program took meanwhile); removes the run directory unless a daemon died.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const keep = this.keepRoot();
    const monitors = this.orphanMonitors();
    const targets = this.targets();
    this.stopped = true;
    live.delete(this);
    for (const rec of targets) signalRecorded(rec, 'SIGTERM');
    for (const rec of monitors) signalRecorded(rec, 'SIGKILL');
    const until = Date.now() + 3000;
    while (targets.some(stillRunning) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const rec of targets) signalRecorded(rec, 'SIGKILL');
    // The monitors log the daemons' end and exit: let them, before their directory goes.
    const all = this.started.flatMap((s) => (s.monitor ? [s.monitor] : []));
    for (let i = 0; i < 150 && all.some(stillRunning); i++) await new Promise((r) => setTimeout(r, 20));
    if (!keep) rmSync(this.root, { recursive: true, force: true, maxRetries: 5 });
  }

  /** The pids still running of the daemons started here (for tests that check nothing is left behind). */
  running(): number[] {
    return this.started.flatMap((s) => [s.daemon, s.monitor]).filter((r): r is ProcessRecord => !!r && stillRunning(r)).map((r) => r.pid);
  }
}

/** The running children of process `pid` (by `/proc/PID/stat`'s parent field), recorded. */
function childrenOf(pid: number): ProcessRecord[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcessRecord[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e) || parentOf(Number(e)) !== pid) continue;
    const r = recordProcess(Number(e));
    if (r) out.push(r);
  }
  return out;
}

/**
 * Whether process `pid` is OVS's monitor of `child`: its title (lib/daemon-unix.c monitor_daemon: "monitoring pid N"),
 * or, before it has set that title — the starting process may return first (daemonize_start tells it before
 * monitor_daemon runs) —, the command it was forked from, with `--pidfile=PIDFILE`.
 */
function runsMonitorOf(pid: number, child: number, pidfile: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    return cmd.includes(`monitoring pid ${child} `) || cmd.split('\0').includes(`--pidfile=${pidfile}`);
  } catch {
    return false;
  }
}

/** The last `lines` lines of a log file ('' without one). */
export function logTail(file: string, lines = 12): string {
  try {
    return readFileSync(file, 'latin1').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
