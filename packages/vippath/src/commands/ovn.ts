/**
 * `vippath ovn trace`: OVN's logical flows run by vippath's interpreter, with ovn-trace's command shape so that
 * an ovn-trace command line can be pasted (`--ct` repeated, one flag set per ct action, `--lb-dst`, the three
 * detail levels). The flows come from an OVN_Southbound backup (`--sb`, faithful: ports, groups, port security,
 * LBs) or from `ovn-sbctl lflow-list` text (`--lflows`, flows only). `--chassis` adds what ovn-controller does on
 * that chassis and ovn-trace does not show.
 */
import { readFileSync } from 'node:fs';
import {
  DROP_REASON_TEXT, LflowExecutor, formatSkippedLflows, formatUnmodelledLflows, northd, PROFILE_OVN_VERSION, SWITCH_STAGES, TraceConntrack, type NorthdProfile, type OvnVersion, formatFlow, formatTrace, microflowEnv, parseCtFlags, parseLbDst, parseMicroflow, readOvsdbFile, sbFromLflowList, sbFromOvsdb,
  type SouthboundState, type TraceLevel,
} from '@vippath/ovn';
import { UsageError, type Command, type CommandIO } from '../io.js';
import { PROFILES, readNorthbound } from './ovn-lflows.js';

const usage = `usage: vippath ovn trace (--sb FILE | --lflows FILE | --nb FILE [--profile NAME] [--ovn-version VER]) [--chassis NAME]
                         [--ct FLAGS]… [--lb-dst IP[:PORT]] [--select-id N] [--strict-lflows]
                         [--minimal|--summary|--detailed] [--json] [DATAPATH] MICROFLOW

Runs OVN's logical flows for one packet, as ovn-trace 23.03 does, and prints the same trace. Flows OVN refuses
to parse are left out, as ovn-trace and ovn-controller leave them out, and named on stderr.
  --sb FILE       an OVN_Southbound database file (ovsdb-client backup, or a server's .db)
  --lflows FILE   ovn-sbctl lflow-list text (flows only: no port security, multicast groups guessed)
  --nb FILE       an OVN_Northbound file run through vippath's northd, as \`ovn lflows\` prints it: --profile picks
                  Kube-OVN's patches and the OVN release its images carry (${PROFILES.map((p) => `${p} ${PROFILE_OVN_VERSION[p]}`).join(', ')})
  --ovn-version VER  ${Object.keys(SWITCH_STAGES).join(' | ')}: trace another release's flows (default: the profile's);
                  checked against ovn-trace 24.03/25.03 built from source, on a few microflows of the default scenario
  --chassis NAME  the chassis the packet is on: is_chassis_resident() for it, remote ports through the localnet
                  port, the loopback check, per-chassis multicast groups, localnet VLAN tags (ovn-trace shows none)
  --ct FLAGS      ct_state for the next ct action (new, est, rel, rpl, inv, trk, snat, dnat; comma-separated);
                  repeat for later ct actions; est,trk after the last (as ovn-trace)
  --lb-dst IP[:PORT]  the backend ct_lb_mark chooses, also for backend-less ct_lb_mark (as ovn-trace 23.03)
  --select-id N   accepted for ovn-trace compatibility (select() is a router action; switches have none)
  --strict-lflows refuse flows whose actions vippath does not model (put_dhcp_opts, dns_lookup, put_arp…):
                  error UNSUPPORTED_LFLOW naming the flow and the action. Without it they load, are counted on
                  stderr, and a packet reaching one stops there (\`*** put_dhcp_opts: …\`; JSON drop reason, action,
                  flow priority and uuid)
  MICROFLOW       ovn-trace syntax: inport == "p" && eth.src == … && ip4.dst == … && tcp.dst == 80
  --json          { "microflow", "stages": [{ pipeline, table, stage, priority, match, actions, uuid }],
                    "ct": [{ pipeline, table, stage, action, state, backend }],
                    "outputs": [{ port, microflow }], "drops": [{ pipeline, table, stage, reason, [action, priority, uuid] }] }`;

interface TraceArgs {
  sb?: string;
  lflows?: string;
  nb?: string;
  profile?: string;
  ovnVersion?: string;
  chassis?: string;
  ct: string[];
  lbDst?: string;
  levels: TraceLevel[];
  json: boolean;
  strict: boolean;
  positionals: string[];
}

function parseTraceArgs(args: string[]): TraceArgs {
  const out: TraceArgs = { ct: [], levels: [], json: false, strict: false, positionals: [] };
  const valued = ['--sb', '--lflows', '--nb', '--profile', '--ovn-version', '--chassis', '--ct', '--lb-dst', '--select-id'];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      out.positionals.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (name === '--minimal' || name === '--summary' || name === '--detailed') {
      out.levels.push(name.slice(2) as TraceLevel);
      continue;
    }
    if (name === '--json') {
      out.json = true;
      continue;
    }
    if (name === '--strict-lflows') {
      out.strict = true;
      continue;
    }
    if (!valued.includes(name)) throw new UsageError(`unknown option ${name}`);
    const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    switch (name) {
      case '--ct':
        out.ct.push(value);
        break;
      case '--lb-dst':
        out.lbDst = value;
        break;
      case '--ovn-version':
        out.ovnVersion = value;
        break;
      case '--select-id':
        if (!/^[1-9]\d*$/.test(value)) throw new UsageError(`--select-id: ${value}: bad select-id`);
        break;
      default:
        (out as unknown as Record<string, string>)[name.slice(2).replace('-', '')] = value;
    }
  }
  return out;
}

function read(path: string): Buffer {
  try {
    return readFileSync(path === '-' ? 0 : path);
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

function loadSouthbound(a: TraceArgs): SouthboundState {
  const sources = [a.sb, a.lflows, a.nb].filter((x) => x !== undefined).length;
  if (sources !== 1) throw new UsageError('give exactly one of --sb FILE, --lflows FILE, --nb FILE');
  if (a.profile !== undefined && a.nb === undefined) throw new UsageError('--profile goes with --nb');
  if (a.ovnVersion !== undefined && a.nb === undefined) throw new UsageError('--ovn-version goes with --nb');
  if (a.nb !== undefined) {
    const profile = (a.profile ?? 'upstream') as NorthdProfile;
    if (!PROFILES.includes(profile)) throw new UsageError(`--profile: "${profile}" is not one of ${PROFILES.join(', ')}`);
    const ovnVersion = (a.ovnVersion ?? PROFILE_OVN_VERSION[profile]) as OvnVersion;
    if (!(ovnVersion in SWITCH_STAGES)) throw new UsageError(`--ovn-version: "${ovnVersion}" is not one of ${Object.keys(SWITCH_STAGES).join(', ')}`);
    return northd(readNorthbound(a.nb), { profile, ovnVersion });
  }
  if (a.sb !== undefined) return sbFromOvsdb(readOvsdbFile(read(a.sb), a.sb));
  return sbFromLflowList(read(a.lflows!).toString('utf8'));
}

/** `vippath ovn trace …` (the `lflows` subcommand lives in ovn-lflows.ts). */
export async function ovnTrace(args: string[], io: CommandIO): Promise<number> {
  const a = parseTraceArgs(args);
  if (a.positionals.length < 1 || a.positionals.length > 2) throw new UsageError('give [DATAPATH] MICROFLOW');
  const sb = loadSouthbound(a);
  const micro = a.positionals[a.positionals.length - 1]!;
  let datapath = a.positionals.length === 2 ? a.positionals[0]! : undefined;
  if (datapath === undefined) {
    // ovn-trace: the datapath of the microflow's inport.
    const inport = /inport\s*==\s*"([^"]+)"/.exec(micro)?.[1];
    datapath = sb.portBindings.find((p) => p.logicalPort === inport)?.datapath;
    if (!datapath) throw new UsageError(inport ? `unknown port "${inport}"` : 'give DATAPATH, or name the inport in the microflow');
  }
  const ct = new TraceConntrack(a.ct.map(parseCtFlags));
  const ex = new LflowExecutor(sb, datapath, { ct, strict: a.strict, ...(a.chassis !== undefined ? { chassis: a.chassis } : {}), ...(a.lbDst !== undefined ? { lbDst: parseLbDst(a.lbDst) } : {}) });
  // ovn-trace too says on stderr which flows it could not parse, and traces without them.
  if (ex.skipped.length) io.stderr(`vippath ovn trace: ${formatSkippedLflows(ex.skipped)}\n`);
  if (ex.unmodelled.length) io.stderr(`vippath ovn trace: ${formatUnmodelledLflows(ex.unmodelled)}\n`);
  const words = parseMicroflow(micro, microflowEnv(ex, sb));
  const r = ex.runFlow(words, 0, true);
  const header = formatFlow(words);
  if (a.json) {
    io.stdout(`${JSON.stringify({
      microflow: header,
      stages: r.stages,
      ct: r.ct,
      outputs: r.outputs.map((o) => ({ port: o.port, ...(o.tag !== undefined ? { tag: o.tag } : {}), microflow: formatFlow(o.words, { regs: 'ports' }) })),
      drops: r.drops.map((d) => ({ pipeline: d.pipeline, table: d.table, stage: d.stage, reason: DROP_REASON_TEXT[d.reason], ...(d.unmodelled ? { action: d.unmodelled.action, priority: d.unmodelled.flow.priority, ...(d.unmodelled.flow.uuid ? { uuid: d.unmodelled.flow.uuid } : {}) } : {}) })),
    }, null, 2)}\n`);
    return 0;
  }
  const levels: TraceLevel[] = a.levels.length ? (['detailed', 'summary', 'minimal'] as const).filter((l) => a.levels.includes(l)) : ['detailed'];
  let text = `# ${header}\n`;
  for (const level of levels) {
    if (levels.length > 1) text += `# ${level[0]!.toUpperCase()}${level.slice(1)} trace.\n`;
    text += formatTrace([r.trace!], level);
  }
  io.stdout(text);
  return 0;
}

/** `vippath ovn …`. */
export const ovnCommand: Command = {
  name: 'ovn',
  summary: 'OVN logical flows: trace a packet through a Southbound\'s flows as ovn-trace does',
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'trace') return ovnTrace(rest, io);
    throw new UsageError(sub ? `unknown subcommand "${sub}" (ovn lflows, ovn trace)` : 'missing subcommand (ovn lflows, ovn trace)');
  },
};
