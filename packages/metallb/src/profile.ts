/**
 * MetalLB versions whose behaviour differs in ways the simulation shows (research/metallb.md §2.2, §2.3,
 * §3, §6.4). The seed deploys v0.13.7.
 */
export type MetalLBProfile = 'metallb-0.13.7' | 'metallb-current';

/** The behaviour switches of a profile. */
export interface ProfileRules {
  /** Annotations are read under `metallb.io/` too (v0.14.9+); v0.13.7 knows only `metallb.universe.tf/`. */
  metallbIoAnnotations: boolean;
  /** Nodes with `NetworkUnavailable=True` are not candidates (v0.13.10+). */
  excludeNetworkUnavailable: boolean;
  /** The exclude-from-external-load-balancers label removes a node (v0.14.0+). */
  excludeLbLabel: boolean;
  /** A node without a matching advertisement answers "noMatchingAdvertisement" (later) or "notOwner" (v0.13.7). */
  noMatchingAdvertisementReason: boolean;
  /** Endpoint "can serve": ready-or-serving (v0.14.5+) vs ready only (v0.13.x). */
  servingCounts: boolean;
  /** The default interface exclusion list (^veth.*, ^docker.*, …) exists (v0.13.10+). */
  defaultInterfaceExclusions: boolean;
  /** IPAddressPool.spec.serviceAllocation is honoured (v0.13.8+). */
  serviceAllocation: boolean;
  /** Dual-stack family policy of v0.14.9+ (PreferDualStack falls back to one family). */
  familyPolicy: boolean;
  /** Memberlist disabled ⇒ every Node is a candidate (v0.15.0+) rather than nobody. */
  nodesWithoutMemberlist: boolean;
}

/** The rules of each profile. */
export const PROFILES: Record<MetalLBProfile, ProfileRules> = {
  'metallb-0.13.7': {
    metallbIoAnnotations: false,
    excludeNetworkUnavailable: false,
    excludeLbLabel: false,
    noMatchingAdvertisementReason: false,
    servingCounts: false,
    defaultInterfaceExclusions: false,
    serviceAllocation: false,
    familyPolicy: false,
    nodesWithoutMemberlist: false,
  },
  'metallb-current': {
    metallbIoAnnotations: true,
    excludeNetworkUnavailable: true,
    excludeLbLabel: true,
    noMatchingAdvertisementReason: true,
    servingCounts: true,
    defaultInterfaceExclusions: true,
    serviceAllocation: true,
    familyPolicy: true,
    nodesWithoutMemberlist: true,
  },
};

/** Reads an annotation under `metallb.io/` (when the profile knows it) or the deprecated `metallb.universe.tf/`. */
export function annotation(rules: ProfileRules, annotations: Record<string, string> | undefined, name: string): string | undefined {
  if (!annotations) return undefined;
  if (rules.metallbIoAnnotations && annotations[`metallb.io/${name}`] !== undefined) return annotations[`metallb.io/${name}`];
  return annotations[`metallb.universe.tf/${name}`];
}
