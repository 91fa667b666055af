/**
 * OVN's lexer for matches and actions (ovn lib/lex.c, branch-23.03), reduced to what logical switch flows use:
 * identifiers with dots, integers (decimal and hex), MAC, IPv4 and IPv6 constants each optionally masked
 * (`/prefix` or `/mask`), quoted strings, `$address_set`, `@port_group`, and the punctuation of both languages.
 * @module
 */
import { VippathError } from '@vippath/wire';

/**
 * Why OVN's own parser refuses a match or actions text: a fixed table of codes (numbers), {@link LFLOW_REFUSAL_TEXT}
 * for output. Every refusal is one OVN makes too (ovn-controller then skips the flow: see `SkippedLflow`); what OVN
 * accepts and vippath does not model is an {@link LflowUnsupportedError} instead.
 */
export const LflowRefusal = {
  /** The text is not in the language (a missing `;`, an unbalanced parenthesis, a stray token). */
  SYNTAX: 0,
  /** The lexer refuses a constant (a decimal with a leading zero, hex where a decimal is required, a bad mask). */
  CONSTANT: 1,
  /** A name OVN does not know: field, symbol, action, function, address set, port group. */
  UNKNOWN_NAME: 2,
  /** A constant or field of the wrong type or width for where it stands. */
  TYPE: 3,
} as const;
/** One of the {@link LflowRefusal} codes. */
export type LflowRefusalCode = (typeof LflowRefusal)[keyof typeof LflowRefusal];
export const LFLOW_REFUSAL_TEXT: readonly string[] = ['syntax error', 'invalid constant', 'unknown name', 'type error'];

/** A match or action text that does not parse, as OVN's parser also refuses it. `column` counts from 1. */
export class LflowSyntaxError extends VippathError {
  readonly text: string;
  readonly column: number;
  /** Which kind of refusal ({@link LflowRefusal}). */
  readonly refusal: LflowRefusalCode;
  constructor(text: string, column: number, message: string, refusal: LflowRefusalCode = LflowRefusal.SYNTAX) {
    super('LFLOW_SYNTAX', `${message} at column ${column} of "${text}"`);
    this.text = text;
    this.column = column;
    this.refusal = refusal;
  }
}

/**
 * A match or action text OVN 23.03 accepts (its action in lib/actions.c parse_action, its symbol in
 * lib/logical-fields.c ovn_init_symtab) that vippath does not model. Never skipped: the real system would run it.
 */
export class LflowUnsupportedError extends VippathError {
  readonly text: string;
  /** The construct, as written (`ct_dnat_in_czone`, `icmp4.frag_mtu`, `put_dhcp_opts()`…). */
  readonly construct: string;
  constructor(text: string, construct: string, message: string) {
    super('LFLOW_UNSUPPORTED', `${message} in "${text}"`);
    this.text = text;
    this.construct = construct;
  }
}

/**
 * The width OVN gives a constant when it checks it against a field (OVN v23.03.1 lib/expr.c expr_constant_width,
 * used by type_check): a masked one's mask width, an integer's significant bits, an address its family's width
 * whatever its value. type_check compares it with the named symbol's width, not a subscript's: `reg0[0..7] = 256`
 * passes, and the value is cut to the subscript's bits (make_cmp__, the load's subfield).
 */
export function constantWidth(kind: string, value: bigint, mask: bigint | undefined): number {
  if (mask !== undefined) return mask.toString(2).length - (mask === 0n ? 1 : 0);
  if (kind === 'ip4') return 32;
  if (kind === 'ip6') return 128;
  if (kind === 'mac') return 48;
  return value === 0n ? 0 : value.toString(2).length;
}

export type TokenType = 'id' | 'int' | 'mac' | 'ip4' | 'ip6' | 'string' | 'addrset' | 'portgroup' | 'op' | 'end';

/** One token. Constants carry their value (and mask) as bigints: parse time only, never per packet. */
export interface Token {
  type: TokenType;
  text: string;
  pos: number;
  value?: bigint;
  /** Explicit mask (`/24` → prefix mask of the constant's width, `/0xff` → that value). */
  mask?: bigint;
  /** How the constant was written, for printing back: `hex` for 0x…, `prefix` when the mask is `/N`. */
  hex?: boolean;
  prefix?: number;
}

// `-` is LEX_T_HYPHEN (lib/lex.c lex_token_parse), which only ct_dnat/ct_snat's port range takes; `--` is
// LEX_T_DECREMENT (`ip.ttl--`).
const OPS = ['<->', '->', '--', '==', '!=', '<=', '>=', '&&', '||', '..', '<', '>', '!', '(', ')', '{', '}', '[', ']', ',', ';', '=', ':', '/', '-'];
const ID_START = /[A-Za-z_]/;
const ID_CHAR = /[A-Za-z0-9_.]/;

export function parseIpv6Big(text: string): bigint | undefined {
  let head = text;
  let v4tail: number[] | undefined;
  const m4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (m4) {
    // The dotted tail is read as inet_pton's (glibc inet_pton4): no leading zero.
    if (m4.slice(1).some((p) => !decimalOctet(p))) return undefined;
    v4tail = m4.slice(1).map(Number);
    head = text.slice(0, m4.index) + '0:0';
  }
  const parts = head.split('::');
  if (parts.length > 2) return undefined;
  const left = parts[0] ? parts[0].split(':') : [];
  const right = parts.length === 2 && parts[1] ? parts[1].split(':') : [];
  if (parts.length === 1 && left.length !== 8) return undefined;
  if (left.length + right.length > (parts.length === 2 ? 7 : 8)) return undefined;
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (v4tail) v = (v & ~0xffffffffn) | BigInt((((v4tail[0]! << 24) | (v4tail[1]! << 16) | (v4tail[2]! << 8) | v4tail[3]!) >>> 0));
  return v;
}

/**
 * One dotted-quad part as OVN's lexer takes it: ip_parse is inet_pton (glibc inet_pton4), which refuses a part with a
 * leading zero (`010`, `00`) — the lexer then reports an invalid constant (OVN v23.03.1 lib/lex.c lex_parse_integer__).
 */
const decimalOctet = (p: string): boolean => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255;

const prefixMask = (prefix: number, width: number): bigint => (prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix));

/** Splits `text` into tokens; throws {@link LflowSyntaxError} on a character no token starts with. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new LflowSyntaxError(text, i + 1, 'unterminated comment');
      i = end + 2;
      continue;
    }
    const start = i;
    if (c === '"') {
      let s = '';
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < n) i++;
        s += text[i];
        i++;
      }
      if (i >= n) throw new LflowSyntaxError(text, start + 1, 'unterminated string');
      i++;
      out.push({ type: 'string', text: s, pos: start });
      continue;
    }
    if (c === '$' || c === '@') {
      i++;
      while (i < n && /[A-Za-z0-9_.]/.test(text[i]!)) i++;
      out.push({ type: c === '$' ? 'addrset' : 'portgroup', text: text.slice(start + 1, i), pos: start });
      continue;
    }
    // Addresses: a run of hex digits, colons and dots that holds a colon is a MAC or an IPv6 address
    // (identifiers never contain ':'); digits and dots with three dots are IPv4.
    const run = /^[0-9A-Fa-f:.]+/.exec(text.slice(i))?.[0] ?? '';
    const trimmed = run.replace(/\.\.[\s\S]*$/, '');
    if (trimmed.includes(':') && !/^[:]/.test(trimmed) || /^::/.test(trimmed)) {
      const tok = addressToken(text, start, trimmed);
      if (tok) {
        i += trimmed.length;
        i = maskSuffix(text, i, tok);
        out.push(tok);
        continue;
      }
    }
    const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?![0-9])/.exec(text.slice(i));
    if (v4) {
      if (!v4.slice(1).every(decimalOctet)) throw new LflowSyntaxError(text, start + 1, `invalid numeric constant ${v4[0]} (an IPv4 address is dotted decimal without leading zeros)`, LflowRefusal.CONSTANT);
      const parts = v4.slice(1).map(Number);
      const tok: Token = { type: 'ip4', text: v4[0], pos: start, value: BigInt(((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0) };
      i += v4[0].length;
      i = maskSuffix(text, i, tok);
      out.push(tok);
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(0[xX][0-9A-Fa-f]+|[0-9]+)/.exec(text.slice(i))!;
      // lex_parse_integer__ (OVN v23.03.1 lib/lex.c): a decimal constant with a leading zero is an error, not octal.
      if (/^0[0-9]/.test(m[0])) throw new LflowSyntaxError(text, start + 1, `decimal constant ${m[0]} has a leading zero`, LflowRefusal.CONSTANT);
      const tok: Token = { type: 'int', text: m[0], pos: start, value: BigInt(m[0]), hex: /^0[xX]/.test(m[0]) };
      i += m[0].length;
      i = maskSuffix(text, i, tok);
      out.push(tok);
      continue;
    }
    if (ID_START.test(c)) {
      while (i < n && (ID_CHAR.test(text[i]!) && !(text[i] === '.' && text[i + 1] === '.'))) i++;
      out.push({ type: 'id', text: text.slice(start, i), pos: start });
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) throw new LflowSyntaxError(text, i + 1, `unexpected character '${c}'`);
    i += op.length;
    out.push({ type: 'op', text: op, pos: start });
  }
  out.push({ type: 'end', text: '', pos: n });
  return out;
}

function addressToken(text: string, pos: number, run: string): Token | undefined {
  if (/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(run)) {
    return { type: 'mac', text: run, pos, value: BigInt(`0x${run.replace(/:/g, '')}`) };
  }
  const v = parseIpv6Big(run);
  if (v === undefined) return undefined;
  void text;
  return { type: 'ip6', text: run, pos, value: v };
}

/** Reads `/N` or `/mask` after a constant. */
function maskSuffix(text: string, i: number, tok: Token): number {
  if (text[i] !== '/' || text[i + 1] === '*') return i;
  const rest = text.slice(i + 1);
  // lex.c lex_parse_mask reads the mask as a constant of its own (lex_parse_integer__: the same forms and refusals),
  // then pairs its format with the value's.
  let format: 'dec' | 'hex' | 'ip4' | 'ip6' | 'mac';
  let mask: bigint | undefined;
  let len: number;
  const run = /^[0-9A-Fa-f:.]+/.exec(rest)?.[0] ?? '';
  const hexNum = /^0[xX][0-9A-Fa-f]+/.exec(rest)?.[0];
  if (hexNum !== undefined) {
    format = 'hex';
    mask = BigInt(hexNum);
    len = hexNum.length;
  } else if (run.includes(':')) {
    const mac = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(run);
    format = mac ? 'mac' : 'ip6';
    mask = mac ? BigInt(`0x${run.replace(/:/g, '')}`) : parseIpv6Big(run);
    len = run.length;
  } else if (/^\d+\.\d+\.\d+\.\d+$/.test(run)) {
    if (!run.split('.').every(decimalOctet)) throw new LflowSyntaxError(text, i + 2, `invalid mask ${run} (leading zero)`, LflowRefusal.CONSTANT);
    format = 'ip4';
    mask = BigInt(run.split('.').map(Number).reduce((x, y) => x * 256 + y, 0));
    len = run.length;
  } else {
    const d = /^[0-9]+/.exec(rest)?.[0];
    if (d === undefined) throw new LflowSyntaxError(text, i + 1, 'bad mask', LflowRefusal.CONSTANT);
    if (/^0[0-9]/.test(d)) throw new LflowSyntaxError(text, i + 2, `invalid mask ${d} (leading zero)`, LflowRefusal.CONSTANT);
    format = 'dec';
    mask = BigInt(d);
    len = d.length;
  }
  if (mask === undefined) throw new LflowSyntaxError(text, i + 1, 'bad mask', LflowRefusal.CONSTANT);
  const valueFormat = tok.type === 'int' ? (tok.hex ? 'hex' : 'dec') : tok.type;
  // The pairings lex_parse_mask takes (OVN v23.03.1 lib/lex.c): the same format; an IPv4/IPv6 address with a decimal
  // prefix length no longer than the address; a decimal 0 with a hex mask (then the constant is hex). Any other —
  // an address with a hex mask, a decimal value other than 0 with a hex mask, a hex value with a decimal one —
  // is "Value and mask have incompatible formats".
  if (format === valueFormat) tok.mask = mask;
  else if (format === 'dec' && (valueFormat === 'ip4' || valueFormat === 'ip6') && mask <= (valueFormat === 'ip4' ? 32n : 128n)) {
    tok.prefix = Number(mask);
    tok.mask = prefixMask(tok.prefix, valueFormat === 'ip4' ? 32 : 128);
  } else if (valueFormat === 'dec' && format === 'hex' && tok.value === 0n) {
    tok.hex = true;
    tok.mask = mask;
  } else throw new LflowSyntaxError(text, i + 2, 'value and mask have incompatible formats', LflowRefusal.CONSTANT);
  return i + 1 + len;
}
