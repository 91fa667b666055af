/**
 * The trace recorder: what the hops tell about a frame — steps (only while tracing), drops by code, the per-stage
 * and per-edge counters over the whole run, and the result of the frame being processed. The hops call it; it
 * decides nothing about where a frame goes.
 */
import { DROP_KEY, type DropCode } from './drops.js';
import type { StageName, TraceLine, TraceStep } from './outputs.js';

/** What happened to one injected frame. */
export interface InjectResult {
  /** Frames that reached the outside (the client's side of the wire), tagged as on the wire. */
  outside: Uint8Array[];
  /** Frames the cluster sent on its own (gratuitous ARP) that reached the outside before this frame. */
  background: Uint8Array[];
  /** Frames pods accepted, with the pod. */
  delivered: Array<{ pod: string; node: string; frame: Uint8Array }>;
  /** Every step, in order (empty when the simulation runs without traces). */
  stages: TraceStep[];
  /** Why copies of the frame ended without delivery. */
  drops: Array<{ at: string; code: DropCode; reason: string }>;
  verdict: TraceLine['verdict'];
}

/** What {@link SimulatedCluster.advance} returns when nothing was due: nothing, and nothing can be added to it. */
export const NOTHING: InjectResult = Object.freeze({
  outside: Object.freeze([]) as unknown as Uint8Array[], background: Object.freeze([]) as unknown as Uint8Array[], delivered: Object.freeze([]) as unknown as InjectResult['delivered'],
  stages: Object.freeze([]) as unknown as TraceStep[], drops: Object.freeze([]) as unknown as InjectResult['drops'], verdict: 'forwarded',
}) as InjectResult;

/**
 * Buffers for the frames a transient result lists (see {@link TraceRecorder.transient}): handed out in turn during
 * one frame, all free again at the next. A view per buffer and length is made once, so a frame of a length seen
 * before costs no allocation.
 */
class FramePool {
  private readonly bufs: Uint8Array[] = [];
  private readonly views: Array<Array<Uint8Array | undefined>> = [];
  private used = 0;

  reset(): void {
    this.used = 0;
  }

  /**
   * `src[0, n)` as a view, for copying from: the sources are a few long-lived buffers (the switch's outputs), so
   * their views by length are kept (a view made per copy would be an allocation per frame).
   */
  head(src: Uint8Array, n: number): Uint8Array {
    // The source of the last call first: a frame's delivery and its answer's way out each come from one buffer
    // of the switch's, met again frame after frame (no search of the list, a builtin call, for them).
    let views = this.lastViews;
    if (src !== this.lastSrc) {
      const srcs = this.srcs;
      let k = srcs.indexOf(src);
      if (k < 0) {
        k = this.nextSrc;
        this.nextSrc = (k + 1) % 8;
        srcs[k] = src;
        this.srcViews[k] = [];
      }
      views = this.srcViews[k]!;
      this.lastSrc = src;
      this.lastViews = views;
    }
    return views[n] ?? (views[n] = src.subarray(0, n));
  }

  private lastSrc: Uint8Array | undefined;
  private lastViews: Array<Uint8Array | undefined> = [];

  private readonly srcs: Uint8Array[] = [];
  private readonly srcViews: Array<Array<Uint8Array | undefined>> = [];
  private nextSrc = 0;

  take(n: number): Uint8Array {
    const i = this.used++;
    let buf = this.bufs[i];
    let views = this.views[i];
    if (buf === undefined || views === undefined || buf.length < n) {
      buf = this.bufs[i] = new Uint8Array(Math.max(2048, n));
      views = this.views[i] = [];
      this.words[i] = new Int32Array(buf.buffer, buf.byteOffset, buf.length >> 2);
    }
    return views[n] ?? (views[n] = buf.subarray(0, n));
  }

  private readonly words: Int32Array[] = [];

  /** The whole words of the buffer {@link take} handed out last, from its byte 0 (made with the buffer). */
  lastWords(): Int32Array {
    return this.words[this.used - 1]!;
  }
}

/** Empties `list` in place. */
const empty = (list: unknown[]): void => {
  if (list.length > 8) list.length = 0;
  else while (list.length !== 0) list.pop();
};

/** The stage counters' order in counter vectors ({@link TraceRecorder.stageVector}, cache entries' deltas). */
const STAGES: readonly StageName[] = ['wire', 'underlay0.341', 'metallb', 'br-provider', 'ovn', 'lb-dnat', 'pod', 'host'];

/** The stages by number (their index in {@link STAGES}): hops count a stage by number, never by name. */
export const ST_WIRE = 0;
export const ST_VLAN = 1;
export const ST_METALLB = 2;
export const ST_BRIDGE = 3;
export const ST_OVN = 4;
export const ST_LB = 5;
export const ST_POD = 6;
export const ST_HOST = 7;

/**
 * A cache entry's counter deltas, added once per frame it serves: {@link TraceRecorder.creditLater} counts the frame
 * in `owed`, and the deltas times `owed` are added when the counters are next read.
 */
export interface CounterDeltas {
  readonly stageDelta: Int32Array;
  readonly edgeIds: Int32Array;
  readonly edgeDelta: Int32Array;
  /** Frames served but not yet added to the recorder's counters (0 when it has none owed). */
  owed: number;
}

/**
 * One kind of untraced step — stage {@link stage} at a place, from another along edge {@link edge} (-1: none) — counted
 * as frames owed ({@link TraceRecorder.oweFirst}): a hop that takes the same step frame after frame adds one to
 * {@link owed} instead of the stage's counter and the edge's (made by {@link TraceRecorder.stepCounter}).
 */
export class StepCount {
  owed = 0;
  constructor(
    readonly stage: number,
    readonly edge: number,
  ) {}
}

/** No place: a step that crossed no edge (a spontaneous frame's first step). */
export const NO_PLACE = -1;

/**
 * Per-frame and per-run accounting. Places (`<node>/br-provider`, `outside`, …) are numbered once
 * ({@link place}); hops pass those numbers, and the counters are arrays indexed by them: counting a step is two
 * array loads and an increment, with no string compared or hashed. Names are looked up only for output.
 */
export class TraceRecorder {
  /**
   * Visits per stage over the whole run, by stage number. Counted here by {@link stepAt}, and for the OVN hop's untraced
   * steps through their {@link stepCounter}s (added by {@link settle}, as the caches' owed deltas): no other writer. Read it after
   * {@link settle} only (every public reader does).
   */
  private readonly stageN = new Float64Array(STAGES.length);
  /** Visits per stage over the whole run: a live view of the counters (reads and writes go to them). */
  readonly stageCounts: Record<StageName, number>;
  /** Drops by code over the whole run. */
  readonly dropCounts = new Map<DropCode, number>();
  /** Frames per edge id; ids in the order edges were first crossed (numbers, so counting allocates nothing). Read through {@link edgeFrames}. */
  private readonly ef: number[] = [];
  /** Deltas with frames owed ({@link creditLater}), each listed once until {@link settle}. */
  private readonly owing: CounterDeltas[] = [];
  /** Step counters with frames owed ({@link oweFirst}), each listed once until {@link settle}. */
  private readonly owedSteps: StepCount[] = [];
  private readonly edgeNames: Array<[string, string]> = [];
  /** Place names by number, and numbers by name. */
  private readonly placeNames: string[] = [];
  private readonly placeIds = new Map<string, number>();
  /** Edge ids by place numbers: `edgeOf[from][to]`, -1 until first crossed (rows as long as there are places). */
  private readonly edgeOf: number[][] = [];
  /** Whether steps are recorded now. */
  tracing: boolean;
  /** The result of the frame being processed. */
  r: InjectResult = TraceRecorder.fresh();
  /** Whether a responder answered the frame (an ARP reply): the verdict `answered`. */
  answered = false;
  /**
   * Drops are only counted, not listed, for the frame being processed (nobody reads its list: {@link
   * SimulatedCluster.process} off a cache's watch) — no object per drop.
   */
  lean = false;
  private leanDrops = 0;
  /** Deliveries counted for the verdict only ({@link deliverUnread}): the frame's list does not hold them. */
  private unreadDeliveries = 0;
  /**
   * The result {@link begin} reuses when the caller only wants the verdict and callbacks ({@link SimulatedCluster.process}):
   * cleared, not made anew, per frame.
   */
  private readonly reused: InjectResult = TraceRecorder.fresh();
  /** Frames of the reused result (valid, like it, until the next frame). */
  private readonly pool = new FramePool();
  /** Delivery records of the reused result, reused in turn (valid, like it, until the next frame). */
  private readonly deliveries: Array<{ pod: string; node: string; frame: Uint8Array }> = [];

  constructor(tracing: boolean) {
    // A real boolean whatever a caller passed: the hot path compares it with true/false (a plain test of a field is
    // V8's ToBoolean chain, bench/README "Booleans tested as booleans (session 35)").
    this.tracing = !!tracing;
    const n = this.stageN;
    const view = {} as Record<StageName, number>;
    STAGES.forEach((name, i) =>
      Object.defineProperty(view, name, {
        enumerable: true,
        get: () => {
          this.settle();
          return n[i]!;
        },
        set: (v: number) => {
          this.settle();
          n[i] = v;
        },
      }),
    );
    this.stageCounts = view;
  }

  private static fresh(): InjectResult {
    return { outside: [], background: [], delivered: [], stages: [], drops: [], verdict: 'dropped' };
  }

  /** The number of place `name`, made the first time it is asked for. */
  place(name: string): number {
    let id = this.placeIds.get(name);
    if (id === undefined) {
      id = this.placeNames.length;
      this.placeIds.set(name, id);
      this.placeNames.push(name);
      for (const row of this.edgeOf) row.push(-1);
      this.edgeOf.push(new Array<number>(id + 1).fill(-1));
    }
    return id;
  }

  /** The name of place number `id`. */
  placeName(id: number): string {
    return this.placeNames[id]!;
  }

  /**
   * Set for one frame whose caller wants a full result (drops listed) but reads it before the next frame
   * ({@link SimulatedCluster.injectTransient}): the next {@link begin} gives the reused result even when `keep`.
   */
  reuseNext = false;
  private readonly reusedBackground: Uint8Array[] = [];

  /**
   * Whether the frame being processed has the reused result: what it lists (frames to the outside, deliveries)
   * need only last until the next frame, so the datapath may hand it buffers of its own instead of copies.
   */
  get transient(): boolean {
    return this.r === this.reused;
  }

  /** A buffer of `n` bytes for the transient result's lists (a frame to the outside), valid until the next frame. */
  buffer(n: number): Uint8Array {
    return this.pool.take(n);
  }

  /**
   * The words of the {@link buffer} handed out last, from its byte 0 (an Int32Array over the pool's buffer, made once):
   * a caller writing whole words at its start (the way-back cache's MACs and tag) without a view per frame.
   */
  bufferWords(): Int32Array {
    return this.pool.lastWords();
  }

  /** A copy of `frame[0, length)` in a {@link buffer}. */
  copyOf(frame: Uint8Array, length: number): Uint8Array {
    const b = this.pool.take(length);
    b.set(length === frame.length ? frame : this.pool.head(frame, length));
    return b;
  }

  /** `frame[0, length)` as a view to copy from: views of the few long-lived buffers frames come from are kept. */
  viewOf(frame: Uint8Array, length: number): Uint8Array {
    return this.pool.head(frame, length);
  }

  /** A new frame: a fresh result for a caller that keeps it, or the reused one (valid until the next frame). */
  begin(keep: boolean): void {
    this.answered = false;
    this.lean = false;
    this.leanDrops = 0;
    this.unreadDeliveries = 0;
    const reuse = this.reuseNext;
    this.reuseNext = false;
    if (keep === true && reuse === false) {
      this.r = TraceRecorder.fresh();
      return;
    }
    const r = this.reused;
    this.pool.reset();
    // Truncating an array through its length is a call into the runtime, even when it is empty; popping a few
    // elements is not (the lists hold one or two entries per frame). Most lists are empty on process()'s path
    // (steps only while tracing, drops only listed when not lean, background only after a due event): their
    // length is read, nothing else.
    if (r.outside.length !== 0) empty(r.outside);
    // A caller may have hung another result's list here (inject's background): that one is not ours to empty.
    const background = this.reusedBackground;
    if (r.background !== background) r.background = background;
    if (background.length !== 0) empty(background);
    if (r.delivered.length !== 0) empty(r.delivered);
    if (r.stages.length !== 0) empty(r.stages);
    if (r.drops.length !== 0) empty(r.drops);
    if (r.verdict !== 'dropped') r.verdict = 'dropped';
    this.r = r;
  }

  finish(): InjectResult {
    const r = this.r;
    r.verdict = r.delivered.length > 0 || this.unreadDeliveries > 0 ? 'delivered' : this.answered === true ? 'answered' : r.outside.length > 0 ? 'forwarded' : r.drops.length > 0 || this.leanDrops > 0 ? 'dropped' : 'forwarded';
    return r;
  }

  /** A frame pod `pod` (on `node`) accepted: `frame` is the result's (the caller's copy, or for the reused result a buffer valid until the next frame). */
  deliver(pod: string, node: string, frame: Uint8Array): void {
    const r = this.r;
    if (r !== this.reused) {
      r.delivered.push({ pod, node, frame });
      return;
    }
    const i = r.delivered.length;
    let d = this.deliveries[i];
    if (d === undefined) this.deliveries.push((d = { pod, node, frame }));
    else {
      d.pod = pod;
      d.node = node;
      d.frame = frame;
    }
    r.delivered.push(d);
  }

  /**
   * {@link deliver} for a caller that reads only the verdict of the frame being processed (the datapath's
   * `deliveriesUnread`): the delivery counts for the verdict and is not listed — no record, no frame handed over.
   */
  deliverUnread(): void {
    this.unreadDeliveries++;
  }

  /** A stage visited at `at`, coming from `from` (the edge counted); `decision` is kept only while tracing. Places by name: for callers off the hot path. */
  step(stage: StageName, at: string, decision: string, from: string | undefined): void {
    this.stepAt(STAGES.indexOf(stage), this.place(at), decision, from === undefined ? NO_PLACE : this.place(from));
  }

  /** A stage (by number) visited at place `at`, coming from place `from` (the edge counted unless the same, or {@link NO_PLACE}). */
  stepAt(stage: number, at: number, decision: string, from: number): void {
    this.stageN[stage]++;
    if (from !== at && from >= 0) this.ef[this.edgeAt(from, at)]!++;
    // The step's record out of line: stepAt's bytecode is what V8 counts against the inlining budget of the hops it is
    // inlined into, at each call site (the OVN hop has three).
    if (this.tracing === true) this.traceStep(stage, at, decision);
  }

  private traceStep(stage: number, at: number, decision: string): void {
    this.r.stages.push({ stage: STAGES[stage]!, at: this.placeNames[at]!, decision });
  }

  /**
   * A copy of the frame ends here. The code is what is counted; `detail` (the particulars: which VLAN, which
   * address) is put into words only for traces (callers on flooded paths pass it only when tracing, so an
   * untraced drop allocates nothing but its entry).
   */
  drop(at: string, code: DropCode, detail?: () => string): void {
    if (this.lean) this.leanDrops++;
    else this.r.drops.push({ at, code, reason: this.tracing && detail ? detail() : DROP_KEY[code] });
    this.dropCounts.set(code, (this.dropCounts.get(code) ?? 0) + 1);
  }

  /** {@link drop} at place number `at`: its name is looked up only when the drop is listed. */
  dropAt(at: number, code: DropCode, detail?: () => string): void {
    this.drop(this.placeNames[at]!, code, detail);
  }

  /** A frame along an edge that is no stage's visit (the wire to the outside), by place numbers. */
  bump(from: number, to: number): void {
    this.ef[this.edgeAt(from, to)]!++;
  }

  /** The id of the edge `from → to` (place names), made the first time it is crossed. */
  edgeId(from: string, to: string): number {
    return this.edgeAt(this.place(from), this.place(to));
  }

  /** The id of the edge between place numbers `from → to`, made the first time it is crossed. */
  edgeAt(from: number, to: number): number {
    const row = this.edgeOf[from]!;
    const id = row[to]!;
    return id >= 0 ? id : this.newEdge(from, to);
  }

  private newEdge(from: number, to: number): number {
    const id = this.edgeNames.length;
    this.edgeOf[from]![to] = id;
    this.edgeNames.push([this.placeNames[from]!, this.placeNames[to]!]);
    this.ef.push(0);
    return id;
  }

  /** Frames along each edge of the path diagram, over the whole run. */
  edges(): Array<{ from: string; to: string; frames: number }> {
    this.settle();
    return this.edgeNames.map(([from, to], i) => ({ from, to, frames: this.ef[i]! })).filter((e) => e.frames > 0);
  }

  /** The stage counters in {@link credit}'s order. */
  stageVector(v: Int32Array = new Int32Array(STAGES.length)): Int32Array {
    this.settle();
    const sc = this.stageN;
    for (let i = 0; i < STAGES.length; i++) v[i] = sc[i]!;
    return v;
  }

  /** Counter changes since a {@link stageVector} and a copy of {@link edgeFrames} (stages; edges as ids and deltas). */
  deltasSince(stages: Int32Array, edges: readonly number[], nowStages = this.stageVector(), nowEdges: readonly number[] = this.edgeFrames): { stageDelta: Int32Array; edgeIds: Int32Array; edgeDelta: Int32Array } {
    const stageDelta = new Int32Array(STAGES.length);
    for (let i = 0; i < STAGES.length; i++) stageDelta[i] = nowStages[i]! - stages[i]!;
    // Two passes over the edges (count, then fill) make the two arrays at their size, with nothing in between.
    const known = edges.length;
    let n = 0;
    for (let i = 0; i < nowEdges.length; i++) if (nowEdges[i]! !== (i < known ? edges[i]! : 0)) n++;
    const edgeIds = new Int32Array(n);
    const edgeDelta = new Int32Array(n);
    for (let i = 0, k = 0; k < n; i++) {
      const dlt = nowEdges[i]! - (i < known ? edges[i]! : 0);
      if (dlt !== 0) {
        edgeIds[k] = i;
        edgeDelta[k++] = dlt;
      }
    }
    return { stageDelta, edgeIds, edgeDelta };
  }

  /** Adds a cache entry's counter deltas. */
  credit(stageDelta: Int32Array, edgeIds: Int32Array, edgeDelta: Int32Array): void {
    // Written out, not looped: TurboFan reloads a loop's bound (STAGES.length) and the typed arrays' maps, lengths
    // and bases on every turn — ≈ 34 instructions a stage, ≈ 450 a call with the edges (bench/README, "The
    // cluster's hops per frame (session 17)"). One line per stage number: a ninth stage needs a line here.
    const sc = this.stageN;
    sc[ST_WIRE] += stageDelta[ST_WIRE]!;
    sc[ST_VLAN] += stageDelta[ST_VLAN]!;
    sc[ST_METALLB] += stageDelta[ST_METALLB]!;
    sc[ST_BRIDGE] += stageDelta[ST_BRIDGE]!;
    sc[ST_OVN] += stageDelta[ST_OVN]!;
    sc[ST_LB] += stageDelta[ST_LB]!;
    sc[ST_POD] += stageDelta[ST_POD]!;
    sc[ST_HOST] += stageDelta[ST_HOST]!;
    const ef = this.ef;
    const n = edgeIds.length;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      ef[edgeIds[i]!]! += edgeDelta[i]!;
      ef[edgeIds[i + 1]!]! += edgeDelta[i + 1]!;
    }
    if (i < n) ef[edgeIds[i]!]! += edgeDelta[i]!;
  }

  /**
   * The counter of an untraced step of stage `stage` at place `at` from place `from`, for a hop to count it as
   * {@link stepAt} would (the edge made now when first crossed, as stepAt makes it): per step `if (c.owed++ === 0)
   * rec.oweFirst(c)`, one increment where stepAt's counting is two counters' (bench/README "The OVN hop's steps
   * owed").
   */
  stepCounter(stage: number, at: number, from: number): StepCount {
    return new StepCount(stage, from !== at && from >= 0 ? this.edgeAt(from, at) : -1);
  }

  /** Lists `c`, whose {@link StepCount.owed} its caller has just raised from 0, for the next read of the counters. */
  oweFirst(c: StepCount): void {
    this.owedSteps.push(c);
  }

  /**
   * {@link credit} of `c`'s deltas for one frame, added when the counters are next read: a cache hit counts the frame
   * instead of adding eight stage deltas and its edges' (the sums are the same — integers, added in any order —
   * and every read of the counters, {@link stageCounts}, {@link stageVector}, {@link edgeFrames}, {@link edges},
   * settles first).
   */
  creditLater(c: CounterDeltas): void {
    if (c.owed++ === 0) this.owing.push(c);
  }

  /** Frames per edge id (see {@link ef}), with every owed credit added. */
  get edgeFrames(): number[] {
    this.settle();
    return this.ef;
  }

  /** Adds what {@link creditLater} and {@link oweFirst} owe: each listed deltas or step times its frames. */
  private settle(): void {
    const steps = this.owedSteps;
    if (steps.length !== 0) {
      const sc = this.stageN;
      const ef = this.ef;
      for (let k = 0; k < steps.length; k++) {
        const c = steps[k]!;
        const times = c.owed;
        c.owed = 0;
        sc[c.stage] += times;
        if (c.edge >= 0) ef[c.edge]! += times;
      }
      empty(steps);
    }
    const list = this.owing;
    if (list.length === 0) return;
    const sc = this.stageN;
    const ef = this.ef;
    for (let k = 0; k < list.length; k++) {
      const c = list[k]!;
      const times = c.owed;
      c.owed = 0;
      for (let i = 0; i < STAGES.length; i++) sc[i] += c.stageDelta[i]! * times;
      for (let i = 0; i < c.edgeIds.length; i++) ef[c.edgeIds[i]!]! += c.edgeDelta[i]! * times;
    }
    // Popped, not truncated: a length of 0 set lets the backing store go, and the next hit's push made a new one
    // (48 bytes, at every read of the counters: each new client's ARP on http). The list holds one or two.
    empty(list);
  }

  /** Adds drops counted by code (a cache entry's). */
  creditDrops(drops: ReadonlyArray<{ code: DropCode; delta: number }>): void {
    for (let i = 0; i < drops.length; i++) {
      const x = drops[i]!;
      this.dropCounts.set(x.code, (this.dropCounts.get(x.code) ?? 0) + x.delta);
    }
  }
}
