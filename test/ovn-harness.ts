/**
 * The real OVN as a test oracle: Debian's ovn-northd with its NB and SB ovsdb-servers, all userspace, in a
 * private run directory, monitored, stopped by their recorded pids. Topology is built with ovn-nbctl, packets are traced with ovn-trace.
 * Recipe and observed behaviour: shared/research/ovs-ovn-userspace.md.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemons } from './oracle-process.js';

export function ovnUnavailable(): string | undefined {
  for (const bin of ['ovsdb-server', 'ovsdb-tool', 'ovn-northd', 'ovn-nbctl', 'ovn-trace']) {
    if (spawnSync('which', [bin]).status !== 0) return `${bin} not found (apt-get install ovn-central ovn-host)`;
  }
  if (!existsSync('/usr/share/ovn/ovn-nb.ovsschema')) return 'ovn-nb.ovsschema not found';
  return undefined;
}

/** One matched logical flow in an ovn-trace --detailed output. */
export interface TracedFlow {
  pipeline: 'ingress' | 'egress';
  stage: string;
  match: string;
  priority: number;
  /** The action lines that follow it. */
  actions: string[];
}

export class OvnOracle {
  readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;
  /** The daemons, started detached under OVS's `--monitor` and recorded (see Daemons.start). */
  private readonly daemons: Daemons;
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'vippath-ovn-'));
    const R = this.dir;
    this.env = { ...process.env, OVN_RUNDIR: R, OVS_RUNDIR: R, OVN_LOGDIR: R, OVS_LOGDIR: R };
    this.daemons = new Daemons(R);
    const run = (cmd: string, ...args: string[]): void => {
      execFileSync(cmd, args, { env: this.env, stdio: ['ignore', 'ignore', 'pipe'] });
    };
    run('ovsdb-tool', 'create', `${R}/nb.db`, '/usr/share/ovn/ovn-nb.ovsschema');
    run('ovsdb-tool', 'create', `${R}/sb.db`, '/usr/share/ovn/ovn-sb.ovsschema');
    for (const db of ['nb', 'sb']) {
      this.daemons.start(this.env, 'ovsdb-server', [`--log-file=${R}/${db}.log`, `--remote=punix:${R}/${db}.sock`, `--unixctl=${R}/${db}.ctl`, `${R}/${db}.db`], `${R}/${db}.pid`);
    }
    this.daemons.start(this.env, 'ovn-northd', [`--log-file=${R}/northd.log`, `--ovnnb-db=unix:${R}/nb.sock`, `--ovnsb-db=unix:${R}/sb.sock`, `--unixctl=${R}/northd.ctl`], `${R}/northd.pid`);
  }

  /** Each daemon that died, with how it ended and its log's end (see Daemons.deaths); '' while all run. */
  deathReport(): string {
    return this.daemons.deathNote();
  }

  /** A tool's failure, with any daemon's death (a database or northd gone shows first as a tool's error). */
  private failed(what: string, stderr: string): Error {
    return new Error(`${what}: ${stderr}${this.deathReport()}`);
  }

  /**
   * The switch every differential test here starts from: `ls` with a localnet port `ln` (addresses unknown,
   * network_name=provider), as Kube-OVN's underlay subnet has.
   */
  addLocalnetSwitch(): void {
    this.nbctl('ls-add', 'ls');
    this.nbctl('lsp-add', 'ls', 'ln', '--', 'lsp-set-type', 'ln', 'localnet', '--', 'lsp-set-addresses', 'ln', 'unknown', '--', 'lsp-set-options', 'ln', 'network_name=provider');
  }

  nbctl(...args: string[]): string {
    const r = spawnSync('ovn-nbctl', [`--db=unix:${this.dir}/nb.sock`, ...args], { env: this.env, encoding: 'utf8' });
    if (r.status !== 0) throw this.failed(`ovn-nbctl ${args.join(' ')}`, r.stderr);
    return r.stdout;
  }

  /** Runs ovn-trace (detailed) and returns the matched flows and the ports it output to. */
  trace(datapath: string, microflow: string, extra: string[] = []): { flows: TracedFlow[]; outputs: string[]; text: string } {
    const r = spawnSync('ovn-trace', [`--db=unix:${this.dir}/sb.sock`, datapath, microflow, ...extra], { env: this.env, encoding: 'utf8' });
    if (r.status !== 0) throw this.failed('ovn-trace', r.stderr);
    const flows: TracedFlow[] = [];
    const outputs: string[] = [];
    let pipeline: 'ingress' | 'egress' = 'ingress';
    for (const line of r.stdout.split('\n')) {
      if (/^egress\(/.test(line.trim())) pipeline = 'egress';
      if (/^ingress\(/.test(line.trim())) pipeline = 'ingress';
      const m = /^\s*\d+\. (ls_(?:in|out)_[a-z0-9_]+) \([^)]*\): (.*), priority (\d+), uuid/.exec(line);
      if (m) {
        flows.push({ pipeline, stage: m[1]!, match: m[2]!, priority: Number(m[3]), actions: [] });
        continue;
      }
      const out = /\/\* output to "([^"]+)"/.exec(line);
      if (out) outputs.push(out[1]!);
      const last = flows[flows.length - 1];
      if (last && /^\s{4}\S/.test(line)) last.actions.push(line.trim());
    }
    return { flows, outputs, text: r.stdout };
  }

  /** Pauses ovn-northd, so rows written into the Southbound stay (it would take them out on its next run). */
  pause(): void {
    const r = spawnSync('ovn-appctl', ['-t', join(this.dir, 'northd.ctl'), 'pause'], { env: this.env, encoding: 'utf8' });
    if (r.status !== 0) throw this.failed('ovn-appctl pause', r.stderr);
  }

  sbctl(...args: string[]): string {
    const r = spawnSync('ovn-sbctl', [`--db=unix:${this.dir}/sb.sock`, ...args], { env: this.env, encoding: 'utf8' });
    if (r.status !== 0) throw this.failed(`ovn-sbctl ${args.join(' ')}`, r.stderr);
    return r.stdout;
  }

  /** One OVSDB transaction on OVN_Northbound (`ovsdb-client transact`); returns the per-operation results. */
  transact(ops: unknown[]): unknown[] {
    return this.transactOn('nb.sock', 'OVN_Northbound', ops);
  }

  /** The Northbound database as `ovsdb-client backup` writes it. */
  backupNb(): Buffer {
    const r = spawnSync('ovsdb-client', ['backup', `unix:${this.dir}/nb.sock`, 'OVN_Northbound'], { env: this.env });
    if (r.status !== 0) throw this.failed('ovsdb-client backup', r.stderr.toString());
    return r.stdout;
  }

  /** The Southbound database as `ovsdb-client backup` writes it (what a user copies off a real cluster). */
  sbBackup(): Uint8Array {
    return execFileSync('ovsdb-client', ['backup', `unix:${this.dir}/sb.sock`], { env: this.env, maxBuffer: 64 << 20 });
  }

  /** Runs ovn-trace with the given arguments without blocking (so several can run at once); resolves to stdout. */
  traceAsync(args: string[]): Promise<string> {
    return this.traceWithLog(args).then((r) => r.stdout);
  }

  /** Like {@link traceAsync}, with what ovn-trace logged on stderr (its warnings about flows it could not parse). */
  traceWithLog(args: string[]): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      execFile('ovn-trace', [`--db=unix:${this.dir}/sb.sock`, ...args], { env: this.env, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err) reject(this.failed(`ovn-trace ${args.join(' ')}`, stderr || err.message));
        else resolve({ stdout, stderr });
      });
    });
  }

  /** One OVSDB transaction on OVN_Southbound (northd paused, or it undoes it). */
  sbTransact(ops: unknown[]): unknown[] {
    return this.transactOn('sb.sock', 'OVN_Southbound', ops);
  }

  /** `ovsdb-client transact` on one of the harness's databases; an operation's error is thrown, not returned. */
  private transactOn(sock: string, db: string, ops: unknown[]): unknown[] {
    const r = spawnSync('ovsdb-client', ['transact', `unix:${this.dir}/${sock}`, JSON.stringify([db, ...ops])], { env: this.env, encoding: 'utf8' });
    if (r.status !== 0) throw this.failed('ovsdb-client transact', r.stderr);
    const res = JSON.parse(r.stdout) as Array<{ error?: string; details?: string }>;
    const err = res.find((x) => x && x.error);
    if (err) throw new Error(`ovsdb-client transact: ${err.error}: ${err.details ?? ''}`);
    return res;
  }

  /** Stops the daemons by their recorded pids; removes the run directory unless one died. */
  stop(): void {
    this.daemons.stopNow();
  }

}
