/** What a command may touch of the outside world: passed in, so commands run the same in tests and in the bin. */
export interface CommandIO {
  stdout(text: string): void;
  stderr(text: string): void;
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
