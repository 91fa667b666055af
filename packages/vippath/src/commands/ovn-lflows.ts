import { readFileSync } from 'node:fs';
import { checkNorthbound, formatLflowList, nbFromOvsdb, NbShapeError, northd, PROFILE_OVN_VERSION, readOvsdbFile, SWITCH_STAGES, type NorthboundDb, type NorthdProfile, type OvnVersion } from '@vippath/ovn';
import { VippathError } from '@vippath/wire';
import { parseArgs, UsageError, type Command } from '../io.js';

export const PROFILES: NorthdProfile[] = ['upstream', 'kube-ovn-1.14', 'kube-ovn-1.15'];

const VERSIONS = Object.keys(SWITCH_STAGES) as OvnVersion[];

const usage = `usage: vippath ovn lflows --nb FILE [--profile NAME] [--ovn-version VER] [--bind LSP=CHASSIS,…] [--datapath NAME]
                         [--uuid]

Prints the logical switches' flows as ovn-northd writes them, in the text of \`ovn-sbctl lflow-list\` (diff it
against the real thing). FILE is an OVN_Northbound database as \`ovsdb-client backup\` writes it (or a server's .db
file), or a JSON file of vippath's typed Northbound objects ({ "switches": [...], ... }).

  --profile NAME   ${PROFILES.join(' | ')} (default upstream: Debian's OVN 23.03, no Kube-OVN patches);
                   kube-ovn-1.14 is OVN 24.03 with Kube-OVN's patches, kube-ovn-1.15 OVN 25.03 with its patches
  --ovn-version VER  ${VERSIONS.join(' | ')}: the OVN release whose flows to write (default: the profile's —
                   ${PROFILES.map((p) => `${p} ${PROFILE_OVN_VERSION[p]}`).join(', ')}). 23.03 is checked against
                   the real ovn-northd; 24.03 and 25.03 are read from OVN's source (branch-24.03 ef8f5c1ac, the
                   commit Kube-OVN 1.14 builds; branch-25.03 cbb88276a), no binary to diff against here
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
    const { flags, options, positionals } = parseArgs(args, { flags: ['--uuid'], options: ['--nb', '--profile', '--ovn-version', '--datapath', '--bind'] });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const file = options.get('--nb');
    if (!file) throw new UsageError('--nb FILE is required');
    const profile = (options.get('--profile') ?? 'upstream') as NorthdProfile;
    if (!PROFILES.includes(profile)) throw new UsageError(`--profile: "${profile}" is not one of ${PROFILES.join(', ')}`);
    const ovnVersion = (options.get('--ovn-version') ?? PROFILE_OVN_VERSION[profile]) as OvnVersion;
    if (!VERSIONS.includes(ovnVersion)) throw new UsageError(`--ovn-version: "${ovnVersion}" is not one of ${VERSIONS.join(', ')}`);
    const state = northd(readNorthbound(file), { profile, ovnVersion, chassis: parseBindings(options.get('--bind')) });
    const datapath = options.get('--datapath');
    if (datapath !== undefined && !state.datapaths.some((d) => d.name === datapath)) {
      throw new VippathError('NB_NO_DATAPATH', `no logical switch named ${datapath} in ${file}`);
    }
    io.stdout(formatLflowList(state, { ...(datapath !== undefined ? { datapath } : {}), uuid: flags.has('--uuid') }));
    return 0;
  },
};
