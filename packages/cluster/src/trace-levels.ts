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
 * The JSON text of a summary line for a frame and what became of it, built directly (no object per frame). Empty
 * `to` and `drops` are left out, and so is the time of a capture's frame (it is the record's, in the capture):
 * the line is what a frame costs on every replay with `--out`, so it stays under the size of a small frame.
 */
export function summaryLineJson(index: number, time: number, ingress: string, flow: string | undefined, r: Pick<InjectResult, 'verdict' | 'outside' | 'delivered' | 'drops'>): string {
  // A capture's frame has its time in the capture (record `index`); the cluster's own frames have only this one.
  let s = index > 0 ? `{"index":${index}` : `{"index":0,"time":${Math.round(time * 1000) / 1000}`;
  if (ingress !== 'outside') s += `,"ingress":${JSON.stringify(ingress)}`;
  if (flow !== undefined) s += `,"flow":${JSON.stringify(flow)}`;
  s += `,"verdict":"${r.verdict}"`;
  if (r.outside.length || r.delivered.length) {
    s += ',"to":[';
    let first = true;
    if (r.outside.length) {
      s += '"outside"';
      first = false;
    }
    let last = '';
    for (const x of r.delivered) {
      if (x.pod === last) continue;
      last = x.pod;
      s += `${first ? '' : ','}${JSON.stringify(x.pod)}`;
      first = false;
    }
    s += ']';
  }
  const drops = r.drops;
  if (drops.length) {
    // Counted by code: a flooded ARP's drops at every node and pod are a few entries, not one per copy.
    s += ',"drops":{';
    let first = true;
    for (let i = 0; i < drops.length; i++) {
      const code = drops[i]!.code;
      let seen = false;
      for (let j = 0; j < i && !seen; j++) seen = drops[j]!.code === code;
      if (seen) continue;
      let n = 1;
      for (let j = i + 1; j < drops.length; j++) if (drops[j]!.code === code) n++;
      s += `${first ? '' : ','}"${code}":${n}`;
      first = false;
    }
    s += '}';
  }
  return `${s}}\n`;
}

/**
 * {@link summaryLineJson}'s bytes written into `w` as they are formatted: the index and counts as digits, the
 * names in place, no string per line (a line is what a frame costs on every replay with `--out`).
 */
export function writeSummaryLine(w: LineWriter, index: number, time: number, ingress: string, flow: string | undefined, r: Pick<InjectResult, 'verdict' | 'outside' | 'delivered' | 'drops'>): void {
  if (index > 0) {
    w.ascii('{"index":');
    w.uint(index);
  } else w.write(`{"index":0,"time":${Math.round(time * 1000) / 1000}`);
  if (ingress !== 'outside') {
    w.ascii(',"ingress":');
    w.ascii(ingress, true);
  }
  if (flow !== undefined) {
    w.ascii(',"flow":');
    w.ascii(flow, true);
  }
  w.ascii(',"verdict":"');
  w.ascii(r.verdict);
  w.ascii('"');
  const delivered = r.delivered;
  if (r.outside.length || delivered.length) {
    w.ascii(',"to":[');
    let first = true;
    if (r.outside.length) {
      w.ascii('"outside"');
      first = false;
    }
    let last = '';
    for (let i = 0; i < delivered.length; i++) {
      const pod = delivered[i]!.pod;
      if (pod === last) continue;
      last = pod;
      if (!first) w.ascii(',');
      w.ascii(pod, true);
      first = false;
    }
    w.ascii(']');
  }
  const drops = r.drops;
  if (drops.length) {
    w.ascii(',"drops":{');
    let first = true;
    for (let i = 0; i < drops.length; i++) {
      const code = drops[i]!.code;
      let seen = false;
      for (let j = 0; j < i && !seen; j++) seen = drops[j]!.code === code;
      if (seen) continue;
      let n = 1;
      for (let j = i + 1; j < drops.length; j++) if (drops[j]!.code === code) n++;
      w.ascii(first ? '"' : ',"');
      w.ascii(code);
      w.ascii('":');
      w.uint(n);
      first = false;
    }
    w.ascii('}');
  }
  w.ascii('}\n');
}

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
  private used = 0;
  private readonly encoder = new TextEncoder();
  constructor(readonly sink: ByteSink, chunk = 1 << 16) {
    // `uint` formats up to 10 digits in place.
    this.buffer = new Uint8Array(Math.max(chunk, 64));
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

  /**
   * A text of printable ASCII characters other than `"` and `\` as it is, quoted when `quote` (then the bytes
   * are `JSON.stringify(text)`'s); any other text through {@link LineWriter.write} (of its JSON when `quote`).
   */
  ascii(text: string, quote = false): void {
    const n = text.length;
    const q = quote ? 1 : 0;
    if (this.used + n + 2 > this.buffer.length) this.flush();
    if (n + 2 > this.buffer.length) return this.write(quote ? JSON.stringify(text) : text);
    const b = this.buffer;
    const start = this.used;
    let at = start;
    if (q) b[at++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      // What UTF-8 would widen, or inside quotes what JSON.stringify escapes (controls, quote, backslash): the
      // general path.
      if (c > 0x7f || (q === 1 && (c < 0x20 || c === 0x22 || c === 0x5c))) {
        this.used = start;
        return this.write(quote ? JSON.stringify(text) : text);
      }
      b[at++] = c;
    }
    if (q) b[at++] = 0x22;
    this.used = at;
  }

  /** A non-negative integer in decimal (as `String(n)` gives it); any other number as `String(n)`. */
  uint(n: number): void {
    if (!(n >= 0 && n <= 0xffffffff && n === Math.floor(n))) return this.write(String(n));
    if (this.used + 10 > this.buffer.length) this.flush();
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    const b = this.buffer;
    let at = this.used + digits;
    this.used = at;
    let m = n;
    do {
      b[--at] = 0x30 + (m % 10);
      m = Math.floor(m / 10);
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
