/**
 * OVN's action language (ovn lib/actions.c, branch-23.03), the actions logical switch flows use: parsed once at
 * load into a small tree, each node with its canonical text (`ovnacts_format`, which is what ovn-trace prints)
 * and the prerequisites it adds to the flow's match (`add_prerequisite`: `ip` for every ct action, `ip4` for
 * `arp {…}`, `nd_ns` for `nd_na {…}`, the assigned field's own prerequisites).
 * @module
 */
import { formatIPv6Ntop } from '@vippath/wire';
import { constantWidth, LflowRefusal, LflowSyntaxError, LflowUnsupportedError, tokenize, type LflowRefusalCode, type Token } from './lexer.js';
import { OVN_UNMODELLED_SYMBOLS, resolveField, type FieldRef } from './fields.js';
import type { Pipeline } from './types.js';

/** An `ip:port` backend of `ct_lb_mark(backends=…)`. */
export interface LbBackend {
  ipv6: boolean;
  /** 16 bytes; IPv4 in the first 4. */
  addr: Uint8Array;
  /** IPv4 as uint32 (0 for IPv6). */
  ip4: number;
  port: number;
  text: string;
}

/** Actions that run their nested actions on a new packet (or, for `clone`, a copy). */
export type NestFn = 'arp' | 'nd_na' | 'nd_na_router' | 'clone' | 'reject' | 'icmp4' | 'icmp4_error' | 'icmp6' | 'icmp6_error' | 'tcp_reset';

export type Action =
  | { k: 'next'; pipeline: Pipeline; table: number; text: string }
  | { k: 'output'; text: string }
  | { k: 'drop'; text: string }
  /** `dst = constant` (a port name for `inport`/`outport`). */
  | { k: 'load'; dst: FieldRef; value: bigint; port?: string; text: string }
  | { k: 'move'; dst: FieldRef; src: FieldRef; text: string }
  | { k: 'exchange'; a: FieldRef; b: FieldRef; text: string }
  | { k: 'ct_next'; text: string }
  | { k: 'ct_clear'; text: string }
  | { k: 'ct_commit'; nested: Action[]; text: string }
  | { k: 'ct_commit_nat'; text: string }
  /**
   * `ct_dnat(IP[, LO[-HI]])` / `ct_snat(…)` (actions.c parse_ct_nat): with an address, commit and NAT to it, the
   * port from `portLo` to `portHi` (`portHi` 0: the one port `portLo`; `portLo` 0: the port is kept).
   */
  | { k: 'ct_dnat' | 'ct_snat'; to?: { ipv6: boolean; addr: Uint8Array; ip4: number; portLo: number; portHi: number }; text: string }
  /**
   * `ct_lb_mark(…)` / `ct_lb(…)` (actions.c parse_ct_lb_action): one parser and one `ct()`, the two differing only in
   * where the commit's flags go — ct_mark for ct_lb_mark, ct_label for ct_lb (encode_ct_lb's `flag_reg`). northd 23.03
   * writes ct_lb when a chassis lacks `ct-no-masked-label` (northd.c build_chassis_features), as in a cluster
   * whose chassis are not all upgraded.
   */
  | { k: 'ct_lb_mark' | 'ct_lb'; backends: LbBackend[]; hashFields?: string; flag?: 'skip_snat' | 'force_snat'; text: string }
  | { k: 'ct_snat_to_vip'; text: string }
  /**
   * [24.03] `dst = ct_nw_dst()` / `ct_ip6_dst()` / `ct_tp_dst()` (actions.c ef8f5c1ac parse_CT_ORIG_NW_DST …): the
   * connection's original destination, loaded only for a tracked, established packet of the family.
   */
  | { k: 'ct_orig'; src: 'ct_nw_dst' | 'ct_ip6_dst' | 'ct_tp_dst'; dst: FieldRef; text: string }
  | { k: 'result'; fn: 'chk_lb_hairpin' | 'chk_lb_hairpin_reply' | 'check_in_port_sec' | 'check_out_port_sec' | 'chk_lb_aff'; dst: FieldRef; text: string }
  /** Learns "this client → this backend" for `timeout` seconds (actions.c parse_commit_lb_aff). */
  | { k: 'commit_lb_aff'; vip: LbBackend; backend: LbBackend; proto: number; timeout: number; text: string }
  | { k: 'get_fdb'; dst: FieldRef; mac: FieldRef; text: string }
  | { k: 'lookup_fdb'; dst: FieldRef; port: FieldRef; mac: FieldRef; text: string }
  | { k: 'put_fdb'; port: FieldRef; mac: FieldRef; text: string }
  | { k: 'nest'; fn: NestFn; nested: Action[]; text: string }
  | { k: 'handle_svc_check'; port: FieldRef; text: string }
  | { k: 'dec_ttl'; text: string }
  /** Actions ovn-trace treats as no-ops here (`log`, `set_meter`, `igmp`…): kept so traces show them. */
  | { k: 'noop'; text: string }
  /**
   * An action OVN 23.03 runs and vippath does not model (`put_dhcp_opts`, `dns_lookup`, `put_arp`, `nd_ns`…):
   * the flow loads and keeps its place in the table; a packet whose walk reaches the action is dropped there with
   * `DropReason.UNMODELLED_ACTION`. `name` as OVN spells the action (no `()`); `pinctrl`: OVN hands the packet to
   * ovn-controller ({@link PINCTRL_ACTIONS}).
   */
  | { k: 'unmodelled'; name: string; pinctrl: boolean; text: string };

/**
 * The unmodelled actions that OVN compiles to an OpenFlow `controller` action, i.e. hands the packet to
 * ovn-controller's pinctrl (OVN v23.03.1 lib/actions.c: encode_PUT_DHCPV4_OPTS, encode_PUT_DHCPV6_OPTS,
 * encode_put_nd_ra_opts and encode_DNS_LOOKUP through encode_start_controller_op with pause=true — pinctrl answers
 * and resumes the packet with the result bit set —; encode_put_mac (put_arp, put_nd), encode_ND_NS and
 * encode_SCTP_ABORT through encode_nested_actions/encode_controller_op, encode_DHCP6_REPLY, encode_BFD_MSG). The
 * others (push/pop, ct_*_in_czone, set_queue, lookup_arp…) are OVS datapath actions vippath does not run.
 */
export const PINCTRL_ACTIONS: ReadonlySet<string> = new Set(['put_dhcp_opts', 'put_dhcpv6_opts', 'put_nd_ra_opts', 'dns_lookup', 'put_arp', 'put_nd', 'nd_ns', 'sctp_abort', 'handle_dhcpv6_reply', 'handle_bfd_msg']);

/**
 * The prerequisite OVN 23.03 adds for an unmodelled action (lib/actions.c add_prerequisite: parse_CT_COMMIT_V1 and
 * parse_ct_nat `ip`, parse_SCTP_ABORT `sctp`, parse_ND_NS and parse_put_nd_ra_opts `ip6`, parse_DNS_LOOKUP `udp`),
 * so that the flow matches exactly the packets it matches in OVN.
 */
const UNMODELLED_PREREQ: Readonly<Record<string, string>> = { 'ct_commit': 'ip', 'ct_dnat_in_czone': 'ip', 'ct_snat_in_czone': 'ip', 'sctp_abort': 'sctp', 'nd_ns': 'ip6', 'put_nd_ra_opts': 'ip6', 'dns_lookup': 'udp' };

/** The first {@link Action} of kind `unmodelled` in a parsed action list, nested ones included ({@link unmodelledActions}). */
export function unmodelledIn(actions: readonly Action[]): Extract<Action, { k: 'unmodelled' }> | undefined {
  return unmodelledActions(actions)[0];
}

/** Every {@link Action} of kind `unmodelled` in a parsed action list, in text order, nested ones (`clone { … }`, `ct_commit { … }`…) included. */
export function unmodelledActions(actions: readonly Action[], out: Extract<Action, { k: 'unmodelled' }>[] = []): Extract<Action, { k: 'unmodelled' }>[] {
  for (const a of actions) {
    if (a.k === 'unmodelled') out.push(a);
    else if (a.k === 'nest' || a.k === 'ct_commit') unmodelledActions(a.nested, out);
  }
  return out;
}

/**
 * Actions OVN 23.03 parses (lib/actions.c parse_action, and parse_set_action's `dst = fn(…)` forms, given as
 * `fn()`), so that one vippath lacks loads as an `unmodelled` action and is not taken for a refusal.
 */
export const OVN_ACTIONS: ReadonlySet<string> = new Set([
  'next', 'push', 'pop', 'output', 'ct_next', 'ct_commit', 'ct_dnat', 'ct_snat', 'ct_dnat_in_czone', 'ct_snat_in_czone',
  'ct_lb', 'ct_lb_mark', 'ct_clear', 'ct_commit_nat', 'clone', 'arp', 'icmp4', 'icmp4_error', 'icmp6', 'icmp6_error', 'igmp',
  'tcp_reset', 'sctp_abort', 'nd_na', 'nd_na_router', 'nd_ns', 'get_arp', 'put_arp', 'get_nd', 'put_nd', 'set_queue', 'log',
  'set_meter', 'trigger_event', 'bind_vport', 'handle_svc_check', 'fwd_group', 'handle_dhcpv6_reply', 'handle_bfd_msg', 'reject',
  'ct_snat_to_vip', 'put_fdb', 'commit_ecmp_nh', 'commit_lb_aff', 'sample',
  'select()', 'put_dhcp_opts()', 'put_dhcpv6_opts()', 'dns_lookup()', 'put_nd_ra_opts()', 'check_pkt_larger()', 'lookup_arp()',
  'lookup_nd()', 'lookup_arp_ip()', 'lookup_nd_ip()', 'chk_lb_hairpin()', 'chk_lb_hairpin_reply()', 'get_fdb()', 'lookup_fdb()',
  'check_in_port_sec()', 'check_out_port_sec()', 'chk_ecmp_nh_mac()', 'chk_ecmp_nh()', 'chk_lb_aff()',
]);

/** A flow's actions, parsed: the list, and the prerequisites to AND into its match. */
export interface ParsedActions {
  actions: Action[];
  prereqs: string[];
}

interface Ctx {
  text: string;
  toks: Token[];
  i: number;
  pipeline: Pipeline;
  table: number;
  prereqs: string[];
  /** LOG_PIPELINE_LEN of the OVN release (ovn-controller's and ovn-trace's n_tables). */
  tables: number;
  /** Inside `ct_commit { … }` (OVN's WR_CT_COMMIT write scope). */
  ctCommit?: boolean;
}

const peek = (c: Ctx): Token => c.toks[c.i]!;
const isOp = (c: Ctx, op: string): boolean => peek(c).type === 'op' && peek(c).text === op;
const fail = (c: Ctx, msg: string, refusal: LflowRefusalCode = LflowRefusal.SYNTAX): never => {
  throw new LflowSyntaxError(c.text, peek(c).pos + 1, msg, refusal);
};
/** A name OVN 23.03 does not know is its refusal; one it knows that vippath does not model is unsupported. */
const unknownName = (c: Ctx, name: string, what: 'field' | 'action'): never => {
  if (what === 'field' ? OVN_UNMODELLED_SYMBOLS.has(name) : OVN_ACTIONS.has(name)) {
    throw new LflowUnsupportedError(c.text, name, `OVN's ${what} ${name} is not supported by vippath`);
  }
  return fail(c, `unknown ${what} ${name}`, LflowRefusal.UNKNOWN_NAME);
};

/**
 * An action OVN 23.03 has and vippath does not model, at its name (`name` as OVN_ACTIONS spells it; `lead`: the
 * text before it, `dst = ` of a result action): its arguments passed over — every such action's arguments are a
 * balanced `( … )` and/or `{ … }` before its `;` (lib/actions.c: parse_put_mac_binding, parse_nested_action,
 * parse_fwd_group_action…) — so that a later action OVN refuses still skips the flow as OVN does. What the passed
 * arguments hold is not checked: a flow whose only fault is there loads (and drops what reaches it) where OVN
 * would skip it.
 */
function unmodelledAction(c: Ctx, name: string, lead = ''): Action {
  if (!OVN_ACTIONS.has(name)) return unknownName(c, name, 'action');
  const start = peek(c).pos;
  c.i++;
  if (isOp(c, '(')) skipBalanced(c, '(', ')');
  if (isOp(c, '{')) skipBalanced(c, '{', '}');
  const bare = name.endsWith('()') ? name.slice(0, -2) : name;
  const pre = UNMODELLED_PREREQ[bare];
  if (pre) c.prereqs.push(pre);
  return { k: 'unmodelled', name: bare, pinctrl: PINCTRL_ACTIONS.has(bare), text: `${lead}${c.text.slice(start, c.toks[c.i - 1]!.pos + 1)};` };
}
const expectOp = (c: Ctx, op: string): void => {
  if (!isOp(c, op)) fail(c, `expecting '${op}'`);
  c.i++;
};
const isId = (c: Ctx, id: string): boolean => peek(c).type === 'id' && peek(c).text === id;

function fieldRef(c: Ctx): FieldRef {
  const t = peek(c);
  if (t.type !== 'id') fail(c, 'expecting field name');
  const ref = resolveField(t.text);
  if (!ref) return unknownName(c, t.text, 'field');
  c.i++;
  if (isOp(c, '[')) {
    c.i++;
    const lo = intTok(c);
    let hi = lo;
    if (isOp(c, '..')) {
      c.i++;
      hi = intTok(c);
    }
    expectOp(c, ']');
    if (hi < lo || hi >= ref.width) fail(c, `${t.text}[${lo}..${hi}] is outside the field`, LflowRefusal.TYPE);
    // expr.c parse_field: "Cannot select subfield of nominal field".
    if (ref.field.nominal && (lo !== 0 || hi !== ref.width - 1)) fail(c, `cannot select subfield of nominal field ${t.text}`, LflowRefusal.TYPE);
    return { ...ref, lo: ref.lo + lo, width: hi - lo + 1, subscript: { lo, hi } };
  }
  return ref;
}

function intTok(c: Ctx): number {
  const t = peek(c);
  // lexer_is_int (OVN v23.03.1 lib/lex.c), which next(N) and a backend's or ct_dnat's port take: decimal only —
  // ovn-trace refuses `next(0x0a)` and `10.0.0.5:0x50`.
  if (t.type !== 'int' || t.hex) fail(c, 'expecting a decimal integer', t.hex ? LflowRefusal.CONSTANT : LflowRefusal.SYNTAX);
  c.i++;
  return Number(t.value);
}

/** `expr_field_format`. */
export function formatRef(r: FieldRef): string {
  if (!r.subscript) return r.name;
  return r.subscript.lo === r.subscript.hi ? `${r.name}[${r.subscript.lo}]` : `${r.name}[${r.subscript.lo}..${r.subscript.hi}]`;
}

function backend(c: Ctx): LbBackend {
  let ipv6 = false;
  let bracket = false;
  if (isOp(c, '[')) {
    c.i++;
    bracket = true;
  }
  const t = peek(c);
  if (t.type !== 'ip4' && t.type !== 'ip6') fail(c, 'expecting IP address');
  c.i++;
  ipv6 = t.type === 'ip6';
  if (bracket) expectOp(c, ']');
  let port = 0;
  if (isOp(c, ':')) {
    c.i++;
    // action_parse_uint16: "expecting port number" above 65535.
    if (peek(c).type === 'int' && !peek(c).hex && peek(c).value! > 65535n) fail(c, 'expecting port number');
    port = intTok(c);
  }
  const addr = addrBytes(t);
  const ip4 = ipv6 ? 0 : Number(t.value!);
  // ovn-trace prints an action from its parsed form (ovnacts_format): an IPv6 address through ipv6_format_addr, i.e.
  // inet_ntop (OVN v23.03.1 lib/actions.c format_ct_lb, format_ct_nat), whatever the flow's spelling.
  const a = valueText(t);
  const text = ipv6 ? (port ? `[${a}]:${port}` : a) : port ? `${a}:${port}` : a;
  return { ipv6, addr, ip4, port, text };
}

/**
 * The argument of `ct_dnat` / `ct_snat` as OVN v23.03.1 lib/actions.c parse_ct_nat reads it: `(IP)`, `(IP, LO)` or
 * `(IP, LO-HI)` — an unmasked IPv4 or IPv6 constant (no brackets, no `IP:port`: the lexer makes that three tokens and
 * `)` is then missing), a comma, a decimal port, a hyphen and any unmasked integer constant (hex, even an address:
 * only LEX_T_INTEGER is checked). Both ports are stored in uint16_t (struct ovnact_ct_nat), so a constant above 65535
 * keeps its low 16 bits before the checks (`65536` is "range can't be 0"). Printed as format_ct_nat does:
 * `ct_dnat(IP,LO-HI);`, the address through inet_ntop.
 */
function ctNat(c: Ctx, name: 'ct_dnat' | 'ct_snat'): Action {
  if (!isOp(c, '(')) return { k: name, text: `${name};` };
  c.i++;
  const t = peek(c);
  if ((t.type !== 'ip4' && t.type !== 'ip6') || t.mask !== undefined) return fail(c, 'expecting IPv4 or IPv6 address');
  c.i++;
  const ipv6 = t.type === 'ip6';
  const addr = addrBytes(t);
  let text = `${name}(${valueText(t)}`;
  let portLo = 0;
  let portHi = 0;
  if (isOp(c, ',')) {
    c.i++;
    const lo = peek(c);
    if (lo.type !== 'int' || lo.hex || lo.mask !== undefined) fail(c, 'expecting Integer for port range', lo.hex ? LflowRefusal.CONSTANT : LflowRefusal.SYNTAX);
    portLo = Number(lo.value! & 0xffffn);
    if (portLo === 0) fail(c, "range can't be 0");
    c.i++;
    text += `,${portLo}`;
    if (isOp(c, '-')) {
      c.i++;
      const hi = peek(c);
      if (hi.type !== 'int' && hi.type !== 'ip4' && hi.type !== 'ip6' && hi.type !== 'mac') fail(c, 'expecting Integer for port range');
      if (hi.mask !== undefined) fail(c, 'expecting Integer for port range');
      portHi = Number(hi.value! & 0xffffn);
      if (portHi <= portLo) fail(c, 'range high should be greater than range low');
      c.i++;
      text += `-${portHi}`;
    }
  }
  expectOp(c, ')');
  return { k: name, to: { ipv6, addr, ip4: ipv6 ? 0 : Number(t.value!), portLo, portHi }, text: `${text});` };
}

function resultCall(c: Ctx, dst: FieldRef, fn: Extract<Action, { k: 'result' }>['fn']): Action {
  // actions.c parse_ovnact_result__ (chk_lb_hairpin, check_in_port_sec…): a 1-bit destination.
  if (dst.width !== 1) fail(c, `cannot use ${dst.width}-bit field ${formatRef(dst)} where 1-bit field is required`, LflowRefusal.TYPE);
  c.i++;
  expectOp(c, '(');
  expectOp(c, ')');
  return { k: 'result', fn, dst, text: `${formatRef(dst)} = ${fn}();` };
}

/** An address constant's bytes, network order, in 16 (an IPv4 one in the first 4). */
function addrBytes(t: Token): Uint8Array {
  const addr = new Uint8Array(16);
  const width = t.type === 'ip6' ? 16 : 4;
  for (let b = 0; b < width; b++) addr[b] = Number((t.value! >> BigInt(8 * (width - 1 - b))) & 0xffn);
  return addr;
}

/**
 * A constant as ovn-trace prints an action that holds it: re-formatted from its value in the format the lexer gave it
 * (OVN v23.03.1 lib/lex.c lex_token_format_value), whatever the flow's spelling — decimal as a number, hex through
 * mf_format_subvalue (`0x` and lower-case digits without leading zeros, zero as `0`: `0X00FF` → `0xff`, `0x0` → `0`),
 * a MAC in lower case, IPv4 dotted, IPv6 through inet_ntop. Checked against ovn-trace 23.03 by test/ipv6-text.test.ts.
 */
function valueText(t: Token): string {
  const v = t.value!;
  switch (t.type) {
    case 'int':
      return t.hex ? (v === 0n ? '0' : `0x${v.toString(16)}`) : v.toString();
    case 'mac':
      return v.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
    case 'ip4':
      return [24, 16, 8, 0].map((sh) => Number((v >> BigInt(sh)) & 0xffn)).join('.');
    case 'ip6':
      return formatIPv6Ntop(addrBytes(t), 0);
    default:
      return t.text;
  }
}

function constantText(t: Token): string {
  if (t.type === 'string') return JSON.stringify(t.text);
  if (t.mask !== undefined) return t.prefix !== undefined ? `${valueText(t)}/${t.prefix}` : `${valueText(t)}/0x${t.mask.toString(16)}`;
  return valueText(t);
}

/**
 * Whether `ref` may be written here (lib/logical-fields.c's write scopes, expr.c expr_field_parse's "Field %s is not
 * modifiable"): ct_mark and ct_label only inside `ct_commit { … }`, and nothing else there; the conntrack state and
 * original-tuple fields, and the fields OVS cannot set (eth.type, ip.proto, ip.frag, tcp.flags), nowhere.
 */
function writable(c: Ctx, ref: FieldRef): void {
  const base = ref.field.name;
  const ct = base === 'ct_mark' || base === 'ct_label';
  const ok = c.ctCommit ? ct : !ct && !ref.field.readOnly;
  if (!ok) fail(c, `field ${ref.name} is not modifiable`, LflowRefusal.TYPE);
}

function assignment(c: Ctx, dst: FieldRef): Action {
  writable(c, dst);
  if (isOp(c, '<->')) {
    c.i++;
    const b = fieldRef(c);
    writable(c, b);
    // actions.c parse_assignment_action → expr_type_check of both sides: "Can't exchange N-bit field with M-bit field".
    if (!!b.field.string !== !!dst.field.string) fail(c, `can't exchange ${dst.field.string ? 'string' : 'integer'} field (${formatRef(dst)}) with ${b.field.string ? 'string' : 'integer'} field (${formatRef(b)})`, LflowRefusal.TYPE);
    if (b.width !== dst.width) fail(c, `can't exchange ${dst.width}-bit field with ${b.width}-bit field`, LflowRefusal.TYPE);
    c.prereqs.push(...dst.prereqs, ...b.prereqs);
    return { k: 'exchange', a: dst, b, text: `${formatRef(dst)} <-> ${formatRef(b)};` };
  }
  expectOp(c, '=');
  const t = peek(c);
  if (t.type === 'id') {
    const fn = t.text;
    const after = c.toks[c.i + 1]!;
    if (after.type === 'op' && after.text === '(') {
      if (fn === 'chk_lb_hairpin' || fn === 'chk_lb_hairpin_reply' || fn === 'check_in_port_sec' || fn === 'check_out_port_sec' || fn === 'chk_lb_aff') return resultCall(c, dst, fn);
      if (fn === 'ct_nw_dst' || fn === 'ct_ip6_dst' || fn === 'ct_tp_dst') {
        // actions.c ef8f5c1ac parse_CT_ORIG_*: parse_ovnact_result__ with widths 32/128/16 — the destination must
        // be exactly that wide; format_CT_ORIG_* prints `dst = ct_nw_dst();`.
        c.i++;
        expectOp(c, '(');
        expectOp(c, ')');
        const width = fn === 'ct_nw_dst' ? 32 : fn === 'ct_ip6_dst' ? 128 : 16;
        if (dst.width !== width) fail(c, `${fn}() needs a ${width}-bit destination, ${formatRef(dst)} has ${dst.width}`, LflowRefusal.TYPE);
        c.prereqs.push(...dst.prereqs);
        return { k: 'ct_orig', src: fn, dst, text: `${formatRef(dst)} = ${fn}();` };
      }
      if (fn === 'get_fdb') {
        c.i += 2;
        const mac = fieldRef(c);
        expectOp(c, ')');
        return { k: 'get_fdb', dst, mac, text: `${formatRef(dst)} = get_fdb(${formatRef(mac)});` };
      }
      if (fn === 'lookup_fdb') {
        c.i += 2;
        const port = fieldRef(c);
        expectOp(c, ',');
        const mac = fieldRef(c);
        expectOp(c, ')');
        return { k: 'lookup_fdb', dst, port, mac, text: `${formatRef(dst)} = lookup_fdb(${formatRef(port)}, ${formatRef(mac)});` };
      }
      c.prereqs.push(...dst.prereqs);
      return unmodelledAction(c, `${fn}()`, `${formatRef(dst)} = `);
    }
    const src = fieldRef(c);
    // expr.c expr_type_check: "Can't assign string field (inport) to integer field (reg0)".
    if (!!src.field.string !== !!dst.field.string) fail(c, `can't assign ${src.field.string ? 'string' : 'integer'} field (${formatRef(src)}) to ${dst.field.string ? 'string' : 'integer'} field (${formatRef(dst)})`, LflowRefusal.TYPE);
    if (src.width !== dst.width) fail(c, `cannot assign ${src.width} bits to ${dst.width} bits`, LflowRefusal.TYPE);
    c.prereqs.push(...dst.prereqs, ...src.prereqs);
    return { k: 'move', dst, src, text: `${formatRef(dst)} = ${formatRef(src)};` };
  }
  c.i++;
  c.prereqs.push(...dst.prereqs);
  if (t.type === 'string') {
    if (!dst.field.string) fail(c, `${dst.name} does not take a port name`, LflowRefusal.TYPE);
    return { k: 'load', dst, value: 0n, port: t.text, text: `${formatRef(dst)} = ${JSON.stringify(t.text)};` };
  }
  if (t.value === undefined) return fail(c, 'expecting constant');
  // expr.c type_check: a string field (inport, outport) takes a string constant only.
  if (dst.field.string) fail(c, `string field ${dst.name} is not compatible with integer constant ${t.text}`, LflowRefusal.TYPE);
  // actions.c parse_LOAD → expr_constant_parse → expr.c type_check: the constant against the symbol's width; a
  // subscripted destination then takes the value's low bits.
  const symbolWidth = resolveField(dst.name)!.width;
  const w = constantWidth(t.type, t.value, t.mask);
  if (w > symbolWidth) fail(c, `${w}-bit constant ${t.text} is not compatible with ${symbolWidth}-bit field ${dst.name}`, LflowRefusal.TYPE);
  return { k: 'load', dst, value: t.value & ((1n << BigInt(dst.width)) - 1n), text: `${formatRef(dst)} = ${constantText(t)};` };
}

function nested(c: Ctx, passPrereqs = false, ctCommit = false): Action[] {
  expectOp(c, '{');
  const inner: Ctx = { ...c, prereqs: [], ctCommit };
  const acts = list(inner, '}');
  c.i = inner.i;
  // parse_nested_action: with no prerequisite of its own (clone, reject) the inner ones join the flow's.
  if (passPrereqs) c.prereqs.push(...inner.prereqs);
  return acts;
}

function action(c: Ctx): Action {
  const t = peek(c);
  if (t.type !== 'id') return fail(c, 'expecting action');
  const name = t.text;
  const after = c.toks[c.i + 1]!;
  const assign = after.type === 'op' && (after.text === '=' || after.text === '<->' || after.text === '[');
  if (assign) return assignment(c, fieldRef(c));
  // lib/actions.c parse_action: `ip.ttl--` is its own action (ip.ttl followed by LEX_T_DECREMENT).
  if (name === 'ip.ttl' && after.type === 'op' && after.text === '--') {
    c.i += 2;
    c.prereqs.push('ip');
    return { k: 'dec_ttl', text: 'ip.ttl--;' };
  }
  c.i++;
  switch (name) {
    case 'next': {
      let pipeline = c.pipeline;
      let table = c.table + 1;
      if (isOp(c, '(')) {
        c.i++;
        if (peek(c).type === 'int') table = intTok(c);
        else {
          // actions.c parse_NEXT: `pipeline=…` / `table=…`, one at least, separated by commas (`next()` and a
          // trailing comma are refused).
          do {
            const key = peek(c).text;
            if (peek(c).type !== 'id' || (key !== 'pipeline' && key !== 'table')) fail(c, 'expecting "pipeline" or "table"');
            c.i++;
            expectOp(c, '=');
            if (key === 'pipeline') {
              const v = peek(c).text;
              if (v !== 'ingress' && v !== 'egress') fail(c, 'expecting "ingress" or "egress"');
              c.i++;
              pipeline = v as Pipeline;
            } else table = intTok(c);
          } while (isOp(c, ',') && ++c.i);
        }
        expectOp(c, ')');
      }
      // parse_NEXT: "cannot advance beyond table 28" — n_tables is LOG_PIPELINE_LEN (29 in 23.03), which
      // ovn-controller and ovn-trace both pass.
      if (table >= c.tables) fail(c, `"next" action cannot advance beyond table ${c.tables - 1}`);
      const text = pipeline !== c.pipeline ? `next(pipeline=${pipeline}, table=${table});` : table !== c.table + 1 ? `next(${table});` : 'next;';
      return { k: 'next', pipeline, table, text };
    }
    case 'output':
      return { k: 'output', text: 'output;' };
    case 'ct_next':
      c.prereqs.push('ip');
      return { k: 'ct_next', text: 'ct_next;' };
    case 'ct_clear':
      // actions.c parse_CT_CLEAR: no prerequisite.
      return { k: 'ct_clear', text: 'ct_clear;' };
    case 'ct_commit': {
      // actions.c parse_CT_COMMIT_V1: the old `ct_commit(ct_mark=…, ct_label=…)` form, which OVN still takes.
      if (isOp(c, '(')) {
        c.i--;
        return unmodelledAction(c, 'ct_commit');
      }
      c.prereqs.push('ip');
      if (!isOp(c, '{')) return { k: 'ct_commit', nested: [], text: 'ct_commit;' };
      const inner = nested(c, false, true);
      return { k: 'ct_commit', nested: inner, text: `ct_commit { ${inner.map((a) => a.text).join(' ')} };` };
    }
    case 'ct_commit_nat':
      c.prereqs.push('ip');
      return { k: 'ct_commit_nat', text: 'ct_commit_nat;' };
    case 'ct_dnat':
    case 'ct_snat':
      c.prereqs.push('ip');
      return ctNat(c, name);
    case 'ct_lb':
    case 'ct_lb_mark': {
      c.prereqs.push('ip');
      const backends: LbBackend[] = [];
      let hashFields: string | undefined;
      let flag: 'skip_snat' | 'force_snat' | undefined;
      // actions.c parse_ct_lb_action, token for token: the backends end at `;` or `)`; after hash_fields' string
      // the next token is taken whatever it is unless it is `;`, and so is the token after skip_snat/force_snat —
      // which is how `)` gets consumed there. A `)` nothing consumed (`backends=…;)`) is then a missing `;`.
      const skipOne = (): void => {
        if (peek(c).type !== 'end') c.i++;
      };
      if (isOp(c, '(')) {
        c.i++;
        if (isOp(c, ')')) c.i++;
        else {
          if (!isId(c, 'backends')) fail(c, 'expecting backends');
          c.i++;
          expectOp(c, '=');
          for (;;) {
            if (isOp(c, ';') || isOp(c, ')')) {
              c.i++;
              break;
            }
            backends.push(backend(c));
            if (isOp(c, ',')) c.i++;
          }
          if (isId(c, 'hash_fields')) {
            c.i++;
            if (!isOp(c, '=')) fail(c, 'invalid hash_fields');
            c.i++;
            const s = peek(c);
            if (s.type !== 'string') fail(c, 'invalid hash_fields');
            hashFields = s.text;
            c.i++;
            if (isOp(c, ';')) c.i++;
            else skipOne();
          }
          if (isId(c, 'skip_snat') || isId(c, 'force_snat')) {
            flag = peek(c).text as 'skip_snat' | 'force_snat';
            c.i++;
            skipOne();
          }
        }
      }
      let text: string = name;
      if (backends.length) {
        text += `(backends=${backends.map((b) => b.text).join(',')}`;
        if (hashFields !== undefined) text += `; hash_fields="${hashFields}"`;
        if (flag) text += `; ${flag}`;
        text += ')';
      }
      return { k: name, backends, ...(hashFields !== undefined ? { hashFields } : {}), ...(flag ? { flag } : {}), text: `${text};` };
    }
    case 'ct_snat_to_vip':
      return { k: 'ct_snat_to_vip', text: 'ct_snat_to_vip;' };
    case 'commit_lb_aff': {
      // Printed as written: ovn-trace 23.03 does nothing with it; the executor learns affinity from its parts, read
      // as actions.c parse_commit_lb_aff reads them: `vip = "…"`, `backend = "…"` (the same family), `proto =
      // tcp|udp|sctp` exactly when the VIP has a port, `timeout = N` (16 bits), in that order, each followed by a
      // comma but the last.
      const start = peek(c).pos;
      const param = (name: string): Token => {
        if (!isId(c, name)) fail(c, 'invalid parameter');
        c.i++;
        expectOp(c, '=');
        return peek(c);
      };
      const key = (name: string): LbBackend => {
        const t = param(name);
        if (t.type !== 'string') fail(c, 'invalid parameter');
        let b: LbBackend | undefined;
        try {
          const sub: Ctx = { text: t.text, toks: tokenize(t.text), i: 0, pipeline: c.pipeline, table: c.table, prereqs: [], tables: c.tables };
          b = backend(sub);
          if (peek(sub).type !== 'end') b = undefined;
        } catch {
          b = undefined;
        }
        if (!b) return fail(c, 'invalid parameter');
        c.i++;
        return b;
      };
      expectOp(c, '(');
      const vip = key('vip');
      expectOp(c, ',');
      const be = key('backend');
      if (be.ipv6 !== vip.ipv6) fail(c, 'invalid protocol family');
      expectOp(c, ',');
      let proto = 6;
      if (vip.port) {
        const p = param('proto');
        if (p.type !== 'id' || !['tcp', 'udp', 'sctp'].includes(p.text)) fail(c, 'invalid protocol');
        proto = p.text === 'udp' ? 17 : p.text === 'sctp' ? 132 : 6;
        c.i++;
        expectOp(c, ',');
      }
      const t = param('timeout');
      if (t.type !== 'int' || t.hex || t.value! > 65535n) fail(c, 'expecting affinity timeout');
      c.i++;
      expectOp(c, ')');
      const raw = c.text.slice(start, c.toks[c.i - 1]!.pos + 1);
      return { k: 'commit_lb_aff', vip, backend: be, proto, timeout: Number(t.value), text: `commit_lb_aff${raw.replace(/\s*=\s*/g, ' = ').replace(/\s*,\s*/g, ', ')};` };
    }
    case 'put_fdb': {
      expectOp(c, '(');
      const port = fieldRef(c);
      expectOp(c, ',');
      const mac = fieldRef(c);
      expectOp(c, ')');
      return { k: 'put_fdb', port, mac, text: `put_fdb(${formatRef(port)}, ${formatRef(mac)});` };
    }
    case 'handle_svc_check': {
      expectOp(c, '(');
      const port = fieldRef(c);
      expectOp(c, ')');
      return { k: 'handle_svc_check', port, text: `handle_svc_check(${formatRef(port)});` };
    }
    case 'arp':
    case 'nd_na':
    case 'nd_na_router':
    case 'clone':
    case 'reject':
    case 'icmp4':
    case 'icmp4_error':
    case 'icmp6':
    case 'icmp6_error':
    case 'tcp_reset': {
      // actions.c parse_ARP … parse_REJECT: the prerequisite each nested action adds.
      const pre = ({ arp: 'ip4', nd_na: 'nd_ns', nd_na_router: 'nd_ns', icmp4: 'ip4', icmp4_error: 'ip4', icmp6: 'ip6', icmp6_error: 'ip6', tcp_reset: 'tcp' } as Record<string, string>)[name];
      if (pre) c.prereqs.push(pre);
      const inner = nested(c, pre === undefined);
      return { k: 'nest', fn: name, nested: inner, text: `${name} { ${inner.map((a) => a.text).join(' ')} };` };
    }
    case 'log': {
      // actions.c parse_LOG / format_LOG: name, verdict, severity, meter, printed in that order. Logging is
      // ovn-controller's business (a packet-in); the packet goes on unchanged. (format_LOG prints the name raw, as
      // northd writes it: a name with a `"` breaks the flow in OVN too, and fails to parse here.)
      const args = callArgs(c);
      // actions.c parse_LOG: "expecting verdict" when no verdict was given.
      if (!args.has('verdict')) fail(c, 'expecting verdict');
      const name = args.get('name');
      const text = `log(${name !== undefined ? `name="${name}", ` : ''}verdict=${args.get('verdict') ?? 'allow'}, severity=${args.get('severity') ?? 'info'}${args.has('meter') ? `, meter="${args.get('meter')}"` : ''});`;
      return { k: 'noop', text };
    }
    case 'set_meter':
    case 'trigger_event':
    case 'bind_vport': {
      // Controller/meter actions ovn-trace skips (ovn-trace.c execute_actions: OVNACT_SET_METER, _TRIGGER_EVENT,
      // _BIND_VPORT do nothing). Not modelled here either: rate limits, the empty-LB event, virtual-port binding.
      const start = t.pos;
      skipBalanced(c, '(', ')');
      return { k: 'noop', text: `${c.text.slice(start, c.toks[c.i - 1]!.pos + 1)};` };
    }
    case 'igmp':
      // actions.c encode_IGMP: the packet goes to ovn-controller's IGMP snooping and no further (ovn-trace: nothing).
      return { k: 'noop', text: 'igmp;' };
    default:
      c.i--;
      return unmodelledAction(c, name);
  }
}

/** Skips a balanced `( … )` or `{ … }` (the caller keeps the action's own text). */
function skipBalanced(c: Ctx, open: string, close: string): void {
  if (!isOp(c, open)) fail(c, `expecting '${open}'`);
  let depth = 0;
  do {
    if (isOp(c, open)) depth++;
    if (isOp(c, close)) depth--;
    if (peek(c).type === 'end') fail(c, `expecting '${close}'`);
    c.i++;
  } while (depth > 0);
}

/** `(key=value, …)` with string, identifier or number values. */
function callArgs(c: Ctx): Map<string, string> {
  const out = new Map<string, string>();
  expectOp(c, '(');
  while (!isOp(c, ')')) {
    const k = peek(c);
    if (k.type !== 'id') fail(c, 'expecting argument name');
    c.i++;
    expectOp(c, '=');
    const v = peek(c);
    if (v.type === 'end') fail(c, 'expecting value');
    out.set(k.text, v.text);
    c.i++;
    if (isOp(c, ',')) c.i++;
    else if (!isOp(c, ')')) fail(c, "expecting ',' or ')'");
  }
  c.i++;
  return out;
}

/**
 * lib/actions.c parse_actions: every action ends with its `;` (parse_action's lexer_force_match), and `drop;` is a
 * list only by itself — with anything before or after it OVN refuses the flow.
 */
function list(c: Ctx, end: '}' | 'end'): Action[] {
  const atEnd = (): boolean => (end === '}' ? isOp(c, '}') : peek(c).type === 'end');
  const out: Action[] = [];
  const after = c.toks[c.i + 1];
  if (isId(c, 'drop') && after?.type === 'op' && after.text === ';') {
    c.i += 2;
    if (!atEnd()) fail(c, end === '}' ? "expecting '}'" : 'expecting end of input');
    if (end === '}') c.i++;
    return [{ k: 'drop', text: 'drop;' }];
  }
  for (;;) {
    if (atEnd()) {
      if (end === '}') c.i++;
      return out;
    }
    out.push(action(c));
    expectOp(c, ';');
  }
}

/**
 * Parses a flow's actions for the table it sits in (so `next;` resolves to table + 1). `tables` is the OVN
 * release's LOG_PIPELINE_LEN (lib/ovn-util.h: 29 in 23.03 and 24.03, 30 in 25.03), past which `next` is refused.
 */
export function parseActions(text: string, pipeline: Pipeline, table: number, tables = 29): ParsedActions {
  const c: Ctx = { text, toks: tokenize(text), i: 0, pipeline, table, prereqs: [], tables };
  const actions = list(c, 'end');
  return { actions, prereqs: c.prereqs };
}

/** The action list as ovn-trace prints it, one action per line. */
export function formatActions(actions: readonly Action[]): string {
  return actions.map((a) => a.text).join(' ');
}
