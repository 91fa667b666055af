/**
 * MetalLB in layer-2 mode across a cluster, in simulated time: the controller allocates, every live speaker
 * elects with its own membership view, winners announce (and send gratuitous ARP/NA), losers withdraw
 * silently. Node loss reaches the other speakers after memberlist's failure detection; endpoint readiness
 * changes re-run the election at once. Split views are representable (`setView`): two owners is a real
 * failure mode (metallb#589).
 */
import { Allocator } from './allocator.js';
import { compileConfig, type MetalLBConfig, type Pool } from './config.js';
import { announcedInterfaces, decide, electionView, type ElectionResult, type ElectionView } from './election.js';
import { AllocationError } from './errors.js';
import { cidrContains, parseIp } from './ip.js';
import { objectKey, type Endpoint, type IPAddressPoolObject, type L2AdvertisementObject, type NodeObject, type ServiceObject } from './objects.js';
import type { MetalLBProfile } from './profile.js';
import { Speaker, type EmittedFrame, type ResponderVerdict, type SpeakerInterface } from './speaker.js';

/** A node: its Kubernetes object and the interfaces its speaker sees. */
export interface MetalLBNode {
  node: NodeObject;
  interfaces: SpeakerInterface[];
}

/** A LoadBalancer Service and its endpoints (EndpointSlice entries). */
export interface MetalLBService {
  service: ServiceObject;
  endpoints: Endpoint[];
}

/** Options of the model. */
export interface MetalLBOptions {
  profile?: MetalLBProfile;
  /**
   * Time from a speaker's death to its removal from the others' views: memberlist probe failure (~1 s) plus
   * the suspicion timeout (4 × max(1, log10 n) s; 4 s below 10 nodes). Default 5000 ms.
   */
  failureDetectionMs?: number;
  /** Time from a speaker's start to its joining the others' views. Default 0 (it contacts them at start). */
  rejoinMs?: number;
  /** `--ignore-exclude-lb`. */
  ignoreExcludeLb?: boolean;
  /** `false`: memberlist disabled (v0.13.7: nobody announces; later: every Node is a candidate). */
  memberlist?: boolean;
  /**
   * Announcers as a cluster recorded them (ServiceL2Status: service key → node), for replaying a collected
   * cluster as it was: while the recorded node is a candidate it wins the election; otherwise the election is
   * computed. {@link MetalLB.recorded} tells where the record and the computation differ.
   */
  recordedAnnouncers?: ReadonlyMap<string, string>;
}

/** Something the model did, for traces and reports. */
export type MetalLBEvent =
  | { time: number; type: 'allocated'; service: string; ips: string[]; pool: string }
  | { time: number; type: 'allocationFailed'; service: string; reason: string }
  | { time: number; type: 'nodeAssigned'; service: string; node: string; ips: string[] }
  | { time: number; type: 'withdrawn'; service: string; node: string; reason: ElectionResult }
  | { time: number; type: 'announceFailed'; service: string; node: string; message: string }
  | { time: number; type: 'speakerDown' | 'speakerUp'; node: string }
  | { time: number; type: 'viewChanged'; node: string; members: string[] }
  | { time: number; type: 'endpointChanged'; service: string; endpoint: number; ready: boolean };

type Scheduled = { time: number; seq: number; run: () => void };

/** The MetalLB deployment of a cluster. */
export class MetalLB {
  readonly profile: MetalLBProfile;
  readonly config: MetalLBConfig;
  readonly speakers = new Map<string, Speaker>();
  readonly events: MetalLBEvent[] = [];
  private readonly nodes = new Map<string, NodeObject>();
  private readonly services = new Map<string, MetalLBService>();
  private readonly views = new Map<string, Set<string>>();
  private readonly recordedAnnouncers: ReadonlyMap<string, string>;
  /**
   * Per service with a recorded announcer: the node MetalLB's hash would elect, the recorded one, and whether the
   * record was followed (it is not when the recorded node is no candidate). Kept from the latest election.
   */
  readonly recorded = new Map<string, { computed: string | undefined; recorded: string; followed: boolean }>();
  private readonly alive = new Set<string>();
  private readonly allocator: Allocator;
  private readonly ingress = new Map<string, { ips: string[]; pool: Pool }>();
  /** Which node announces what, per service, as last decided (for change events). */
  private readonly announcing = new Map<string, Set<string>>();
  private readonly queue: Scheduled[] = [];
  private seq = 0;
  private clock = 0;
  private readonly options: Required<Omit<MetalLBOptions, 'profile' | 'recordedAnnouncers'>>;

  constructor(init: { pools: IPAddressPoolObject[]; advertisements: L2AdvertisementObject[]; nodes: MetalLBNode[]; services: MetalLBService[] }, options: MetalLBOptions = {}) {
    this.profile = options.profile ?? 'metallb-0.13.7';
    this.options = { failureDetectionMs: options.failureDetectionMs ?? 5000, rejoinMs: options.rejoinMs ?? 0, ignoreExcludeLb: options.ignoreExcludeLb ?? false, memberlist: options.memberlist ?? true };
    this.recordedAnnouncers = options.recordedAnnouncers ?? new Map();
    this.config = compileConfig(init.pools, init.advertisements, init.nodes.map((n) => n.node));
    this.allocator = new Allocator(this.config, this.profile);
    for (const n of init.nodes) {
      const name = n.node.metadata.name;
      this.nodes.set(name, n.node);
      this.speakers.set(name, new Speaker(name, n.interfaces, { profile: this.profile }));
      this.alive.add(name);
    }
    // One view shared by every speaker until one changes (copy on write, see changeViews): N speakers with N
    // private copies of the same membership cost N² memory for 10 000 nodes.
    const all = new Set(this.alive);
    for (const name of this.alive) this.views.set(name, all);
    for (const s of init.services) this.services.set(objectKey(s.service.metadata), { service: s.service, endpoints: s.endpoints.map((e) => ({ ...e })) });
    this.reconcile();
  }

  /** Simulated time in milliseconds. */
  get now(): number {
    return this.clock;
  }

  /** The addresses a Service was given (`status.loadBalancer.ingress`). */
  ingressOf(service: string): string[] {
    return this.ingress.get(service)?.ips ?? [];
  }

  /** Nodes whose speakers announce `ip` now (more than one means split brain). */
  owners(ip: string): string[] {
    const canonical = parseIp(ip);
    return [...this.speakers.values()].filter((s) => this.alive.has(s.node) && s.announcedIps.some((a) => { const x = parseIp(a); return x.family === canonical.family && x.value === canonical.value; })).map((s) => s.node);
  }

  /**
   * The owners of `ip` that can actually answer for it (a responder on an interface their announcement covers).
   * Fewer than {@link owners} when an L2Advertisement's `interfaces` leaves out every interface with a responder:
   * MetalLB still reports the node (ServiceL2Status, `nodeAssigned`), but nobody answers ARP.
   */
  announcers(ip: string): string[] {
    return this.owners(ip).filter((n) => this.speakers.get(n)!.answeringInterfaces(ip).length > 0);
  }

  /** A frame arriving at `node` on `iface`. A dead speaker answers nothing. */
  receive(node: string, iface: string, frame: Uint8Array, length = frame.length): ResponderVerdict {
    const s = this.speakers.get(node);
    if (!s || !this.alive.has(node)) return { verdict: 'ignore' };
    return s.receive(iface, frame, length);
  }

  /** Per node, how many times it went down: a pending failure detection of an older loss is void. */
  private readonly downEpoch = new Map<string, number>();

  /** Kills `node`'s speaker at `at`; the others notice after the failure-detection delay. */
  nodeDown(node: string, at: number): void {
    this.schedule(at, () => {
      if (!this.alive.delete(node)) return;
      const s = this.speakers.get(node)!;
      for (const svc of this.services.keys()) s.withdraw(svc);
      this.events.push({ time: this.clock, type: 'speakerDown', node });
      const epoch = (this.downEpoch.get(node) ?? 0) + 1;
      this.downEpoch.set(node, epoch);
      this.schedule(this.clock + this.options.failureDetectionMs, () => {
        // Back before the others declared it dead (memberlist refutes the suspicion with a newer incarnation),
        // or lost again since: this detection is void.
        if (this.alive.has(node) || this.downEpoch.get(node) !== epoch) return;
        const changed = this.changeViews((n, view) => n !== node && view.has(node), (view) => view.delete(node));
        // NodeLeave reaches each speaker that saw it: those resync (speakerlist → ForceSync).
        this.reconcile(changed);
      });
    });
  }

  /** Starts `node`'s speaker again at `at`; the others see it after `rejoinMs`, and it reclaims what it ranks first for. */
  nodeUp(node: string, at: number): void {
    this.schedule(at, () => {
      if (this.alive.has(node) || !this.speakers.has(node)) return;
      this.alive.add(node);
      this.views.set(node, new Set([...this.alive]));
      this.events.push({ time: this.clock, type: 'speakerUp', node });
      // The starting speaker syncs everything; the others only once they see it join.
      this.reconcile([node]);
      this.schedule(this.clock + this.options.rejoinMs, () => {
        const changed = this.changeViews((n, view) => n !== node && this.alive.has(n) && !view.has(node), (view) => view.add(node));
        this.reconcile(changed);
      });
    });
  }

  /** Sets one speaker's membership view at `at` (a partition: each side sees only itself). */
  setView(node: string, members: readonly string[], at: number): void {
    this.schedule(at, () => {
      this.views.set(node, new Set(members));
      this.events.push({ time: this.clock, type: 'viewChanged', node, members: [...members] });
      this.reconcile([node]);
    });
  }

  /** Changes the readiness of endpoint `index` of `service` at `at` (EndpointSlice update ⇒ resync). */
  setEndpointReady(service: string, index: number, ready: boolean, at: number): void {
    this.schedule(at, () => {
      const s = this.services.get(service);
      const ep = s?.endpoints[index];
      if (!ep) throw new RangeError(`Service ${service} has no endpoint ${index}`);
      ep.ready = ready;
      ep.serving = ready;
      this.events.push({ time: this.clock, type: 'endpointChanged', service, endpoint: index, ready });
      this.reconcile();
    });
  }

  /**
   * Runs the simulation up to `to` (ms): scheduled events and gratuitous announcements in time order.
   * Returns the frames the speakers sent on their own.
   */
  advance(to: number): EmittedFrame[] {
    const out: EmittedFrame[] = [];
    for (;;) {
      const event = this.queue[0];
      const garp = this.nextGarp();
      const next = Math.min(event?.time ?? Infinity, garp ?? Infinity);
      if (next > to) break;
      this.clock = Math.max(this.clock, next);
      if (garp !== undefined && garp <= (event?.time ?? Infinity)) {
        for (const s of this.speakers.values()) if (this.alive.has(s.node)) out.push(...s.tick(this.clock));
        continue;
      }
      this.queue.shift()!.run();
      for (const s of this.speakers.values()) if (this.alive.has(s.node)) out.push(...s.tick(this.clock));
    }
    this.clock = Math.max(this.clock, to);
    for (const s of this.speakers.values()) if (this.alive.has(s.node)) out.push(...s.tick(this.clock));
    return out.sort((a, b) => a.time - b.time);
  }

  /** When {@link advance} next has something to do (an event or an announcement), or Infinity. */
  nextDue(): number {
    return Math.min(this.queue[0]?.time ?? Infinity, this.nextGarp() ?? Infinity);
  }

  private nextGarp(): number | undefined {
    let t: number | undefined;
    for (const s of this.speakers.values()) {
      if (!this.alive.has(s.node)) continue;
      const d = s.nextDue();
      if (d !== undefined && (t === undefined || d < t)) t = d;
    }
    return t;
  }

  /**
   * Applies `edit` to the view of every speaker `which` selects, copying each shared view once (speakers that
   * shared a view before share its edited copy after). Returns the speakers whose view changed.
   */
  private changeViews(which: (node: string, view: ReadonlySet<string>) => boolean, edit: (view: Set<string>) => void): string[] {
    const copies = new Map<Set<string>, Set<string>>();
    const changed: string[] = [];
    for (const [n, view] of this.views) {
      if (!which(n, view)) continue;
      let copy = copies.get(view);
      if (!copy) {
        copy = new Set(view);
        edit(copy);
        copies.set(view, copy);
      }
      this.views.set(n, copy);
      changed.push(n);
      this.events.push({ time: this.clock, type: 'viewChanged', node: n, members: [...copy] });
    }
    return changed;
  }

  private schedule(time: number, run: () => void): void {
    this.queue.push({ time, seq: this.seq++, run });
    this.queue.sort((a, b) => a.time - b.time || a.seq - b.seq);
  }

  /**
   * The controller allocates; the given live speakers (default: all) decide for every service — a full
   * resync, as a speaker does on a memberlist event, an EndpointSlice or config change.
   */
  reconcile(which?: Iterable<string>): void {
    const resync = new Set(which ?? this.speakers.keys());
    for (const [key, s] of this.services) {
      if ((s.service.spec.type ?? 'LoadBalancer') !== 'LoadBalancer') continue;
      try {
        const alloc = this.allocator.allocate(s.service);
        const pool = this.config.pools.find((p) => p.name === alloc.pool)!;
        const before = this.ingress.get(key);
        if (!before || before.ips.join() !== alloc.ips.join()) this.events.push({ time: this.clock, type: 'allocated', service: key, ips: alloc.ips, pool: alloc.pool });
        this.ingress.set(key, { ips: alloc.ips, pool });
      } catch (e) {
        if (!(e instanceof AllocationError)) throw e;
        if (this.ingress.has(key) || !this.events.some((ev) => ev.type === 'allocationFailed' && ev.service === key)) {
          this.events.push({ time: this.clock, type: 'allocationFailed', service: key, reason: e.message });
        }
        this.ingress.delete(key);
      }
      const ing = this.ingress.get(key);
      const now = new Set<string>();
      // Speakers sharing a view elect alike: one election per distinct view.
      const elections = new Map<ReadonlySet<string> | null, ElectionView>();
      for (const speaker of this.speakers.values()) {
        if (!this.alive.has(speaker.node)) continue;
        if (!resync.has(speaker.node)) {
          if (this.announcing.get(key)?.has(speaker.node)) now.add(speaker.node);
          continue;
        }
        if (!ing) {
          speaker.withdraw(key);
          continue;
        }
        const members = this.options.memberlist ? this.views.get(speaker.node)! : null;
        let view = elections.get(members);
        if (!view) {
          view = electionView({ service: s.service, ips: ing.ips, pool: ing.pool, endpoints: s.endpoints, nodes: this.nodes, members, profile: this.profile, ignoreExcludeLb: this.options.ignoreExcludeLb });
          const rec = this.recordedAnnouncers.get(key);
          if (rec !== undefined) {
            const at = view.candidates.indexOf(rec);
            this.recorded.set(key, { computed: view.candidates[0], recorded: rec, followed: at >= 0 });
            if (at > 0) view = { ...view, candidates: [rec, ...view.candidates.filter((n) => n !== rec)] };
          }
          elections.set(members, view);
        }
        const outcome = decide(speaker.node, view, this.profile);
        const was = this.announcing.get(key)?.has(speaker.node) ?? false;
        if (outcome.result === '') {
          const res = speaker.announce(key, ing.ips, announcedInterfaces(outcome.advertisements, speaker.node), this.clock);
          if (res.announceFailed) this.events.push({ time: this.clock, type: 'announceFailed', service: key, node: speaker.node, message: res.announceFailed });
          else {
            now.add(speaker.node);
            if (!was) this.events.push({ time: this.clock, type: 'nodeAssigned', service: key, node: speaker.node, ips: ing.ips });
          }
        } else {
          speaker.withdraw(key);
          if (was) this.events.push({ time: this.clock, type: 'withdrawn', service: key, node: speaker.node, reason: outcome.result });
        }
      }
      this.announcing.set(key, now);
    }
  }

  /** True when `ip` lies in one of the pools (a pool address, assigned or not). */
  inPool(ip: string): boolean {
    const x = parseIp(ip);
    return this.config.pools.some((p) => p.cidrs.some((c) => cidrContains(c, x)));
  }
}
