/** What a command may touch of the outside world: passed in, so commands run the same in tests and in the bin. */
export interface CommandIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stderr is a terminal someone watches (progress bars); false or absent otherwise. */
  interactive?: boolean;
}

/** The longest simulated time the command line takes: a year, far beyond any capture or scenario. */
export const MAX_DURATION_MS = 365 * 86_400_000;

/**
 * Simulated time as given on the command line: `1500` (ms), `1500ms`, `2s`, `1.5s`, `1m`. Usage error otherwise.
 */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${what}: "${text}" is not a time (give 1500, 1500ms, 2s or 1m)`);
  const n = Number(m[1]);
  const ms = m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n;
  // `1` and 400 zeros is Infinity: refused here rather than poisoning the simulation's schedule.
  if (!(ms <= MAX_DURATION_MS)) throw new UsageError(`${what}: "${text}" is too long a time (at most ${MAX_DURATION_MS / 86_400_000} days)`);
  return ms;
}

/** A progress line on stderr: frames, rate, share of the input and time left when the size is known. */
export class Progress {
  private readonly start = Date.now();
  private last = 0;
  constructor(private readonly io: CommandIO, private readonly totalBytes: number | undefined) {}

  update(frames: number, bytes: number): void {
    if (!this.io.interactive) return;
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const secs = (now - this.start) / 1000;
    const rate = frames / Math.max(secs, 1e-3);
    let line = `  ${fmtCount(frames)} frames  ${fmtCount(rate)}/s`;
    if (this.totalBytes && bytes > 0) {
      const share = Math.min(1, bytes / this.totalBytes);
      const eta = share > 0 ? (secs / share) * (1 - share) : 0;
      const width = 24;
      const filled = Math.round(share * width);
      line = `  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(1)}%${line}  ETA ${Math.floor(eta / 60)}:${String(Math.round(eta % 60)).padStart(2, '0')}`;
    }
    this.io.stderr(`\r${line}\x1b[K`);
  }

  done(): void {
    if (this.io.interactive && this.last > 0) this.io.stderr('\r\x1b[K');
  }
}

function fmtCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(Math.round(n));
}

/** A command-line usage mistake: reported with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A CLI command: one module each under `commands/`. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CommandIO): Promise<number>;
}

/** Splits `args` into flags (given as `--name` or `--name value`) and positionals; unknown flags are usage errors. */
export function parseArgs(args: string[], spec: { flags?: string[]; options?: string[] }): { flags: Set<string>; options: Map<string, string>; positionals: string[] } {
  const flags = new Set<string>();
  const options = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const [name, inline] = a.split('=', 2) as [string, string | undefined];
      if (spec.flags?.includes(name)) {
        if (inline !== undefined) throw new UsageError(`${name} takes no value`);
        flags.add(name);
      } else if (spec.options?.includes(name)) {
        const value = inline ?? args[++i];
        if (value === undefined) throw new UsageError(`${name} needs a value`);
        options.set(name, value);
      } else throw new UsageError(`unknown option ${name}`);
    } else positionals.push(a);
  }
  return { flags, options, positionals };
}
