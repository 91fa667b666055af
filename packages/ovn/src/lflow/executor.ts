/**
 * The logical-flow executor: one logical switch's Logical_Flow rows compiled once into per-stage tables, run
 * over a frame the way OVN runs them. The control flow is ovn-trace's (utilities/ovn-trace.c branch-23.03
 * `trace__`/`trace_actions`/`execute_*`), so that with {@link TraceConntrack} the trace is ovn-trace's; with a
 * real conntrack engine and a chassis it is what ovn-controller's OpenFlow does, including the physical steps
 * ovn-trace does not show (controller/physical.c): a port bound on another chassis of a switch with a localnet
 * port is reached through the localnet port, the loopback check then drops what would leave by its inport,
 * multicast groups reach only this chassis' ports, the localnet VLAN tag is stripped and pushed, and
 * `is_chassis_resident()` is evaluated for the chassis.
 *
 * Per packet nothing is parsed and, with tracing off, no string is built; flow words live in a preallocated pool.
 * @module
 */
import { copyPlainTcp4 as copyPlainTcp4Import, copyPlainTcp4Segment as copyPlainTcp4SegmentImport, DecodedFrame, FrameDecoder, L3 as L3Import, decodePlainTcp4 as decodePlainTcp4Import, plainTcp4Decoded as plainTcp4DecodedImport, VippathError, formatIPv4, formatIPv6, formatIPv6Ntop, parseIPv4, parseIPv6, parseMac, popVlan, pushVlan as pushVlanImport, read32 as read32Import, write32 as write32Import } from '@vippath/wire';
import { compile, lower, parseMatch, simplify, type CompiledMatch, type LowExpr, type MatchEnv } from './expr.js';
import { parseActions, unmodelledActions, type Action, type LbBackend, type NestFn } from './actions.js';
import { LFLOW_REFUSAL_TEXT, LflowSyntaxError, LflowUnsupportedError, type LflowRefusalCode } from './lexer.js';
import { copyBits, readBits, regWord, W as WImport, writeBits, type FieldRef, LogFlag as LogFlagImport } from './fields.js';
import { CtAction, CtNat, CtRequest, CtResult, CtState, type ConntrackEngine, type HintedConntrackEngine, type WordsConntrackEngine } from './ct-api.js';
import { TraceConntrack } from './ct-trace.js';
import { loadCtOrig } from './ct-orig.js';
import { ctResultToWords as ctResultToWordsImport, ctWordsToResult as ctWordsToResultImport } from './ct-words.js';
import { LOG_PIPELINE_LEN, ovnVersionOfFlows } from '../northd/stages.js';
import { frameFromFlow, loadFrame, loadMac, loadV6, putMac as putMacImport, storeFrame as storeFrameImport, storeMac, storeV6, formatFlow, formatCtState } from './packet.js';
import { FIRST_WORDS as FIRST_WORDSImport, FRAME_SHADOW, headerView, hideCtFirst as hideCtFirstImport, loadIpv4Fresh as loadIpv4FreshImport, reloadTranslated as reloadTranslatedImport, storeEthShadow as storeEthShadowImport } from './frame-sync.js';
import { NodeType, TraceNode } from './trace.js';
import { compileHashFields, dpHashBucket, hashFieldsBucket, rssHash } from './select-group.js';
import { HairpinTables } from './hairpin.js';
import type { LogicalFlow, Pipeline, SouthboundState } from './types.js';
import { CONN_DEPS as CONN_DEPSImport, CONN_ENDING as CONN_ENDINGImport, CONN_EPOCH as CONN_EPOCHImport, CONN_SEEN as CONN_SEENImport, CONN_UNPROVEN as CONN_UNPROVENImport, CONN_ETH as CONN_ETHImport, CONN_FDB as CONN_FDBImport, CONN_HAIRPIN as CONN_HAIRPINImport, CONN_KEY_WORDS as CONN_KEY_WORDSImport, CONN_MAX_STEPS as CONN_MAX_STEPSImport, CONN_SLOT as CONN_SLOTImport, CONN_SLOTS as CONN_SLOTSImport, CONN_STEP as CONN_STEPImport, CONN_STEP0 as CONN_STEP0Import, CONN_STEPS as CONN_STEPSImport, CONN_OUT as CONN_OUTImport, CONN_OUT0 as CONN_OUT0Import, CONN_S_ZONE as CONN_S_ZONEImport, CONN_S_REQ as CONN_S_REQImport, CONN_S_STATE as CONN_S_STATEImport, CONN_S_MARK as CONN_S_MARKImport, CONN_S_LABEL as CONN_S_LABELImport, CONN_S_NODE as CONN_S_NODEImport, CONN_S_GEN as CONN_S_GENImport, CONN_STAMP as CONN_STAMPImport, CONN_HASH as CONN_HASHImport, CONN_SYNACK_CREDIT as CONN_SYNACK_CREDITImport, CONN_SYNACK_PAY as CONN_SYNACK_PAYImport, ConnStore, ConnTemplate, ConnTemplateShape, CONN_TEMPLATES, CONN_TEMPLATE_SHAPES, MegaflowTable, MfDep as MfDepImport, MfOp as MfOpImport, MfSegment, MfShape, mixHash as mixHashImport, prefixProof, type MegaflowStats, type MfCont, type MfInstr } from './megaflow.js';
import { clearForEgress, fuseWrites, headerWord as headerWordImport, instr } from './writes.js';


// Imports used on the connection replay's path bound to module constants: TurboFan folds a module's own const (a
// number becomes an immediate, a function is called or inlined without a check, an enum object's fields fold), where
// every use of an import loads its binding's cell and checks it (bench/README "Hinted established calls (session
// 12)", the same change in ct/engine.ts).
const CONN_DEPS = CONN_DEPSImport;
const CONN_EPOCH = CONN_EPOCHImport;
const CONN_SEEN = CONN_SEENImport;
const CONN_UNPROVEN = CONN_UNPROVENImport;
const CONN_ETH = CONN_ETHImport;
const CONN_FDB = CONN_FDBImport;
const CONN_ENDING = CONN_ENDINGImport;
const CONN_HAIRPIN = CONN_HAIRPINImport;
const CONN_KEY_WORDS = CONN_KEY_WORDSImport;
const CONN_MAX_STEPS = CONN_MAX_STEPSImport;
const CONN_SLOT = CONN_SLOTImport;
const CONN_SLOTS = CONN_SLOTSImport;
const CONN_STEP = CONN_STEPImport;
const CONN_STEP0 = CONN_STEP0Import;
const CONN_STEPS = CONN_STEPSImport;
const CONN_OUT = CONN_OUTImport;
const CONN_OUT0 = CONN_OUT0Import;
const CONN_S_ZONE = CONN_S_ZONEImport;
const CONN_S_REQ = CONN_S_REQImport;
/** CONN_S_REQ's bit for a step whose recorded label is not all 0 (connPost; the request's number is above it, × 4). */
const CONN_RQ_LABEL = 2;
const CONN_S_STATE = CONN_S_STATEImport;
const CONN_S_MARK = CONN_S_MARKImport;
const CONN_S_LABEL = CONN_S_LABELImport;
const CONN_S_NODE = CONN_S_NODEImport;
const CONN_S_GEN = CONN_S_GENImport;
const CONN_STAMP = CONN_STAMPImport;
const CONN_HASH = CONN_HASHImport;
const CONN_SYNACK_CREDIT = CONN_SYNACK_CREDITImport;
const CONN_SYNACK_PAY = CONN_SYNACK_PAYImport;
const MfDep = MfDepImport;
const mixHash = mixHashImport;
// exec's helpers (writes.ts) bound the same way.
const headerWord = headerWordImport;
const L3 = L3Import;
const decodePlainTcp4 = decodePlainTcp4Import;
const copyPlainTcp4 = copyPlainTcp4Import;
const pushVlan = pushVlanImport;
const read32 = read32Import;
const write32 = write32Import;
const W = WImport;
const LogFlag = LogFlagImport;
const MfOp = MfOpImport;
const ctResultToWords = ctResultToWordsImport;
const ctWordsToResult = ctWordsToResultImport;
const putMac = putMacImport;
// The walk's per-packet calls (runFrameKey, syncFrame, reloadHeader, deliver, ctCommit) bound the same way.
const loadIpv4Fresh = loadIpv4FreshImport;
const hideCtFirst = hideCtFirstImport;
const FIRST_WORDS = FIRST_WORDSImport;
const storeFrame = storeFrameImport;
const storeEthShadow = storeEthShadowImport;
const reloadTranslated = reloadTranslatedImport;
const plainTcp4Decoded = plainTcp4DecodedImport;
const copyPlainTcp4Segment = copyPlainTcp4SegmentImport;
/**
 * %TypedArray%.prototype.set (every typed array's `set`), called as `typedSet.call(to, from, offset)` on the replay's
 * copies: written `to.set(from)`, TurboFan (Node 20) loads `set` through a LoadIC at every call — the builtin's
 * lookup and its named-property handler, ≈ 35 instructions a copy besides the copy itself — where this constant's
 * call is a direct call of the builtin.
 */
const typedSet = Int32Array.prototype.set;

/**
 * A flow or microflow the executor cannot run: an unknown datapath or port, an unparsable microflow, a flow OVN
 * accepts with a field vippath does not model, or (the `strict` option) an action it does not model
 * (`UNSUPPORTED_LFLOW`). A flow OVN itself refuses is skipped instead
 * ({@link SkippedLflow}).
 */
export class LflowError extends VippathError {
  /**
   * @param unmodelled for the `strict` refusal of an action vippath does not model: the flow and the action (the
   *   message names them too: pipeline, table, stage, priority, uuid, action)
   */
  constructor(code: string, message: string, readonly unmodelled?: UnmodelledLflow) {
    super(code, message);
  }
}

/**
 * A logical flow OVN refuses to parse, left out of its table as ovn-controller leaves it out (OVN v23.03.1
 * controller/lflow.c: lflow_parse_actions logs "error parsing actions", convert_match_to_expr "error parsing match",
 * and consider_logical_flow__ installs nothing for the flow; utilities/ovn-trace.c parse_lflow_for_datapath skips it
 * too). The rest of the table runs.
 */
export interface SkippedLflow {
  flow: LogicalFlow;
  /** OVN's message kind: ovn-controller's "error parsing actions" or "error parsing match" (actions are parsed first). */
  part: 'actions' | 'match';
  /** What OVN's parser refuses: a {@link LflowRefusal} code ({@link LFLOW_REFUSAL_TEXT} for people). */
  refusal: LflowRefusalCode;
  /** The parser's message (text only, for output). */
  message: string;
}

/** A skipped flow's identity as ovn-trace heads a table's flow: pipeline, table, stage, priority, uuid prefix. */
export function skippedLflowName(s: SkippedLflow): string {
  return lflowName(s.flow);
}

/** A flow's identity as ovn-trace heads it (skippedLflowName, the strict refusal): pipeline, table, stage, priority, uuid prefix. */
function lflowName(f: LogicalFlow): string {
  const uuid = f.uuid ? `, uuid ${f.uuid.replace(/-/g, '').slice(0, 8)}` : '';
  return `${f.pipeline} table ${f.table}${f.stage ? ` (${f.stage})` : ''} priority ${f.priority}${uuid}`;
}

/**
 * One line for people: how many flows were skipped, the first `max` of them with OVN's message kind and the refusal.
 * Empty when none was.
 */
export function formatSkippedLflows(skipped: readonly SkippedLflow[], max = 3): string {
  if (skipped.length === 0) return '';
  const shown = skipped.slice(0, max).map((s) => `${skippedLflowName(s)}: error parsing ${s.part} (${LFLOW_REFUSAL_TEXT[s.refusal]}: ${s.message})`);
  const more = skipped.length > max ? `; and ${skipped.length - max} more` : '';
  return `${skipped.length} logical flow${skipped.length === 1 ? '' : 's'} skipped as ovn-controller skips them: ${shown.join('; ')}${more}`;
}

/**
 * A logical flow that loaded with an action OVN runs and vippath does not model (its first such action): the flow
 * keeps its place in the table, so packets that do not match it go on as in OVN; a packet that reaches the action
 * is dropped there ({@link DropReason}.UNMODELLED_ACTION). {@link formatUnmodelledLflows} says them in one line.
 */
export interface UnmodelledLflow {
  flow: LogicalFlow;
  /** The action's name as OVN spells it (`put_dhcp_opts`, `dns_lookup`, `ct_commit` for its old `(…)` form…). */
  action: string;
  /** Whether OVN hands the packet to ovn-controller (pinctrl) there (actions.ts PINCTRL_ACTIONS). */
  pinctrl: boolean;
}

/**
 * One line for people: `N flows with actions vippath does not run: put_dhcp_opts ×k, …` (counted by action, most
 * first), and what reaching one does. Empty when there is none.
 */
export function formatUnmodelledLflows(flows: readonly UnmodelledLflow[]): string {
  if (flows.length === 0) return '';
  const by = new Map<string, number>();
  for (const u of flows) by.set(u.action, (by.get(u.action) ?? 0) + 1);
  const names = [...by].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([n, k]) => `${n} ×${k}`);
  return `${flows.length} logical flow${flows.length === 1 ? '' : 's'} with actions vippath does not run: ${names.join(', ')} (loaded in their place; a packet that reaches one is dropped there, ${DROP_REASON_TEXT[DropReason.UNMODELLED_ACTION]})`;
}

/**
 * The flow and action of an {@link UnmodelledLflow} in words: `put_dhcp_opts in ls_in_dhcp_options (ingress table 19)
 * priority 100, uuid 1a2b3c4d` (the uuid's first 8 digits, as ovn-trace shows it; none for flows without one).
 */
export function unmodelledFlowName(u: UnmodelledLflow): string {
  const f = u.flow;
  const uuid = f.uuid ? `, uuid ${f.uuid.replace(/-/g, '').slice(0, 8)}` : '';
  return `${u.action} in ${f.stage ? `${f.stage} (${f.pipeline} table ${f.table})` : `${f.pipeline} table ${f.table}`} priority ${f.priority}${uuid}`;
}

/** Why a packet stopped short of an output; numbers for the hot path, {@link DROP_REASON_TEXT} for people. */
export const DropReason = {
  /** An explicit `drop;` (or an empty action list). */
  DROP_ACTION: 0,
  /** A table with no matching flow. */
  NO_MATCH: 1,
  /** Actions ended without `next` or `output` (e.g. `commit_lb_aff(…); /* drop *\/`). */
  ACTIONS_END: 2,
  /** `output` with outport 0. */
  NULL_OUTPORT: 3,
  /** outport == inport and `flags.loopback` is 0 (ovn-controller table 39 / ovn-trace's omitted output). */
  LOOPBACK: 4,
  /** outport names no port or group of the datapath. */
  UNKNOWN_OUTPORT: 5,
  /** The outport is a VIF bound to no chassis (no physical flow reaches it). */
  UNBOUND: 6,
  /** A frame that arrived on a localnet port with a tag other than the port's. */
  LOCALNET_TAG: 7,
  /** Recursion through tables went deeper than the executor's bound. */
  TOO_DEEP: 8,
  /**
   * The walk reached an action OVN runs and vippath does not model (`put_dhcp_opts`, `dns_lookup`, `put_arp`…: an
   * `unmodelled` action, {@link UnmodelledLflow}); OVN would go on (most such actions hand the packet to
   * ovn-controller's pinctrl), vippath stops there.
   */
  UNMODELLED_ACTION: 9,
  /**
   * `ip.ttl--` on an IP packet whose TTL (hop limit) is 0 or 1: OVS's dec_ttl stops the flow's actions there
   * (ofproto-dpif-xlate.c compose_dec_ttl, "decrement TTL exception"; ovn-controller asks for no packet-in), so the
   * packet goes no further — where ovn-trace decrements 1 to 0 and goes on (checked against ovs-vswitchd:
   * test/hairpin-ovs.test.ts).
   */
  TTL_EXCEEDED: 10,
} as const;
export const DROP_REASON_TEXT: readonly string[] = [
  'drop action', 'no match (implicit drop)', 'actions end without next or output', 'output to null logical port',
  'inport == outport && !flags.loopback', 'unknown port or multicast group', 'port not bound to any chassis',
  'VLAN tag does not match the localnet port', 'pipeline too deep', 'an action vippath does not model',
  'ip.ttl-- at TTL 0 or 1 (OVS\'s decrement TTL exception)',
];

/**
 * `s` as V8's internalized string of its text (a property name is one; the string table holds one per text). A name
 * parsed or concatenated is another string, made internalized in place only when first used as a key (a ThinString
 * until a scavenge replaces the references to it, which depends on the GC's timing): a `===` site that meets such a
 * string before it is optimized compiles to V8's StringEqual call for good (bench/README "The StringEqual trio is a
 * state of one run (session 35)").
 */
function internalized(s: string): string {
  return Object.keys({ [s]: 0 })[0]!;
}

interface Port {
  name: string;
  key: number;
  type: string;
  /** `type` is 'localnet' (decided once: a name compare per frame calls V8's StringEqual when its feedback is not internalized strings only). */
  localnet: boolean;
  chassis?: string;
  tag?: number;
  /** Port security entries: MAC (as 2 words), IPv4s, IPv6s (4 words each). */
  ps: { mac: Uint32Array; ip4: number[]; ip6: Uint32Array[]; lla: Uint32Array }[];
  /** The root segment a frame entering here was served by last (a hint, checked as {@link MfInstr.next} is). */
  root: MfSegment | undefined;
  /** Its place among the executor's ports (numbered from 0): its pair in each table's {@link MegaflowTable.rootHints}. */
  idx: number;
  /**
   * The via of this port's frames' root hints on a chassis (enterRoot): the words' bits every such frame starts with
   * (rootKnown), its residual made from them. The same in every chassis' table (the flags' LOCALNET bit is any
   * chassis').
   */
  rootTok: { known: Int32Array | undefined };
  /**
   * {@link rootTok} for a plain untagged TCP/IPv4 frame (runFrame's `plain`): its EtherType, tag, protocol and
   * fragment bits too.
   */
  plainTok: { known: Int32Array | undefined };
  /**
   * None: the port as the via of its frames' root hints in the chassis-blind table (rootResid there).
   */
  known: undefined;
}

interface Group {
  name: string;
  key: number;
  /** Member ports, sorted by name (ovn-trace read_mcgroups). */
  ports: Port[];
}

interface CompiledFlow {
  flow: LogicalFlow;
  match: CompiledMatch;
  actions: Action[];
  /** `1` → `next;` to the following table: ovn-trace does not show it (may_omit_stage). */
  omit: boolean;
  /** Header printed for the table (built once). */
  header: string;
  /** Position in the table's priority order (ties resolved as ovn-trace resolves them). */
  order: number;
}

interface Table {
  stage: string;
  flows: CompiledFlow[];
  /** Fast path: flows that require an exact value of one field, by that value; the rest in `others`. */
  indexWord: number;
  indexWidthWords: number;
  index: Map<number, CompiledFlow[]>;
  others: CompiledFlow[];
}

/** An `ovn-trace --lb-dst` destination. */
export interface LbDst {
  ipv6: boolean;
  addr: Uint8Array;
  port: number;
}

/** Parses `IP[:PORT]` / `[IPv6]:PORT` as ovn-trace's `--lb-dst`. */
export function parseLbDst(text: string): LbDst {
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const addr = new Uint8Array(16);
  try {
    if (m6 || (text.includes(':') && !/^\d+\.\d+\.\d+\.\d+:\d+$/.test(text))) {
      const ip = m6 ? m6[1]! : text;
      addr.set(parseIPv6(ip));
      return { ipv6: true, addr, port: m6?.[2] ? Number(m6[2]) : 0 };
    }
    const [ip, port] = text.split(':');
    const v = parseIPv4(ip!);
    addr[0] = v >>> 24;
    addr[1] = (v >>> 16) & 255;
    addr[2] = (v >>> 8) & 255;
    addr[3] = v & 255;
    return { ipv6: false, addr, port: port ? Number(port) : 0 };
  } catch {
    throw new LflowError('BAD_LB_DST', `--lb-dst: bad address "${text}" (IP, IP:PORT or [IPv6]:PORT)`);
  }
}

export interface ExecutorOptions {
  /** Conntrack engine; default: one that answers like `ovn-trace` with no `--ct`. */
  ct?: ConntrackEngine;
  /**
   * The chassis the packet is on. Unset: ovn-trace's view (every port resident, no physical translation).
   * Set: is_chassis_resident() for this chassis, remote ports through the localnet port, per-chassis groups.
   */
  chassis?: string;
  /** `--lb-dst`: the backend ct_lb_mark picks (and the DNAT target of backend-less ct_lb_mark). */
  lbDst?: LbDst;
  /**
   * The megaflow cache ({@link LflowExecutor.enableMegaflows}): untraced frames run cached translations of the
   * table walk between conntrack calls. Off by default.
   */
  megaflows?: boolean | { maxEntries?: number; connections?: boolean; connSlots?: number; templates?: boolean };
  /**
   * Whether outputs carry the packet's flow words (`ExecOutput.words`; default true). A caller that reads only the
   * frames (LogicalSwitch) turns it off, which lets the megaflow cache replay connections' walks (megaflow.ts, `CONN_*`),
   * which produce no words.
   */
  wordsOut?: boolean;
  /**
   * Refuse a flow with an action OVN runs and vippath does not model (`UNSUPPORTED_LFLOW`, the whole database), as
   * before such flows loaded. Off by default: the flow loads ({@link LflowExecutor.unmodelled}) and a packet that
   * reaches the action is a drop with {@link DropReason}.UNMODELLED_ACTION.
   */
  strict?: boolean;
}

/** One packet leaving the switch. Slots are reused by the next run: copy what you keep. */
export interface ExecOutput {
  port: string;
  /** The localnet VLAN tag pushed on the way out (chassis mode), else undefined. */
  tag: number | undefined;
  /** The packet's flow words at output. */
  words: Uint32Array;
  /** The frame as it leaves: `frame[0, length)` (length 0 when the frame could not be decoded). */
  frame: Uint8Array;
  length: number;
}

export interface ExecDrop {
  pipeline: Pipeline;
  table: number;
  stage: string;
  reason: number;
  /**
   * For an UNMODELLED_ACTION drop of a full walk (a traced one among them), the flow and action that stopped it;
   * undefined otherwise. A cached walk's replay knows the drop's place only (`table`, `stage`): it leaves this out.
   */
  unmodelled: UnmodelledLflow | undefined;
}

/** Everything a run produced; reuse one per executor. */
export interface ExecResult {
  outputs: ExecOutput[];
  drops: ExecDrop[];
  /** Trace root (tracing only). */
  trace?: TraceNode;
  /** Each ct action's outcome: the state it left and, for ct_lb_mark, the backend chosen (tracing only). */
  ct: { pipeline: Pipeline; table: number; stage: string; action: string; state: string; backend?: string }[];
  /** Matched (shown) flows in visit order (tracing only). */
  stages: { pipeline: Pipeline; table: number; stage: string; priority: number; match: string; actions: string; uuid?: string }[];
}

const POOL = 64;
/**
 * The last frame generation handed out, over all executors (WordsConntrackEngine.executeWords' `gen`): one given to
 * no call before, so an engine that met another executor's packet since never takes this one's as its own.
 */
// In a typed array, not a module `let`: TurboFan checks such a binding for its temporal dead zone at every load
// (four checks a call here), an array's element is a plain load and store.
const frameGens = new Int32Array(1);
/**
 * The next frame generation: a 32-bit integer (so the counter never leaves V8's small integers, however long a run),
 * never 0 (no promise). Wrapping is harmless: an engine compares a call's generation with its previous call's only,
 * and two calls 2^32 moves apart are never consecutive.
 */
const nextFrameGen = (): number => {
  let g = (frameGens[0]! + 1) | 0;
  if (g === 0) g = 1;
  frameGens[0] = g;
  return g;
};
/** The switch datapath's DNAT and SNAT conntrack zones (port zones are the ports' tunnel keys, below 32768). */
export const DNAT_ZONE = 65534;
export const SNAT_ZONE = 65533;
const MAX_DEPTH = 60;

function lla(mac: Uint32Array): Uint32Array {
  // in6_generate_lla: fe80::/64 + modified EUI-64 (U/L bit flipped, ff:fe in the middle).
  const b = new Uint8Array(6);
  storeMac(mac, 0, b, 0);
  const a = new Uint8Array(16);
  a[0] = 0xfe;
  a[1] = 0x80;
  a[8] = b[0]! ^ 2;
  a[9] = b[1]!;
  a[10] = b[2]!;
  a[11] = 0xff;
  a[12] = 0xfe;
  a[13] = b[3]!;
  a[14] = b[4]!;
  a[15] = b[5]!;
  const w = new Uint32Array(4);
  loadV6(w, 0, a, 0);
  return w;
}

function parseAddresses(entry: string): Port['ps'][number] | undefined {
  const parts = entry.trim().split(/\s+/);
  if (!parts[0] || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(parts[0])) return undefined;
  const mac = new Uint32Array(2);
  loadMac(mac, 0, parseMac(parts[0]), 0);
  const ip4: number[] = [];
  const ip6: Uint32Array[] = [];
  for (const p of parts.slice(1)) {
    const ip = p.replace(/\/\d+$/, '');
    if (ip.includes(':')) {
      const w = new Uint32Array(4);
      loadV6(w, 0, parseIPv6(ip), 0);
      ip6.push(w);
    } else ip4.push(parseIPv4(ip));
  }
  return { mac, ip4, ip6, lla: lla(mac) };
}

const anyEq6 = (w: Uint32Array, at: number, list: readonly Uint32Array[]): boolean => {
  for (let i = 0; i < list.length; i++) if (eq6(w, at, list[i]!)) return true;
  return false;
};

const eq6 = (w: Uint32Array, at: number, v: Uint32Array): boolean => w[at] === v[0] && w[at + 1] === v[1] && w[at + 2] === v[2] && w[at + 3] === v[3];

/** Does the lowered match require `field == value` (full width) at top level? Returns the value. */
function exactKey(low: LowExpr, word: number, words: number): number | undefined {
  const terms = low.t === 'and' ? low.xs : [low];
  for (const t of terms) {
    if (t.t !== 'cmp' || t.ne || t.word !== word) continue;
    if (words === 1 && t.masks[0] === 0xffffffff) return t.vals[0];
    if (words === 2 && t.masks[0] === 0xffffffff && t.masks[1] === 0xffff) return t.vals[1]! * 2 ** 32 + t.vals[0]!;
  }
  return undefined;
}

/**
 * One logical switch's pipelines, compiled. `run`/`runFrame` execute one packet; the result object and every
 * buffer are reused across packets.
 */
export class LflowExecutor {
  readonly datapath: string;
  private readonly ports = new Map<string, Port>();
  /** Every Port_Binding's chassis, by logical port, across datapaths. */
  private readonly residence = new Map<string, string | undefined>();
  private readonly portsByKey = new Map<number, Port>();
  private readonly groups = new Map<string, Group>();
  private readonly groupsByKey = new Map<number, Group>();
  private readonly tables: { ingress: Table[]; egress: Table[] } = { ingress: [], egress: [] };
  private readonly localnet: Port | undefined;
  /** Keys of the localnet ports (a packet from one carries flags.localnet on a chassis). */
  private readonly localnetKeys = new Set<number>();
  /** Port groups as `@name` resolves on this datapath. */
  readonly portGroups: ReadonlyMap<string, readonly string[]>;
  /** Flows OVN refuses to parse, left out of the tables as ovn-controller leaves them out ({@link formatSkippedLflows}). */
  readonly skipped: SkippedLflow[] = [];
  /** Flows loaded with an action vippath does not model, in table order ({@link formatUnmodelledLflows}). */
  readonly unmodelled: UnmodelledLflow[] = [];
  /** Each loaded unmodelled action (nested ones too) → its flow, for the drop that names it. */
  private readonly unmodelledAt = new Map<Action, UnmodelledLflow>();
  private pipelineLen = 29;
  private readonly fdb = new Map<number, number>();
  private readonly vips: { ipv6: boolean; addr: Uint32Array; ip4: number; port: number; text: string }[] = [];
  /** ovn-controller's hairpin tables, used on a chassis (ovn-trace's formulas without one). */
  private readonly hairpin: HairpinTables;
  private readonly pool: Uint32Array[] = [];
  private depth = 0;
  private ct: ConntrackEngine;
  /** The engine, when it takes lookup hints (the connection replay hands each call the node it found before). */
  private ctHinted: HintedConntrackEngine | undefined;
  /** The engine, when it takes the packet's ct fields in the words (callCt: no copy into the result and back). */
  private ctWords: WordsConntrackEngine | undefined;
  /**
   * The frame's generation (executeWords' `gen`): moved, to a number no call was given before, by each write to the
   * frame's bytes after its Ethernet addresses or to the decode that conntrack did not make — a new packet (the
   * input copied in, its decode), storeFrame's header writes, a decode again, the walk moved to another buffer
   * (unshare), a nested packet and back, a walk taken again putting recorded NAT bytes back. Between two calls
   * given one generation only the engine wrote the frame (NAT), which it accounts for itself.
   */
  private frameGen = 0;
  private traceCt: TraceConntrack | undefined;
  /** The request of the ct calls not planned once (ct_snat_to_vip, ct_commit braces that copy fields). */
  private readonly req = new CtRequest();
  /** Each forking ct action's request(s) ({@link forkPlan}); each constant ct_commit's. */
  private readonly ctPlans = new Map<Action, CtPlan>();
  private readonly commitPlans = new Map<readonly Action[], CtRequest>();
  /** Whether {@link shadow} is the frame's image in every header word (a frame's run), not only where stored. */
  private shadowExact = false;
  private readonly res = new CtResult();
  private chassis: string | undefined;
  private lbDst: LbDst | undefined;
  private lbDstConsumed = false;
  private inKey = 0;
  /**
   * The packet's time, handed to every conntrack call. Started as a non-number so that V8 keeps the field tagged: a
   * number field turns "double" on the first fractional time, and every read of it for a call then boxes a new heap
   * number (≈ 50 bytes a frame of garbage with capture timestamps); a tagged field passes the caller's value along.
   */
  private now: number = null as unknown as number;
  private readonly decoder = new FrameDecoder();
  private readonly decoded = new DecodedFrame();
  /**
   * The run's output whose bytes {@link outputDecode} describes (an index into `result.outputs`), -1 for none; the
   * first output that qualifies, of a frame of plainTcp4's layout (@vippath/wire) not pushed a localnet VLAN tag:
   * - a connection's replay: its one output is the frame as the recorded conntrack calls left it (their NAT keeps the
   *   decode's addresses and ports in step: OvsConntrack's natTcp4 and natPacket, wire's rewriteIpv4Address) with the
   *   walk's Ethernet addresses written, which the decode does not hold; the input was of decodePlainTcp4's layout
   *   (NAT moves no offset). The decode itself is handed out: nothing runs after the output.
   * - a full walk's output to a VIF (a pod): the decode as `deliver` finds it, the frame synced from the words
   *   (storeFrame writes addresses and ports through wire's rewrites, which keep the decode; a nested packet's frame
   *   is decoded when made and the walk's again after), copied then (a private record): the walk may write the frame
   *   after the output.
   */
  outputDecoded = -1;
  /** The subset of the decode at a full walk's vouched output ({@link outputDecoded}): what later writes cannot move. */
  private readonly outDecode = new DecodedFrame();
  /** {@link decoded} or {@link outDecode}: which holds the vouched output's fields. */
  private outDecodeOf: DecodedFrame = this.outDecode;
  private frame: Uint8Array = new Uint8Array(0);
  private frameLength = 0;
  // Every executor's shadow is frame-sync.ts's one array (see FRAME_SHADOW there: written at every walk's start).
  private readonly shadow = FRAME_SHADOW;
  private readonly shadowHeader = headerView(this.shadow);
  /** The header words of the pool's first slot, where a frame's words are loaded. */
  private header0!: Uint32Array;
  private readonly scratch = new Uint8Array(16);
  private readonly matchCtx = { isResident: (port: string): boolean => this.isResident(port) };
  readonly result: ExecResult = { outputs: [], drops: [], stages: [], ct: [] };
  /**
   * The outputs and drops of a run, handed out as `result`'s when there are some; a run without any hands out an
   * empty array of its own instead. Truncating the first to 0 would free its store, and the next run's first
   * output (drop) would allocate another: this way they only ever shrink to 1.
   */
  private readonly outputsLive: ExecOutput[] = emptyOf<ExecOutput>();
  private readonly dropsLive: ExecDrop[] = emptyOf<ExecDrop>();
  private readonly noOutputs: ExecOutput[] = emptyOf<ExecOutput>();
  private readonly noDrops: ExecDrop[] = emptyOf<ExecDrop>();
  /** The first is made here: the walk's own-buffer and lend paths read it without a presence check. */
  private readonly outSlots: ExecOutput[] = [newOutSlot()];
  private readonly dropSlots: ExecDrop[] = [];
  private readonly savedShadow = new Uint32Array(W.SIZE);
  private readonly natScratch = new Uint8Array(16);
  /** The packet's addresses, most significant word first (source at 0, destination at 4), for the bucket hash. */
  private readonly lbAddr = new Uint32Array(8);
  /** Compiled `hash_fields` texts; -1 for one OVS would refuse. */
  private readonly hashFieldBits = new Map<string, number>();
  private megaOptions: { maxEntries: number; connections: boolean; connSlots: number; templates: boolean } | undefined;
  private wordsOut = true;
  /**
   * Whether connLookup may replay a connection's walk, as far as the executor's set-up says (no words wanted out,
   * connections on, a chassis, no trace engine, no `--lb-dst`): the five fields tested once where they change
   * ({@link noteConnOn}), not on every frame.
   */
  private connOn = false;
  private readonly megaTables = new Map<string | null, MegaflowTable>();
  /** The current chassis' megaflow table (undefined: cache off). */
  private mega: MegaflowTable | undefined;
  /** The segment being recorded, if any. */
  private rec: Recording | undefined;
  private readonly recState = new Recording();
  /** Subtrees entered whose caller has more to do afterwards (a ct call inside one cannot end a segment). */
  private pending = 0;
  /** Per pool slot: bits the segment being recorded wrote (their values follow from the key). */
  private readonly dirty: Uint32Array[] = [];
  /** Entry points of segments by id (0 = ingress table 0). */
  private readonly conts: MfCont[] = [{ kind: 'root', pipeline: 'ingress', table: 0, inEgress: false, index: 0 }];
  private readonly contIds = new Map<readonly unknown[], Map<string, number>>();
  private readonly keyScratch = new Int32Array(W.SIZE);
  /** Each pool slot's words as signed 32-bit (the megaflow keys' type: compared without unsigned conversions). */
  private readonly poolSigned: Int32Array[] = [];
  /** Version of the learned FDB (segments that read it rest on it; the hairpin tables keep their own). */
  private fdbVersion = 0;
  /**
   * The TCP flags' mask in a connection's key: 0 where no flow reads `tcp.flags` (a connection's frames share one
   * walk, recorded the first time it comes), else all bits (each flag combination its own walk, recorded the third).
   */
  private readonly connFlagsMask: number = -1;

  constructor(sb: SouthboundState, datapath: string, options: ExecutorOptions = {}) {
    this.datapath = datapath;
    if (!sb.datapaths.some((d) => d.name === datapath) && !sb.flows.has(datapath)) {
      throw new LflowError('UNKNOWN_DATAPATH', `unknown datapath "${datapath}" (known: ${[...sb.flows.keys()].join(', ') || 'none'})`);
    }
    for (const pb of sb.portBindings) {
      // Unbound in the data (a Southbound from northd alone), a port with options:requested-chassis is taken as bound
      // there: ovn-controller binds it only on that chassis (Kube-OVN sets it to the pod's node).
      const chassis = pb.chassis ?? pb.options['requested-chassis'];
      // is_chassis_resident() names any datapath's port (Kube-OVN's VIP-node marker names a join-switch port).
      this.residence.set(pb.logicalPort, chassis);
      if (pb.datapath !== datapath) continue;
      // One shape for every port (absent fields undefined, not left out): the replay path reads ports of several
      // kinds in one place, which object literals with optional spreads made megamorphic (generic loads).
      const port: Port = { name: internalized(pb.logicalPort), key: pb.tunnelKey, type: pb.type, localnet: pb.type === 'localnet', chassis: chassis || undefined, tag: pb.tag, ps: pb.portSecurity.map(parseAddresses).filter((x): x is Port['ps'][number] => x !== undefined), root: undefined, idx: this.ports.size, rootTok: NO_TOKEN, plainTok: NO_TOKEN, known: undefined };
      port.rootTok = { known: rootKnown(port, false) };
      port.plainTok = { known: rootKnown(port, true) };
      this.ports.set(port.name, port);
      this.portsByKey.set(port.key, port);
    }
    this.localnet = [...this.ports.values()].find((p) => p.type === 'localnet');
    for (const p of this.ports.values()) if (p.type === 'localnet') this.localnetKeys.add(p.key);
    for (const g of sb.multicastGroups) {
      if (g.datapath !== datapath) continue;
      const members = g.ports.map((n) => this.ports.get(n)).filter((p): p is Port => p !== undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const group: Group = { name: g.name, key: g.tunnelKey, ports: members };
      this.groups.set(g.name, group);
      this.groupsByKey.set(g.tunnelKey, group);
    }
    for (const e of sb.fdb) {
      if (e.datapath !== datapath) continue;
      const p = this.ports.get(e.port);
      const w = new Uint32Array(2);
      loadMac(w, 0, parseMac(e.mac), 0);
      if (p) this.fdb.set(w[1]! * 2 ** 32 + w[0]!, p.key);
    }
    for (const lb of sb.loadBalancers) {
      for (const vip of Object.keys(lb.vips)) {
        const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(vip);
        const addr = new Uint32Array(4);
        if (m6 || vip.split(':').length > 2) {
          const bytes = parseIPv6(m6 ? m6[1]! : vip);
          loadV6(addr, 0, bytes, 0);
          // ovn-trace prints the VIP as ip_address_and_port_from_lb_key re-reads the key (OVN v23.03.1
          // lib/ovn-util.c → OVS ss_format_address_nobracks → inet_ntop), not as the row spells it.
          this.vips.push({ ipv6: true, addr, ip4: 0, port: m6?.[2] ? Number(m6[2]) : 0, text: formatIPv6Ntop(bytes, 0) });
        } else {
          const [ip, port] = vip.split(':');
          this.vips.push({ ipv6: false, addr, ip4: parseIPv4(ip!), port: port ? Number(port) : 0, text: ip! });
        }
      }
    }
    // Rows without SB_Global (lflow-list text) say it by their release: 25.03's northd always sets it.
    const rc = sb.options['register_consolidation'];
    this.registerConsolidation = rc !== undefined ? rc === 'true' : ovnVersionOfFlows(sb.flows.get(datapath) ?? []) === '25.03';
    this.hairpin = new HairpinTables(sb.loadBalancers, datapath, sb.options, this.registerConsolidation);
    // northd names a switch's share of a port group `<datapath key>_<name>`; expr.c resolves `@name` to it first.
    const dpKey = sb.datapaths.find((d) => d.name === datapath)?.tunnelKey;
    const groupsHere = new Map(sb.portGroups);
    for (const [name, ports] of sb.portGroups) {
      const m = /^(\d+)_(.+)$/.exec(name);
      if (m && Number(m[1]) === dpKey) groupsHere.set(m[2]!, ports);
    }
    this.portGroups = groupsHere;
    const env: MatchEnv = {
      addressSets: sb.addressSets,
      portGroups: groupsHere,
      portKey: (name) => this.ports.get(name)?.key ?? this.groups.get(name)?.key,
    };
    // svc_monitor_mac is an address set ovn-controller fills from SB_Global options:svc_monitor_mac.
    const sets = new Map(sb.addressSets);
    if (!sets.has('svc_monitor_mac')) sets.set('svc_monitor_mac', sb.options['svc_monitor_mac'] ? [sb.options['svc_monitor_mac']] : []);
    env.addressSets = sets;
    const flows = sb.flows.get(datapath) ?? [];
    // A connection's walk is keyed without its TCP flags when no flow of the switch reads them (in a match or an
    // action): then the walk between two conntrack calls is a function of the other key words and of the calls'
    // outcomes, and conntrack's own use of the flags (its TCP tracking) is checked at every replayed call.
    this.connFlagsMask = flows.some((f) => FLAGS_NAMED.test(f.match) || FLAGS_NAMED.test(f.actions)) ? -1 : 0;
    // Where `next` may go: the release's table count (flows of no known release: 23.03's, as before 25.03).
    this.pipelineLen = LOG_PIPELINE_LEN[ovnVersionOfFlows(flows) ?? '23.03'];
    const tie = tieBreaker(sb);
    for (const pipeline of ['ingress', 'egress'] as const) {
      const mine = flows.filter((f) => f.pipeline === pipeline);
      const max = mine.reduce((m, f) => Math.max(m, f.table), -1);
      for (let t = 0; t <= max; t++) {
        const tf = mine.filter((f) => f.table === t).sort((a, b) => b.priority - a.priority || tie(a) - tie(b));
        const compiled: CompiledFlow[] = [];
        tf.forEach((f, i) => {
          const c = this.compileFlow(f, env, i, options.strict === true);
          if ('part' in c) this.skipped.push(c);
          else compiled.push(c);
        });
        // ovn-trace names a table after a flow it parsed (ovntrace_stage_name): none when every flow was skipped.
        this.tables[pipeline].push(this.buildTable(compiled[0]?.flow.stage ?? '', compiled));
      }
    }
    for (let i = 0; i < POOL; i++) this.addSlot();
    this.header0 = headerView(this.pool[0]!);
    this.ct = options.ct ?? new TraceConntrack();
    this.traceCt = this.ct instanceof TraceConntrack ? this.ct : undefined;
    this.ctHinted = hintedEngine(this.ct);
    this.ctWords = wordsEngine(this.ct);
    this.chassis = options.chassis;
    this.lbDst = options.lbDst;
    if (options.wordsOut === false) this.wordsOut = false;
    if (options.megaflows) this.enableMegaflows(options.megaflows === true ? {} : options.megaflows);
    this.noteConnOn();
  }

  /** {@link connOn} from the fields it stands for: after any of them changes. */
  private noteConnOn(): void {
    const o = this.megaOptions;
    this.connOn = this.wordsOut === false && o !== undefined && o.connections === true && this.chassis !== undefined && this.traceCt === undefined && this.lbDst === undefined;
  }

  /** The chassis the next packets are on (a cluster runs one compiled switch on every node); no allocation. */
  setChassis(chassis: string | undefined): void {
    this.chassis = chassis;
    if (this.megaOptions !== undefined) this.mega = this.megaTable(chassis);
    this.noteConnOn();
  }

  /** Changes the engine, chassis and `--lb-dst` without recompiling the tables. */
  configure(options: ExecutorOptions): void {
    this.ct = options.ct ?? new TraceConntrack();
    this.traceCt = this.ct instanceof TraceConntrack ? this.ct : undefined;
    this.ctHinted = hintedEngine(this.ct);
    this.ctWords = wordsEngine(this.ct);
    this.chassis = options.chassis;
    this.lbDst = options.lbDst;
    if (this.megaOptions !== undefined) this.mega = this.megaTable(this.chassis);
    this.noteConnOn();
  }

  private compileFlow(flow: LogicalFlow, env: MatchEnv, order: number, strict: boolean): CompiledFlow | SkippedLflow {
    // ovn-controller's order (consider_logical_flow__): the actions, then the match with the actions' prerequisites.
    let part: SkippedLflow['part'] = 'actions';
    try {
      const { actions, prereqs } = parseActions(flow.actions, flow.pipeline, flow.table, this.pipelineLen);
      part = 'match';
      let low = lower(parseMatch(flow.match), env, false, flow.match);
      if (prereqs.length) {
        const extra = prereqs.map((p) => lower(parseMatch(p), env, false, p));
        low = { t: 'and', xs: [low, ...extra] };
      }
      low = simplify(low);
      const match = compile(low);
      // Known only once the match compiled too: a flow OVN skips for its match is a skip, not an unmodelled flow.
      const ums = unmodelledActions(actions);
      if (ums.length) {
        const um = ums[0]!;
        const u: UnmodelledLflow = { flow, action: um.name, pinctrl: um.pinctrl };
        if (strict) throw new LflowError('UNSUPPORTED_LFLOW', `${lflowName(flow)}: OVN's action ${um.name} is not supported by vippath (strict) (OVN accepts it; vippath cannot run this flow)`, u);
        this.unmodelled.push(u);
        for (const a of ums) this.unmodelledAt.set(a, a === um ? u : { flow, action: a.name, pinctrl: a.pinctrl });
      }
      const omit = flow.match.trim() === '1' && actions.length === 1 && actions[0]!.k === 'next' && actions[0]!.pipeline === flow.pipeline && actions[0]!.table === flow.table + 1;
      const uuid = (flow.uuid ?? '').replace(/-/g, '').slice(0, 8).padEnd(8, '0');
      const src = flow.stage && flow.source ? `${flow.stage} (${flow.source}): ` : flow.stage ? `${flow.stage}: ` : flow.source ? `(${flow.source}): ` : '';
      const header = `${String(flow.table).padStart(2)}. ${src}${flow.match}, priority ${flow.priority}, uuid ${uuid}`;
      return { flow, match, actions, omit, header, order, low } as CompiledFlow & { low: LowExpr };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (e instanceof LflowError) throw e;
      if (e instanceof LflowSyntaxError) return { flow, part, refusal: e.refusal, message: msg };
      const where = `${flow.pipeline} table ${flow.table} (${flow.stage}) priority ${flow.priority}`;
      // What OVN would run and vippath cannot: refusing the database is the honest answer, not a skip.
      if (e instanceof LflowUnsupportedError) throw new LflowError('UNSUPPORTED_LFLOW', `${where}: ${msg} (OVN accepts it; vippath cannot run this flow)`);
      throw new LflowError('BAD_LFLOW', `${where}: ${msg}`);
    }
  }

  private buildTable(stage: string, flows: CompiledFlow[]): Table {
    // Pick the field most flows pin to one value (inport, eth.dst, ip4.dst…) and index them by it.
    let best: { word: number; words: number; n: number } = { word: -1, words: 1, n: 0 };
    for (const [word, words] of [[W.INPORT, 1], [W.OUTPORT, 1], [W.ETH_DST, 2], [W.IPV4_DST, 1], [W.ETH_SRC, 2]] as const) {
      const n = flows.filter((f) => exactKey((f as CompiledFlow & { low: LowExpr }).low, word, words) !== undefined).length;
      if (n > best.n) best = { word, words, n };
    }
    const index = new Map<number, CompiledFlow[]>();
    const others: CompiledFlow[] = [];
    if (best.n >= 4) {
      for (const f of flows) {
        const k = exactKey((f as CompiledFlow & { low: LowExpr }).low, best.word, best.words);
        if (k === undefined) others.push(f);
        else {
          const list = index.get(k) ?? [];
          list.push(f);
          index.set(k, list);
        }
      }
    }
    return { stage, flows, indexWord: best.n >= 4 ? best.word : -1, indexWidthWords: best.words, index, others };
  }

  /** Stage name of a table (for drops and the "no match" line). */
  stageName(pipeline: Pipeline, table: number): string {
    return this.tables[pipeline][table]?.stage ?? '';
  }

  private lookup(w: Uint32Array, table: number, pipeline: Pipeline): CompiledFlow | undefined {
    const t = this.tables[pipeline][table];
    if (!t) return undefined;
    if (this.rec !== undefined) return this.lookupRec(t, w);
    if (t.indexWord < 0) {
      const fs = t.flows;
      for (let i = 0; i < fs.length; i++) if (fs[i]!.match(w, this.matchCtx)) return fs[i];
      return undefined;
    }
    const key = t.indexWidthWords === 1 ? w[t.indexWord]! : w[t.indexWord + 1]! * 2 ** 32 + w[t.indexWord]!;
    const a = t.index.get(key);
    const b = t.others;
    // Merge the two lists in the table's order.
    let i = 0;
    let j = 0;
    const na = a ? a.length : 0;
    while (i < na || j < b.length) {
      const fa = i < na ? a![i] : undefined;
      const fb = j < b.length ? b[j] : undefined;
      const f = fa && (!fb || fa.order < fb.order) ? fa : fb!;
      if (f === fa) i++;
      else j++;
      if (f.match(w, this.matchCtx)) return f;
    }
    return undefined;
  }

  private isResident(port: string): boolean {
    if (port === '') return true;
    if (!this.residence.has(port)) return false;
    if (this.chassis === undefined) return true;
    return this.residence.get(port) === this.chassis;
  }

  private take(src: Uint32Array): Uint32Array {
    if (this.depth >= this.pool.length) this.addSlot();
    const w = this.pool[this.depth]!;
    if (this.rec !== undefined) this.dirtyOf(this.depth).set(this.dirtyOf(this.slotOf(src)));
    this.depth++;
    w.set(src);
    return w;
  }
  private addSlot(): void {
    // The first slot is every executor's one array (frame-sync.ts FIRST_WORDS: written whole at each walk's start).
    const w = this.pool.length === 0 ? FIRST_WORDS : new Uint32Array(W.SIZE);
    this.pool.push(w);
    this.poolSigned.push(new Int32Array(w.buffer, w.byteOffset, W.SIZE));
  }

  private give(): void {
    this.depth--;
  }

  private resetResult(keepLent = false): void {
    // outputs and drops are counted and handed out when the run ends (finish, outputsLive).
    const r = this.result;
    // A lent frame was the first output's buffer until now: the caller has it back, the slot its own buffer — unless
    // the caller lends it again to this run (`keepLent`, runFrameKey's test), whose take would put it back at once.
    if (this.slot0Lent === true && keepLent === false) {
      this.outSlots[0]!.frame = this.ownFrame0;
      this.slot0Lent = false;
    }
    this.nOutputs = 0;
    this.nDrops = 0;
    this.outShared = false;
    this.outputDecoded = -1;
    if (r.stages.length) r.stages.length = 0;
    if (r.ct.length) r.ct.length = 0;
    if (r.trace !== undefined) delete r.trace;
  }

  /** Port names of this datapath. */
  portNames(): string[] {
    return [...this.ports.keys()];
  }
  portKey(name: string): number | undefined {
    return this.ports.get(name)?.key ?? this.groups.get(name)?.key;
  }
  portName(key: number): string | undefined {
    return this.portsByKey.get(key)?.name ?? this.groupsByKey.get(key)?.name;
  }
  /** The tunnel key of logical port `name` — a port a frame can enter by, not a multicast group —, if any. */
  inportKey(name: string): number | undefined {
    return this.ports.get(name)?.key;
  }

  /**
   * Runs one frame arriving on `inport`. `frame` may be rewritten in place (and, for a tagged localnet frame,
   * shortened by the tag) — unless `input`: then it is only read, and copied where the run needs it (a connection's
   * replayed walk works on its output's buffer: one copy instead of one in and one out). Outputs reference copies of
   * the frame as it leaves each port. `checksumsGood`: the caller vouches for the frame's IPv4 and L4 checksums, as
   * for a pod's own frame (conntrack may then skip verifying them: CtResult.checksumsGood).
   */
  runFrame(frame: Uint8Array, length: number, inport: string, now = 0, trace = false, input = false, checksumsGood = false, lend = false): ExecResult {
    // The kept records' names first (a run from one port, or two alternating, looks nothing up).
    const last = this.lastInportRecord;
    const other = this.otherInportRecord;
    const port = last !== undefined && last.name === inport ? last : other !== undefined && other.name === inport ? other : this.ports.get(inport);
    if (port === undefined) throw new LflowError('UNKNOWN_PORT', `unknown logical port "${inport}" on datapath "${this.datapath}"`);
    return this.runFrameKey(frame, length, port.key, now, trace, input, checksumsGood, undefined, lend);
  }

  /**
   * {@link runFrame} with the port given by its tunnel key ({@link portKey}): the caller keeps the number beside the
   * name, and the port kept from the last packets is recognised by comparing numbers. A number that is no port's
   * throws LflowError `UNKNOWN_PORT`. `decoded`, when given, is the frame's decode by its writer, taken instead of
   * decoding `frame[0, length)`: it must hold every field decodePlainTcp4 (@vippath/wire) of those bytes would write,
   * with its values (decodePlainTcp4 returning true: the frame has its layout) — read during the call only, never
   * kept or written. Nothing checks it; the run is the same as without it.
   *
   * `lend` (with `input`): the frame is lent — its caller reads none of its bytes after the run and writes none while
   * the run's outputs are read, and it has room for 8 more bytes past `length` (or it is copied as usual). The run
   * then edits it in place and hands it out as its first output: no copy in. The caller has it back at the next
   * run's start (whichever run that is), which gives the first output its own buffer again. An argument, not a field
   * set before the call: each test of it is a compare of a value the run holds, with no store to set or clear it.
   */
  runFrameKey(frame: Uint8Array, length: number, key: number, now = 0, trace = false, input = false, checksumsGood = false, decoded?: Readonly<DecodedFrame>, lend = false): ExecResult {
    // A run of packets mostly enters by one port: its record is kept (its key compared, nothing hashed).
    // Two are kept: a connection's packets and its answers alternate between two ports (full-cold's SYN and the
    // pod's SYN-ACK, http's requests and responses). Numbers, not names: a name compare is a pointer compare only
    // while V8's feedback says both sides were always internalized strings, a call to its StringEqual otherwise
    // (bench/README "Port names compared as numbers (session 33)").
    let port = this.lastInportRecord;
    if (port === undefined || port.key !== key) {
      const last = port;
      const other = this.otherInportRecord;
      if (other !== undefined && other.key === key) port = other;
      else {
        port = this.portsByKey.get(key);
        if (port === undefined) throw new LflowError('UNKNOWN_PORT', `no logical port of tunnel key ${key} on datapath "${this.datapath}"`);
      }
      this.lastInportRecord = port;
      this.otherInportRecord = last;
    }
    // The frame the first output lends (slot0Lent) lent again, as the run's input: an answer's output handed to the
    // next switch (≈ 0.4 runs a frame on http). It stays the slot's buffer: giving the slot its own back here and taking
    // the frame again below were two stores of a pointer (each V8's write barrier; the slow path's builtin where the
    // frame is a young object). Both lent paths (copyInput's, connLookup's) take it then: `lend` with `input`, the room
    // past `length` — every test of theirs holds (an input tagged or not: the tag is popped after copyInput's take).
    this.resetResult(this.slot0Lent === true && lend === true && input === true && frame === this.outSlots[0]!.frame && frame.length >= length + 8);
    // A new packet (conntrack keeps a packet's key between its calls while the number stays), its checksums vouched
    // for or not by the caller: every edit the walk makes keeps them right (wire's edits, storeFrame).
    const res = this.res;
    res.packet++;
    res.checksumsGood = checksumsGood;
    this.frameGen = nextFrameGen();
    let len = length;
    const tagged = this.chassis !== undefined && port.localnet === true && port.tag !== undefined;
    // A boolean from here on, so that each test below is one compare, not V8's ToBoolean chain (bench/README
    // "Booleans tested as booleans (session 35)"); `!!` alone is a call to V8's ToBoolean builtin.
    input = input === true ? true : input === false ? false : !!input;
    // A lent input as one boolean, tested by connLookup and copyInput (an input only: a frame that is not one is the
    // walk's already).
    const lent = input && lend === true;
    if (input && tagged) {
      frame = this.copyInput(frame, len, lent);
      input = false;
    }
    // The writer's decode copied (thirty-odd loads and stores) where decodePlainTcp4 reads the bytes and checks the
    // layout (≈ 380 instructions): the cluster's pods hand theirs with their TCP/IPv4 answers.
    let plain: boolean;
    if (decoded !== undefined) {
      copyPlainTcp4(decoded, this.decoded);
      plain = true;
    } else plain = decodePlainTcp4(frame, len, this.decoded);
    if (plain === true) {
      // The input as it came, for the caller (SwitchOutcome.inL3): the walk's NAT rewrites the decode later.
      const d = this.decoded;
      this.inL3 = (d.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN ? d.l3Offset | 0x10000 : d.l3Offset;
      this.inSrc = d.ipSrc | 0;
      this.inDst = d.ipDst | 0;
    } else {
      this.inL3 = 0;
      this.decoder.decode(frame, this.decoded, len);
    }
    if (tagged) {
      // ovn-controller physical.c: a localnet port with a tag matches only that VLAN and strips it.
      if (this.decoded.vlanCount === 0 || this.decoded.vid(0) !== port.tag) {
        this.drop('ingress', 0, DropReason.LOCALNET_TAG);
        this.dropsLive[0]!.stage = 'physical';
        return this.finish();
      }
      len = popVlan(frame, len);
      this.decoder.decode(frame, this.decoded, len);
    }
    // An input (often a Buffer, another class) is never the executor's frame: the fields reading this.frame stay
    // monomorphic.
    if (!input) this.frame = frame;
    this.frameLength = len;
    const cached = !trace && this.mega !== undefined && this.decoded.status === 0;
    // An established connection's walk is looked up before the frame is loaded into words: a replay needs none.
    const conn = cached ? this.connLookup(port, now, frame, input, lent) : CONN_NONE;
    if (conn === CONN_REPLAYED) return this.finish();
    if (input) this.frame = frame = this.copyInput(frame, len, lent);
    const w = this.pool[0]!;
    // The shadow's header words are all that is read of it (storeFrame, reloadTranslated).
    if (loadIpv4Fresh(frame, this.decoded) === false) {
      w.fill(0);
      loadFrame(frame, this.decoded, w, true);
      this.shadowHeader.set(this.header0);
    }
    w[W.INPORT] = port.key;
    this.shadowExact = true;
    if (cached) return this.startCached(w, now, conn, port.localnet);
    return this.start(w, now, trace, port.localnet);
  }

  private outSlot(i: number): ExecOutput {
    return this.outSlots[i] ?? (this.outSlots[i] = newOutSlot());
  }

  /**
   * `frame[0, length)` copied into the executor's own buffer, the first output's (kept: views of it stay valid). The
   * walk runs there, so that a walk whose one output is its first needs no copy out ({@link deliver}); a write to
   * the frame after that output was delivered moves the walk to {@link inputBuf} first ({@link unshare}).
   */
  private copyInput(frame: Uint8Array, length: number, lent: boolean): Uint8Array {
    const out = this.outSlots[0]!;
    if (lent === true && frame.length >= length + 8) {
      // The lent frame is the first output's buffer and the walk's frame, no copy; the slot's own buffer is kept for the
      // next run (resetResult). Written out, as in connLookup: a method of its own was a call there. The slot lent
      // already: this very frame (kept by runFrameKey's resetResult; nothing else takes one before this).
      if (this.slot0Lent === false) {
        const own = out.frame;
        if (this.ownFrame0 !== own) this.ownFrame0 = own;
        this.slot0Lent = true;
        out.frame = frame;
      }
      return frame;
    }
    if (out.frame.length < length + 8) out.frame = new Uint8Array(Math.max(length + 64, 2048));
    const buf = out.frame;
    if (length === frame.length) typedSet.call(buf, frame);
    else for (let i = 0; i < length; i++) buf[i] = frame[i]!;
    return buf;
  }

  /** The buffer a walk goes on in once its frame is the first output's and is to be written ({@link unshare}). */
  private inputBuf = new Uint8Array(2048);
  /** The first output was delivered without a copy: its bytes are the frame's buffer, while `frame` is that buffer. */
  private outShared = false;

  /**
   * The first output's buffer is a lent frame ({@link runFrameKey}'s `lend`) until the next run's start, which gives it
   * back {@link ownFrame0}.
   */
  private slot0Lent = false;
  /** The first output's own buffer while {@link slot0Lent}: kept for the next frame that needs a copy. */
  private ownFrame0: Uint8Array = new Uint8Array(0);

  /**
   * Before a write to the frame: if the first output's bytes are the frame's (delivered without a copy), the walk
   * goes on in a copy, {@link inputBuf}, and the output keeps the bytes it was delivered with.
   */
  private unshare(): void {
    // A nested packet's frame (nest) is another buffer: the output's bytes are safe while it is written. A walk
    // from words (a microflow) may have no output slot yet.
    if (this.frame !== this.outSlots[0]?.frame) return;
    this.outShared = false;
    this.moveFrame();
  }

  /** The walk's frame copied into {@link inputBuf}, and the walk goes on there. */
  private moveFrame(): void {
    const f = this.frame;
    const len = this.frameLength;
    if (this.inputBuf.length < len + 8) this.inputBuf = new Uint8Array(len + 64);
    const buf = this.inputBuf;
    for (let i = 0; i < len; i++) buf[i] = f[i]!;
    this.frame = buf;
    this.frameGen = nextFrameGen();
  }

  /**
   * What {@link runFrame} decoded of its input before the walk, when the input has decodePlainTcp4's layout (IPv4
   * without options or fragment bits, TCP): its IPv4 header's offset, plus 0x10000 for a SYN without ACK; 0 for
   * any other input. `inSrc`/`inDst`: its addresses as signed words. Read by the switch for its caller.
   */
  inL3 = 0;
  inSrc = 0;
  inDst = 0;

  /**
   * The executor's decode for the caller of a run whose {@link outputDecoded} is not -1, read-only: it then holds, for
   * that output's bytes, every field readPlainTcp4Segment (@vippath/wire) writes, with its values (copyPlainTcp4Segment
   * takes them). Rewritten by the next run: read it before running another frame.
   */
  get outputDecode(): Readonly<DecodedFrame> {
    return this.outDecodeOf;
  }

  /** Runs a packet given as flow words (a microflow): a frame is built from them so conntrack can work on bytes. */
  runFlow(words: Uint32Array, now = 0, trace = false): ExecResult {
    this.resetResult();
    this.res.packet++;
    this.res.checksumsGood = false;
    this.frameGen = nextFrameGen();
    const w = this.pool[0]!;
    w.set(words);
    const frame = frameFromFlow(w);
    const buf = new Uint8Array(frame.length + 8);
    buf.set(frame);
    this.frame = buf;
    this.frameLength = frame.length;
    this.decoder.decode(buf, this.decoded, frame.length);
    this.shadow.set(w);
    this.shadowExact = false;
    return this.start(w, now, trace, this.localnetKeys.has(w[W.INPORT]!));
  }

  /**
   * A packet's per-run state, the same for the walked and the cached run. `localnet`: whether the inport is a
   * localnet port (runFrame knows it from the port record it keeps: no set lookup per frame).
   */
  private begin(w: Uint32Array, now: number, trace: boolean, localnet: boolean): void {
    this.now = now;
    this.depth = 1;
    // Every walk begins in ingress (a cached fork does not store its op's `inEgress`: exec).
    this.inEgress = false;
    this.lbDstConsumed = false;
    this.traceCt?.reset();
    this.inKey = w[W.INPORT]!;
    if (this.chassis !== undefined && localnet === true) w[W.FLAGS] = (w[W.FLAGS]! | LogFlag.LOCALNET) >>> 0;
  }

  private start(w: Uint32Array, now: number, trace: boolean, localnet: boolean): ExecResult {
    this.begin(w, now, trace, localnet);
    let root: TraceNode | undefined;
    if (trace) {
      root = new TraceNode(NodeType.PIPELINE, `ingress(dp="${this.datapath}", inport="${this.portName(this.inKey) ?? '(unnamed)'}")`);
      this.result.trace = root;
    }
    this.runTable(w, 0, 'ingress', root);
    return this.finish();
  }

  private nOutputs = 0;
  private nDrops = 0;
  private lastInportRecord: Port | undefined;
  private otherInportRecord: Port | undefined;

  private finish(): ExecResult {
    const r = this.result;
    // Pointer stores are compared first (here and on the replay's path): a store, even of the value already there,
    // runs V8's write barrier, whose slow path (a remembered-set insert) every store of a young object into an old
    // one takes — and with no allocation per packet, objects made shortly before a long run stay young throughout.
    const outs = handOut(this.outputsLive, this.noOutputs, this.nOutputs);
    if (r.outputs !== outs) r.outputs = outs;
    const drops = handOut(this.dropsLive, this.noDrops, this.nDrops);
    if (r.drops !== drops) r.drops = drops;
    return r;
  }

  private drop(pipeline: Pipeline, table: number, reason: number, unmodelled?: UnmodelledLflow): void {
    const i = this.nDrops++;
    const d = this.dropSlots[i] ?? (this.dropSlots[i] = { pipeline, table, stage: '', reason, unmodelled: undefined });
    d.pipeline = pipeline;
    d.table = table;
    d.stage = this.stageName(pipeline, table);
    d.reason = reason;
    // Stored only when it changes (LflowExecutor's finish: V8's write barrier): other drops leave undefined alone.
    if (d.unmodelled !== unmodelled) d.unmodelled = unmodelled;
    this.dropsLive[i] = d;
    if (this.rec !== undefined) this.emit(MfOp.DROP, undefined, 0, 0, 0, reason, pipeline, table);
  }

  private runTable(w: Uint32Array, table: number, pipeline: Pipeline, parent: TraceNode | undefined): void {
    if (this.depth > MAX_DEPTH) {
      parent?.append(NodeType.ERROR, '*** pipeline too deep');
      this.drop(pipeline, table, DropReason.TOO_DEEP);
      return;
    }
    let f: CompiledFlow | undefined;
    for (;;) {
      f = this.lookup(w, table, pipeline);
      if (!f || !f.omit || f.actions[0]!.k !== 'next' || (f.actions[0] as { table: number }).table !== table + 1) break;
      table++;
    }
    let node: TraceNode | undefined;
    if (parent) {
      if (f) {
        node = parent.append(NodeType.TABLE, f.header);
        this.result.stages.push({ pipeline, table, stage: f.flow.stage, priority: f.flow.priority, match: f.flow.match, actions: f.actions.map((a) => a.text).join(' ') || 'drop;', ...(f.flow.uuid ? { uuid: f.flow.uuid } : {}) });
      } else {
        const stage = this.stageName(pipeline, table);
        node = parent.append(NodeType.TABLE, `${String(table).padStart(2)}. ${stage ? `${stage}: ` : ''}no match (implicit drop)`);
      }
    }
    if (!f) {
      this.drop(pipeline, table, DropReason.NO_MATCH);
      return;
    }
    this.runActions(f.actions, w, table, pipeline, node);
  }

  /**
   * Runs an action list (from `from` on, when a cached walk resumes after an in-place ct); returns whether control
   * went on (next, output, a ct fork or a nested packet). While a segment is being recorded, each action is also
   * written into its program and its reads into its key.
   */
  private runActions(actions: readonly Action[], w: Uint32Array, table: number, pipeline: Pipeline, node: TraceNode | undefined, from = 0): boolean {
    if (from === 0 && (actions.length === 0 || (actions.length === 1 && actions[0]!.k === 'drop'))) {
      node?.append(NodeType.ACTION, 'drop;');
      this.drop(pipeline, table, DropReason.DROP_ACTION);
      return false;
    }
    let went = false;
    for (let i = from; i < actions.length; i++) {
      const a = actions[i]!;
      if (node) node.append(NodeType.ACTION, a.text);
      // A walk that goes on after a subtree cannot end a segment inside it (the cached program would lose what follows).
      const inner = this.rec !== undefined && i < actions.length - 1;
      switch (a.k) {
        case 'next':
          went = true;
          if (inner) this.pending++;
          if (a.pipeline !== pipeline) {
            const key = a.pipeline === 'ingress' ? w[W.INPORT]! : w[W.OUTPORT]!;
            const sub = node?.append(NodeType.PIPELINE, `${a.pipeline}(dp="${this.datapath}", ${a.pipeline === 'ingress' ? 'inport' : 'outport'}="${this.portName(key) ?? '(unnamed)'}")`);
            this.runTable(w, a.table, a.pipeline, sub);
          } else this.runTable(w, a.table, a.pipeline, node);
          if (inner) this.pending--;
          break;
        case 'output':
          went = true;
          if (inner) this.pending++;
          this.output(w, pipeline, table, node);
          if (inner) this.pending--;
          break;
        case 'drop':
          break;
        case 'load':
          if (this.rec !== undefined) this.recLoad(a, w);
          this.load(a.dst, a.value, a.port, w);
          if (node && !isRegister(a.dst)) node.append(NodeType.MODIFY, a.text.slice(0, -1));
          break;
        case 'move':
          if (node && !isRegister(a.dst)) node.append(NodeType.MODIFY, `${refText(a.dst)} = ${valueText(a.src, w)}`);
          if (this.rec !== undefined) {
            this.recRef(w, a.src, false);
            this.recRef(w, a.dst, true);
            this.emit(MfOp.MOVE, a);
          }
          copyBits(w, a.src.field.word, a.src.lo, w, a.dst.field.word, a.dst.lo, a.dst.width);
          break;
        case 'exchange': {
          if (node) {
            if (!isRegister(a.a)) node.append(NodeType.MODIFY, `${refText(a.a)} = ${valueText(a.b, w)}`);
            if (!isRegister(a.b)) node.append(NodeType.MODIFY, `${refText(a.b)} = ${valueText(a.a, w)}`);
          }
          if (this.rec !== undefined) {
            this.recRef(w, a.a, false);
            this.recRef(w, a.b, false);
            this.recRef(w, a.a, true);
            this.recRef(w, a.b, true);
            this.emit(MfOp.EXCHANGE, a);
          }
          this.exchange(a, w);
          break;
        }
        case 'ct_next':
        case 'ct_commit_nat':
        case 'ct_dnat':
        case 'ct_snat':
        case 'ct_lb':
        case 'ct_lb_mark':
          went = true;
          if (inner) this.pending++;
          this.ctFork(a, w, table, pipeline, node);
          if (inner) this.pending--;
          break;
        case 'ct_commit': {
          if (this.chassis !== undefined) {
            // On a chassis OVN's ct_commit is a ct() without recirculation (lib/actions.c encode_CT_COMMIT_V2:
            // NX_CT_RECIRC_NONE; no NAT asked, so the packet is not rewritten) after which the pass sees an untracked
            // packet (hideCt): what follows reads none of the call's outcome, and OVS's datapath flow goes on past it
            // in the same pass. The segment goes on too — the call an op inside it, the ct words it hides determined.
            if (this.rec !== undefined) {
              this.recHiddenCt(w);
              this.emit(MfOp.CT_COMMIT, a, 0, 0, 0, 0, pipeline, table);
            }
            this.ctCommit(a.nested, w);
            break;
          }
          const cont = this.rec !== undefined ? this.recInPlace(MfOp.CT_COMMIT, a, actions, i, table, pipeline, went) : -1;
          this.ctCommit(a.nested, w);
          if (cont >= 0) this.beginRec(cont, w);
          break;
        }
        case 'ct_clear':
          if (this.rec !== undefined) {
            this.recDirtyCt(w);
            this.emit(MfOp.CT_CLEAR, a);
          }
          ctClear(w);
          this.connCtZeroed = true;
          break;
        case 'ct_snat_to_vip': {
          const cont = this.rec !== undefined ? this.recInPlace(MfOp.CT_SNAT_VIP, a, actions, i, table, pipeline, went) : -1;
          this.ctSnatToVip(w, node);
          if (cont >= 0) this.beginRec(cont, w);
          break;
        }
        case 'result':
          this.result1(a.fn, a.dst, w, node);
          break;
        case 'ct_orig':
          // ovn-trace 24.03 leaves the destination alone (execute_actions: OVNACT_CT_ORIG_* do nothing); on a chassis
          // it is what ovn-controller's tables 81–83 load (ct-orig.ts).
          if (this.chassis !== undefined) {
            // The load reads the connection's original tuple (ct-orig.ts), which the megaflow recorder does not
            // key: a walk that runs it is not translated (fragments only, rare), the slow path runs it every time.
            if (this.rec !== undefined) this.poison();
            loadCtOrig(a, w);
          }
          break;
        case 'get_fdb': {
          const mac = readBits(w, a.mac.field.word, a.mac.lo + 32, 16) * 2 ** 32 + readBits(w, a.mac.field.word, a.mac.lo, 32);
          const v = this.fdb.get(mac) ?? 0;
          if (this.rec !== undefined) this.recFdb(w, a.mac, undefined, a.dst, v);
          writeBits(w, a.dst.field.word, a.dst.lo, a.dst.width, v);
          break;
        }
        case 'lookup_fdb': {
          const mac = readBits(w, a.mac.field.word, a.mac.lo + 32, 16) * 2 ** 32 + readBits(w, a.mac.field.word, a.mac.lo, 32);
          const port = readBits(w, a.port.field.word, a.port.lo, 32);
          const hit = this.fdb.get(mac) === port;
          node?.append(NodeType.ACTION, hit ? `/* MAC lookup for ${macOf(w, W.ETH_DST)} found in FDB. */` : '/* lookup mac failed in mac learning table. */');
          if (this.rec !== undefined) this.recFdb(w, a.mac, a.port, a.dst, hit ? 1 : 0);
          writeBits(w, a.dst.field.word, a.dst.lo, a.dst.width, hit ? 1 : 0);
          break;
        }
        case 'put_fdb':
          // ovn-trace does nothing; ovn-controller (pinctrl) learns the MAC on the port.
          if (this.chassis !== undefined) {
            if (this.rec !== undefined) this.emit(MfOp.PUT_FDB, a);
            this.putFdb(a, w);
          }
          break;
        case 'nest':
          went = true;
          // A new packet (its frame built from words) inside the walk: not translated, the slow path runs it.
          if (this.rec !== undefined) this.poison();
          this.nest(a.fn, a.nested, w, table, pipeline, node);
          break;
        case 'dec_ttl':
          // Its key: the TTL read whole (a cached walk decrements, or stops, for this TTL only).
          if (this.rec !== undefined) {
            this.recRead(w, W.ETH_TYPE, 0xffffffff);
            this.recRead(w, W.IP_TTL, 0xffffffff);
          }
          if (w[W.ETH_TYPE] === 0x800 || w[W.ETH_TYPE] === 0x86dd) {
            if (w[W.IP_TTL]! > 1) {
              if (this.rec !== undefined) {
                this.dirtyOf(this.slotOf(w))[W.IP_TTL] = 0xffffffff;
                this.emit(MfOp.DEC_TTL, a);
              }
              w[W.IP_TTL] = w[W.IP_TTL]! - 1;
              node?.append(NodeType.MODIFY, 'ip.ttl--');
            } else {
              // The flow's remaining actions do not run (DropReason.TTL_EXCEEDED). A cached walk replays the same
              // drop: the TTL it read is in its key.
              node?.append(NodeType.ERROR, `*** IPv${w[W.ETH_TYPE] === 0x800 ? 4 : 6} decrement TTL exception (TTL ${w[W.IP_TTL]}): OVS stops the flow's actions`);
              this.drop(pipeline, table, DropReason.TTL_EXCEEDED);
              return true;
            }
          }
          break;
        case 'commit_lb_aff':
          if (this.chassis !== undefined) {
            if (this.rec !== undefined) this.emit(MfOp.LEARN_AFF, a);
            this.learnAffinity(a, w);
          }
          break;
        case 'handle_svc_check':
        case 'noop':
          break;
        case 'unmodelled':
          // The walk ends here (the flow's remaining actions do not run): a counted drop with its reason. A cached
          // walk replays the same drop, its key being what led here (the flows' matches and the actions before).
          node?.append(NodeType.ERROR, `*** ${a.name}: ${a.pinctrl ? 'OVN hands the packet to ovn-controller (pinctrl) here' : 'OVN runs this action in the datapath here'}; vippath does not model it: dropped`);
          this.drop(pipeline, table, DropReason.UNMODELLED_ACTION, this.unmodelledAt.get(a));
          return true;
      }
    }
    if (!went) this.drop(pipeline, table, DropReason.ACTIONS_END);
    return went;
  }

  private exchange(a: Extract<Action, { k: 'exchange' }>, w: Uint32Array): void {
    const tmp = this.take(w);
    copyBits(w, a.b.field.word, a.b.lo, w, a.a.field.word, a.a.lo, a.a.width);
    copyBits(tmp, a.a.field.word, a.a.lo, w, a.b.field.word, a.b.lo, a.b.width);
    this.give();
  }

  private putFdb(a: Extract<Action, { k: 'put_fdb' }>, w: Uint32Array): void {
    const mac = readBits(w, a.mac.field.word, a.mac.lo + 32, 16) * 2 ** 32 + readBits(w, a.mac.field.word, a.mac.lo, 32);
    const port = readBits(w, a.port.field.word, a.port.lo, 32);
    if (this.fdb.get(mac) !== port) {
      this.fdb.set(mac, port);
      this.fdbVersion++;
    }
  }

  private load(dst: FieldRef, value: bigint, port: string | undefined, w: Uint32Array): void {
    if (port !== undefined) {
      writeBits(w, dst.field.word, dst.lo, 32, port === '' || port === 'none' ? 0 : (this.portKey(port) ?? 0));
      return;
    }
    if (dst.width <= 32) {
      writeBits(w, dst.field.word, dst.lo, dst.width, Number(value));
      return;
    }
    for (let done = 0; done < dst.width; done += 32) {
      const n = Math.min(32, dst.width - done);
      writeBits(w, dst.field.word, dst.lo + done, n, Number((value >> BigInt(done)) & 0xffffffffn));
    }
  }

  /**
   * Writes changed header words into the frame before conntrack reads it. Where only the Ethernet addresses may
   * differ from the shadow (exec's `near` for a ct fork's call, syncNear: here, not in callCt, whose size decides
   * whether forkCt inlines it), only those, as storeFrame would write them then: no byte conntrack reads, so the
   * frame generation stays — but for ARP, whose fields storeFrame writes whatever changed (and counts as written).
   */
  private syncFrame(w: Uint32Array): void {
    const near = this.syncNear;
    this.syncNear = false;
    if (this.decoded.status !== 0) return;
    if (this.outShared === true) this.unshare();
    if (near === true && this.decoded.l3 !== L3.ARP) storeEthShadow(this.frame, w);
    else if (storeFrame(this.frame, this.decoded, w, this.shadow, this.scratch) === true) this.frameGen = nextFrameGen();
  }

  private reloadFrame(w: Uint32Array): void {
    this.decoder.decode(this.frame, this.decoded, this.frameLength);
    this.frameGen = nextFrameGen();
    loadFrame(this.frame, this.decoded, w);
    this.shadow.set(w);
  }

  /** One conntrack call on the words `w`; `hidden`: the caller clears the ct fields after it (only the header is read back). */
  private callCt(w: Uint32Array, req: CtRequest, hidden = false): void {
    const res = this.res;
    // Conntrack may rewrite the frame (NAT; a walk taken again puts bytes back).
    if (this.outShared === true) this.unshare();
    if (this.connAnswerLast >= 0 && this.connAnswerNext <= this.connAnswerLast) {
      this.answerCt(w);
      return;
    }
    if (this.connRec === true && this.connOk === true) this.connPre(w, req);
    // No header word written since the segment began in step (exec's `synced`): the frame is the words' image.
    const skip = this.syncSkip;
    const words = this.ctWords;
    if (words !== undefined) {
      // The engine reads and writes the ct words itself (WordsConntrackEngine): what afterCt would write back is
      // there on return, the result holding the state, zone and flags.
      if (skip === true) this.syncSkip = false;
      else this.syncFrame(w);
      // The walk's first call is on a new packet (runFrame numbered it): no compare with the kept one.
      const fresh = res.packet !== this.ctPacket;
      if (fresh) this.ctPacket = res.packet;
      words.executeWords(this.frame, this.frameLength, this.decoded, req, res, w, this.now, this.frameGen, fresh, hidden);
      this.syncedAfter = true;
      // NAT's translated header read back (the header words and the ct words are apart: either order), an IPv4
      // frame's from the decode such an engine keeps (reloadTranslated's `kept`).
      if (res.rewritten === true) this.reloadKept(w);
      if (hidden === false && this.connRec === true && this.connOk === true) this.connPost(w);
      return;
    }
    this.callCtResult(w, req, hidden, skip);
  }

  /**
   * {@link callCt} on an engine without the words call (the result object carries the ct fields both ways). Out of
   * line for callCt's size: ctCommit inlines hideCtFirst (100 bytes) before callCt, and callCt's bytecode with what
   * its code inlines, × 1.2, must fit the rest of TurboFan's 920-byte budget (bench/README "ctCommit's conntrack
   * call inlined (session 44)").
   */
  private callCtResult(w: Uint32Array, req: CtRequest, hidden: boolean, skip: boolean): void {
    const res = this.res;
    ctWordsToResult(w, res);
    // A cached segment that began with the frame in step and wrote no header word has nothing to write (exec).
    if (skip === true) this.syncSkip = false;
    else this.syncFrame(w);
    this.ct.execute(this.frame, this.frameLength, this.decoded, req, res, this.now);
    // The header read back after NAT (reloadHeader), or the words as synced: in step either way.
    this.syncedAfter = true;
    if (hidden) {
      if (res.rewritten === true) this.reloadHeader(w);
      return;
    }
    this.afterCt(w);
    if (this.connRec === true && this.connOk === true) this.connPost(w);
  }

  /**
   * After NAT rewrote the frame in place: the translated header read back into the words, which then are the
   * shadow's (the call was made on words synced into the frame: only the words NAT changed are written).
   */
  private reloadHeader(w: Uint32Array): void {
    // NAT changes addresses and ports in place, never the frame's layout: read those back (the shadow is the
    // frame's image) instead of decoding it again — unless the shadow came from words (a microflow, a nested
    // packet), where only a decode says what the frame holds.
    if (this.shadowExact === true) reloadTranslated(this.frame, this.decoded, w, false);
    else this.reloadFrame(w);
  }

  /**
   * {@link reloadHeader} after a words engine's call, whose NAT keeps the decode's addresses and ports the frame's
   * (reloadTranslated's `kept`). A method of its own, not an argument: callCt's bytecode with what it inlines is
   * what decides whether forkCt and ctCommit inline callCt (TurboFan counts callCt's bytes and the ≈ 330 its code
   * inlines, × 1.2, against the 920 budget; session 44 had forkCt calling it at six bytes more, ≈ +60 a fork, and
   * callCtResult out of line for ctCommit, which spends 100 on hideCtFirst first).
   */
  private reloadKept(w: Uint32Array): void {
    if (this.shadowExact === true) reloadTranslated(this.frame, this.decoded, w, true);
    else this.reloadFrame(w);
  }

  /** The words after a conntrack call: the translated header read back, the ct fields from the result. */
  private afterCt(w: Uint32Array): void {
    const res = this.res;
    if (res.rewritten === true) this.reloadHeader(w);
    ctResultToWords(res, w);
  }

  private zone(w: Uint32Array, pipeline: Pipeline): number {
    // ovn-controller gives every local VIF its own zone (reg13); the port's key stands in for the zone number.
    return pipeline === 'ingress' ? w[W.INPORT]! : w[W.OUTPORT]!;
  }

  /**
   * Zone of a NAT action (actions.c branch-23.03: ct_dnat → MFF_LOG_DNAT_ZONE (reg11), ct_snat and the
   * ct_snat_to_vip table → MFF_LOG_SNAT_ZONE (reg12), ct_commit_nat on a switch → the port's zone (reg13));
   * ovn-controller allocates a DNAT and an SNAT zone per local datapath, here {@link DNAT_ZONE}/{@link SNAT_ZONE}.
   */
  private natZone(kind: 'ct_dnat' | 'ct_snat'): number {
    return kind === 'ct_dnat' ? DNAT_ZONE : SNAT_ZONE;
  }

  private ctFork(a: ForkAction, w: Uint32Array, table: number, pipeline: Pipeline, node: TraceNode | undefined): void {
    const cont = this.rec !== undefined ? this.recFork(a, table, pipeline) : -1;
    const copy = this.take(w);
    const label = this.forkCt(a, w, copy, table, pipeline, node);
    if (cont >= 0) this.beginRec(cont, copy);
    const sub = node?.append(NodeType.TRANSFORMATION, label);
    this.runTable(copy, table + 1, pipeline, sub);
    this.give();
  }

  /** The conntrack call of a forking ct action, on `copy` (a copy of `w`); returns the trace label. */
  private forkCt(a: ForkAction, w: Uint32Array, copy: Uint32Array, table: number, pipeline: Pipeline, node: TraceNode | undefined, plan = this.forkPlan(a)): string {
    let req = plan.base;
    let label = '';
    const ip = w[W.ETH_TYPE] === 0x800 || w[W.ETH_TYPE] === 0x86dd;
    const lb = plan.isLb;
    if (lb === true) {
      const l = a as LbAction;
      // A backend-less ct_lb_mark is OVS's `ct(nat)` on a chassis: it never starts a NAT, so no backend is asked for
      // (four of the five forking calls of a new connection's SYN and SYN|ACK, full-cold); only ovn-trace's mode
      // (no chassis) asks, for --lb-dst.
      let pick = NO_BACKEND;
      if (ip && (plan.hasBackends === true || this.chassis === undefined)) {
        const v6 = w[W.ETH_TYPE] === 0x86dd;
        // The family's one backend, where the plan found nothing for the hash to choose (CtPlan.one4): pickBackend's
        // answer without its two passes over the list (≈ 110 instructions a SYN to a one-backend VIP); --lb-dst
        // (ovn-trace's) may choose another, so pickBackend asks whenever one is set.
        const one = v6 ? plan.one6 : plan.one4;
        pick = one >= 0 && this.lbDst === undefined ? one : this.pickBackend(l.backends, l.hashFields, v6, copy, node);
      }
      // A backend's request by its index, made with the plan (no Map lookup by the backend per SYN); --lb-dst's
      // address on a backend-less action (ovn-trace's mode) through lbRequest's map.
      if (pick >= 0) req = plan.backendReqs[pick]!;
      else if (pick === LB_DST) req = this.lbRequest(plan, l, this.lbDst!);
    }
    if (plan.fixedZone === false) req.zone = this.zone(w, pipeline);
    if (!ip && lb) {
      // ovn-trace: a non-IP packet keeps its ct_state through ct_lb_mark and ct_lb. No call: exec's sync flags
      // cleared here as a call clears them, the frame as in step as before (exec reads syncedAfter).
      this.syncSkip = false;
      this.syncNear = false;
      this.syncedAfter = false;
      if (node !== undefined) label = a.k;
    } else {
      this.callCt(copy, req);
      if (node !== undefined) {
        label = this.ctLabel(a, copy);
        // The port a range gave is the one the packet now carries (the engine's pick; the ovn-trace imitation keeps
        // the packet's own, as execute_ct_nat does), not the range asked for.
        const port = req.natPortMax > req.natPortMin ? copy[W.TP_DST]! : req.natPortMin;
        const backend = req.nat === CtNat.DNAT ? `${req.natIpv6 ? `[${formatIPv6(req.natAddrMin, 0)}]` : `${req.natAddrMin[0]}.${req.natAddrMin[1]}.${req.natAddrMin[2]}.${req.natAddrMin[3]}`}${port ? `:${port}` : ''}` : undefined;
        this.result.ct.push({ pipeline, table, stage: this.stageName(pipeline, table), action: a.k, state: formatCtState(copy[W.CT_STATE]!), ...(backend ? { backend } : {}) });
      }
    }
    return label;
  }

  /**
   * The request a forking ct action makes, built once per action (OVN compiles each to one fixed `ct()`: only the
   * zone, from the packet's port, and ct_lb_mark's backend vary). Requests are never changed by an engine.
   */
  private forkPlan(a: ForkAction): CtPlan {
    let plan = this.ctPlans.get(a);
    if (plan !== undefined) return plan;
    const req = new CtRequest();
    let fixedZone = false;
    switch (a.k) {
      case 'ct_next':
        req.action = CtAction.CT_NEXT;
        break;
      case 'ct_commit_nat':
        req.action = CtAction.CT_COMMIT_NAT;
        req.commit = true;
        req.nat = CtNat.APPLY;
        break;
      case 'ct_dnat':
      case 'ct_snat':
        req.action = a.k === 'ct_dnat' ? CtAction.CT_DNAT : CtAction.CT_SNAT;
        req.zone = this.natZone(a.k);
        fixedZone = true;
        if (a.to) {
          req.commit = true;
          req.nat = a.k === 'ct_dnat' ? CtNat.DNAT : CtNat.SNAT;
          setNatAddr(req, a.to.addr, a.to.ipv6, a.to.portLo);
          // encode_ct_nat: nat(…:LO-HI), proto.max = HI or 0; OVS 3.1 sends no maximum unless it is above the
          // minimum (ofproto-dpif-xlate.c put_ct_nat) and then takes max = min (dpif-netdev.c dp_execute_cb). The
          // engine picks a port of the range as lib/conntrack.c nat_get_unique_tuple does.
          if (a.to.portHi) req.natPortMax = a.to.portHi;
        } else req.nat = CtNat.APPLY;
        break;
      case 'ct_lb':
      case 'ct_lb_mark':
        req.action = CtAction.CT_LB_MARK;
        req.nat = CtNat.APPLY;
        break;
    }
    const isLb = a.k === 'ct_lb_mark' || a.k === 'ct_lb';
    plan = { base: req, fixedZone, isLb, hasBackends: isLb && (a as LbAction).backends.length !== 0, lb: undefined, backendReqs: [], one4: -1, one6: -1 };
    if (isLb) {
      plan.one4 = this.onlyBackend(a as LbAction, false);
      plan.one6 = this.onlyBackend(a as LbAction, true);
    }
    if (isLb) for (const b of (a as LbAction).backends) plan.backendReqs.push(this.lbRequest(plan, a as LbAction, b));
    this.ctPlans.set(a, plan);
    return plan;
  }

  /**
   * The index pickBackend answers for a packet of the family `v6` whatever the packet, when no --lb-dst is set: the
   * family's only backend, if its hash fields (if any) are ones OVS accepts — one bucket, nothing to hash. Else -1.
   */
  private onlyBackend(a: LbAction, v6: boolean): number {
    let one = -1;
    for (let i = 0; i < a.backends.length; i++) {
      if (a.backends[i]!.ipv6 !== v6) continue;
      if (one >= 0) return -1;
      one = i;
    }
    if (one >= 0 && a.hashFields !== undefined && (this.hashFieldBits.get(a.hashFields) ?? this.compileFields(a.hashFields)) < 0) return -1;
    return one;
  }

  /** ct_lb_mark's or ct_lb's request for backend `dst` (one per backend, made on first use). */
  private lbRequest(plan: CtPlan, a: Extract<Action, { k: 'ct_lb_mark' | 'ct_lb' }>, dst: { addr: Uint8Array; ipv6: boolean; port: number }): CtRequest {
    const lb = plan.lb ?? (plan.lb = new Map());
    let req = lb.get(dst);
    if (req !== undefined) return req;
    req = new CtRequest();
    req.action = CtAction.CT_LB_MARK;
    req.commit = a.backends.length > 0;
    req.nat = CtNat.DNAT;
    setNatAddr(req, dst.addr, dst.ipv6, dst.port);
    // The connection marked natted (bit 1) and with the LB's SNAT flag (skip_snat bit 2, force_snat bit 3):
    // in ct_mark for ct_lb_mark, in ct_label's low word for ct_lb (actions.c encode_ct_lb's flag_reg; the bits
    // OVN_CT_NATTED, OVN_CT_LB_SKIP_SNAT, OVN_CT_LB_FORCE_SNAT of include/ovn/logical-fields.h).
    if (a.backends.length) {
      const flags = 2 | (a.flag === 'skip_snat' ? 4 : a.flag === 'force_snat' ? 8 : 0);
      if (a.k === 'ct_lb') {
        req.setLabel = true;
        req.labelValue[0] = flags;
        req.labelMask[0] = flags;
      } else {
        req.setMark = true;
        req.markValue = flags;
        req.markMask = flags;
      }
    }
    lb.set(dst, req);
    return req;
  }

  private ctLabel(a: Action, w: Uint32Array): string {
    const dflt = this.traceCt?.lastDefault ? ' /* default (use --ct to customize) */' : '';
    switch (a.k) {
      case 'ct_next':
        return `ct_next(ct_state=${formatCtState(w[W.CT_STATE]!)}${dflt})`;
      case 'ct_lb':
      case 'ct_lb_mark':
        return `${a.k}${dflt}`;
      case 'ct_commit_nat':
        return `ct_commit_nat /* assuming no un-nat entry, so no change */${dflt}`;
      case 'ct_dnat':
      case 'ct_snat': {
        const d = a.k === 'ct_dnat' ? 'dst' : 'src';
        // ovn-trace's execute_ct_nat prints the target through ipv6_format_addr (inet_ntop; OVN v23.03.1).
        if (a.to) return `ct_${d[0]}nat(${a.to.ipv6 ? 'ip6' : 'ip4'}.${d}=${a.to.ipv6 ? formatIPv6Ntop(a.to.addr, 0) : formatIPv4(a.to.ip4)})${dflt}`;
        return `ct_${d[0]}nat /* assuming no un-${d[0]}nat entry, so no change */${dflt}`;
      }
      default:
        return '';
    }
  }

  /**
   * The backend ct_lb_mark DNATs to. ovn-trace 23.03 (execute_ct_lb): `--lb-dst` if it is one of the backends
   * (then it is used up), else a random backend; for backend-less ct_lb_mark, `--lb-dst` if given (never used
   * up). Here the fallback is the bucket OVS 3.1 picks in the select group ovn-controller installs for the
   * action (select-group.ts): buckets in the order of the backends, dp_hash over the packet's 5-tuple, or
   * `hash_fields`. The 5-tuple is the packet's at this point, which is the one it entered the datapath with
   * unless an earlier stage of the same pass NATed it. Returns the backend's index in `backends` (its request is
   * the plan's `backendReqs` at that index), {@link LB_DST} for a backend-less action's `--lb-dst`, or
   * {@link NO_BACKEND}.
   */
  private pickBackend(backends: readonly LbBackend[], hashFields: string | undefined, v6: boolean, w: Uint32Array, node: TraceNode | undefined): number {
    const lbDst = this.lbDst && !this.lbDstConsumed && this.lbDst.ipv6 === v6 ? this.lbDst : undefined;
    // Backend-less: asked only without a chassis (forkCt, where such a ct_lb_mark is OVS's `ct(nat)`, which applies a
    // connection's NAT and never starts one, does not ask on a chassis); ovn-trace DNATs it to --lb-dst.
    if (backends.length === 0) return lbDst !== undefined ? LB_DST : NO_BACKEND;
    let n = 0;
    for (let i = 0; i < backends.length; i++) {
      const b = backends[i]!;
      if (b.ipv6 !== v6) continue;
      n++;
      if (lbDst && equalAddr(b.addr, lbDst.addr)) {
        this.lbDstConsumed = true;
        return i;
      }
    }
    if (n === 0) {
      node?.append(NodeType.ERROR, '*** no load balancing destination (use --lb-dst)');
      return NO_BACKEND;
    }
    let fields = 0;
    if (hashFields !== undefined) {
      fields = this.hashFieldBits.get(hashFields) ?? this.compileFields(hashFields);
      if (fields < 0) {
        node?.append(NodeType.ERROR, `*** OVS refuses the select group fields(${hashFields}): no backend`);
        return NO_BACKEND;
      }
    }
    if (n === 1) {
      // Both bucket choices of a one-bucket group are bucket 0: no hash to compute.
      for (let i = 0; i < backends.length; i++) if (backends[i]!.ipv6 === v6) return i;
    }
    const a = this.lbAddr;
    if (v6) {
      for (let i = 0; i < 4; i++) {
        a[i] = w[W.IPV6_SRC + 3 - i]!;
        a[4 + i] = w[W.IPV6_DST + 3 - i]!;
      }
    } else {
      a[0] = w[W.IPV4_SRC]!;
      a[4] = w[W.IPV4_DST]!;
    }
    const proto = w[W.IP_PROTO]!;
    // Northd never mixes families in one action; if it did, only the packet's family would count as buckets here.
    let pick = fields ? hashFieldsBucket(fields, v6, a, 0, 4, proto, w[W.TP_SRC]!, w[W.TP_DST]!, n) : dpHashBucket(rssHash(v6, a, 0, 4, proto, w[W.TP_SRC]!, w[W.TP_DST]!), n);
    for (let i = 0; i < backends.length; i++) {
      if (backends[i]!.ipv6 !== v6) continue;
      if (pick-- === 0) return i;
    }
    return NO_BACKEND;
  }

  private compileFields(text: string): number {
    let bits: number;
    try {
      bits = compileHashFields(text);
    } catch (e) {
      if (!(e instanceof VippathError)) throw e;
      bits = -1;
    }
    this.hashFieldBits.set(text, bits);
    return bits;
  }

  private ctCommit(nested: readonly Action[], w: Uint32Array, instr?: MfInstr): void {
    // A cached instruction keeps its constant request (no map lookup per packet).
    let req = (instr?.port as CtRequest | undefined) ?? this.commitPlans.get(nested);
    if (req === undefined) {
      // Braces of constant writes (every switch's `ct_commit { ct_mark.blocked = 0; }`) make one request for good.
      const constant = nested.every((a) => a.k !== 'move');
      req = this.commitRequest(nested, w, constant ? new CtRequest() : this.req);
      if (constant) this.commitPlans.set(nested, req);
    }
    if (instr !== undefined && instr.port === undefined && req !== this.req) instr.port = req;
    // Compared, not tested for truth (a field's ToBoolean is a chain of checks: bench/README "Booleans tested as
    // booleans (session 35)").
    req.zone = w[W.OUTPORT] !== 0 && this.inEgress === true ? w[W.OUTPORT]! : w[W.INPORT]!;
    // On a chassis the call's ct fields are hidden at once: not written into the words first (a recorded
    // connection's walk keeps what the call left, connPost).
    const hide = this.chassis !== undefined;
    this.callCt(w, req, hide && !(this.connRec === true && this.connOk === true));
    if (hide) {
      // The walk's first words (a SYN's commits, full-cold) through their double view: eight of the nineteen
      // stores two words at a time.
      if (w === FIRST_WORDS) hideCtFirst();
      else hideCt(w);
      this.connCtZeroed = true;
    }
  }

  /** ct_commit's request: its braces' writes to ct_mark and ct_label as masked values. */
  private commitRequest(nested: readonly Action[], w: Uint32Array, req: CtRequest): CtRequest {
    req.reset();
    req.action = CtAction.CT_COMMIT;
    req.commit = true;
    const tmp = this.take(w);
    tmp.fill(0);
    const mask = this.take(w);
    mask.fill(0);
    for (const a of nested) {
      if (a.k === 'load') {
        this.load(a.dst, a.value, a.port, tmp);
        for (let done = 0; done < a.dst.width; done += 32) writeBits(mask, a.dst.field.word, a.dst.lo + done, Math.min(32, a.dst.width - done), 0xffffffff);
      } else if (a.k === 'move') {
        copyBits(w, a.src.field.word, a.src.lo, tmp, a.dst.field.word, a.dst.lo, a.dst.width);
        for (let done = 0; done < a.dst.width; done += 32) writeBits(mask, a.dst.field.word, a.dst.lo + done, Math.min(32, a.dst.width - done), 0xffffffff);
      }
    }
    if (mask[W.CT_MARK]) {
      req.setMark = true;
      req.markValue = tmp[W.CT_MARK]!;
      req.markMask = mask[W.CT_MARK]!;
    }
    for (let i = 0; i < 4; i++) {
      if (mask[W.CT_LABEL + i]) req.setLabel = true;
      req.labelValue[i] = tmp[W.CT_LABEL + i]!;
      req.labelMask[i] = mask[W.CT_LABEL + i]!;
    }
    this.give();
    this.give();
    return req;
  }

  private inEgress = false;

  /**
   * The LB VIP whose address is the connection's original destination (ovn-trace get_lb_vip_data), for IPv4
   * connections only when the VIP is IPv4 or written IPv4-mapped (`[::ffff:a.b.c.d]`). ovn-trace 23.03 also takes
   * either for an IPv6 connection to ::ffff:a.b.c.d (it compares the VIP's in6_addr with ct_ipv6_dst whatever the
   * VIP's family); OVN does not — the chk_lb_hairpin flows ovn-controller installs for such VIPs match IPv4 packets
   * only (controller/lflow.c add_lb_vip_hairpin_flows, IN6_IS_ADDR_V4MAPPED, v23.03.1), and a real run neither
   * balances an IPv6 packet to an IPv4 VIP's mapped address nor hairpins one to a mapped IPv6 VIP
   * (test/hairpin-ovs.test.ts) — so vippath follows OVN: test/ipv6-text.test.ts counts where the two part
   * (MAPPED_VIP).
   */
  private vipOf(w: Uint32Array): (typeof this.vips)[number] | undefined {
    if (this.rec !== undefined) {
      const v4: number[] = [];
      let v6 = false;
      for (const v of this.vips) {
        if (v.ipv6) v6 = true;
        else v4.push(v.ip4);
      }
      if (v4.length) this.recMember(w, W.CT_NW_DST, v4.includes(w[W.CT_NW_DST]!), v4);
      if (v6) this.r6(w, W.CT_IPV6_DST);
    }
    for (const v of this.vips) {
      if (!v.ipv6 && v.ip4 === w[W.CT_NW_DST]) return v;
      // An IPv6 VIP written IPv4-mapped is IPv4 to ovn-controller (its hairpin flows match IPv4 packets, hairpin.ts):
      // never one for an IPv6 connection, though ovn-trace's get_lb_vip_data takes it.
      if (v.ipv6 && !(v.addr[3] === 0 && v.addr[2] === 0 && v.addr[1] === 0xffff) && eq6(w, W.CT_IPV6_DST, v.addr)) return v;
    }
    return undefined;
  }

  private ctSnatToVip(w: Uint32Array, node: TraceNode | undefined): void {
    if (this.chassis !== undefined) {
      this.ctSnatHairpinTable(w, node);
      return;
    }
    const vip = this.vipOf(w);
    // (An IPv4-mapped IPv6 VIP is never vipOf's: ovn-trace's execute_ct_snat_to_vip leaves it alone too.)
    if (!vip || vip.port !== w[W.CT_TP_DST]) return;
    node?.append(NodeType.ACTION, `/* nat(src=${vip.text}) */`);
    const req = this.req;
    req.reset();
    req.action = CtAction.CT_SNAT_TO_VIP;
    req.commit = true;
    req.nat = CtNat.SNAT;
    req.zone = SNAT_ZONE;
    const a = this.natScratch;
    a.fill(0);
    if (vip.ipv6) storeV6(vip.addr, 0, a, 0);
    else {
      a[0] = vip.ip4 >>> 24;
      a[1] = (vip.ip4 >>> 16) & 255;
      a[2] = (vip.ip4 >>> 8) & 255;
      a[3] = vip.ip4 & 255;
    }
    setNatAddr(req, a, vip.ipv6, 0);
    this.callCt(w, req);
  }

  /**
   * ct_snat_to_vip on a chassis: ovn-controller's OFTABLE_CT_SNAT_HAIRPIN (hairpin.ts), SNAT to the LB's
   * hairpin_snat_ip or the VIP; no matching flow leaves the packet as it is.
   */
  private ctSnatHairpinTable(w: Uint32Array, node: TraceNode | undefined): void {
    const to = this.hairpin.snatTarget(w);
    if (!to) return;
    node?.append(NodeType.ACTION, `/* ct(commit, zone=SNAT, nat(src=${to.v6 ? formatIPv6(to.bytes, 0) : formatIPv4(to.words[0]!)})) */`);
    const req = this.req;
    req.reset();
    req.action = CtAction.CT_SNAT_TO_VIP;
    req.commit = true;
    req.nat = CtNat.SNAT;
    req.zone = SNAT_ZONE;
    setNatAddr(req, to.bytes, to.v6, 0);
    this.callCt(w, req);
    hideCt(w);
    this.connCtZeroed = true;
  }

  private result1(fn: Extract<Action, { k: 'result' }>['fn'], dst: FieldRef, w: Uint32Array, node: TraceNode | undefined): void {
    let r = 0;
    switch (fn) {
      case 'chk_lb_hairpin':
      case 'chk_lb_hairpin_reply': {
        if (this.chassis !== undefined) {
          // ovn-controller's OFTABLE_CHK_LB_HAIRPIN / OFTABLE_CHK_LB_HAIRPIN_REPLY (hairpin.ts), not ovn-trace's
          // formula below. A real run showed the difference: the backend's SYN-ACK to the hairpin SNAT address is
          // a hairpin reply only through the flow the SYN learned.
          if (this.rec !== undefined) r = this.recHairpin(fn, w);
          else r = (fn === 'chk_lb_hairpin' ? this.hairpin.check(w, this.chassis) : this.hairpin.reply(w, this.chassis)) ? 1 : 0;
          if (this.rec !== undefined) this.recResult(w, dst, r);
          writeBits(w, dst.field.word, dst.lo, 1, r);
          node?.append(NodeType.MODIFY, `${refText(dst)} = ${r}`);
          return;
        }
        // ovn-trace execute_chk_lb_hairpin: a DNATed packet whose source equals its destination, for a VIP that is
        // the connection's original destination, on the VIP's port (original direction for chk_lb_hairpin).
        // (Reads are made only where they decide the result, so that a megaflow key holds no more than that.)
        const vip = this.vipOf(w);
        const type = this.rd(w, W.ETH_TYPE);
        if (vip && (type === 0x800 || type === 0x86dd)) {
          if (this.rdBits(w, W.CT_STATE, CtState.DNAT)) r = type === 0x800 ? (this.sameWords(w, W.IPV4_SRC, W.IPV4_DST, 1) ? 1 : 0) : this.sameWords(w, W.IPV6_SRC, W.IPV6_DST, 4) ? 1 : 0;
          if (r === 1) r = vip.port === this.rd(w, fn === 'chk_lb_hairpin' ? W.CT_TP_DST : W.TP_DST) ? 1 : 0;
        }
        if (this.rec !== undefined) this.recResult(w, dst, r);
        writeBits(w, dst.field.word, dst.lo, 1, r);
        node?.append(NodeType.MODIFY, `${refText(dst)} = ${r}`);
        return;
      }
      case 'check_in_port_sec':
        r = this.inPortSec(w) ? 0 : 1;
        break;
      case 'check_out_port_sec':
        r = this.outPortSec(w) ? 0 : 1;
        break;
      case 'chk_lb_aff':
        // ovn-trace 23.03 does nothing here (the destination keeps its value); ovn-controller looks the client up in
        // the flows commit_lb_aff learned.
        if (this.chassis === undefined) return;
        // The learned affinity flows are not translated: the slow path runs this walk.
        if (this.rec !== undefined) this.poison();
        r = this.lookupAffinity(w) ? 1 : 0;
        break;
    }
    if (this.rec !== undefined) this.recResult(w, dst, r);
    writeBits(w, dst.field.word, dst.lo, 1, r);
  }

  /**
   * chk_lb_hairpin / chk_lb_hairpin_reply on a chassis while a segment is recorded (hairpin.ts), the key taking what
   * decides the result. Every flow of OFTABLE_CHK_LB_HAIRPIN requires ip.src == ip.dst: a packet whose addresses
   * differ is told apart by one byte of each (nearly every packet); a hairpinned one reads whole every field the
   * table looks at, and its hit is replayed for the learn(). The reply table holds only learned flows, read as a
   * classifier reads them: nothing while none is learned, else the bits that tell the source from every learned
   * backend, or the whole fields; such entries rest on the tables' version.
   */
  private recHairpin(fn: 'chk_lb_hairpin' | 'chk_lb_hairpin_reply', w: Uint32Array): number {
    const chassis = this.chassis!;
    const type = this.rd(w, W.ETH_TYPE);
    const v6 = type === 0x86dd;
    if (!v6 && type !== 0x800) return 0;
    const src = v6 ? W.IPV6_SRC : W.IPV4_SRC;
    const dst = v6 ? W.IPV6_DST : W.IPV4_DST;
    const n = v6 ? 4 : 1;
    if (fn === 'chk_lb_hairpin') {
      if (!this.sameWords(w, src, dst, n)) return 0;
      for (const word of HAIRPIN_CHECK_WORDS) this.recRead(w, word, 0xffffffff);
      const hit = this.hairpin.check(w, chassis);
      if (hit) this.emit(MfOp.LEARN_HAIRPIN);
      return hit ? 1 : 0;
    }
    this.rec!.deps |= MfDep.HAIRPIN;
    const keys = this.hairpin.learnedKeys(chassis);
    if (keys === undefined) return 0;
    const has = this.hairpin.hasLearned(chassis, w[src]!);
    this.recMember(w, src, has, keys);
    if (!has) return 0;
    for (let i = 0; i < n; i++) {
      this.recRead(w, src + i, 0xffffffff);
      this.recRead(w, dst + i, 0xffffffff);
    }
    this.recRead(w, W.IP_PROTO, 0xffffffff);
    this.recRead(w, W.TP_SRC, 0xffffffff);
    return this.hairpin.reply(w, chassis) ? 1 : 0;
  }

  private recResult(w: Uint32Array, dst: FieldRef, r: number): void {
    this.emit(MfOp.SETBITS, undefined, dst.field.word, dst.lo, 1, r);
    this.recBits(w, dst.field.word, dst.lo, 1, true);
  }

  /** Affinity learned by commit_lb_aff: client → (VIP, port) → backend, with an idle timeout. */
  /** SB_Global options:register_consolidation ([25.03]): where a learned affinity puts the backend. */
  private registerConsolidation = false;

  /** `learnedBy`: the commit_lb_aff that learned it (its text names the VIP, backend, protocol and timeout). */
  private readonly affinity = new Map<string, { backend: LbBackend; proto: number; timeoutMs: number; expires: number; learnedBy: string }>();

  /**
   * Takes over the affinity `prev` (this switch's executor before its flows were recompiled) learned, as long as
   * OVS keeps the learned flows. OVN's affinity learn() carries delete_learned (lib/actions.c encode_COMMIT_LB_AFF),
   * and OVS deletes a bridge's learned flows when the last learn() into their table with their cookie goes.
   * `perFlow`: the learned flow has its learning lflow's cookie (ovn 9283a5849 "actions: Make sure affinity learnt
   * flows are auto deleted", in v23.03.3 and 24.03): it goes with its backend's ls_in_lb_aff_learn flow. Without it
   * (Debian's 23.03.1) every learned flow has cookie 0 and stays while any commit_lb_aff flow is left (on the
   * chassis: here, in this switch) — a real OVS 3.1 + OVN 23.03.1 run kept a client's affinity to a pod through
   * the pod's unready and ready again (test/testbed-caches.test.ts, session-affinity scenario, seed 20261202).
   */
  adoptAffinity(prev: LflowExecutor, perFlow: boolean): void {
    if (prev.affinity.size === 0) return;
    const live = new Set<string>();
    for (const t of this.tables.ingress) for (const f of t.flows) for (const a of f.actions) if (a.k === 'commit_lb_aff') live.add(a.text);
    for (const [k, e] of prev.affinity) if (perFlow ? live.has(e.learnedBy) : live.size > 0) this.affinity.set(k, e);
  }

  private affinityKey(w: Uint32Array, v6: boolean, vipWords: ArrayLike<number>, port: number): string {
    // Keys are built for new connections of LBs with affinity only (commit and check), not per packet.
    const src = v6 ? `${w[W.IPV6_SRC]},${w[W.IPV6_SRC + 1]},${w[W.IPV6_SRC + 2]},${w[W.IPV6_SRC + 3]}` : `${w[W.IPV4_SRC]}`;
    return `${src}>${Array.from(vipWords).join(',')}:${port}`;
  }

  /**
   * commit_lb_aff (actions.c encode_COMMIT_LB_AFF): a learned flow matching the client (ip.src), the VIP, the
   * protocol and the VIP's port, that loads the backend into reg4 (xxreg0 for IPv6) and reg8[0..15] and sets the
   * affinity flag; idle_timeout = timeout.
   */
  private learnAffinity(a: Extract<Action, { k: 'commit_lb_aff' }>, w: Uint32Array): void {
    const v6 = a.vip.ipv6;
    const vipWords = v6 ? wordsOf6(a.vip.addr) : [a.vip.ip4];
    this.affinity.set(this.affinityKey(w, v6, vipWords, a.vip.port), { backend: a.backend, proto: a.proto, timeoutMs: a.timeout * 1000, expires: this.now + a.timeout * 1000, learnedBy: a.text });
  }

  private lookupAffinity(w: Uint32Array): boolean {
    const v6 = w[W.ETH_TYPE] === 0x86dd;
    const vipWords = v6 ? [w[W.IPV6_DST]!, w[W.IPV6_DST + 1]!, w[W.IPV6_DST + 2]!, w[W.IPV6_DST + 3]!] : [w[W.IPV4_DST]!];
    const key = this.affinityKey(w, v6, vipWords, w[W.TP_DST]!);
    const e = this.affinity.get(key);
    if (!e || e.proto !== w[W.IP_PROTO]) return false;
    if (e.expires < this.now) {
      this.affinity.delete(key);
      return false;
    }
    e.expires = this.now + e.timeoutMs;
    // The learned flow's loads (actions.c encode_COMMIT_LB_AFF): MFF_LOG_LB_AFF_MATCH_IP4_ADDR reg4, the switch's
    // IPv6 xxreg0 and the port in reg8[0..15] — or, [25.03] when SB_Global options:register_consolidation is true
    // (northd en-global-config.c cbb88276a always sets it), xxreg1 and reg2[0..15]; and MLF_USE_LB_AFF_SESSION.
    const rc = this.registerConsolidation;
    if (e.backend.ipv6) loadV6(w, rc ? W.REGS + 4 : W.REGS, e.backend.addr, 0);
    else w[regWord(4)] = e.backend.ip4;
    if (e.backend.port) writeBits(w, rc ? regWord(2) : regWord(8), 0, 16, e.backend.port);
    w[W.FLAGS] = (w[W.FLAGS]! | LogFlag.USE_LB_AFF_SESSION) >>> 0;
    return true;
  }

  private inPortSec(w: Uint32Array): boolean {
    const port = this.portsByKey.get(this.rd(w, W.INPORT));
    if (!port || port.ps.length === 0) return true;
    for (const ps of port.ps) {
      if (this.rd(w, W.ETH_SRC) !== ps.mac[0] || this.rd(w, W.ETH_SRC + 1) !== ps.mac[1]) continue;
      const type = this.rd(w, W.ETH_TYPE);
      if (type === 0x800) {
        if (!ps.ip4.length && !ps.ip6.length) return true;
        if (ps.ip4.includes(this.rd(w, W.IPV4_SRC))) return true;
        return this.rd(w, W.IP_PROTO) === 17 && this.rd(w, W.TP_SRC) === 68 && this.rd(w, W.TP_DST) === 67 && this.rd(w, W.IPV4_SRC) === 0 && this.rd(w, W.IPV4_DST) === 0xffffffff;
      }
      if (type === 0x806) {
        if (this.rd(w, W.ARP_SHA) !== ps.mac[0] || this.rd(w, W.ARP_SHA + 1) !== ps.mac[1]) return false;
        if (!ps.ip4.length) return true;
        return ps.ip4.includes(this.rd(w, W.IPV4_SRC));
      }
      if (type === 0x86dd) {
        if (!ps.ip4.length && !ps.ip6.length) return true;
        const ll = ps.lla;
        if (!anyEq6(this.r6(w, W.IPV6_SRC), W.IPV6_SRC, ps.ip6) && !eq6(this.r6(w, W.IPV6_SRC), W.IPV6_SRC, ll)) return false;
        if (this.rd(w, W.IP_PROTO) === 58) {
          if (this.rd(w, W.TP_SRC) === 135 && (this.rd(w, W.ARP_SHA) || this.rd(w, W.ARP_SHA + 1)) && (this.rd(w, W.ARP_SHA) !== ps.mac[0] || this.rd(w, W.ARP_SHA + 1) !== ps.mac[1])) return false;
          if (this.rd(w, W.TP_SRC) === 136) {
            if ((this.rd(w, W.ARP_THA) || this.rd(w, W.ARP_THA + 1)) && (this.rd(w, W.ARP_THA) !== ps.mac[0] || this.rd(w, W.ARP_THA + 1) !== ps.mac[1])) return false;
            if (ps.ip6.length && !anyEq6(this.r6(w, W.ND_TARGET), W.ND_TARGET, ps.ip6) && !eq6(this.r6(w, W.ND_TARGET), W.ND_TARGET, ll)) return false;
          }
        }
        return true;
      }
      return true;
    }
    return false;
  }

  private outPortSec(w: Uint32Array): boolean {
    const port = this.portsByKey.get(this.rd(w, W.OUTPORT));
    if (!port || port.ps.length === 0) return true;
    for (const ps of port.ps) {
      if (this.rd(w, W.ETH_DST) !== ps.mac[0] || this.rd(w, W.ETH_DST + 1) !== ps.mac[1]) continue;
      const type = this.rd(w, W.ETH_TYPE);
      if (type === 0x800) {
        if (!ps.ip4.length && !ps.ip6.length) return true;
        if (!ps.ip4.length) return false;
        const d = this.rd(w, W.IPV4_DST);
        return ps.ip4.includes(d) || d === 0xffffffff || d >>> 28 === 0xe;
      }
      if (type === 0x86dd) {
        if (!ps.ip4.length && !ps.ip6.length) return true;
        if (!ps.ip6.length) return false;
        if (anyEq6(this.r6(w, W.IPV6_DST), W.IPV6_DST, ps.ip6)) return true;
        if (eq6(this.r6(w, W.IPV6_DST), W.IPV6_DST, ps.lla)) return true;
        return w[W.IPV6_DST + 3]! >>> 24 === 0xff;
      }
      return true;
    }
    return false;
  }

  private nest(fn0: NestFn, nested: readonly Action[], w: Uint32Array, table: number, pipeline: Pipeline, node: TraceNode | undefined): void {
    // ovn-trace execute_reject: a TCP RST for TCP, else an ICMP destination unreachable, sent back (loopback).
    let fn = fn0;
    let loopback = false;
    if (fn === 'reject') {
      loopback = true;
      fn = w[W.IP_PROTO] === 6 ? 'tcp_reset' : w[W.ETH_TYPE] === 0x800 ? 'icmp4' : 'icmp6';
      // (SCTP abort is not modelled: logical switches here carry no SCTP.)
    }
    if (fn === 'icmp4_error') fn = 'icmp4';
    if (fn === 'icmp6_error') fn = 'icmp6';
    if (loopback && (fn === 'icmp4' || fn === 'icmp6') && w[W.TP_SRC] === (fn === 'icmp4' ? 3 : 1)) return; // no recirculation
    const c = this.take(w);
    if (fn === 'icmp4' || fn === 'icmp6' || fn === 'tcp_reset') {
      // ovn-trace execute_icmp4 / execute_icmp6 / execute_tcp4_reset.
      if (loopback) {
        for (let i = 0; i < 2; i++) {
          c[W.ETH_DST + i] = w[W.ETH_SRC + i]!;
          c[W.ETH_SRC + i] = w[W.ETH_DST + i]!;
        }
        if (w[W.ETH_TYPE] === 0x800) {
          c[W.IPV4_DST] = w[W.IPV4_SRC]!;
          c[W.IPV4_SRC] = w[W.IPV4_DST]!;
        } else {
          for (let i = 0; i < 4; i++) {
            c[W.IPV6_DST + i] = w[W.IPV6_SRC + i]!;
            c[W.IPV6_SRC + i] = w[W.IPV6_DST + i]!;
          }
        }
      }
      c[W.IP_TTL] = 255;
      if (fn === 'tcp_reset') {
        c[W.IP_PROTO] = 6;
        c[W.TCP_FLAGS] = 0x004;
      } else {
        c[W.IP_PROTO] = fn === 'icmp4' ? 1 : 58;
        c[W.TP_SRC] = fn === 'icmp4' ? 3 : 1;
        c[W.TP_DST] = 1;
      }
    } else if (fn === 'arp') {
      // ovn-trace execute_arp.
      c[W.IP_FRAG] = 0;
      c[W.IP_DSCP] = 0;
      c[W.IP_ECN] = 0;
      c[W.IP_TTL] = 0;
      c[W.TCP_FLAGS] = 0;
      c[W.ETH_TYPE] = 0x806;
      c[W.ARP_OP] = 1;
      c[W.ARP_SHA] = w[W.ETH_SRC]!;
      c[W.ARP_SHA + 1] = w[W.ETH_SRC + 1]!;
      c[W.ARP_THA] = 0;
      c[W.ARP_THA + 1] = 0;
    } else if (fn === 'nd_na' || fn === 'nd_na_router') {
      // ovn-trace execute_nd_na.
      c[W.ETH_SRC] = w[W.ETH_DST]!;
      c[W.ETH_SRC + 1] = w[W.ETH_DST + 1]!;
      c[W.ETH_DST] = w[W.ETH_SRC]!;
      c[W.ETH_DST + 1] = w[W.ETH_SRC + 1]!;
      for (let i = 0; i < 4; i++) {
        c[W.IPV6_DST + i] = w[W.IPV6_SRC + i]!;
        c[W.IPV6_SRC + i] = w[W.ND_TARGET + i]!;
      }
      c[W.TP_SRC] = 136;
      c[W.ARP_SHA] = 0;
      c[W.ARP_SHA + 1] = 0;
      c[W.ARP_THA] = w[W.ETH_DST]!;
      c[W.ARP_THA + 1] = w[W.ETH_DST + 1]!;
    }
    const sub = node?.append(NodeType.TRANSFORMATION, fn === 'nd_na_router' ? 'nd_na' : fn);
    // The new packet is a different frame: rebuild it so conntrack and outputs see its bytes.
    // The new packet's outputs are copied into the output buffers, the first of which may hold the walk's frame
    // (copyInput): the walk's frame is moved off it first.
    if (fn !== 'clone') this.unshare();
    const savedFrame = this.frame;
    const savedLen = this.frameLength;
    const savedShadow = this.savedShadow;
    savedShadow.set(this.shadow);
    const savedExact = this.shadowExact;
    const savedGood = this.res.checksumsGood;
    if (fn !== 'clone') {
      // A packet ovn-controller would make and send (pinctrl's packet-out): nothing on it vouches for its checksums.
      this.res.checksumsGood = false;
      const f = frameFromFlow(c);
      this.frame = new Uint8Array(f.length + 8);
      this.frame.set(f);
      this.frameLength = f.length;
      this.decoder.decode(this.frame, this.decoded, f.length);
      this.frameGen = nextFrameGen();
      this.shadow.set(c);
      this.shadowExact = false;
    }
    this.runActions(nested, c, table, pipeline, sub);
    this.res.checksumsGood = savedGood;
    this.frame = savedFrame;
    this.frameLength = savedLen;
    this.shadow.set(savedShadow);
    this.shadowExact = savedExact;
    this.decoder.decode(this.frame, this.decoded, this.frameLength);
    this.frameGen = nextFrameGen();
    this.give();
  }

  private output(w: Uint32Array, pipeline: Pipeline, table: number, node: TraceNode | undefined): void {
    const key = w[W.OUTPORT]!;
    if (this.rec !== undefined) {
      this.recRead(w, W.OUTPORT, 0xffffffff);
      this.recRead(w, W.INPORT, 0xffffffff);
      this.recRead(w, W.FLAGS, LogFlag.ALLOW_LOOPBACK);
    }
    if (!key) {
      node?.append(NodeType.ERROR, '*** output to null logical port');
      this.drop(pipeline, table, DropReason.NULL_OUTPORT);
      return;
    }
    const port = this.portsByKey.get(key);
    const group = port ? undefined : this.groupsByKey.get(key);
    const outName = port?.name ?? group?.name ?? '(unnamed)';
    if (!port && !group) {
      node?.append(NodeType.ERROR, `*** unknown port or multicast group ${key}`);
      this.drop(pipeline, table, DropReason.UNKNOWN_OUTPORT);
    }
    if (pipeline === 'egress') {
      node?.append(NodeType.OUTPUT, `/* output to "${outName}", type "${port?.type ?? ''}" */`);
      node?.append(NodeType.MODIFY, `output("${outName}")`);
      if (port) this.deliver(w, port, node);
      return;
    }
    const eg = this.egressCopy(w);
    const inKey = w[W.INPORT]!;
    const inName = this.portName(inKey) ?? '(unnamed)';
    const loopback = (w[W.FLAGS]! & LogFlag.ALLOW_LOOPBACK) !== 0;
    if (group) {
      const mc = node?.append(NodeType.PIPELINE, `multicast(dp="${this.datapath}", mcgroup="${group.name}")`);
      for (let gi = 0; gi < group.ports.length; gi++) {
        const p = group.ports[gi]!;
        const inner = this.rec !== undefined && gi < group.ports.length - 1;
        if (this.chassis !== undefined && p.type === '' && p.chassis !== this.chassis) {
          // physical.c consider_mc_group: on a switch with a localnet port, other chassis' VIFs are reached by
          // the copy sent out of the localnet port, not from here.
          mc?.append(NodeType.OUTPUT, `/* skipping "${p.name}": not on chassis ${this.chassis} */`);
          continue;
        }
        const n = mc?.append(NodeType.PIPELINE, `egress(dp="${this.datapath}", inport="${inName}", outport="${p.name}")`);
        if (p.key !== inKey || loopback) {
          if (n) n.alwaysIndent = true;
          eg[W.OUTPORT] = p.key;
          if (this.rec !== undefined) {
            this.dirtyOf(this.slotOf(eg))[W.OUTPORT] = 0xffffffff;
            this.emit(MfOp.SET_OUTPORT, undefined, W.OUTPORT, 0, 32, p.key);
          }
          if (inner) this.pending++;
          this.egress(eg, n);
          if (inner) this.pending--;
        } else {
          n?.append(NodeType.OUTPUT, '/* omitting output because inport == outport && !flags.loopback */');
          this.drop(pipeline, table, DropReason.LOOPBACK);
        }
      }
      this.giveEgress();
      return;
    }
    let target = port;
    if (this.chassis !== undefined && port && port.type === '' && port.chassis !== this.chassis) {
      if (!port.chassis || !this.localnet) {
        node?.append(NodeType.ERROR, `*** "${port.name}" is not bound to any chassis reachable from ${this.chassis}`);
        this.drop(pipeline, table, DropReason.UNBOUND);
        this.giveEgress();
        return;
      }
      // physical.c (remote port on a localnet switch): outport becomes the localnet port, then the loopback check.
      node?.append(NodeType.OUTPUT, `/* "${port.name}" is bound on chassis ${port.chassis}: output through localnet port "${this.localnet.name}" */`);
      target = this.localnet;
      eg[W.OUTPORT] = target.key;
      if (this.rec !== undefined) {
        this.dirtyOf(this.slotOf(eg))[W.OUTPORT] = 0xffffffff;
        this.emit(MfOp.SET_OUTPORT, undefined, W.OUTPORT, 0, 32, target.key);
      }
    }
    if ((target && target.key !== inKey) || loopback) {
      const n = node?.append(NodeType.PIPELINE, `egress(dp="${this.datapath}", inport="${inName}", outport="${target?.name ?? outName}")`);
      this.egress(eg, n);
    } else {
      node?.append(NodeType.OUTPUT, '/* omitting output because inport == outport && !flags.loopback */');
      this.drop(pipeline, table, DropReason.LOOPBACK);
    }
    this.giveEgress();
  }

  /** The copy of a packet that goes through egress: logical flags, registers and zones cleared (physical.c). */
  private egressCopy(w: Uint32Array): Uint32Array {
    const eg = this.take(w);
    clearForEgress(eg);
    const rec = this.rec;
    if (rec !== undefined) {
      const d = this.dirtyOf(this.depth - 1);
      d[W.FLAGS] = 0xffffffff;
      d.fill(0xffffffff, W.REGS, W.REGS + 10);
      d[W.DNAT_ZONE] = 0xffffffff;
      d[W.SNAT_ZONE] = 0xffffffff;
      d[W.CT_ZONE] = 0xffffffff;
      rec.openTakes++;
      this.emit(MfOp.OUT_BEGIN);
    }
    return eg;
  }

  private giveEgress(): void {
    const rec = this.rec;
    if (rec !== undefined && rec.openTakes > 0) {
      rec.openTakes--;
      this.emit(MfOp.GIVE);
    }
    this.give();
  }

  private egress(w: Uint32Array, node: TraceNode | undefined): void {
    const was = this.inEgress;
    this.inEgress = true;
    this.runTable(w, 0, 'egress', node);
    this.inEgress = was;
  }

  /** `synced`: the frame holds what the words' header says already (a cached segment's, exec). */
  private deliver(w: Uint32Array, port: Port, node: TraceNode | undefined, synced = false): void {
    const i = this.nOutputs++;
    const out = this.outSlot(i);
    if (this.rec !== undefined) this.emit(MfOp.DELIVER, undefined, 0, 0, 0, 0, 'egress', 0, -1, port);
    out.port = port.name;
    out.tag = undefined;
    if (this.wordsOut) out.words.set(w);
    out.length = 0;
    if (this.decoded.status === 0) {
      if (!synced) this.syncFrame(w);
      let len = this.frameLength;
      const tagged = this.chassis !== undefined && port.localnet && port.tag !== undefined;
      if (this.frame === out.frame && !tagged) {
        // The walk ran in this output's buffer (copyInput): the bytes are there; a later write moves the walk (unshare).
        this.outShared = true;
      } else {
        // The first output's buffer is the frame's: its VLAN push must not move the walk's frame.
        if (this.frame === out.frame) this.unshare();
        if (out.frame.length < len + 4) out.frame = new Uint8Array(Math.max(len + 4, 2048));
        out.frame.set(this.frameView(len));
        if (tagged) {
          len = pushVlan(out.frame, len, port.tag!);
          out.tag = port.tag;
          node?.append(NodeType.OUTPUT, `/* push VLAN ${port.tag} (localnet tag) */`);
        }
      }
      out.length = len;
      // A pod's output, as the decode stands now (outputDecoded): copied, since the walk may go on writing the frame.
      const d = this.decoded;
      if (this.outputDecoded < 0 && !tagged && port.type === '' && plainTcp4Decoded(d)) {
        copyPlainTcp4Segment(d, this.outDecode);
        this.outputDecoded = i;
        if (this.outDecodeOf !== this.outDecode) this.outDecodeOf = this.outDecode;
      }
    }
    this.outputsLive[i] = out;
  }

  /** `frame[0, len)` as a view, kept per length while the frame's buffer stays (a copy of it allocates nothing). */
  private frameView(len: number): Uint8Array {
    const f = this.frame;
    if (this.viewsOf !== f) {
      // Two buffers' views kept: a walk moved off the first output's buffer (unshare) alternates between two.
      const v = this.views;
      this.views = this.views2;
      this.views2 = v;
      const o = this.viewsOf;
      this.viewsOf = this.viewsOf2;
      this.viewsOf2 = o;
      if (this.viewsOf !== f) {
        this.views.length = 0;
        this.viewsOf = f;
      }
    }
    return this.views[len] ?? (this.views[len] = f.subarray(0, len));
  }

  private viewsOf: Uint8Array | undefined;
  private views: Uint8Array[] = [];
  private viewsOf2: Uint8Array | undefined;
  private views2: Uint8Array[] = [];

  // ---------------------------------------------------------------------------------------------------------------
  // The megaflow cache (megaflow.ts): recording segments on the slow path, replaying them on the fast path.

  /**
   * Turns the megaflow cache on (one table per chassis, cleared when `maxEntries` is reached). Traced runs, microflows
   * and frames the decoder rejects always take the slow path. `connections` (default true): connections' whole walks
   * replayed (`connSlots` of them); `templates` (default true, with `connections`): a new connection's walk filled from
   * another connection's whose key it matches under the bits that walk read (megaflow.ts `ConnTemplate`), each call
   * still made and compared — off, every connection's walk is recorded from its own frames.
   */
  enableMegaflows(options: { maxEntries?: number; connections?: boolean; connSlots?: number; templates?: boolean } = {}): void {
    this.megaOptions = { maxEntries: options.maxEntries ?? 65536, connections: !!(options.connections ?? true), connSlots: options.connSlots ?? CONN_SLOTS, templates: !!(options.templates ?? true) };
    this.megaTables.clear();
    this.mega = this.megaTable(this.chassis);
    this.noteConnOn();
  }

  disableMegaflows(): void {
    this.megaOptions = undefined;
    this.megaTables.clear();
    this.mega = undefined;
    this.noteConnOn();
  }

  /** The counters of one chassis' cache (`null` for ovn-trace's chassis-blind view), or of all summed. */
  megaflowStats(chassis?: string | null): MegaflowStats {
    const sum: MegaflowStats = { hits: 0, misses: 0, slow: 0, stale: 0, inserted: 0, entries: 0, flushes: 0, connHits: 0, connBreaks: 0, connEntries: 0, connEvictions: 0, templateHits: 0 };
    for (const [k, t] of this.megaTables) {
      if (chassis !== undefined && k !== chassis) continue;
      for (const f of Object.keys(sum) as (keyof MegaflowStats)[]) sum[f] += t.stats[f];
    }
    return sum;
  }

  private megaTable(chassis: string | undefined): MegaflowTable | undefined {
    if (this.megaOptions === undefined) return undefined;
    // The chassis-blind table apart from any chassis' (even one named ''): a frame's flags at the root are the
    // table's (rootResid).
    const k = chassis ?? null;
    let t = this.megaTables.get(k);
    if (t === undefined) this.megaTables.set(k, (t = new MegaflowTable(this.megaOptions.maxEntries, this.megaOptions.connSlots)));
    return t;
  }

  /**
   * Whether this frame is an established connection's walk to replay (megaflow.ts `CONN_*`): IPv4 TCP without SYN
   * (a new connection is never one worth keeping, and takes none of this path's costs), a SYN|ACK while
   * MegaflowTable.synAckCredit lets it (the first established segment of its direction), or UDP; the connection
   * replay on, no words wanted out. Its key is made from the decode (the words loadFrame would give, packed as
   * megaflow.ts `CONN_KEY_WORDS` says: the other words are 0 for such a frame) and looked up; a walk found is
   * replayed.
   */
  private connLookup(port: Port, now: number, f: Uint8Array, input: boolean, lent: boolean): number {
    const d = this.decoded;
    if (this.connOn === false || d.l3 !== L3.IPV4) return CONN_NONE;
    const l4 = d.l4Offset >= 0;
    const frameFlags = l4 && d.ipProto === 6 ? d.tcpFlags : 0;
    if (d.ipProto !== 17) {
      if (d.ipProto !== 6 || ((frameFlags & TCP_SYN) !== 0 && (frameFlags & TCP_ACK) === 0)) return CONN_NONE;
      if ((frameFlags & TCP_SYN) !== 0) {
        // A SYN|ACK takes one of MegaflowTable.synAckCredit (≈ 0.2 a frame on http), none left: neither looked up nor
        // recorded. Here, not a method of the table's: as a call, not inlined here, its answer was tested by V8's
        // ToBoolean chain (the return type unknown to TurboFan).
        const m = this.mega!;
        const credit = m.synAckCredit;
        if (credit <= 0) return CONN_NONE;
        m.synAckCredit = credit - 1;
      }
    }
    const tcpFlags = frameFlags & this.connFlagsMask;
    // The key (megaflow.ts CONN_KEY_WORDS), compared with the candidate slot's as it is made: a hit stores none of it.
    // A port key above 16 bits would not fit its bits: no replay (none does: OVN's port keys are 15 bits).
    const inport = port.key;
    if (inport >>> 16 !== 0) return CONN_NONE;
    // begin()'s localnet flag is the port record's (runFrameKey hands it over).
    const k0 = inport | (port.localnet === true ? 0x10000 : 0) | (tcpFlags << 17);
    const k1 = (f[8]! << 24) | (f[9]! << 16) | (f[10]! << 8) | f[11]!;
    const k5 = (d.ipProto << 24) | (d.ipTtl << 16) | (d.ipTos << 8) | ((d.ipFragment === true ? (d.ipFragmentOffset !== 0 ? 3 : 1) : 0) << 6);
    const k6 = d.ipSrc | 0;
    const k7 = d.ipDst | 0;
    const k8 = l4 ? (d.srcPort << 16) | d.dstPort : 0;
    let h = mixHash(k0, k6);
    h = mixHash(h, k7);
    h = mixHash(h, k8);
    h = mixHash(h, k5 ^ k1);
    this.connHash = h;
    const k2 = (f[2]! << 24) | (f[3]! << 16) | (f[4]! << 8) | f[5]!;
    const k3 = (f[6]! << 24) | (f[7]! << 16) | (f[0]! << 8) | f[1]!;
    const k4 = (d.etherType << 16) | (d.vlanCount > 0 ? d.vlanTci[0]! | 0x1000 : 0);
    // The Ethernet words stored before the probe, hit or miss: a store is an effect, so each word is made once here.
    // Used only by the probe's compare and the miss path's stores, TurboFan's scheduler split each word's shifts and
    // ors into both branches, from spilled bytes. On a hit the key's other words are a frame's before: nothing reads
    // connKey before a miss's stores or loadConnKey fill it whole.
    const key = this.connKey;
    key[1] = k1;
    key[2] = k2;
    key[3] = k3;
    const t = this.mega!;
    const store = t.conns;
    let base = store === undefined ? -1 : store.candidate(h);
    let tmpl: ConnTemplate | undefined;
    // Whether another way of the bucket may hold the key: only where a way's tag was the hash's (candidate stops at
    // the first such way, or at the first empty one — after which find would see no way of that tag either).
    let sameTag = false;
    if (base >= 0) {
      const data = store!.data;
      if (
        data[base] === k0 && data[(base + 1) | 0] === k1 && data[(base + 2) | 0] === k2 && data[(base + 3) | 0] === k3 && data[(base + 4) | 0] === k4 && data[(base + 5) | 0] === k5 &&
        data[(base + 6) | 0] === k6 && data[(base + 7) | 0] === k7 && data[(base + 8) | 0] === k8
      )
        store!.touch(base);
      else {
        base = -1;
        sameTag = true;
      }
    }
    if (base < 0) {
      const k = key;
      k[0] = k0;
      k[4] = k4;
      k[5] = k5;
      k[6] = k6;
      k[7] = k7;
      k[8] = k8;
      // No walk held yet, or another key's in the first way of the bucket with these hash bits: every way looked at.
      // No way with these bits: a miss without find's second look (counted as find counts one: ConnStore.missed).
      if (store === undefined || (sameTag ? (base = store.find(h, k)) : store.missed()) < 0) {
        // Another connection's walk that this one's frame takes too (ConnTemplate): a slot filled from it, replayed.
        if (store === undefined || t.templates.length === 0 || (base = this.connFromTemplate(t, store, h)) === -1) return CONN_MISSED;
        // The store declined the slot: startCached must not ask it again for this frame (an answer moves its count).
        if (base < 0) return CONN_DECLINED;
        // The template filled from: connFromTemplate leaves it as its port's last fill (tmplLast, k0's hint entry) —
        // read there rather than stored in a field of its own at each fill (a pointer store: V8's write barrier).
        tmpl = this.tmplLast[k0 & (TMPL_HINTS - 1)];
      }
    }
    const data = store!.data;
    const deps = data[(base + CONN_DEPS) | 0]!;
    if (deps !== 0 && (((deps & MfDep.FDB) !== 0 && data[(base + CONN_FDB) | 0] !== this.fdbVersion) || ((deps & MfDep.HAIRPIN) !== 0 && data[(base + CONN_HAIRPIN) | 0] !== this.hairpin.version))) {
      // What it read of learned state has moved: the walk is void (recorded again if it comes again). The frame's
      // key, which recording compares, is the slot's.
      this.loadConnKey(data, base);
      store!.remove(base);
      t.stats.connEntries = store!.size;
      return CONN_MISSED;
    }
    // begin()'s per-run state is set only if the walk is taken again (connWalkState): nothing on the replay's way reads
    // it. The time too is replayConn's argument: the field is tagged (see `now`), and a store of a capture time's heap
    // number there ran V8's write barrier's builtin on every replay.
    if (input === true) {
      // The walk runs on its output's buffer (conntrack's NAT and the Ethernet writes in place): no copy out. A lent
      // frame is that buffer itself: no copy in either.
      const len = this.frameLength;
      const out = this.outSlots[0]!;
      if (lent === true && f.length >= len + 8) {
        // The lent frame as the output's buffer, as copyInput takes it — written out: a method of its own was a call
        // here, beyond this function's inlining budget (≈ 20 a frame).
        // The run's start gave the slot its own buffer back (resetResult), and this is the run's one take — or kept
        // this very frame there (the slot lent already: it is f).
        if (this.slot0Lent === false) {
          const own = out.frame;
          if (this.ownFrame0 !== own) this.ownFrame0 = own;
          this.slot0Lent = true;
          out.frame = f;
        }
        if (this.frame !== f) this.frame = f;
      } else {
        if (out.frame.length < len + 4) out.frame = new Uint8Array(Math.max(len + 4, 2048));
        const buf = out.frame;
        if (len === f.length) typedSet.call(buf, f);
        else for (let i = 0; i < len; i++) buf[i] = f[i]!;
        if (this.frame !== buf) this.frame = buf;
      }
    }
    if (tmpl === undefined) {
      this.replayConn(t, store!, data, base, now);
      return CONN_REPLAYED;
    }
    const breaks = t.stats.connBreaks;
    this.connFilling = true;
    this.replayConn(t, store!, data, base, now);
    this.connFilling = false;
    // A call's outcome was not the template's (another backend, say): the walk was taken again, its slot freed. The
    // template goes too: the connection's next frame records its own walk, which makes the template again.
    if (t.stats.connBreaks !== breaks) {
      dropTemplate(t, tmpl);
      this.tmplGen = (this.tmplGen + 1) | 0;
    } else t.stats.templateHits++;
    return CONN_REPLAYED;
  }

  private startCached(w: Uint32Array, now: number, conn: number, localnet: boolean): ExecResult {
    this.begin(w, now, false, localnet);
    this.pending = 0;
    this.rec = undefined;
    if (conn === CONN_MISSED || conn === CONN_DECLINED) {
      const t = this.mega!;
      const flagless = this.connFlagsMask === 0;
      let seen: Int32Array | undefined;
      let si = -1;
      let tag = 0;
      if (!flagless) {
        // Recorded the third time the key comes (MegaflowTable.connSeen: the hash's upper bits and a count, in groups
        // of 4 ways — direct-mapped, 14 % of 10 000 connections' keys shared an entry with another and never reached
        // 3). Keyed with its flags, a short connection's key comes at most twice (http): recording it costs more
        // than its replays save. Without the flags its way in comes four times, and is recorded at once.
        seen = t.connSeen ?? (t.connSeen = new Int32Array(CONN_SEEN));
        tag = this.connHash & ~3;
        const g = this.connHash & (CONN_SEEN - 4);
        for (let i = g; i < g + 4; i++) {
          if ((seen[i]! & ~3) === tag) {
            si = i;
            break;
          }
        }
        let count = 1;
        if (si >= 0) count = (seen[si]! & 3) + 1;
        else {
          // A way of the group for the new key: the one counted least.
          si = g;
          for (let i = g + 1; i < g + 4; i++) if ((seen[i]! & 3) < (seen[si]! & 3)) si = i;
        }
        if (count < 3 || (t.conns !== undefined && !t.conns.admit())) {
          // Not yet, or a full store declined it: three more sightings before it asks again.
          seen[si] = tag | (count < 3 ? count : 0);
          this.enterRoot(w);
          return this.finish();
        }
      } else if (t.conns !== undefined && (conn === CONN_DECLINED || !t.conns.admit())) {
        // CONN_DECLINED: connFromTemplate asked the store already (its answer moves the store's count of walks declined).
        this.enterRoot(w);
        return this.finish();
      }
      // The key is the words as the frame starts (the walk writes over them): kept only if the decode's key, which
      // lookups compare, is these words.
      const ex = this.connScratch;
      let same = this.packConnKey(this.poolSigned[0]!, ex);
      const key = this.connKey;
      for (let i = 0; i < CONN_KEY_WORDS; i++) if (ex[i] !== key[i]) same = false;
      this.connRec = true;
      this.connOk = same;
      this.connSteps = 0;
      this.connSegsN = 0;
      this.connPortSeen = false;
      this.connDirty = false;
      this.enterRoot(w);
      this.connRec = false;
      if (this.connOk === true && this.connPortSeen && this.connSteps > 0 && this.nOutputs === 1 && this.nDrops === 0) this.insertConn(t);
      // A walk not kept comes three more times before it is recorded again (without the flags: every time).
      else if (seen !== undefined) seen[si] = tag;
      return this.finish();
    }
    // The words were loaded from the frame just now (runFrame), the shadow with them.
    this.enterRoot(w);
    return this.finish();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Connections' walks (megaflow.ts CONN_*): recorded on the segment cache's path, replayed without the executor.

  private connRec = false;
  private connOk = false;
  /** Per port key's low bits, the template shape that served its last fill (connFromTemplate tries it first). */
  private readonly tmplShapeHint = new Int8Array(TMPL_HINTS);
  /** Per port key's low bits, the template of its last fill (connFromTemplate compares it first), with tmplGen then. */
  private readonly tmplLast: (ConnTemplate | undefined)[] = new Array<ConnTemplate | undefined>(TMPL_HINTS).fill(undefined);
  private readonly tmplLastGen = new Int32Array(TMPL_HINTS);
  /** Moved whenever a template leaves its shape's map (dropTemplate, the full table's clear): tmplLast's entries void. */
  private tmplGen = 0;
  /** A replay of the slot connFromTemplate just filled (the frame stands for a recording: replayConn's first-replay and end rules wait for the next). */
  private connFilling = false;
  /** The packet number (`res.packet`) of the last conntrack call through callCt's words path. */
  private ctPacket = 0;
  /** The engine's lookup epoch when the walk being recorded made its first call. */
  private connEpoch = 0;
  private connSteps = 0;
  private connHash = 0;
  /** The frame's key, made from its decode (connLookup; megaflow.ts `CONN_KEY_WORDS` says how it is packed). */
  private readonly connKey = new Int32Array(CONN_KEY_WORDS);
  /** The walk being recorded, laid out as a slot. */
  private readonly connScratch = new Int32Array(CONN_SLOT);
  /**
   * Whether the ct words were zeroed (ct_clear, hideCt after a chassis' ct_commit) since the walk being recorded made
   * its last call (connPost clears it): its next call's input is then all 0, else that call's outcome (connPre).
   */
  private connCtZeroed = false;
  /** The segments the walk being recorded was served from: the first `connSegsN` (the array is kept, not emptied: no allocation per walk). */
  private readonly connSegs: MfSegment[] = [];
  private connSegsN = 0;
  private connPortSeen = false;
  /** A segment of the walk being recorded may write a word connHeadersKept compares (connOpsOf). */
  private connDirty = false;
  /** The requests of the walk being recorded (numbered when it is kept). */
  private readonly connReqs: CtRequest[] = [];
  private connPortRec: Port | undefined;
  /** Requests and ports a slot names by number. */
  private readonly connObjs: unknown[] = [];
  private readonly connObjIds = new Map<unknown, number>();
  /** A replay stopped at a call: its live outcome, and the decode's translated fields after it. */
  private readonly connLive = new CtResult();
  private readonly connLiveD = new Int32Array(4);
  /**
   * The result's original addresses' first four bytes as one big-endian word each (read32's), for replayConn's whole
   * compare: one bounds check a word where read32's four byte reads had four.
   */
  private readonly resSrc32 = new DataView(this.res.originalSrc.buffer, this.res.originalSrc.byteOffset, 4);
  private readonly resDst32 = new DataView(this.res.originalDst.buffer, this.res.originalDst.byteOffset, 4);
  /** A walk taken again after a replay stopped: the calls up to `connAnswerLast` are answered, not made. */
  private connAnswerLast = -1;
  private connAnswerNext = 0;
  private connAnswerSlot = 0;

  private connObj(o: unknown): number {
    // A switch's walks name a few requests and ports: a scan of the first finds them without hashing.
    const objs = this.connObjs;
    const n = objs.length < 16 ? objs.length : 16;
    for (let i = 0; i < n; i++) if (objs[i] === o) return i;
    let id = this.connObjIds.get(o);
    if (id === undefined) {
      id = this.connObjs.length;
      this.connObjs.push(o);
      this.connObjIds.set(o, id);
    }
    return id;
  }

  /** The frame's key into connKey, from the slot it matched (connLookup's hit path compares it without storing it). */
  private loadConnKey(data: Int32Array, base: number): void {
    const k = this.connKey;
    for (let i = 0; i < CONN_KEY_WORDS; i++) k[i] = data[base + i]!;
  }

  /**
   * The key of the words `ws` a walk starts with into `ex[0, CONN_KEY_WORDS)`, packed as megaflow.ts says (the
   * lookup's key from the decode is packed alike). False when a word is wider than its bits, or `flags` holds more
   * than LOCALNET: two such walks' keys could be equal with their words not, so the walk is not kept.
   */
  private packConnKey(ws: Int32Array, ex: Int32Array): boolean {
    const inport = ws[W.INPORT]!;
    const flags = ws[W.FLAGS]!;
    const tcp = ws[W.TCP_FLAGS]! & this.connFlagsMask;
    const srcHi = ws[W.ETH_SRC + 1]!;
    const dstHi = ws[W.ETH_DST + 1]!;
    const type = ws[W.ETH_TYPE]!;
    const vlan = ws[W.VLAN_TCI]!;
    const proto = ws[W.IP_PROTO]!;
    const ttl = ws[W.IP_TTL]!;
    const dscp = ws[W.IP_DSCP]!;
    const ecn = ws[W.IP_ECN]!;
    const frag = ws[W.IP_FRAG]!;
    const sp = ws[W.TP_SRC]!;
    const dp = ws[W.TP_DST]!;
    if (
      (inport | srcHi | dstHi | type | vlan | sp | dp) >>> 16 !== 0 || (flags & ~LogFlag.LOCALNET) !== 0 || tcp >>> 15 !== 0 ||
      (proto | ttl) >>> 8 !== 0 || dscp >>> 6 !== 0 || (ecn | frag) >>> 2 !== 0
    )
      return false;
    ex[0] = inport | (flags !== 0 ? 0x10000 : 0) | (tcp << 17);
    ex[1] = ws[W.ETH_SRC]!;
    ex[2] = ws[W.ETH_DST]!;
    ex[3] = (srcHi << 16) | dstHi;
    ex[4] = (type << 16) | vlan;
    ex[5] = (proto << 24) | (ttl << 16) | (dscp << 10) | (ecn << 8) | (frag << 6);
    ex[6] = ws[W.IPV4_SRC]!;
    ex[7] = ws[W.IPV4_DST]!;
    ex[8] = (sp << 16) | dp;
    return true;
  }

  /** The words a walk with key `k` (packConnKey's) starts with, into `w` (all 0 but these). */
  private static unpackConnKey(k: Int32Array, w: Uint32Array): void {
    const k0 = k[0]!;
    w[W.INPORT] = k0 & 0xffff;
    w[W.FLAGS] = (k0 & 0x10000) !== 0 ? LogFlag.LOCALNET : 0;
    w[W.TCP_FLAGS] = k0 >>> 17;
    w[W.ETH_SRC] = k[1]! >>> 0;
    w[W.ETH_DST] = k[2]! >>> 0;
    w[W.ETH_SRC + 1] = k[3]! >>> 16;
    w[W.ETH_DST + 1] = k[3]! & 0xffff;
    w[W.ETH_TYPE] = k[4]! >>> 16;
    w[W.VLAN_TCI] = k[4]! & 0xffff;
    const k5 = k[5]!;
    w[W.IP_PROTO] = k5 >>> 24;
    w[W.IP_TTL] = (k5 >>> 16) & 255;
    w[W.IP_DSCP] = (k5 >>> 10) & 63;
    w[W.IP_ECN] = (k5 >>> 8) & 3;
    w[W.IP_FRAG] = (k5 >>> 6) & 3;
    w[W.IPV4_SRC] = k[6]! >>> 0;
    w[W.IPV4_DST] = k[7]! >>> 0;
    w[W.TP_SRC] = k[8]! >>> 16;
    w[W.TP_DST] = k[8]! & 0xffff;
  }

  /**
   * The recorded conntrack calls on the frame as it is; while each outcome is the recorded one the walk between
   * them is the recorded one too (its words are functions of the frame's words, equal by the key, and of the
   * outcomes), so only the Ethernet addresses it wrote and its output remain.
   */
  private replayConn(t: MegaflowTable, store: ConnStore, data: Int32Array, base: number, now: number): void {
    // The store and its words as connLookup has them (its checks of both made there: not again here).
    const res = this.res;
    const d = this.decoded;
    const label = res.label;
    // The slot's words read once each: nothing the loop calls writes the store (the engine's calls write their
    // result and the frame), so TurboFan's reload of each after a call would find the same word.
    const steps0 = data[(base + CONN_STEPS) | 0]!;
    const steps = steps0 & 3;
    const frame = this.frame;
    // Read once, as locals: after each engine call TurboFan checks `this`'s map and loads a field again (nothing the
    // calls run writes either: the engine writes its result, the decode and the frame's bytes).
    const len = this.frameLength;
    const objs = this.connObjs;
    const hinted = this.ctHinted;
    const epoch = hinted !== undefined ? hinted.epoch : 0;
    const slotEpoch = data[(base + CONN_EPOCH) | 0]!;
    // The steps' nodes were found in this epoch (no clear since, which reuses slots without moving generations).
    const sameEpoch = hinted !== undefined && slotEpoch === epoch;
    // The step (its outcome's offset) whose hinted call found its node and left the original tuple unwritten
    // (HintedConntrackEngine.executeHinted): the tuple is that step's recorded one, put back only where something
    // reads it — the next call in the same zone, or the walk taken again.
    let pend = -1;
    for (let k = 0; k < steps; k++) {
      const b = (base + CONN_STEP0 + Math.imul(k, CONN_STEP)) | 0;
      const rq = data[(b + CONN_S_REQ) | 0]!;
      if ((rq & 1) === 0) {
        // What callCt hands over from words whose ct fields are all 0 (a fresh packet, or after hideCt).
        res.state = 0;
        res.mark = 0;
        label[0] = 0;
        label[1] = 0;
        label[2] = 0;
        label[3] = 0;
        res.hasOriginal = false;
        res.originalProto = 0;
        res.originalIpv6 = false;
        res.originalSrcPort = 0;
        res.originalDstPort = 0;
      } else {
        // The previous call's result, as callCt carries it through the words (kept only where the walk between
        // left the ct words as that call wrote them): loadOriginal's view of the tuple it stored.
        if (pend >= 0 && (data[(b + CONN_S_ZONE) | 0]! & 0xffff) === res.zone) restoreTuple(res, data, pend);
        res.hasOriginal = res.originalProto !== 0;
        res.originalIpv6 = false;
        if (!res.hasOriginal) {
          res.originalSrcPort = 0;
          res.originalDstPort = 0;
        }
      }
      pend = -1;
      res.tupleWritten = false;
      res.rewritten = false;
      const req = objs[rq >> 2] as CtRequest;
      req.zone = data[(b + CONN_S_ZONE) | 0]!;
      let same = false;
      if (hinted !== undefined) {
        // A step after the first: the packet is the one the previous step's call left, and nothing here writes the
        // frame or the decode between calls (`next`: its key is reused without samePacket's compares). The first: a
        // new packet (`fresh`; its number moved, so samePacket would answer no).
        // `keyed`: the step's node is what the engine found for this call's packet before — the recording's call or a
        // replay's (written back below), each on the packet this call has: the key's addresses, protocol and ports,
        // as the calls before it left them (their outcomes the recorded ones, or the walk was void), in the step's
        // zone, entered with the recorded ct_state and zone (the previous outcome, or cleared: CONN_S_REQ's bit).
        // A template's steps name none (-1, in no epoch: connFromTemplate).
        const node0 = data[(b + CONN_S_NODE) | 0]!;
        const gen0 = data[(b + CONN_S_GEN) | 0]!;
        hinted.executeHinted(frame, len, d, req, res, now, node0, gen0, slotEpoch, k > 0, k === 0, true);
        // The node found now is the hint for next time (in this epoch, if nothing moved it during the walk).
        const node = hinted.foundNode;
        const gen = hinted.foundGen | 0;
        if (node0 !== node || gen0 !== gen) {
          data[(b + CONN_S_NODE) | 0] = node;
          data[(b + CONN_S_GEN) | 0] = gen;
        } else same = sameEpoch && node >= 0 && hinted.epoch === epoch;
      } else {
        this.ct.execute(frame, len, d, req, res, now);
      }
      // The call's first lookup found the very node (slot, direction) whose outcome the step holds, its slot's
      // generation and the engine's epoch unchanged — the same connection, its slot never freed (a freed slot's
      // generation moves) nor the table cleared (the epoch moves) since. Its
      // outcome then differs from the recorded one at most in what a live connection changes: the state (its TCP
      // tracking, expiry, a packet refused as invalid; a new connection made in its place is ct.new, which no
      // recorded step is) and its mark and label (ct_commit). The rest is a function of that connection and of the
      // call's input, which is the recorded one (the key's words, the request, and — a call at a time — the
      // previous outcome): the zone is the request's; the original tuple is the record's original key, and the
      // translated addresses and ports and the rewritten flag come from its NAT action, its reply key and the
      // node's direction, all written when the connection is made and never after (engine.ts connNotFound,
      // natUniqueTuple); tupleWritten and hasOriginal are set by every lookup that finds a connection (writeMeta).
      // The step holds the outcome of the node it names as of the slot's epoch: recorded together (connPost), the
      // name moved only where the whole outcome was compared equal, the epoch kept only when it did not move during
      // the walk or replay. A call answered without a first lookup (a repeated zone's fast
      // path, an untrackable packet) names no node (-1), and is compared whole.
      const o = (base + CONN_OUT0 + Math.imul(k, CONN_OUT)) | 0;
      if (same && res.tupleWritten === false) pend = o;
      if (
        data[(b + CONN_S_STATE) | 0] !== (res.state | 0) || data[(b + CONN_S_MARK) | 0] !== (res.mark | 0) ||
        // A label recorded as 0 (CONN_RQ_LABEL clear: every step of http's walks) is compared without reading the slot's
        // four words: each read cost a bounds check of its own after the engine's call.
        ((rq & CONN_RQ_LABEL) === 0
          ? (label[0]! | label[1]! | label[2]! | label[3]!) !== 0
          : data[(b + CONN_S_LABEL) | 0] !== (label[0]! | 0) || data[(b + CONN_S_LABEL + 1) | 0] !== (label[1]! | 0) || data[(b + CONN_S_LABEL + 2) | 0] !== (label[2]! | 0) || data[(b + CONN_S_LABEL + 3) | 0] !== (label[3]! | 0)) ||
        (!same &&
          (data[o] !== res.zone || data[(o + 1) | 0] !== resFlags(res) || data[(o + 2) | 0] !== res.originalProto || data[(o + 3) | 0] !== res.originalSrcPort || data[(o + 4) | 0] !== res.originalDstPort ||
            data[(o + 5) | 0] !== this.resSrc32.getInt32(0) || data[(o + 6) | 0] !== this.resDst32.getInt32(0) ||
            data[(o + 7) | 0] !== (d.ipSrc | 0) || data[(o + 8) | 0] !== (d.ipDst | 0) || data[(o + 9) | 0] !== d.srcPort || data[(o + 10) | 0] !== d.dstPort))
      ) {
        t.stats.connBreaks++;
        // The walk taken again starts its call k from this outcome (connAgain), tuple included.
        if (pend === o) restoreTuple(res, data, o);
        // The walk taken again runs on the executor's buffer, as a frame not replayed does (deliver copies out).
        if (frame !== this.inputBuf && frame === this.outSlots[0]?.frame) this.moveFrame();
        this.frameGen = nextFrameGen();
        // The walk from the start needs the words the frame started with: the key's (the others are 0).
        const w = this.pool[0]!;
        w.fill(0);
        this.loadConnKey(data, base);
        LflowExecutor.unpackConnKey(this.connKey, w);
        // A key without the flags: the frame's (conntrack writes none).
        if (this.connFlagsMask === 0 && d.ipProto === 6) w[W.TCP_FLAGS] = d.tcpFlags;
        this.shadowHeader.set(this.header0);
        this.shadowExact = true;
        this.now = now;
        this.connWalkState();
        this.connAgain(base, k, w);
        // Its connection closed, expired or changed: the walk is void (a dead connection's slot is freed first).
        store.remove(base);
        t.stats.connEntries = store.size;
        return;
      }
    }
    if (hinted !== undefined) {
      const now = hinted.epoch;
      data[(base + CONN_EPOCH) | 0] = now === epoch ? now : 0;
    }
    t.stats.hits += (steps0 >>> 3) & 0x1fff;
    t.stats.connHits++;
    // Compared (here and at the end check): a plain test of the field was V8's ToBoolean chain (five compares).
    if (steps0 < 0 && this.connFilling === false) {
      // A walk's first replay: connections here go on after their first segments (MegaflowTable.synAckCredit). Not
      // the frame a template filled the slot for: that frame stands for the recording (its next frame pays).
      data[(base + CONN_STEPS) | 0] = steps0 & ~CONN_UNPROVEN;
      // It pays CONN_SYNACK_PAY into the credit, up to CONN_SYNACK_CREDIT: here with this module's constants, not a
      // method of the table's (inlined, the table module's own were bindings TurboFan loaded and checked, and Math.min
      // compared as doubles).
      const credit = t.synAckCredit + CONN_SYNACK_PAY;
      t.synAckCredit = credit < CONN_SYNACK_CREDIT ? credit : CONN_SYNACK_CREDIT;
    }
    // The walk's Ethernet writes (the only header words it changes: kept so) as storeFrame makes them when the
    // output is synced, then the output (deliver's, without the words: wordsOut is off).
    // The frame's addresses are the key's, which is the slot's (conntrack writes no Ethernet byte); both packed alike
    // (low words, then the high halves in one word: source above destination).
    const hi = data[(base + CONN_ETH + 2) | 0]!;
    if (data[(base + 2) | 0] !== data[(base + CONN_ETH + 1) | 0] || ((data[(base + 3) | 0]! ^ hi) & 0xffff) !== 0) putMac(frame, 0, data[(base + CONN_ETH + 1) | 0]!, hi);
    if (data[(base + 1) | 0] !== data[(base + CONN_ETH) | 0] || (data[(base + 3) | 0]! ^ hi) >>> 16 !== 0) putMac(frame, 6, data[(base + CONN_ETH) | 0]!, hi >>> 16);
    const port = objs[(steps0 >>> 16) & 0x7fff] as Port;
    // The run's one output, at index 0: runFrameKey's resetResult counted none before connLookup, and the replay is the
    // run's walk (a break returns above), so the slot is the first, which the executor holds from its construction.
    this.nOutputs = 1;
    const out = this.outSlots[0]!;
    if (out.port !== port.name) out.port = port.name;
    if (out.tag !== undefined) out.tag = undefined;
    let outLen = len;
    // A frame handed over as input ran on this buffer already (connLookup).
    if (frame !== out.frame) {
      if (out.frame.length < len + 4) out.frame = new Uint8Array(Math.max(len + 4, 2048));
      typedSet.call(out.frame, this.frameView(len));
    }
    if (port.localnet === true && port.tag !== undefined) {
      outLen = pushVlan(out.frame, len, port.tag);
      out.tag = port.tag;
    }
    out.length = outLen;
    if (this.outputsLive[0] !== out) this.outputsLive[0] = out;
    // The decode is the output's (outputDecoded): the input's, of the plain layout, moved by the calls' NAT only.
    if (this.inL3 !== 0 && out.tag === undefined) {
      this.outputDecoded = 0;
      if (this.outDecodeOf !== d) this.outDecodeOf = d;
    }
    // A walk keyed without the flags serves its direction of the connection until that direction's last segment
    // (connEnd), asked only once the direction has sent FIN or RST (this frame, or one before: CONN_ENDING).
    // Not at the frame a template filled the slot for (as a walk recorded from it: kept for its next frame).
    if (((this.connFlagsMask === 0 && (steps0 & CONN_ENDING) !== 0) || this.endsDirection(d)) && this.connFilling === false) this.connEnd(t, store, data, base);
  }

  /**
   * begin()'s per-run state for a walk taken again after a replay stopped (no words: FLAGS is the key's). The port is
   * the frame's: runFrameKey keeps it as lastInportRecord before connLookup.
   */
  private connWalkState(): void {
    this.depth = 1;
    this.lbDstConsumed = false;
    this.inKey = this.lastInportRecord!.key;
    this.inEgress = false;
    this.pending = 0;
    this.rec = undefined;
  }

  /**
   * After a replay whose direction has sent FIN or RST: at the direction's last segment the walk's slot is freed at
   * once, the next recording takes it (the free list is last in, first out) while its lines are still in the CPU's
   * caches, not a slot last written hundreds of walks ago; and the store holds the connections alive rather than the
   * dead ones. Conntrack's peer states say which segment is the last (`OvsConntrack.tcpClosing`, of the walk's last
   * call that named a node): a walk whose FIN went out before the other side's (the pods' responses in http) is kept
   * over the frames in between — the ACK of a retransmitted request in http-lossy — for its ACK of the other side's
   * FIN, marked CONN_ENDING. Without the peer states (another engine, no call that named a node) the FIN or RST
   * itself, or the frame after the one the walk was recorded from, is taken as the last.
   */
  private connEnd(t: MegaflowTable, store: ConnStore, data: Int32Array, base: number): void {
    const word = data[(base + CONN_STEPS) | 0]!;
    let closing = -1;
    const hinted = this.ctHinted;
    if (hinted !== undefined) {
      for (let k = (word & 3) - 1; k >= 0; k--) {
        const b = (base + CONN_STEP0 + Math.imul(k, CONN_STEP)) | 0;
        const node = data[(b + CONN_S_NODE) | 0]!;
        if (node >= 0) {
          closing = hinted.tcpClosing(node, data[(b + CONN_S_GEN) | 0]!);
          break;
        }
      }
    }
    if (closing === 1) data[(base + CONN_STEPS) | 0] = word | CONN_ENDING;
    else if (closing !== 0) {
      store.remove(base);
      t.stats.connEntries = store.size;
    }
  }

  /**
   * A replay whose call `k` did not give the recorded outcome: the walk from the start (the words are still the
   * frame's, the shadow its image), its first `k` calls answered with their recorded outcomes and call `k` with the
   * live one, each with the frame's translated bytes as that call left them; on from there as the segment cache goes.
   */
  private connAgain(base: number, k: number, w: Uint32Array): void {
    copyResult(this.res, this.connLive);
    const d = this.decoded;
    this.connLiveD[0] = d.ipSrc;
    this.connLiveD[1] = d.ipDst;
    this.connLiveD[2] = d.srcPort;
    this.connLiveD[3] = d.dstPort;
    this.connAnswerSlot = base;
    this.connAnswerLast = k;
    this.connAnswerNext = 0;
    this.enter(0, w);
    this.connAnswerLast = -1;
  }

  /** callCt for a call a walk taken again answers: the outcome, and the frame's translated bytes after it. */
  private answerCt(w: Uint32Array): void {
    const j = this.connAnswerNext++;
    const res = this.res;
    const d = this.decoded;
    // exec's flags for the call, cleared as callCt's other ways clear them (syncFrame clears syncNear); the words
    // are read back from an answer, not left in step with the frame.
    this.syncSkip = false;
    this.syncedAfter = false;
    this.syncFrame(w);
    if (j < this.connAnswerLast) {
      const data = this.mega!.conns!.data;
      const b = this.connAnswerSlot + CONN_STEP0 + j * CONN_STEP;
      const o = this.connAnswerSlot + CONN_OUT0 + j * CONN_OUT;
      res.state = data[b + CONN_S_STATE]! >>> 0;
      res.mark = data[b + CONN_S_MARK]! >>> 0;
      for (let i = 0; i < 4; i++) res.label[i] = data[b + CONN_S_LABEL + i]! >>> 0;
      res.zone = data[o]!;
      res.rewritten = (data[o + 1]! & 1) !== 0;
      restoreTuple(res, data, o);
      d.ipSrc = data[o + 7]! >>> 0;
      d.ipDst = data[o + 8]! >>> 0;
      d.srcPort = data[o + 9]!;
      d.dstPort = data[o + 10]!;
    } else {
      copyResult(this.connLive, res);
      d.ipSrc = this.connLiveD[0]! >>> 0;
      d.ipDst = this.connLiveD[1]! >>> 0;
      d.srcPort = this.connLiveD[2]!;
      d.dstPort = this.connLiveD[3]!;
    }
    this.restoreNatFields();
    this.frameGen = nextFrameGen();
    this.afterCt(w);
  }

  /**
   * The frame's addresses and ports as call i − 1 left them, for a walk taken again (answerCt): from the decode,
   * which answerCt has just set to that call's (the recorded outcome, or the live one — conntrack's NAT writes the
   * decode with the frame, and a step's recorded addresses and ports are the ones compared equal to the live
   * call's). Written raw, the checksums left as they are: they are the last live call's (the call the replay stopped
   * at, with its addresses and ports), and the last answer writes that call's addresses and ports back, so the raw
   * writes cancel out — no frame address or port changes between the answers otherwise (each answer's read-back puts
   * the frame's values in the words and shadow, and a walk taken again follows its kept walk, which writes no header
   * word but the Ethernet addresses, up to the last answer: connHeadersKept). A TTL, DSCP or ECN write there
   * (storeFrame's, wire's rewriteIpTtlTos: an incremental update) would stay in the sums, where a saved copy of each call's sums put back
   * here (session 33's) would drop it. Between the answers the sums do not match the addresses: nothing reads them
   * there (the answered calls run no engine, the read-back takes addresses and ports only).
   */
  private restoreNatFields(): void {
    const f = this.frame;
    const d = this.decoded;
    const l3 = d.l3Offset;
    write32(f, l3 + 12, d.ipSrc);
    write32(f, l3 + 16, d.ipDst);
    write32(f, d.l4Offset, (d.srcPort << 16) | d.dstPort);
  }

  /** Before a recorded walk's conntrack call (callCt): what the replay needs to make the same call. */
  private connPre(w: Uint32Array, req: CtRequest): void {
    const k = this.connSteps;
    if (k >= CONN_MAX_STEPS || this.depth !== 1 || req === this.req || this.decoded.status !== 0) {
      this.connOk = false;
      return;
    }
    // storeFrame writes nothing here but the Ethernet addresses (the replay writes those at the end). With exec's
    // `synced` (syncSkip), or no segment of the walk able to write those words, the compare is known to pass: see
    // connHeadersKept.
    if (!this.syncSkip && this.connDirty && !this.connHeadersKept(w)) return;
    // The call's input: all ct words 0, or those the previous call left (the first call has none: only the zeros).
    // After the first, the words are the previous call's outcome (established: ct_state not 0) unless a ct_clear or
    // a chassis' hidden ct_commit zeroed all of them since (connCtZeroed): nothing else in a kept walk writes them —
    // OVN's parser refuses flows writing ct words, and a segment with an instruction writing one is graded 0
    // (connOpsOf: the walk is not kept), as is the slow path.
    const input = k > 0 ? (this.connCtZeroed === true ? 0 : 1) : this.connCtAny(w);
    const zero = (input & 1) === 0;
    const carry = k > 0 && (input & 2) === 0;
    if (!zero && !carry) {
      this.connOk = false;
      return;
    }
    const b = CONN_STEP0 + k * CONN_STEP;
    const ex = this.connScratch;
    ex[b + CONN_S_ZONE] = req.zone;
    // The request's number is added when the walk is kept (insertConn).
    ex[b + CONN_S_REQ] = zero ? 0 : 1;
    this.connReqs[k] = req;
    if (k === 0) this.connEpoch = this.ctHinted !== undefined ? this.ctHinted.epoch : 0;
  }

  /** After the call: its outcome (an established connection's only: other walks are not kept). */
  private connPost(w: Uint32Array): void {
    const res = this.res;
    const d = this.decoded;
    if ((res.state & (CtState.EST | CtState.INV)) !== CtState.EST || res.originalIpv6) {
      this.connOk = false;
      return;
    }
    const ex = this.connScratch;
    const b = CONN_STEP0 + this.connSteps * CONN_STEP;
    const o = CONN_OUT0 + this.connSteps * CONN_OUT;
    ex[o] = res.zone;
    ex[o + 1] = resFlags(res);
    if (this.ctWords !== undefined) {
      // executeWords left the call's answer in the words (the result's mark, label and tuple are not written): as
      // afterCt writes a result back, so the same values. The addresses are the ct_nw_* words — an IPv4 tuple's
      // (an IPv6 one is refused above) — or, where the call wrote no tuple and the words hold none (ct_nw_proto 0),
      // what those words hold.
      ex[b + CONN_S_STATE] = w[W.CT_STATE]!;
      ex[b + CONN_S_MARK] = w[W.CT_MARK]!;
      ex[b + CONN_S_LABEL] = w[W.CT_LABEL]!;
      ex[b + CONN_S_LABEL + 1] = w[W.CT_LABEL + 1]!;
      ex[b + CONN_S_LABEL + 2] = w[W.CT_LABEL + 2]!;
      ex[b + CONN_S_LABEL + 3] = w[W.CT_LABEL + 3]!;
      ex[o + 2] = w[W.CT_NW_PROTO]!;
      ex[o + 3] = w[W.CT_TP_SRC]!;
      ex[o + 4] = w[W.CT_TP_DST]!;
      ex[o + 5] = w[W.CT_NW_SRC]!;
      ex[o + 6] = w[W.CT_NW_DST]!;
    } else {
      const label = res.label;
      ex[b + CONN_S_STATE] = res.state;
      ex[b + CONN_S_MARK] = res.mark;
      ex[b + CONN_S_LABEL] = label[0]!;
      ex[b + CONN_S_LABEL + 1] = label[1]!;
      ex[b + CONN_S_LABEL + 2] = label[2]!;
      ex[b + CONN_S_LABEL + 3] = label[3]!;
      ex[o + 2] = res.originalProto;
      ex[o + 3] = res.originalSrcPort;
      ex[o + 4] = res.originalDstPort;
      ex[o + 5] = read32(res.originalSrc, 0);
      ex[o + 6] = read32(res.originalDst, 0);
    }
    if ((ex[b + CONN_S_LABEL]! | ex[b + CONN_S_LABEL + 1]! | ex[b + CONN_S_LABEL + 2]! | ex[b + CONN_S_LABEL + 3]!) !== 0) ex[b + CONN_S_REQ] |= CONN_RQ_LABEL;
    ex[o + 7] = d.ipSrc;
    ex[o + 8] = d.ipDst;
    ex[o + 9] = d.srcPort;
    ex[o + 10] = d.dstPort;
    const hinted = this.ctHinted;
    ex[b + CONN_S_NODE] = hinted !== undefined ? hinted.foundNode : -1;
    ex[b + CONN_S_GEN] = hinted !== undefined ? hinted.foundGen : 0;
    // The next call's input is this outcome until a ct_clear or hideCt zeroes the words (connPre).
    this.connCtZeroed = false;
    this.connSteps++;
  }

  /** At a recorded walk's delivery: the port, and the Ethernet addresses (the only header words it may change). */
  /**
   * Whether the words from the EtherType to the ARP opcode are still the shadow's (a recorded walk may rewrite
   * only the Ethernet addresses); clears `connOk` when not. Not called where exec's `synced` holds (connPre's
   * syncSkip, connDeliver's argument): no header word was written since the cached segment began, and at its start
   * they were the shadow's — the root's words are loaded with it, and the segment after a ct op starts from a call
   * whose connPre found them so (or skipped by a rule here), which then changes only ct words in the words and
   * the same addresses and ports in both on NAT's read-back (a walk with any other call is not kept). Nor while
   * `connDirty` is false: every segment of the walk so far has none of these words among its instructions' writes
   * (connOpsOf), and a walk through the slow path is not kept.
   */
  private connHeadersKept(w: Uint32Array): boolean {
    const sh = this.shadow;
    // Six words a turn, all read before one test: TurboFan on node 20 reloads both arrays' checks every turn
    // (bench/README "The connection replay's loops (session 17)"). The span is 30 words (checked below the class).
    let diff = 0;
    for (let i: number = W.ETH_TYPE; i <= W.ARP_OP; i = (i + 6) | 0) {
      diff |=
        (w[i]! ^ sh[i]!) | (w[(i + 1) | 0]! ^ sh[(i + 1) | 0]!) | (w[(i + 2) | 0]! ^ sh[(i + 2) | 0]!) |
        (w[(i + 3) | 0]! ^ sh[(i + 3) | 0]!) | (w[(i + 4) | 0]! ^ sh[(i + 4) | 0]!) | (w[(i + 5) | 0]! ^ sh[(i + 5) | 0]!);
    }
    if (diff !== 0) {
      this.connOk = false;
      return false;
    }
    return true;
  }

  /** Whether a ct word callCt hands to conntrack is not 0: 1 or 0 (the walk's first call, which has no previous outcome). */
  private connCtAny(w: Uint32Array): number {
    let any = w[W.CT_STATE]! | w[W.CT_MARK]! | w[W.CT_LABEL]! | w[W.CT_LABEL + 1]! | w[W.CT_LABEL + 2]! | w[W.CT_LABEL + 3]! | w[W.CT_NW_PROTO]!;
    for (let i: number = W.CT_NW_DST; i < W.CT_NW_PROTO; i = (i + 4) | 0) any |= w[i]! | w[(i + 1) | 0]! | w[(i + 2) | 0]! | w[(i + 3) | 0]!;
    return any !== 0 ? 1 : 0;
  }

  private connDeliver(w: Uint32Array, port: Port, synced: boolean): void {
    if (this.depth !== 1 || this.connPortSeen) {
      this.connOk = false;
      return;
    }
    // `synced`: exec's, as connPre's syncSkip.
    if (!synced && this.connDirty && !this.connHeadersKept(w)) return;
    const srcHi = w[W.ETH_SRC + 1]!;
    const dstHi = w[W.ETH_DST + 1]!;
    // Packed as the key's addresses (megaflow.ts CONN_ETH): a high half wider than 16 bits would not fit.
    if ((srcHi | dstHi) >>> 16 !== 0) {
      this.connOk = false;
      return;
    }
    const ex = this.connScratch;
    ex[CONN_ETH] = w[W.ETH_SRC]!;
    ex[CONN_ETH + 1] = w[W.ETH_DST]!;
    ex[CONN_ETH + 2] = (srcHi << 16) | dstHi;
    this.connPortRec = port;
    this.connPortSeen = true;
  }

  /** Whether `d` (a frame of a walk keyed without the flags) ends its direction of the connection: FIN or RST. */
  private endsDirection(d: DecodedFrame): boolean {
    return this.connFlagsMask === 0 && d.ipProto === 6 && (d.tcpFlags & (TCP_FIN | TCP_RST)) !== 0;
  }

  /**
   * The executor's judgement of a segment for a connection's walk (MfSegment.connOps, made once): 0 when a replay
   * may not skip one of its instructions (CONN_OPS), 2 when it may and none of them writes a word from the EtherType
   * to the ARP opcode (connHeadersKept's span), else 1.
   */
  private connOpsOf(seg: MfSegment): number {
    if (seg.connOps < 0) {
      let v = 2;
      for (const o of seg.ops) {
        // A write to a ct word: connPre's input rule would not hold (OVN's parser refuses such flows).
        if (!CONN_OPS.has(o.op) || writesCt(o)) {
          v = 0;
          break;
        }
        if (writesL3(o)) v = 1;
      }
      seg.connOps = v;
    }
    return seg.connOps;
  }

  private insertConn(t: MegaflowTable): void {
    let deps = 0;
    const segs = this.connSegs;
    for (let i = 0; i < this.connSegsN; i++) {
      const seg = segs[i]!;
      // Graded when the walk was served from it (runSegment).
      if (seg.connOps === 0) return;
      deps |= seg.deps;
    }
    // The port's number and the segments' count share CONN_STEPS with the calls (15 and 13 bits).
    const portId = this.connObj(this.connPortRec);
    if (portId > 0x7fff || this.connSegsN > 0x1fff) return;
    const ex = this.connScratch;
    for (let k = 0; k < this.connSteps; k++) ex[CONN_STEP0 + k * CONN_STEP + CONN_S_REQ] |= this.connObj(this.connReqs[k]!) << 2;
    ex[CONN_STEPS] = this.connSteps | (this.endsDirection(this.decoded) ? CONN_ENDING : 0) | (this.connSegsN << 3) | (portId << 16) | CONN_UNPROVEN;
    // The hints hold in the epoch the walk started in, if none of its calls moved it.
    const hinted = this.ctHinted;
    ex[CONN_EPOCH] = hinted !== undefined && hinted.epoch === this.connEpoch ? this.connEpoch : 0;
    ex[CONN_DEPS] = deps;
    ex[CONN_FDB] = this.fdbVersion;
    ex[CONN_HAIRPIN] = this.hairpin.version;
    const store = t.conns ?? (t.conns = new ConnStore(t.connSlots));
    const base = store.add(this.connHash);
    const data = store.data;
    ex[CONN_HASH] = data[base + CONN_HASH]!;
    ex[CONN_STAMP] = data[base + CONN_STAMP]!;
    data.set(ex, base);
    t.stats.connEntries = store.size;
    t.stats.connEvictions = store.evictions;
    if (this.connFlagsMask === 0 && this.megaOptions!.templates) this.makeTemplate(t, ex);
  }

  /**
   * A template (megaflow.ts ConnTemplate) from the walk just kept, whose slot image is `ex`: keyed by its key with
   * the IPv4 addresses and the ports masked to the bits its segments' probes read, and each Ethernet address no
   * segment wrote likewise. Not made when a segment reads a ct tuple word: the original tuple names the connection,
   * and its fields equal to the key's are filled from the new frame, so a key field no segment reads (masked out)
   * would pass the replay's compare there while the segment decided on the template's value. What the segments do not read of those words decides nothing in the walk: a
   * move's or exchange's source and a TTL decremented are read into the probe as the segment records them (recRef,
   * dec_ttl's recRead), constants are the segment's, the calls are made live by the replay, and the delivered frame
   * is the live one with the walk's Ethernet writes — an address a segment wrote (any bit of it: writesWords) is in
   * the key whole, being a function of the key's read bits and constants only where the whole walk's writes are
   * known; one none wrote leaves as the frame brought it (the fill takes it from the frame). Keys with the TCP flags
   * are left out (connSeen's counting would be bypassed).
   */
  private makeTemplate(t: MegaflowTable, ex: Int32Array): void {
    let m6 = 0;
    let m7 = 0;
    let m41 = 0;
    let m42 = 0;
    let ms0 = 0;
    let ms1 = 0;
    let md0 = 0;
    let md1 = 0;
    let wrote = 0;
    for (let i = 0; i < this.connSegsN; i++) {
      const seg = this.connSegs[i]!;
      const p = seg.probe;
      for (let j = 0; j < p.length; j += 3) {
        const word = p[j]!;
        const m = p[j + 1]!;
        if (m === 0) continue;
        if (word >= W.CT_NW_DST && word <= W.CT_NW_PROTO) return;
        if (word === W.IPV4_SRC) m6 |= m;
        else if (word === W.IPV4_DST) m7 |= m;
        else if (word === W.TP_SRC) m41 |= m;
        else if (word === W.TP_DST) m42 |= m;
        else if (word === W.ETH_SRC) ms0 |= m;
        else if (word === W.ETH_SRC + 1) ms1 |= m;
        else if (word === W.ETH_DST) md0 |= m;
        else if (word === W.ETH_DST + 1) md1 |= m;
      }
      if (wrote !== 3) for (const o of seg.ops) wrote |= (writesWords(o, ethSrcWord) ? 1 : 0) | (writesWords(o, ethDstWord) ? 2 : 0);
    }
    const m8 = ((m41 & 0xffff) << 16) | (m42 & 0xffff);
    // Key word 1 is eth.src's low 32 bits, 2 eth.dst's, 3 their high halves (source above destination).
    const srcKeep = (wrote & 1) !== 0;
    const dstKeep = (wrote & 2) !== 0;
    const m1 = srcKeep ? -1 : ms0;
    const m2 = dstKeep ? -1 : md0;
    const m3 = ((srcKeep ? 0xffff : ms1 & 0xffff) << 16) | (dstKeep ? 0xffff : md1 & 0xffff);
    const shapes = t.templates;
    let sh: ConnTemplateShape | undefined;
    for (const s of shapes) if (s.m6 === m6 && s.m7 === m7 && s.m8 === m8 && s.m1 === m1 && s.m2 === m2 && s.m3 === m3) sh = s;
    if (sh === undefined) {
      if (shapes.length >= CONN_TEMPLATE_SHAPES) return;
      shapes.push((sh = new ConnTemplateShape(m6, m7, m8, m1, m2, m3)));
    }
    const k1 = ex[1]! & m1;
    const k2 = ex[2]! & m2;
    const k3 = ex[3]! & m3;
    const k6 = ex[6]! & m6;
    const k7 = ex[7]! & m7;
    const k8 = ex[8]! & m8;
    const th = templateHash(ex, k1, k2, k3, k6, k7, k8);
    let c = sh.map.get(th);
    while (c !== undefined && !templateKeyIs(c.key, ex, k1, k2, k3, k6, k7, k8)) c = c.chain;
    if (c === undefined) {
      if (t.templateCount >= CONN_TEMPLATES) {
        // Full: all dropped, made again from the walks kept from now on.
        for (const s of shapes) s.map.clear();
        t.templateCount = 0;
        this.tmplGen = (this.tmplGen + 1) | 0;
      }
      c = new ConnTemplate(sh, th);
      c.chain = sh.map.get(th);
      sh.map.set(th, c);
      t.templateCount++;
      const key = c.key;
      key[0] = ex[0]!;
      key[1] = k1;
      key[2] = k2;
      key[3] = k3;
      key[4] = ex[4]!;
      key[5] = ex[5]!;
      key[6] = k6;
      key[7] = k7;
      key[8] = k8;
    }
    // With the image: another walk under this key (another outcome) may write an address this one does not, and a
    // key that holds the address whole (read whole) does not tell them apart.
    const keep = c.ethKeep;
    keep[0] = srcKeep ? -1 : 0;
    keep[1] = dstKeep ? -1 : 0;
    keep[2] = (srcKeep ? 0xffff0000 : 0) | (dstKeep ? 0xffff : 0);
    const img = c.image;
    img.set(ex);
    const steps = ex[CONN_STEPS]! & 3;
    const sp = ex[8]! >>> 16;
    const dp = ex[8]! & 0xffff;
    const relc = c.relc;
    relc.fill(0);
    for (let q = 0; q < steps; q++) {
      const b = CONN_STEP0 + q * CONN_STEP;
      // This connection's nodes: the filled slot's first replay looks each up.
      img[b + CONN_S_NODE] = -1;
      img[b + CONN_S_GEN] = 0;
      const o = CONN_OUT0 + q * CONN_OUT;
      // The original tuple (no segment reads it: any field of the key may stand for it), then the translated
      // fields, read back into their own words: the key's own field only in the same place (the masks are that
      // word's), else the recorded value (the replay compares it whole).
      const r3 = ex[o + 3] === sp ? 3 : ex[o + 3] === dp ? 4 : 0;
      const r4 = ex[o + 4] === sp ? 3 : ex[o + 4] === dp ? 4 : 0;
      const r5 = ex[o + 5] === ex[6] ? 1 : ex[o + 5] === ex[7] ? 2 : 0;
      const r6 = ex[o + 6] === ex[6] ? 1 : ex[o + 6] === ex[7] ? 2 : 0;
      const r7 = ex[o + 7] === ex[6] ? 1 : 0;
      const r8 = ex[o + 8] === ex[7] ? 2 : 0;
      const r9 = ex[o + 9] === sp ? 3 : 0;
      const r10 = ex[o + 10] === dp ? 4 : 0;
      relc[q] = r3 | (r4 << 3) | (r5 << 6) | (r6 << 9) | (r7 !== 0 ? REL_SRC : 0) | (r8 !== 0 ? REL_DST : 0) | (r9 !== 0 ? REL_SPORT : 0) | (r10 !== 0 ? REL_DPORT : 0);
    }
    img[CONN_EPOCH] = 0;
  }

  /**
   * A slot for the frame's key (connKey, hash `h`) filled from a template its key matches; -1 when none matches or
   * the template's learned state moved (the template goes), -2 when the store declined the slot (CONN_DECLINED).
   */
  private connFromTemplate(t: MegaflowTable, store: ConnStore, h: number): number {
    const k = this.connKey;
    const shapes = t.templates;
    const n = shapes.length;
    // The shape that served the last fill from this frame's port first: a port's frames take one chain's walks (on
    // http the client's and the pods' ports each one shape of two), and each shape tried costs a hash and a lookup.
    const hints = this.tmplShapeHint;
    const hi = k[0]! & (TMPL_HINTS - 1);
    let s0 = hints[hi]!;
    if (s0 >= n) s0 = 0;
    const k0 = k[0]!;
    const k4 = k[4]!;
    const k5 = k[5]!;
    // The template of the port's last fill first, without the hash and the map's probe (≈ 130 instructions a fill):
    // where no template has left any shape's map since it was found (tmplGen) and its shape is this table's hinted
    // one, it is the template the lookup below would find first if its key matches — the one of that key in that map.
    let c = this.tmplLast[hi];
    if (c !== undefined) {
      const sh = c.shape;
      const ck = c.key;
      if (
        this.tmplLastGen[hi] !== this.tmplGen || shapes[s0] !== sh || ck[0] !== k0 || ck[1] !== (k[1]! & sh.m1) || ck[2] !== (k[2]! & sh.m2) || ck[3] !== (k[3]! & sh.m3) ||
        ck[4] !== k4 || ck[5] !== k5 || ck[6] !== (k[6]! & sh.m6) || ck[7] !== (k[7]! & sh.m7) || ck[8] !== (k[8]! & sh.m8)
      )
        c = undefined;
    }
    if (c === undefined) for (let i = 0, s = s0; i < n; i++, s = s + 1 < n ? s + 1 : 0) {
      const sh = shapes[s]!;
      const k1 = k[1]! & sh.m1;
      const k2 = k[2]! & sh.m2;
      const k3 = k[3]! & sh.m3;
      const k6 = k[6]! & sh.m6;
      const k7 = k[7]! & sh.m7;
      const k8 = k[8]! & sh.m8;
      c = sh.map.get(templateHash(k, k1, k2, k3, k6, k7, k8));
      // templateKeyIs, written out (TurboFan kept it a call) with the exact words read once.
      while (c !== undefined) {
        const ck = c.key;
        if (ck[0] === k0 && ck[1] === k1 && ck[2] === k2 && ck[3] === k3 && ck[4] === k4 && ck[5] === k5 && ck[6] === k6 && ck[7] === k7 && ck[8] === k8) break;
        c = c.chain;
      }
      if (c !== undefined) {
        if (s !== s0) hints[hi] = s;
        if (this.tmplLast[hi] !== c) this.tmplLast[hi] = c;
        this.tmplLastGen[hi] = this.tmplGen;
        break;
      }
    }
    if (c === undefined) return -1;
    const img = c.image;
    const deps = img[CONN_DEPS]!;
    if (deps !== 0 && (((deps & MfDep.FDB) !== 0 && img[CONN_FDB] !== this.fdbVersion) || ((deps & MfDep.HAIRPIN) !== 0 && img[CONN_HAIRPIN] !== this.hairpin.version))) {
      // What its walk read of learned state has moved, as for a slot (connLookup).
      dropTemplate(t, c);
      this.tmplGen = (this.tmplGen + 1) | 0;
      return -1;
    }
    if (!store.admit()) return -2;
    const base = store.add(h);
    const data = store.data;
    // The slot's offsets as int32 sums, unchecked for overflow (a base indexes an Int32Array: below 2^30).
    const hash = data[(base + CONN_HASH) | 0]!;
    const stamp = data[(base + CONN_STAMP) | 0]!;
    typedSet.call(data, img, base);
    data[(base + CONN_HASH) | 0] = hash;
    data[(base + CONN_STAMP) | 0] = stamp;
    const k1 = k[1]!;
    const k2 = k[2]!;
    const k3 = k[3]!;
    const k6 = k[6]!;
    const k7 = k[7]!;
    const k8 = k[8]!;
    data[base] = k[0]!;
    data[(base + 1) | 0] = k1;
    data[(base + 2) | 0] = k2;
    data[(base + 3) | 0] = k3;
    data[(base + 4) | 0] = k[4]!;
    data[(base + 5) | 0] = k[5]!;
    data[(base + 6) | 0] = k6;
    data[(base + 7) | 0] = k7;
    data[(base + 8) | 0] = k8;
    const steps = img[CONN_STEPS]!;
    data[(base + CONN_STEPS) | 0] = (steps & ~CONN_ENDING) | (this.endsDirection(this.decoded) ? CONN_ENDING : 0);
    // The Ethernet addresses the walk did not write leave as the frame brought them.
    const keep = c.ethKeep;
    const e0 = keep[0]!;
    const e1 = keep[1]!;
    const e2 = keep[2]!;
    data[(base + CONN_ETH) | 0] = (img[CONN_ETH]! & e0) | (k1 & ~e0);
    data[(base + CONN_ETH + 1) | 0] = (img[CONN_ETH + 1]! & e1) | (k2 & ~e1);
    data[(base + CONN_ETH + 2) | 0] = (img[CONN_ETH + 2]! & e2) | (k3 & ~e2);
    // The outcome words from the frame's key (≈ 12 a fill on http), a step's eight words at a time from its code
    // (ConnTemplate.relc): a loop over a list of words cost ≈ 27 instructions a word — TurboFan reloads the arrays'
    // maps, lengths and bases at every turn (its stack check) and each word took a three-way choice of its field; here
    // the translated fields' words each have one field, the original tuple's one of two.
    const relc = c.relc;
    const sp = k8 >>> 16;
    const dp = k8 & 0xffff;
    const nSteps = steps & 3;
    for (let q = 0; q < nSteps; q = (q + 1) | 0) {
      const code = relc[q]!;
      if (code === 0) continue;
      const o = (base + CONN_OUT0 + Math.imul(q, CONN_OUT)) | 0;
      const c3 = code & 7;
      const c4 = (code >>> 3) & 7;
      const c5 = (code >>> 6) & 7;
      const c6 = (code >>> 9) & 7;
      if (c3 !== 0) data[(o + 3) | 0] = c3 === 3 ? sp : dp;
      if (c4 !== 0) data[(o + 4) | 0] = c4 === 3 ? sp : dp;
      if (c5 !== 0) data[(o + 5) | 0] = c5 === 1 ? k6 : k7;
      if (c6 !== 0) data[(o + 6) | 0] = c6 === 1 ? k6 : k7;
      if ((code & REL_SRC) !== 0) data[(o + 7) | 0] = k6;
      if ((code & REL_DST) !== 0) data[(o + 8) | 0] = k7;
      if ((code & REL_SPORT) !== 0) data[(o + 9) | 0] = sp;
      if ((code & REL_DPORT) !== 0) data[(o + 10) | 0] = dp;
    }
    t.stats.connEntries = store.size;
    t.stats.connEvictions = store.evictions;
    // `c` is tmplLast[hi] (the hint taken, or set above when found): connLookup reads the template there.
    return base;
  }

  /** Runs the segment that starts at entry point `cont` on `w` (the top of the pool): cached, or slow and recorded. */
  private enter(cont: number, w: Uint32Array, synced = false): void {
    this.runSegment(this.mega!, this.lookupSegment(this.mega!, cont, w), cont, w, synced);
  }

  /**
   * {@link enter} at the root for a frame that came in by the kept port record (runFrame's): the segment that served
   * the port's last frame if it matches (checked as {@link enterNext} checks its hint), else a lookup, whose answer
   * becomes the port's hint. The root's words are the frame's (loaded just now: in step with it).
   */
  private enterRoot(w: Uint32Array): void {
    const t = this.mega!;
    const port = this.lastInportRecord!;
    // The via: what every such frame from this port starts with — the port's plain token for a plain untagged
    // TCP/IPv4 frame (runFrame's `inL3`: its IPv4 header at 14, where decodePlainTcp4's layout or a handed decode put
    // it; 18 behind a tag, 0 for any other frame), else its root token — on a chassis; in the chassis-blind table the
    // port itself (rootResid). Chosen here, not in runFrame: there the choice cost ≈ 30 instructions a walk in
    // runFrameKey's code (+63.6 a SYN: bench/README "A hint's second residual…", session 39).
    const via = this.chassis === undefined ? port : (this.inL3 & 0xffff) === 14 ? port.plainTok : port.rootTok;
    let n = port.root;
    // From this via the hint compares only what it does not decide (nextResid, or rootResid for the port), on the
    // words the segment runs on (startCached: the frame's, loaded into the first pool slot).
    if (n === undefined || n.epoch !== t.epoch || !this.hintHolds(n, w, n.via === via ? n.resid : n.via2 === via ? n.resid2 : n.probe)) n = this.rootMiss(t, port, via, w);
    this.runSegment(t, n, 0, w, true);
  }

  /**
   * {@link enterRoot}'s segment when the port's hint does not hold: one of the two the table keeps for the port
   * ({@link MegaflowTable.rootHints}: the last two segments looked up or taken from there, the latest first) if it
   * holds, else a lookup; the answer becomes the port's hint and the first of the table's two. The port's hint is
   * one for all of the executor's tables (one per chassis): a frame flooded to every chassis (full-cold's on-link
   * clients' ARP requests, one frame in seventeen) left it naming another table's segment, and the next frame on
   * each chassis looked its root up again (0.235 lookups a frame, ≈ 445 instructions each). Out of line: the port's
   * hint is what runs per frame.
   */
  private rootMiss(t: MegaflowTable, port: Port, via: Port | { known: Int32Array | undefined }, w: Uint32Array): MfSegment | undefined {
    const hints = t.rootHints;
    const i = port.idx << 1;
    while (hints.length <= i + 1) hints.push(undefined);
    const a = hints[i];
    if (a !== undefined && a.epoch === t.epoch && this.hintHolds(a, w, a.via === via ? a.resid : a.via2 === via ? a.resid2 : a.probe)) {
      port.root = a;
      return a;
    }
    const b = hints[i + 1];
    if (b !== undefined && b.epoch === t.epoch && this.hintHolds(b, w, b.via === via ? b.resid : b.via2 === via ? b.resid2 : b.probe)) {
      port.root = b;
      hints[i + 1] = a;
      hints[i] = b;
      return b;
    }
    const seg = this.lookupSegment(t, 0, w);
    if (seg !== undefined) {
      port.root = seg;
      hints[i + 1] = a;
      hints[i] = seg;
      if (seg.via !== via && seg.via2 !== via) {
        if (via === port) this.rootResid(seg, port);
        else if (via.known !== undefined) this.nextResid(seg, via, via.known);
      }
    }
    return seg;
  }

  /**
   * {@link enter} after a cached ct op `o`: the segment that followed it last ({@link MfInstr.next}) if it matches,
   * else a lookup, whose answer becomes the hint. The hint is checked as a lookup checks a shape's last hit — every
   * probe word, the learned state's versions — and must still be in the table (its epoch): what it saves is the
   * search over the entry point's shapes and their ranking, not a compare (on http 98 % of the calls after a ct op
   * are followed by the same segment as the last time; bench/README "The executor's segments per frame (session 17)").
   */
  private enterNext(o: MfInstr, w: Uint32Array, synced: boolean): void {
    const ops = this.nextOps(o, w);
    if (ops !== undefined) this.exec(ops, synced);
  }

  /**
   * {@link enterNext}'s segment: the ops of the cached segment after ct op `o` for the caller to run (exec runs a
   * fork's next segment in its own loop: the fork ends its segment), or undefined when the slow path ran instead.
   */
  private nextOps(o: MfInstr, w: Uint32Array): readonly MfInstr[] | undefined {
    const t = this.mega!;
    let n = o.next;
    // Followed from this op the hint compares only what the op's known bits do not decide (nextResid), as chosen
    // when the hint was set (MfInstr.nextCheck), on the words the segment runs on (exec's `w`).
    if (n === undefined || n.epoch !== t.epoch || !this.hintHolds(n, w, o.nextCheck)) n = this.nextMiss(t, o, w);
    return this.segmentOps(t, n, o.cont, w);
  }

  /**
   * {@link nextOps}' segment when op `o`'s first hint does not hold: its second ({@link MfInstr.next2}) if that holds,
   * else a lookup; the segment taken becomes the first hint and the first the second. Out of line, as {@link rootMiss}.
   */
  private nextMiss(t: MegaflowTable, o: MfInstr, w: Uint32Array): MfSegment | undefined {
    const n = o.next2;
    const c = o.next2Check;
    if (n !== undefined && n.epoch === t.epoch && this.hintHolds(n, w, c)) {
      // The latest first: kept in the order they were looked up, the frames of the second (full-cold's most, after
      // one of the first) failed the first hint's check every time (0.882 calls here a frame, not 0.118).
      o.next2 = o.next;
      o.next2Check = o.nextCheck;
      o.next = n;
      o.nextCheck = c;
      return n;
    }
    const seg = this.lookupSegment(t, o.cont, w);
    if (seg !== undefined) {
      if (o.next !== seg) {
        o.next2 = o.next;
        o.next2Check = o.nextCheck;
        o.next = seg;
      }
      if (seg.via !== o && seg.via2 !== o && o.known !== undefined) this.nextResid(seg, o, o.known);
      o.nextCheck = seg.via === o ? seg.resid : seg.via2 === o ? seg.resid2 : seg.probe;
    }
    return seg;
  }



  /**
   * Whether segment `n` (one still in the table) matches the words `ws` (those the walk runs on, as its caller holds
   * them: no signed view of them is loaded — `probeHolds` compares `&`'s int32 results, the same from either view, and
   * exec's hint checks each loaded `poolSigned[depth − 1]` for it, ≈ 12 instructions) and what it read of learned
   * state is unchanged since it was recorded: a hint's check and a shape's last-hit check, both from the segment's own record.
   * `p`: the triples compared — the segment's probe, or for a hint followed from where it was set its residual
   * ({@link MfSegment.resid}), whose other bits are decided there. One function, not a core beside it: an extra call
   * level here moved TurboFan's inlining in `exec` on full-cold (bench/README "The shape's last hit through its
   * segment; the executor's op dispatch (session 18)").
   */
  private hintHolds(n: MfSegment, ws: Uint32Array, p: Int32Array): boolean {
    const deps = n.deps;
    return probeHolds(p, ws) && ((deps & MfDep.FDB) === 0 || n.fdbVersion === this.fdbVersion) && ((deps & MfDep.HAIRPIN) === 0 || n.hairpinVersion === this.hairpin.version);
  }

  /** The known bits' masks and values by word (nextResid's and rootResid's scratch, all 0 between uses). */
  private readonly knownMask = new Int32Array(W.SIZE);
  private readonly knownValue = new Int32Array(W.SIZE);

  /** `seg`'s residual for hints followed from ct op `o`, whose call leaves the bits `known` ({@link MfInstr.known}). */
  private nextResid(seg: MfSegment, o: object, known: Int32Array): void {
    const km = this.knownMask;
    const kv = this.knownValue;
    for (let i = 0; i < known.length; i += 3) {
      km[known[i]!] = known[i + 1]!;
      kv[known[i]!] = known[i + 2]!;
    }
    setResid(seg, o, km, kv);
    for (let i = 0; i < known.length; i += 3) {
      km[known[i]!] = 0;
      kv[known[i]!] = 0;
    }
  }

  /**
   * `seg`'s residual for hints followed from `port`'s record (enterRoot). A frame's words at the root: its header as
   * loaded (loadIpv4Fresh, or loadFrame on zeros), `inport` the port's key, the LOCALNET flag where a chassis runs a
   * localnet port (begin), every other word 0. Whether a chassis runs is the table's: `megaTable` keeps the
   * chassis-blind table apart, so a segment (of one table, by its epoch) is always entered with the same flags.
   */
  private rootResid(seg: MfSegment, port: Port): void {
    const km = this.knownMask;
    const kv = this.knownValue;
    for (let i = 0; i < W.SIZE; i++) if (i < HEADER_FIRST || i > HEADER_LAST) km[i] = -1;
    kv[W.INPORT] = port.key;
    kv[W.FLAGS] = this.chassis !== undefined && port.localnet === true ? LogFlag.LOCALNET : 0;
    setResid(seg, port, km, kv);
    km.fill(0);
    kv.fill(0);
  }

  /** Runs segment `seg` found for entry point `cont` on `w`, or the slow path, recorded, when none was. */
  private runSegment(t: MegaflowTable, seg: MfSegment | undefined, cont: number, w: Uint32Array, synced: boolean): void {
    const ops = this.segmentOps(t, seg, cont, w);
    if (ops !== undefined) this.exec(ops, synced);
  }

  /** {@link runSegment}'s counting and slow path: the ops of cached segment `seg` to run, or undefined when the slow path ran. */
  private segmentOps(t: MegaflowTable, seg: MfSegment | undefined, cont: number, w: Uint32Array): readonly MfInstr[] | undefined {
    if (seg !== undefined) {
      // Compared, not tested for truth: V8 tracks no field type for a boolean, so `if (seg.slow)` is its ToBoolean
      // chain (bench/README "Booleans tested as booleans (session 35)").
      if (seg.slow === true) {
        t.stats.slow++;
        this.connOk = false;
        this.resume(cont, w);
        return undefined;
      }
      t.stats.hits++;
      if (this.connRec === true) {
        this.connSegs[this.connSegsN++] = seg;
        // The grade read here once made (connOpsOf, out of line).
        const c = seg.connOps;
        if ((c < 0 ? this.connOpsOf(seg) : c) !== 2) this.connDirty = true;
      }
      return seg.ops;
    }
    t.stats.misses++;
    this.connOk = false;
    this.beginRec(cont, w);
    this.resume(cont, w);
    if (this.rec !== undefined) this.closeRec(undefined);
    return undefined;
  }

  /** The slow path from an entry point. */
  private resume(id: number, w: Uint32Array): void {
    const c = this.conts[id]!;
    const was = this.inEgress;
    this.inEgress = c.inEgress;
    if (c.kind === 'root') this.runTable(w, 0, 'ingress', undefined);
    else if (c.kind === 'fork') this.runTable(w, c.table + 1, c.pipeline, undefined);
    else this.runActions(c.actions!, w, c.table, c.pipeline, undefined, c.index);
    this.inEgress = was;
  }

  /**
   * Runs a cached segment's program. `synced`: the frame holds what the words' header fields say (storeFrame would
   * write nothing) as the segment starts — kept while no instruction writes a header word and no GIVE brings back
   * a parent's words, so that the closing ct call need not compare the header with the shadow again.
   */
  private exec(ops: readonly MfInstr[], synced: boolean): void {
    // The words run on are the pool's top: OUT_BEGIN and GIVE move it, and a ct op's nested segments may.
    let w = this.pool[this.depth - 1]!;
    // `near`: the frame holds what the words' header fields say but maybe the Ethernet addresses (true while
    // `synced` is, and after constant writes of those words alone): a ct fork's call then writes only them
    // (syncFrame's storeEth), where storeFrame compared every header word (full-cold's SYN: `eth.dst`, 0.94 a frame).
    let near = synced;
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i]!;
      // The constant writes recorded before the op (fuseWrites), made here: no dispatch of their own, where each
      // SETW took one (≈ 33 instructions an op; http's segments ran 8 SETW a frame, in runs of 1–5 before a ct
      // call, a delivery or an egress copy); written out, not called: a helper called here pushed other calls out
      // of exec (TurboFan's inlining budget). The ct ops' sync flags are written out for the same reason.
      // The first three from the op's properties (megaflow.ts MfInstr.nSets), the rest from `sets`.
      const ns = o.nSets;
      if (ns !== 0) {
        w[o.setWord0] = (w[o.setWord0]! & o.setKeep0) | o.setValue0;
        if (ns > 1) {
          w[o.setWord1] = (w[o.setWord1]! & o.setKeep1) | o.setValue1;
          if (ns > 2) {
            w[o.setWord2] = (w[o.setWord2]! & o.setKeep2) | o.setValue2;
            // `sets` holds nSets triples: read only past the third (none on http and full-cold), not its length each time.
            if (ns > 3) {
              const s = o.sets;
              for (let j = 9; j < s.length; j += 3) w[s[j]!] = (w[s[j]!]! & s[j + 1]!) | s[j + 2]!;
            }
          }
        }
        if (o.setsHeader === true) {
          synced = false;
          if (o.setsEthOnly !== true) near = false;
        }
      }
      // The labels are literals, each checked against MfOp by its type: with property reads (`case MfOp.SETW:`) the
      // cases were compared one by one in order, −265 instructions an http frame in exec (bench/README "The shape's
      // last hit through its segment; the executor's op dispatch (session 18)").
      switch (o.op) {
        case 18 satisfies typeof MfOp.SETW:
          if (headerWord(o.word)) synced = near = false;
          w[o.word] = ((w[o.word]! & ~o.width) | o.value) >>> 0;
          break;
        case 20 satisfies typeof MfOp.SETN:
          break;
        case 14 satisfies typeof MfOp.CT_FORK:
          // A fork ends its segment, and a segment is cut at a ct call only when no walk around it has more to do
          // (recFork): nothing reads these words after the chain that follows, so conntrack runs on them in place
          // instead of on a copy.
          // No `inEgress` store: nothing on a fork's way reads it (forkCt's zone is the pipeline's; a slow path's
          // resume sets its own, and every walk begins with it false), where CT_COMMIT's zone does.
          // Whether the call may skip syncing the frame (syncSkip), or sync only the Ethernet addresses (syncNear,
          // read by the call's frame sync only, syncFrame): both false between ct ops, and the call's every way
          // clears the one set (callCt's skip, syncFrame, answerCt; forkCt's way without a call) — so only a true
          // is stored, a constant (no write barrier), and nothing is cleared here. Whether the call left the frame
          // synced: callCt's every way sets `syncedAfter`.
          if (synced === true) this.syncSkip = true;
          else if (near === true) this.syncNear = true;
          this.forkCt(o.action as ForkAction, w, w, o.table, o.pipeline, undefined, o.port as CtPlan);
          {
            const next = this.nextOps(o, w);
            if (next !== undefined) {
              // The next segment's ops run in this loop (not a nested exec: its call and set-up, and a deeper stack,
              // per ct call), as its own exec would: on the pool's top, synced as the call left the frame. A fork is
              // always its segment's last op (recFork closes the recording with it; `insert` refuses a segment where
              // it is not: forkEndsSegment), so nothing of this segment is left to run after the next one's ops.
              // The top is `w` still: the call and a cached hint take and give pool slots in pairs (only the slow
              // path, nextOps' undefined, may leave another top) — not loaded again.
              ops = next;
              i = -1;
              synced = near = this.syncedAfter;
              continue;
            }
          }
          w = this.pool[this.depth - 1]!;
          break;
        case 19 satisfies typeof MfOp.OUT_INPLACE:
          // clearForEgress written out on literal words (the layout is checked with the function): as a call its loop
          // and `W.*` reads cost ≈ 100 instructions, and its size decided whether TurboFan inlined it here (bench/README
          // "The cluster's hops and the executor's exec (session 19)").
          w[2] = 0;
          w[3] = 0;
          w[4] = 0;
          w[5] = 0;
          w[6] = 0;
          w[7] = 0;
          w[8] = 0;
          w[9] = 0;
          w[10] = 0;
          w[11] = 0;
          w[12] = 0;
          w[67] = 0;
          w[68] = 0;
          w[69] = 0;
          break;
        case 12 satisfies typeof MfOp.DELIVER:
          if (this.connRec === true && this.connOk === true) this.connDeliver(w, o.port as Port, synced);
          this.deliver(w, o.port as Port, undefined, synced);
          break;
        case 15 satisfies typeof MfOp.CT_COMMIT:
          this.inEgress = o.inEgress;
          // As CT_FORK's: ctCommit always calls callCt, which clears syncSkip and sets syncedAfter on every way.
          if (synced === true) this.syncSkip = true;
          this.ctCommit((o.action as Extract<Action, { k: 'ct_commit' }>).nested, w, o);
          // A chassis's ct_commit inside its segment (runActions): the words after it are the key's.
          if (o.cont < 0) {
            synced = near = this.syncedAfter;
            break;
          }
          this.enterNext(o, w, this.syncedAfter);
          w = this.pool[this.depth - 1]!;
          break;
        case 10 satisfies typeof MfOp.SET_OUTPORT:
          w[W.OUTPORT] = o.value;
          break;
        case 9 satisfies typeof MfOp.OUT_BEGIN:
          w = this.egressCopy(w);
          break;
        case 11 satisfies typeof MfOp.GIVE:
          this.give();
          // The parent's words may not be what the frame holds. (Unobservable today: a copy that wrote its header has
          // cleared `synced` already, and a copy's walk with a ct call is not cached inside a longer one.)
          synced = near = false;
          w = this.pool[this.depth - 1]!;
          break;
        case 13 satisfies typeof MfOp.DROP:
          this.drop(o.pipeline, o.table, o.value);
          break;
        case 0 satisfies typeof MfOp.LOAD: {
          const a = o.action as Extract<Action, { k: 'load' }>;
          if (headerWord(a.dst.field.word)) synced = near = false;
          this.load(a.dst, a.value, a.port, w);
          break;
        }
        case 1 satisfies typeof MfOp.MOVE: {
          const a = o.action as Extract<Action, { k: 'move' }>;
          if (headerWord(a.dst.field.word)) synced = near = false;
          copyBits(w, a.src.field.word, a.src.lo, w, a.dst.field.word, a.dst.lo, a.dst.width);
          break;
        }
        case 2 satisfies typeof MfOp.EXCHANGE:
          synced = near = false;
          this.exchange(o.action as Extract<Action, { k: 'exchange' }>, w);
          break;
        case 3 satisfies typeof MfOp.CT_CLEAR:
          ctClear(w);
          this.connCtZeroed = true;
          break;
        case 5 satisfies typeof MfOp.DEC_TTL:
          synced = near = false;
          // Recorded only where the walk's TTL, read into its key, was above 1.
          w[W.IP_TTL] = w[W.IP_TTL]! - 1;
          break;
        case 6 satisfies typeof MfOp.PUT_FDB:
          synced = near = false;
          this.putFdb(o.action as Extract<Action, { k: 'put_fdb' }>, w);
          break;
        case 7 satisfies typeof MfOp.LEARN_HAIRPIN:
          synced = near = false;
          // The hit the key decided, run again for its learn() of the reply flow.
          this.hairpin.check(w, this.chassis!);
          break;
        case 8 satisfies typeof MfOp.LEARN_AFF:
          synced = near = false;
          this.learnAffinity(o.action as Extract<Action, { k: 'commit_lb_aff' }>, w);
          break;
        case 16 satisfies typeof MfOp.CT_SNAT_VIP:
          this.inEgress = o.inEgress;
          this.syncSkip = synced;
          this.syncedAfter = false;
          this.ctSnatToVip(w, undefined);
          this.syncSkip = false;
          this.enterNext(o, w, this.syncedAfter);
          w = this.pool[this.depth - 1]!;
          break;
      }
    }
  }

  /** A cached ct op's call may skip its frame sync (set by exec around the op). */
  private syncSkip = false;
  /** A cached ct fork's call need sync only the Ethernet addresses (exec's `near`, set around the op; syncFrame). */
  private syncNear = false;
  /** The last ct call left words and frame in step (callCt; exec reads it after a cached ct op). */
  private syncedAfter = false;
  private lookupSegment(t: MegaflowTable, cont: number, w: Uint32Array): MfSegment | undefined {
    const shapes = t.points[cont];
    if (shapes === undefined) return undefined;
    // Every shape's last hit first, compared word by word as it is read (a run of one connection's packets hashes
    // nothing, and a compare stops at the first word that differs), before any shape is hashed: on http 99 % of
    // lookups are some shape's last hit, but one in two found it only after hashing the shapes ranked before it
    // (2.7 hashes of 9–10 words and a Map probe per frame, for 0.07 lookups per frame that needed one).
    // (A segment removed from its shape is never its `last`: each removal clears it.)
    for (let s = 0; s < shapes.length; s++) {
      const last = shapes[s]!.last;
      if (last !== undefined && this.hintHolds(last, w, last.probe)) {
        this.ranked(shapes, s);
        return last;
      }
    }
    const k = this.keyScratch;
    for (let s = 0; s < shapes.length; s++) {
      const sh = shapes[s]!;
      const words = sh.words;
      const masks = sh.masks;
      const n = words.length;
      let h = cont;
      for (let i = 0; i < n; i++) {
        const v = w[words[i]!]! & masks[i]!;
        k[i] = v;
        h = mixHash(h, v);
      }
      let prev: MfSegment | undefined;
      for (let e = sh.map.get(h); e !== undefined; prev = e, e = e.chain) {
        const key = e.key;
        let i = 0;
        while (i < n && key[i] === k[i]) i++;
        if (i < n) continue;
        if (((e.deps & MfDep.FDB) !== 0 && e.fdbVersion !== this.fdbVersion) || ((e.deps & MfDep.HAIRPIN) !== 0 && e.hairpinVersion !== this.hairpin.version)) {
          // What it read of learned state has changed: forget it (the slow path records it again).
          if (prev === undefined) {
            if (e.chain === undefined) sh.map.delete(h);
            else sh.map.set(h, e.chain);
          } else prev.chain = e.chain;
          t.stats.entries--;
          t.stats.stale++;
          e.chain = e;
          e.epoch = 0;
          if (sh.last === e) sh.last = undefined;
          return undefined;
        }
        sh.last = e;
        this.ranked(shapes, s);
        return e;
      }
    }
    return undefined;
  }

  /**
   * Counts a hit of shape `s` and moves it one place up when it has had more hits than the one before it: the
   * shapes an entry point's packets mostly take are tried first (OVS's dpcls ranks its subtables by hits the same
   * way). Any entry a packet matches is a translation of its walk, so the order decides only the cost.
   */
  private ranked(shapes: MfShape[], s: number): void {
    const sh = shapes[s]!;
    sh.hits++;
    if (s > 0 && sh.hits > shapes[s - 1]!.hits) {
      shapes[s] = shapes[s - 1]!;
      shapes[s - 1] = sh;
    }
  }

  private beginRec(cont: number, w: Uint32Array): void {
    const r = this.recState;
    r.cont = cont;
    r.mask.fill(0);
    r.val.fill(0);
    r.ops = [];
    r.deps = 0;
    r.fdbVersion = this.fdbVersion;
    r.hairpinVersion = this.hairpin.version;
    r.openTakes = 0;
    this.rec = r;
    this.pending = 0;
    this.dirtyOf(this.slotOf(w)).fill(0);
    // start(): the inport decides the localnet flag before any table runs.
    if (cont === 0) this.recRead(w, W.INPORT, 0xffffffff);
  }

  private closeRec(final: MfInstr | undefined): void {
    const r = this.rec!;
    this.rec = undefined;
    if (final) r.ops.push(final);
    if (r.ops.length === 0) r.ops.push(instr(MfOp.SETW, undefined, W.PKT_MARK, 0, 0, 0));
    this.insert(r);
  }

  /** The walk from here is not translated: a `SLOW` entry under what was read so far, and no more recording. */
  private poison(): void {
    const r = this.rec!;
    this.rec = undefined;
    r.ops = [instr(MfOp.SLOW)];
    this.insert(r);
  }

  private insert(r: Recording): void {
    const t = this.mega!;
    if (t.stats.entries >= t.maxEntries) {
      t.clear();
      t.stats.flushes++;
    }
    let n = 0;
    for (let i = 0; i < W.SIZE; i++) if (r.mask[i]) n++;
    const words = new Int32Array(n);
    const masks = new Int32Array(n);
    const key = new Int32Array(n);
    let h = r.cont;
    for (let i = 0, j = 0; i < W.SIZE; i++) {
      if (!r.mask[i]) continue;
      words[j] = i;
      masks[j] = r.mask[i]!;
      key[j] = r.val[i]!;
      h = mixHash(h, key[j]!);
      j++;
    }
    let shapes = t.points[r.cont];
    if (shapes === undefined) t.points[r.cont] = shapes = [];
    let shape = shapes.find((s) => s.same(words, masks));
    if (shape === undefined) shapes.push((shape = new MfShape(words, masks)));
    let prev: MfSegment | undefined;
    for (let e = shape.map.get(h); e !== undefined; prev = e, e = e.chain) {
      let i = 0;
      while (i < n && e.key[i] === key[i]) i++;
      if (i < n) continue;
      if (prev === undefined) {
        if (e.chain === undefined) shape.map.delete(h);
        else shape.map.set(h, e.chain);
      } else prev.chain = e.chain;
      t.stats.entries--;
      e.epoch = 0;
      if (shape.last === e) shape.last = undefined;
      break;
    }
    inPlaceEgress(r.ops);
    const ops = fuseWrites(r.ops);
    forkEndsSegment(ops);
    const seg = new MfSegment(shape.probeOf(key), key, h, ops, r.deps, r.fdbVersion, r.hairpinVersion);
    knowAfterCalls(seg.probe, seg.ops);
    seg.epoch = t.epoch;
    seg.chain = shape.map.get(h);
    shape.map.set(h, seg);
    t.stats.entries++;
    t.stats.inserted++;
  }

  private contId(kind: 'fork' | 'inplace', pipeline: Pipeline, table: number, actions: readonly Action[] | undefined, index: number): number {
    const name = `${kind}|${pipeline}|${table}|${this.inEgress ? 1 : 0}|${index}`;
    let byName = this.contIds.get(actions ?? this.conts);
    if (byName === undefined) this.contIds.set(actions ?? this.conts, (byName = new Map()));
    let id = byName.get(name);
    if (id === undefined) {
      id = this.conts.length;
      this.conts.push({ kind, pipeline, table, inEgress: this.inEgress, ...(actions ? { actions } : {}), index });
      byName.set(name, id);
    }
    return id;
  }

  private recFork(a: ForkAction, table: number, pipeline: Pipeline): number {
    if (this.pending > 0) {
      this.poison();
      return -1;
    }
    const cont = this.contId('fork', pipeline, table, undefined, 0);
    this.closeRec(instr(MfOp.CT_FORK, a, 0, 0, 0, 0, pipeline, table, cont, this.inEgress, this.forkPlan(a)));
    return cont;
  }

  private recInPlace(op: number, a: Action, actions: readonly Action[], i: number, table: number, pipeline: Pipeline, went: boolean): number {
    if (this.pending > 0 || went) {
      this.poison();
      return -1;
    }
    const cont = this.contId('inplace', pipeline, table, actions, i + 1);
    this.closeRec(instr(op, a, 0, 0, 0, 0, pipeline, table, cont, this.inEgress));
    return cont;
  }

  private emit(op: number, action?: Action, word = 0, lo = 0, width = 0, value = 0, pipeline: Pipeline = 'ingress', table = 0, cont = -1, port?: Port): void {
    const r = this.rec;
    if (r === undefined) return;
    if (op === MfOp.SETBITS) {
      // Constant writes become per-word masked stores, merged with the previous one on the same word.
      let at = lo;
      let left = width;
      let v = value >>> 0;
      while (left > 0) {
        const wi = word + (at >>> 5);
        const sh = at & 31;
        const n = Math.min(32 - sh, left);
        const m = n === 32 ? 0xffffffff : ((2 ** n - 1) * 2 ** sh) >>> 0;
        const bits = (((v % 2 ** n) * 2 ** sh) >>> 0) & m;
        const prev = r.ops[r.ops.length - 1];
        if (prev !== undefined && prev.op === MfOp.SETW && prev.word === wi) {
          prev.width = (prev.width | m) >>> 0;
          prev.value = ((prev.value & ~m) | bits) >>> 0;
        } else r.ops.push(instr(MfOp.SETW, undefined, wi, 0, m, bits, pipeline, table, cont, this.inEgress));
        v = Math.floor(v / 2 ** n);
        at += n;
        left -= n;
      }
      return;
    }
    r.ops.push(instr(op, action, word, lo, width, value, pipeline, table, cont, this.inEgress, port));
  }

  private slotOf(w: Uint32Array): number {
    const top = this.depth - 1;
    if (this.pool[top] === w) return top;
    const i = this.pool.indexOf(w);
    return i < 0 ? top : i;
  }

  private dirtyOf(slot: number): Uint32Array {
    return this.dirty[slot] ?? (this.dirty[slot] = new Uint32Array(W.SIZE));
  }

  /** Adds `mask` bits of `word` to the key, except bits the segment itself wrote (the key determines those). */
  private recRead(w: Uint32Array, word: number, mask: number): void {
    const r = this.rec!;
    const eff = (mask & ~this.dirtyOf(this.slotOf(w))[word]!) >>> 0;
    if (eff === 0) return;
    r.mask[word] = (r.mask[word]! | eff) >>> 0;
    r.val[word] = (r.val[word]! | (w[word]! & eff)) >>> 0;
  }

  /** Reads (into the key) or writes (marks determined) `width` bits from bit `lo` of the run at `word`. */
  private recBits(w: Uint32Array, word: number, lo: number, width: number, write: boolean): void {
    const d = write ? this.dirtyOf(this.slotOf(w)) : undefined;
    let at = lo;
    let left = width;
    while (left > 0) {
      const wi = word + (at >>> 5);
      const sh = at & 31;
      const n = Math.min(32 - sh, left);
      const m = n === 32 ? 0xffffffff : ((2 ** n - 1) * 2 ** sh) >>> 0;
      if (d) d[wi] = (d[wi]! | m) >>> 0;
      else this.recRead(w, wi, m);
      at += n;
      left -= n;
    }
  }

  private recRef(w: Uint32Array, r: FieldRef, write: boolean): void {
    this.recBits(w, r.field.word, r.lo, r.width, write);
  }

  /** A load's constant, resolved now (port names to keys, wide values to 32-bit pieces): SETBITS at replay. */
  private recLoad(a: Extract<Action, { k: 'load' }>, w: Uint32Array): void {
    const dst = a.dst;
    if (a.port !== undefined) {
      this.recBits(w, dst.field.word, dst.lo, 32, true);
      this.emit(MfOp.SETBITS, undefined, dst.field.word, dst.lo, 32, a.port === '' || a.port === 'none' ? 0 : (this.portKey(a.port) ?? 0));
      return;
    }
    this.recBits(w, dst.field.word, dst.lo, dst.width, true);
    for (let done = 0; done < dst.width; done += 32) {
      const n = Math.min(32, dst.width - done);
      this.emit(MfOp.SETBITS, undefined, dst.field.word, dst.lo + done, n, Number((a.value >> BigInt(done)) & 0xffffffffn));
    }
  }

  /** The ct words a call on a chassis leaves hidden (hideCt: all 0) are determined; reg13, the zone, is not written. */
  private recHiddenCt(w: Uint32Array): void {
    const d = this.dirtyOf(this.slotOf(w));
    d[W.CT_STATE] = d[W.CT_MARK] = d[W.CT_NW_SRC] = d[W.CT_NW_DST] = d[W.CT_TP_SRC] = d[W.CT_TP_DST] = d[W.CT_NW_PROTO] = 0xffffffff;
    d.fill(0xffffffff, W.CT_LABEL, W.CT_LABEL + 4);
    d.fill(0xffffffff, W.CT_IPV6_SRC, W.CT_IPV6_SRC + 4);
    d.fill(0xffffffff, W.CT_IPV6_DST, W.CT_IPV6_DST + 4);
  }

  private recDirtyCt(w: Uint32Array): void {
    this.recHiddenCt(w);
    this.dirtyOf(this.slotOf(w))[W.CT_ZONE] = 0xffffffff;
  }

  /**
   * get_fdb / lookup_fdb: the learned table is read as OVS's classifier reads OFTABLE_GET_FDB — the MAC in full where
   * it is in the table, else only the bits that tell it from every learned MAC (nothing while nothing is learned),
   * so that replies to many clients share one entry; the entry rests on the table's version.
   */
  private recFdb(w: Uint32Array, mac: FieldRef, port: FieldRef | undefined, dst: FieldRef, v: number): void {
    this.rec!.deps |= MfDep.FDB;
    const key = readBits(w, mac.field.word, mac.lo + 32, 16) * 2 ** 32 + readBits(w, mac.field.word, mac.lo, 32);
    if (this.fdb.has(key)) {
      this.recBits(w, mac.field.word, mac.lo, 48, false);
      if (port) this.recBits(w, port.field.word, port.lo, 32, false);
    } else if (this.fdb.size > 0) {
      const hi = Math.floor(key / 2 ** 32);
      const his: number[] = [];
      for (const k of this.fdb.keys()) his.push(Math.floor(k / 2 ** 32));
      // The high 16 bits alone when they differ from every learned MAC's, else the whole MAC.
      if (mac.lo % 32 === 0 && !his.includes(hi)) this.recRead(w, mac.field.word + mac.lo / 32 + 1, prefixProof(hi, 0xffff, his));
      else this.recBits(w, mac.field.word, mac.lo, 48, false);
    }
    this.emit(MfOp.SETBITS, undefined, dst.field.word, dst.lo, dst.width, v);
    this.recRef(w, dst, true);
  }

  /** A word read by a helper function (port security, hairpin checks): the whole word goes into the key. */
  private rd(w: Uint32Array, i: number): number {
    if (this.rec !== undefined) this.recRead(w, i, 0xffffffff);
    return w[i]!;
  }

  private rdBits(w: Uint32Array, i: number, mask: number): number {
    if (this.rec !== undefined) this.recRead(w, i, mask);
    return (w[i]! & mask) >>> 0;
  }

  private r6(w: Uint32Array, at: number): Uint32Array {
    if (this.rec !== undefined) for (let i = 0; i < 4; i++) this.recRead(w, at + i, 0xffffffff);
    return w;
  }

  /** Whether `n` words at `a` equal those at `b`; the key gets all of them if so, else one differing byte's worth. */
  private sameWords(w: Uint32Array, a: number, b: number, n: number): boolean {
    for (let i = 0; i < n; i++) {
      if (w[a + i] === w[b + i]) continue;
      if (this.rec !== undefined) {
        const d = (w[a + i]! ^ w[b + i]!) >>> 0;
        const hb = (31 - Math.clz32(d)) & ~7;
        const m = hb === 0 ? 0xffffffff : (~((1 << hb) - 1)) >>> 0;
        this.recRead(w, a + i, m);
        this.recRead(w, b + i, m);
      }
      return false;
    }
    if (this.rec !== undefined) {
      for (let i = 0; i < n; i++) {
        this.recRead(w, a + i, 0xffffffff);
        this.recRead(w, b + i, 0xffffffff);
      }
    }
    return true;
  }

  /** Membership of `w[word]` in `values`, recorded as the key needs it (the word if in, a proof prefix if not). */
  private recMember(w: Uint32Array, word: number, hit: boolean, values: Iterable<number>): void {
    if (hit) this.recRead(w, word, 0xffffffff);
    else this.recRead(w, word, prefixProof(w[word]!, 0xffffffff, Array.from(values)));
  }

  private lookupRec(t: Table, w: Uint32Array): CompiledFlow | undefined {
    const fs = t.flows;
    const slot = this.slotOf(w);
    for (let i = 0; i < fs.length; i++) {
      const sink: number[] = [];
      const hit = this.evalRec((fs[i] as CompiledFlow & { low: LowExpr }).low, w, slot, sink);
      for (let j = 0; j < sink.length; j += 2) this.recRead(w, sink[j]!, sink[j + 1]!);
      if (hit) return fs[i];
    }
    return undefined;
  }

  /**
   * A match evaluated as the compiled closure evaluates it, the bits that decide it appended to `sink` (word, mask
   * pairs). Where several operands decide an `&&` (any false one) or an `||` (any true one), the proof kept is the
   * cheapest — header fields that vary per connection cost more than the packet's type or the registers — so that
   * `icmp6.type == 135 && ip6` rejects a TCP packet by its EtherType, not by its source port's low byte.
   */
  private evalRec(e: LowExpr, w: Uint32Array, slot: number, sink: number[]): boolean {
    const d = this.dirtyOf(slot);
    const put = (word: number, mask: number): void => {
      const eff = (mask & ~d[word]!) >>> 0;
      if (eff !== 0) sink.push(word, eff);
    };
    switch (e.t) {
      case 'const':
        return e.value;
      case 'resident':
        return this.isResident(e.port) !== e.neg;
      case 'rel': {
        let at = e.lo;
        let left = e.width;
        while (left > 0) {
          const sh = at & 31;
          const n = Math.min(32 - sh, left);
          put(e.word + (at >>> 5), n === 32 ? 0xffffffff : ((2 ** n - 1) * 2 ** sh) >>> 0);
          at += n;
          left -= n;
        }
        const v = readBits(w, e.word, e.lo, e.width);
        return e.op === '<' ? v < e.value : e.op === '<=' ? v <= e.value : e.op === '>' ? v > e.value : v >= e.value;
      }
      case 'and':
      case 'or': {
        // &&: false if any operand is false (one false operand's proof suffices); ||: true if any is true.
        const decisive = e.t === 'or';
        let best: number[] | undefined;
        let bestCost = Infinity;
        const all: number[] = [];
        for (const x of e.xs) {
          const sub: number[] = [];
          const v = this.evalRec(x, w, slot, sub);
          if (v === decisive) {
            const c = proofCost(sub);
            if (c < bestCost) {
              best = sub;
              bestCost = c;
            }
          } else for (const n of sub) all.push(n);
        }
        if (best) {
          for (const n of best) sink.push(n);
          return decisive;
        }
        for (const n of all) sink.push(n);
        return !decisive;
      }
      case 'in': {
        const x = (w[e.word]! & e.mask) >>> 0;
        const hit = e.values.includes(x);
        put(e.word, hit ? e.mask : prefixProof(x, e.mask, e.values));
        return hit;
      }
      case 'cmp': {
        let diff = -1;
        for (let i = 0; i < e.masks.length; i++) {
          const m = e.masks[i]!;
          if (m !== 0 && ((w[e.word + i]! & m) >>> 0) !== e.vals[i]) {
            diff = i;
            break;
          }
        }
        if (diff < 0) {
          for (let i = 0; i < e.masks.length; i++) if (e.masks[i]) put(e.word + i, e.masks[i]!);
        } else put(e.word + diff, prefixProof(w[e.word + diff]!, e.masks[diff]!, [e.vals[diff]!]));
        return (diff < 0) !== e.ne;
      }
    }
  }
}

/** Everything OFTABLE_CHK_LB_HAIRPIN's flows may look at besides the addresses (hairpin.ts check/origDst). */
/** The flow words of an connection replay key (megaflow.ts, `CONN_*`) (an IPv4 TCP/UDP frame's words are 0 elsewhere when it starts). */
/**
 * Whether the words `ws` match probe `p` ({@link MfSegment.probe}'s layout: `[word, mask, value]` triples, padded with
 * always-equal `[0, 0, 0]` to a multiple of four): a shape's last hit and a segment hint are checked by it. Four
 * triples a turn: TurboFan (node 20) repeats both typed arrays' map checks, length and base loads on every turn of a
 * loop (its stack check ends what it knows) — one triple a turn was ≈ 43 instructions a word compared; the `| 0`
 * indices are int32 adds without overflow checks. A miss still stops at its first word (bench/README "The segment
 * cache's lookup in V8's code (session 16)"). Small enough to be inlined where it is called.
 */
const probeHolds = (p: Int32Array, ws: Uint32Array): boolean => {
  const n3 = p.length;
  let i = 0;
  while (
    i < n3 &&
    p[(i + 2) | 0] === (ws[p[i]!]! & p[(i + 1) | 0]!) &&
    p[(i + 5) | 0] === (ws[p[(i + 3) | 0]!]! & p[(i + 4) | 0]!) &&
    p[(i + 8) | 0] === (ws[p[(i + 6) | 0]!]! & p[(i + 7) | 0]!) &&
    p[(i + 11) | 0] === (ws[p[(i + 9) | 0]!]! & p[(i + 10) | 0]!)
  )
    i = (i + 12) | 0;
  return i === n3;
};

// connHeadersKept reads six words a turn, connCtAny (and writesCt) the ct words callCt hands to conntrack and writes back
// (CT_STATE, CT_MARK, CT_LABEL's 4, then CT_NW_DST .. CT_NW_PROTO) in runs: the layout they assume.
if ((W.ARP_OP - W.ETH_TYPE + 1) % 6 !== 0 || W.CT_MARK !== W.CT_STATE + 1 || W.CT_LABEL !== W.CT_MARK + 1 || W.CT_NW_PROTO - W.CT_NW_DST !== 12 || W.CT_TP_SRC + 1 !== W.CT_NW_PROTO) {
  throw new Error('executor.ts: the flow words moved (connHeadersKept, connCtAny, writesCt)');
}
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;
/** A logical flow's text that names the TCP flags (the field or a subfield of it). */
const FLAGS_NAMED = /\btcp\.flags\b/;
/** connLookup's answers: not a connection's frame, looked up and not found (the key made), replayed. */
const CONN_NONE = 0;
const CONN_MISSED = 1;
const CONN_REPLAYED = 2;
/** Missed, and a template's slot was declined by the store (startCached records no walk: the store said no already). */
const CONN_DECLINED = 3;

/**
 * The hash of a template key: key words 0, 4, 5 of `k` and the masked 1–3 and 6–8, in 30 bits — a Map key V8 holds
 * as a small integer (a 32-bit one outside that range would be boxed as a heap number at each lookup).
 */
const templateHash = (k: Int32Array, k1: number, k2: number, k3: number, k6: number, k7: number, k8: number): number => {
  let h = mixHash(k[0]!, k6);
  h = mixHash(h, k7);
  h = mixHash(h, k8);
  h = mixHash(h, k[5]! ^ k1);
  return mixHash(h, k2 ^ k3 ^ k[4]!) & 0x3fffffff;
};

/** ConnTemplate.relc's flags: the step's translated IPv4 source, destination, source port, destination port (outcome words 7–10) are the frame's. */
const REL_SRC = 1 << 12;
const REL_DST = 1 << 13;
const REL_SPORT = 1 << 14;
const REL_DPORT = 1 << 15;

const templateKeyIs = (key: Int32Array, k: Int32Array, k1: number, k2: number, k3: number, k6: number, k7: number, k8: number): boolean => {
  return key[0] === k[0] && key[1] === k1 && key[2] === k2 && key[3] === k3 && key[4] === k[4] && key[5] === k[5] && key[6] === k6 && key[7] === k7 && key[8] === k8;
};

/** Entries of the executor's tmplShapeHint (a power of two). */
const TMPL_HINTS = 64;

/** Takes template `c` out of its table. */
function dropTemplate(t: MegaflowTable, c: ConnTemplate): void {
  const sh = c.shape;
  // A shape the table has let go of (clearConns) holds nothing it counts.
  if (t.templates.indexOf(sh) < 0) return;
  let prev: ConnTemplate | undefined;
  for (let e = sh.map.get(c.hash); e !== undefined; prev = e, e = e.chain) {
    if (e !== c) continue;
    if (prev !== undefined) prev.chain = e.chain;
    else if (e.chain !== undefined) sh.map.set(c.hash, e.chain);
    else sh.map.delete(c.hash);
    t.templateCount--;
    return;
  }
}

/**
 * Instructions a connection's replay may skip: writes to the words (which a replay does not produce), egress copies
 * on one slot, the ct calls it makes itself, the delivery. Learning (FDB, hairpin, affinity), the SNAT-to-VIP table
 * and the slow path keep a walk out.
 */
const CONN_OPS = new Set<number>([MfOp.LOAD, MfOp.MOVE, MfOp.EXCHANGE, MfOp.CT_CLEAR, MfOp.SETW, MfOp.SETN, MfOp.DEC_TTL, MfOp.OUT_BEGIN, MfOp.OUT_INPLACE, MfOp.SET_OUTPORT, MfOp.GIVE, MfOp.DELIVER, MfOp.DROP, MfOp.CT_FORK, MfOp.CT_COMMIT]);

/**
 * Whether instruction `o` (one of CONN_OPS) may write a word from the EtherType to the ARP opcode (DEC_TTL, or
 * {@link writesWords} with {@link l3Word}). The others write none (the ct ops' calls change the ct words, and NAT's
 * read-back writes the words and the shadow alike).
 */
function writesL3(o: MfInstr): boolean {
  return o.op === MfOp.DEC_TTL || writesWords(o, l3Word);
}

/**
 * Whether instruction `o` (one of CONN_OPS) may write a ct word callCt hands to conntrack (ct_state, ct_mark,
 * ct_label, the ct tuple). The ct ops' calls and CT_CLEAR are the walk's own (connPre, connCtZeroed).
 */
function writesCt(o: MfInstr): boolean {
  return writesWords(o, ctWord);
}

/**
 * Whether instruction `o` writes a word `within` takes (a word range `first..last`): its fused constant writes, a
 * SETW, a load's, move's or exchange's destination field (whole: a field spans whole words). Run once per segment
 * (connOpsOf), never per packet.
 */
function writesWords(o: MfInstr, within: (first: number, last: number) => boolean): boolean {
  const s = o.sets;
  for (let j = 0; j < s.length; j += 3) if (within(s[j]!, s[j]!)) return true;
  const field = (r: FieldRef): boolean => within(r.field.word, r.field.word + ((r.field.width + 31) >>> 5) - 1);
  switch (o.op) {
    case MfOp.SETW:
      return within(o.word, o.word);
    case MfOp.LOAD:
      return field((o.action as Extract<Action, { k: 'load' }>).dst);
    case MfOp.MOVE:
      return field((o.action as Extract<Action, { k: 'move' }>).dst);
    case MfOp.EXCHANGE: {
      const a = o.action as Extract<Action, { k: 'exchange' }>;
      return field(a.a) || field(a.b);
    }
  }
  return false;
}

function ctWord(first: number, last: number): boolean {
  return (first <= W.CT_LABEL + 3 && last >= W.CT_STATE) || (first <= W.CT_NW_PROTO && last >= W.CT_NW_DST);
}

function l3Word(first: number, last: number): boolean {
  return first <= W.ARP_OP && last >= W.ETH_TYPE;
}

function ethSrcWord(first: number, last: number): boolean {
  return first <= W.ETH_SRC + 1 && last >= W.ETH_SRC;
}

function ethDstWord(first: number, last: number): boolean {
  return first <= W.ETH_DST + 1 && last >= W.ETH_DST;
}

/** An empty array of objects (elements of one kind with the arrays that hold some: readers see one map). */
function emptyOf<T>(): T[] {
  const a = [{}] as unknown as T[];
  a.length = 0;
  return a;
}

const copyResult = (from: CtResult, to: CtResult): void => {
  to.state = from.state;
  to.zone = from.zone;
  to.mark = from.mark;
  to.label.set(from.label);
  to.rewritten = from.rewritten;
  to.hasOriginal = from.hasOriginal;
  to.originalIpv6 = from.originalIpv6;
  to.originalSrc.set(from.originalSrc);
  to.originalDst.set(from.originalDst);
  to.originalProto = from.originalProto;
  to.originalSrcPort = from.originalSrcPort;
  to.originalDstPort = from.originalDstPort;
  to.tupleWritten = from.tupleWritten;
};

/** A result's booleans as bits (for a compare against a recorded outcome). */
const resFlags = (res: CtResult): number => {
  return (res.rewritten === true ? 1 : 0) | (res.tupleWritten === true ? 2 : 0) | (res.hasOriginal === true ? 4 : 0) | (res.originalIpv6 === true ? 8 : 0);
};

const HAIRPIN_CHECK_WORDS: readonly number[] = [
  W.IPV4_SRC, W.IPV4_DST, W.IPV6_SRC, W.IPV6_SRC + 1, W.IPV6_SRC + 2, W.IPV6_SRC + 3, W.IPV6_DST, W.IPV6_DST + 1,
  W.IPV6_DST + 2, W.IPV6_DST + 3, W.CT_MARK, W.CT_LABEL, W.IP_PROTO, W.TP_DST, W.CT_STATE, W.CT_NW_DST, W.CT_IPV6_DST,
  W.CT_IPV6_DST + 1, W.CT_IPV6_DST + 2, W.CT_IPV6_DST + 3, W.CT_NW_PROTO, W.CT_TP_DST, regWord(1), regWord(2),
  W.REGS + 4, W.REGS + 5, W.REGS + 6, W.REGS + 7,
];

/** Words whose bits in a megaflow key multiply entries (per-connection header fields): a proof avoids them. */
const COSTLY = new Set<number>([
  W.ETH_SRC, W.ETH_SRC + 1, W.ETH_DST, W.ETH_DST + 1, W.IPV4_SRC, W.IPV4_DST, W.TP_SRC, W.TP_DST, W.TCP_FLAGS,
  W.IPV6_SRC, W.IPV6_SRC + 1, W.IPV6_SRC + 2, W.IPV6_SRC + 3, W.IPV6_DST, W.IPV6_DST + 1, W.IPV6_DST + 2, W.IPV6_DST + 3,
  W.ARP_SHA, W.ARP_SHA + 1, W.ARP_THA, W.ARP_THA + 1, W.ND_TARGET, W.ND_TARGET + 1, W.ND_TARGET + 2, W.ND_TARGET + 3,
  W.IPV6_LABEL, W.IP_TTL, W.CT_NW_DST, W.CT_TP_DST,
]);

function popcount(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

function proofCost(pairs: readonly number[]): number {
  let c = 0;
  for (let i = 0; i < pairs.length; i += 2) c += popcount(pairs[i + 1]!) * (COSTLY.has(pairs[i]!) ? 16 : 1);
  return c;
}

/** The state of the segment being recorded (one per executor, reused). */
class Recording {
  cont = 0;
  readonly mask = new Uint32Array(W.SIZE);
  readonly val = new Uint32Array(W.SIZE);
  ops: MfInstr[] = [];
  deps = 0;
  fdbVersion = 0;
  hairpinVersion = 0;
  /** Egress copies taken in this segment and not yet given back. */
  openTakes = 0;
}

/**
 * Order among flows of equal priority. OVS leaves overlapping equal-priority flows' order undefined; ovn-trace
 * takes the first in the order its IDL hash map iterates the Logical_Flow rows (hmap bucket = first 32 bits of the
 * uuid & mask, mask grown by hmap_expand as rows are inserted; its sort by priority is stable). Reproducing that
 * bucket order makes ties resolve as ovn-trace resolves them (rows sharing a bucket aside).
 */
function tieBreaker(sb: SouthboundState): (f: LogicalFlow) => number {
  const uuids = new Set<string>();
  for (const list of sb.flows.values()) for (const f of list) if (f.uuid) uuids.add(f.uuid);
  const mask = hmapMask(uuids.size);
  return (f) => (f.uuid ? (parseInt(f.uuid.slice(0, 8), 16) & mask) >>> 0 : 0);
}

/**
 * The bucket mask of an OVS hmap after `n` insertions (lib/hmap.c: hmap_insert expands when n / 2 > mask, to
 * calc_mask(n): the bits up to n's highest, at least 0b11 past one). ovn-trace's tie order among equal-priority
 * flows is the IDL's bucket order under this mask (see `tieBreaker` in this file).
 */
export function hmapMask(n: number): number {
  let mask = 0;
  for (let k = 1; k <= n; k++) {
    if (Math.floor(k / 2) > mask) {
      let m = Math.floor(k / 2);
      for (let s = 1; s < 32; s <<= 1) m |= m >>> s;
      m |= (m & 1) << 1;
      if (m > mask) mask = m;
    }
  }
  return mask;
}

function wordsOf6(addr: Uint8Array): number[] {
  const w = new Uint32Array(4);
  loadV6(w, 0, addr, 0);
  return [...w];
}

type ForkAction = Extract<Action, { k: 'ct_next' | 'ct_commit_nat' | 'ct_dnat' | 'ct_snat' | 'ct_lb_mark' | 'ct_lb' }>;
/** ct_lb_mark's and ct_lb's action ({@link CtPlan.isLb}). */
type LbAction = Extract<Action, { k: 'ct_lb_mark' | 'ct_lb' }>;

/** A forking ct action's request, made once: `base`, or per backend for ct_lb_mark's DNAT. */
interface CtPlan {
  base: CtRequest;
  /** The zone is the action's own (ct_dnat/ct_snat: the datapath's NAT zones), not the packet's port's. */
  fixedZone: boolean;
  /**
   * The action is ct_lb_mark or ct_lb (decided once: the parser's action kinds are slices of the flow's text, not
   * V8-internalized strings, so comparing them with a literal per packet calls V8's StringEqual).
   */
  isLb: boolean;
  /**
   * ct_lb_mark or ct_lb with backends (the action's list, read once: per call it was the action's map, the list's
   * two element kinds and its length).
   */
  hasBackends: boolean;
  lb: Map<object, CtRequest> | undefined;
  /** ct_lb_mark's and ct_lb's request for each of its backends, by the backend's index (lbRequest's, made with the plan). */
  backendReqs: CtRequest[];
  /**
   * The index pickBackend answers for every IPv4 (one4) or IPv6 (one6) packet while no --lb-dst is set — the family's
   * one backend, its hash fields (if any) accepted — else -1 (onlyBackend).
   */
  one4: number;
  one6: number;
}

/** pickBackend's answers other than a backend's index: none, or --lb-dst's own address (a backend-less action). */
const NO_BACKEND = -1;
const LB_DST = -2;

/** The packet-header words (loadIpv4Fresh and loadFrame write them; a frame's walk starts with the others 0). */
const HEADER_FIRST = W.ETH_SRC;
const HEADER_LAST = W.ARP_OP;
/** The words clearForEgress (and exec's OUT_INPLACE) sets to 0. */
const EGRESS_CLEARED = ((): number[] => {
  const t = new Uint32Array(W.SIZE).fill(1);
  clearForEgress(t);
  return [...t.keys()].filter((i) => t[i] === 0);
})();

/**
 * The known bits after each ct op of a segment that enters a next one ({@link MfInstr.known}): what the words hold on
 * every pass as a function of the segment's key (its probe: the words matched it as the segment began) and of its
 * constant writes, less what the calls write. A conntrack call writes the ct words (its state, mark, label, tuple:
 * callCt's engine or afterCt) and, after NAT, the addresses and ports (reloadTranslated; a cached segment runs on a
 * frame's walk, whose shadow is its frame's — never a microflow's or a nested packet's, which reload the whole
 * header); any op not listed here may write other words, and forgets all. Made once per segment.
 */
function knowAfterCalls(probe: Int32Array, ops: readonly MfInstr[]): void {
  const km = new Int32Array(W.SIZE);
  const kv = new Int32Array(W.SIZE);
  for (let i = 0; i < probe.length; i += 3) {
    const w = probe[i]!;
    const m = probe[i + 1]!;
    km[w] |= m;
    kv[w] = (kv[w]! & ~m) | (probe[i + 2]! & m);
  }
  for (const o of ops) {
    // The op's fused constant writes come first (exec): `w = (w & keep) | value`.
    const s = o.sets;
    for (let j = 0; j < o.nSets * 3; j += 3) {
      const w = s[j]!;
      km[w] |= ~s[j + 1]! | s[j + 2]!;
      kv[w] = (kv[w]! & s[j + 1]!) | s[j + 2]!;
    }
    switch (o.op) {
      case MfOp.SETW: {
        const m = o.width | 0;
        const v = o.value | 0;
        km[o.word] |= m | v;
        kv[o.word] = (kv[o.word]! & ~m) | v;
        break;
      }
      case MfOp.SET_OUTPORT:
        km[W.OUTPORT] = -1;
        kv[W.OUTPORT] = o.value | 0;
        break;
      case MfOp.SETN:
      case MfOp.DELIVER:
      case MfOp.DROP:
        break;
      case MfOp.OUT_INPLACE:
        for (const w of EGRESS_CLEARED) {
          km[w] = -1;
          kv[w] = 0;
        }
        break;
      case MfOp.CT_FORK:
      case MfOp.CT_COMMIT:
        for (let w = W.CT_STATE; w < W.CT_LABEL + 4; w++) km[w] = 0;
        for (let w = W.CT_NW_DST; w <= W.CT_NW_PROTO; w++) km[w] = 0;
        for (let w = W.IPV4_SRC; w <= W.TP_DST; w++) km[w] = 0;
        if (o.cont >= 0) {
          o.known = knownTriples(km, kv);
          // The next segments ran on these words before the ops after this one (if any) do.
          km.fill(0);
        }
        break;
      default:
        km.fill(0);
    }
  }
}

/**
 * Throws unless a CT_FORK in `ops` is the last op: exec runs the segment after a fork in its own loop in place of
 * the forking segment's ops (a fork's chain is the rest of its walk: recFork closes the recording with the fork), so
 * an op recorded after one would never run. Checked once per segment made (insert).
 */
const forkEndsSegment = (ops: readonly MfInstr[]): void => {
  for (let i = 0; i < ops.length - 1; i++) if (ops[i]!.op === MfOp.CT_FORK) throw new Error(`executor.ts: a segment's CT_FORK at op ${i} of ${ops.length} (a fork ends its segment)`);
};

/**
 * The bits every frame from `port` starts its walk with on a chassis, as `[word, mask, value]` triples (its root
 * token's): the words rootResid decides — every word outside the header, `inport` the port's key, the flags (LOCALNET
 * for a localnet port: begin) — and the EtherType word's upper half, 0 for any frame (loadIpv4Fresh and loadFrame
 * write the 16-bit EtherType).
 */
const rootKnown = (port: Port, plain: boolean): Int32Array | undefined => {
  const km = new Int32Array(W.SIZE);
  const kv = new Int32Array(W.SIZE);
  for (let i = 0; i < W.SIZE; i++) if (i < HEADER_FIRST || i > HEADER_LAST) km[i] = -1;
  kv[W.INPORT] = port.key;
  kv[W.FLAGS] = port.localnet === true ? LogFlag.LOCALNET : 0;
  km[W.ETH_TYPE] = 0xffff0000 | 0;
  if (plain) {
    // wire's decodePlainTcp4 (plainTcp4: EtherType 0x0800, IPv4 protocol 6, no fragment bits) without a tag
    // (runFrame): the words loadIpv4Fresh writes for such a frame.
    km[W.ETH_TYPE] = km[W.VLAN_TCI] = km[W.IP_PROTO] = km[W.IP_FRAG] = -1;
    kv[W.ETH_TYPE] = 0x0800;
    kv[W.IP_PROTO] = 6;
  }
  return knownTriples(km, kv);
};

/** A token that knows nothing (a port record's tokens before they are made). */
const NO_TOKEN: { known: Int32Array | undefined } = { known: undefined };

/** The known bits as `[word, mask, value]` triples by ascending word (undefined: none). */
function knownTriples(km: Int32Array, kv: Int32Array): Int32Array | undefined {
  let n = 0;
  for (let w = 0; w < W.SIZE; w++) if (km[w] !== 0) n++;
  if (n === 0) return undefined;
  const t = new Int32Array(n * 3);
  for (let w = 0, j = 0; w < W.SIZE; w++) {
    if (km[w] === 0) continue;
    t[j] = w;
    t[j + 1] = km[w]!;
    t[j + 2] = kv[w]! & km[w]!;
    j += 3;
  }
  return t;
}

/**
 * `seg`'s residual probe for hints followed from `via`, where the words' bits `km` are known to be `kv` on every
 * pass: each probe triple whose bits are all known and equal to its value is left out (it holds on every pass), the
 * rest kept in order and padded as a probe is (MfShape.probeOf). A known bit unequal to the triple's value keeps
 * the triple: that hint then never holds from `via`, as the whole probe would not.
 */
function setResid(seg: MfSegment, via: unknown, km: Int32Array, kv: Int32Array): void {
  const p = seg.probe;
  let n = 0;
  for (let i = 0; i < p.length; i += 3) if (!decided(p, i, km, kv)) n++;
  const len = ((n + 3) & ~3) * 3;
  // The first via's slot while it is free, else the second's (MfSegment.resid2).
  const first = seg.via === undefined;
  // Always a new array: an op's hint check holds the one it chose (MfInstr.nextCheck), which must stay the residual
  // of that op's via when a third via takes the second slot.
  const r = new Int32Array(len);
  let j = 0;
  for (let i = 0; i < p.length; i += 3) {
    if (decided(p, i, km, kv)) continue;
    r[j] = p[i]!;
    r[j + 1] = p[i + 1]!;
    r[j + 2] = p[i + 2]!;
    j += 3;
  }
  if (first) {
    seg.resid = r;
    seg.via = via;
  } else {
    seg.resid2 = r;
    seg.via2 = via;
  }
}

/** Whether probe triple `i` of `p` holds wherever the bits `km` are `kv` (a padding triple, mask 0, always does). */
function decided(p: Int32Array, i: number, km: Int32Array, kv: Int32Array): boolean {
  const w = p[i]!;
  const m = p[i + 1]!;
  return (m & ~km[w]!) === 0 && (kv[w]! & m) === p[i + 2]!;
}

// exec's OUT_INPLACE clears these words by number.
if (W.FLAGS !== 2 || W.REGS !== 3 || W.CT_STATE !== W.REGS + 10 || W.DNAT_ZONE !== 67 || W.SNAT_ZONE !== 68 || W.CT_ZONE !== 69) {
  throw new Error('executor.ts: the flow words moved (exec OUT_INPLACE)');
}

/**
 * An egress copy whose walk ends in the segment's closing ct call (no GIVE follows it) is the last use of the
 * ingress words: the replay clears them in place instead of copying (OUT_INPLACE).
 */
function inPlaceEgress(ops: MfInstr[]): void {
  let open = 0;
  for (let i = ops.length - 1; i >= 0; i--) {
    const o = ops[i]!;
    if (o.op === MfOp.GIVE) open++;
    else if (o.op === MfOp.OUT_BEGIN) {
      if (open > 0) open--;
      else o.op = MfOp.OUT_INPLACE;
    }
  }
}

/** OVS ct_clear / ovn-trace flow_clear_conntrack: the packet's conntrack fields back to "not tracked". */
const ctClear = (w: Uint32Array): void => {
  hideCt(w);
  w[W.CT_ZONE] = 0;
};

/**
 * After a ct() that does not recirculate (OVN's ct_commit, ovn-controller's ct_snat_to_vip table), the flows that
 * follow in the same pass see an untracked packet: OVS's xlate clears every ct field ("The ct_* fields are only
 * available in the scope of the 'recirc_table' call chain", ofproto/ofproto-dpif-xlate.c branch-3.1,
 * compose_conntrack_action). The packet's datapath metadata keeps them, but in OVN's switch pipelines the next ct()
 * after one of these is always in another zone, where OVS's conntrack starts from a clean ct_state anyway. ovn-trace
 * does not do this (its ct_commit is a no-op): only on a chassis.
 */
const hideCt = (w: Uint32Array): void => {
  // Written out (the 4-turn loop it was paid a loop head and a stack check each turn): ct_state, ct_mark, ct_label's
  // four words, the ct tuple's thirteen.
  w[W.CT_STATE] = 0;
  w[W.CT_MARK] = 0;
  w[W.CT_LABEL] = 0;
  w[W.CT_LABEL + 1] = 0;
  w[W.CT_LABEL + 2] = 0;
  w[W.CT_LABEL + 3] = 0;
  w[W.CT_NW_DST] = 0;
  w[W.CT_IPV6_DST] = 0;
  w[W.CT_IPV6_DST + 1] = 0;
  w[W.CT_IPV6_DST + 2] = 0;
  w[W.CT_IPV6_DST + 3] = 0;
  w[W.CT_TP_DST] = 0;
  w[W.CT_NW_SRC] = 0;
  w[W.CT_IPV6_SRC] = 0;
  w[W.CT_IPV6_SRC + 1] = 0;
  w[W.CT_IPV6_SRC + 2] = 0;
  w[W.CT_IPV6_SRC + 3] = 0;
  w[W.CT_TP_SRC] = 0;
  w[W.CT_NW_PROTO] = 0;
};

/**
 * The original tuple of a replayed call as its step recorded it (connPost: flags, protocol, ports, the addresses'
 * first words — a walk is recorded only for IPv4 tuples): for a call that found the recorded node and left the tuple
 * unwritten (its connection's, the recorded one), and for a call a walk taken again answers from the record.
 */
const restoreTuple = (res: CtResult, data: Int32Array, o: number): void => {
  const f = data[o + 1]!;
  res.tupleWritten = (f & 2) !== 0;
  res.hasOriginal = (f & 4) !== 0;
  res.originalIpv6 = (f & 8) !== 0;
  res.originalProto = data[o + 2]!;
  res.originalSrcPort = data[o + 3]!;
  res.originalDstPort = data[o + 4]!;
  const s = res.originalSrc;
  const t = res.originalDst;
  write32(s, 0, data[o + 5]! >>> 0);
  write32(t, 0, data[o + 6]! >>> 0);
  for (let i = 4; i < 16; i++) {
    s[i] = 0;
    t[i] = 0;
  }
};

const setNatAddr = (req: CtRequest, addr: Uint8Array, ipv6: boolean, port: number): void => {
  req.natIpv6 = ipv6;
  const n = ipv6 ? 16 : 4;
  for (let i = 0; i < 16; i++) {
    const b = i < n ? addr[i]! : 0;
    req.natAddrMin[i] = b;
    req.natAddrMax[i] = b;
  }
  req.natPortMin = port;
  req.natPortMax = port;
};

const equalAddr = (a: Uint8Array, b: Uint8Array): boolean => {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** OVS registers (mf_is_register): reg0–15, xreg, xxreg — which includes inport/outport/flags. */
function isRegister(r: FieldRef): boolean {
  const w = r.field.word;
  return w === W.INPORT || w === W.OUTPORT || w === W.FLAGS || (w >= W.REGS && w < W.REGS + 10);
}

function refText(r: FieldRef): string {
  if (!r.subscript) return r.name;
  return r.subscript.lo === r.subscript.hi ? `${r.name}[${r.subscript.lo}]` : `${r.name}[${r.subscript.lo}..${r.subscript.hi}]`;
}

function macOf(w: Uint32Array, at: number): string {
  const b = new Uint8Array(6);
  storeMac(w, at, b, 0);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** A field's current value as OVS's mf_format prints it (summarize_move). */
function valueText(r: FieldRef, w: Uint32Array): string {
  const full = r.lo === 0 && r.width === r.field.width;
  if (full && r.field.format === 'mac') return macOf(w, r.field.word);
  if (full && r.field.format === 'ip4') return formatIPv4(w[r.field.word]!);
  if (full && r.field.format === 'ip6') {
    const b = new Uint8Array(16);
    storeV6(w, r.field.word, b, 0);
    // mf_format of an IPv6 field is ipv6_format_masked → inet_ntop (OVS v3.1.0 lib/packets.c).
    return formatIPv6Ntop(b, 0);
  }
  if (full && r.width <= 32) return String(readBits(w, r.field.word, r.lo, r.width));
  let v = 0n;
  for (let done = 0; done < r.width; done += 32) v |= BigInt(readBits(w, r.field.word, r.lo + done, Math.min(32, r.width - done))) << BigInt(done);
  return `0x${v.toString(16)}`;
}

export { formatFlow, regWord };


/** The environment a microflow is parsed in for this executor's datapath. */
export function microflowEnv(ex: LflowExecutor, sb: SouthboundState): MatchEnv {
  return { addressSets: sb.addressSets, portGroups: ex.portGroups, portKey: (n) => ex.portKey(n) };
}

/**
 * The first `n` entries of `live` as a run's result (its length set only when it differs: shrinking and growing
 * back would reallocate per frame), or `none` emptied when there are none — a caller's push into the empty array
 * must not show in a later run.
 */
const handOut = <T>(live: T[], none: T[], n: number): T[] => {
  if (n === 0) {
    if (none.length !== 0) none.length = 0;
    return none;
  }
  if (live.length !== n) live.length = n;
  return live;
};

/** The engine as one that takes the ct fields in the flow words, when it is. */
function wordsEngine(ct: ConntrackEngine): WordsConntrackEngine | undefined {
  const e = ct as Partial<WordsConntrackEngine>;
  return typeof e.executeWords === 'function' ? (ct as WordsConntrackEngine) : undefined;
}

/** The engine as one that takes lookup hints, when it is. */
function hintedEngine(ct: ConntrackEngine): HintedConntrackEngine | undefined {
  const h = ct as Partial<HintedConntrackEngine>;
  return typeof h.executeHinted === 'function' ? (ct as HintedConntrackEngine) : undefined;
}

function newOutSlot(): ExecOutput {
  return { port: '', tag: undefined, words: new Uint32Array(W.SIZE), frame: new Uint8Array(0), length: 0 };
}
