/**
 * A snapshot's own OVN state on the testbed's real side: the collected Northbound database (`ovn/nb.db`, as
 * `ovsdb-client backup` wrote it, or a clustered server's file) is what the testbed's NB ovsdb-server runs on, so
 * the real ovn-northd computes from what the user's cluster had, not from what vippath derives from its Kubernetes
 * objects. The testbed's pods and its provider bridge are put where that Northbound expects them: each pod binds
 * the logical port of its name (or, failing that, of its MAC and IP), the localnet port's `network_name` maps to
 * br-provider. Kube-OVN's patches are the collected Southbound rows the installed ovn-northd does not write from
 * that Northbound ({@link collectedOverlay}).
 * @module
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { lflowDelta, nbFromOvsdb, northd, ovsdbMap, ovsdbRows, ovsdbString, ovsdbStrings, readOvsdbFile, type LflowDelta, type LogicalFlow, type NorthdProfile, type OvnVersion, type OvsdbDatabase } from '@vippath/ovn';
import { VippathError } from '@vippath/wire';

/** A collected Northbound that the testbed cannot run on (unreadable, another database, no such switch). */
export class CollectedNorthboundError extends VippathError {
  constructor(message: string) {
    super('BAD_NORTHBOUND', message);
  }
}

/** One Logical_Switch_Port of the collected Northbound's switch. */
export interface CollectedPort {
  name: string;
  type: string;
  /** `addresses` entries ("MAC IP…", `unknown`, `router`, …). */
  addresses: string[];
  /** `options:requested-chassis` (Kube-OVN sets the pod's node): ovn-controller binds the port only there. */
  requestedChassis?: string;
}

/** What the testbed needs to know of a collected Northbound, and the standalone copy its server runs on. */
export interface CollectedNorthbound {
  /** The file the NB ovsdb-server runs on (a standalone copy, in the installed schema). */
  file: string;
  /** `standalone` or `clustered`: what the collected file was. */
  format: string;
  /** The schema version the collected file had. */
  version: string;
  /**
   * The installed schema's version when the file was converted to it (`ovsdb-tool convert`: columns and tables
   * the installed OVN does not know are left out, so the real side cannot run them).
   */
  convertedTo?: string;
  /** The switch's ports. */
  ports: CollectedPort[];
  /** Every logical switch port's name (any switch): Kube-OVN 1.15.20's `node-<node>` ports may be on another. */
  allPorts: Set<string>;
  /** The switch's localnet port and its `options:network_name` (the bridge mapping's name). */
  localnet: { name: string; network: string };
  /** The collected database as read (before any conversion). */
  db: OvsdbDatabase;
}

/**
 * Reads `src`, writes the standalone copy the testbed runs on as `dest` (`ovsdb-tool cluster-to-standalone` for a
 * clustered file; `ovsdb-tool convert` to the installed schema when it differs) and finds switch `ls` in it.
 * `tool` runs ovsdb-tool (its stdout; throws when it fails).
 */
export function prepareCollectedNorthbound(src: string, dest: string, ls: string, schema: string, tool: (args: string[]) => string): CollectedNorthbound {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(src));
  } catch (e) {
    throw new CollectedNorthboundError(`cannot read ${src}: ${(e as Error).message}`);
  }
  let db: ReturnType<typeof readOvsdbFile>;
  try {
    db = readOvsdbFile(bytes, src);
  } catch (e) {
    if (e instanceof VippathError) throw new CollectedNorthboundError(`${src} is not an OVSDB database file (${e.code}: ${e.message})`);
    throw e;
  }
  if (db.name !== 'OVN_Northbound') throw new CollectedNorthboundError(`${src} is a ${db.name} database, not OVN_Northbound`);
  const sw = ovsdbRows(db, 'Logical_Switch').find((r) => ovsdbString(r, 'name') === ls);
  if (!sw) throw new CollectedNorthboundError(`${src} has no Logical_Switch named ${ls} (it has ${ovsdbRows(db, 'Logical_Switch').map((r) => ovsdbString(r, 'name')).join(', ') || 'none'}): the testbed's pods would have no switch to bind to`);
  const lsps = new Map(ovsdbRows(db, 'Logical_Switch_Port').map((r) => [r._uuid, r]));
  const ports: CollectedPort[] = ovsdbStrings(sw, 'ports').flatMap((u) => {
    const r = lsps.get(u);
    if (!r) return [];
    const requested = ovsdbMap(r, 'options')['requested-chassis'];
    return [{ name: ovsdbString(r, 'name') ?? '', type: ovsdbString(r, 'type') ?? '', addresses: ovsdbStrings(r, 'addresses'), ...(requested ? { requestedChassis: requested } : {}) }];
  });
  const ln = ovsdbStrings(sw, 'ports').map((u) => lsps.get(u)).find((r) => r && ovsdbString(r, 'type') === 'localnet');
  const network = ln ? ovsdbMap(ln, 'options').network_name : undefined;
  if (!ln || !network) throw new CollectedNorthboundError(`${src}: Logical_Switch ${ls} has no localnet port with options:network_name: the testbed cannot connect it to br-provider`);
  // ovsdb-tool reads and writes these files itself; vippath's reader above only checked them and found the switch.
  const run = (args: string[]): string => {
    try {
      return tool(args);
    } catch (e) {
      throw new CollectedNorthboundError(`${src}: ${(e as Error).message}`);
    }
  };
  if (db.format === 'clustered') run(['cluster-to-standalone', dest, src]);
  else copyFileSync(src, dest);
  let convertedTo: string | undefined;
  if (run(['needs-conversion', dest, schema]).trim() === 'yes') {
    run(['convert', dest, schema]);
    const installed = run(['schema-version', schema]).trim();
    if (installed !== db.version) convertedTo = installed;
  }
  return { file: dest, format: db.format ?? 'standalone', version: db.version, ...(convertedTo ? { convertedTo } : {}), ports, allPorts: new Set(ovsdbRows(db, 'Logical_Switch_Port').map((r) => ovsdbString(r, 'name') ?? '')), localnet: { name: ovsdbString(ln, 'name') ?? '', network }, db };
}

/**
 * The logical port a pod binds in the collected Northbound: the port of its derived name (`<pod>.<namespace>`,
 * Kube-OVN's naming), else the one whose addresses hold its MAC and IP; undefined when none does (the real side
 * then has no port for it).
 */
export function collectedPortFor(nb: Pick<CollectedNorthbound, 'ports'>, pod: { lsp: string; mac: string; ip: string }): string | undefined {
  if (nb.ports.some((p) => p.name === pod.lsp)) return pod.lsp;
  return nb.ports.find((p) => p.addresses.some((a) => {
    const words = a.toLowerCase().split(/\s+/);
    return words.includes(pod.mac.toLowerCase()) && words.includes(pod.ip.toLowerCase());
  }))?.name;
}

/**
 * Kube-OVN's patches as the collected Southbound has them: the rows of the switch the testbed's own ovn-northd
 * wrote from the collected Northbound (`written`) and the collected rows (`collected`) differ by exactly what the
 * cluster's patched northd does otherwise — taken out (`removed`) and put in (`added`).
 */
export function collectedOverlay(written: readonly LogicalFlow[], collected: readonly LogicalFlow[]): LflowDelta {
  return lflowDelta(written, collected);
}

/**
 * Kube-OVN's patches computed by vippath's northd on the collected Northbound (when there are no collected
 * Southbound rows to take them from): the difference between its flows of `ls` with `profile` and upstream.
 * `chassis`: where each logical port is bound (prefer-local reads it).
 */
export function collectedNbOverlay(nb: CollectedNorthbound, ls: string, profile: NorthdProfile, chassis: Record<string, string>, ovnVersion: OvnVersion = '23.03'): LflowDelta {
  let typed: ReturnType<typeof nbFromOvsdb>;
  try {
    typed = nbFromOvsdb(nb.db);
  } catch (e) {
    if (e instanceof VippathError) throw new CollectedNorthboundError(`vippath's northd cannot read the collected Northbound (${e.code}: ${e.message}): no Kube-OVN patch flows can be computed for it`);
    throw e;
  }
  return lflowDelta(northd(typed, { profile: 'upstream', ovnVersion, chassis }).flows.get(ls) ?? [], northd(typed, { profile, ovnVersion, chassis }).flows.get(ls) ?? []);
}
