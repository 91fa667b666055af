/**
 * `@vippath/metallb` — MetalLB's layer-2 mode as MetalLB does it (facts and sources: research/metallb.md).
 *
 * - {@link compileConfig}: IPAddressPool and L2Advertisement objects, validated ({@link ManifestError} names
 *   the object and field) and compiled.
 * - {@link Allocator}: the controller's address allocation.
 * - {@link shouldAnnounce}, {@link sortCandidates}: the per-speaker election.
 * - {@link Speaker}: one node's ARP/NDP responders and gratuitous announcements.
 * - {@link MetalLB}: all of it across a cluster in simulated time, with node loss, rejoin, endpoint
 *   readiness changes and split membership views.
 *
 * Profiles: `metallb-0.13.7` (the seed's version, the default) and `metallb-current`.
 * @document ../README.md
 * @module @vippath/metallb
 */
export * from './errors.js';
export * from './ip.js';
export * from './objects.js';
export * from './profile.js';
export * from './config.js';
export * from './allocator.js';
export * from './election.js';
export * from './speaker.js';
export * from './metallb.js';
