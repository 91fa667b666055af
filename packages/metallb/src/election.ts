/**
 * Who announces a Service's addresses: MetalLB's `ShouldAnnounce` (speaker/layer2_controller.go), run by
 * every speaker alone with its own view of the cluster. research/metallb.md §2.
 */
import { createHash } from 'node:crypto';
import type { L2Advertisement, Pool } from './config.js';
import { anySelectorMatches, type Endpoint, type NodeObject, type ServiceObject } from './objects.js';
import { PROFILES, type MetalLBProfile } from './profile.js';

/** `''` = "I announce"; otherwise MetalLB's reason for not announcing. */
export type ElectionResult = '' | 'notOwner' | 'noMatchingAdvertisement';

/** The label that keeps a node out of load-balancer duty (v0.14.0+). */
export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/**
 * Orders candidates as MetalLB does: higher preference score first, then ascending SHA-256 of
 * `"<node>#<ip>"` compared bytewise. The first is the winner.
 */
export function sortCandidates(nodes: readonly string[], ip: string, scores: Readonly<Record<string, number>> = {}): string[] {
  const digest = new Map(nodes.map((n) => [n, createHash('sha256').update(`${n}#${ip}`).digest()]));
  // Own properties only: node names are user-given, and `scores.constructor` is not a score.
  const score = (n: string): number => (Object.hasOwn(scores, n) ? scores[n]! : 0);
  return [...nodes].sort((a, b) => score(b) - score(a) || Buffer.compare(digest.get(a)!, digest.get(b)!));
}

/** Whether an endpoint "can serve" (internal/k8s/epslices: v0.13 ready-only; v0.14.5+ ready-or-serving). */
export function endpointCanServe(ep: Endpoint, profile: MetalLBProfile): boolean {
  if (ep.ready === undefined || ep.ready) return true;
  return PROFILES[profile].servingCounts && ep.serving === true;
}

/** Everything one speaker knows when it decides. */
export interface ElectionInput {
  /** The deciding speaker's node. */
  node: string;
  service: ServiceObject;
  /** The Service's ingress addresses, in `status.loadBalancer.ingress` order (the first is hashed). */
  ips: readonly string[];
  pool: Pool;
  endpoints: readonly Endpoint[];
  /** Kubernetes Nodes by name. */
  nodes: ReadonlyMap<string, NodeObject>;
  /** This speaker's memberlist view (alive and suspect members, itself included); `null`: memberlist disabled. */
  members: ReadonlySet<string> | null;
  profile: MetalLBProfile;
  /** `--ignore-exclude-lb`. */
  ignoreExcludeLb?: boolean;
}

/** The decision, with what led to it (for traces and reports). */
export interface ElectionOutcome {
  result: ElectionResult;
  /** Candidates in election order (empty when nobody can announce). */
  candidates: string[];
  /** The advertisements that apply to this Service. */
  advertisements: L2Advertisement[];
}

/** Advertisements of the pool that apply to the Service (serviceSelectors empty or matching). */
export function advertisementsForService(pool: Pool, svc: ServiceObject): L2Advertisement[] {
  return pool.l2Advertisements.filter((ad) => ad.serviceSelectors.length === 0 || anySelectorMatches(ad.serviceSelectors, svc.metadata.labels));
}

/** What every speaker with the same view computes alike: the serving endpoints, the advertisements, the candidates in order. */
export interface ElectionView {
  /** False when no endpoint can serve anywhere (every node withdraws). */
  serving: boolean;
  advertisements: L2Advertisement[];
  /** Candidates in election order. */
  candidates: string[];
}

/**
 * The part of `ShouldAnnounce` that does not depend on the deciding speaker, only on its view: computed once per
 * distinct view, so a cluster of N nodes sharing one view costs one election, not N (each sorting N candidates).
 */
export function electionView(input: Omit<ElectionInput, 'node'>): ElectionView {
  const rules = PROFILES[input.profile];
  const serving = input.endpoints.filter((ep) => endpointCanServe(ep, input.profile));
  const ads = advertisementsForService(input.pool, input.service);
  if (serving.length === 0) return { serving: false, advertisements: ads, candidates: [] };
  let pool: Iterable<string>;
  if (input.members) pool = input.members;
  else if (rules.nodesWithoutMemberlist) pool = input.nodes.keys();
  else pool = []; // v0.13.7: memberlist disabled ⇒ no usable speakers ⇒ nobody announces (metallb#2425).
  const speakers = [...pool].filter((name) => {
    const node = input.nodes.get(name);
    if (rules.excludeNetworkUnavailable && node?.status?.conditions?.some((c) => c.type === 'NetworkUnavailable' && c.status === 'True')) return false;
    if (rules.excludeLbLabel && !input.ignoreExcludeLb && node?.metadata.labels && EXCLUDE_LB_LABEL in node.metadata.labels) return false;
    return ads.some((ad) => ad.nodes.has(name));
  });
  let candidates = speakers;
  if (input.service.spec.externalTrafficPolicy === 'Local') {
    const withEndpoint = new Set(serving.map((ep) => ep.nodeName).filter((n): n is string => !!n));
    candidates = speakers.filter((n) => withEndpoint.has(n));
  }
  if (candidates.length === 0 || input.ips.length === 0) return { serving: true, advertisements: ads, candidates: [] };
  return { serving: true, advertisements: ads, candidates: sortCandidates([...new Set(candidates)], input.ips[0]!) };
}

/** One speaker's decision from its view's {@link electionView}. */
export function decide(node: string, view: ElectionView, profile: MetalLBProfile): ElectionOutcome {
  const ads = view.advertisements;
  if (!view.serving) return { result: 'notOwner', candidates: [], advertisements: ads };
  if (!ads.some((ad) => ad.nodes.has(node))) {
    return { result: PROFILES[profile].noMatchingAdvertisementReason ? 'noMatchingAdvertisement' : 'notOwner', candidates: [], advertisements: ads };
  }
  if (view.candidates.length === 0) return { result: 'notOwner', candidates: [], advertisements: ads };
  return { result: view.candidates[0] === node ? '' : 'notOwner', candidates: view.candidates, advertisements: ads };
}

/** MetalLB's `ShouldAnnounce` for one speaker. */
export function shouldAnnounce(input: ElectionInput): ElectionOutcome {
  return decide(input.node, electionView(input), input.profile);
}

/**
 * The interfaces the winner announces on (ipAdvertisementFor): all, if any of its advertisements lists none;
 * else the union of their lists.
 */
export function announcedInterfaces(ads: readonly L2Advertisement[], node: string): { all: boolean; interfaces: string[] } {
  const mine = ads.filter((ad) => ad.nodes.has(node));
  if (mine.some((ad) => ad.interfaces.length === 0)) return { all: true, interfaces: [] };
  return { all: false, interfaces: [...new Set(mine.flatMap((ad) => ad.interfaces))] };
}
