/**
 * What a replay writes, and how much: the level of `trace.jsonl` (as ovn-trace has `--summary`, `--detailed`),
 * which node ports `nodes.pcapng` records, and a buffered writer of text lines. A capture of millions of frames
 * must not turn into terabytes: the default trace line says what happened to a frame in well under a few
 * hundred bytes, and the per-port capture records the pods' side unless asked for more.
 */
import type { ByteSink } from '@vippath/pcap';
import type { DropCode } from './drops.js';
import type { TraceLine } from './outputs.js';
import type { InjectResult } from './simulation.js';

/**
 * `none`: no `trace.jsonl`. `summary` (the default): one short line per frame — index, time, verdict, where
 * its copies ended and the drop codes ({@link TraceSummaryLine}); the frame itself is record `index` of the input. `detailed`: every step of every frame
 * with each emitted frame's bytes ({@link TraceLine}), about 10 KB per frame.
 */
export type TraceLevel = 'none' | 'summary' | 'detailed';

/** The trace levels, for option parsing. */
export const TRACE_LEVELS: readonly TraceLevel[] = ['none', 'summary', 'detailed'];

/** One line of `trace.jsonl` at the `summary` level: the fields it shares with {@link TraceLine} mean the same. */
export interface TraceSummaryLine {
  /** The record in the input capture (1-based); 0 for frames the cluster sent on its own. */
  index: number;
  /** Simulated ms since the first frame (µs resolution), only on lines with index 0: a record's time is the capture's. */
  time?: number;
  /** Only when the frame did not enter from the outside (`cluster`: what the cluster sent on its own). */
  ingress?: string;
  /** Only for lines that are no frame of the capture: why it was skipped, or what the cluster sent on its own. */
  flow?: string;
  verdict: TraceLine['verdict'];
  /** Where copies ended up: `outside` (to the client) and the pods by name, each once, in order; absent: nowhere. */
  to?: string[];
  /** Copies dropped, by code (drops.ts; where each happened is in the detailed trace); absent: none. */
  drops?: Partial<Record<DropCode, number>>;
}

/**
 * The JSON text of a summary line for a frame and what became of it: {@link TraceSummaryLine} as `JSON.stringify`
 * writes it. Empty `to` and `drops` are left out, and so is the time of a capture's frame (it is the record's, in
 * the capture): the line is what a frame costs on every replay with `--out`, so it stays under the size of a small
 * frame. `vippath replay` writes the same bytes without a string per frame ({@link writeSummaryLine}); this is the
 * plain form, for callers that want a line as text.
 */
export function summaryLineJson(index: number, time: number, ingress: string, flow: string | undefined, r: Pick<InjectResult, 'verdict' | 'outside' | 'delivered' | 'drops'>): string {
  // A capture's frame has its time in the capture (record `index`); the cluster's own frames have only this one.
  const out: TraceSummaryLine = { index, ...(index > 0 ? {} : { time: Math.round(time * 1000) / 1000 }), ...(ingress !== 'outside' ? { ingress } : {}), ...(flow !== undefined ? { flow } : {}), verdict: r.verdict };
  if (r.outside.length || r.delivered.length) {
    // Each pod once per run of copies to it, in order (a flood's copies to one pod come together).
    const to: string[] = r.outside.length ? ['outside'] : [];
    let last = '';
    for (const x of r.delivered) {
      if (x.pod !== last) to.push(x.pod);
      last = x.pod;
    }
    out.to = to;
  }
  if (r.drops.length) {
    // Counted by code, in the order each code first comes: a flooded ARP's drops at every node and pod are a few
    // entries, not one per copy.
    const drops: Partial<Record<DropCode, number>> = {};
    for (const d of r.drops) drops[d.code] = (drops[d.code] ?? 0) + 1;
    out.drops = drops;
  }
  return `${JSON.stringify(out)}\n`;
}

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const INDEX = ascii('{"index":');
const INGRESS = ascii(',"ingress":');
const FLOW = ascii(',"flow":');
const VERDICT = ascii(',"verdict":');
const TO = ascii(',"to":[');
const OUTSIDE = ascii('"outside"');
const DROPS = ascii(',"drops":{');
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * {@link summaryLineJson}'s bytes written into `w` as they are formatted: the index and counts as digits, the
 * names (pods, verdicts, drop codes) as their JSON's bytes kept by the writer, no string per line (a line is what
 * a frame costs on every replay with `--out`).
 */
export function writeSummaryLine(w: LineWriter, index: number, time: number, ingress: string, flow: string | undefined, r: Pick<InjectResult, 'verdict' | 'outside' | 'delivered' | 'drops'>): void {
  // A capture's frame from the outside, copies to the client and to one pod at most, no drop: nearly every line of a
  // replay. What follows the index is the same bytes for each such shape; kept by the writer, copied whole.
  if (index > 0 && ingress === 'outside' && flow === undefined && r.drops.length === 0 && w.lineAfter(index, r.verdict, r.outside.length !== 0, r.delivered)) return;
  if (index > 0) {
    w.bytes(INDEX);
    w.uint(index);
  } else w.write(`{"index":0,"time":${Math.round(time * 1000) / 1000}`);
  if (ingress !== 'outside') {
    w.bytes(INGRESS);
    w.bytes(w.json(ingress));
  }
  if (flow !== undefined) {
    w.bytes(FLOW);
    w.bytes(w.json(flow));
  }
  writeTail(w, r);
}

/** A summary line from its verdict on: where copies went, the drops by code, the closing brace and newline. */
const writeTail = (w: LineWriter, r: Pick<InjectResult, 'verdict' | 'outside' | 'delivered' | 'drops'>): void => {
  w.bytes(VERDICT);
  w.bytes(w.json(r.verdict));
  const delivered = r.delivered;
  if (r.outside.length || delivered.length) {
    w.bytes(TO);
    let first = true;
    if (r.outside.length) {
      w.bytes(OUTSIDE);
      first = false;
    }
    let last = '';
    for (let i = 0; i < delivered.length; i++) {
      const pod = delivered[i]!.pod;
      if (pod === last) continue;
      last = pod;
      if (!first) w.byte(COMMA);
      w.bytes(w.json(pod));
      first = false;
    }
    w.byte(0x5d);
  }
  const drops = r.drops;
  if (drops.length) {
    w.bytes(DROPS);
    let first = true;
    for (let i = 0; i < drops.length; i++) {
      const code = drops[i]!.code;
      let seen = false;
      for (let j = 0; j < i && !seen; j++) seen = drops[j]!.code === code;
      if (seen) continue;
      let n = 1;
      for (let j = i + 1; j < drops.length; j++) if (drops[j]!.code === code) n++;
      if (!first) w.byte(COMMA);
      w.bytes(w.json(code));
      w.byte(COLON);
      w.uint(n);
      first = false;
    }
    w.byte(0x7d);
  }
  w.byte(0x7d);
  w.byte(0x0a);
};

/** The verdicts {@link LineWriter.lineAfter} keeps line ends for, in the order of its arrays. */
const VERDICTS: ReadonlyArray<TraceLine['verdict']> = ['delivered', 'answered', 'forwarded', 'dropped', 'skipped'];
/** `{"index":`'s first eight bytes as two little-endian words. */
const INDEX_WORD0 = INDEX[0]! | (INDEX[1]! << 8) | (INDEX[2]! << 16) | (INDEX[3]! << 24);
const INDEX_WORD1 = INDEX[4]! | (INDEX[5]! << 8) | (INDEX[6]! << 16) | (INDEX[7]! << 24);

/** 0 … 9 999 as four ASCII digits with leading zeros, a little-endian word each (the first digit the low byte). */
const DIGITS4 = (() => {
  const t = new Int32Array(10_000);
  for (let v = 0; v < 10_000; v++) t[v] = (0x30 + ((v / 1000) | 0)) | ((0x30 + (((v / 100) | 0) % 10)) << 8) | ((0x30 + (((v / 10) | 0) % 10)) << 16) | ((0x30 + (v % 10)) << 24);
  return t;
})();

/** A summary line's bytes after its index. */
interface LineEnd {
  readonly bytes: Uint8Array;
}

/**
 * The bytes {@link writeSummaryLine}'s general way writes after the index of a line with this verdict, a copy to the
 * outside or not, copies to `pod` or none, and no drop: written by that code into a writer of its own, read back.
 */
const lineEnd = (verdict: string, outside: boolean, pod: string | undefined): LineEnd => {
  const bytes: Uint8Array[] = [];
  const scratch = new LineWriter({ write: (b) => void bytes.push(b.slice()), close: async () => undefined, abort: () => undefined }, 1 << 16);
  const r = { verdict: verdict as TraceLine['verdict'], outside: outside ? [EMPTY] : [], delivered: pod === undefined ? [] : [{ pod, node: '', frame: EMPTY }], drops: [] };
  writeTail(scratch, r);
  scratch.flush();
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    out.set(b, at);
    at += b.length;
  }
  return { bytes: out };
};
const EMPTY = new Uint8Array(0);

/**
 * Which node ports `nodes.pcapng` records, from `--capture-ports` words: `all`, `none`, `pods` (every pod's
 * interface), a node name (all its ports), or `<node>/<port>` where `*` stands for any run of characters but
 * `/` (`*\/underlay0.341`, `node1/*`). Unknown words select nothing; {@link unmatchedPortPatterns} names them.
 */
export function portSelector(patterns: readonly string[], podPorts: ReadonlySet<string>): (port: string) => boolean {
  if (patterns.includes('all')) return () => true;
  const res: RegExp[] = [];
  let pods = false;
  for (const p of patterns) {
    if (p === 'none') continue;
    if (p === 'pods') {
      pods = true;
      continue;
    }
    const glob = p.includes('/') ? p : `${p}/*`;
    res.push(new RegExp(`^${glob.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`));
  }
  return (port) => (pods && podPorts.has(port)) || res.some((r) => r.test(port));
}

/** The words of `patterns` that select none of `ports` (for a usage error: a typo should not silently record nothing). */
export function unmatchedPortPatterns(patterns: readonly string[], ports: readonly string[], podPorts: ReadonlySet<string>): string[] {
  return patterns.filter((p) => p !== 'none' && p !== 'all' && (p !== 'pods' || podPorts.size === 0) && !ports.some(portSelector([p], podPorts)));
}

/**
 * Text lines into a byte sink in chunks of about 64 KB: one write per chunk instead of per line (a write per line
 * is a system call per frame). Lines are written as bytes into the chunk: {@link writeSummaryLine} formats a
 * summary line's numbers and names in place, with no string per frame; {@link LineWriter.write} encodes a text.
 */
export class LineWriter {
  private readonly buffer: Uint8Array;
  private readonly view: DataView;
  private used = 0;
  private readonly encoder = new TextEncoder();
  /** The JSON bytes of names written ({@link json}): a replay's names are few (pods, verdicts, drop codes). */
  private readonly names = new Map<string, Uint8Array>();
  /**
   * The ends of summary lines after their index ({@link lineAfter}), by the pod the copies went to (`noPod`: none),
   * each an array by verdict and whether a copy went outside; the last pod's array kept apart (one lookup a line
   * less while a run's frames go to the same pod).
   */
  private readonly ends = new Map<string, Array<LineEnd | undefined>>();
  private readonly noPod: Array<LineEnd | undefined> = [];
  private lastPod: string | undefined = undefined;
  private lastEnds: Array<LineEnd | undefined> = this.noPod;
  constructor(readonly sink: ByteSink, chunk = 1 << 16) {
    // `uint` writes up to 10 digits in place.
    this.buffer = new Uint8Array(Math.max(chunk, 64));
    this.view = new DataView(this.buffer.buffer);
  }

  /**
   * {@link writeSummaryLine} of a capture's frame from the outside with no flow text and no drop, when its copies
   * went to one pod at most: `{"index":` and the index's digits, then the rest of the line as one kept run of bytes
   * (made by the general writer's own code the first time), copied whole. False, nothing written, for any other
   * line (copies to several pods, another verdict, an index outside 1 … 2^31 − 1, an end longer than the chunk): the
   * caller writes it the general way.
   */
  lineAfter(index: number, verdict: string, outside: boolean, delivered: ReadonlyArray<{ readonly pod: string }>): boolean {
    if (!(index > 0 && index <= 0x7fffffff && (index | 0) === index)) return false;
    let v = -1;
    for (let i = 0; i < VERDICTS.length; i++) {
      if (VERDICTS[i] === verdict) {
        v = i;
        break;
      }
    }
    if (v < 0) return false;
    let ends = this.noPod;
    const n = delivered.length;
    if (n !== 0) {
      const pod = delivered[0]!.pod;
      for (let i = 1; i < n; i++) if (delivered[i]!.pod !== pod) return false;
      if (pod === this.lastPod) ends = this.lastEnds;
      else {
        let e = this.ends.get(pod);
        if (e === undefined) {
          if (this.ends.size >= 4096) this.ends.clear();
          this.ends.set(pod, (e = []));
        }
        this.lastPod = pod;
        this.lastEnds = e;
        ends = e;
      }
    }
    const slot = v * 2 + (outside ? 1 : 0);
    let end = ends[slot];
    if (end === undefined) ends[slot] = end = lineEnd(verdict, outside, n !== 0 ? delivered[0]!.pod : undefined);
    const tail = end.bytes;
    // The index's prefix (9 bytes), up to 10 digits, the end.
    if (INDEX.length + 10 + tail.length > this.buffer.length) return false;
    if (this.used + INDEX.length + 10 + tail.length > this.buffer.length) this.flush();
    const b = this.buffer;
    const dv = this.view;
    let at = this.used;
    dv.setInt32(at, INDEX_WORD0, true);
    dv.setInt32(at + 4, INDEX_WORD1, true);
    b[at + 8] = COLON;
    at += 9;
    if (index < 100_000_000) {
      // Up to eight digits as two words of four from a table (the leading word without its leading zeros), not a
      // loop counting the digits and one dividing per digit (≈ 150 instructions a line). A word may run past the
      // digits: the room checked above holds it, and the end is written over it.
      const hi = (index / 10_000) | 0;
      const lo = index - hi * 10_000;
      const lead = hi === 0 ? lo : hi;
      const k = lead >= 1000 ? 4 : lead >= 100 ? 3 : lead >= 10 ? 2 : 1;
      dv.setInt32(at, DIGITS4[lead]! >> ((4 - k) << 3), true);
      at += k;
      if (hi !== 0) {
        dv.setInt32(at, DIGITS4[lo]!, true);
        at += 4;
      }
    } else {
      let digits = 1;
      for (let m = index; m >= 10; m = (m / 10) | 0) digits++;
      at += digits;
      let m = index;
      for (let p = at; ; ) {
        const q = (m / 10) | 0;
        b[--p] = 0x30 + m - q * 10;
        m = q;
        if (m === 0) break;
      }
    }
    // One set(): a loop over the bytes or words of two typed arrays reloads both arrays' maps, bases and lengths at
    // every turn in TurboFan's code (≈ 30 instructions a byte, 40 a DataView word; bench/README session 40).
    b.set(tail, at);
    this.used = at + tail.length;
    return true;
  }

  /** A text, as UTF-8. */
  write(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair, two units, takes 4).
    if (this.used + text.length * 3 > this.buffer.length) {
      this.flush();
      if (text.length * 3 > this.buffer.length) {
        this.sink.write(this.encoder.encode(text));
        return;
      }
    }
    this.used += this.encoder.encodeInto(text, this.buffer.subarray(this.used)).written;
  }

  /** One byte. */
  byte(b: number): void {
    if (this.used >= this.buffer.length) this.flush();
    this.buffer[this.used++] = b;
  }

  /** Bytes (a short run copied in place; a long one through {@link flush} and the sink). */
  bytes(b: Uint8Array): void {
    const n = b.length;
    if (this.used + n > this.buffer.length) {
      this.flush();
      if (n > this.buffer.length) {
        this.sink.write(b);
        return;
      }
    }
    const buf = this.buffer;
    const at = this.used;
    for (let i = 0; i < n; i++) buf[at + i] = b[i]!;
    this.used = at + n;
  }

  /** `JSON.stringify(text)`'s UTF-8 bytes, kept for the next time (up to 4 096 names, then started afresh). */
  json(text: string): Uint8Array {
    let b = this.names.get(text);
    if (b === undefined) {
      if (this.names.size >= 4096) this.names.clear();
      this.names.set(text, (b = this.encoder.encode(JSON.stringify(text))));
    }
    return b;
  }

  /** A non-negative integer in decimal (as `String(n)` gives it); any other number as `String(n)`. */
  uint(n: number): void {
    if (!(n >= 0 && n <= 0x7fffffff && (n | 0) === n)) return this.write(String(n));
    if (this.used + 10 > this.buffer.length) this.flush();
    let digits = 1;
    for (let m = n; m >= 10; m = (m / 10) | 0) digits++;
    const b = this.buffer;
    let at = this.used + digits;
    this.used = at;
    let m = n;
    do {
      const q = (m / 10) | 0;
      b[--at] = 0x30 + m - q * 10;
      m = q;
    } while (m > 0);
  }

  flush(): void {
    if (this.used === 0) return;
    this.sink.write(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  async close(): Promise<void> {
    this.flush();
    await this.sink.close();
  }

  abort(): void {
    this.used = 0;
    this.sink.abort();
  }
}
