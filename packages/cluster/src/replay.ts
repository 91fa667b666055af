/**
 * Replaying a capture through the simulated cluster: every frame the capture's client sent enters at its
 * capture time (simulated time starts at the first frame), from the outside of the wire unless pinned
 * elsewhere; frames the capture shows the cluster sending are skipped (the simulation produces its own) and
 * counted. The summary says what the seed document's figure says: who answered ARP, which pods served, what
 * the client got back — plus counters per stage, drops by reason and the backend distribution.
 */
import { closeSync, mkdirSync, openSync, readSync, realpathSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { addNanoseconds, type CaptureCursor, checkOutputPath, describeFileError, fileSink, OutputError, PcapngWriter, scanCapture, TruncatedCaptureError, type CaptureSource, type FileSink, type ReaderOptions } from '@vippath/pcap';
import { DecodedFrame, FrameDecoder, formatIPv4, formatMac, L3, parseIPv4, parseIPv6, plainTcp4, readIPv4, VippathError } from '@vippath/wire';
import { Address6Counter, AddressCounter, FlowCounter } from './flow-count.js';
import { DROP_KEY } from './drops.js';
import type { K8sObject } from './manifests.js';
import type { ReplaySummary, TraceLine } from './outputs.js';
import { renderReportTo, scriptJson, type ReportTopology, type StreamedTraces } from './report.js';
import type { ClusterSpec } from './scenario.js';
import { SimulatedCluster, traceLine, type InjectResult, type SimulationOptions } from './simulation.js';
import { LineWriter, portSelector, TRACE_LEVELS, writeSummaryLine, type TraceLevel } from './trace-levels.js';

export type { ReplaySummary } from './outputs.js';

/** Options of {@link replayCapture}. */
export interface ReplayOptions {
  /** Write `wire.pcapng`, `nodes.pcapng`, `trace.jsonl` and `summary.json` here. */
  outDir?: string;
  /** How much `trace.jsonl` says per frame (see {@link TraceLevel}); default `summary`. */
  trace?: TraceLevel;
  /**
   * The node ports `nodes.pcapng` records (`all`, `none`, `pods`, a node, `<node>/<port>` with `*`; see
   * {@link portSelector}); default {@link DEFAULT_CAPTURE_PORTS}.
   */
  capturePorts?: readonly string[];
  /** Where the capture's frames enter (see {@link SimulatedCluster.inject}); default `outside`. */
  ingress?: string;
  /** Inject every frame, also those whose source MAC is the cluster's (default: skip them). */
  includeClusterFrames?: boolean;
  /** Keep every trace line in memory and return it (for reports); default false. */
  keepTraces?: boolean;
  /** Also write the HTML report here (see report.ts); it embeds the first `reportFrames` trace lines. */
  report?: string;
  /**
   * Trace lines the report embeds (default 5 000, about 2 KB each: the page stays small enough to open; the
   * diagram, counters and timeline cover every frame regardless).
   */
  reportFrames?: number;
  /** Called now and then with the bytes read so far (for progress bars). */
  onProgress?: (framesRead: number, bytesRead: number) => void;
  /**
   * Other files the run reads (manifests): no output may be one of them. The capture, when a path, is checked
   * anyway.
   */
  inputs?: string[];
  /** Called with the simulation before the first frame: schedule node loss and readiness changes here. */
  setup?: (sim: SimulatedCluster) => void;
  /** What to do with a corrupt record: stop (default, a typed error) or skip it and go on (counted). */
  onError?: ReaderOptions['onError'];
  simulation?: SimulationOptions;
}

/** What {@link replayCapture} gives back. */
export interface ReplayResult {
  summary: ReplaySummary;
  sim: SimulatedCluster;
  /** Every trace line, when `keepTraces` was set. */
  traces?: TraceLine[];
}

const encoder = new TextEncoder();

/**
 * An object for keys that are user-given names (nodes, pods, MACs, drop reasons): no prototype, so a node named
 * `__proto__` or `constructor` is a key like any other instead of reaching Object.prototype.
 */
function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** {@link dict} filled from entries. */
function dictOf<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const d = dict<T>();
  for (const [k, v] of entries) d[k] = v;
  return d;
}

/**
 * Most bins {@link ReplaySummary.timeline} holds. A capture's timestamps are untrusted (two frames 0xffffffff s
 * apart are one record edit away), so the timeline never grows with the span: when the next frame falls past the
 * last bin, neighbouring bins merge and the width doubles (1 s, 2 s, 4 s…).
 */
export const TIMELINE_BINS = 4096;

/**
 * What `nodes.pcapng` records unless told: nothing (no file). The outputs' budget is 3× the input's bytes at the
 * default level, and on curl-like traffic `wire.pcapng` alone is 2× (the client's frames and the cluster's
 * answers, in pcapng's larger records) and the summary trace about 1×; the pods' interfaces would add 2×, every
 * port of every node 9× (each frame is recorded at the NIC, the VLAN interface, LOCAL or the patch port, and the
 * pod). `capturePorts` asks for them (bench/README.md has the measurements).
 */
export const DEFAULT_CAPTURE_PORTS: readonly string[] = ['none'];

/**
 * Replays a capture (path, `-`, or stream) through the cluster. With `outDir`, writes `wire.pcapng` (every
 * frame on the physical segment as tagged on the wire, one interface for the outside and one per node NIC),
 * `nodes.pcapng` (one interface per node port, `<node>/<port>`, and per pod, `<node>/<pod>`), `trace.jsonl` and
 * `summary.json` — each to a temporary name renamed when complete, so a failed run leaves earlier outputs alone.
 */
export async function replayCapture(source: CaptureSource, objects: K8sObject[], cluster: ClusterSpec, options: ReplayOptions = {}): Promise<ReplayResult> {
  const level: TraceLevel = options.trace ?? 'summary';
  if (!TRACE_LEVELS.includes(level)) throw new VippathError('BAD_OPTION', `trace level ${String(level)}: use ${TRACE_LEVELS.join(', ')}`);
  // Steps are recorded only for what shows them: a detailed trace, the report, kept traces — and for the report
  // alone, only until it has the lines it embeds (then the rest of the capture runs untraced, through the caches).
  const traceAll = Boolean((options.outDir && level === 'detailed') || options.keepTraces);
  let tracing = traceAll || (Boolean(options.report) && (options.reportFrames ?? 5000) > 0);
  const summaryLines = Boolean(options.outDir) && level === 'summary';
  const reportLimit = options.reportFrames ?? 5000;
  const sim = new SimulatedCluster(objects, cluster, { trace: tracing, ...options.simulation });
  const ingress = options.ingress ?? 'outside';
  sim.checkIngress(ingress);
  options.setup?.(sim);
  // Every output is checked before anything is read or written: not an input, not another output, not a
  // directory, FIFO or device.
  const outDir = options.outDir || options.report ? prepareOutputs(source, options) : undefined;
  const outputs = outDir ? openOutputs(outDir, sim, level, options.capturePorts ?? DEFAULT_CAPTURE_PORTS) : undefined;
  const sinks: FileSink[] = outputs ? [...outputs.sinks] : [];
  // The report's trace lines wait in a temporary beside the report, serialised, not as objects in memory
  // (100 000 lines held as objects took 1.5 GB); the page copies them from there.
  let spill: TraceSpill | undefined;
  try {
    spill = options.report ? new TraceSpill(options.report) : undefined;
  } catch (e) {
    for (const sink of sinks) sink.abort();
    throw e;
  }
  if (spill) sinks.push(spill.sink);
  const traces: TraceLine[] | undefined = options.keepTraces ? [] : undefined;
  // IPv4 addresses as numbers: every frame bound for the client is looked up here.
  const vips = new Set(sim.state.services.flatMap((s) => s.ingress).filter((ip) => !ip.includes(':')).map((ip) => parseIPv4(ip)));
  const podIps = new Set(sim.state.pods.map((p) => parseIPv4(p.ip)));
  // Up to a few addresses, compared in turn: a Set's lookup hashes a heap number (most addresses are above 2^30).
  const vipList = [...vips];
  const podIpList = [...podIps];
  const among = (list: readonly number[], set: ReadonlySet<number>, a: number): boolean => {
    if (list.length > 8) return set.has(a);
    for (let i = 0; i < list.length; i++) if (list[i] === a) return true;
    return false;
  };
  // IPv6 ones as bytes, compared where a frame's source lies (a handful of each).
  const vips6 = sim.state.services.flatMap((s) => s.ingress).filter((ip) => ip.includes(':')).map((ip) => parseIPv6(ip));
  const podIps6 = sim.state.pods.flatMap((p) => (p.ip6 ? [parseIPv6(p.ip6)] : []));
  const summary: ReplaySummary = {
    framesRead: 0, injected: 0, skippedFromCluster: 0, skippedNotEthernet: 0, timestampsClamped: 0, flows: 0, flowsCapped: false,
    stages: sim.stageCounts, edges: [],
    toClient: { frames: 0, arpRepliesBy: dict(), gratuitousArpBy: dict(), tcpFromVip: 0, tcpFromPodIp: 0, untagged: 0 },
    servedBy: dict(), clients: { addresses: 0, top: [] }, backends: dict(), drops: dict(), dropCodes: dict(), verdicts: { delivered: 0, answered: 0, forwarded: 0, dropped: 0, skipped: 0 },
    services: [], timeline: [], timelineBinMs: 1000, events: [],
  };
  // Widens the timeline's bins until `bin` (of the current width) fits: rare, so out of line.
  const widenTimeline = (now: number): void => {
    let bin = Math.floor(now / summary.timelineBinMs);
    while (bin >= TIMELINE_BINS) {
      const old = summary.timeline;
      const merged: number[] = [];
      for (let i = 0; i < old.length; i += 2) merged.push(old[i]! + (old[i + 1] ?? 0));
      summary.timeline = merged;
      summary.timelineBinMs *= 2;
      bin = Math.floor(now / summary.timelineBinMs);
    }
  };
  const decoder = new FrameDecoder();
  const d = new DecodedFrame();
  const flows = new FlowCounter();
  // Frames per client source address, for the summary's top list: bounded per family (then counted only for
  // addresses already seen, and the summary says "at least").
  const byClient = new AddressCounter(CLIENT_LIMIT);
  const byClient6 = new Address6Counter(CLIENT_LIMIT);
  // The frame is read where it lies in the capture's chunk (`buf[at, at + length)`): no view per record.
  const countFlow = (buf: Uint8Array, at: number, length: number): void => {
    // Most frames are plain IPv4 TCP: the layout checked once for both counts.
    const plain = plainTcp4(buf, length, at);
    if (plain !== 0) {
      flows.addTcp4At(buf, plain);
      byClient.add(readIPv4(buf, plain + 12));
      return;
    }
    flows.addAt(buf, at, length);
    const end = at + length;
    let l3 = at + 14;
    let type = length >= 14 ? (buf[at + 12]! << 8) | buf[at + 13]! : 0;
    while ((type === 0x8100 || type === 0x88a8) && end >= l3 + 4) {
      type = (buf[l3 + 2]! << 8) | buf[l3 + 3]!;
      l3 += 4;
    }
    if (type === 0x0800 && end >= l3 + 20) byClient.add(readIPv4(buf, l3 + 12));
    else if (type === 0x86dd && end >= l3 + 40) byClient6.addAt(buf, l3 + 8);
  };
  /** An IPv4 TCP frame back to a client, counted by its source: the VIP (un-DNATed) or a pod's own address. */
  const tcp4From = (src: number): void => {
    if (among(vipList, vips, src)) summary.toClient.tcpFromVip++;
    else if (among(podIpList, podIps, src)) summary.toClient.tcpFromPodIp++;
  };
  const toClient = (out: Uint8Array): void => {
    summary.toClient.frames++;
    // Most frames back are plain IPv4 TCP: read at fixed offsets, only what is counted of them (the tag, the source).
    const l3 = plainTcp4(out, out.length);
    if (l3 !== 0) {
      if (l3 === 14) summary.toClient.untagged++;
      return tcp4From(readIPv4(out, l3 + 12));
    }
    decoder.decode(out, d);
    if (d.vlanCount === 0) summary.toClient.untagged++;
    if (d.l3 === L3.ARP && vips.has(d.arpSpa)) {
      const mac = formatMac(out, 6);
      // Broadcast ARP with SPA = TPA = VIP is MetalLB's gratuitous announcement; a unicast reply answers a request.
      const table = out[0] === 0xff && d.arpTpa === d.arpSpa ? summary.toClient.gratuitousArpBy : d.arpOp === 2 ? summary.toClient.arpRepliesBy : undefined;
      if (table) table[mac] = (table[mac] ?? 0) + 1;
    }
    if (d.l3 === L3.IPV4 && d.ipProto === 6) tcp4From(d.ipSrc);
    else if (d.l3 === L3.IPV6 && d.ipProto === 6) {
      if (anyAt(vips6, out, d.l3Offset + 8)) summary.toClient.tcpFromVip++;
      else if (anyAt(podIps6, out, d.l3Offset + 8)) summary.toClient.tcpFromPodIp++;
    }
  };
  sim.onOutside = toClient;
  const record = (line: TraceLine): void => {
    traces?.push(line);
    if (spill && spill.lines < reportLimit) spill.add(line);
    if (level === 'detailed') outputs?.trace?.write(`${JSON.stringify(line)}\n`);
    if (!traceAll && spill && spill.lines >= reportLimit) {
      tracing = false;
      sim.tracing = false;
    }
  };
  // By name, not `verdicts[verdict]++`: a keyed access whose key takes five values went megamorphic (a generic
  // lookup and store, ≈ 270 instructions a frame).
  const countVerdict = (verdict: TraceLine['verdict']): void => {
    const v = summary.verdicts;
    if (verdict === 'delivered') v.delivered++;
    else if (verdict === 'answered') v.answered++;
    else if (verdict === 'forwarded') v.forwarded++;
    else if (verdict === 'dropped') v.dropped++;
    else v[verdict]++;
  };
  // The first frame's time and the last simulated time, in a typed array: as `let`s captured by the closure below,
  // each store of a fractional millisecond count boxed a number (two allocations per record).
  const times = new Float64Array(2);
  const T0 = 0;
  const LAST = 1;
  let started = false;
  const onRecord = (rec: CaptureCursor): void => {
    summary.framesRead++;
    if (options.onProgress && (summary.framesRead & 1023) === 0) options.onProgress(summary.framesRead, rec.fileOffset);
    const buf = rec.buffer;
    const at = rec.dataOffset;
    const length = rec.captureLength;
    const ms = rec.seconds * 1000 + rec.nanos / 1e6;
    if (!started) {
      started = true;
      times[T0] = ms;
      if (outputs) outputs.setEpoch(BigInt(rec.seconds) * 1_000_000_000n + BigInt(rec.nanos));
    }
    // Capture timestamps may step back a little (several interfaces); simulated time never does.
    // A timestamp the simulation cannot represent (a pcapng with second resolution and a 64-bit count can say
    // 10^19 s) enters at the previous frame's time, counted.
    let rel = ms - times[T0]!;
    if (!(rel <= Number.MAX_SAFE_INTEGER)) {
      summary.timestampsClamped++;
      rel = times[LAST]!;
    }
    const now = Math.max(times[LAST]!, rel);
    times[LAST] = now;
    const skip = rec.linktype !== 1 ? 'not Ethernet' : !options.includeClusterFrames && sim.fromClusterAt(buf, at, length) ? 'sent by the cluster' : undefined;
    if (skip) {
      if (skip === 'not Ethernet') summary.skippedNotEthernet++;
      else summary.skippedFromCluster++;
      summary.verdicts.skipped++;
      if (tracing) record({ index: summary.framesRead, time: now, ingress, flow: skip, stages: [], verdict: 'skipped', drops: [], emitted: [] });
      if (summaryLines) writeSummaryLine(outputs!.trace!, summary.framesRead, now, ingress, skip, SKIPPED);
      return;
    }
    countFlow(buf, at, length);
    summary.injected++;
    let bin = Math.floor(now / summary.timelineBinMs);
    if (bin >= TIMELINE_BINS) {
      widenTimeline(now);
      bin = Math.floor(now / summary.timelineBinMs);
    }
    // Counted here rather than in a function of `now`: a fractional time passed to a call is boxed.
    const tl = summary.timeline;
    while (tl.length <= bin) tl.push(0);
    tl[bin]!++;
    if (!tracing && !summaryLines && ingress === 'outside') {
      // The hot path: no trace wanted, so established flows come from the flow cache; the frame is handed
      // where it lies.
      countVerdict(sim.processAt(buf, at, length, now));
      return;
    }
    const background = sim.advance(now);
    if (background.stages.length || background.outside.length) {
      if (tracing) record({ ...traceLine(0, now, 'cluster', new Uint8Array(0), background), flow: 'sent by the cluster on its own (gratuitous ARP/NA)' });
      if (summaryLines) writeSummaryLine(outputs!.trace!, 0, now, 'cluster', 'sent by the cluster on its own (gratuitous ARP/NA)', background);
      for (const out of background.outside) toClient(out);
    }
    // Traced lines are kept (record), summary lines are written at once: their result can be the reused one.
    // A traced frame is kept (its bytes in the trace): a view of it; a summary line's is read where it lies.
    const frame = tracing ? buf.subarray(at, at + length) : undefined;
    const result: InjectResult = frame ? sim.inject(frame, now, ingress) : sim.injectTransientAt(buf, at, length, now, ingress);
    countVerdict(result.verdict);
    if (frame) record(traceLine(summary.framesRead, now, ingress, frame, result));
    if (summaryLines) writeSummaryLine(outputs!.trace!, summary.framesRead, now, ingress, undefined, result);
    for (const out of result.outside) toClient(out);
  };
  try {
    await scanCapture(source, onRecord, { onError: options.onError ?? 'stop' });
  } catch (e) {
    finishSummary(summary, sim, flows);
    summarizeClients(summary, byClient, byClient6);
    if (e instanceof TruncatedCaptureError) {
      // A capture that stops mid-record (a cut file, a stream that ended) still tells what it held: the frames
      // so far are summarised and written. The error still reaches the caller, with what was done.
      await publish().catch(() => undefined);
    } else {
      // Anything else leaves earlier outputs as they were: nothing is renamed over them.
      for (const sink of sinks) sink.abort();
    }
    if (e instanceof VippathError) (e as VippathError & { partial?: ReplaySummary }).partial = summary;
    throw e;
  }
  finishSummary(summary, sim, flows);
  summarizeClients(summary, byClient, byClient6);
  await publish();
  return { summary, sim, ...(traces ? { traces } : {}) };

  /**
   * Finishes every output into its temporary, then renames them all: a run publishes its outputs together or
   * not at all (never new pcapngs beside an old summary). The summary's text is made before any rename.
   */
  async function publish(): Promise<void> {
    try {
      if (outputs) await outputs.finish(`${JSON.stringify(summary, null, 2)}\n`);
      if (options.report) sinks.push(await writeReport(options.report, sim, summary, spill!, source));
      // The spill was read into the report: it goes, never published.
      spill?.sink.abort();
      for (const sink of sinks) sink.commit();
      // What this run does not write must not stay from an earlier one beside what it did.
      if (outDir) for (const name of outputs!.unwritten) rmSync(join(outDir, name), { force: true });
    } catch (e) {
      for (const sink of sinks) sink.abort();
      throw e;
    }
  }
}

/** The file a path names once its directory's symbolic links are resolved (the file need not exist). */
function canonical(path: string): string {
  const abs = resolve(path);
  try {
    return join(realpathSync(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

/**
 * Checks the outputs of a run before it starts, and makes `outDir`: each output must be a regular file or
 * absent (not a directory, FIFO or device), none may be the capture or another input (same file by device and
 * inode, or by resolved path), and no two outputs may be the same file. Returns `outDir`.
 */
function prepareOutputs(source: CaptureSource, options: ReplayOptions): string | undefined {
  const outDir = options.outDir;
  const files: Array<[string, string]> = [];
  if (outDir) {
    try {
      if (!statSync(outDir).isDirectory()) throw new OutputError(outDir, 'it exists and is not a directory; --out takes a directory');
    } catch (e) {
      if (e instanceof OutputError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputError(outDir, describeFileError(e), { cause: e });
    }
    for (const name of OUT_FILES) files.push([join(outDir, name), `--out ${name}`]);
  }
  if (options.report) files.push([options.report, 'the report']);
  const inputs = [...(typeof source === 'string' && source !== '-' ? [source] : []), ...(options.inputs ?? []).filter((f) => f !== '-')];
  const inputIds = inputs.flatMap((f) => {
    try {
      const st = statSync(f);
      return [{ f, dev: st.dev, ino: st.ino, path: canonical(f) }];
    } catch {
      return [{ f, dev: -1, ino: -1, path: canonical(f) }];
    }
  });
  const seen = new Map<string, string>();
  for (const [path] of files) {
    checkOutputPath(path);
    const c = canonical(path);
    let st: { dev: number; ino: number } | undefined;
    try {
      st = statSync(path);
    } catch {
      st = undefined;
    }
    for (const i of inputIds) {
      if (c === i.path || (st && st.dev === i.dev && st.ino === i.ino)) throw new OutputError(path, `it is ${i.f}, an input of this run; vippath never writes over what it reads`);
    }
    const other = seen.get(c);
    if (other !== undefined) throw new OutputError(path, `it is also ${other}: two outputs of one run cannot be the same file`);
    seen.set(c, path);
  }
  if (outDir) {
    try {
      mkdirSync(outDir, { recursive: true });
    } catch (e) {
      throw new OutputError(outDir, `cannot make the directory: ${describeFileError(e)}`, { cause: e });
    }
  }
  return outDir;
}

/** What `outDir` holds after a run. */
const OUT_FILES = ['wire.pcapng', 'nodes.pcapng', 'trace.jsonl', 'summary.json'] as const;

/** The topology as the report draws it. */
export function reportTopology(sim: SimulatedCluster): ReportTopology {
  const subnet = sim.objects.find((o) => o.kind === 'Subnet')?.metadata.name ?? 'underlay-subnet';
  return {
    vlan: sim.cluster.vlan, subnet, client: sim.cluster.client,
    nodes: sim.cluster.nodes.map((n) => ({ name: n.name, nic: n.nic, mac: n.mac, pods: sim.state.pods.filter((p) => p.node === n.name).map((p) => ({ name: p.name, ip: p.ip, ready: p.ready })), down: sim.down.has(n.name) })),
    services: sim.state.services.map((s) => ({ name: s.name, ingress: s.ingress, owners: dictOf(s.ingress.map((ip) => [ip, sim.state.metallb.announcers(ip)] as const)) })),
  };
}

/** The report's trace lines, serialised into a temporary as they come (see {@link replayCapture}). */
class TraceSpill implements StreamedTraces {
  readonly sink: FileSink;
  lines = 0;
  frames = 0;
  readonly injectedTimes: number[] = [];
  constructor(report: string) {
    this.sink = fileSink(report, { commitOnClose: false });
  }

  add(line: TraceLine): void {
    this.sink.write(encoder.encode(this.lines++ ? `,${scriptJson(line)}` : scriptJson(line)));
    if (line.index > 0) {
      this.frames++;
      // Past a million the report draws the summary's bounded timeline instead (a shorter list says so).
      if (line.verdict !== 'skipped' && this.injectedTimes.length < 1_000_000) this.injectedTimes.push(line.time);
    }
  }

  /** Copies the serialised lines out, 1 MB at a time (after `sink.close()`). */
  writeJson(write: (text: string) => void): void {
    const fd = openSync(this.sink.temporary, 'r');
    try {
      const buf = new Uint8Array(1 << 20);
      const decoder = new TextDecoder();
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) write(decoder.decode(buf.subarray(0, n), { stream: true }));
      write(decoder.decode());
    } finally {
      closeSync(fd);
    }
  }
}

async function writeReport(path: string, sim: SimulatedCluster, summary: ReplaySummary, spill: TraceSpill, source: CaptureSource): Promise<FileSink> {
  await spill.sink.close();
  const input = {
    title: 'vippath replay',
    ...(typeof source === 'string' ? { capture: source === '-' ? 'standard input' : basename(source) } : {}),
    topology: reportTopology(sim), summary, traces: [], streamedTraces: spill,
  };
  const sink = fileSink(path, { commitOnClose: false });
  try {
    // Streamed through the sink's buffer: no string of the whole page.
    renderReportTo(input, (text) => sink.write(encoder.encode(text)));
    await sink.close();
  } catch (e) {
    sink.abort();
    throw e;
  }
  return sink;
}

/** How many entries the summary's top lists hold. */
export const TOP_N = 10;

/** The `n` entries with the largest counts, largest first (ties in first-seen order). */
export function topN<K>(counts: Iterable<readonly [K, number]>, n: number): Array<[K, number]> {
  const top: Array<[K, number]> = [];
  for (const [k, c] of counts) {
    if (top.length === n && c <= top[n - 1]![1]) continue;
    let i = top.length;
    while (i > 0 && top[i - 1]![1] < c) i--;
    top.splice(i, 0, [k, c]);
    if (top.length > n) top.pop();
  }
  return top;
}

/** Whether one of `addresses` (16 bytes each) lies at `buf[at, at + 16)`. */
function anyAt(addresses: readonly Uint8Array[], buf: Uint8Array, at: number): boolean {
  next: for (const a of addresses) {
    for (let i = 0; i < 16; i++) if (buf[at + i] !== a[i]) continue next;
    return true;
  }
  return false;
}

/** Client addresses counted at most, per family (flow-count.ts: 12 bytes an IPv4 address, 24 an IPv6 one — those
 * arrays made on the first IPv6 client —, plus the slots). */
export const CLIENT_LIMIT = 100_000;

function summarizeClients(summary: ReplaySummary, byClient: AddressCounter, byClient6: Address6Counter): void {
  // Each family's own top list, then the top of both (IPv4 first on ties): only those addresses become text.
  const top = topN<string>([
    ...topN(byClient.entries(), TOP_N).map(([ip, frames]) => [formatIPv4(ip), frames] as const),
    ...topN(byClient6.entries(), TOP_N).map(([i, frames]) => [byClient6.format(i), frames] as const),
  ], TOP_N);
  const capped = byClient.capped || byClient6.capped;
  summary.clients = { addresses: byClient.size + byClient6.size, ...(capped ? { addressesCapped: true } : {}), top: top.map(([address, frames]) => ({ address, frames })) };
}

function finishSummary(summary: ReplaySummary, sim: SimulatedCluster, flows: FlowCounter): void {
  summary.flows = flows.count;
  summary.flowsCapped = flows.capped;
  for (const p of sim.pods.values()) {
    if (p.requests) summary.servedBy[p.pod.name] = { node: p.pod.node, requests: p.requests, clients: [...p.clients.keys()], ...(p.otherClientRequests ? { otherClientRequests: p.otherClientRequests } : {}) };
  }
  for (const [pod, n] of sim.backendCounts) {
    const node = sim.pod(pod)!.pod.node;
    (summary.backends[node] ??= dict())[pod] = n;
  }
  summary.drops = dict();
  summary.dropCodes = dict();
  for (const [code, n] of sim.dropCounts) {
    summary.drops[DROP_KEY[code]] = (summary.drops[DROP_KEY[code]] ?? 0) + n;
    summary.dropCodes[code] = n;
  }
  summary.edges = sim.edges();
  summary.services = sim.state.services.map((s) => ({ name: s.name, ingress: s.ingress, owners: dictOf(s.ingress.map((ip) => [ip, sim.state.metallb.announcers(ip)] as const)) }));
  summary.events = sim.timeline();
}

const SKIPPED: Pick<InjectResult, 'verdict' | 'outside' | 'delivered' | 'drops'> = { verdict: 'skipped', outside: [], delivered: [], drops: [] };

function openOutputs(dir: string, sim: SimulatedCluster, level: TraceLevel, ports: readonly string[]): { trace: LineWriter | undefined; unwritten: string[]; setEpoch(ns: bigint): void; sinks: FileSink[]; finish(summaryJson: string): Promise<void> } {
  const nodes = sim.cluster.nodes;
  const wireIfaces = ['outside', ...nodes.map((n) => n.name)];
  const sinks: FileSink[] = [];
  const open = (name: string): FileSink => {
    try {
      const sink = fileSink(join(dir, name), { commitOnClose: false });
      sinks.push(sink);
      return sink;
    } catch (e) {
      for (const s of sinks) s.abort();
      throw e;
    }
  };
  const wire = new PcapngWriter(open('wire.pcapng'), wireIfaces.map((n) => ({ name: n === 'outside' ? 'outside' : `${n}/${nodes.find((x) => x.name === n)!.nic}` })));
  const podPorts = new Set(sim.state.pods.map((p) => `${p.node}/${p.name}`));
  const selected = portSelector(ports, podPorts);
  const portNames = sim.portNames().filter(selected);
  const portIndex = new Map(portNames.map((n, i) => [n, i]));
  // No port selected: no nodes.pcapng (an empty one would say the ports saw nothing).
  const nodePcap = portNames.length ? new PcapngWriter(open('nodes.pcapng'), portNames.map((name) => ({ name }))) : undefined;
  const trace = level === 'none' ? undefined : new LineWriter(open('trace.jsonl'));
  const summarySink = open('summary.json');
  const out = {
    trace,
    unwritten: [...(nodePcap ? [] : ['nodes.pcapng']), ...(trace ? [] : ['trace.jsonl'])],
    setEpoch(ns: bigint): void {
      epoch[0] = Number(BigInt.asUintN(32, ns >> 32n));
      epoch[1] = Number(BigInt.asUintN(32, ns));
      stamped[0] = Number.NaN;
    },
    sinks,
    async finish(summaryJson: string): Promise<void> {
      await wire.close();
      await nodePcap?.close();
      await trace?.close();
      summarySink.write(encoder.encode(summaryJson));
      await summarySink.close();
    },
  };
  // A packet's time is the first record's (epoch, as its two 32-bit words) plus its simulated milliseconds in
  // whole nanoseconds, modulo 2^64 as pcapng stores it — the words computed per packet without a BigInt or a
  // record object (see PcapngWriter.writePacket).
  const epoch = new Uint32Array(2);
  // The words of the last time stamped, and that time (ms): a frame's packets share its time.
  const words = new Uint32Array(2);
  const stamped = new Float64Array(1).fill(Number.NaN);
  const stamp = (now: number): void => {
    if (now === stamped[0]) return;
    stamped[0] = now;
    addNanoseconds(words, epoch[0]!, epoch[1]!, Math.round(now * 1e6));
  };
  // The wire's interfaces are the outside and the nodes: few, and named by the datapath's own strings, so compared
  // in turn (equal pointers at once) rather than hashed per packet.
  const wireIndex = new Map(wireIfaces.map((n, i) => [n, i]));
  const wireNames = wireIfaces.length <= 8 ? wireIfaces : undefined;
  const wireId = (from: string): number => {
    if (wireNames !== undefined) {
      for (let i = 0; i < wireNames.length; i++) if (wireNames[i] === from) return i;
      return -1;
    }
    return wireIndex.get(from) ?? -1;
  };
  sim.onWire = (from, frame, now) => {
    stamp(now);
    wire.writePacket(wireId(from), words[0]!, words[1]!, frame, 0, frame.length);
  };
  if (nodePcap) {
    sim.onPort = (port, frame, now) => {
      const id = portIndex.get(port);
      if (id === undefined) return;
      stamp(now);
      nodePcap.writePacket(id, words[0]!, words[1]!, frame, 0, frame.length);
    };
  }
  return out;
}
