/**
 * Flows from the text users already have: `ovs-ofctl add-flow(s)` lines and `ovs-ofctl dump-flows` output
 * (cookie, duration, table, n_packets, n_bytes, idle_age… are accepted). Errors carry line and column.
 */
import { formatAction, parseAction, splitTopLevel, type Action } from './actions.js';
import { FlowParseError } from './errors.js';
import { FIELD_BY_NAME, FIELDS, SHORTHANDS, shorthandFor, type FieldDef, type SlotMatch } from './fields.js';
import { Slot } from './key.js';

/** OVS's default priority for flows that do not give one. */
export const DEFAULT_PRIORITY = 32768;

/** One flow. */
export interface Flow {
  table: number;
  priority: number;
  cookie: bigint;
  /** The match as slot comparisons (a slot appears at most once). */
  match: SlotMatch[];
  actions: Action[];
  idleTimeout: number;
  hardTimeout: number;
  /** Fields OVS would silently drop for a missing prerequisite, and similar notes. */
  warnings: string[];
  /** 1-based line of the text it came from (0 when built in code). */
  line: number;
  nPackets: number;
  nBytes: number;
  /** Insertion order; breaks priority ties (first added wins — OVS leaves ties undefined). */
  seq: number;
}

/** Options of {@link parseFlows}. */
export interface ParseOptions {
  /** Port names for `in_port=NAME` and `output:NAME`. */
  ports?: ReadonlyMap<string, number>;
}

const IGNORED = new Set(['duration', 'n_packets', 'n_bytes', 'idle_age', 'hard_age', 'importance', 'out_port', 'out_group']);
const FLAGS = new Set(['send_flow_rem', 'check_overlap', 'reset_counts', 'no_packet_counts', 'no_byte_counts']);

interface Token {
  text: string;
  col: number;
}

function tokenize(body: string, base: number): Token[] {
  const out: Token[] = [];
  // A quoted port name (in_port="a b,c") is one token.
  const re = /(?:"(?:[^"\\]|\\.)*"|[^,\s"])+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) out.push({ text: m[0], col: base + m.index });
  return out;
}

/** Parses one flow line (`lineNo` for error positions). Returns undefined for blank/comment/header lines. */
export function parseFlow(text: string, lineNo = 1, options: ParseOptions = {}): Flow | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.startsWith('#') || /^(NXST|OFPST)_FLOW reply/.test(trimmed)) return undefined;
  const actionsAt = text.search(/\bactions\s*=/);
  if (actionsAt < 0) throw new FlowParseError(lineNo, text.length - text.trimStart().length + 1, 'flow has no "actions=" (add "actions=drop" to drop)');
  const matchPart = text.slice(0, actionsAt);
  const actionsText = text.slice(text.indexOf('=', actionsAt) + 1);
  const actionsCol = text.indexOf('=', actionsAt) + 2;
  const flow: Flow = { table: 0, priority: DEFAULT_PRIORITY, cookie: 0n, match: [], actions: [], idleTimeout: 0, hardTimeout: 0, warnings: [], line: lineNo, nPackets: 0, nBytes: 0, seq: 0 };
  const matches = new Map<number, SlotMatch>();
  const given: Array<{ field: FieldDef; parts: SlotMatch[]; col: number }> = [];
  let dlType: number | undefined;
  let nwProto: number | undefined;
  for (const tok of tokenize(matchPart, 1)) {
    const eq = tok.text.indexOf('=');
    const key = eq < 0 ? tok.text : tok.text.slice(0, eq);
    const value = eq < 0 ? '' : tok.text.slice(eq + 1);
    const fail = (msg: string, at = tok.col): never => {
      throw new FlowParseError(lineNo, at, msg);
    };
    if (eq < 0) {
      const sh = SHORTHANDS[key];
      if (sh) {
        dlType = sh.dlType;
        if (sh.nwProto !== undefined) nwProto = sh.nwProto;
        continue;
      }
      if (FLAGS.has(key)) continue;
      fail(`unknown keyword "${key}" (expected field=value, a protocol like ip/tcp/arp, or actions=…)`);
    }
    if (IGNORED.has(key)) continue;
    const vcol = tok.col + eq + 1;
    try {
      switch (key) {
        case 'table':
          flow.table = parseInteger(value, 254, 'table');
          continue;
        case 'priority':
          flow.priority = parseInteger(value, 65535, 'priority');
          continue;
        case 'cookie': {
          const [v] = value.split('/');
          if (!/^(0x[0-9a-fA-F]{1,16}|[0-9]+)$/.test(v!)) throw new Error(`cookie "${value}" is not a 64-bit number`);
          flow.cookie = BigInt(v!);
          continue;
        }
        case 'idle_timeout':
          flow.idleTimeout = parseInteger(value, 65535, 'idle_timeout');
          continue;
        case 'hard_timeout':
          flow.hardTimeout = parseInteger(value, 65535, 'hard_timeout');
          continue;
      }
      const field = FIELD_BY_NAME.get(key);
      if (!field) fail(`unknown field "${key}"`);
      const parts = field!.parse(value, options.ports);
      if (field!.name === 'dl_type') dlType = parts[0]!.value;
      if (field!.name === 'nw_proto') nwProto = parts[0]!.value;
      given.push({ field: field!, parts, col: vcol });
    } catch (e) {
      if (e instanceof FlowParseError) throw e;
      fail(`${key}: ${(e as Error).message}`, vcol);
    }
  }
  if (dlType !== undefined) matches.set(Slot.DL_TYPE, { slot: Slot.DL_TYPE, value: dlType, mask: 0xffff });
  if (nwProto !== undefined && (dlType === 0x0800 || dlType === 0x86dd)) matches.set(Slot.NW_PROTO, { slot: Slot.NW_PROTO, value: nwProto, mask: 0xff });
  for (const g of given) {
    if (g.field.name === 'dl_type' || g.field.name === 'nw_proto') {
      if (g.field.name === 'nw_proto' && dlType !== 0x0800 && dlType !== 0x86dd) flow.warnings.push(`nw_proto ignored: it needs ip or ipv6 (OVS drops it too)`);
      continue;
    }
    if (!prerequisiteHolds(g.field, dlType, nwProto, g.parts)) {
      flow.warnings.push(`${g.field.name} ignored: its prerequisite (${g.field.prereq}) is not in the match, so OVS normalizes it away`);
      continue;
    }
    for (const p of g.parts) {
      const prev = matches.get(p.slot);
      // A later field writing the same slot wins, as in OVS (icmp_type after tp_src, dl_vlan_pcp with dl_vlan merge).
      if (prev && g.field.name === 'dl_vlan_pcp' && prev.mask === 0x1fff) matches.set(p.slot, { slot: p.slot, value: prev.value | p.value, mask: prev.mask | p.mask });
      else if (prev && g.field.name === 'dl_vlan' && prev.mask === 0xf000) matches.set(p.slot, { slot: p.slot, value: prev.value | p.value, mask: prev.mask | p.mask });
      else matches.set(p.slot, p);
    }
  }
  flow.match = [...matches.values()].filter((m) => m.mask !== 0).sort((a, b) => a.slot - b.slot);
  const parts = splitTopLevel(actionsText);
  if (parts.length === 0) throw new FlowParseError(lineNo, actionsCol, 'empty action list (use actions=drop)');
  for (const [a, off] of parts) {
    try {
      flow.actions.push(parseAction(a, options.ports));
    } catch (e) {
      throw new FlowParseError(lineNo, actionsCol + off, (e as Error).message);
    }
  }
  // OVS ofpact_check: IPv4 rewrites on a flow that matches another EtherType cannot be expressed in any
  // usable protocol; ovs-ofctl refuses them ("actions are invalid with specified match").
  const dl = matches.get(Slot.DL_TYPE)?.value;
  if (dl !== undefined && dl !== 0x0800) {
    const bad = flow.actions.find((a) => a.kind === 'set' && (a.field === 'nw_src' || a.field === 'nw_dst' || a.field === 'nw_tos'));
    if (bad) throw new FlowParseError(lineNo, actionsCol, `actions are invalid with the match: ${formatAction(bad)} needs IPv4, but the flow matches dl_type=0x${dl.toString(16).padStart(4, '0')} (OVS: OFPBAC_MATCH_INCONSISTENT)`);
  }
  if (flow.actions.some((a) => a.kind === 'drop') && flow.actions.length > 1) {
    throw new FlowParseError(lineNo, actionsCol, '"drop" must not be accompanied by any other action');
  }
  const gotoAt = flow.actions.findIndex((a) => a.kind === 'goto_table');
  if (gotoAt >= 0) {
    const g = flow.actions[gotoAt] as { kind: 'goto_table'; table: number };
    if (gotoAt !== flow.actions.length - 1) throw new FlowParseError(lineNo, actionsCol, 'goto_table must be the last instruction');
    if (g.table <= flow.table) throw new FlowParseError(lineNo, actionsCol, `goto_table:${g.table} must name a later table than ${flow.table}`);
  }
  return flow;
}

function parseInteger(text: string, max: number, what: string): number {
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(text)) throw new Error(`${what} "${text}" is not a number`);
  const v = Number(text);
  if (v > max) throw new Error(`${what} ${v} exceeds ${max}`);
  return v;
}

function prerequisiteHolds(field: FieldDef, dlType: number | undefined, nwProto: number | undefined, parts: SlotMatch[]): boolean {
  const ip = dlType === 0x0800 || dlType === 0x86dd;
  switch (field.prereq) {
    case 'none':
      return true;
    case 'ip_or_arp':
      return dlType === 0x0800 || dlType === 0x0806 || dlType === 0x8035;
    case 'ip':
      return ip;
    case 'ipv4':
      return dlType === 0x0800;
    case 'ipv6':
      return dlType === 0x86dd;
    case 'arp':
      return dlType === 0x0806 || dlType === 0x8035;
    case 'l4':
      return ip && (nwProto === 6 || nwProto === 17 || nwProto === 132);
    case 'l4_or_icmp':
      return ip && (nwProto === 6 || nwProto === 17 || nwProto === 132 || nwProto === 1 || nwProto === 58);
    case 'tcp':
      return ip && nwProto === 6;
    case 'icmp':
      return (dlType === 0x0800 && nwProto === 1) || (dlType === 0x86dd && nwProto === 58);
    case 'icmp4':
      return dlType === 0x0800 && nwProto === 1;
    case 'icmp6':
      return dlType === 0x86dd && nwProto === 58;
    case 'nd':
      return dlType === 0x86dd && nwProto === 58 && parts.length > 0;
    default:
      return true;
  }
}

/** Parses many lines (add-flows file or dump-flows output). */
export function parseFlows(text: string, options: ParseOptions = {}): Flow[] {
  const out: Flow[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const f = parseFlow(line, i + 1, options);
    if (f) out.push(f);
  });
  return out;
}

/** The match part as OVS prints it: `priority=N,<protocol>,field=value,…`. */
export function formatMatch(flow: Pick<Flow, 'priority' | 'match'>): string {
  const bySlot = new Map(flow.match.map((m) => [m.slot, m]));
  const dlType = bySlot.get(Slot.DL_TYPE)?.value;
  const nwProto = dlType === 0x0800 || dlType === 0x86dd ? bySlot.get(Slot.NW_PROTO)?.value : undefined;
  const exact = shorthandFor(dlType, nwProto);
  const shorthand = exact ?? (dlType !== undefined ? shorthandFor(dlType, undefined) : undefined);
  const parts: string[] = [];
  if (flow.priority !== DEFAULT_PRIORITY) parts.push(`priority=${flow.priority}`);
  if (shorthand) parts.push(shorthand);
  const used = new Set<number>([Slot.DL_TYPE]);
  if (shorthand && SHORTHANDS[shorthand]!.nwProto !== undefined) used.add(Slot.NW_PROTO);
  const isArp = dlType === 0x0806 || dlType === 0x8035;
  const isIcmp = nwProto === 1 || nwProto === 58;
  const candidates = fieldsInOrder().filter((f) => {
    if (f.name === 'dl_type') return !shorthand && dlType !== undefined;
    if (f.name === 'nw_src' || f.name === 'nw_dst') return !isArp;
    if (f.name === 'arp_spa' || f.name === 'arp_tpa' || f.name === 'arp_op' || f.name === 'arp_sha' || f.name === 'arp_tha') return isArp;
    if (f.name === 'nw_proto') return !isArp && !exact;
    if (f.name === 'tp_src' || f.name === 'tp_dst') return !isIcmp;
    if (f.name === 'icmp_type' || f.name === 'icmp_code') return isIcmp;
    if (f.name === 'dl_vlan' || f.name === 'dl_vlan_pcp') return false;
    return true;
  });
  for (const f of candidates) {
    const slots = slotsOf(f);
    const ms = slots.map((s) => bySlot.get(s)).filter((m): m is SlotMatch => !!m);
    if (ms.length === 0 || slots.some((s) => used.has(s))) continue;
    if (f.name === 'vlan_tci') {
      const m = ms[0]!;
      slots.forEach((s) => used.add(s));
      if (m.mask === 0x1fff && m.value & 0x1000) parts.push(`dl_vlan=${m.value & 0xfff}`);
      else if (m.mask === 0xf000 && m.value & 0x1000) parts.push(`dl_vlan_pcp=${m.value >> 13}`);
      else if (m.mask === 0xffff && m.value & 0x1000) parts.push(`dl_vlan=${m.value & 0xfff},dl_vlan_pcp=${m.value >> 13}`);
      else parts.push(`vlan_tci=${f.format([m])}`);
      continue;
    }
    const full = slots.map((s) => bySlot.get(s) ?? { slot: s, value: 0, mask: 0 });
    slots.forEach((s) => used.add(s));
    parts.push(`${f.name}=${f.format(full)}`);
  }
  return parts.join(',');
}

/** Which slots each field covers: fixed per field, and parsing to learn it is what made formatting slow. */
const slotCache = new Map<FieldDef, number[]>();
let ordered: FieldDef[] | undefined;

/** The fields in OVS's printed order (a stable sort, made once). */
function fieldsInOrder(): FieldDef[] {
  return (ordered ??= [...FIELDS].sort((a, b) => a.order - b.order));
}

function slotsOf(f: FieldDef): number[] {
  const cached = slotCache.get(f);
  if (cached) return cached;
  const slots = sampleSlots(f);
  slotCache.set(f, slots);
  return slots;
}

function sampleSlots(f: FieldDef): number[] {
  // Parse a neutral value to learn which slots a field covers.
  const sample: Record<string, string> = { dl_src: '00:00:00:00:00:00', dl_dst: '00:00:00:00:00:00', arp_sha: '00:00:00:00:00:00', arp_tha: '00:00:00:00:00:00', nw_src: '0.0.0.0', nw_dst: '0.0.0.0', arp_spa: '0.0.0.0', arp_tpa: '0.0.0.0', ipv6_src: '::', ipv6_dst: '::', nd_target: '::', in_port: '1', tcp_flags: '0', metadata: '0', dl_vlan: '1', dl_vlan_pcp: '1' };
  return f.parse(sample[f.name] ?? '0').map((p) => p.slot);
}

/** One flow as `ovs-ofctl dump-flows` prints it. */
export function formatFlow(flow: Flow, options: { stats?: boolean; durationSeconds?: number } = {}): string {
  const head = [`cookie=0x${flow.cookie.toString(16)}`];
  if (options.stats !== false) head.push(`duration=${(options.durationSeconds ?? 0).toFixed(3)}s`);
  head.push(`table=${flow.table}`);
  if (options.stats !== false) head.push(`n_packets=${flow.nPackets}`, `n_bytes=${flow.nBytes}`);
  if (flow.idleTimeout) head.push(`idle_timeout=${flow.idleTimeout}`);
  if (flow.hardTimeout) head.push(`hard_timeout=${flow.hardTimeout}`);
  const match = formatMatch(flow);
  return ` ${head.join(', ')}, ${match}${match ? ' ' : ''}actions=${flow.actions.map(formatAction).join(',')}`;
}
