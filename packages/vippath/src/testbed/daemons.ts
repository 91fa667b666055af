/**
 * Daemons of a throwaway testbed: each started detached in its own run directory with a pidfile, and stopped
 * by the pid in that file — never by name, so other Open vSwitch or OVN processes on the machine are left
 * alone. A process-exit hook stops whatever a failed or interrupted run left behind.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
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

/** The daemons of one testbed. */
export class Daemons {
  private readonly pidfiles: string[] = [];
  private stopped = false;
  constructor(readonly root: string, private readonly keep = false) {
    hook();
    live.add(this);
  }

  /** Runs a tool to completion; its stdout. Throws {@link TestbedError} with its stderr when it fails. */
  run(env: NodeJS.ProcessEnv, cmd: string, args: string[], input?: string): string {
    const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', input, timeout: 30_000 });
    if (r.status !== 0) throw new TestbedError(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
    return r.stdout;
  }

  /**
   * {@link run} without holding this process: what the testbed's streams bring meanwhile is read, and stamped, as
   * it comes (a run of ovn-nbctl --wait=hv sync took seconds on a loaded machine).
   */
  runAsync(env: NodeJS.ProcessEnv, cmd: string, args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new TestbedError(`${cmd} ${args.join(' ')}: ${(stderr || err.message).trim()}`));
        else resolve(stdout);
      });
      // A tool that exits without reading its input closes the pipe first: its status says how it went, not EPIPE.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    });
  }

  /** Starts a daemon that detaches itself (`--detach --pidfile=PIDFILE`); remembered for {@link stop}. */
  start(env: NodeJS.ProcessEnv, cmd: string, args: string[], pidfile: string): void {
    if (this.stopped) throw new TestbedError('testbed already stopped');
    this.pidfiles.push(pidfile);
    try {
      execFileSync(cmd, ['--detach', '--no-chdir', `--pidfile=${pidfile}`, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      throw new TestbedError(`${cmd}: ${(err.stderr?.toString() || err.message).trim()}`);
    }
  }

  private pids(): number[] {
    const out: number[] = [];
    for (const f of this.pidfiles) {
      try {
        const pid = Number(readFileSync(f, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 1) out.push(pid);
      } catch {
        // never written: the daemon did not start
      }
    }
    return out;
  }

  /** SIGTERM to every daemon by pid, at once, without waiting (the exit hook's way). */
  stopNow(): void {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    // Controllers first, then switches, then databases: the reverse of the start order.
    for (const pid of this.pids().reverse()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (!this.keep) rmSync(this.root, { recursive: true, force: true });
  }

  /** Stops every daemon by pid and waits until each is gone (SIGKILL after 3 s); removes the run directory. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const pids = this.pids().reverse();
    this.stopped = true;
    live.delete(this);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const until = Date.now() + 3000;
    while (pids.some(processAlive) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const pid of pids.filter(processAlive)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    if (!this.keep) rmSync(this.root, { recursive: true, force: true });
  }

  /** The pids still running (for tests that check nothing is left behind). */
  running(): number[] {
    return this.pids().filter(processAlive);
  }
}
