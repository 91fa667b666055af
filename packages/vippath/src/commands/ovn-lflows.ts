import { readFileSync } from 'node:fs';
import { checkNorthbound, formatLflowList, nbFromOvsdb, NbShapeError, northd, readOvsdbFile, type NorthboundDb, type NorthdProfile } from '@vippath/ovn';
import { VippathError } from '@vippath/wire';
import { parseArgs, UsageError, type Command } from '../io.js';

export const PROFILES: NorthdProfile[] = ['upstream', 'kube-ovn-1.14', 'kube-ovn-1.15'];

const usage = `usage: vippath ovn lflows --nb FILE [--profile NAME] [--bind LSP=CHASSIS,…] [--datapath NAME] [--uuid]

Prints the logical switches' flows as ovn-northd 23.03 writes them, in the text of \`ovn-sbctl lflow-list\`
(diff it against the real thing). FILE is an OVN_Northbound database as \`ovsdb-client backup\` writes it (or a
server's .db file), or a JSON file of vippath's typed Northbound objects ({ "switches": [...], ... }).

  --profile NAME   ${PROFILES.join(' | ')} (default upstream: Debian's OVN 23.03, no Kube-OVN patches)
  --bind LSP=CHASSIS,…  where ports are bound, for the Kube-OVN prefer-local flows (default: each port's
                   options:requested-chassis, which Kube-OVN sets)
  --datapath NAME  only this logical switch (as \`ovn-sbctl lflow-list NAME\`)
  --uuid           print uuid prefixes (vippath's flows have none: 0x00000000)`;

/** `LSP=CHASSIS,…` → a binding map; a usage error otherwise. */
export function parseBindings(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (text ?? '').split(',')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new UsageError(`--bind: "${item}" is not LSP=CHASSIS`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** A Northbound description from a file: an OVSDB database file, or vippath's typed NB objects as JSON. */
export function readNorthbound(path: string): NorthboundDb {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path === '-' ? 0 : path);
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (bytes.subarray(0, 6).toString('latin1') === 'OVSDB ') return nbFromOvsdb(readOvsdbFile(bytes, path));
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new VippathError('NB_FILE_SYNTAX', `${path}: neither an OVSDB database file nor JSON (${(e as Error).message})`);
  }
  try {
    return checkNorthbound(json);
  } catch (e) {
    if (e instanceof NbShapeError) throw new NbShapeError(e.path, `${path}: ${e.message.slice(e.path.length + 2)}`);
    throw e;
  }
}

export const ovnLflowsCommand: Command = {
  name: 'ovn lflows',
  summary: "a Northbound database's logical-switch flows, as ovn-sbctl lflow-list prints them",
  usage,
  async run(args, io) {
    const { flags, options, positionals } = parseArgs(args, { flags: ['--uuid'], options: ['--nb', '--profile', '--datapath', '--bind'] });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const file = options.get('--nb');
    if (!file) throw new UsageError('--nb FILE is required');
    const profile = (options.get('--profile') ?? 'upstream') as NorthdProfile;
    if (!PROFILES.includes(profile)) throw new UsageError(`--profile: "${profile}" is not one of ${PROFILES.join(', ')}`);
    const state = northd(readNorthbound(file), { profile, chassis: parseBindings(options.get('--bind')) });
    const datapath = options.get('--datapath');
    if (datapath !== undefined && !state.datapaths.some((d) => d.name === datapath)) {
      throw new VippathError('NB_NO_DATAPATH', `no logical switch named ${datapath} in ${file}`);
    }
    io.stdout(formatLflowList(state, { ...(datapath !== undefined ? { datapath } : {}), uuid: flags.has('--uuid') }));
    return 0;
  },
};
