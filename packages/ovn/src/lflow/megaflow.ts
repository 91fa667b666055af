/**
 * The megaflow cache's data: what the logical-flow executor's slow path records and its fast path replays. The
 * design is the one of OVS's datapath (ofproto/ofproto-dpif-xlate.c + lib/dpif-netdev.c megaflows, and
 * recirculation around `ct()`): the walk through the logical tables between two conntrack calls — a *segment* — is
 * translated once into a compact program (register/field writes, outputs, drops, side effects, and the ct call that
 * ends it with the id of the segment that follows it, OVS's recirc_id); its key is what that walk read, as OVS's
 * wildcards are: every word under the mask of the bits the matches and the helper functions looked at, as they were
 * when read. Conntrack itself always runs; only the table walk is cached.
 *
 * Entries are grouped by shape (the set of masked words, OVS's subtable); a lookup tries each shape of the
 * segment's entry point, hashing the packet's words under that shape's masks.
 * @module
 */
import type { Action } from './actions.js';
import type { Pipeline } from './types.js';

/** Opcodes of a segment program. */
export const MfOp = {
  /** `dst = constant` (the action's own load). */
  LOAD: 0,
  /** `dst = src` at replay time. */
  MOVE: 1,
  EXCHANGE: 2,
  CT_CLEAR: 3,
  /** writeBits(word, lo, width, value): the result of a helper (check_in_port_sec, get_fdb…) the key determines. */
  SETBITS: 4,
  DEC_TTL: 5,
  PUT_FDB: 6,
  /** The hairpin-reply flow ovn-controller's learn() installs (value = the VIP). */
  LEARN_HAIRPIN: 7,
  LEARN_AFF: 8,
  /** `output` from ingress: the egress copy of the packet (flags, registers and zones cleared). */
  OUT_BEGIN: 9,
  SET_OUTPORT: 10,
  GIVE: 11,
  DELIVER: 12,
  DROP: 13,
  /** A ct action that forks (ct_next, ct_lb_mark, ct_dnat…): copy, conntrack, then the next segment on the copy. */
  CT_FORK: 14,
  /**
   * `ct_commit { … }` in place; then, on a chassis, the same segment goes on (no entry point: the call hides its ct
   * fields, as OVS's xlate does after a ct() without recirculation), else the next segment.
   */
  CT_COMMIT: 15,
  /** `ct_snat_to_vip` in place (conntrack only for a VIP's connection), then the next segment. */
  CT_SNAT_VIP: 16,
  /** Nothing cached from here: run the slow path from the entry point. */
  SLOW: 17,
  /** `w[word] = (w[word] & ~width) | value`: the constant writes to one word, merged (SETBITS is recorded as these). */
  SETW: 18,
  /** OUT_BEGIN whose egress walk ends in the segment's ct call (no GIVE follows): the words are cleared in place. */
  OUT_INPLACE: 19,
  /** Nothing but its {@link MfInstr.sets}: the constant writes that end a segment. */
  SETN: 20,
} as const;

/** One instruction. Made when a segment is recorded, never per packet. */
export interface MfInstr {
  op: number;
  action: Action | undefined;
  word: number;
  lo: number;
  width: number;
  value: number;
  pipeline: Pipeline;
  table: number;
  /** The next segment's entry point (ct ops). */
  cont: number;
  /** Whether the egress pipeline's zone rules apply (ct_commit's zone). */
  inEgress: boolean;
  /** DELIVER's port (the executor's port record); CT_FORK's request plan. */
  port: unknown;
  /**
   * ct ops: the segment that last followed this call (a hint, OVS's recirculation looks each `recirc_id` up again):
   * the next lookup compares its probe first, and takes it only when all of its words match and it is still in its
   * table ({@link MfSegment.epoch}) with its learned-state versions current — the checks a lookup makes.
   */
  next: MfSegment | undefined;
  /**
   * The segment {@link next} named before it was last replaced (by a lookup's answer, or by this hint when it held and
   * the first did not: the two swap): a second hint, checked as the first is when the first does not hold. A call whose outcome leads to one of two segments in turn (full-cold: the on-link clients'
   * frames, one in sixteen, between the routed ones') finds each in a hint instead of looking one up every time.
   */
  next2: MfSegment | undefined;
  /**
   * The triples a check of {@link next} compares when followed from this op: the segment's residual for this op
   * ({@link MfSegment.resid} or {@link MfSegment.resid2}, whichever names it as its via), else its whole probe —
   * chosen when the hint is set instead of at every check (the via compares and the loads behind them: ≈ 8
   * instructions a check, 6.6 checks a SYN). A residual is made for a (segment, via) once and never rewritten in
   * place (the executor's `setResid`), so the array chosen stays the right one while the hint names the segment.
   * {@link NEVER_HOLDS} until a hint is set.
   */
  nextCheck: Int32Array;
  /** {@link nextCheck} for {@link next2} (the two swap together). */
  next2Check: Int32Array;
  /**
   * A ct op that enters a next segment: the bits of the words that are the same on every pass after its call, as the
   * segment's key and constant writes fix them — `[word, mask, value]` triples by ascending word, made with the
   * segment (the executor's `knowAfterCall`); undefined for none. A next segment's probe bits among them were
   * compared when the hint was found and hold on every pass: the hint's check compares the rest ({@link
   * MfSegment.resid}).
   */
  known: Int32Array | undefined;
  /**
   * Constant writes made before the op's own work (the run of SETW and SET_OUTPORT ops recorded before it, fused:
   * writes.ts `fuseWrites`): `[word, keep, value]` triples, each `w[word] = (w[word] & keep) | value`, each word
   * once (the run's writes to it merged); empty for none.
   */
  sets: Int32Array;
  /** Whether {@link sets} writes a header word (the frame then no longer holds what the words say). */
  setsHeader: boolean;
  /**
   * {@link setsHeader}, and the only header words {@link sets} writes are the Ethernet addresses': a frame in step
   * before the op is after it but for those (exec's `near`), which a ct call then writes alone (the executor's syncFrame, packet.ts storeEth).
   */
  setsEthOnly: boolean;
  /**
   * {@link sets}' triple count, and its first three triples as properties (0 past the count), which exec writes
   * from: a property read is one load where each typed-array read costs its map, length and bounds checks again
   * (≈ 50 instructions a triple); every op that has sets has 1–3 (http, full-cold). writes.ts `fuseWrites` fills them.
   */
  nSets: number;
  setWord0: number;
  setKeep0: number;
  setValue0: number;
  setWord1: number;
  setKeep1: number;
  setValue1: number;
  setWord2: number;
  setKeep2: number;
  setValue2: number;
}

/** Where a segment starts: the root (ingress table 0) or the point after a ct call. */
export interface MfCont {
  kind: 'root' | 'fork' | 'inplace';
  pipeline: Pipeline;
  /** fork: the table of the ct action (the walk goes on at table + 1); inplace: the flow's table. */
  table: number;
  inEgress: boolean;
  /** inplace: the flow's action list and the index to go on from. */
  actions?: readonly Action[];
  index: number;
}

/**
 * A probe no words match (word 0 masked to nothing, compared with 1), padded as a probe is: an op's hint check
 * before any hint is set ({@link MfInstr.nextCheck}), so a hint set without its check is never taken.
 */
export const NEVER_HOLDS = Int32Array.of(0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0);

/** The residual probe of a segment no hint has been followed to yet. */
const NO_PROBE = new Int32Array(0);

/** A cached segment. */
export class MfSegment {
  /** Next in the same hash bucket. */
  chain: MfSegment | undefined;
  /**
   * Whether a connection's replay may skip every instruction (the executor's judgement, made once): -1 not yet, 0
   * no, above 0 yes (the executor's grades: `connOpsOf`).
   */
  connOps = -1;
  /**
   * The {@link MegaflowTable.epoch} it was inserted in, 0 once removed from its shape: a hint ({@link MfInstr.next})
   * naming it is followed only while this is the table's epoch.
   */
  epoch = 0;
  /**
   * What a hint naming this segment compares when it is followed from {@link via} (a ct op, a port's root token, or a
   * port record for a chassis-blind table's root segment): the {@link probe} less its bits that `via`'s known bits
   * decide, padded as the probe is (bench/README "A hint's check without the words it knows (session 38)", "A hint's
   * second residual, a plain frame's root, and a fork that ends its segment (session 39)"). Made when a hint to this
   * segment is set (a lookup's answer) from a via that has neither this nor {@link resid2}, never per packet; followed
   * from any other, the hint compares the whole probe.
   */
  resid: Int32Array = NO_PROBE;
  via: unknown = undefined;
  /**
   * A second {@link resid} for hints followed from {@link via2}: a segment that follows two ct ops (or two ports)
   * keeps a residual for each (full-cold's egress segment after the pod's and the localnet port's zone calls: 0.88
   * a SYN compared the whole probe, 8 triples for 4, with one). The first via keeps {@link resid}; a later one takes
   * this slot, a third replacing the second (still only at a lookup's answer).
   */
  resid2: Int32Array = NO_PROBE;
  via2: unknown = undefined;
  /**
   * Whether {@link ops} is the slow path's marker (its first op `SLOW`): a segment's ops never change op to or from it
   * (closeRec, poison). Read where a hint or a lookup gives the segment: one field instead of the array's and its
   * first op's checks (≈ 13 instructions a segment entered; bench/README "exec's writes and a segment's slow flag
   * (session 41)").
   */
  readonly slow: boolean;
  constructor(
    /**
     * Its shape's words and masks with its key's values ({@link MfShape.probeOf}: `[word, mask, value]` triples
     * padded to a multiple of four): what a hint's check and the shape's last-hit check compare.
     */
    readonly probe: Int32Array,
    /** The masked words' values, signed (as {@link MfShape.masks}). */
    readonly key: Int32Array,
    readonly hash: number,
    readonly ops: readonly MfInstr[],
    /** Bits of {@link MfDep} the segment's decisions rest on, with the versions seen when it was recorded. */
    readonly deps: number,
    readonly fdbVersion: number,
    readonly hairpinVersion: number,
  ) {
    this.slow = ops.length > 0 && ops[0]!.op === MfOp.SLOW;
  }
}

/**
 * Connections' established walks through the switch, replayed without the executor (OVS has no such cache: its
 * datapath looks each recirculation up again). One slot of `CONN_SLOT` integers per walk in one typed array —
 * no object per entry, so a replay reads one run of memory instead of chasing pointers: the flow words an IPv4
 * TCP/UDP frame starts with, packed into {@link CONN_KEY_WORDS} words (its key; the other flow words are 0), then per
 * conntrack call the request made (zone, the request object's number) and the outcome got, and the Ethernet
 * addresses and port the frame left with. A replay makes the same calls on the frame as it is and goes on only while
 * each outcome is the recorded one; at the first that differs the walk is taken again from the start, the calls
 * already made answered by their outcomes.
 *
 * The key (executor.ts `packConnKey` from the words, `connLookup` from the decode; each field in its own bits, so
 * that two keys are equal exactly when every flow word is — a word wider than its bits keeps the walk out):
 * 0: `inport` (bits 0–15), the LOCALNET flag (bit 16; `flags` holds nothing else at a walk's start), `tcp.flags`
 * as the lookup keeps them (bits 17–31); 1: `eth.src`'s low 32 bits; 2: `eth.dst`'s; 3: their high 16 bits (src
 * above dst); 4: the EtherType (bits 16–31) and the VLAN word (bits 0–15: the TCI, 0x1000 set when tagged);
 * 5: `ip.proto` (24–31), `ip.ttl` (16–23), DSCP (10–15), ECN (8–9), the fragment bits (6–7); 6, 7: the IPv4
 * addresses; 8: the ports (source above destination). Packed from 18 words to 9 so that a replay of two calls reads
 * 36 words, three cache lines at any 16-byte alignment (bench/README, session 16).
 */
export const CONN_KEY_WORDS = 9;
/** Conntrack calls a kept walk makes at most. */
export const CONN_MAX_STEPS = 3;
/**
 * Slot layout: the key, a header, then per call the words every replay reads ({@link CONN_STEP} each), then per call
 * the rest of its outcome ({@link CONN_OUT} each, compared only when the call found another node than the recorded
 * one). A replay of two calls reads the slot's first 36 words (the key and header one cache line), nothing after them.
 * The store's tick at the slot's last use.
 */
export const CONN_STAMP = 9;
/**
 * The calls (bits 0–1), {@link CONN_ENDING} (bit 2), the segments the walk was served from (bits 3–15: statistics
 * only), the output port's number (bits 16–30), {@link CONN_UNPROVEN} (bit 31).
 */
export const CONN_STEPS = 10;
/** {@link CONN_STEPS}' bit for a walk not replayed since it was recorded: its first replay pays {@link MegaflowTable.synAckCredit}. */
export const CONN_UNPROVEN = 1 << 31;
/**
 * SYN|ACK walks recorded on credit at most ({@link MegaflowTable.synAckCredit}), and what each walk's first replay
 * pays into it. A table starts with none: where no walk is ever replayed (full-cold) no SYN|ACK is recorded.
 */
export const CONN_SYNACK_CREDIT = 1024;
export const CONN_SYNACK_PAY = 2;
/**
 * {@link CONN_STEPS}' bit for a walk whose direction of the connection has sent FIN or RST (the frame it was recorded
 * from, or one replayed since): each replay asks conntrack's TCP peer states whether the frame was the direction's
 * last segment, and frees the walk if so — without those states, at its next replay.
 */
export const CONN_ENDING = 4;
/** The conntrack engine's lookup epoch the steps' hints were found in (0: none). */
export const CONN_EPOCH = 11;
export const CONN_DEPS = 12;
/** eth.src and eth.dst as delivered, packed as the key's words 1–3 (3 words). */
export const CONN_ETH = 13;
export const CONN_STEP0 = 16;
/**
 * Integers per conntrack call that a replay reads: the zone, the request's number and input (`CONN_S_REQ`), the
 * outcome's state, mark and label, then the conntrack engine's lookup hint — the node the call's first lookup found
 * and its slot's generation (see `OvsConntrack.executeHinted`), valid in the walk's {@link CONN_EPOCH}.
 */
export const CONN_STEP = 10;
export const CONN_S_ZONE = 0;
/**
 * The request's number × 4, plus 2 when the outcome's label is not all 0 (the replay then compares the label's
 * words, else only that the live label is 0), plus 1 when the call's input is the previous call's outcome (else all
 * ct fields 0).
 */
export const CONN_S_REQ = 1;
export const CONN_S_STATE = 2;
export const CONN_S_MARK = 3;
/** 4 words. */
export const CONN_S_LABEL = 4;
export const CONN_S_NODE = 8;
export const CONN_S_GEN = 9;
/**
 * Integers per conntrack call of the rest of the outcome: the zone, the flags (`resFlags`), the original tuple
 * (protocol, ports, addresses), and the decode's addresses and ports after the call.
 */
export const CONN_OUT = 11;
export const CONN_OUT0 = CONN_STEP0 + CONN_MAX_STEPS * CONN_STEP;
export const CONN_FDB = CONN_OUT0 + CONN_MAX_STEPS * CONN_OUT;
export const CONN_HAIRPIN = CONN_FDB + 1;
/** The key's hash (the index holds only its upper bits: a grown index re-buckets the slots by it). */
export const CONN_HASH = CONN_HAIRPIN + 1;
export const CONN_SLOT = 96;
/**
 * Integers before slot 0, so that each slot (384 bytes, six cache lines) starts a 64-byte line: a store's array
 * (≥ 384 KiB) is mmap'd by glibc's malloc and begins 16 bytes past a page boundary (the chunk's header; `%DebugPrint`
 * of the http bench's store: `data_ptr` 0x…010). Unpadded, every slot began 16 bytes into a line and a replay's
 * first 47 words (the key unpacked, session 15) spanned four lines, not three; packed, its 36 span three at any
 * 16-byte alignment, and the key and header are one line when the pad holds.
 */
export const CONN_PAD = 12;
/** Entries of {@link MegaflowTable.connSeen}. */
export const CONN_SEEN = 65536;
/**
 * Slots per chassis at most (≈ 12 MB when all are used; the slots grow from {@link CONN_SLOTS_FIRST} as walks are
 * kept). At 8 192 slots switch-est's 10 000 connections thrashed the table (bench/README "Switch speed (session 7)").
 */
export const CONN_SLOTS = 32768;
export const CONN_SLOTS_FIRST = 1024;
/** Ways per index bucket (one word each: a bucket is 32 bytes, and its keys are told apart by their hashes' upper bits before any slot is read). */
export const CONN_WAYS = 8;
/** Slots a full store looks at for the least recently used one to give up. */
export const CONN_CLOCK = 8;
/** A full store takes every this-many-th new walk whose candidate slot is not dead ({@link ConnStore.admit}). */
export const CONN_ADMIT = 16;

// The store's own constants as plain module constants (an exported binding is loaded through its cell at every use;
// bench/README "Where a replayed ACK's instructions go (session 13)").
const PAD = CONN_PAD;
const SLOT = CONN_SLOT;
const WAYS = CONN_WAYS;
const STAMP = CONN_STAMP;
const HASH = CONN_HASH;
const KEY_WORDS = CONN_KEY_WORDS;

/**
 * Where connections' walks are kept: slots taken in order from one growing typed array (a walk's memory is one run;
 * slots of connections that come in turn lie in turn), found through a small index of `CONN_WAYS`-way buckets, one
 * word a way: the key hash's upper bits and the slot. The index has twice as many ways as the slots have room for,
 * and grows with them (rehashed from the hashes the slots keep): a lookup's only access that no order of the
 * connections makes sequential is the index's, and at 10 000 walks an index sized for the store's maximum (512 KB,
 * 32 768 slots, two words a way) missed the CPU's caches on most lookups — now 128 KB. A lookup reads one slot, never
 * a neighbour's (a hash's upper bits tell a bucket's keys apart). A walk whose replay stopped at a call (its
 * connection closed, expired or changed) or whose learned state moved is freed at once; when no slot is free the
 * least recently used of the next `CONN_CLOCK` slots is given up — a dead connection's walk is never used again, so
 * it is the one taken.
 */
export class ConnStore {
  /** `CONN_SLOT` integers per slot. */
  data: Int32Array;
  /**
   * Per bucket `CONN_WAYS` ways of `(hash & tagMask) | (slot + 1)`, those in use first (0: empty, and none after it):
   * a lookup stops at the first empty way.
   */
  index: Int32Array;
  private bucketMask: number;
  /** The hash bits a way keeps (above the slot's). */
  private readonly tagMask: number;
  private readonly slotMask: number;
  private readonly freeList: Int32Array;
  private nFree = 0;
  /** Slots handed out from the top (below it: in use or in the free list). */
  private top = 0;
  private hand = 0;
  private tick = 0;
  /** Walks held now. */
  size = 0;
  /** Walks given up for another (the store or the key's bucket full). */
  evictions = 0;

  constructor(readonly maxSlots: number = CONN_SLOTS) {
    // slot + 1 ranges over 1..maxSlots.
    const slotBits = 32 - Math.clz32(maxSlots);
    this.slotMask = slotBits >= 32 ? -1 : (1 << slotBits) - 1;
    this.tagMask = ~this.slotMask;
    const first = Math.min(maxSlots, CONN_SLOTS_FIRST);
    this.data = new Int32Array(PAD + first * SLOT);
    this.index = new Int32Array(0);
    this.bucketMask = -1;
    this.sizeIndex(first);
    this.freeList = new Int32Array(maxSlots);
  }

  /** The base (an offset in {@link data}) of the slot holding key `key` (`CONN_KEY_WORDS` words) of hash `h`, or -1. */
  find(h: number, key: Int32Array): number {
    const idx = this.index;
    const data = this.data;
    // The offsets as int32 forms (Math.imul, `| 0`): a bucket's and a slot's offsets index typed arrays, below 2^30,
    // so these are the sums and products themselves, without TurboFan's overflow checks on the lookup path.
    const at = Math.imul(h & this.bucketMask, WAYS);
    const stop = (at + WAYS) | 0;
    const tag = h & this.tagMask;
    const slotMask = this.slotMask;
    const tagMask = this.tagMask;
    // The store's clock counts lookups: a slot's age is how many frames came since its walk was last used.
    const tick = (this.tick = (this.tick + 1) | 0);
    for (let x = at; x < stop; x++) {
      const v = idx[x]!;
      if (v === 0) return -1;
      if ((v & tagMask) !== tag) continue;
      const base = (Math.imul((v & slotMask) - 1, SLOT) + PAD) | 0;
      let i = 0;
      while (i < KEY_WORDS && data[(base + i) | 0] === key[i]) i++;
      if (i < KEY_WORDS) continue;
      data[(base + STAMP) | 0] = tick;
      return base;
    }
    return -1;
  }

  /**
   * The base of the first slot in hash `h`'s bucket whose way holds `h`'s upper bits, or -1 — for a caller that
   * compares the key itself (its words computed as it goes, never stored): then {@link touch} on a match, else
   * {@link find} (which looks at every way). Counts no lookup.
   */
  candidate(h: number): number {
    const idx = this.index;
    // int32 forms, as find's.
    const at = Math.imul(h & this.bucketMask, WAYS);
    const stop = (at + WAYS) | 0;
    const tag = h & this.tagMask;
    for (let x = at; x < stop; x++) {
      const v = idx[x]!;
      if (v === 0) return -1;
      if ((v & this.tagMask) === tag) return (Math.imul((v & this.slotMask) - 1, SLOT) + PAD) | 0;
    }
    return -1;
  }

  /**
   * A lookup that {@link candidate} answered -1 (no way with the hash's upper bits before the bucket's first empty
   * one, so {@link find} would answer -1 too): counted as find counts it. Returns -1.
   */
  missed(): number {
    this.tick = (this.tick + 1) | 0;
    return -1;
  }

  /** A lookup that found the slot at `base` ({@link candidate}'s, its key compared equal): what {@link find} counts. */
  touch(base: number): void {
    this.data[(base + STAMP) | 0] = this.tick = (this.tick + 1) | 0;
  }

  /** Frees the slot at `base` (its walk is void). */
  remove(base: number): void {
    // int32 forms, as find's (a base is a slot's: the division is exact).
    const slot = ((base - PAD) / SLOT) | 0;
    this.unindexAt(base, slot);
    const n = this.nFree;
    this.freeList[n] = slot;
    this.nFree = (n + 1) | 0;
    this.size = (this.size - 1) | 0;
  }

  /** A slot for a new walk of key hash `h` (indexed; its data but the hash and stamp is the caller's to write): its base. */
  add(h: number): number {
    const idx = this.index;
    // int32 forms, as find's.
    let at = Math.imul(h & this.bucketMask, WAYS);
    let used = this.used(at);
    let slot: number;
    let way: number;
    if (used === WAYS) {
      // The bucket is full: its least recently used walk gives its way and slot.
      let oldest = -1;
      let age = -1;
      for (let i = 0; i < WAYS; i++) {
        const s = (idx[at + i]! & this.slotMask) - 1;
        const a = (this.tick - this.data[s * SLOT + PAD + STAMP]!) | 0;
        if (a > age) {
          age = a;
          oldest = i;
        }
      }
      way = at + oldest;
      slot = (idx[way]! & this.slotMask) - 1;
      this.evictions++;
    } else {
      if (this.nFree > 0) {
        slot = this.freeList[--this.nFree]!;
        this.size++;
      } else if (this.top > 0 && this.ringStale() === true) { // compared: a plain test of an answer is V8's ToBoolean chain
        // The oldest slot taken in turn holds a walk unused for twice as many lookups as there are slots in use (its
        // connection most likely closed): reused, in memory already written, rather than a slot never used yet.
        slot = this.ring;
        this.ring = slot + 1 < this.top ? slot + 1 : 0;
        this.victim = -1;
        this.unindex(slot);
        this.evictions++;
      } else if (this.top < this.maxSlots) {
        slot = this.top++;
        if (PAD + slot * SLOT >= this.data.length) {
          this.grow();
          at = (h & this.bucketMask) * WAYS;
        }
        this.size++;
      } else {
        // Every slot holds a walk: the one admit() chose (else the least recently used of the clock's next few).
        slot = this.victim >= 0 ? this.victim : this.clock();
        this.victim = -1;
        this.unindex(slot);
        this.evictions++;
      }
      // The bucket may have changed (grown index) or lost a way (the victim's): its first empty way.
      used = this.used(at);
      way = at + used;
    }
    this.index[way] = (h & this.tagMask) | ((slot + 1) | 0);
    const base = (Math.imul(slot, SLOT) + PAD) | 0;
    this.data[(base + HASH) | 0] = h;
    this.data[(base + STAMP) | 0] = this.tick;
    return base;
  }

  /** Ways in use in the bucket at `at`. */
  private used(at: number): number {
    const idx = this.index;
    let n = 0;
    while (n < WAYS && idx[(at + n) | 0] !== 0) n = (n + 1) | 0;
    return n;
  }

  /** Takes slot `slot`'s way out of its bucket (the bucket's last way moves into it: the ways in use stay first). */
  private unindex(slot: number): void {
    this.unindexAt((Math.imul(slot, SLOT) + PAD) | 0, slot);
  }

  /** {@link unindex} of the slot at `base` (remove has both: no product made again). */
  private unindexAt(base: number, slot: number): void {
    const idx = this.index;
    // int32 forms, as find's.
    const at = Math.imul(this.data[(base + HASH) | 0]! & this.bucketMask, WAYS);
    const end = (at + WAYS) | 0;
    const want = (slot + 1) | 0;
    const slotMask = this.slotMask;
    // One pass: the slot's way, then on from it to the last way in use (counting the ways first read them twice).
    let x = at;
    for (; x < end; x = (x + 1) | 0) {
      const v = idx[x]!;
      if (v === 0) return;
      if ((v & slotMask) === want) break;
    }
    if (x === end) return;
    let last = x;
    while (((last + 1) | 0) < end && idx[(last + 1) | 0] !== 0) last = (last + 1) | 0;
    idx[x] = idx[last]!;
    idx[last] = 0;
  }

  /**
   * Whether a new walk should be recorded. Yes while a slot is free. When all are held, the least recently used of
   * the clock's next few is the candidate: taken if unused for twice as many lookups as there are slots (its
   * connection is most likely dead), else only every {@link CONN_ADMIT}th time — more connections than slots, taken in turn, would otherwise
   * evict each walk just before its next use (LRU's worst case: switch-est with 40 000 connections replayed nothing
   * and recorded every frame); so most walks held stay, and are replayed.
   */
  admit(): boolean {
    if (this.nFree > 0 || this.top < this.maxSlots) return true;
    const s = this.clock();
    if (((this.tick - this.data[s * SLOT + PAD + STAMP]!) | 0) > 2 * this.maxSlots || (++this.declined & (CONN_ADMIT - 1)) === 0) {
      this.victim = s;
      return true;
    }
    return false;
  }

  /** The least recently used of the next `CONN_CLOCK` slots (the hand moves past them). */
  private clock(): number {
    let best = this.hand;
    let age = -1;
    for (let i = 0; i < CONN_CLOCK; i++) {
      const s = (this.hand + i) % this.maxSlots;
      const a = (this.tick - this.data[s * SLOT + PAD + STAMP]!) | 0;
      if (a > age) {
        age = a;
        best = s;
      }
    }
    this.hand = (this.hand + CONN_CLOCK) % this.maxSlots;
    return best;
  }

  private victim = -1;
  private declined = 0;
  /** The slot `ringStale` looks at first: slots below `top` in turn. */
  private ring = 0;

  /**
   * Whether one of the ring's next `CONN_CLOCK` slots is dead by its age (the ring then at it): short connections'
   * walks are taken in turn and die in turn, so the ring's slots are the oldest; a live walk is used again within
   * fewer lookups than there are slots (switch-est's 10 000 connections in turn: one lookup per slot between two
   * uses). The slots looked at and found alive are passed (a walk used again — a tuple reused — would otherwise
   * hold the ring, and the store grow).
   */
  private ringStale(): boolean {
    const top = this.top;
    let r = this.ring;
    for (let i = 0; i < CONN_CLOCK; i++) {
      if (r >= top) r = 0;
      if (((this.tick - this.data[r * SLOT + PAD + STAMP]!) | 0) > 2 * top) {
        this.ring = r;
        return true;
      }
      r++;
    }
    this.ring = r;
    return false;
  }

  private grow(): void {
    const n = Math.min(this.maxSlots, ((this.data.length - PAD) / SLOT) * 2);
    const data = new Int32Array(PAD + n * SLOT);
    data.set(this.data);
    this.data = data;
    this.sizeIndex(n);
  }

  /**
   * Buckets for `slots` slots (a power of two, with twice as many ways as slots); the ways held are moved to their
   * keys' buckets in the new index. Buckets only double: a bucket's keys split between two, none overflows.
   */
  private sizeIndex(slots: number): void {
    let buckets = 1;
    while (buckets * WAYS < slots * 2) buckets *= 2;
    if (buckets - 1 === this.bucketMask) return;
    const old = this.index;
    const idx = new Int32Array(buckets * WAYS);
    const mask = buckets - 1;
    for (let x = 0; x < old.length; x++) {
      const v = old[x]!;
      if (v === 0) continue;
      const at = (this.data[((v & this.slotMask) - 1) * SLOT + PAD + HASH]! & mask) * WAYS;
      let n = 0;
      while (idx[at + n] !== 0) n++;
      idx[at + n] = v;
    }
    this.index = idx;
    this.bucketMask = mask;
  }

  clear(): void {
    this.index.fill(0);
    this.nFree = 0;
    this.top = 0;
    this.hand = 0;
    this.ring = 0;
    this.size = 0;
    this.victim = -1;
  }
}

/** Learned state a segment read (besides the packet): it is void once that state's version moved. */
export const MfDep = { FDB: 1, HAIRPIN: 2 } as const;

/**
 * A connection's walk as other connections may take it (OVS serves a new connection from megaflows that do not
 * name the client's port; this store keys walks by the exact connection). Made from a kept walk (executor.ts
 * `makeTemplate`): its slot image with the connection's own parts made relative — each call's node and
 * generation unknown (-1, 0), each outcome's address or port that equalled the frame's own field in the same place
 * listed in {@link relc} and filled from the new frame, each Ethernet address no segment wrote taken from the new
 * frame ({@link ethKeep}) — keyed by the walk's key with the IPv4 addresses and the ports masked to the bits any
 * segment of the walk read ({@link m6}, {@link m7}, {@link m8}), and the Ethernet addresses likewise where no
 * segment wrote them ({@link m1}, {@link m2}, {@link m3}; every other key word exact). A new connection's frame
 * whose key matches under those masks gets a slot filled from the image, which the ordinary replay then checks call
 * by call against the live outcomes (a mismatch takes the walk again and frees the slot, as for any slot): equal
 * outcomes, and the frame equal under the bits the segments read, make the same walk.
 */
export class ConnTemplate {
  /**
   * Per step, its outcome words filled from the frame's key: bits 0–2, 3–5 the original tuple's source and
   * destination port (3, 4: the frame's source, destination port; 0: the image's), bits 6–8, 9–11 its source and
   * destination address (1, 2: the frame's IPv4 source, destination), bits 12–15 the translated source address,
   * destination address, source port, destination port (each the frame's own field where set).
   */
  readonly relc = new Int32Array(CONN_MAX_STEPS);
  /**
   * Per word of CONN_ETH, the bits the walk wrote (the image's); the others are the frame's key words 1–3 (an
   * address no segment wrote leaves as it came).
   */
  readonly ethKeep = new Int32Array(3);
  readonly image = new Int32Array(CONN_SLOT);
  /** The masked key (the image's key words 1–3 and 6–8 under the masks; 0, 4, 5 exact). */
  readonly key = new Int32Array(CONN_KEY_WORDS);
  /** The next template in the same bucket. */
  chain: ConnTemplate | undefined = undefined;
  constructor(
    /** The shape whose masks made its key (and whose map holds it). */
    readonly shape: ConnTemplateShape,
    readonly hash: number,
  ) {}
}

/** Templates' masks in use (OVS: a subtable's): few per table — the walks' chains. */
export class ConnTemplateShape {
  readonly map = new Map<number, ConnTemplate>();
  constructor(
    readonly m6: number,
    readonly m7: number,
    readonly m8: number,
    /** Key words 1–3's masks (the Ethernet addresses: whole where a segment wrote the address). */
    readonly m1: number,
    readonly m2: number,
    readonly m3: number,
  ) {}
}

/** Templates a table keeps at most (then they are all dropped and made again from the walks kept after). */
export const CONN_TEMPLATES = 4096;
/** Template shapes a table keeps at most. */
export const CONN_TEMPLATE_SHAPES = 8;

/** A set of masked words (OVS: a subtable) and the segments keyed under it. */
export class MfShape {
  readonly map = new Map<number, MfSegment>();
  /**
   * The last segment found, compared before any shape is hashed — through its own probe and versions, as a hint is
   * (one record of a segment's key and learned state: a copy here went stale with nothing to catch it). A segment
   * removed from {@link map} is never this one: each removal clears it.
   */
  last: MfSegment | undefined;
  /** Lookups it answered (its rank among its entry point's shapes). */
  hits = 0;
  /** `masks` are the masks' bits as signed 32-bit values (keys are compared in the engine's integer type). */
  constructor(
    readonly words: Int32Array,
    readonly masks: Int32Array,
  ) {}
  /**
   * `key`'s probe ({@link MfSegment.probe}): one `[word, mask, value]` triple per masked word, padded to a multiple of
   * four triples with `[0, 0, 0]` (word 0 masked to nothing: always equal), as the executor compares four a turn.
   */
  probeOf(key: Int32Array): Int32Array {
    const p = new Int32Array(((this.words.length + 3) & ~3) * 3);
    for (let i = 0; i < key.length; i++) {
      p[i * 3] = this.words[i]!;
      p[i * 3 + 1] = this.masks[i]!;
      p[i * 3 + 2] = key[i]!;
    }
    return p;
  }
  same(words: Int32Array, masks: Int32Array): boolean {
    if (words.length !== this.words.length) return false;
    for (let i = 0; i < words.length; i++) if (words[i] !== this.words[i] || masks[i] !== this.masks[i]) return false;
    return true;
  }
}

/** Counters of one chassis' cache. */
export interface MegaflowStats {
  /** Segments served from the cache. */
  hits: number;
  /** Segment lookups that found nothing (the slow path ran and recorded). */
  misses: number;
  /** Lookups that found a `SLOW` entry (a walk the cache does not translate: nested packets, affinity checks…). */
  slow: number;
  /** Entries found void (learned state they read changed since). */
  stale: number;
  /** Segments recorded. */
  inserted: number;
  /** Entries now. */
  entries: number;
  /** Times the cache was full and was cleared. */
  flushes: number;
  /** Frames replayed whole from a connection's walk (megaflow.ts, `CONN_*`). */
  connHits: number;
  /** Replays that stopped at a conntrack call whose outcome differed (the segment cache went on from there). */
  connBreaks: number;
  /** Connections' walks held now. */
  connEntries: number;
  /** Walks given up for another's slot (the store, or the key's index bucket, full). */
  connEvictions: number;
  /**
   * Frames replayed whole from a slot filled from another connection's walk (a walk template: the new connection's
   * first frame of its direction, not recorded); counted in {@link connHits} too.
   */
  templateHits: number;
}

/** The last epoch given to a table ({@link MegaflowTable.epoch}). */
let epochs = 0;

/** One chassis' cache: per entry point, its shapes. */
export class MegaflowTable {
  readonly points: MfShape[][] = [];
  /**
   * Per port of the executor (its number times two): the last two root segments its frames were served by in this
   * table, the latest first (the executor's `rootMiss`) — a second level behind the port's own hint, which names
   * one segment for all tables. Checked as any hint is (the segment's epoch, its probe or residual), so it may hold
   * segments dropped since.
   */
  readonly rootHints: (MfSegment | undefined)[] = [];
  readonly stats: MegaflowStats = { hits: 0, misses: 0, slow: 0, stale: 0, inserted: 0, entries: 0, flushes: 0, connHits: 0, connBreaks: 0, connEntries: 0, connEvictions: 0, templateHits: 0 };
  /** Connections' walks (made on first use). */
  conns: ConnStore | undefined;
  /** Walks other connections may take ({@link ConnTemplate}), by shape. */
  readonly templates: ConnTemplateShape[] = [];
  templateCount = 0;
  /**
   * Keys of walks not recorded yet ({@link CONN_SEEN} entries, direct-mapped: a hash's upper bits and how often it
   * came): a walk is recorded the third time its key comes (OVS's EMC inserts with a probability for the same
   * reason). The http workload's frames repeat a key at most twice — recording those cost more than replays saved.
   */
  connSeen: Int32Array | undefined;
  /**
   * SYN|ACKs whose walk may still be looked up and recorded. The answer to a SYN is the first segment of its
   * direction whose ct_state is established (+est+rpl): its walk is the one the direction's later segments take, so
   * recording it there instead of at the next segment gains the direction one replay (the http workload's pods send
   * two segments after it: one replay becomes two). Where no segment follows (full-cold: every client a new SYN,
   * never answered), a recording is spent for nothing (≈ 4 700 instructions above a full run). So SYN|ACKs are
   * recorded on credit: each takes one, and each walk's first replay (of any walk: the evidence that connections
   * here go on after their first segments) pays {@link CONN_SYNACK_PAY}, up to {@link CONN_SYNACK_CREDIT}; a table
   * starts with none (bench/README "The answer to a SYN recorded (session 23)"). Which frames are recorded changes
   * no outcome (a replay gives the walk's).
   */
  synAckCredit = 0;
  /**
   * Moved by each {@link clear}: segments of an earlier epoch are no longer in the table ({@link MfSegment.epoch}).
   * Drawn from one counter for all tables, so that an epoch names one table too (an executor's tables, one per
   * chassis, share its port records and their hints).
   */
  epoch = ++epochs;
  constructor(readonly maxEntries: number, readonly connSlots = CONN_SLOTS) {}

  clear(): void {
    this.points.length = 0;
    this.epoch = ++epochs;
    this.stats.entries = 0;
    this.clearConns();
  }

  clearConns(): void {
    this.conns?.clear();
    this.templates.length = 0;
    this.templateCount = 0;
    this.stats.connEntries = 0;
  }
}

/** Mixes one word into a 32-bit hash (murmur3's round). */
export function mixHash(h: number, v: number): number {
  let k = Math.imul(v, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * The bits of `x` (under `mask`) that prove it differs from every value of `values` (each already masked): a
 * prefix from the top down to the lowest of the highest differing bits, rounded down to a byte so that few shapes
 * arise (OVS's prefix tries un-wildcard prefixes for the same reason). `x` must differ from every value.
 */
export function prefixProof(x: number, mask: number, values: ArrayLike<number>, n = values.length): number {
  let low = 32;
  const xm = (x & mask) >>> 0;
  for (let i = 0; i < n; i++) {
    const d = (xm ^ values[i]!) >>> 0;
    const hb = 31 - Math.clz32(d);
    if (hb < low) low = hb;
  }
  if (low >= 32) return 0;
  low &= ~7;
  return (mask & (low === 0 ? 0xffffffff : ~((1 << low) - 1))) >>> 0;
}
