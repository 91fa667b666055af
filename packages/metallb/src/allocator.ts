/**
 * The controller's address allocation (controller/service.go allocateIPs, internal/allocator): requested
 * IPs, pool annotation, pinned pools by priority, then auto-assign pools; the lowest free or shareable
 * address per prefix; sharing rules; family policy. Pools are tried in the order given — MetalLB iterates
 * a Go map, so with several auto-assign pools its order is random; vippath makes it the declaration order.
 */
import type { MetalLBConfig, Pool } from './config.js';
import { AllocationError } from './errors.js';
import { cidrContains, cidrSize, formatIp, parseIp, type Ip } from './ip.js';
import { anySelectorMatches, objectKey, type ServiceObject } from './objects.js';
import { annotation, PROFILES, type MetalLBProfile, type ProfileRules } from './profile.js';

/** What the allocator remembers about a Service holding addresses. */
interface Holding {
  ips: Ip[];
  pool: string;
  sharingKey: string;
  backendKey: string;
  ports: Set<string>;
}

/** The result of allocating for one Service. */
export interface Allocation {
  ips: string[];
  pool: string;
}

function familiesOf(svc: ServiceObject): Array<4 | 6> {
  const ips = svc.spec.clusterIPs ?? [];
  if (ips.length) return [...new Set(ips.map((t) => parseIp(t).family))];
  const fams = (svc.spec.ipFamilies ?? ['IPv4']).map((f) => (f === 'IPv6' ? 6 : 4) as 4 | 6);
  return [...new Set(fams)];
}

function backendKey(svc: ServiceObject): string {
  // ETP=Local services may share an IP only with services selecting the same pods (k8salloc.go).
  if (svc.spec.externalTrafficPolicy !== 'Local') return '';
  return Object.entries(svc.spec.selector ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(',');
}

function portsOf(svc: ServiceObject): Set<string> {
  return new Set((svc.spec.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`));
}

const ipKey = (ip: Ip): string => `${ip.family}:${ip.value}`;

/** Allocates addresses to Services as MetalLB's controller does, remembering who holds what. */
export class Allocator {
  private readonly holdings = new Map<string, Holding>();
  private readonly users = new Map<string, Set<string>>();
  private readonly rules: ProfileRules;

  constructor(
    private config: MetalLBConfig,
    readonly profile: MetalLBProfile = 'metallb-0.13.7',
  ) {
    this.rules = PROFILES[profile];
  }

  /** Replaces the configuration (existing holdings are kept where still inside a pool). */
  setConfig(config: MetalLBConfig): void {
    this.config = config;
  }

  /** The addresses a Service holds. */
  assigned(svc: string): string[] {
    return this.holdings.get(svc)?.ips.map(formatIp) ?? [];
  }

  /** Releases a Service's addresses. */
  release(svcKey: string): void {
    const h = this.holdings.get(svcKey);
    if (!h) return;
    for (const ip of h.ips) {
      const u = this.users.get(ipKey(ip));
      u?.delete(svcKey);
      if (u?.size === 0) this.users.delete(ipKey(ip));
    }
    this.holdings.delete(svcKey);
  }

  /**
   * Gives `svc` its addresses (keeping ones it already holds or lists in `status.loadBalancer.ingress` when
   * still valid). Throws {@link AllocationError} with MetalLB's reason when it cannot.
   */
  allocate(svc: ServiceObject, namespaceLabels: Record<string, string> = {}): Allocation {
    const key = objectKey(svc.metadata);
    const held = this.holdings.get(key);
    if (held && this.stillValid(key, svc, held.ips, held.pool)) return { ips: held.ips.map(formatIp), pool: held.pool };
    this.release(key);
    const families = familiesOf(svc);
    const policy = svc.spec.ipFamilyPolicy ?? 'SingleStack';
    const clusterIPs = svc.spec.clusterIPs ?? [];
    if (policy === 'RequireDualStack' && clusterIPs.length > 0 && clusterIPs.length < 2) {
      throw new AllocationError(key, 'RequireDualStack needs two clusterIPs (one per family)');
    }
    const existing = (svc.status?.loadBalancer?.ingress ?? []).map((i) => parseIp(i.ip));
    if (existing.length) {
      const pool = this.poolFor(existing[0]!);
      if (pool && existing.every((ip) => this.poolFor(ip) === pool) && this.stillValid(key, svc, existing, pool.name)) return this.hold(key, svc, existing, pool);
    }
    const ann = svc.metadata.annotations;
    const requestedText = annotation(this.rules, ann, 'loadBalancerIPs');
    const poolName = annotation(this.rules, ann, 'address-pool');
    if (requestedText !== undefined && svc.spec.loadBalancerIP) throw new AllocationError(key, 'both the loadBalancerIPs annotation and spec.loadBalancerIP are set; use one');
    const requested = requestedText !== undefined ? requestedText.split(',').map((s) => s.trim()).filter(Boolean) : svc.spec.loadBalancerIP ? [svc.spec.loadBalancerIP] : [];
    if (requested.length) return this.assignRequested(key, svc, requested, families, poolName);
    if (poolName !== undefined) {
      const pool = this.config.pools.find((p) => p.name === poolName);
      if (!pool) throw new AllocationError(key, `the address-pool annotation names "${poolName}", which does not exist`);
      const ips = this.fromPool(key, svc, pool, families, policy);
      if (!ips) throw new AllocationError(key, `no available IPs in pool "${poolName}"`);
      return this.hold(key, svc, ips, pool);
    }
    for (const pool of this.candidatePools(svc, namespaceLabels)) {
      const ips = this.fromPool(key, svc, pool, families, policy);
      if (ips) return this.hold(key, svc, ips, pool);
    }
    throw new AllocationError(key, 'no available IPs');
  }

  private candidatePools(svc: ServiceObject, namespaceLabels: Record<string, string>): Pool[] {
    const ns = svc.metadata.namespace ?? 'default';
    const pinned: Pool[] = [];
    const auto: Pool[] = [];
    for (const pool of this.config.pools) {
      const sa = this.rules.serviceAllocation ? pool.serviceAllocation : undefined;
      if (!sa) {
        if (pool.autoAssign) auto.push(pool);
        continue;
      }
      const nsOk = (sa.namespaces.length === 0 && sa.namespaceSelectors.length === 0) || sa.namespaces.includes(ns) || anySelectorMatches(sa.namespaceSelectors, namespaceLabels);
      const svcOk = sa.serviceSelectors.length === 0 || anySelectorMatches(sa.serviceSelectors, svc.metadata.labels);
      if (nsOk && svcOk) pinned.push(pool);
    }
    // Lower priority numbers first; 0 (unset) last.
    const rank = (p: Pool): number => (p.serviceAllocation!.priority > 0 ? p.serviceAllocation!.priority : Number.MAX_SAFE_INTEGER);
    pinned.sort((a, b) => rank(a) - rank(b));
    return [...pinned, ...auto];
  }

  private poolFor(ip: Ip): Pool | undefined {
    return this.config.pools.find((p) => p.cidrs.some((c) => cidrContains(c, ip)));
  }

  private assignRequested(key: string, svc: ServiceObject, texts: string[], families: Array<4 | 6>, poolName: string | undefined): Allocation {
    if (texts.length > 2) throw new AllocationError(key, `at most two loadBalancerIPs (one per family), got ${texts.length}`);
    let ips: Ip[];
    try {
      ips = texts.map(parseIp);
    } catch (e) {
      throw new AllocationError(key, `invalid requested IP: ${(e as Error).message}`);
    }
    if (ips.length === 2 && ips[0]!.family === ips[1]!.family) throw new AllocationError(key, 'the two requested IPs must be of different families');
    const want = [...families].sort().join(',');
    const got = ips.map((i) => i.family).sort().join(',');
    if (want !== got) throw new AllocationError(key, `requested IP family (${got}) does not match the service's (${want})`);
    const pool = this.poolFor(ips[0]!);
    if (!pool || !ips.every((ip) => this.poolFor(ip) === pool)) throw new AllocationError(key, `${texts.join(',')} is not in any IPAddressPool`);
    if (poolName !== undefined && pool.name !== poolName) throw new AllocationError(key, `${texts.join(',')} is not in the requested pool "${poolName}"`);
    for (const ip of ips) {
      if (!this.shareable(key, svc, ip)) throw new AllocationError(key, `${formatIp(ip)} is already in use by a service it cannot share with`);
    }
    return this.hold(key, svc, ips, pool);
  }

  private fromPool(key: string, svc: ServiceObject, pool: Pool, families: Array<4 | 6>, policy: string): Ip[] | undefined {
    const pick = (family: 4 | 6): Ip | undefined => {
      for (const cidr of pool.cidrs) {
        if (cidr.family !== family) continue;
        const size = cidrSize(cidr);
        // Walk upward from the first address: the lowest free (or shareable) address wins.
        for (let i = 0n; i < size; i++) {
          const ip: Ip = { family, value: cidr.base + i };
          if (pool.avoidBuggyIPs && family === 4) {
            const last = Number(ip.value & 0xffn);
            if (last === 0 || last === 255) continue;
          }
          if (this.shareable(key, svc, ip)) return ip;
        }
      }
      return undefined;
    };
    const v4 = families.includes(4) ? pick(4) : undefined;
    const v6 = families.includes(6) ? pick(6) : undefined;
    const dual = families.length === 2;
    if (!dual) return (families[0] === 4 ? v4 : v6) ? [(families[0] === 4 ? v4 : v6)!] : undefined;
    if (!this.rules.familyPolicy) {
      // v0.13.7: a dual-stack service needs both families from one pool, in the pool's prefix order.
      if (!v4 || !v6) return undefined;
      const firstFamily = pool.cidrs.find((c) => c.family === 4 || c.family === 6)!.family;
      return firstFamily === 4 ? [v4, v6] : [v6, v4];
    }
    if (v4 && v6) return [v4, v6];
    if (policy === 'RequireDualStack') return undefined;
    return v4 ? [v4] : v6 ? [v6] : undefined;
  }

  private shareable(key: string, svc: ServiceObject, ip: Ip): boolean {
    const users = this.users.get(ipKey(ip));
    if (!users || users.size === 0 || (users.size === 1 && users.has(key))) return true;
    const sharing = annotation(this.rules, svc.metadata.annotations, 'allow-shared-ip') ?? '';
    if (!sharing) return false;
    const ports = portsOf(svc);
    const backend = backendKey(svc);
    for (const other of users) {
      if (other === key) continue;
      const h = this.holdings.get(other)!;
      if (h.sharingKey !== sharing || h.backendKey !== backend) return false;
      for (const p of ports) if (h.ports.has(p)) return false;
    }
    return true;
  }

  private stillValid(key: string, svc: ServiceObject, ips: Ip[], poolName: string): boolean {
    const pool = this.config.pools.find((p) => p.name === poolName);
    return !!pool && ips.every((ip) => pool.cidrs.some((c) => cidrContains(c, ip)) && this.shareable(key, svc, ip));
  }

  private hold(key: string, svc: ServiceObject, ips: Ip[], pool: Pool): Allocation {
    this.release(key);
    this.holdings.set(key, { ips, pool: pool.name, sharingKey: annotation(this.rules, svc.metadata.annotations, 'allow-shared-ip') ?? '', backendKey: backendKey(svc), ports: portsOf(svc) });
    for (const ip of ips) {
      const k = ipKey(ip);
      if (!this.users.has(k)) this.users.set(k, new Set());
      this.users.get(k)!.add(key);
    }
    return { ips: ips.map(formatIp), pool: pool.name };
  }
}
