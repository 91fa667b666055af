/**
 * The `vippath` command line: a small router over one module per command. Usage mistakes exit 2 with the
 * command's usage; vippath's own typed errors (bad input) exit 1 with their message; anything else is a bug
 * and keeps its stack trace.
 */
import { readFileSync } from 'node:fs';
import { VippathError } from '@vippath/wire';
import { lintCommand, statusCommand } from './commands/cluster.js';
import { collectCommand } from './commands/collect.js';
import { ofCommand } from './commands/of.js';
import { ovnLflowsCommand } from './commands/ovn-lflows.js';
import { ovnCommand } from './commands/ovn.js';
import { pcapCommand } from './commands/pcap.js';
import { replayCommand } from './commands/replay.js';
import { curlCommand, traceCommand } from './commands/trace.js';
import { verifyCommand } from './commands/verify.js';
import { shown, terminalText, UsageError, type Command, type CommandIO } from './io.js';

const commands: Command[] = [replayCommand, traceCommand, curlCommand, lintCommand, statusCommand, collectCommand, pcapCommand, ofCommand, ovnLflowsCommand, ovnCommand, verifyCommand];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `vippath — the path of Ethernet frames to a MetalLB VIP on a Kube-OVN underlay, simulated byte-exact

usage: vippath <command> [options]

commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

  vippath help <command>   details of one command
  vippath --version        the version
`;
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], raw: CommandIO): Promise<number> {
  // Names in the output come from captures and manifests: no control character reaches the terminal raw.
  const io: CommandIO = { ...raw, stdout: (s) => raw.stdout(terminalText(s)), stderr: (s) => raw.stderr(terminalText(s)), control: raw.control ?? raw.stderr };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout(overview());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`${version()}\n`);
    return 0;
  }
  if (name === 'help') {
    const target = commands.find((c) => c.name === rest.slice(0, 2).join(' ')) ?? commands.find((c) => c.name === rest[0]);
    if (!target) {
      io.stdout(overview());
      return rest[0] === undefined ? 0 : 2;
    }
    io.stdout(`${target.usage}\n`);
    return 0;
  }
  // Two-word commands (`ovn lflows`) are looked up first.
  const twoWord = commands.find((c) => c.name === `${name} ${rest[0]}`);
  if (twoWord) rest.shift();
  const command = twoWord ?? commands.find((c) => c.name === name);
  if (!command) {
    io.stderr(`vippath: unknown command "${shown(name)}"\n\n${overview()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`vippath ${command.name}: ${shown(e.message)}\n\n${command.usage}\n`);
      return 2;
    }
    if (e instanceof VippathError) {
      // One line: a line break in it came from a name inside the message.
      io.stderr(`vippath ${command.name}: ${shown(e.message)}\n`);
      return 1;
    }
    throw e;
  }
}
