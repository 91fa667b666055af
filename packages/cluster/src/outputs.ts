/**
 * The shapes of what a replay writes: one {@link TraceLine} per input frame in `trace.jsonl`, and the
 * {@link ReplaySummary} in `summary.json`. Other tools (the HTML report, users' scripts, the tests) read these,
 * so they change only with a CHANGELOG entry.
 */
import type { DropCode } from './drops.js';

/** The stages of the path, in the design card's order (DATAPATH.md §2–§6), plus the ends. */
export type StageName = 'wire' | 'underlay0.341' | 'metallb' | 'br-provider' | 'ovn' | 'lb-dnat' | 'pod' | 'host';

/** One step of a frame's walk: where it was and what was decided there. */
export interface TraceStep {
  /** The stage. */
  stage: StageName;
  /** Where: `<node>/<port or component>`, `outside`, or `wire`. */
  at: string;
  /** What was decided, in one line (e.g. `in_port 1 → 2`, `ct_lb_mark → 10.180.204.4:80`, `delivered`). */
  decision: string;
  /** At `br-provider`: the bridge's own trace of this visit, as `ovs-appctl ofproto/trace` shows it. */
  openflow?: BridgeTrace;
  /** At `ovn`/`lb-dnat`: the logical flow hit, as ovn-trace shows it. */
  ovn?: OvnFlowHit;
}

/** A logical flow a frame hit in the OVN switch (ovn-sbctl lflow-list's columns). */
export interface OvnFlowHit {
  pipeline: 'ingress' | 'egress';
  table: number;
  stage: string;
  priority: number;
  match: string;
  actions: string;
}

/** One visit of br-provider, step by step as `ovs-appctl ofproto/trace` prints it. */
export interface BridgeTrace {
  /** The bridge's name (`br-provider`). */
  bridge: string;
  /** The port the frame came in on, by name (`underlay0.341`, `patch-localnet.<subnet>-to-br-int`, `LOCAL`). */
  inPort: string;
  /** Its OpenFlow port number (`LOCAL` for the bridge's internal port). */
  ofport: number | 'LOCAL';
  /** The rule each table lookup found, in the order they ran (a resubmit adds one). */
  rules: BridgeRuleHit[];
  /** ofproto/trace's text: each table's rule, its actions, NORMAL's decisions, drops, then `Datapath actions`. */
  lines: string[];
  /**
   * What the datapath would do with the packet: header edits (`set(eth(dst=…))`, `push_vlan(…)`, `pop_vlan`)
   * then each output port by name, comma-separated; `drop` when nothing left the bridge.
   */
  datapathActions: string;
}

/** A table lookup in br-provider and the rule it found (`match` null: no rule matched, the packet is dropped). */
export interface BridgeRuleHit {
  table: number;
  /** `0x1000` for Kube-OVN's LB rule; null on a miss. */
  cookie: string | null;
  priority: number | null;
  /** The rule's match as `ovs-ofctl dump-flows` prints it (`tcp,in_port=1,nw_dst=…,tp_dst=80`; empty: matches all); null on a miss. */
  match: string | null;
  /** The actions the rule ran, in order (`mod_dl_dst:00:00:00:01:00:01`, `output:2`, `NORMAL`). */
  actions: string[];
}

/** A frame that left the simulation somewhere: to the outside client, or to a pod. */
export interface EmittedFrame {
  /** `outside` or `<node>/<pod-name>`. */
  to: string;
  /** The frame's bytes in hex, as they left (tagged on the wire). */
  hex: string;
}

/** One line of `trace.jsonl`. */
export interface TraceLine {
  /** 1-based record number in the input capture. */
  index: number;
  /** Simulated time in ms since the first frame. */
  time: number;
  /** Where the frame entered: `outside` (the default) or `<node>/<port>` when pinned. */
  ingress: string;
  /** The frame's flow in one line (`tcp 10.180.204.100:41234 > 10.180.204.252:80 vlan 341`), or its kind. */
  flow: string;
  /** Every step in order, across nodes. */
  stages: TraceStep[];
  /**
   * `delivered`: reached a pod; `answered`: something answered without a pod (ARP for the VIP); `forwarded`: left
   * towards the outside or flooded without a final consumer; `dropped`: every copy ended in a drop; `skipped`:
   * not injected (a frame the capture shows the cluster sending, or not Ethernet).
   */
  verdict: 'delivered' | 'answered' | 'forwarded' | 'dropped' | 'skipped';
  /**
   * Drops with where and why: `code` from the fixed table (drops.ts), `reason` its words — in detailed traces
   * with the particulars (which VLAN, which address).
   */
  drops: Array<{ at: string; code: DropCode; reason: string }>;
  /** Frames that reached the client or a pod because of this frame. */
  emitted: EmittedFrame[];
}

/** Something that happened at a point in simulated time (failover, GARP bursts, scheduled events). */
export interface TimelineEvent {
  time: number;
  kind: 'garp' | 'node-down' | 'node-up' | 'endpoint' | 'owner-change';
  text: string;
}

/** `summary.json`. */
export interface ReplaySummary {
  framesRead: number;
  injected: number;
  skippedFromCluster: number;
  skippedNotEthernet: number;
  /**
   * Frames whose timestamp lies more than 2^53 ms after the first frame's (beyond what simulated time can hold):
   * they entered at the previous frame's time.
   */
  timestampsClamped: number;
  /**
   * Distinct flows among the injected frames: IP 5-tuples (direction included), and for other frames the pair
   * of MAC addresses and EtherType; counted exactly up to 1 000 000 (`FLOW_COUNT_LIMIT`), then it stops.
   */
  flows: number;
  /** True when {@link ReplaySummary.flows} stopped at the limit: there were at least that many. */
  flowsCapped: boolean;
  /** Frames through each stage (counted per visit: a flooded frame visits several nodes). */
  stages: Record<StageName, number>;
  /** Frames along each edge of the path diagram, `<from> → <to>` with node-qualified stage names. */
  edges: Array<{ from: string; to: string; frames: number }>;
  toClient: { frames: number; arpRepliesBy: Record<string, number>; gratuitousArpBy: Record<string, number>; tcpFromVip: number; tcpFromPodIp: number; untagged: number };
  /**
   * Requests each pod served and the client addresses it saw (the first 256 distinct; requests from further
   * addresses are counted in `otherClientRequests`).
   */
  servedBy: Record<string, { node: string; requests: number; clients: string[]; otherClientRequests?: number }>;
  /**
   * The IPv4 and IPv6 source addresses of the injected frames (the clients): how many, and the 10 that sent the
   * most frames (IPv4 first on ties). Counted up to 100 000 addresses of each family (`CLIENT_LIMIT`):
   * `addressesCapped` when there were more.
   */
  clients: { addresses: number; addressesCapped?: boolean; top: Array<{ address: string; frames: number }> };
  /** LB selections per node and pod: which backends new connections went to. */
  backends: Record<string, Record<string, number>>;
  /**
   * Copies of frames dropped, by reason in words (`<stage>: <text>`, one key per code of drops.ts: bounded,
   * never an address).
   */
  drops: Record<string, number>;
  /** The same by code (`<stage>.<what>`, drops.ts's DROP_TEXT): what scripts should read. */
  dropCodes: Partial<Record<DropCode, number>>;
  verdicts: Record<TraceLine['verdict'], number>;
  services: Array<{ name: string; ingress: string[]; owners: Record<string, string[]> }>;
  /**
   * Frames injected per bin of simulated time: bin i covers [i·timelineBinMs, (i+1)·timelineBinMs). At most
   * `TIMELINE_BINS` (4 096) bins; the width starts at 1 000 ms and doubles as the capture's span needs.
   */
  timeline: number[];
  /** The width of one {@link ReplaySummary.timeline} bin in ms (1 000 for captures under 4 096 s). */
  timelineBinMs: number;
  events: TimelineEvent[];
}
