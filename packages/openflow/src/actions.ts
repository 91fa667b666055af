/**
 * OpenFlow actions as `ovs-ofctl` writes them (ovs-actions(7)), parsed into a small union, and printed back
 * the way `ovs-ofctl dump-flows` prints them.
 */
import { formatIPv4, formatMac, parseIPv4, parseMac } from '@vippath/wire';
import { resolvePortName } from './ports.js';
import { Slot } from './key.js';

/** Reserved OpenFlow 1.0 port numbers (OFPP_*). */
export const Port = { IN_PORT: 0xfff8, TABLE: 0xfff9, NORMAL: 0xfffa, FLOOD: 0xfffb, ALL: 0xfffc, CONTROLLER: 0xfffd, LOCAL: 0xfffe, NONE: 0xffff } as const;

/** A packet header field an action can set. */
export type HeaderField = 'dl_src' | 'dl_dst' | 'nw_src' | 'nw_dst' | 'tp_src' | 'tp_dst' | 'nw_tos' | 'vlan_vid' | 'vlan_pcp';

/** A bit range of a field for load/move (`NXM_NX_REG0[0..15]`). */
export interface FieldRef {
  /** Field name as written (normalised to the NXM/OXM name OVS prints). */
  name: string;
  /** Key slot(s) the field lives in (register, metadata) or -1 for header fields written through the packet. */
  header?: HeaderField | 'in_port' | 'vlan_tci';
  slot?: number;
  /** Width of the whole field in bits. */
  width: number;
  ofs: number;
  nbits: number;
}

/** One action. */
export type Action =
  | { kind: 'output'; port: number }
  | { kind: 'drop' }
  | { kind: 'set'; field: HeaderField; value: number; mac?: Uint8Array; pushIfNeeded?: boolean }
  | { kind: 'push_vlan'; tpid: number }
  | { kind: 'pop_vlan' }
  | { kind: 'load'; dst: FieldRef; value: bigint }
  | { kind: 'move'; src: FieldRef; dst: FieldRef }
  | { kind: 'resubmit'; port?: number; table?: number }
  | { kind: 'goto_table'; table: number }
  | { kind: 'dec_ttl' }
  | { kind: 'controller' }
  | { kind: 'note'; bytes: string };

const NXM: Record<string, Omit<FieldRef, 'ofs' | 'nbits' | 'name'> & { name: string }> = {};
for (let i = 0; i < 16; i++) {
  NXM[`NXM_NX_REG${i}`] = { name: `NXM_NX_REG${i}`, slot: Slot.REG0 + i, width: 32 };
  NXM[`reg${i}`] = NXM[`NXM_NX_REG${i}`]!;
}
Object.assign(NXM, {
  OXM_OF_METADATA: { name: 'OXM_OF_METADATA', slot: Slot.METADATA_HI, width: 64 },
  metadata: { name: 'OXM_OF_METADATA', slot: Slot.METADATA_HI, width: 64 },
  NXM_OF_ETH_SRC: { name: 'NXM_OF_ETH_SRC', header: 'dl_src', width: 48 },
  NXM_OF_ETH_DST: { name: 'NXM_OF_ETH_DST', header: 'dl_dst', width: 48 },
  eth_src: { name: 'NXM_OF_ETH_SRC', header: 'dl_src', width: 48 },
  eth_dst: { name: 'NXM_OF_ETH_DST', header: 'dl_dst', width: 48 },
  NXM_OF_IP_SRC: { name: 'NXM_OF_IP_SRC', header: 'nw_src', width: 32 },
  NXM_OF_IP_DST: { name: 'NXM_OF_IP_DST', header: 'nw_dst', width: 32 },
  ip_src: { name: 'NXM_OF_IP_SRC', header: 'nw_src', width: 32 },
  ip_dst: { name: 'NXM_OF_IP_DST', header: 'nw_dst', width: 32 },
  NXM_OF_TCP_SRC: { name: 'NXM_OF_TCP_SRC', header: 'tp_src', width: 16 },
  NXM_OF_TCP_DST: { name: 'NXM_OF_TCP_DST', header: 'tp_dst', width: 16 },
  NXM_OF_UDP_SRC: { name: 'NXM_OF_UDP_SRC', header: 'tp_src', width: 16 },
  NXM_OF_UDP_DST: { name: 'NXM_OF_UDP_DST', header: 'tp_dst', width: 16 },
  NXM_OF_IN_PORT: { name: 'NXM_OF_IN_PORT', header: 'in_port', width: 16 },
  in_port: { name: 'NXM_OF_IN_PORT', header: 'in_port', width: 16 },
  NXM_OF_VLAN_TCI: { name: 'NXM_OF_VLAN_TCI', header: 'vlan_tci', width: 16 },
});

/** Parses `NAME[]`, `NAME[a..b]`, `NAME[a]`; throws Error. */
export function parseFieldRef(text: string): FieldRef {
  const m = /^([A-Za-z0-9_]+)(?:\[(\d*)(?:\.\.(\d+))?\])?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a field reference like NXM_NX_REG0[0..15]`);
  const f = NXM[m[1]!];
  if (!f) throw new Error(`unknown field "${m[1]}" (vippath knows registers, metadata, Ethernet/IP addresses, TCP/UDP ports, in_port, VLAN TCI)`);
  let ofs = 0;
  let nbits = f.width;
  if (m[2] !== undefined && m[2] !== '') {
    ofs = Number(m[2]);
    const end = m[3] !== undefined ? Number(m[3]) : ofs;
    if (end < ofs || end >= f.width) throw new Error(`bit range [${m[2]}..${m[3] ?? m[2]}] is outside the ${f.width}-bit field ${f.name}`);
    nbits = end - ofs + 1;
  }
  return { ...f, ofs, nbits };
}

/** Formats a field reference as OVS prints it. */
export function formatFieldRef(r: FieldRef): string {
  return r.ofs === 0 && r.nbits === r.width ? `${r.name}[]` : r.nbits === 1 ? `${r.name}[${r.ofs}]` : `${r.name}[${r.ofs}..${r.ofs + r.nbits - 1}]`;
}

function portName(p: number): string {
  switch (p) {
    case Port.IN_PORT: return 'IN_PORT';
    case Port.NORMAL: return 'NORMAL';
    case Port.FLOOD: return 'FLOOD';
    case Port.ALL: return 'ALL';
    case Port.CONTROLLER: return 'CONTROLLER';
    case Port.LOCAL: return 'LOCAL';
    default: return `output:${p}`;
  }
}

/** Formats one action as `ovs-ofctl dump-flows` does. */
export function formatAction(a: Action): string {
  switch (a.kind) {
    case 'output':
      return portName(a.port);
    case 'drop':
      return 'drop';
    case 'set':
      switch (a.field) {
        case 'dl_src':
        case 'dl_dst':
          return `mod_${a.field}:${formatMac(a.mac!)}`;
        case 'nw_src':
        case 'nw_dst':
          return `mod_${a.field}:${formatIPv4(a.value)}`;
        case 'vlan_vid':
          return a.pushIfNeeded === false ? `set_field:${a.value | 0x1000}->vlan_vid` : `mod_vlan_vid:${a.value}`;
        case 'vlan_pcp':
          return `mod_vlan_pcp:${a.value}`;
        default:
          return `mod_${a.field}:${a.value}`;
      }
    case 'push_vlan':
      return `push_vlan:0x${a.tpid.toString(16)}`;
    case 'pop_vlan':
      return 'strip_vlan';
    case 'load':
      return `load:0x${a.value.toString(16)}->${formatFieldRef(a.dst)}`;
    case 'move':
      return `move:${formatFieldRef(a.src)}->${formatFieldRef(a.dst)}`;
    case 'resubmit':
      return a.table === undefined ? `resubmit:${a.port === Port.IN_PORT ? 'IN_PORT' : a.port}` : `resubmit(${a.port === undefined ? '' : a.port === Port.IN_PORT ? 'IN_PORT' : a.port},${a.table})`;
    case 'goto_table':
      return `goto_table:${a.table}`;
    case 'dec_ttl':
      return 'dec_ttl';
    case 'controller':
      return 'CONTROLLER:65535';
    case 'note':
      return `note:${a.bytes}`;
  }
}

/** Splits an action list at top-level commas (not inside parentheses). Returns [text, offset] pairs. */
export function splitTopLevel(text: string): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    // A quoted port name (`output:"a,b"`) may hold commas and parentheses.
    if (c === '"') {
      // To the closing quote, past escaped ones (ovs-ofctl prints `output:"q\"uote"`).
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (end < text.length) {
        i = end;
        continue;
      }
    }
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (i === text.length || (c === ',' && depth === 0)) {
      const part = text.slice(start, i);
      const lead = part.length - part.trimStart().length;
      if (part.trim()) out.push([part.trim(), start + lead]);
      start = i + 1;
    }
  }
  return out;
}

function num(text: string, bits: number, what: string): number {
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) throw new Error(`${what}: "${text}" is not a number`);
  const v = Number(t);
  if (v >= 2 ** bits) throw new Error(`${what}: ${text} does not fit in ${bits} bits`);
  return v;
}

function portArg(text: string, ports?: ReadonlyMap<string, number>): number {
  const t = text.trim();
  const reserved: Record<string, number> = { IN_PORT: Port.IN_PORT, NORMAL: Port.NORMAL, FLOOD: Port.FLOOD, ALL: Port.ALL, LOCAL: Port.LOCAL, CONTROLLER: Port.CONTROLLER };
  if (t.toUpperCase() in reserved) return reserved[t.toUpperCase()]!;
  const named = resolvePortName(t, ports);
  if (named !== undefined) return named;
  if (t.startsWith('"')) throw new Error(`port ${t} is not a known port name (give the bridge's ports: br-provider.ports or --ports)`);
  return num(t, 16, 'port');
}

const SET_FIELD_ALIASES: Record<string, HeaderField> = {
  eth_src: 'dl_src', dl_src: 'dl_src', eth_dst: 'dl_dst', dl_dst: 'dl_dst',
  ip_src: 'nw_src', nw_src: 'nw_src', ip_dst: 'nw_dst', nw_dst: 'nw_dst',
  tcp_src: 'tp_src', udp_src: 'tp_src', tp_src: 'tp_src', tcp_dst: 'tp_dst', udp_dst: 'tp_dst', tp_dst: 'tp_dst',
  vlan_vid: 'vlan_vid', vlan_pcp: 'vlan_pcp', nw_tos: 'nw_tos',
};

function setHeader(field: HeaderField, valueText: string, pushIfNeeded: boolean): Action {
  switch (field) {
    case 'dl_src':
    case 'dl_dst':
      return { kind: 'set', field, value: 0, mac: parseMac(valueText.trim()) };
    case 'nw_src':
    case 'nw_dst':
      return { kind: 'set', field, value: parseIPv4(valueText.trim()) };
    case 'tp_src':
    case 'tp_dst':
      return { kind: 'set', field, value: num(valueText, 16, field) };
    case 'nw_tos': {
      const v = num(valueText, 8, 'nw_tos');
      if (v & 3) throw new Error(`mod_nw_tos: ${v} has the ECN bits set; nw_tos takes the DSCP part (a multiple of 4)`);
      return { kind: 'set', field, value: v };
    }
    case 'vlan_vid': {
      // set_field takes the OpenFlow 1.2+ form with OFPVID_PRESENT (0x1000); mod_vlan_vid a bare VID.
      const v = num(valueText, 13, 'vlan_vid') & 0xfff;
      return { kind: 'set', field, value: v, pushIfNeeded };
    }
    case 'vlan_pcp':
      return { kind: 'set', field, value: num(valueText, 3, 'vlan_pcp'), pushIfNeeded };
  }
}

/**
 * Parses one action; throws Error with a message (the caller adds the position). `ports` resolves port
 * names in output/resubmit.
 */
export function parseAction(text: string, ports?: ReadonlyMap<string, number>): Action {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (lower === 'drop') return { kind: 'drop' };
  if (lower === 'normal') return { kind: 'output', port: Port.NORMAL };
  if (lower === 'local') return { kind: 'output', port: Port.LOCAL };
  if (lower === 'in_port') return { kind: 'output', port: Port.IN_PORT };
  if (lower === 'flood') return { kind: 'output', port: Port.FLOOD };
  if (lower === 'all') return { kind: 'output', port: Port.ALL };
  if (lower === 'strip_vlan' || lower === 'pop_vlan') return { kind: 'pop_vlan' };
  if (lower === 'dec_ttl') return { kind: 'dec_ttl' };
  if (lower === 'controller' || lower.startsWith('controller:') || lower.startsWith('controller(')) return { kind: 'controller' };
  if (/^[0-9]+$/.test(t)) return { kind: 'output', port: num(t, 16, 'output') };
  const colon = t.indexOf(':');
  const paren = t.indexOf('(');
  const name = (colon >= 0 && (paren < 0 || colon < paren) ? t.slice(0, colon) : paren >= 0 ? t.slice(0, paren) : t).toLowerCase();
  const arg = colon >= 0 && (paren < 0 || colon < paren) ? t.slice(colon + 1) : paren >= 0 ? t.slice(paren + 1, t.lastIndexOf(')')) : '';
  switch (name) {
    case 'output':
      return { kind: 'output', port: portArg(arg, ports) };
    case 'mod_dl_src':
      return setHeader('dl_src', arg, true);
    case 'mod_dl_dst':
      return setHeader('dl_dst', arg, true);
    case 'mod_nw_src':
      return setHeader('nw_src', arg, true);
    case 'mod_nw_dst':
      return setHeader('nw_dst', arg, true);
    case 'mod_tp_src':
      return setHeader('tp_src', arg, true);
    case 'mod_tp_dst':
      return setHeader('tp_dst', arg, true);
    case 'mod_nw_tos':
      return setHeader('nw_tos', arg, true);
    case 'mod_vlan_vid':
      return setHeader('vlan_vid', arg, true);
    case 'mod_vlan_pcp':
      return setHeader('vlan_pcp', arg, true);
    case 'push_vlan': {
      const tpid = num(arg, 16, 'push_vlan');
      if (tpid !== 0x8100 && tpid !== 0x88a8) throw new Error(`push_vlan: TPID 0x${tpid.toString(16)} is neither 0x8100 nor 0x88a8`);
      return { kind: 'push_vlan', tpid };
    }
    case 'set_field': {
      const arrow = arg.indexOf('->');
      if (arrow < 0) throw new Error('set_field needs VALUE->FIELD');
      const value = arg.slice(0, arrow);
      const field = arg.slice(arrow + 2).trim();
      const header = SET_FIELD_ALIASES[field];
      if (header) return setHeader(header, value, false);
      const ref = parseFieldRef(field.includes('[') ? field : `${field}[]`);
      return { kind: 'load', dst: ref, value: parseBig(value, ref.nbits) };
    }
    case 'load': {
      const arrow = arg.indexOf('->');
      if (arrow < 0) throw new Error('load needs VALUE->FIELD[range]');
      const dst = parseFieldRef(arg.slice(arrow + 2));
      return { kind: 'load', dst, value: parseBig(arg.slice(0, arrow), dst.nbits) };
    }
    case 'move': {
      const arrow = arg.indexOf('->');
      if (arrow < 0) throw new Error('move needs SRC[range]->DST[range]');
      const src = parseFieldRef(arg.slice(0, arrow));
      const dst = parseFieldRef(arg.slice(arrow + 2));
      if (src.nbits !== dst.nbits) throw new Error(`move: source has ${src.nbits} bits, destination ${dst.nbits}`);
      return { kind: 'move', src, dst };
    }
    case 'resubmit': {
      if (paren >= 0 && (colon < 0 || paren < colon)) {
        const parts = arg.split(',');
        if (parts.length !== 2 && parts.length !== 3) throw new Error('resubmit takes (port,table)');
        const port = parts[0]!.trim() === '' ? undefined : portArg(parts[0]!, ports);
        const table = parts[1]!.trim() === '' ? undefined : num(parts[1]!, 8, 'resubmit table');
        if (port === undefined && table === undefined) throw new Error('resubmit needs a port or a table');
        return { kind: 'resubmit', ...(port !== undefined ? { port } : {}), ...(table !== undefined ? { table } : {}) };
      }
      return { kind: 'resubmit', port: portArg(arg, ports) };
    }
    case 'goto_table':
      return { kind: 'goto_table', table: num(arg, 8, 'goto_table') };
    case 'note':
      if (!/^([0-9a-fA-F]{2}\.?)*$/.test(arg.trim())) throw new Error('note takes hex bytes like note:ab.cd');
      return { kind: 'note', bytes: arg.trim() };
    default:
      throw new Error(`unknown action "${name}"`);
  }
}

function parseBig(text: string, bits: number): bigint {
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) throw new Error(`"${text}" is not a number`);
  const v = BigInt(t);
  if (v >= 1n << BigInt(bits)) throw new Error(`${text} does not fit in ${bits} bits`);
  return v;
}
