/** What a command may touch of the outside world: passed in, so commands run the same in tests and in the bin. */
export interface CommandIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stderr is a terminal someone watches (progress bars); false or absent otherwise. */
  interactive?: boolean;
  /**
   * Writes vippath's own terminal control sequences (the progress bar's `\r` and erase-line) to stderr as they
   * are; absent: `stderr`. Everything else written through `stdout`/`stderr` is passed through
   * {@link terminalText} by `main`.
   */
  control?(text: string): void;
}

// C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators and bidirectional overrides that
// reorder what a terminal shows (a name must not rewrite the lines around it).
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROLS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeControl(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * A user-given name (node, pod, service, file, drop reason…) as it may be printed to a terminal: every control
 * character written as an escape (`\n`, `\r`, `\x1b`, `\u202e`), so a name cannot move the cursor, recolour or
 * clear the screen, or forge lines of output. The one helper every text output uses for names.
 */
export function shown(name: string): string {
  return String(name).replace(CONTROLS, escapeControl);
}

/**
 * Whole lines of text for a terminal: as {@link shown}, but line breaks and tabs (vippath's own layout) stay.
 * `main` passes everything a command writes through this — the last guard for any name a formatter missed.
 */
export function terminalText(text: string): string {
  return text.replace(CONTROLS_BUT_LINES, escapeControl);
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
    (this.io.control ?? this.io.stderr)(`\r${line}\x1b[K`);
  }

  done(): void {
    if (this.io.interactive && this.last > 0) (this.io.control ?? this.io.stderr)('\r\x1b[K');
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
