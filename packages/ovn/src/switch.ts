/**
 * An OVN logical switch as a cluster runs it: the Northbound rows go through vippath's northd (with the Kube-OVN
 * profile's overlays), the switch's Logical_Flow rows are compiled once into an {@link LflowExecutor}, and every
 * packet runs those flows on the chassis it is on, with that chassis' own conntrack ({@link OvsConntrack}: each
 * node's ovn-controller allocates its own zones, so a connection committed on one node is unknown on another).
 * Nothing here decides a packet's path: the flows do. A Northbound change (load balancer VIPs and backends, the
 * VIP-node marker) re-runs northd and recompiles; conntrack stays, as in OVN. A collected Southbound (a cluster's
 * sb.db) can run instead of northd's flows ({@link SwitchOptions.southbound}); a change then patches its rows.
 */
import { VippathError } from '@vippath/wire';
import { OvsConntrack, type OvsConntrackOptions } from './ct/engine.js';
import type { CtRequest, CtResult, HintedConntrackEngine, WordsConntrackEngine } from './lflow/ct-api.js';
import { DROP_REASON_TEXT, LflowExecutor, unmodelledFlowName, type ExecResult, type SkippedLflow, type UnmodelledLflow } from './lflow/executor.js';
import type { MegaflowStats } from './lflow/megaflow.js';
import type { DecodedFrame } from '@vippath/wire';
import type { NorthboundDb } from './northd/nb.js';
import { northd, PROFILE_OVN_VERSION, type NorthdProfile } from './northd/northd.js';
import { ovnVersionOfFlows, type OvnVersion } from './northd/stages.js';
import type { LogicalFlow, Pipeline, SouthboundState } from './lflow/types.js';
import { patchSouthbound } from './lflow/delta.js';

/** One logical flow a packet hit, as ovn-trace shows it (plus the chassis it ran on). */
export interface StageStep extends Pick<LogicalFlow, 'pipeline' | 'table' | 'stage' | 'priority' | 'match' | 'actions'> {
  chassis: string;
  /** What the flow's ct action found (`ct_state=…`) and, for ct_lb_mark with backends, the backend chosen. */
  note?: string;
}

/** Where a packet leaves the switch. */
export interface SwitchOutput {
  /** The logical port. */
  port: string;
  /** The chassis whose pipeline sent it (for the localnet port: the chassis whose wire it goes out on). */
  chassis: string;
  frame: Uint8Array;
}

/** The outcome for one packet. `code` is the executor's {@link DropReason}. */
/**
 * A drop: the executor's DropReason `code` (or {@link SWITCH_NO_OUTPUT} / {@link SWITCH_UNDECODABLE}) and the flow's
 * place. Its words are made only when asked for ({@link switchDropReason}): a dropped packet builds no string.
 */
export interface SwitchDrop {
  verdict: 'drop';
  code: number;
  stage: string;
  pipeline: Pipeline | '';
  table: number;
  /**
   * For a traced packet dropped at an action vippath does not model (DropReason.UNMODELLED_ACTION): the flow and
   * the action ({@link switchDropReason} names them). Left out otherwise: an untraced drop keeps its code and place.
   */
  unmodelled?: UnmodelledLflow;
}

export type SwitchResult = { verdict: 'output'; outputs: SwitchOutput[] } | SwitchDrop;

/** No flow output the packet and none dropped it with a reason. */
export const SWITCH_NO_OUTPUT = -1;
/** Every output was empty (the executor could not re-encode the frame). */
export const SWITCH_UNDECODABLE = -2;

/** The words for a drop, as traces print them: `<stage>: <reason>`. */
export function switchDropReason(d: SwitchDrop): string {
  if (d.code === SWITCH_NO_OUTPUT) return 'no output';
  if (d.code === SWITCH_UNDECODABLE) return 'undecodable frame';
  const text = `${d.stage || `${d.pipeline} table ${d.table}`}: ${DROP_REASON_TEXT[d.code]}`;
  return d.unmodelled ? `${text}: ${unmodelledFlowName(d.unmodelled)}` : text;
}

/** Bad switch construction or use. */
export class LogicalSwitchError extends VippathError {
  constructor(message: string) {
    super('LOGICAL_SWITCH', message);
  }
}

/**
 * What packets did to state, counted while {@link LogicalSwitch.effects} is set: conntrack calls (each may create,
 * update or expire a connection) and packets that ran the pipeline. A flow cache cannot replay conntrack calls
 * exactly, so a packet that made any is not cached.
 */
export interface SwitchEffects {
  ctCalls: number;
  packets: number;
}

/** Options of a {@link LogicalSwitch}. */
export interface SwitchOptions {
  /** northd's profile (Kube-OVN's overlays). Default `upstream`. */
  profile?: NorthdProfile;
  /**
   * The OVN release whose flows northd writes. Default: the profile's ({@link PROFILE_OVN_VERSION}: upstream 23.03,
   * kube-ovn-1.14 24.03, kube-ovn-1.15 25.03) — what the cluster the profile describes runs. Set it to compare with
   * another OVN (the testbed runs Debian's 23.03 with any profile's patches).
   */
  ovnVersion?: OvnVersion;
  /** Each chassis' conntrack options. */
  conntrack?: OvsConntrackOptions;
  /**
   * Southbound rows to run instead of northd's flows of the Northbound (a collected sb.db: the cluster's own
   * northd, Kube-OVN's patches included, whatever its version). The Northbound given is then only what the
   * controller's changes are measured on: {@link LogicalSwitch.setNorthbound} applies to these rows the
   * difference the change makes to northd's flows, and every other collected flow stays. When the rows do not
   * hold a flow that difference takes out, they were not written the way vippath's northd writes them: the
   * switch then runs northd's flows of the new Northbound and says so in {@link LogicalSwitch.southboundReplaced}.
   */
  southbound?: SouthboundState;
  /**
   * The megaflow cache (OVS's datapath cache over the logical-flow walk between conntrack calls, per chassis):
   * `false` runs every packet through the tables. Default on, 65 536 segments per chassis.
   */
  megaflows?: boolean | { maxEntries?: number; connections?: boolean };
  /**
   * Refuse flows with an action vippath does not model (ExecutorOptions.strict): the constructor, and a Northbound
   * change, throw LflowError `UNSUPPORTED_LFLOW` naming the flow and the action. Default off: such flows load
   * ({@link LogicalSwitch.unmodelledFlows}) and a packet that reaches the action is dropped there.
   */
  strict?: boolean;
}

/**
 * The error of a frame length beyond its buffer, made out of line: LogicalSwitch's `run` stays within the bytecode
 * size V8's optimizing compiler inlines (460 bytes in node 20): LogicalSwitch's `into`, which is beyond it (never
 * inlined into the cluster's hop), inlines it (bench/README, sessions 35 and 43).
 */
function tooLong(length: number, have: number): LogicalSwitchError {
  return new LogicalSwitchError(`frame length ${length} beyond its ${have} bytes`);
}

// Pushed into, not written as a literal: a literal's elements start as a copy-on-write array shared with its
// boilerplate, which the first store copies.
function newPorts(): string[] {
  const a: string[] = [];
  a.push('');
  return a;
}

function newLengths(): number[] {
  const a: number[] = [];
  a.push(0);
  return a;
}

/**
 * A packet's outcome written in place by {@link LogicalSwitch.processInto}: made once by the caller and reused.
 * `frames[i]` are the switch's own buffers (`frames[i][0, lengths[i])` is output `i`), valid until the next call.
 * Its fields are processInto's to write (a caller reads them): processInto relies on what it wrote last — `verdict`
 * 'output' with `stage` and `pipeline` empty.
 */
export class SwitchOutcome {
  verdict: 'output' | 'drop' = 'drop';
  /** Outputs written (`verdict` 'output' ⇔ count > 0). */
  count = 0;
  /**
   * `ports` and `lengths` hold one element from the start (read only below `count`): the one output's stores in
   * processInto then never grow them — an in-place store, without the growing store's capacity and length code.
   */
  readonly ports: string[] = newPorts();
  readonly frames: Uint8Array[] = [];
  readonly lengths: number[] = newLengths();
  /** The chassis whose pipeline sent the outputs. */
  chassis = '';
  /** A drop's code and place (as {@link SwitchDrop}). */
  code = 0;
  stage = '';
  pipeline: Pipeline | '' = '';
  table = 0;
  /**
   * The input as {@link LogicalSwitch.processInto} decoded it before the walk, for a caller that would otherwise read
   * its header again: when the input is IPv4 without options or fragment bits carrying TCP (the layout of
   * decodePlainTcp4 in @vippath/wire), the IPv4 header's offset, plus 0x10000 when the segment is a SYN without ACK;
   * 0 for any other input (read it yourself). Written by processInto only, for drops too.
   */
  inL3 = 0;
  /** The input's IPv4 source and destination addresses as signed 32-bit words, when {@link inL3} is not 0. */
  inSrc = 0;
  inDst = 0;
  /**
   * The output (an index into {@link frames}) whose bytes {@link decoded} describes, -1 for none: set when the walk had
   * one output and the switch can vouch that its own decode, as the walk kept it through the rewrites, is that
   * output's — a frame of plainTcp4's layout (@vippath/wire), no VLAN tag pushed on the way out, and either a
   * connection's replayed walk or a full walk's output to a VIF (LflowExecutor.outputDecoded says why each holds).
   * `decoded` then holds every field readPlainTcp4Segment of those bytes would write,
   * with its values: a reader reads them there (or copies them with copyPlainTcp4Segment) instead of reading the header again. Written by
   * processInto only; any other output, or no vouching, is -1 (decode the bytes yourself).
   */
  decodedFor = -1;
  /**
   * The switch's decode for output {@link decodedFor}: a read-only view of the switch's state, valid until the switch
   * runs its next packet — read it during the call that handles the output, never read it after that call.
   */
  decoded: Readonly<DecodedFrame> | undefined = undefined;

  /** The drop as a {@link SwitchDrop} (allocates: for output paths, not per packet). */
  toDrop(): SwitchDrop {
    return { verdict: 'drop', code: this.code, stage: this.stage, pipeline: this.pipeline, table: this.table };
  }
}

/** Counts the conntrack calls of the chassis a packet is on (for {@link SwitchEffects}). */
class ChassisConntrack implements HintedConntrackEngine, WordsConntrackEngine {
  inner!: OvsConntrack;
  effects: SwitchEffects | undefined;
  execute(frame: Uint8Array, length: number, decoded: DecodedFrame, request: CtRequest, result: CtResult, now: number): void {
    if (this.effects !== undefined) this.effects.ctCalls++;
    this.inner.execute(frame, length, decoded, request, result, now);
  }
  // `gen` passed through: `inner` changes only between packets, and every packet's walk moves the generation.
  executeWords(frame: Uint8Array, length: number, decoded: DecodedFrame, request: CtRequest, result: CtResult, words: Uint32Array, now: number, gen?: number, fresh?: boolean, hidden?: boolean): void {
    if (this.effects !== undefined) this.effects.ctCalls++;
    this.inner.executeWords(frame, length, decoded, request, result, words, now, gen, fresh, hidden);
  }
  // Epochs are unique over all engines: a hint found on one chassis' conntrack is never taken by another's.
  get epoch(): number {
    return this.inner.epoch;
  }
  get foundNode(): number {
    return this.inner.foundNode;
  }
  get foundGen(): number {
    return this.inner.foundGen;
  }
  executeHinted(frame: Uint8Array, length: number, decoded: DecodedFrame, request: CtRequest, result: CtResult, now: number, node: number, gen: number, epoch: number, next?: boolean, fresh?: boolean, keyed?: boolean): void {
    if (this.effects !== undefined) this.effects.ctCalls++;
    this.inner.executeHinted(frame, length, decoded, request, result, now, node, gen, epoch, next, fresh, keyed);
  }
  tcpClosing(node: number, gen: number): number {
    return this.inner.tcpClosing(node, gen);
  }
}

/** An OVN logical switch run from its logical flows, with one conntrack per chassis. */
export class LogicalSwitch {
  /** Bumped on every Northbound change: decisions made under an older version are void. */
  version = 0;
  /** The Southbound state northd made from the current Northbound. */
  sb!: SouthboundState;
  private executor!: LflowExecutor;
  private readonly cts = new Map<string, OvsConntrack>();
  private readonly ct = new ChassisConntrack();
  private nb: NorthboundDb;
  private readonly profile: NorthdProfile;
  /** The OVN release northd writes for. */
  readonly ovnVersion: OvnVersion;
  private readonly ctOptions: OvsConntrackOptions;
  /** northd's flows of the current Northbound, while collected Southbound rows run (what changes are measured on). */
  private derived: SouthboundState | undefined;
  /** Why the collected Southbound rows stopped running (see {@link SwitchOptions.southbound}); undefined while they run. */
  southboundReplaced: string | undefined;
  private readonly megaflows: SwitchOptions['megaflows'];
  private readonly strict: boolean;
  private readonly outcome = new SwitchOutcome();
  /** The previous packet's inport and chassis (checked, conntrack and executor set for them); reset on recompiling. */
  private lastInport: string | undefined;
  private lastChassis: string | undefined;
  /** The port checked before {@link lastInport} on the same chassis. */
  private otherInport: string | undefined;
  /** The tunnel keys of {@link lastInport} and {@link otherInport} (-1: none), handed to the executor. */
  private lastKey = -1;
  private otherKey = -1;

  /**
   * @param nb the Northbound rows (the switch named `name` among them)
   * @param chassisOf where each logical port is bound (LSP name → chassis)
   */
  constructor(nb: NorthboundDb, readonly name: string, readonly chassisOf: Record<string, string>, options: SwitchOptions = {}) {
    this.nb = nb;
    this.profile = options.profile ?? 'upstream';
    // Collected rows were written by the cluster's own northd: their changes are measured on that release's flows
    // (recognised by its stage table), whatever release the profile's images carry.
    this.ovnVersion = options.ovnVersion ?? (options.southbound ? ovnVersionOfFlows(options.southbound.flows.get(name) ?? []) : undefined) ?? PROFILE_OVN_VERSION[this.profile];
    this.ctOptions = options.conntrack ?? {};
    if (options.southbound) {
      this.derived = northd(nb, { profile: this.profile, ovnVersion: this.ovnVersion, chassis: this.chassisOf });
      this.sb = options.southbound;
    }
    this.megaflows = options.megaflows ?? true;
    this.strict = options.strict === true;
    this.compile();
  }

  get effects(): SwitchEffects | undefined {
    return this.ct.effects;
  }
  set effects(e: SwitchEffects | undefined) {
    this.ct.effects = e;
  }

  /** The Northbound rows in force. */
  northbound(): NorthboundDb {
    return this.nb;
  }

  /**
   * Replaces the Northbound rows (the controller rewrote load balancers): northd runs again and the flows are
   * recompiled. Port tunnel keys — and so conntrack zones — stay as long as the ports do; connections stay.
   */
  setNorthbound(nb: NorthboundDb): void {
    this.nb = nb;
    this.compile(true);
    this.version++;
  }

  /** The collected rows with the change the new Northbound makes to northd's flows (see {@link SwitchOptions.southbound}). */
  private patchCollected(): void {
    const after = northd(this.nb, { profile: this.profile, ovnVersion: this.ovnVersion, chassis: this.chassisOf });
    const r = patchSouthbound(this.sb, this.derived!, after, this.name);
    if (r.missing.length) {
      const f = r.missing[0]!;
      this.southboundReplaced = `the collected Southbound has no ${f.stage} flow of priority ${f.priority} "${f.match}" / "${f.actions}" that the change takes out${r.missing.length > 1 ? ` (and ${r.missing.length - 1} more)` : ''}: running vippath's northd flows from here on`;
      this.derived = undefined;
      this.sb = after;
      return;
    }
    this.derived = after;
    this.sb = r.sb;
  }

  private compile(changed = false): void {
    if (this.derived && changed) this.patchCollected();
    else if (!this.derived) this.sb = northd(this.nb, { profile: this.profile, ovnVersion: this.ovnVersion, chassis: this.chassisOf });
    if (!this.sb.flows.has(this.name)) throw new LogicalSwitchError(`no logical switch ${this.name} in the Northbound`);
    // A recompiled switch starts with empty caches: the Northbound change voids every cached segment.
    const mega = this.megaflows;
    // Outputs are read as frames only (into): no flow words, which lets the cache replay connections' walks.
    const prev = this.executor as LflowExecutor | undefined;
    this.executor = new LflowExecutor(this.sb, this.name, { ct: this.ct, wordsOut: false, strict: this.strict, ...(mega ? { megaflows: mega } : {}) });
    // What OVS learned stays as long as OVS keeps it (connections stay too: the conntrack is the switch's). The
    // 23.03 this stands for is Debian's 23.03.1, the real run here: its learned affinity flows have cookie 0.
    if (prev) this.executor.adoptAffinity(prev, this.ovnVersion !== '23.03');
    this.lastInport = undefined;
    this.otherInport = undefined;
    this.lastChassis = undefined;
    this.lastKey = -1;
    this.otherKey = -1;
  }

  /**
   * The logical flows OVN refuses to parse (a collected Southbound's), left out as ovn-controller leaves them out;
   * empty for northd's own flows. {@link formatSkippedLflows} says it in one line.
   */
  get skippedFlows(): readonly SkippedLflow[] {
    return this.executor.skipped;
  }

  /**
   * The logical flows loaded with an action vippath does not model (a collected Southbound's DHCP, DNS… flows):
   * a packet that reaches one is dropped there (DropReason.UNMODELLED_ACTION). {@link formatUnmodelledLflows} says
   * them in one line.
   */
  get unmodelledFlows(): readonly UnmodelledLflow[] {
    return this.executor.unmodelled;
  }

  /** The megaflow cache's counters, of one chassis or summed (zeros with the cache off). */
  megaflowStats(chassis?: string): MegaflowStats {
    return this.executor.megaflowStats(chassis);
  }

  /** The chassis' conntrack (made on first use). */
  conntrack(chassis: string): OvsConntrack {
    let c = this.cts.get(chassis);
    if (!c) this.cts.set(chassis, (c = new OvsConntrack(this.ctOptions)));
    return c;
  }

  /** Every chassis' conntrack, for invariants and reports. */
  conntracks(): Array<{ chassis: string; conntrack: OvsConntrack }> {
    return [...this.cts].map(([chassis, conntrack]) => ({ chassis, conntrack }));
  }

  /** The conntrack zone of a port (its tunnel key, as the executor numbers zones). */
  zoneOf(port: string): number | undefined {
    return this.executor.portKey(port);
  }

  /**
   * Processes a packet entering from logical port `inport` on `chassis` at simulated time `now` (ms). `frame` is
   * not modified; outputs are new arrays. With `trace`, every flow hit is appended, in the order run (a traced packet
   * always walks the tables). `checksumsGood`: the caller vouches for the frame's IPv4 header and L4 checksums — its
   * sender computed them, as a pod's stack does for what it sends into its veth with checksum offload (a frame off
   * the wire or given by a user is not vouched for) —, and the chassis' conntrack then does not verify them, as
   * neither OVS's nor Linux's does for such a packet (OvsConntrack, CtResult.checksumsGood).
   */
  process(frame: Uint8Array, inport: string, chassis: string, now = 0, trace?: StageStep[], checksumsGood = false): SwitchResult {
    if (trace) {
      const o = this.into(frame, frame.length, inport, chassis, now, this.outcome, checksumsGood, undefined, true, false);
      const r = this.executor.result;
      steps(r, chassis, trace);
      if (o.count > 0) return this.result(o);
      const drop = this.outcome.toDrop();
      // The outcome's drop is the first one: the flow that made it, when an unmodelled action did.
      const u = r.drops[0]?.unmodelled;
      if (u) drop.unmodelled = u;
      return drop;
    }
    const o = this.processInto(frame, frame.length, inport, chassis, now, this.outcome, checksumsGood);
    return this.result(o);
  }

  /**
   * {@link process} without allocation: `frame[0, length)` entering on `inport`, the outcome written into `out`
   * (whose output buffers are the switch's, valid until the next call). Returns `out`. `decoded`: the frame's writer's
   * decode of it, taken instead of decoding the frame again — it must hold every field decodePlainTcp4 (@vippath/wire)
   * of `frame[0, length)` would write, with its values (the frame of its layout); read during the call only. The
   * outcome is the same as without it. `lend`: the frame is lent — from `length` on it has 8 bytes' room, and its
   * caller neither reads its bytes after the call nor writes them while the outcome's frames are read. The switch may
   * then edit it in place and hand it out as an output's frame, where it would copy it otherwise (LflowExecutor's
   * runFrameKey, `lend`); the caller has it back at the switch's next call. A frame whose input header the caller
   * reads after the call is not lent. `out` defaults to the switch's own outcome, `checksumsGood` to false.
   */
  processInto(frame: Uint8Array, length: number, inport: string, chassis: string, now: number, out?: SwitchOutcome, checksumsGood?: boolean, decoded?: Readonly<DecodedFrame>, lend?: boolean): SwitchOutcome {
    // The defaults taken by `into`: this wrapper's bytecode (every byte of it) counts against the inlining budget of
    // the cluster's OVN hop, which inlines it (bench/README, session 44).
    return this.into(frame, length, inport, chassis, now, out, checksumsGood, decoded, false, lend);
  }

  /**
   * {@link processInto}, traced or not. The outcome's filling is written out here, not a call: this method's bytecode
   * is then beyond what V8's optimizing compiler inlines (460 bytes in node 20), so it is compiled on its own with
   * `run` inlined, whichever was optimized first. Inlined into the cluster's OVN hop (as it was on full-cold, when the
   * hop was optimized before processInto), it and the fill spent the hop's inlining budget: the pod's answer, the pod
   * port's lookup and the answer's re-entry stayed calls there, and `run` too (bench/README, session 43).
   */
  private into(frame: Uint8Array, length: number, inport: string, chassis: string, now: number, outcome: SwitchOutcome | undefined, checksumsGood: boolean | undefined, decoded: Readonly<DecodedFrame> | undefined, trace: boolean, lend: boolean | undefined): SwitchOutcome {
    const out = outcome !== undefined ? outcome : this.outcome;
    // The two flags handed on as they came: the executor's run takes an undefined as false (its defaults). Compared
    // here, each was a boolean made and kept across the run's call (a pair of spills), ≈ 24 instructions a call in
    // TurboFan's code of this method.
    this.run(frame, length, inport, chassis, now, trace, checksumsGood, decoded, lend);
    const x = this.executor;
    const r = x.result;
    const outputs = r.outputs;
    // Pointer stores only where the value changes (see LflowExecutor's finish: V8's write barrier).
    if (out.chassis !== chassis) out.chassis = chassis;
    out.table = 0;
    // One output (nearly every frame): its own branch, without the loop's bookkeeping and with the decode's test
    // folded in.
    if (outputs.length === 1 && outputs[0]!.length !== 0) {
      const o = outputs[0]!;
      const ports = out.ports;
      // Stored without a compare: the names' compare checked both to be internalized strings (≈ 27 instructions a
      // call); the store's write barrier, with both in the old generation and no marking under way, is two page-flag
      // tests (bench/README, session 48).
      ports[0] = o.port;
      const frames = out.frames;
      if (frames[0] !== o.frame) frames[0] = o.frame;
      out.lengths[0] = o.length;
      out.count = 1;
      // One compare for three fields: only this method writes them, and every write of 'output' empties the other
      // two, so an outcome that says 'output' has them empty already (switch.test.ts: an output after a drop).
      if (out.verdict !== 'output') {
        out.verdict = 'output';
        out.stage = '';
        out.pipeline = '';
      }
      // Not emptied: the executor's index is the outcome's.
      if (x.outputDecoded === 0) {
        const d = x.outputDecode;
        // Pointer stores only where the value changes (as above): the executor's decode is one object.
        if (out.decoded !== d) out.decoded = d;
        out.decodedFor = 0;
      } else out.decodedFor = -1;
    } else {
      let n = 0;
      if (outputs.length === 0) {
        out.verdict = 'drop';
        out.stage = '';
        out.pipeline = '';
        const d = r.drops[0];
        if (!d) out.code = SWITCH_NO_OUTPUT;
        else {
          out.code = d.reason;
          out.stage = d.stage;
          out.pipeline = d.pipeline;
          out.table = d.table;
        }
      } else {
        const ports = out.ports;
        const frames = out.frames;
        for (let i = 0; i < outputs.length; i++) {
          const o = outputs[i]!;
          // An output the executor could not encode is left out (as every reader of the outcome expects).
          if (o.length === 0) continue;
          // Compared only within the array: an element past its end (undefined) would leave the compare's feedback
          // 'any' (V8's StrictEqual called from then on) where names alone let it compare pointers.
          if (n >= ports.length || ports[n] !== o.port) ports[n] = o.port;
          if (frames[n] !== o.frame) frames[n] = o.frame;
          out.lengths[n] = o.length;
          n++;
        }
        if (n === 0) {
          out.verdict = 'drop';
          out.stage = '';
          out.pipeline = '';
          out.code = SWITCH_UNDECODABLE;
        } else if (out.verdict !== 'output') {
          // As in the one output's branch.
          out.verdict = 'output';
          out.stage = '';
          out.pipeline = '';
        }
      }
      out.count = n;
      // Several outputs (or one not encoded, the rest left out): the executor's decode is for its output 0 only.
      out.decodedFor = -1;
    }
    out.inL3 = x.inL3;
    out.inSrc = x.inSrc;
    out.inDst = x.inDst;
    return out;
  }

  private run(frame: Uint8Array, length: number, inport: string, chassis: string, now: number, trace: boolean, checksumsGood: boolean | undefined, decoded: Readonly<DecodedFrame> | undefined, lend: boolean | undefined): void {
    // The port and chassis of the previous packet were checked and set up then: a run from one port costs two compares.
    // Two ports are kept per chassis: a connection's packets and its answers alternate between them. The executor gets
    // the port's number kept beside its name (its own kept ports compared as numbers).
    let key: number;
    if (chassis === this.lastChassis && inport === this.lastInport) key = this.lastKey;
    // otherKey first: it is -1 while otherInport is undefined, so that the name compare only ever meets two strings
    // (an internalized name's compare is a pointer compare; once the site saw undefined, V8 called its StrictEqual
    // builtin on every compare — ≈ 1 call a frame on http). A multicast group's name kept there (key -1) takes the
    // general way, which gives it the same key.
    else if (chassis === this.lastChassis && this.otherKey >= 0 && inport === this.otherInport) key = this.otherKey;
    else key = this.enter(inport, chassis);
    if (length > frame.length) throw tooLong(length, frame.length);
    if (this.ct.effects !== undefined) this.ct.effects.packets++;
    // The executor copies the frame where it works on it (its buffer, or a replayed walk's output), unless it is lent.
    // A group's name (no port's) throws before any run: nothing to lend to.
    if (key < 0) this.executor.runFrame(frame, length, inport, now, trace, true, checksumsGood);
    else this.executor.runFrameKey(frame, length, key, now, trace, true, checksumsGood, decoded, lend);
  }

  /**
   * A port or chassis other than the two kept: checked, conntrack and executor set for it, kept; returns its key (-1:
   * a multicast group's name, no port's — the executor's own error). Out of `run`, so that run's bytecode stays within
   * what V8's optimizing compiler inlines (460 bytes in node 20) into {@link into}.
   */
  private enter(inport: string, chassis: string): number {
    const bound = this.chassisOf[inport];
    if (this.executor.portKey(inport) === undefined) throw new LogicalSwitchError(`no logical port ${JSON.stringify(inport)} on ${this.name}`);
    if (bound !== undefined && bound !== chassis) throw new LogicalSwitchError(`${inport} is bound to ${bound}, not ${chassis}`);
    const key = this.executor.inportKey(inport) ?? -1;
    if (chassis !== this.lastChassis) {
      this.ct.inner = this.conntrack(chassis);
      this.executor.setChassis(chassis);
      this.otherInport = undefined;
      this.otherKey = -1;
    } else {
      this.otherInport = this.lastInport;
      this.otherKey = this.lastKey;
    }
    this.lastInport = inport;
    this.lastKey = key;
    this.lastChassis = chassis;
    return key;
  }

  private result(o: SwitchOutcome): SwitchResult {
    if (o.count === 0) return o.toDrop();
    const outputs: SwitchOutput[] = [];
    for (let i = 0; i < o.count; i++) outputs.push({ port: o.ports[i]!, chassis: o.chassis, frame: o.frames[i]!.slice(0, o.lengths[i]) });
    return { verdict: 'output', outputs };
  }
}

function steps(r: ExecResult, chassis: string, out: StageStep[]): void {
  for (const s of r.stages) {
    let note: string | undefined;
    for (const c of r.ct) {
      if (c.pipeline === s.pipeline && c.table === s.table) note = `ct_state=${c.state}${c.backend ? `, chose ${c.backend}` : ''}`;
    }
    out.push({ pipeline: s.pipeline, table: s.table, stage: s.stage, priority: s.priority, match: s.match, actions: s.actions, chassis, ...(note ? { note } : {}) });
  }
}

/** Renders the steps as text in the manner of `ovn-trace --summary` (stage, table, priority, match, actions). */
export function formatOvnTrace(datapath: string, inport: string, trace: readonly StageStep[], result: SwitchResult): string {
  const lines = [`ingress(dp="${datapath}", inport="${inport}")`];
  let egress = false;
  for (const s of trace) {
    if (!egress && s.pipeline === 'egress') {
      egress = true;
      lines.push(`egress(dp="${datapath}") on ${s.chassis}`);
    }
    lines.push(` ${String(s.table).padStart(2)}. ${s.stage}: ${s.match}, priority ${s.priority}`, `    ${s.actions}${s.note ? ` /* ${s.note} */` : ''}`);
  }
  lines.push(result.verdict === 'output' ? `/* output to ${result.outputs.map((o) => `"${o.port}" on ${o.chassis}`).join(', ')} */` : `/* drop: ${switchDropReason(result)} */`);
  return `${lines.join('\n')}\n`;
}
