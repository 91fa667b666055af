/**
 * The pods of the default workload as the network sees them: agnhost `netexec --http-port 80`. Enough of a
 * host to answer what the simulation sends: ARP for its own address, a TCP listener on its port that completes
 * handshakes (SYN → SYN-ACK), acknowledges data, answers `GET /clientip` with the `ip:port` it saw and
 * `/hostname` with its name and closes, and answers the rest of the connection as Linux's TCP would (checked against
 * a kernel by test/linux-tcp.test.ts); everything it receives is in its access log.
 *
 * The answers are on the replay's hot path (every handshake, request and close of a capture), so they are
 * written byte by byte into reused buffers (an answer's first frame into one module-level buffer every pod shares,
 * the second into the pod's own): the pod's addresses are bytes and numbers resolved
 * once, the peer's are copied from the request, checksums are summed in place, connections live in a table of
 * typed arrays, and the access log keeps bytes — its strings are made only when someone reads it.
 */
import { DecodedFrame, FrameDecoder, formatIPv4, formatIPv6, internetChecksum as internetChecksumImport, L3 as L3Import, parseIPv4, parseIPv6, parseMac, pseudoHeaderSumV6 as pseudoHeaderSumV6Import, readPlainTcp4Segment as readPlainTcp4SegmentImport, readIPv4 as readIPv4Import, sumWords as sumWordsImport, untaggedTcp4Decode, writeIPv4 as writeIPv4Import, writeIPv4Text, writeIPv6Text } from '@vippath/wire';
import type { PodState } from './derive.js';
import { DROP_TEXT, type PodIgnore } from './drops.js';
import { keptView as keptViewImport } from './copy-in.js';
import { AddressPortTable } from './lru.js';

// Imports used per frame bound to module constants, which TurboFan folds (an enum object's fields and a number
// become immediates, a function is called or inlined without a check), where every use of an import loads its
// binding's cell and checks it (bench/README "Imports bound in the cluster's hops (session 34)"; executor.ts and
// ct/engine.ts do the same).
const internetChecksum = internetChecksumImport;
const L3 = L3Import;
const pseudoHeaderSumV6 = pseudoHeaderSumV6Import;
const readPlainTcp4Segment = readPlainTcp4SegmentImport;
const readIPv4 = readIPv4Import;
const sumWords = sumWordsImport;
const writeIPv4 = writeIPv4Import;
const keptView = keptViewImport;

/** What a pod saw (the seed's "access log" check: the client IP must be the real one). */
export interface AccessLogEntry {
  time: number;
  client: string;
  path: string;
}

/**
 * Bounds of a pod's access log: the newest entries kept, distinct client addresses counted by name, and the
 * characters of a path kept — a replay of millions of requests (or of 1 KB paths) must not grow memory with it.
 * Every request is still counted ({@link PodHost.requests}).
 */
export const ACCESS_LOG_LIMITS = { entries: 1000, clients: 256, pathChars: 256 } as const;

/** No frames in answer: shared, and frozen so that no caller can add to it. */
const NO_FRAMES: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;
const PSH = 0x08;

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
/** The response around its body, agnhost's (Go net/http with `Connection: close`). */
const RESPONSE_HEAD = latin1('HTTP/1.1 200 OK\r\nContent-Length: ');
const RESPONSE_MID = latin1('\r\nConnection: close\r\n\r\n');
const NOW_BODY = latin1('NOW: simulated');
/** {@link NOW_BODY}'s words, read four bytes at a time into the shared first reply (see PodHost.writeResponse0). */
const NOW_BODY_VIEW = new DataView(NOW_BODY.buffer, NOW_BODY.byteOffset, NOW_BODY.byteLength);
/** The response's bytes before a body of each length (its headers, the length among them), made once per length. */
const RESPONSE_HEADS = new Array<Uint8Array | undefined>(4096);
/**
 * The sum of each of {@link RESPONSE_HEADS}' 16-bit words (the TCP checksum adds it instead of reading the head back).
 * Int32: a head's sum is under 2^21, and a Float64Array's element made writeResponse0's sum, and tcp4's checksum after
 * it, double arithmetic (≈ 80 instructions a response in bench/pod-loop.mjs: tcp4 and its caller).
 */
const RESPONSE_HEAD_SUMS = new Int32Array(RESPONSE_HEADS.length);

/**
 * {@link RESPONSE_HEAD}, the body's length in decimal, {@link RESPONSE_MID}: one array, copied into a reply with one
 * set() (a byte loop over its ≈ 60 bytes cost more than the builtin's call).
 */
function responseHead(bodyLen: number): Uint8Array {
  let h = bodyLen < RESPONSE_HEADS.length ? RESPONSE_HEADS[bodyLen] : undefined;
  if (h === undefined) {
    h = new Uint8Array(RESPONSE_HEAD.length + decimalDigits(bodyLen) + RESPONSE_MID.length);
    h.set(RESPONSE_HEAD);
    const n = writeDecimal(h, RESPONSE_HEAD.length, bodyLen);
    h.set(RESPONSE_MID, n);
    if (bodyLen < RESPONSE_HEADS.length) {
      RESPONSE_HEADS[bodyLen] = h;
      RESPONSE_HEAD_SUMS[bodyLen] = sumWords(h, 0, h.length);
    }
  }
  return h;
}

/** ff02::1, all nodes (a DAD probe's answer goes there). */
const ALL_NODES = parseIPv6('ff02::1');
/** Views of reply buffers are kept per length up to this (a frame of another length gets a view of its own). */
const VIEW_CACHE = 2048;

const writeU32 = (f: Uint8Array, at: number, v: number): void => {
  f[at] = v >>> 24;
  f[at + 1] = (v >>> 16) & 0xff;
  f[at + 2] = (v >>> 8) & 0xff;
  f[at + 3] = v & 0xff;
};

const copy = (to: Uint8Array, at: number, from: Uint8Array, fromAt: number, n: number): void => {
  for (let i = 0; i < n; i++) to[at + i] = from[fromAt + i]!;
};

/** Whether the 16 bytes at `at` in `f` are `addr`. */
const equal16 = (f: Uint8Array, at: number, addr: Uint8Array): boolean => {
  for (let i = 0; i < 16; i++) if (f[at + i] !== addr[i]) return false;
  return true;
};

/**
 * Whether the `n` bytes at `f[at…]` are `/clientip` (then 1) or `/hostname` (2), else 0: agnhost's two paths that
 * answer other than `NOW:`, compared with constants, both nine bytes (a loop over an array of the path cost ≈ 20
 * instructions a byte: bench/README, "The pods' request line and answers' numbers (session 40)").
 */
const knownPath = (f: Uint8Array, at: number, n: number): number => {
  if (n !== 9 || f[at] !== 47) return 0;
  const c = f[at + 1];
  if (c === 99) return f[at + 2] === 108 && f[at + 3] === 105 && f[at + 4] === 101 && f[at + 5] === 110 && f[at + 6] === 116 && f[at + 7] === 105 && f[at + 8] === 112 ? 1 : 0;
  if (c === 104) return f[at + 2] === 111 && f[at + 3] === 115 && f[at + 4] === 116 && f[at + 5] === 110 && f[at + 6] === 97 && f[at + 7] === 109 && f[at + 8] === 101 ? 2 : 0;
  return 0;
};

/** JavaScript's `\s` within latin1: tab, LF, VT, FF, CR, space, no-break space. */
const isSpace = (b: number): boolean => {
  return b > 32 ? b === 0xa0 : (b >= 9 && b <= 13) || b === 32;
};

/**
 * The target's length when `len` bytes at `at` start with an HTTP/1.x GET's request line (`GET <target>
 * HTTP/1.0|1.1\r\n`, the target a run of non-space), 0 when they do not; a target {@link knownPath} names is
 * answered as minus its code (its length is 9). The target starts at `at + 4`. Once per request: a target's bytes are
 * nearly all above the space, so isSpace tests them with one or two compares; the version's bytes are compared with
 * constants, not read from an array (bench/README, "The pods' request line and answers' numbers (session 40)").
 */
const getTarget = (f: Uint8Array, at: number, len: number): number => {
  const end = at + len;
  if (len < 4 || f[at] !== 71 || f[at + 1] !== 69 || f[at + 2] !== 84 || f[at + 3] !== 32) return 0;
  let i = at + 4;
  // A nine-byte target first (agnhost's /clientip and /hostname), its bytes and the space after it compared written
  // out: where they are, the loop stops at the same place; the loop cost ≈ 25 instructions a byte (TurboFan checks the
  // array's map and reloads its length and base every turn). The two paths first: their bytes are not spaces, and the
  // answer needs their code (answerGet compared the same nine bytes a second time for it).
  let known = 0;
  if (i + 9 < end && f[i + 9] === 32 && ((known = knownPath(f, i, 9)) !== 0 || (isSpace(f[i]!) === false && isSpace(f[i + 1]!) === false && isSpace(f[i + 2]!) === false && isSpace(f[i + 3]!) === false && isSpace(f[i + 4]!) === false && isSpace(f[i + 5]!) === false && isSpace(f[i + 6]!) === false && isSpace(f[i + 7]!) === false && isSpace(f[i + 8]!) === false))) i += 9;
  else while (i < end && isSpace(f[i]!) === false) i++;
  const n = i - (at + 4);
  if (n === 0 || i + 11 > end) return 0;
  // ' HTTP/1.'
  if (f[i] !== 32 || f[i + 1] !== 72 || f[i + 2] !== 84 || f[i + 3] !== 84 || f[i + 4] !== 80 || f[i + 5] !== 47 || f[i + 6] !== 49 || f[i + 7] !== 46) return 0;
  const minor = f[i + 8];
  return (minor === 48 || minor === 49) && f[i + 9] === 13 && f[i + 10] === 10 ? (known !== 0 ? -known : n) : 0;
};

/**
 * The digits of `n`, a non-negative integer below 2^31 (a port, a body's length). Compares, and int32 division in
 * writeDecimal, not a loop of float divisions: tcpConn's code (which inlines the request's answer) shrinks enough for
 * V8 to inline the path's comparison into it (bench/README, "The pods' digits and decode (session 36)").
 */
const decimalDigits = (n: number): number => {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
};

/** `n` (as {@link decimalDigits}) in decimal at `f[at…]`; returns the end. */
const writeDecimal = (f: Uint8Array, at: number, n: number): number => {
  const d = decimalDigits(n);
  for (let i = at + d - 1; i >= at; i--) {
    const q = (n / 10) | 0;
    f[i] = 48 + n - q * 10;
    n = q;
  }
  return at + d;
};

/**
 * The initial sequence number of a connection from `peer` (uint32, or an IPv6 source's low 32 bits) `:port`: a
 * hash of the connection over all 32 bits, as Linux's are (RFC 6528 §3: ISN = M + F(4-tuple, secret); net/core/
 * secure_seq.c `secure_tcp_seq`, a siphash of the addresses and ports plus a 64 ns clock, a u32). Derived from the
 * connection alone, without the secret and the clock, so that replays are deterministic. Being 32 bits, half the
 * pods' sequence numbers are ≥ 2^31 and some connections wrap past 2^32, as on a real node (until session 16 the
 * rule kept 31 bits, and neither was ever exercised).
 */
const podIsn = (peer: number, port: number): number => {
  return Math.imul(peer ^ (port << 16), 0x9e3779b1) >>> 0;
};

// A connection's state (its table's `c` column): which socket Linux would have for it, agnhost closing its side as
// soon as it has answered. What each answers is tcpConn's.
/** The SYN answered, its SYN-ACK not acknowledged: Linux's request socket (tcp_check_req). */
const SYN_RECEIVED = 0;
const ESTABLISHED = 1;
/** The answer sent with the pod's FIN, which is not acknowledged yet. */
const FIN_WAIT_1 = 2;
/**
 * The pod's FIN acknowledged: agnhost's socket is closed, so Linux has replaced it with a time-wait socket in its
 * FIN-WAIT-2 substate (tcp_time_wait), which answers by tcp_timewait_state_process's rules, not a socket's.
 */
const FIN_WAIT_2 = 3;
/** The client closed first; agnhost, reading the end of its stream, closed too: its FIN is not acknowledged yet. */
const LAST_ACK = 4;

/**
 * The window every segment of the pod offers, and the one it accepts sequence numbers in (Linux's depends on its
 * buffers and scaling: not modelled; it starts at 64240 for a 1460-byte MSS).
 */
const WINDOW = 65535;

/**
 * A pod's reply buffer for the second frame of an answer (the first's is {@link REPLY0}), and for both frames the
 * decode of a TCP/IPv4 reply written into it: fields of one object, read and written per reply, where a typed array
 * or an array per property indexed by the buffer's number cost a load of its base, length and bounds each time
 * (bench/README, "The pods' replies: one buffer for every pod's first frame (session 41)").
 */
class ReplyBuffer {
  bytes: Uint8Array;
  /** Exact-length views of {@link bytes}, by length (copy-in.ts keptView). */
  views: Array<Uint8Array | undefined> = [];
  /**
   * Its TCP/IPv4 reply's decode as decodePlainTcp4 (@vippath/wire) would write it, from the values tcp4 wrote (the
   * fields every such reply of this pod shares written once, here): handed to the OVN switch with the reply
   * ({@link PodHost.replyDecode}), which then decodes nothing (bench/README "Frames handed to the switch with their
   * decode (session 38)").
   */
  readonly decode: DecodedFrame;
  constructor(ip: number, size: number) {
    this.bytes = new Uint8Array(size);
    this.decode = tcp4ReplyDecode(ip);
  }
}

/**
 * The first frame of every pod's answers (nearly all answers are one frame): one module-level array for all the pods
 * of the process, so that TurboFan takes its address and length as constants — a byte stored at a constant offset is
 * one instruction, where a store into a view handed in is a bounds check and a store (bench/README, "The pods'
 * replies: one buffer for every pod's first frame (session 41)"). An answer longer than it gets a new array.
 */
const REPLY0_BYTES = 4096;
const REPLY0 = new Uint8Array(REPLY0_BYTES);
/**
 * {@link REPLY0} as big-endian words, for tcp4's fields that vary: a module constant too, so that TurboFan folds its
 * bounds checks at constant offsets, and a field is one byte-swap and one store, where byte stores cost a shift and a
 * store each. The values handed to it are int32 expressions (`| 0`): a tagged number is converted through a double by
 * DataView's set (a Smi check, a conversion and its check back, ≈ 8 instructions a field in tcp4's code), and with that
 * the words cost more than the bytes (bench/README "The pods' destination check and template fields as words (session
 * 48)").
 */
const REPLY0_VIEW = new DataView(REPLY0.buffer, 0, REPLY0_BYTES);
/** Exact-length views of {@link REPLY0}, by length. */
const REPLY0_VIEWS: Array<Uint8Array | undefined> = [];

/** What {@link REPLY0} holds, for every pod: written by the pods' take() and tcp4 only. */
class SharedReply {
  /** While a pod's answer in it is held (until its release): an answer of any pod asked for meanwhile gets new frames. */
  held = false;
  /**
   * While it holds the constant bytes of a TCP/IPv4 reply (the EtherType, the IPv4 header's fixed bytes, the TCP
   * header's urgent pointer) and the source MAC and address of pod {@link owner}, written by the last tcp4 into it.
   * take() clears the mark (any reply may write any byte); tcp4 sets it after writing them. A reply into a marked
   * buffer writes only the bytes that vary, and the pod's own when another pod's are there (bench/README, "An http
   * frame by stage; the pods' replies from a template (session 25)").
   */
  ready = false;
  /** The {@link PodHost}'s number whose MAC and address the template holds (while {@link ready}). */
  owner = 0;
  /**
   * The body length + 1 of the response head at byte 54 (a TCP/IPv4 response's), 0 for none. A TCP/IPv4 reply without
   * payload writes bytes 0–53 only and leaves it; every other reply clears it (take()).
   */
  head = 0;
}
const reply0 = new SharedReply();
/** The PodHosts made: each its number, for {@link SharedReply.owner}. */
let podsMade = 0;

/**
 * The request sockets (SYN-RECEIVED connections) a listener holds before it answers SYNs with cookies instead:
 * agnhost's listen(2) backlog, which Go takes from net.core.somaxconn (4 096 since Linux 5.4). Linux (tcp_conn_request,
 * net/ipv4/tcp_input.c) answers a SYN with a cookie, keeping nothing, once the queue holds more than the backlog
 * (inet_csk_reqsk_queue_is_full: `>` since the netdev change of 2025-01 "tcp/dccp: allow a connection when
 * sk_max_ack_backlog is zero", `>=` before) and net.ipv4.tcp_syncookies is 1, its default.
 */
const SYN_BACKLOG = 4096;

/**
 * How long after the listener last overflowed it takes a cookie back (tcp_synq_no_recent_overflow:
 * TCP_SYNCOOKIE_VALID, two minutes), in ms; the overflow's time is moved on at most once a second (tcp_synq_overflow).
 */
const COOKIE_VALID_MS = 120_000;

/**
 * A decode of a TCP/IPv4 reply from a pod of address `ip` (PodHost's tcp4: untagged, no IP options, DF, TTL 64, TOS 0,
 * a TCP header without options): the fields decodePlainTcp4 (@vippath/wire) writes that every such reply shares, with
 * the values it reads; tcp4 writes the rest per reply.
 */
function tcp4ReplyDecode(ip: number): DecodedFrame {
  const d = untaggedTcp4Decode();
  d.ipSrc = ip >>> 0;
  d.ipTos = 0;
  d.ipTtl = 64;
  d.payloadOffset = 54;
  return d;
}

/** The one's complement of a folded 32-bit sum of 16-bit words. */
const complement = (sum: number): number => {
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
};

// The log's bounds as module constants: folded into add()'s offsets, not loaded from the instance per request.
const LOG_CAP = ACCESS_LOG_LIMITS.entries;
const LOG_CHARS = ACCESS_LOG_LIMITS.pathChars;
// An entry's path length word also says whether the path was cut and whether the address is IPv6 (one store, one
// array, instead of three): the length is at most LOG_CHARS (256), under the flag bits. A path knownPath names is
// kept as its code in the word (KNOWN_PATHS[code]), its bytes not copied: a replay's requests are nearly all one.
const LOG_CUT = 0x8000;
const LOG_V6 = 0x4000;
const LOG_KNOWN_SHIFT = 12;
const LOG_KNOWN = 0x3000;
const LOG_LEN = 0x0fff;
const KNOWN_PATHS = ['', '/clientip', '/hostname'];

/**
 * The access log's entries as bytes in a ring: the newest {@link ACCESS_LOG_LIMITS}.entries requests, made
 * into {@link AccessLogEntry} objects only when read (a replay's million requests write bytes, not strings).
 */
class AccessLog {
  private n = 0;
  private next = 0;
  // Made at the first request: most pods of a replay serve nothing.
  private time: Float64Array | undefined;
  private addr = new Uint8Array(0);
  private port = new Uint16Array(0);
  private pathLen = new Uint16Array(0);
  private path = new Uint8Array(0);
  private read: AccessLogEntry[] | undefined = [];

  /**
   * A request at `time` from the address at `src[srcAt…]` (4 or 16 bytes) and `port`, for the target at `f[at…at+len)`,
   * which is knownPath's path `known` when that is not 0.
   */
  add(time: number, src: Uint8Array, srcAt: number, v6: boolean, port: number, f: Uint8Array, at: number, len: number, known: number): void {
    const t = this.time ?? this.alloc();
    const i = this.next;
    t[i] = time;
    const a = this.addr;
    const ai = i * 16;
    if (v6) for (let k = 0; k < 16; k++) a[ai + k] = src[srcAt + k]!;
    else {
      a[ai] = src[srcAt]!;
      a[ai + 1] = src[srcAt + 1]!;
      a[ai + 2] = src[srcAt + 2]!;
      a[ai + 3] = src[srcAt + 3]!;
    }
    this.port[i] = port;
    if (known !== 0) this.pathLen[i] = (known << LOG_KNOWN_SHIFT) | (v6 ? LOG_V6 : 0);
    else {
      const kept = len > LOG_CHARS ? LOG_CHARS : len;
      const p = this.path;
      const pi = i * LOG_CHARS;
      for (let k = 0; k < kept; k++) p[pi + k] = f[at + k]!;
      this.pathLen[i] = kept | (len > LOG_CHARS ? LOG_CUT : 0) | (v6 ? LOG_V6 : 0);
    }
    this.next = i + 1 === LOG_CAP ? 0 : i + 1;
    if (this.n < LOG_CAP) this.n++;
    this.read = undefined;
  }

  private alloc(): Float64Array {
    this.addr = new Uint8Array(LOG_CAP * 16);
    this.port = new Uint16Array(LOG_CAP);
    this.pathLen = new Uint16Array(LOG_CAP);
    this.path = new Uint8Array(LOG_CAP * LOG_CHARS);
    return (this.time = new Float64Array(LOG_CAP));
  }

  /** The entries, oldest first (the same array until the next request). */
  entries(): AccessLogEntry[] {
    if (this.read) return this.read;
    const out: AccessLogEntry[] = [];
    for (let k = 0; k < this.n; k++) {
      const i = (this.next - this.n + k + LOG_CAP) % LOG_CAP;
      const w = this.pathLen[i]!;
      const host = w & LOG_V6 ? `[${formatIPv6(this.addr, i * 16)}]` : formatIPv4(readIPv4(this.addr, i * 16));
      const path = w & LOG_KNOWN ? KNOWN_PATHS[(w & LOG_KNOWN) >> LOG_KNOWN_SHIFT]! : Buffer.from(this.path.buffer, this.path.byteOffset + i * LOG_CHARS, w & LOG_LEN).toString('latin1');
      out.push({ time: this.time![i]!, client: `${host}:${this.port[i]}`, path: w & LOG_CUT ? `${path}…` : path });
    }
    return (this.read = out);
  }
}

/** One pod's network stack. */
export class PodHost {
  /** Every request served, also those no longer in {@link log}. */
  requests = 0;
  /** Requests from addresses beyond {@link ACCESS_LOG_LIMITS}.clients distinct ones. */
  otherClientRequests = 0;
  /** Bumped whenever a connection opens or closes (a flow cache's cheap "nothing changed" check). */
  connChanges = 0;
  /** Why the last frame given to {@link receive} was not taken, as a code (`undefined` when it was). */
  ignoredCode: PodIgnore | undefined;
  // The particular of the last refusal (an address, a protocol number), put into words only when asked.
  private ignoredArg = 0;
  private readonly accessLog = new AccessLog();
  /**
   * Requests per client address (key port 0: IPv4, 1: IPv6 — an IPv4-mapped IPv6 client is another name),
   * for the first {@link ACCESS_LOG_LIMITS}.clients distinct addresses, in the order first seen.
   */
  private readonly clientTable = new AddressPortTable(ACCESS_LOG_LIMITS.clients, 16);
  private clientsRead: Map<string, number> | undefined;
  /**
   * Open connections by peer address and port (seq: the next sequence number the pod sends, ack: the next it
   * expects), bounded like a socket table: oldest dropped first. IPv4 and IPv6 each have their own.
   */
  private readonly conns: AddressPortTable;
  private readonly conns6: AddressPortTable;
  private readonly decoder = new FrameDecoder();
  /**
   * The decode of the frame being answered, read during {@link answer}'s call only: the pod's own ({@link ownDecode})
   * or the switch's, handed over — read in place, not copied (the field changes only when the two alternate).
   */
  private readonly ownDecode = new DecodedFrame();
  private d: Readonly<DecodedFrame> = this.ownDecode;
  private readonly mac: Uint8Array;
  /** {@link mac}'s first two bytes, big-endian, and its last four as an int32 (handle's destination check). */
  private readonly macHi: number;
  private readonly macLo: number;
  private readonly ip: number;
  /** Its IPv6 address's bytes on a dual-stack subnet (undefined: IPv6 is not taken). */
  private readonly ip6: Uint8Array | undefined;
  /** `/hostname`'s body. */
  private readonly nameBody: Uint8Array;
  /** The constant words of its IPv4 header's checksum (version/IHL, DF, TTL, its address). */
  private readonly ipSumBase: number;
  /** `/clientip`'s body while it is made; the body of the response being sent ({@link answerGet}) and its length. */
  private readonly body = new Uint8Array(512);
  private respBody: Uint8Array = NOW_BODY;
  private respBodyLen = 0;
  /** DataViews of {@link body} and {@link nameBody} (see writeResponse0). */
  private readonly bodyView = new DataView(this.body.buffer, this.body.byteOffset, this.body.byteLength);
  private readonly nameBodyView: DataView;
  // Replies: two reused buffers (an answer is at most two frames: the first in REPLY0, shared by every pod, the second
  // the pod's own), an exact-length view of each per length, and the arrays handed out. While a caller holds an answer
  // of any pod (until release), a nested one gets new frames.
  private readonly rb0: ReplyBuffer;
  private readonly rb1: ReplyBuffer;
  /** This pod's number (SharedReply.owner). */
  private readonly id = ++podsMade;
  /**
   * Per reply of the answer: its buffer's decode (ReplyBuffer.decode) while the reply is a TCP/IPv4 one (take() clears
   * it, tcp4 sets it), else undefined — an array, so that replyDecode stays small enough for V8 to inline into the OVN
   * hop (a branch on the index and a flag made it a call of its own there: bench/README, "The pods' replies: one
   * buffer for every pod's first frame (session 41)").
   */
  private readonly vouched: Array<DecodedFrame | undefined> = [undefined, undefined];
  /** Whether the first frame take() handed out is a view of REPLY0 (not a new array). */
  private inShared = false;
  private readonly one: Uint8Array[] = [new Uint8Array(0)];
  private readonly two: Uint8Array[] = [new Uint8Array(0), new Uint8Array(0)];
  private fresh = false;
  private count = 0;
  /** The arrays of the answers handed out of the reused buffers ({@link one}, {@link two}), the last one's. */
  private answered: Uint8Array[] = NO_FRAMES;
  /** Whether the buffer the last take() handed out (REPLY0) still holds a TCP/IPv4 reply's constant bytes (SharedReply.ready). */
  private templated = false;
  /** The head (SharedReply.head) of the buffer the last take() handed out, as it was before take() cleared it. */
  private takenHead = 0;
  private r0: Uint8Array = new Uint8Array(0);
  private r1: Uint8Array = new Uint8Array(0);
  // The TCP segment being answered: its frame, family, source (an IPv4 address, or the offset of an IPv6 one in
  // the frame) and port — what every segment of the answer is addressed from.
  private rFrame: Uint8Array = new Uint8Array(0);
  /**
   * A DataView of the frame array {@link handle} met twice in a row, and that array: the switch hands a pod its
   * output buffer, the same array frame after frame, so its MACs are read as words through a view made once (a
   * bounds-checked load a byte otherwise). An array met once is only noted ({@link reqSeen}): results that keep their
   * delivered frames hand out a view per length, and a view made per frame would cost more than the bytes.
   */
  private reqArray: Uint8Array | undefined = undefined;
  private reqView: DataView = new DataView(new ArrayBuffer(12));
  private reqSeen: Uint8Array | undefined = undefined;
  private rV6 = false;
  private rPeer = 0;
  private rSrc = 0;
  private rSport = 0;
  // The listener's request-socket queue: how many connections are in SYN-RECEIVED (both tables), and when a SYN last
  // found it full (answered with a cookie). A full queue keeps nothing for a SYN, so a stream of SYNs that are never
  // acknowledged (a flood, or the full-cold benchmark) meets at most the backlog's entries, not a full table evicting
  // one per SYN.
  private synQueue = 0;
  private lastOverflow = -Infinity;

  /**
   * `synBacklog`: the listener's backlog (default 4 096, Linux's somaxconn): a SYN that finds more SYN-RECEIVED
   * connections than that is answered with a SYN cookie and kept nowhere (the package README, "The pod model against
   * Linux").
   */
  constructor(readonly pod: PodState, readonly port = 80, connLimit = 65536, readonly synBacklog = SYN_BACKLOG) {
    // Sequence numbers are 32-bit: the IPv4 table's narrow slots hold them exactly.
    this.conns = new AddressPortTable(connLimit, 64, true);
    this.conns6 = new AddressPortTable(connLimit);
    this.mac = parseMac(pod.mac);
    this.macHi = (this.mac[0]! << 8) | this.mac[1]!;
    this.macLo = (this.mac[2]! << 24) | (this.mac[3]! << 16) | (this.mac[4]! << 8) | this.mac[5]!;
    this.ip = parseIPv4(pod.ip);
    this.ip6 = pod.ip6 ? parseIPv6(pod.ip6) : undefined;
    this.nameBody = latin1(pod.name);
    this.nameBodyView = new DataView(this.nameBody.buffer, this.nameBody.byteOffset, this.nameBody.byteLength);
    this.ipSumBase = 0x4500 + 0x4000 + (64 << 8) + (this.ip >>> 16) + (this.ip & 0xffff);
    this.rb0 = new ReplyBuffer(this.ip, 0);
    this.rb1 = new ReplyBuffer(this.ip, 256);
  }

  /**
   * The decode of reply `j` of `replies` (an {@link answer}'s, not released) when the pod wrote it as a TCP/IPv4
   * segment into a reused buffer: every field decodePlainTcp4 (@vippath/wire) of the reply's bytes would write, with its
   * values (LogicalSwitch.processInto's `decoded`); undefined for any other reply. Valid until the answer is released.
   */
  replyDecode(replies: Uint8Array[], j: number): Readonly<DecodedFrame> | undefined {
    // An answer's frames are the reused buffers only in the arrays of the answer held (a nested one's are new).
    // Small enough for V8 to inline into the OVN hop whatever that hop's inlining budget left.
    return replies === this.answered ? this.vouched[j] : undefined;
  }

  /** The newest {@link ACCESS_LOG_LIMITS}.entries requests, oldest first (made from the log's bytes when read). */
  get log(): AccessLogEntry[] {
    return this.accessLog.entries();
  }

  /** Requests per client address, for the first {@link ACCESS_LOG_LIMITS}.clients distinct addresses, first seen first. */
  get clients(): Map<string, number> {
    if (this.clientsRead) return this.clientsRead;
    const m = new Map<string, number>();
    const key = new Uint32Array(5);
    const bytes = new Uint8Array(16);
    for (const s of this.clientTable.slots()) {
      this.clientTable.keyOf(s, key);
      for (let i = 0; i < 4; i++) writeU32(bytes, i * 4, key[i]!);
      m.set(key[4] === 0 ? formatIPv4(key[3]!) : formatIPv6(bytes), this.clientTable.a[s]!);
    }
    return (this.clientsRead = m);
  }

  /** Connections forgotten because the table was full. */
  get connEvictions(): number {
    return this.conns.evictions;
  }

  /** {@link ignoredCode} in words, with the particular (which address, which protocol): for traces. */
  get ignored(): string | undefined {
    const a = this.ignoredArg;
    switch (this.ignoredCode) {
      case undefined:
        return undefined;
      case 'malformed':
        return 'malformed frame';
      case 'not-its-mac':
        return `Ethernet destination ${[40, 32, 24, 16, 8, 0].map((b) => Math.floor(a / 2 ** b) % 256).map((x) => x.toString(16).padStart(2, '0')).join(':')} is not its MAC`;
      case 'arp-not-its-ip':
        return `ARP for ${formatIPv4(a)}, not its address`;
      case 'ethertype':
        return `EtherType 0x${a.toString(16).padStart(4, '0')}`;
      case 'not-its-ip':
        return `IPv4 destination ${formatIPv4(a)} is not its address`;
      case 'ip-proto':
        return `IP protocol ${a} (only TCP ${this.port} and ping are served)`;
      default:
        return DROP_TEXT[`pod.${this.ignoredCode}`];
    }
  }

  /** True when the pod has an open connection with the peer `ip` (uint32) `:port`. */
  hasConn(ip: number, port: number): boolean {
    return this.conns.find4(ip >>> 0, port) >= 0;
  }

  /**
   * Frames the pod sends in answer to `frame` (possibly none), each the caller's to keep. Every frame's checksums —
   * the IPv4 header's, the TCP, ICMP or ICMPv6 one — are computed over the bytes it carries, as they are on the wire
   * once a Linux pod's offloaded sums are completed (its veth hands OVS the frame as CHECKSUM_PARTIAL, whose sums
   * nobody verifies): the cluster vouches for them to the switch (LogicalSwitch.process's `checksumsGood`).
   */
  receive(frame: Uint8Array, now: number): Uint8Array[] {
    const r = this.answer(frame, now);
    if (r !== this.one && r !== this.two) return r;
    const own = r.map((f) => f.slice());
    this.release(r);
    return own;
  }

  /**
   * {@link receive} without copies: the frames are the pod's buffers, valid until {@link release} is called
   * with the array (the datapath hands them to the switch, which copies them in). An answer asked for while one
   * is held — a reply that comes back to the same pod before its caller is done — gets frames of its own. The
   * frames are read-only to the caller: the pod's next TCP/IPv4 reply into a buffer keeps the bytes its last one
   * left there (ReplyBuffer.ready). `decoded`, when given, is a decode of `frame` (which must then have the layout of
   * plainTcp4 in @vippath/wire) holding what readPlainTcp4Segment would write — the OVN switch's, as
   * SwitchOutcome.decodedFor vouches — taken instead of reading the header and read in place (not copied): read during
   * the call only. With it, `frame` may run on past the packet (a buffer the packet starts): the decode's lengths bound
   * what is read. The answer is the same byte for byte.
   */
  answer(frame: Uint8Array, now: number, decoded?: Readonly<DecodedFrame>): Uint8Array[] {
    this.fresh = reply0.held;
    this.count = 0;
    this.handle(frame, now, decoded);
    const n = this.count;
    if (n === 0) return NO_FRAMES;
    if (this.fresh === true) return n === 1 ? [this.r0] : [this.r0, this.r1];
    reply0.held = true;
    // The arrays' slots compared before they are stored (see handle): the views are kept per length, mostly the same.
    const r0 = this.r0;
    if (n === 1) {
      const one = this.one;
      if (one[0] !== r0) one[0] = r0;
      if (this.answered !== one) this.answered = one;
      return one;
    }
    const two = this.two;
    const r1 = this.r1;
    if (two[0] !== r0) two[0] = r0;
    if (two[1] !== r1) two[1] = r1;
    if (this.answered !== two) this.answered = two;
    return two;
  }

  /** Done with an {@link answer}'s frames: the pod may write its buffers again. */
  release(replies: Uint8Array[]): void {
    if (replies === this.one || replies === this.two) reply0.held = false;
  }

  /**
   * The next reply's bytes, `len` long: a view of a reused buffer, or a new array while an answer is held. `tcp4`: the
   * caller is {@link tcp4}, which vouches for the reply itself — its slot of {@link vouched} is left as it is, not
   * cleared, so that tcp4 stores nothing there when it already holds the buffer's decode (see handle).
   */
  private take(len: number, tcp4: boolean): Uint8Array {
    const i = this.count++;
    let f: Uint8Array;
    if (this.fresh === true) {
      f = new Uint8Array(len);
      this.templated = false;
      this.takenHead = 0;
      if (i === 0) this.inShared = false;
    } else if (i === 0) {
      const s = reply0;
      if (tcp4 === false) this.vouched[0] = undefined;
      if (len <= REPLY0_BYTES) {
        this.templated = s.ready;
        this.takenHead = s.head;
        this.inShared = true;
        f = len > VIEW_CACHE ? REPLY0.subarray(0, len) : keptView(REPLY0_VIEWS, REPLY0, len);
      } else {
        this.templated = false;
        this.takenHead = 0;
        this.inShared = false;
        f = new Uint8Array(len);
      }
      s.ready = false;
      s.head = 0;
    } else {
      const b = this.rb1;
      let buf = b.bytes;
      if (buf.length < len) {
        b.bytes = buf = new Uint8Array(Math.max(len, buf.length * 2));
        b.views = [];
      }
      this.templated = false;
      this.takenHead = 0;
      if (tcp4 === false) this.vouched[1] = undefined;
      f = len > VIEW_CACHE ? buf.subarray(0, len) : keptView(b.views, buf, len);
    }
    if (i === 0) {
      if (this.r0 !== f) this.r0 = f;
    } else if (this.r1 !== f) this.r1 = f;
    return f;
  }

  private handle(frame: Uint8Array, now: number, given: Readonly<DecodedFrame> | undefined): void {
    let d = this.d;
    this.ignoredCode = undefined;
    // IPv4 + TCP at fixed offsets (what the datapath hands a pod, nearly always): wire's subset read sets what the TCP
    // answer below reads (PLAIN_TCP4_SEGMENT_FIELDS), not all thirty-odd fields; the ARP, IPv6 and ICMP paths, which
    // read others, only ever see a full decode. The switch's decode of the frame, when handed over, is read in place
    // (what the subset read would write; the frame is plain TCP/IPv4, so the other paths' fields are never read) and
    // not kept past this call. A pointer field stored only when the source changes: a store per frame would run the
    // write barrier's out-of-line part while the GC marks (bench/README, "The pods' per-frame cost (session 31)").
    if (given !== undefined) {
      if (d !== given) this.d = d = given;
    } else {
      const own = this.ownDecode;
      if (d !== own) this.d = d = own;
      if (readPlainTcp4Segment(frame, frame.length, own) === 0 && this.decoder.decode(frame, own) !== 0) return this.ignore('malformed');
    }
    // The pod's MAC as two numbers made once: the frame's six bytes compared with them, not with a typed array's (its
    // field, length, base and a bounds check per byte).
    let hi: number;
    let lo: number;
    if (frame === this.reqArray) {
      const v = this.reqView;
      hi = v.getUint16(0);
      lo = v.getInt32(2);
    } else {
      hi = (frame[0]! << 8) | frame[1]!;
      lo = (frame[2]! << 24) | (frame[3]! << 16) | (frame[4]! << 8) | frame[5]!;
      if (frame !== this.reqSeen) this.reqSeen = frame;
      else if (frame.length >= 12) {
        this.reqView = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
        this.reqArray = frame;
      }
    }
    if ((hi & 0x100) === 0 && !(hi === this.macHi && lo === this.macLo)) {
      return this.ignore('not-its-mac', ((frame[0]! << 8) | frame[1]!) * 2 ** 32 + readIPv4(frame, 2));
    }
    if (d.l3 === L3.ARP) {
      if (d.arpOp !== 1) return this.ignore('arp-reply');
      if (d.arpTpa !== this.ip) return this.ignore('arp-not-its-ip', d.arpTpa);
      return this.arpReply(frame, d.l3Offset + 8, d.arpSpa);
    }
    if (d.l3 === L3.IPV6) return this.ip6 ? this.handle6(frame, now) : this.ignore('ipv6');
    if (d.l3 !== L3.IPV4) return this.ignore('ethertype', d.etherType);
    if (d.ipDst !== this.ip) return this.ignore('not-its-ip', d.ipDst);
    if (d.ipProto === 1 && d.icmpType === 8 && !d.ipFragment) return this.echoReply4(frame);
    if (d.ipProto !== 6) return this.ignore('ip-proto', d.ipProto);
    const peer = d.ipSrc >>> 0;
    const sport = d.srcPort;
    this.rV6 = false;
    // Compared first, like `d` above: the frame is the switch's buffer, the same array frame after frame, and a store of
    // it runs the write barrier's out-of-line call whenever the GC marks (≈ 52 instructions a frame on http).
    if (this.rFrame !== frame) this.rFrame = frame;
    this.rPeer = peer | 0;
    this.rSport = sport;
    if (d.dstPort !== this.port) {
      if (d.tcpFlags & RST) return this.ignore('rst-closed-port');
      // A closed port answers with RST.
      return this.refuse(d.dstPort);
    }
    const conns = this.conns;
    let s = conns.find4(peer, sport);
    // (The flags first, inline: a SYN, the one segment of a new connection on http, does not make the call.)
    if (s < 0 && (d.tcpFlags & (SYN | ACK | RST)) === ACK && this.cookieAcked(podIsn(peer, sport), now)) {
      this.evicting(conns);
      s = this.cookieOpen(conns, conns.insert4(peer, sport), podIsn(peer, sport));
    }
    if (this.tcpConn(conns, s, now) === false) return;
    // A SYN that opens a connection (or restarts one whose SYN-ACK is unanswered: a retransmitted SYN), unless the
    // queue is full: then its SYN-ACK carries a cookie (the same ISN here) and nothing is kept.
    const isn = podIsn(peer, sport);
    if (s < 0 && this.synFull(conns, now)) return this.tcp4(frame, peer | 0, this.port, sport, isn | 0, (d.tcpSeq + 1) | 0, SYN | ACK, WINDOW, 0);
    this.connChanges++;
    const t = conns.insert4(peer, sport);
    conns.a[t] = (isn + 1) >>> 0;
    conns.b[t] = (d.tcpSeq + 1) >>> 0;
    conns.c[t] = SYN_RECEIVED;
    this.tcp4(frame, peer | 0, this.port, sport, isn | 0, (d.tcpSeq + 1) | 0, SYN | ACK, WINDOW, 0);
  }

  /**
   * IPv6 to a dual-stack pod, as Linux answers: a neighbor solicitation for its address with a solicited,
   * override advertisement carrying its MAC (RFC 4861 §7.2.4; hop limit 255), an echo request with its reply,
   * and TCP on its port as over IPv4 (closed ports RST). Anything else IPv6 is not taken (`ipv6`).
   */
  private handle6(frame: Uint8Array, now: number): void {
    const d = this.d;
    const ip6 = this.ip6!;
    const l3 = d.l3Offset;
    const src = l3 + 8;
    const dstIsMe = equal16(frame, l3 + 24, ip6);
    if (d.ipProto === 58 && d.icmpType === 135) {
      // Neighbor solicitation: to its address or its solicited-node group (ff02::1:ffXX:XXXX), target its address,
      // hop limit 255 (RFC 4861 §7.1.1); answered to the source, or to all nodes from the unspecified address.
      const solicited = frame[l3 + 24] === 0xff && frame[l3 + 25] === 0x02 && frame[l3 + 35] === 0x01 && frame[l3 + 36] === 0xff && frame[l3 + 37] === ip6[13] && frame[l3 + 38] === ip6[14] && frame[l3 + 39] === ip6[15];
      if (!(dstIsMe || solicited) || d.ipTtl !== 255 || d.l4Offset + 24 > d.l3End || !equal16(frame, d.l4Offset + 8, ip6)) return this.ignore('ipv6');
      return this.neighborAdvert(frame, src);
    }
    if (!dstIsMe) return this.ignore('ipv6');
    if (d.ipProto === 58 && d.icmpType === 128 && !d.ipFragment) return this.echoReply6(frame, src);
    if (d.ipProto !== 6) return this.ignore('ipv6');
    const sport = d.srcPort;
    this.rV6 = true;
    if (this.rFrame !== frame) this.rFrame = frame;
    this.rSrc = src;
    this.rSport = sport;
    if (d.dstPort !== this.port) {
      if (d.tcpFlags & RST) return this.ignore('rst-closed-port');
      return this.refuse(d.dstPort);
    }
    const conns = this.conns6;
    // Over IPv6 the source's low 32 bits stand for the address in the ISN.
    const isn = podIsn(readIPv4(frame, l3 + 20), sport);
    let s = conns.find6(frame, src, sport);
    if (s < 0 && (d.tcpFlags & (SYN | ACK | RST)) === ACK && this.cookieAcked(isn, now)) {
      this.evicting(conns);
      s = this.cookieOpen(conns, conns.insert6(frame, src, sport), isn);
    }
    if (this.tcpConn(conns, s, now) === false) return;
    if (s < 0 && this.synFull(conns, now)) return this.tcp6(frame, src, this.port, sport, isn | 0, (d.tcpSeq + 1) | 0, SYN | ACK, WINDOW, 0);
    this.connChanges++;
    const t = conns.insert6(frame, src, sport);
    conns.a[t] = (isn + 1) >>> 0;
    conns.b[t] = (d.tcpSeq + 1) >>> 0;
    conns.c[t] = SYN_RECEIVED;
    this.tcp6(frame, src, this.port, sport, isn | 0, (d.tcpSeq + 1) | 0, SYN | ACK, WINDOW, 0);
  }

  /**
   * For a new connection's SYN (about to be inserted into `conns`): true when the request-socket queue is full — the
   * SYN is then answered with a cookie and kept nowhere —, else counts the new request socket in the queue (and takes
   * out the one the insert evicts, when the table is full and its oldest entry is one).
   */
  private synFull(conns: AddressPortTable, now: number): boolean {
    if (this.synQueue > this.synBacklog) {
      // tcp_synq_overflow moves the stamp on only once it is a second old.
      if (!(now >= this.lastOverflow && now <= this.lastOverflow + 1000)) this.lastOverflow = now;
      return true;
    }
    // evicting's test, written out: this runs for every new connection's SYN.
    if (conns.size >= conns.limit && conns.c[conns.oldest] === SYN_RECEIVED) this.synQueue--;
    this.synQueue++;
    return false;
  }

  /** Before an insert of a new key into `conns`: the queue forgets the entry the insert will evict, if it is a request socket. */
  private evicting(conns: AddressPortTable): void {
    if (conns.size >= conns.limit && conns.c[conns.oldest] === SYN_RECEIVED) this.synQueue--;
  }

  /**
   * Whether the segment being answered, an ACK without SYN and RST (the caller tests the flags) that has no
   * connection, completes a handshake answered with a cookie (cookie_v4_check, net/ipv4/syncookies.c): it
   * acknowledges the connection's ISN, within two minutes of the listener's last overflow. (Linux's cookie also
   * encodes the client's ISN and the minute it was sent, good for two to three minutes; the model's ISN is a hash of
   * the connection alone, so neither is checked.)
   */
  private cookieAcked(isn: number, now: number): boolean {
    return this.d.tcpAck === ((isn + 1) >>> 0) && now - this.lastOverflow <= COOKIE_VALID_MS;
  }

  /**
   * The connection a cookie's ACK opens, in slot `t` just inserted (its eviction counted first: evicting): Linux makes
   * its socket from the cookie (tcp_get_cookie_sock) and the ACK completes the handshake, so it is established at
   * once, never a request socket in the queue. Returns `t`.
   */
  private cookieOpen(conns: AddressPortTable, t: number, isn: number): number {
    this.connChanges++;
    conns.a[t] = (isn + 1) >>> 0;
    conns.b[t] = this.d.tcpSeq;
    conns.c[t] = ESTABLISHED;
    return t;
  }

  /**
   * A TCP segment to the pod's port from a peer whose connection is slot `s` of `conns` (-1: none), answered as
   * Linux answers it in that connection's state (the package README, "The pod model against Linux"; the functions
   * named are the kernel's, net/ipv4/tcp_input.c and tcp_minisocks.c): written through {@link emit}. Returns true
   * when it is a SYN the caller is to answer with a SYN-ACK, opening the connection (again).
   */
  private tcpConn(conns: AddressPortTable, s: number, now: number): boolean {
    const d = this.d;
    const flags = d.tcpFlags;
    const seq = d.tcpSeq;
    if (s < 0) {
      // A listener: a SYN opens a connection; an RST is dropped; anything else, a SYN-ACK among them, is refused.
      if ((flags & (SYN | ACK | RST)) === SYN) return true;
      if ((flags & RST) === 0) this.refuse(this.port);
      return false;
    }
    const st = conns.c[s]!;
    const a = conns.a[s]! | 0;
    const b = conns.b[s]! | 0;
    const len = d.payloadLength;
    const fin = flags & FIN;
    // Where the segment starts and ends relative to RCV.NXT (signed 32-bit: sequence numbers wrap).
    const by = (seq - b) | 0;
    const end = (by + len + fin) | 0;
    if (flags & RST) {
      // A time-wait socket drops the connection for an RST anywhere in its window and acknowledges one out of it,
      // as any segment out of it (tcp_timewait_state_process). Otherwise (request sockets too, on Linux 6.18 as the
      // test shows) only an RST at RCV.NXT resets (or RCV.NXT - 1 in LAST-ACK: tcp_reset_check), one elsewhere in
      // the window gets a challenge ACK (RFC 5961 §3.2; tcp_validate_incoming), one out of it is dropped.
      const inWindow = by >= 0 && by <= WINDOW;
      if (st === FIN_WAIT_2 ? inWindow : by === 0 || (st === LAST_ACK && by === -1)) this.close(conns, s);
      else if (st === FIN_WAIT_2 || inWindow) this.emit(a, b, ACK, 0);
      return false;
    }
    if (st === FIN_WAIT_2) {
      // tcp_timewait_state_process, substate FIN-WAIT-2: out of the window (tcp_in_window), an ACK; in it, a SYN
      // resets, a FIN at RCV.NXT moves to TIME-WAIT (acknowledged; the model forgets the connection then: TIME-WAIT
      // is not modelled, the package README says why), any other new data resets, the rest is dropped.
      if (!(by === 0 || (end > 0 && by < WINDOW) || (by === WINDOW && end === by))) this.emit(a, b, ACK, 0);
      else if (flags & SYN) {
        this.refuse(this.port);
        this.close(conns, s);
      } else if ((flags & ACK) === 0 || end <= 0 || end === by) return false;
      else if (fin === 0 || end !== 1) {
        this.refuse(this.port);
        this.close(conns, s);
      } else this.finAcked(conns, s, a, b);
      return false;
    }
    if (flags & SYN) {
      // A retransmitted SYN gets its SYN-ACK again (a SYN-ACK, an RST: tcp_check_req); on a synchronized
      // connection any SYN gets a challenge ACK (RFC 5961 §4; tcp_validate_incoming).
      if (st !== SYN_RECEIVED) this.emit(a, b, ACK, 0);
      else if ((flags & ACK) === 0) return true;
      else this.refuse(this.port);
      return false;
    }
    // Not acceptable (RFC 9293 §3.10.7.4; tcp_sequence): past the window, or ending before RCV.NXT — an empty
    // segment before it too (an ACK overtaken by data) — is answered with an ACK of what was received (Linux:
    // tcp_send_dupack; at most one per 500 ms by default, test/linux-tcp.test.ts sets no limit).
    if (by > WINDOW || end < 0) {
      this.emit(a, b, ACK, 0);
      return false;
    }
    if ((flags & ACK) === 0) return false;
    // Acknowledgment numbers are not checked against what the pod sent: a replayed capture's client acknowledges
    // the real server's numbers (another ISN, another response). What a segment acknowledges is judged from the
    // client's own numbers instead: its ACK past the one it sent with its request (or FIN) acknowledges the pod's
    // FIN. (Linux resets a handshake ACK of the wrong number and answers an ACK of data never sent with a
    // challenge ACK: the package README's known differences.)
    if (st === SYN_RECEIVED) {
      conns.c[s] = ESTABLISHED;
      this.synQueue--;
    }
    const acked = ((d.tcpAck - conns.d[s]!) | 0) > 0;
    if (st === LAST_ACK) {
      if (acked) this.close(conns, s);
      else if (end === 0 && by < 0) this.emit(a, b, ACK, 0);
      return false;
    }
    if (st === FIN_WAIT_1) {
      // New data after the pod's FIN: agnhost has closed its socket, so Linux resets (RFC 1122 §4.2.2.13;
      // tcp_rcv_state_process), the RST numbered from the segment's ACK.
      if (len + fin > 0 && ((by + len) | 0) > 0) {
        this.refuse(this.port);
        this.close(conns, s);
      } else if (acked) {
        // Its FIN acknowledged: the closed socket becomes a time-wait one, silently (a retransmission too), unless
        // the client's FIN is here as well.
        if (fin) this.finAcked(conns, s, a, b);
        else conns.c[s] = FIN_WAIT_2;
      } else if (fin) this.finAcked(conns, s, a, b);
      else if (end === 0 && len > 0) this.emit(a, b, ACK, 0);
      return false;
    }
    // Established: a retransmission (ending at RCV.NXT) is acknowledged again, not served again (tcp_data_queue);
    // data in the window past RCV.NXT is acknowledged and dropped (Linux keeps it out of order: not modelled).
    if (by > 0 || (by < 0 && end === 0)) {
      if (len + fin > 0) this.emit(a, b, ACK, 0);
      return false;
    }
    if (len > 0) {
      const nb = (seq + len) | 0;
      conns.b[s] = nb;
      const frame = this.rFrame;
      const target = getTarget(frame, d.payloadOffset, len);
      if (target !== 0) {
        const v6 = this.rV6;
        let n: number;
        if (v6 === true) {
          // Go's RemoteAddr (what agnhost's /clientip prints) brackets an IPv6 address.
          this.body[0] = 91;
          n = writeIPv6Text(this.body, 1, frame, this.rSrc);
          this.body[n++] = 93;
        } else n = writeIPv4Text(this.body, 0, this.rPeer);
        this.body[n++] = 58;
        n = writeDecimal(this.body, n, this.rSport);
        const rlen = this.answerGet(frame, d.payloadOffset + 4, target < 0 ? 9 : target, target < 0 ? -target : 0, frame, v6 ? this.rSrc : d.l3Offset + 12, v6, this.rSport, n, now);
        this.emit(a, nb, ACK | PSH | FIN, rlen);
        conns.a[s] = (a + rlen + 1) >>> 0;
        conns.c[s] = FIN_WAIT_1;
        conns.d[s] = d.tcpAck;
      } else this.emit(a, nb, ACK, 0);
    }
    if (fin) {
      if (conns.c[s] === FIN_WAIT_1) this.finAcked(conns, s, conns.a[s]! | 0, conns.b[s]! | 0);
      else {
        // The client closed first: agnhost reads the end of its stream and closes too; Linux acknowledges the FIN at
        // once and sends its own a moment later (the model: one segment).
        const nb = (conns.b[s]! + 1) | 0;
        conns.b[s] = nb;
        this.emit(a, nb, ACK | FIN, 0);
        conns.a[s] = (a + 1) >>> 0;
        conns.c[s] = LAST_ACK;
        conns.d[s] = d.tcpAck;
      }
    }
    return false;
  }

  /** The client's FIN after the pod's: acknowledged, and the connection closed. */
  private finAcked(conns: AddressPortTable, s: number, a: number, b: number): void {
    const nb = (b + 1) | 0;
    this.emit(a, nb, ACK, 0);
    this.close(conns, s);
  }

  private close(conns: AddressPortTable, s: number): void {
    this.connChanges++;
    if (conns.c[s] === SYN_RECEIVED) this.synQueue--;
    conns.delete(s);
  }

  /**
   * The segment being answered refused with an RST from `sport` (RFC 9293 §3.10.7.1; Linux's tcp_v4_send_reset,
   * window 0): numbered from its ACK if it has one, else acknowledging it.
   */
  private refuse(sport: number): void {
    const d = this.d;
    const flags = d.tcpFlags;
    if (flags & ACK) this.reply(sport, d.tcpAck | 0, 0, RST, 0, 0);
    else this.reply(sport, 0, (d.tcpSeq + d.payloadLength + (flags & SYN ? 1 : 0) + (flags & FIN)) | 0, RST | ACK, 0, 0);
  }

  /** A segment of the connection being answered: `n` > 0 sends the {@link answerGet} response. */
  private emit(seq: number, ack: number, flags: number, n: number): void {
    this.reply(this.port, seq, ack, flags, WINDOW, n);
  }

  private reply(sport: number, seq: number, ack: number, flags: number, window: number, n: number): void {
    if (this.rV6 === true) this.tcp6(this.rFrame, this.rSrc, sport, this.rSport, seq, ack, flags, window, n);
    else this.tcp4(this.rFrame, this.rPeer, sport, this.rSport, seq, ack, flags, window, n);
  }

  /**
   * An HTTP GET as agnhost's netexec answers it, over either family: logged (bounded), its client counted by
   * address, and its body chosen (the whole response, `Connection: close`, is written into the reply by {@link writeResponse}).
   * The target is `f[at…at+len)`, `known` its {@link knownPath} code (getTarget's); the client's address `src[srcAt…]`
   * (over IPv4 also {@link rPeer}); `/clientip`'s body (the peer as Go's RemoteAddr prints it) is already in
   * {@link body}, `remoteLen` long. Returns the response's length.
   */
  private answerGet(f: Uint8Array, at: number, len: number, known: number, src: Uint8Array, srcAt: number, v6: boolean, port: number, remoteLen: number, now: number): number {
    this.requests++;
    this.accessLog.add(now, src, srcAt, v6, port, f, at, len, known);
    const t = this.clientTable;
    // Over IPv4 the address handle decoded, not the frame's four bytes read again.
    const s = v6 ? t.find6(src, srcAt, 1) : t.find4(this.rPeer >>> 0, 0);
    if (s >= 0) t.a[s]!++;
    else if (t.size < ACCESS_LOG_LIMITS.clients) {
      // Inserting may grow the table's columns: the slot first, then the (new) column.
      const added = v6 ? t.insert6(src, srcAt, 1) : t.insert4(this.rPeer >>> 0, 0);
      t.a[added] = 1;
    }
    else this.otherClientRequests++;
    this.clientsRead = undefined;
    const body = known === 1 ? this.body : known === 2 ? this.nameBody : NOW_BODY;
    const bodyLen = body === this.body ? remoteLen : body.length;
    this.respBody = body;
    this.respBodyLen = bodyLen;
    return RESPONSE_HEAD.length + decimalDigits(bodyLen) + RESPONSE_MID.length + bodyLen;
  }

  /**
   * The response {@link answerGet} chose, written at `f[at…]` (straight into the reply: no buffer of its own copied
   * in). Returns the sum of its 16-bit words, `at` being a word's start: the head's is kept with it, the body's is
   * summed as it is copied — reading the ≈ 80 bytes back for the checksum cost more than writing them.
   */
  private writeResponse(f: Uint8Array, at: number, headInPlace = false): number {
    const bodyLen = this.respBodyLen;
    const head = responseHead(bodyLen);
    if (!headInPlace) f.set(head, at);
    const hl = head.length;
    const body = this.respBody;
    let sum = bodyLen < RESPONSE_HEAD_SUMS.length ? RESPONSE_HEAD_SUMS[bodyLen]! : sumWords(head, 0, hl);
    // A body byte at an even offset from `at` is a word's high byte. After the head's odd byte, if any, the body
    // goes two bytes a turn, one word each: a byte loop cost ≈ 40 instructions a byte in TurboFan's code (bench/README,
    // "The cluster's hops per frame (session 17)").
    const to = at + hl;
    let i = 0;
    if ((hl & 1) !== 0 && bodyLen > 0) {
      const b = body[0]!;
      f[to] = b;
      sum += b;
      i = 1;
    }
    for (; i + 1 < bodyLen; i += 2) {
      const hi = body[i]!;
      const lo = body[i + 1]!;
      f[to + i] = hi;
      f[to + i + 1] = lo;
      sum += (hi << 8) | lo;
    }
    if (i < bodyLen) {
      const b = body[i]!;
      f[to + i] = b;
      sum += b << 8;
    }
    return sum;
  }

  /**
   * {@link writeResponse} for tcp4's template branch: into {@link REPLY0} itself at byte 54, through it and
   * REPLY0_VIEW (module constants: TurboFan folds their bounds checks), the body read through its DataView
   * (chosen here from {@link respBody}: no field of its own for answerGet to store) four bytes a turn. writeResponse's byte pairs cost ≈ 45 instructions a turn there (both
   * arrays' maps, lengths and bases checked and loaded again at every byte, the sum a double). The body's sum is an
   * int32: at most 128 turns of < 2^17.
   */
  private writeResponse0(headInPlace: boolean): number {
    const bodyLen = this.respBodyLen;
    const head = responseHead(bodyLen);
    const r = REPLY0;
    if (headInPlace === false) r.set(head, 54);
    const hl = head.length;
    const sum = bodyLen < RESPONSE_HEAD_SUMS.length ? RESPONSE_HEAD_SUMS[bodyLen]! : sumWords(head, 0, hl);
    const to = 54 + hl;
    const v = REPLY0_VIEW;
    const body = this.respBody;
    const bv = body === this.body ? this.bodyView : body === this.nameBody ? this.nameBodyView : NOW_BODY_VIEW;
    let i = 0;
    let s = 0;
    // As in writeResponse: after the head's odd byte, if any, the body's bytes at even offsets from 54 are words' high bytes.
    if ((hl & 1) !== 0 && bodyLen > 0) {
      const b = bv.getUint8(0);
      r[to] = b;
      s = b;
      i = 1;
    }
    for (; i + 3 < bodyLen; i += 4) {
      const w = bv.getInt32(i);
      v.setInt32(to + i, w);
      s += (w >>> 16) + (w & 0xffff);
    }
    if (i + 1 < bodyLen) {
      const x = bv.getUint16(i);
      v.setUint16(to + i, x);
      s += x;
      i += 2;
    }
    if (i < bodyLen) {
      const b = bv.getUint8(i);
      r[to + i] = b;
      s += b << 8;
    }
    return sum + s;
  }

  /** Ethernet to `frame`'s source (`dst` at `dstAt`) from the pod, of `type`. */
  private ethernet(f: Uint8Array, dst: Uint8Array, dstAt: number, type: number): void {
    copy(f, 0, dst, dstAt, 6);
    copy(f, 6, this.mac, 0, 6);
    f[12] = type >> 8;
    f[13] = type & 0xff;
  }

  /** An IPv4 header as buildFrame writes one by default (no options, ident 0, DF, TTL 64) from the pod to `dst`. */
  private ipv4(f: Uint8Array, total: number, protocol: number, dst: number): void {
    f[14] = 0x45;
    f[15] = 0;
    f[16] = total >> 8;
    f[17] = total & 0xff;
    f[18] = 0;
    f[19] = 0;
    f[20] = 0x40;
    f[21] = 0;
    f[22] = 64;
    f[23] = protocol;
    writeIPv4(f, 26, this.ip);
    writeIPv4(f, 30, dst);
    const sum = complement(this.ipSumBase + protocol + total + (dst >>> 16) + (dst & 0xffff));
    f[24] = sum >> 8;
    f[25] = sum & 0xff;
  }

  /** An IPv6 header (traffic class and flow label 0) from the pod to the 16 bytes at `dst[dstAt…]`. */
  private ipv6(f: Uint8Array, payload: number, next: number, hopLimit: number, dst: Uint8Array, dstAt: number): void {
    f[14] = 0x60;
    f[15] = 0;
    f[16] = 0;
    f[17] = 0;
    f[18] = payload >> 8;
    f[19] = payload & 0xff;
    f[20] = next;
    f[21] = hopLimit;
    copy(f, 22, this.ip6!, 0, 16);
    copy(f, 38, dst, dstAt, 16);
  }

  /**
   * A TCP header without options at `at`, and the payload (the {@link answerGet} response, `n` bytes) after it.
   * Returns the sum of the segment's 16-bit words (its checksum field zero) from the values written: the checksum
   * reads nothing back.
   */
  private tcp(f: Uint8Array, at: number, sport: number, dport: number, seq: number, ack: number, flags: number, window: number, n: number): number {
    const offFlags = ((0x50 | ((flags >> 8) & 1)) << 8) | (flags & 0xff);
    f[at] = sport >> 8;
    f[at + 1] = sport & 0xff;
    f[at + 2] = dport >> 8;
    f[at + 3] = dport & 0xff;
    writeU32(f, at + 4, seq);
    writeU32(f, at + 8, ack);
    f[at + 12] = offFlags >> 8;
    f[at + 13] = offFlags & 0xff;
    f[at + 14] = window >> 8;
    f[at + 15] = window & 0xff;
    f[at + 16] = 0;
    f[at + 17] = 0;
    f[at + 18] = 0;
    f[at + 19] = 0;
    const sum = sport + dport + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff) + offFlags + window;
    return n > 0 ? sum + this.writeResponse(f, at + 20) : sum;
  }

  /** A TCP segment over IPv4 back to the sender of `req` (its MAC, and `peer`), with the `n` bytes of the {@link answerGet} response. */
  private tcp4(req: Uint8Array, peer: number, sport: number, dport: number, seq: number, ack: number, flags: number, window: number, n: number): void {
    const f = this.take(54 + n, true);
    const first = this.count === 1;
    const ip = this.ip;
    if (this.templated === true) {
      // The frame is REPLY0's (a view of it), whose last reply was a TCP/IPv4 one: its constant bytes are in place (the
      // EtherType, the IPv4 header's fixed bytes, the urgent pointer; the pod's MAC and address when the last reply was
      // this pod's), the rest written here as ethernet, ipv4 and tcp write them, into REPLY0 itself: TurboFan knows its
      // address and length, so each byte is one store, without a bounds check, and each field of two or four bytes
      // one store through REPLY0_VIEW (a byte swap, not a shift and a store per byte). The checksums are sums of the
      // values.
      const r = REPLY0;
      const s = reply0;
      if (s.owner !== this.id) {
        const mac = this.mac;
        r[6] = mac[0]!;
        r[7] = mac[1]!;
        r[8] = mac[2]!;
        r[9] = mac[3]!;
        r[10] = mac[4]!;
        r[11] = mac[5]!;
        r[26] = ip >>> 24;
        r[27] = (ip >>> 16) & 0xff;
        r[28] = (ip >>> 8) & 0xff;
        r[29] = ip & 0xff;
        s.owner = this.id;
      }
      const v = REPLY0_VIEW;
      // The request's source MAC as two words through handle's view of its array, when it has one.
      if (req === this.reqArray) {
        const rv = this.reqView;
        v.setUint16(0, rv.getUint16(6));
        v.setInt32(2, rv.getInt32(8));
      } else {
        r[0] = req[6]!;
        r[1] = req[7]!;
        r[2] = req[8]!;
        r[3] = req[9]!;
        r[4] = req[10]!;
        r[5] = req[11]!;
      }
      const total = 40 + n;
      v.setUint16(16, total);
      v.setInt32(30, peer | 0);
      const ipSum = complement(this.ipSumBase + 6 + total + (peer >>> 16) + (peer & 0xffff));
      v.setUint16(24, ipSum);
      const offFlags = ((0x50 | ((flags >> 8) & 1)) << 8) | (flags & 0xff);
      v.setInt32(34, (sport << 16) | (dport & 0xffff));
      v.setInt32(38, seq | 0);
      v.setInt32(42, ack | 0);
      v.setInt32(46, (offFlags << 16) | (window & 0xffff));
      let tcpSum = sport + dport + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff) + offFlags + window;
      // The response's head is in place when the buffer's last response had one of the same length and every reply
      // since has been a TCP/IPv4 one without payload (bytes 0–53 only).
      if (n > 0) tcpSum += this.writeResponse0(this.takenHead === this.respBodyLen + 1);
      const sum = complement(tcpSum + (ip >>> 16) + (ip & 0xffff) + (peer >>> 16) + (peer & 0xffff) + 6 + 20 + n);
      v.setUint16(50, sum);
    } else {
      this.ethernet(f, req, 6, 0x0800);
      this.ipv4(f, 40 + n, 6, peer);
      const tcpSum = this.tcp(f, 34, sport, dport, seq, ack, flags, window, n);
      const sum = complement(tcpSum + (ip >>> 16) + (ip & 0xffff) + (peer >>> 16) + (peer & 0xffff) + 6 + 20 + n);
      f[50] = sum >> 8;
      f[51] = sum & 0xff;
    }
    if (this.fresh === false) {
      if (first === true && this.inShared === true) {
        const s = reply0;
        s.ready = true;
        s.owner = this.id;
        s.head = n > 0 ? this.respBodyLen + 1 : this.takenHead;
      }
      // The fields that vary between this pod's TCP/IPv4 replies (tcp4ReplyDecode wrote the others), as
      // decodePlainTcp4 reads them back: the addresses and numbers unsigned, the flags' nine bits.
      const d = first ? this.rb0.decode : this.rb1.decode;
      d.length = 54 + n;
      d.l3End = 54 + n;
      d.ipDst = peer >>> 0;
      d.l4Length = 20 + n;
      d.srcPort = sport;
      d.dstPort = dport;
      d.tcpSeq = seq >>> 0;
      d.tcpAck = ack >>> 0;
      d.tcpFlags = flags & 0x1ff;
      d.payloadLength = n;
      const j = first ? 0 : 1;
      if (this.vouched[j] !== d) this.vouched[j] = d;
    }
  }

  /** The same over IPv6, to the source address at `src` in `req`. */
  private tcp6(req: Uint8Array, src: number, sport: number, dport: number, seq: number, ack: number, flags: number, window: number, n: number): void {
    const f = this.take(74 + n, false);
    this.ethernet(f, req, 6, 0x86dd);
    this.ipv6(f, 20 + n, 6, 64, req, src);
    const sum = complement(this.tcp(f, 54, sport, dport, seq, ack, flags, window, n) + pseudoHeaderSumV6(f, 22, 38, 6, 20 + n));
    f[70] = sum >> 8;
    f[71] = sum & 0xff;
  }

  /** An ARP reply to the requester (its hardware address at `sha` in `req`, its IPv4 `spa`). */
  private arpReply(req: Uint8Array, sha: number, spa: number): void {
    const f = this.take(42, false);
    this.ethernet(f, req, sha, 0x0806);
    f[14] = 0;
    f[15] = 1;
    f[16] = 0x08;
    f[17] = 0;
    f[18] = 6;
    f[19] = 4;
    f[20] = 0;
    f[21] = 2;
    copy(f, 22, this.mac, 0, 6);
    writeIPv4(f, 28, this.ip);
    copy(f, 32, req, sha, 6);
    writeIPv4(f, 38, spa);
  }

  /** An echo reply: the kernel answers with the same identifier, sequence and data. */
  private echoReply4(req: Uint8Array): void {
    const d = this.d;
    const rest = d.l3End - (d.l4Offset + 4);
    const f = this.take(38 + rest, false);
    this.ethernet(f, req, 6, 0x0800);
    this.ipv4(f, 24 + rest, 1, d.ipSrc >>> 0);
    f[34] = 0;
    f[35] = 0;
    f[36] = 0;
    f[37] = 0;
    copy(f, 38, req, d.l4Offset + 4, rest);
    const sum = internetChecksum(f, 34, 4 + rest);
    f[36] = sum >> 8;
    f[37] = sum & 0xff;
  }

  private echoReply6(req: Uint8Array, src: number): void {
    const d = this.d;
    const rest = d.l3End - (d.l4Offset + 4);
    const f = this.take(58 + rest, false);
    this.ethernet(f, req, 6, 0x86dd);
    this.ipv6(f, 4 + rest, 58, 64, req, src);
    f[54] = 129;
    f[55] = 0;
    f[56] = 0;
    f[57] = 0;
    copy(f, 58, req, d.l4Offset + 4, rest);
    const sum = internetChecksum(f, 54, 4 + rest, pseudoHeaderSumV6(f, 22, 38, 58, 4 + rest));
    f[56] = sum >> 8;
    f[57] = sum & 0xff;
  }

  /** A solicited, override advertisement of its address with its MAC; to all nodes when the solicitation was DAD's. */
  private neighborAdvert(req: Uint8Array, src: number): void {
    let dad = true;
    for (let i = 0; i < 16; i++) if (req[src + i] !== 0) dad = false;
    const f = this.take(86, false);
    if (dad) {
      f[0] = 0x33;
      f[1] = 0x33;
      f[2] = 0;
      f[3] = 0;
      f[4] = 0;
      f[5] = 1;
      copy(f, 6, this.mac, 0, 6);
      f[12] = 0x86;
      f[13] = 0xdd;
      this.ipv6(f, 32, 58, 255, ALL_NODES, 0);
    } else {
      this.ethernet(f, req, 6, 0x86dd);
      this.ipv6(f, 32, 58, 255, req, src);
    }
    f[54] = 136;
    f[55] = 0;
    f[56] = 0;
    f[57] = 0;
    f[58] = dad ? 0x20 : 0x60;
    f[59] = 0;
    f[60] = 0;
    f[61] = 0;
    copy(f, 62, this.ip6!, 0, 16);
    f[78] = 2;
    f[79] = 1;
    copy(f, 80, this.mac, 0, 6);
    const sum = internetChecksum(f, 54, 32, pseudoHeaderSumV6(f, 22, 38, 58, 32));
    f[56] = sum >> 8;
    f[57] = sum & 0xff;
  }

  private ignore(code: PodIgnore, arg = 0): void {
    this.ignoredCode = code;
    this.ignoredArg = arg;
  }
}
