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

/** The stage counters' order in counter vectors ({@link TraceRecorder.stageVector}, cache entries' deltas). */
const STAGES: readonly StageName[] = ['wire', 'underlay0.341', 'metallb', 'br-provider', 'ovn', 'lb-dnat', 'pod', 'host'];

/** The last edge a call site counted (see {@link TraceRecorder.stepAt}). */
export interface EdgeMemo {
  from: string | undefined;
  id: number;
}

export const edgeMemo = (): EdgeMemo => ({ from: undefined, id: -1 });

export class TraceRecorder {
  /** Visits per stage over the whole run. */
  readonly stageCounts: Record<StageName, number> = { wire: 0, 'underlay0.341': 0, metallb: 0, 'br-provider': 0, ovn: 0, 'lb-dnat': 0, pod: 0, host: 0 };
  /** Drops by code over the whole run. */
  readonly dropCounts = new Map<DropCode, number>();
  /** Frames per edge id; ids by `from` then `to` (numbers, so counting allocates nothing once an edge is known). */
  edgeFrames: number[] = [];
  private readonly edgeNames: Array<[string, string]> = [];
  private readonly edgeRows = new Map<string, Map<string, number>>();
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
  /**
   * The result {@link begin} reuses when the caller only wants the verdict and callbacks ({@link SimulatedCluster.process}):
   * cleared, not made anew, per frame.
   */
  private readonly reused: InjectResult = TraceRecorder.fresh();

  constructor(tracing: boolean) {
    this.tracing = tracing;
  }

  private static fresh(): InjectResult {
    return { outside: [], background: [], delivered: [], stages: [], drops: [], verdict: 'dropped' };
  }

  /**
   * Set for one frame whose caller wants a full result (drops listed) but reads it before the next frame
   * ({@link SimulatedCluster.injectTransient}): the next {@link begin} gives the reused result even when `keep`.
   */
  reuseNext = false;
  private readonly reusedBackground: Uint8Array[] = [];

  /** A new frame: a fresh result for a caller that keeps it, or the reused one (valid until the next frame). */
  begin(keep: boolean): void {
    this.answered = false;
    this.lean = false;
    this.leanDrops = 0;
    const reuse = this.reuseNext;
    this.reuseNext = false;
    if (keep && !reuse) {
      this.r = TraceRecorder.fresh();
      return;
    }
    const r = this.reused;
    r.outside.length = 0;
    // A caller may have hung another result's list here (inject's background): that one is not ours to empty.
    r.background = this.reusedBackground;
    r.background.length = 0;
    r.delivered.length = 0;
    r.stages.length = 0;
    r.drops.length = 0;
    r.verdict = 'dropped';
    this.r = r;
  }

  finish(): InjectResult {
    const r = this.r;
    r.verdict = r.delivered.length > 0 ? 'delivered' : this.answered ? 'answered' : r.outside.length > 0 ? 'forwarded' : r.drops.length > 0 || this.leanDrops > 0 ? 'dropped' : 'forwarded';
    return r;
  }

  /** A stage visited at `at`, coming from `from` (the edge counted); `decision` is kept only while tracing. */
  step(stage: StageName, at: string, decision: string, from: string | undefined): void {
    this.stageCounts[stage]++;
    if (from !== undefined && from !== at) this.edgeFrames[this.edgeId(from, at)]!++;
    if (this.tracing) this.r.stages.push({ stage, at, decision });
  }

  /**
   * {@link step} for a call site whose `at` is fixed: `memo` keeps the last `from` seen there and its edge's id,
   * so a frame on its usual way costs a comparison instead of two map lookups.
   */
  stepAt(stage: StageName, at: string, decision: string, from: string, memo: EdgeMemo): void {
    this.stageCounts[stage]++;
    if (from !== at) {
      if (memo.from !== from) {
        memo.id = this.edgeId(from, at);
        memo.from = from;
      }
      this.edgeFrames[memo.id]!++;
    }
    if (this.tracing) this.r.stages.push({ stage, at, decision });
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

  /** A frame along an edge that is no stage's visit (the wire to the outside). */
  bump(from: string, to: string): void {
    this.edgeFrames[this.edgeId(from, to)]!++;
  }

  /** The id of the edge `from → to`, made the first time it is crossed. */
  edgeId(from: string, to: string): number {
    let row = this.edgeRows.get(from);
    if (!row) this.edgeRows.set(from, (row = new Map()));
    let id = row.get(to);
    if (id === undefined) {
      id = this.edgeNames.length;
      row.set(to, id);
      this.edgeNames.push([from, to]);
      this.edgeFrames.push(0);
    }
    return id;
  }

  /** Frames along each edge of the path diagram, over the whole run. */
  edges(): Array<{ from: string; to: string; frames: number }> {
    return this.edgeNames.map(([from, to], i) => ({ from, to, frames: this.edgeFrames[i]! })).filter((e) => e.frames > 0);
  }

  /** The stage counters in {@link credit}'s order. */
  stageVector(v: Int32Array = new Int32Array(STAGES.length)): Int32Array {
    const sc = this.stageCounts;
    for (let i = 0; i < STAGES.length; i++) v[i] = sc[STAGES[i]!];
    return v;
  }

  /** Counter changes since a {@link stageVector} and a copy of {@link edgeFrames} (stages; edges as ids and deltas). */
  deltasSince(stages: Int32Array, edges: readonly number[], nowStages = this.stageVector(), nowEdges: readonly number[] = this.edgeFrames): { stageDelta: Int32Array; edgeIds: Int32Array; edgeDelta: Int32Array } {
    const stageDelta = nowStages.map((v, i) => v - stages[i]!);
    const ids: number[] = [];
    const delta: number[] = [];
    for (let i = 0; i < nowEdges.length; i++) {
      const dlt = nowEdges[i]! - (edges[i] ?? 0);
      if (dlt) {
        ids.push(i);
        delta.push(dlt);
      }
    }
    return { stageDelta, edgeIds: Int32Array.from(ids), edgeDelta: Int32Array.from(delta) };
  }

  /** Adds a cache entry's counter deltas. */
  credit(stageDelta: Int32Array, edgeIds: Int32Array, edgeDelta: Int32Array): void {
    const sc = this.stageCounts;
    sc.wire += stageDelta[0]!;
    sc['underlay0.341'] += stageDelta[1]!;
    sc.metallb += stageDelta[2]!;
    sc['br-provider'] += stageDelta[3]!;
    sc.ovn += stageDelta[4]!;
    sc['lb-dnat'] += stageDelta[5]!;
    sc.pod += stageDelta[6]!;
    sc.host += stageDelta[7]!;
    const ef = this.edgeFrames;
    for (let i = 0; i < edgeIds.length; i++) ef[edgeIds[i]!]! += edgeDelta[i]!;
  }

  /** Adds drops counted by code (a cache entry's). */
  creditDrops(drops: ReadonlyArray<{ code: DropCode; delta: number }>): void {
    for (let i = 0; i < drops.length; i++) {
      const x = drops[i]!;
      this.dropCounts.set(x.code, (this.dropCounts.get(x.code) ?? 0) + x.delta);
    }
  }
}
