/**
 * OVN's match language (ovn lib/expr.c, branch-23.03): parsed once into a syntax tree, lowered the way
 * `expr_parse` + `expr_annotate` do it (negation pushed down to the comparisons, predicates expanded, each
 * field's prerequisites ANDed next to its comparison — so `!ct.est` still requires `ct.trk` and `!tcp` still
 * requires `ip`), then compiled once into closures over the flow words. Evaluating a compiled match allocates
 * nothing.
 *
 * Grammar facts from expr.c: `&&` and `||` may not be mixed without parentheses; `!` binds tightest; a 1-bit
 * field alone is `field == 1`; `x == {a, b}` is `x == a || x == b` and `x != {a, b}` is `x != a && x != b`;
 * `inport`/`outport` compare with port names (`"none"` and `""` are key 0, an unknown name never matches).
 * @module
 */
import { constantWidth, LflowRefusal, LflowSyntaxError, LflowUnsupportedError, tokenize, type Token } from './lexer.js';
import { OVN_UNMODELLED_SYMBOLS, readBits, resolveField, SYMBOLS, type FieldRef } from './fields.js';

// ---------------------------------------------------------------------------------------------------------------
// Syntax tree (what the text says; printable back)

/** A constant as written. */
export interface ConstNode {
  kind: 'int' | 'mac' | 'ip4' | 'ip6' | 'string' | 'addrset' | 'portgroup';
  /** Numeric value (int/mac/ip), or the name (string/addrset/portgroup) in `text`. */
  value?: bigint;
  mask?: bigint;
  prefix?: number;
  hex?: boolean;
  text: string;
}

export type SyntaxExpr =
  | { t: 'bool'; value: boolean }
  | { t: 'not'; x: SyntaxExpr }
  | { t: 'and' | 'or'; xs: SyntaxExpr[] }
  /** A field, subfield or predicate name used as a boolean, with an optional subscript. */
  | { t: 'sym'; name: string; sub?: { lo: number; hi: number } }
  | { t: 'cmp'; name: string; sub?: { lo: number; hi: number }; op: RelOp; values: ConstNode[]; set: boolean }
  /** `strings`: every argument was a quoted string. */
  | { t: 'call'; fn: string; args: string[]; strings?: boolean };

export type RelOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

const RELOPS: readonly string[] = ['==', '!=', '<', '<=', '>', '>='];
/** expr_relop_turn: `c < field` is `field > c`. */
const TURN: Record<RelOp, RelOp> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

class Parser {
  private i = 0;
  constructor(readonly text: string, readonly toks: Token[]) {}
  peek(): Token {
    return this.toks[this.i]!;
  }
  next(): Token {
    return this.toks[this.i++]!;
  }
  isOp(op: string): boolean {
    const t = this.peek();
    return t.type === 'op' && t.text === op;
  }
  expectOp(op: string): void {
    if (!this.isOp(op)) this.fail(`expecting '${op}'`);
    this.i++;
  }
  fail(msg: string): never {
    throw new LflowSyntaxError(this.text, this.peek().pos + 1, msg);
  }

  expr(): SyntaxExpr {
    const first = this.not();
    if (!this.isOp('&&') && !this.isOp('||')) return first;
    const op = this.peek().text;
    const xs = [first];
    while (this.isOp(op)) {
      this.i++;
      xs.push(this.not());
    }
    if (this.isOp('&&') || this.isOp('||')) this.fail('&& and || must be parenthesized when used together');
    return { t: op === '&&' ? 'and' : 'or', xs };
  }

  not(): SyntaxExpr {
    if (this.isOp('!')) {
      this.i++;
      return { t: 'not', x: this.not() };
    }
    return this.primary();
  }

  primary(): SyntaxExpr {
    const t = this.peek();
    if (this.isOp('(')) {
      this.i++;
      const e = this.expr();
      this.expectOp(')');
      return e;
    }
    // expr.c expr_parse_primary: a decimal, unmasked 0 or 1 with no relational operator after it is a boolean.
    if (t.type === 'int' && !t.hex && (t.value === 0n || t.value === 1n) && t.mask === undefined) {
      const after = this.toks[this.i + 1]!;
      if (!(after.type === 'op' && RELOPS.includes(after.text))) {
        this.i++;
        return { t: 'bool', value: t.value === 1n };
      }
    }
    // …and any other constant (or set) first is `c relop field`, or a range `c1 < field < c2` / `c1 > field > c2`
    // (each `<` may be `<=`, `>` `>=`), the first relation turned to read from the field.
    if (t.type !== 'id' && (t.type !== 'op' || t.text === '{')) return this.constantFirst();
    if (t.type !== 'id') this.fail('syntax error, expecting field name');
    this.i++;
    if (this.isOp('(')) {
      this.i++;
      const args: string[] = [];
      let strings = true;
      while (!this.isOp(')')) {
        const a = this.next();
        if (a.type === 'end') this.fail("expecting ')'");
        if (a.type === 'op' && a.text === ',') continue;
        if (a.type !== 'string') strings = false;
        args.push(a.text);
      }
      this.i++;
      return { t: 'call', fn: t.text, args, strings };
    }
    const sub = this.subscript();
    const op = this.peek();
    if (op.type === 'op' && RELOPS.includes(op.text)) {
      this.i++;
      const { values, set } = this.constants();
      return { t: 'cmp', name: t.text, ...(sub ? { sub } : {}), op: op.text as RelOp, values, set };
    }
    return { t: 'sym', name: t.text, ...(sub ? { sub } : {}) };
  }

  private relop(): RelOp {
    const op = this.peek();
    if (op.type !== 'op' || !RELOPS.includes(op.text)) this.fail('expecting relational operator');
    this.i++;
    return op.text as RelOp;
  }

  private constantFirst(): SyntaxExpr {
    const c1 = this.constants();
    const r1 = this.relop();
    const f = this.peek();
    if (f.type !== 'id') this.fail('syntax error, expecting field name');
    this.i++;
    const sub = this.subscript();
    const first: SyntaxExpr = { t: 'cmp', name: f.text, ...(sub ? { sub } : {}), op: TURN[r1], ...c1 };
    const after = this.peek();
    if (!(after.type === 'op' && RELOPS.includes(after.text))) return first;
    const r2 = this.relop();
    const c2 = this.constants();
    const lt = (r: RelOp): boolean => r === '<' || r === '<=';
    const gt = (r: RelOp): boolean => r === '>' || r === '>=';
    if (!((lt(r1) && lt(r2)) || (gt(r1) && gt(r2)))) this.fail("range expressions must have the form `x < field < y' or `x > field > y'");
    return { t: 'and', xs: [first, { t: 'cmp', name: f.text, ...(sub ? { sub } : {}), op: r2, ...c2 }] };
  }

  private subscript(): { lo: number; hi: number } | undefined {
    if (!this.isOp('[')) return undefined;
    this.i++;
    const lo = this.int();
    let hi = lo;
    if (this.isOp('..')) {
      this.i++;
      hi = this.int();
    }
    this.expectOp(']');
    return { lo, hi };
  }

  int(): number {
    const t = this.next();
    if (t.type !== 'int') this.fail('expecting integer');
    return Number(t.value);
  }

  constants(): { values: ConstNode[]; set: boolean } {
    if (this.isOp('{')) {
      this.i++;
      const values: ConstNode[] = [];
      // expr.c parse_constant_set: one constant at least (`{}` is "expecting constant"), commas optional.
      do {
        values.push(this.constant());
        if (this.isOp(',')) this.i++;
      } while (!this.isOp('}'));
      this.i++;
      return { values, set: true };
    }
    return { values: [this.constant()], set: false };
  }

  constant(): ConstNode {
    const t = this.next();
    switch (t.type) {
      case 'int':
      case 'mac':
      case 'ip4':
      case 'ip6':
        return { kind: t.type, value: t.value!, ...(t.mask !== undefined ? { mask: t.mask } : {}), ...(t.prefix !== undefined ? { prefix: t.prefix } : {}), ...(t.hex ? { hex: true } : {}), text: t.text };
      case 'string':
      case 'addrset':
      case 'portgroup':
        return { kind: t.type, text: t.text };
      default:
        this.i--;
        return this.fail('expecting constant');
    }
  }
}

/** Parses a match into its syntax tree; throws {@link LflowSyntaxError}. */
export function parseMatch(text: string): SyntaxExpr {
  const p = new Parser(text, tokenize(text));
  const e = p.expr();
  if (p.peek().type !== 'end') p.fail('syntax error at end of expression');
  return e;
}

/** Parses one token stream position onward (used by the action parser for embedded expressions). */
export function parseConstantText(text: string): ConstNode {
  const p = new Parser(text, tokenize(text));
  return p.constant();
}

function formatConst(c: ConstNode): string {
  switch (c.kind) {
    case 'string':
      return JSON.stringify(c.text);
    case 'addrset':
      return `$${c.text}`;
    case 'portgroup':
      return `@${c.text}`;
    default: {
      const base = c.text;
      if (c.mask === undefined) return base;
      if (c.prefix !== undefined) return `${base}/${c.prefix}`;
      return `${base}/0x${c.mask.toString(16)}`;
    }
  }
}

/** Prints a syntax tree back to OVN syntax (parenthesizing nested `&&`/`||`), so that parse∘print is identity. */
export function formatMatch(e: SyntaxExpr): string {
  switch (e.t) {
    case 'bool':
      return e.value ? '1' : '0';
    case 'not':
      return `!${e.x.t === 'and' || e.x.t === 'or' || e.x.t === 'cmp' ? `(${formatMatch(e.x)})` : formatMatch(e.x)}`;
    case 'and':
    case 'or':
      return e.xs.map((x) => (x.t === 'and' || x.t === 'or' ? `(${formatMatch(x)})` : formatMatch(x))).join(e.t === 'and' ? ' && ' : ' || ');
    case 'sym':
      return `${e.name}${e.sub ? fmtSub(e.sub) : ''}`;
    case 'cmp': {
      const vals = e.set ? `{${e.values.map(formatConst).join(', ')}}` : formatConst(e.values[0]!);
      return `${e.name}${e.sub ? fmtSub(e.sub) : ''} ${e.op} ${vals}`;
    }
    case 'call':
      return `${e.fn}(${e.args.map((a) => JSON.stringify(a)).join(', ')})`;
  }
}
const fmtSub = (s: { lo: number; hi: number }): string => (s.lo === s.hi ? `[${s.lo}]` : `[${s.lo}..${s.hi}]`);

// ---------------------------------------------------------------------------------------------------------------
// Lowering

/** What lowering needs from the Southbound: sets, groups and port keys of the datapath the flow runs on. */
export interface MatchEnv {
  addressSets: ReadonlyMap<string, readonly string[]>;
  portGroups: ReadonlyMap<string, readonly string[]>;
  /** Tunnel key of a port or multicast group of this datapath; undefined when unknown here. */
  portKey(name: string): number | undefined;
}

/**
 * A lowered match: comparisons are over bits of the flow words; `ne` is "some masked bit differs".
 * `masks`/`vals` are per word of the field's run starting at `word`.
 */
export type LowExpr =
  | { t: 'const'; value: boolean }
  | { t: 'cmp'; word: number; masks: number[]; vals: number[]; ne: boolean; ref: FieldRef; text: string }
  | { t: 'rel'; word: number; lo: number; width: number; op: '<' | '<=' | '>' | '>='; value: number }
  | { t: 'and' | 'or'; xs: LowExpr[] }
  | { t: 'resident'; port: string; neg: boolean }
  /** One word under one mask equal to any of a few values (what `x == {a, b}` and `ip4 || ip6` become). */
  | { t: 'in'; word: number; mask: number; values: number[] };

const TRUE: LowExpr = { t: 'const', value: true };
const FALSE: LowExpr = { t: 'const', value: false };

function and(xs: LowExpr[]): LowExpr {
  const flat: LowExpr[] = [];
  for (const x of xs) {
    if (x.t === 'const') {
      if (!x.value) return FALSE;
      continue;
    }
    if (x.t === 'and') flat.push(...x.xs);
    else flat.push(x);
  }
  return flat.length === 0 ? TRUE : flat.length === 1 ? flat[0]! : { t: 'and', xs: flat };
}
function or(xs: LowExpr[]): LowExpr {
  const flat: LowExpr[] = [];
  for (const x of xs) {
    if (x.t === 'const') {
      if (x.value) return TRUE;
      continue;
    }
    if (x.t === 'or') flat.push(...x.xs);
    else flat.push(x);
  }
  return flat.length === 0 ? FALSE : flat.length === 1 ? flat[0]! : { t: 'or', xs: flat };
}

const prereqCache = new Map<string, LowExpr>();
const emptyEnv: MatchEnv = { addressSets: new Map(), portGroups: new Map(), portKey: () => undefined };

function prereqOf(ref: FieldRef): LowExpr {
  const parts: LowExpr[] = [];
  for (const p of ref.prereqs) {
    let low = prereqCache.get(p);
    if (!low) {
      low = lower(parseMatch(p), emptyEnv, false);
      prereqCache.set(p, low);
    }
    parts.push(low);
  }
  return and(parts);
}

/** A symbol OVN 23.03 does not know is its refusal; one it knows that vippath does not model is unsupported. */
function unknownSymbol(name: string, text: string): never {
  if (OVN_UNMODELLED_SYMBOLS.has(name)) throw new LflowUnsupportedError(text, name, `OVN's field ${name} is not supported by vippath`);
  throw new LflowSyntaxError(text, 1, `unknown field ${name}`, LflowRefusal.UNKNOWN_NAME);
}

function refOf(name: string, sub: { lo: number; hi: number } | undefined, text: string): FieldRef {
  const ref = resolveField(name);
  if (!ref) return unknownSymbol(name, text);
  if (!sub) return ref;
  if (sub.hi < sub.lo || sub.hi >= ref.width) throw new LflowSyntaxError(text, 1, `${name}[${sub.lo}..${sub.hi}] is outside the ${ref.width}-bit field`, LflowRefusal.TYPE);
  return { ...ref, lo: ref.lo + sub.lo, width: sub.hi - sub.lo + 1, subscript: sub };
}

/** Splits a (value, mask) of the reference's width into per-word masks and values of the underlying field. */
function wordsOf(ref: FieldRef, value: bigint, mask: bigint): { masks: number[]; vals: number[] } {
  const nWords = Math.ceil(ref.field.width / 32);
  const full = (1n << BigInt(ref.width)) - 1n;
  const m = (mask & full) << BigInt(ref.lo);
  const v = (value & mask & full) << BigInt(ref.lo);
  const masks: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < nWords; i++) {
    masks.push(Number((m >> BigInt(32 * i)) & 0xffffffffn));
    vals.push(Number((v >> BigInt(32 * i)) & 0xffffffffn));
  }
  return { masks, vals };
}

function constValues(c: ConstNode, env: MatchEnv, text: string): ConstNode[] {
  if (c.kind === 'addrset') {
    const set = env.addressSets.get(c.text);
    if (!set) throw new LflowSyntaxError(text, 1, `unknown address set $${c.text}`, LflowRefusal.UNKNOWN_NAME);
    return set.map((a) => {
      const toks = tokenize(a);
      const t = toks[0]!;
      return { kind: t.type as ConstNode['kind'], value: t.value, ...(t.mask !== undefined ? { mask: t.mask } : {}), text: t.text };
    });
  }
  return [c];
}

/**
 * expr.c make_cmp / parse_field's refusals: a set or a nominal field takes only `==`/`!=`; a nominal field only
 * `==` (`!=` under an odd number of `!`), and no subfield of it.
 */
function nominalCheck(e: Extract<SyntaxExpr, { t: 'cmp' }>, ref: FieldRef, neg: boolean, text: string): void {
  const nominal = ref.field.nominal === true;
  if (nominal && e.sub && (e.sub.lo !== 0 || e.sub.hi !== ref.field.width - 1)) throw new LflowSyntaxError(text, 1, `cannot select subfield of nominal field ${e.name}`, LflowRefusal.TYPE);
  if (e.op !== '==' && e.op !== '!=') {
    if (e.set) throw new LflowSyntaxError(text, 1, 'only == and != operators may be used with value sets', LflowRefusal.TYPE);
    if (nominal) throw new LflowSyntaxError(text, 1, `only == and != operators may be used with nominal field ${e.name}`, LflowRefusal.TYPE);
  } else if (nominal && e.op !== (neg ? '!=' : '==')) {
    throw new LflowSyntaxError(text, 1, `nominal field ${e.name} may only be tested for equality (taking enclosing \`!' operators into account)`, LflowRefusal.TYPE);
  }
}

function lowerCmp(e: Extract<SyntaxExpr, { t: 'cmp' }>, env: MatchEnv, neg: boolean, text: string): LowExpr {
  const ref = refOf(e.name, e.sub, text);
  // OVN's order: the constant set parsed (an unknown $set or @group refused there), then make_cmp's type_check, then
  // its operator checks.
  for (const c of e.values) {
    if (c.kind === 'portgroup' && !env.portGroups.has(c.text)) throw new LflowSyntaxError(text, 1, `unknown port group @${c.text}`, LflowRefusal.UNKNOWN_NAME);
  }
  if (!ref.field.string) {
    for (const c of e.values) if (c.kind === 'addrset') constValues(c, env, text);
  }
  nominalCheck(e, ref, neg, text);
  const pre = prereqOf(ref);
  let op = e.op;
  if (neg) op = ({ '==': '!=', '!=': '==', '<': '>=', '<=': '>', '>': '<=', '>=': '<' } as const)[op];
  if (ref.field.string) {
    const names: string[] = [];
    for (const c of e.values) {
      if (c.kind === 'portgroup') {
        // expr.c parse_port_group: a group the Southbound lacks is a refusal ("expecting port group name").
        const group = env.portGroups.get(c.text);
        if (!group) throw new LflowSyntaxError(text, 1, `unknown port group @${c.text}`, LflowRefusal.UNKNOWN_NAME);
        names.push(...group);
      }
      else if (c.kind === 'string') names.push(c.text);
      else throw new LflowSyntaxError(text, 1, `${e.name} takes port names`, LflowRefusal.TYPE);
    }
    const parts: LowExpr[] = [];
    for (const name of names) {
      const key = name === '' || name === 'none' ? 0 : env.portKey(name);
      if (key === undefined) continue; // an unknown port never matches
      const { masks, vals } = wordsOf(ref, BigInt(key), 0xffffffffn);
      parts.push({ t: 'cmp', word: ref.field.word, masks, vals, ne: op === '!=', ref, text: `${e.name} == "${name}"` });
    }
    return and([op === '==' ? or(parts) : and(parts), pre]);
  }
  const values = e.values.flatMap((c) => constValues(c, env, text));
  // expr.c type_check: against the symbol's width (a subscript's bits are then cut out of the value, make_cmp__).
  const symbolWidth = resolveField(e.name)!.width;
  for (const c of values) {
    if (c.value === undefined) throw new LflowSyntaxError(text, 1, `${e.name} is not a string field`, LflowRefusal.TYPE);
    const w = constantWidth(c.kind, c.value, c.mask);
    if (w > symbolWidth) throw new LflowSyntaxError(text, 1, `${w}-bit constant ${c.text} is not compatible with ${symbolWidth}-bit field ${e.name}`, LflowRefusal.TYPE);
  }
  if (op === '==' || op === '!=') {
    const parts = values.map((c): LowExpr => {
      const mask = c.mask ?? (1n << BigInt(ref.width)) - 1n;
      const { masks, vals } = wordsOf(ref, c.value!, mask);
      return { t: 'cmp', word: ref.field.word, masks, vals, ne: op === '!=', ref, text: c.text };
    });
    return and([op === '==' ? or(parts) : and(parts), pre]);
  }
  // expr.c make_cmp: OVN refuses an order comparison with a set or a masked constant; a wider field it takes, and
  // vippath does not model (no flow northd writes compares one).
  if (values.length !== 1 || values[0]!.mask !== undefined) throw new LflowSyntaxError(text, 1, `only == and != take a set or a masked constant (${op})`, LflowRefusal.TYPE);
  if (ref.width > 32) throw new LflowUnsupportedError(text, `${e.name} ${op}`, `an order comparison of the ${ref.width}-bit field ${e.name} is not supported by vippath`);
  return and([{ t: 'rel', word: ref.field.word, lo: ref.lo, width: ref.width, op, value: Number(values[0]!.value! & ((1n << BigInt(ref.width)) - 1n)) }, pre]);
}

/** Lowers a syntax tree for one datapath (`neg`: the tree sits under an odd number of `!`). */
export function lower(e: SyntaxExpr, env: MatchEnv, neg = false, text = ''): LowExpr {
  switch (e.t) {
    case 'bool':
      return e.value !== neg ? TRUE : FALSE;
    case 'not':
      return lower(e.x, env, !neg, text);
    case 'and':
    case 'or': {
      // A construct vippath does not model is reported only when the rest parses: where OVN refuses a later
      // operand the flow is skipped, as OVN skips it.
      let unsupported: LflowUnsupportedError | undefined;
      const xs = e.xs.map((x) => {
        try {
          return lower(x, env, neg, text);
        } catch (err) {
          if (!(err instanceof LflowUnsupportedError)) throw err;
          unsupported ??= err;
          return TRUE;
        }
      });
      if (unsupported) throw unsupported;
      return (e.t === 'and') !== neg ? and(xs) : or(xs);
    }
    case 'sym': {
      const def = SYMBOLS.get(e.name);
      if (!def) return unknownSymbol(e.name, text);
      if (def.kind === 'predicate') {
        if (e.sub) throw new LflowSyntaxError(text, 1, `predicate ${e.name} takes no subscript`, LflowRefusal.TYPE);
        return lower(parseMatch(def.expansion), env, neg, def.expansion);
      }
      const ref = refOf(e.name, e.sub, text);
      if (ref.field.string) throw new LflowSyntaxError(text, 1, `${e.name} is a string field: compare it with a port name`);
      // expr.c expr_parse_primary: a multibit field alone is `field != 0`, allowed only under an odd number of `!`
      // (so it reads `field == 0`); otherwise "Explicit `!= 0' is required".
      if (ref.width !== 1 && !neg) throw new LflowSyntaxError(text, 1, `${e.name} is ${ref.width} bits wide: compare it with a value`, LflowRefusal.TYPE);
      if (ref.width !== 1) {
        const { masks, vals } = wordsOf(ref, 0n, (1n << BigInt(ref.width)) - 1n);
        return and([{ t: 'cmp', word: ref.field.word, masks, vals, ne: false, ref, text: '0' }, prereqOf(ref)]);
      }
      const { masks, vals } = wordsOf(ref, 1n, 1n);
      return and([{ t: 'cmp', word: ref.field.word, masks, vals, ne: neg, ref, text: '1' }, prereqOf(ref)]);
    }
    case 'cmp':
      return lowerCmp(e, env, neg, text);
    case 'call':
      if (e.fn !== 'is_chassis_resident') throw new LflowSyntaxError(text, 1, `unknown function ${e.fn}`, LflowRefusal.UNKNOWN_NAME);
      if (e.args.length !== 1) throw new LflowSyntaxError(text, 1, 'is_chassis_resident takes one port name');
      // expr.c parse_chassis_resident: a string ("expecting string" for a bare name).
      if (!e.strings) throw new LflowSyntaxError(text, 1, 'is_chassis_resident takes a quoted port name');
      return { t: 'resident', port: e.args[0]!, neg };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Simplification (what expr_simplify/expr_normalize buy OVN: prerequisites appear once)

function keyOf(e: LowExpr): string {
  switch (e.t) {
    case 'const':
      return e.value ? 'T' : 'F';
    case 'cmp':
      return `c${e.ne ? '!' : '='}${e.word}:${e.masks.join(',')}:${e.vals.join(',')}`;
    case 'rel':
      return `r${e.word}:${e.lo}:${e.width}${e.op}${e.value}`;
    case 'resident':
      return `R${e.neg ? '!' : ''}${e.port}`;
    case 'in':
      return `i${e.word}:${e.mask}:${e.values.join(',')}`;
    default:
      return `${e.t}(${e.xs.map(keyOf).join(';')})`;
  }
}

/** A single-word equality's (word, mask, value), if `e` is one. */
function single(e: LowExpr): { word: number; mask: number; value: number } | undefined {
  if (e.t !== 'cmp' || e.ne) return undefined;
  let found: { word: number; mask: number; value: number } | undefined;
  for (let i = 0; i < e.masks.length; i++) {
    if (e.masks[i] === 0) continue;
    if (found) return undefined;
    found = { word: e.word + i, mask: e.masks[i]!, value: e.vals[i]! };
  }
  return found;
}

/**
 * Removes what OVN's simplifier removes: duplicate terms (every `tcp.dst` brings `ip.proto == 6` and `ip`),
 * disjunctions implied by a term beside them (`ip` next to `eth.type == 0x86dd`), contradictory equalities, and
 * turns disjunctions of one word's values into a set test. Semantics are unchanged; evaluation gets cheaper.
 */
export function simplify(e: LowExpr): LowExpr {
  if (e.t === 'and') {
    const terms: LowExpr[] = [];
    const seen = new Set<string>();
    const push = (x: LowExpr): boolean => {
      if (x.t === 'const') return x.value;
      if (x.t === 'and') {
        for (const y of x.xs) if (!push(y)) return false;
        return true;
      }
      const k = keyOf(x);
      if (!seen.has(k)) {
        seen.add(k);
        terms.push(x);
      }
      return true;
    };
    for (const x of e.xs) if (!push(simplify(x))) return FALSE;
    // Equalities on one word must agree.
    const fixed = new Map<number, { mask: number; value: number }>();
    for (const t of terms) {
      const s1 = single(t);
      if (!s1) continue;
      const prev = fixed.get(s1.word);
      if (prev && ((prev.value ^ s1.value) & prev.mask & s1.mask) !== 0) return FALSE;
      fixed.set(s1.word, prev ? { mask: (prev.mask | s1.mask) >>> 0, value: (prev.value | s1.value) >>> 0 } : s1);
    }
    const implied = (x: LowExpr): boolean => {
      if (x.t === 'in') {
        const f = fixed.get(x.word);
        return f !== undefined && (f.mask & x.mask) === x.mask && x.values.includes((f.value & x.mask) >>> 0);
      }
      return x.t === 'or' && x.xs.some((d) => seen.has(keyOf(d)) || implied(d));
    };
    const kept = terms.filter((t) => !(t.t === 'or' || t.t === 'in') || !implied(t));
    // Cheap single-word tests first.
    kept.sort((a, b) => rank(a) - rank(b));
    return kept.length === 0 ? TRUE : kept.length === 1 ? kept[0]! : { t: 'and', xs: kept };
  }
  if (e.t === 'or') {
    const terms: LowExpr[] = [];
    const seen = new Set<string>();
    for (const x0 of e.xs) {
      const x = simplify(x0);
      if (x.t === 'const') {
        if (x.value) return TRUE;
        continue;
      }
      for (const y of x.t === 'or' ? x.xs : [x]) {
        const k = keyOf(y);
        if (!seen.has(k)) {
          seen.add(k);
          terms.push(y);
        }
      }
    }
    // Equalities of one word under one mask → one set test.
    const groups = new Map<string, { word: number; mask: number; values: number[] }>();
    const rest: LowExpr[] = [];
    for (const t of terms) {
      const s1 = single(t);
      if (s1) {
        const g = groups.get(`${s1.word}/${s1.mask}`) ?? { word: s1.word, mask: s1.mask, values: [] };
        g.values.push(s1.value);
        groups.set(`${s1.word}/${s1.mask}`, g);
      } else if (t.t === 'in') {
        const g = groups.get(`${t.word}/${t.mask}`) ?? { word: t.word, mask: t.mask, values: [] };
        g.values.push(...t.values);
        groups.set(`${t.word}/${t.mask}`, g);
      } else rest.push(t);
    }
    const out: LowExpr[] = [...[...groups.values()].map((g): LowExpr => ({ t: 'in', word: g.word, mask: g.mask, values: [...new Set(g.values)] })), ...rest];
    return out.length === 0 ? FALSE : out.length === 1 ? out[0]! : { t: 'or', xs: out };
  }
  return e;
}

function rank(e: LowExpr): number {
  return e.t === 'cmp' ? (single(e) ? 0 : 1) : e.t === 'in' ? 2 : e.t === 'rel' ? 3 : e.t === 'resident' ? 4 : 5;
}

// ---------------------------------------------------------------------------------------------------------------
// Compilation

/** Context a compiled match reads besides the flow words (set once per packet by the executor). */
export interface MatchContext {
  /** `is_chassis_resident(port)` for the packet's chassis. */
  isResident(port: string): boolean;
}

export type CompiledMatch = (w: Uint32Array, ctx: MatchContext) => boolean;

/** Compiles a lowered match into a closure (made once per flow; evaluating it allocates nothing). */
export function compile(e: LowExpr): CompiledMatch {
  switch (e.t) {
    case 'const':
      return e.value ? () => true : () => false;
    case 'cmp': {
      const { word, ne } = e;
      const idx: number[] = [];
      const ms: number[] = [];
      const vs: number[] = [];
      e.masks.forEach((m, i) => {
        if (m !== 0) {
          idx.push(word + i);
          ms.push(m);
          vs.push(e.vals[i]!);
        }
      });
      if (idx.length === 1) {
        const [w0, m0, v0] = [idx[0]!, ms[0]!, vs[0]!];
        return ne ? (w) => ((w[w0]! & m0) >>> 0) !== v0 : (w) => ((w[w0]! & m0) >>> 0) === v0;
      }
      if (idx.length === 0) return ne ? () => false : () => true;
      const I = Int32Array.from(idx);
      const M = Uint32Array.from(ms);
      const V = Uint32Array.from(vs);
      return (w) => {
        for (let i = 0; i < I.length; i++) if (((w[I[i]!]! & M[i]!) >>> 0) !== V[i]) return ne;
        return !ne;
      };
    }
    case 'rel': {
      const { word, lo, width, value } = e;
      switch (e.op) {
        case '<':
          return (w) => readBits(w, word, lo, width) < value;
        case '<=':
          return (w) => readBits(w, word, lo, width) <= value;
        case '>':
          return (w) => readBits(w, word, lo, width) > value;
        case '>=':
          return (w) => readBits(w, word, lo, width) >= value;
      }
      break;
    }
    case 'and': {
      const fs = e.xs.map(compile);
      if (fs.length === 2) {
        const [a, b] = fs as [CompiledMatch, CompiledMatch];
        return (w, c) => a(w, c) && b(w, c);
      }
      return (w, c) => {
        for (let i = 0; i < fs.length; i++) if (!fs[i]!(w, c)) return false;
        return true;
      };
    }
    case 'or': {
      const fs = e.xs.map(compile);
      return (w, c) => {
        for (let i = 0; i < fs.length; i++) if (fs[i]!(w, c)) return true;
        return false;
      };
    }
    case 'resident': {
      const { port, neg } = e;
      return (_w, c) => c.isResident(port) !== neg;
    }
    case 'in': {
      const { word, mask } = e;
      if (e.values.length === 1) {
        const v0 = e.values[0]!;
        return (w) => ((w[word]! & mask) >>> 0) === v0;
      }
      if (e.values.length === 2) {
        const [v0, v1] = e.values as [number, number];
        return (w) => {
          const v = (w[word]! & mask) >>> 0;
          return v === v0 || v === v1;
        };
      }
      const set = new Set(e.values);
      return (w) => set.has((w[word]! & mask) >>> 0);
    }
  }
  throw new Error('unreachable');
}

/** Parses, lowers and compiles a match for one datapath. */
export function compileMatch(text: string, env: MatchEnv): { low: LowExpr; fn: CompiledMatch } {
  const low = simplify(lower(parseMatch(text), env, false, text));
  return { low, fn: compile(low) };
}

/**
 * Equality constraints a lowered expression puts on the flow when it holds, following the first consistent
 * branch of every `||` (how a microflow in ovn-trace's syntax determines a packet: each `field == value` sets the
 * field, prerequisites fill in the rest — `nd_ns` sets ip.ttl = 255). Returns undefined when nothing satisfies it.
 */
export function solve(e: LowExpr, words: Uint32Array, fixed: Uint32Array, ctx: MatchContext): boolean {
  const checks: LowExpr[] = [];
  const ok = assign(e, words, fixed, checks);
  if (!ok) return false;
  for (const c of checks) if (!compile(c)(words, ctx)) return false;
  return true;
}

function assign(e: LowExpr, w: Uint32Array, fixed: Uint32Array, checks: LowExpr[]): boolean {
  switch (e.t) {
    case 'const':
      return e.value;
    case 'cmp':
      if (e.ne) {
        checks.push(e);
        return true;
      }
      for (let i = 0; i < e.masks.length; i++) {
        const m = e.masks[i]!;
        const at = e.word + i;
        if (((fixed[at]! & m) >>> 0) !== 0 && ((w[at]! & fixed[at]! & m) >>> 0) !== ((e.vals[i]! & fixed[at]!) >>> 0)) return false;
      }
      for (let i = 0; i < e.masks.length; i++) {
        const m = e.masks[i]!;
        const at = e.word + i;
        w[at] = ((w[at]! & ~m) | e.vals[i]!) >>> 0;
        fixed[at] = (fixed[at]! | m) >>> 0;
      }
      return true;
    case 'in': {
      const at = e.word;
      if (((fixed[at]! & e.mask) >>> 0) === e.mask) {
        checks.push(e);
        return true;
      }
      w[at] = ((w[at]! & ~e.mask) | e.values[0]!) >>> 0;
      fixed[at] = (fixed[at]! | e.mask) >>> 0;
      return true;
    }
    case 'rel':
    case 'resident':
      checks.push(e);
      return true;
    case 'and':
      // Plain comparisons first, so that a disjunction (a prerequisite such as `ip4 || ip6`) picks the branch the
      // rest of the conjunction already decided.
      for (const x of e.xs) if (x.t !== 'or' && !assign(x, w, fixed, checks)) return false;
      for (const x of e.xs) if (x.t === 'or' && !assign(x, w, fixed, checks)) return false;
      return true;
    case 'or': {
      for (const x of e.xs) {
        const w2 = w.slice();
        const f2 = fixed.slice();
        const c2: LowExpr[] = [];
        if (assign(x, w2, f2, c2)) {
          w.set(w2);
          fixed.set(f2);
          checks.push(...c2);
          return true;
        }
      }
      return false;
    }
  }
}
