/**
 * Validating and compiling IPAddressPool and L2Advertisement objects into the form the allocator and the
 * election use (internal/config/config.go): pools with their prefixes, advertisements resolved to node sets.
 * Errors name the object and the field, as MetalLB's webhook would refuse them.
 */
import { ManifestError } from './errors.js';
import { cidrsOverlap, formatCidr, parseCidr, parseIp, summarizeRange, type Cidr } from './ip.js';
import { anySelectorMatches, type IPAddressPoolObject, type L2AdvertisementObject, type LabelSelector, type NodeObject } from './objects.js';

/** A compiled L2Advertisement. */
export interface L2Advertisement {
  name: string;
  /** Names of the nodes it selects (all nodes when it has no nodeSelectors). */
  nodes: ReadonlySet<string>;
  /** Interface names; empty means all interfaces. */
  interfaces: readonly string[];
  /** Services it applies to (empty: all). */
  serviceSelectors: readonly LabelSelector[];
}

/** A compiled IPAddressPool. */
export interface Pool {
  name: string;
  labels: Record<string, string>;
  cidrs: readonly Cidr[];
  autoAssign: boolean;
  avoidBuggyIPs: boolean;
  serviceAllocation?: {
    priority: number;
    namespaces: readonly string[];
    namespaceSelectors: readonly LabelSelector[];
    serviceSelectors: readonly LabelSelector[];
  };
  /** The advertisements attached to this pool. */
  l2Advertisements: readonly L2Advertisement[];
}

/** The compiled configuration. */
export interface MetalLBConfig {
  pools: readonly Pool[];
  advertisements: readonly L2Advertisement[];
}

const POOL_SPEC = new Set(['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation']);
const ALLOC_SPEC = new Set(['priority', 'namespaces', 'namespaceSelectors', 'serviceSelectors']);
const AD_SPEC = new Set(['ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'interfaces', 'serviceSelectors']);
const SELECTOR = new Set(['matchLabels', 'matchExpressions']);
const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function unknownFields(object: string, path: string, value: object | undefined, allowed: ReadonlySet<string>): void {
  for (const k of Object.keys(value ?? {})) {
    if (!allowed.has(k)) throw new ManifestError(object, `${path}.${k}`, `unknown field (allowed: ${[...allowed].join(', ')})`);
  }
}

function duplicates(object: string, path: string, list: readonly unknown[]): void {
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const key = JSON.stringify(item);
    if (seen.has(key)) throw new ManifestError(object, `${path}[${i}]`, `duplicate entry ${key}`);
    seen.add(key);
  });
}

function selectors(object: string, path: string, list: LabelSelector[] | undefined): LabelSelector[] {
  const out = list ?? [];
  if (!Array.isArray(out)) throw new ManifestError(object, path, 'must be a list of label selectors');
  out.forEach((s, i) => {
    unknownFields(object, `${path}[${i}]`, s, SELECTOR);
    (s.matchExpressions ?? []).forEach((e, j) => {
      if (!OPERATORS.has(e.operator)) throw new ManifestError(object, `${path}[${i}].matchExpressions[${j}].operator`, `"${e.operator}" is not one of In, NotIn, Exists, DoesNotExist`);
      if ((e.operator === 'In' || e.operator === 'NotIn') && !(e.values ?? []).length) {
        throw new ManifestError(object, `${path}[${i}].matchExpressions[${j}].values`, `operator ${e.operator} needs values`);
      }
    });
  });
  duplicates(object, path, out);
  return out;
}

/** Parses one `addresses` entry: a CIDR (host bits masked) or `start-end` (summarised to ascending CIDRs). */
export function parsePoolAddresses(object: string, field: string, entry: string): Cidr[] {
  const text = String(entry).trim();
  try {
    if (text.includes('/')) return [parseCidr(text)];
    const dash = text.indexOf('-');
    if (dash < 0) throw new Error('expected a CIDR like 10.0.0.0/24 or a range like 10.0.0.10-10.0.0.20');
    const start = parseIp(text.slice(0, dash).trim());
    const end = parseIp(text.slice(dash + 1).trim());
    if (start.family !== end.family) throw new Error('range mixes IPv4 and IPv6');
    if (start.value > end.value) throw new Error('range start is after its end');
    return summarizeRange(start, end);
  } catch (e) {
    throw new ManifestError(object, field, `invalid address range "${text}": ${(e as Error).message}`);
  }
}

/**
 * Compiles pools and advertisements. `nodes` resolves `nodeSelectors` (MetalLB does it at config-load time,
 * so a Node label change means a recompile).
 */
export function compileConfig(pools: IPAddressPoolObject[], advertisements: L2AdvertisementObject[], nodes: NodeObject[]): MetalLBConfig {
  const poolNames = new Set<string>();
  const compiled: Array<Omit<Pool, 'l2Advertisements'> & { l2Advertisements: L2Advertisement[] }> = [];
  const allCidrs: Array<{ cidr: Cidr; pool: string; field: string }> = [];
  pools.forEach((p) => {
    const object = `IPAddressPool/${p.metadata?.name}`;
    if (!p.metadata?.name) throw new ManifestError(object, 'metadata.name', 'missing');
    if (poolNames.has(p.metadata.name)) throw new ManifestError(object, 'metadata.name', 'two IPAddressPools have this name');
    poolNames.add(p.metadata.name);
    unknownFields(object, 'spec', p.spec, POOL_SPEC);
    if (!Array.isArray(p.spec?.addresses) || p.spec.addresses.length === 0) throw new ManifestError(object, 'spec.addresses', 'needs at least one CIDR or range');
    const cidrs: Cidr[] = [];
    p.spec.addresses.forEach((entry, i) => {
      const field = `spec.addresses[${i}]`;
      for (const cidr of parsePoolAddresses(object, field, entry)) {
        const clash = allCidrs.find((c) => cidrsOverlap(c.cidr, cidr));
        if (clash) {
          throw new ManifestError(object, field, `${formatCidr(cidr)} overlaps ${formatCidr(clash.cidr)} of IPAddressPool/${clash.pool} (${clash.field})`);
        }
        allCidrs.push({ cidr, pool: p.metadata.name, field });
        cidrs.push(cidr);
      }
    });
    for (const flag of ['autoAssign', 'avoidBuggyIPs'] as const) {
      if (p.spec[flag] !== undefined && typeof p.spec[flag] !== 'boolean') throw new ManifestError(object, `spec.${flag}`, 'must be true or false');
    }
    const sa = p.spec.serviceAllocation;
    unknownFields(object, 'spec.serviceAllocation', sa, ALLOC_SPEC);
    compiled.push({
      name: p.metadata.name,
      labels: p.metadata.labels ?? {},
      cidrs,
      autoAssign: p.spec.autoAssign ?? true,
      avoidBuggyIPs: p.spec.avoidBuggyIPs ?? false,
      ...(sa
        ? {
            serviceAllocation: {
              priority: sa.priority ?? 0,
              namespaces: sa.namespaces ?? [],
              namespaceSelectors: selectors(object, 'spec.serviceAllocation.namespaceSelectors', sa.namespaceSelectors),
              serviceSelectors: selectors(object, 'spec.serviceAllocation.serviceSelectors', sa.serviceSelectors),
            },
          }
        : {}),
      l2Advertisements: [],
    });
  });

  const adNames = new Set<string>();
  const ads: L2Advertisement[] = [];
  advertisements.forEach((a) => {
    const object = `L2Advertisement/${a.metadata?.name}`;
    if (!a.metadata?.name) throw new ManifestError(object, 'metadata.name', 'missing');
    if (adNames.has(a.metadata.name)) throw new ManifestError(object, 'metadata.name', 'two L2Advertisements have this name');
    adNames.add(a.metadata.name);
    const spec = a.spec ?? {};
    unknownFields(object, 'spec', spec, AD_SPEC);
    const poolList = spec.ipAddressPools ?? [];
    duplicates(object, 'spec.ipAddressPools', poolList);
    poolList.forEach((name, i) => {
      if (!poolNames.has(name)) throw new ManifestError(object, `spec.ipAddressPools[${i}]`, `no IPAddressPool named "${name}"`);
    });
    const poolSelectors = selectors(object, 'spec.ipAddressPoolSelectors', spec.ipAddressPoolSelectors);
    const nodeSelectors = selectors(object, 'spec.nodeSelectors', spec.nodeSelectors);
    const interfaces = spec.interfaces ?? [];
    duplicates(object, 'spec.interfaces', interfaces);
    const ad: L2Advertisement = {
      name: a.metadata.name,
      nodes: new Set(nodes.filter((n) => nodeSelectors.length === 0 || anySelectorMatches(nodeSelectors, n.metadata.labels)).map((n) => n.metadata.name)),
      interfaces,
      serviceSelectors: selectors(object, 'spec.serviceSelectors', spec.serviceSelectors),
    };
    ads.push(ad);
    // Both lists empty: the advertisement applies to every pool. A pool selected twice is attached once.
    const all = poolList.length === 0 && poolSelectors.length === 0;
    for (const pool of compiled) {
      if (all || poolList.includes(pool.name) || anySelectorMatches(poolSelectors, pool.labels)) pool.l2Advertisements.push(ad);
    }
  });
  return { pools: compiled, advertisements: ads };
}

/** How many addresses a pool can hand out (avoidBuggyIPs removes IPv4 addresses ending in .0 or .255). */
export function poolSize(pool: Pool): bigint {
  let n = 0n;
  for (const c of pool.cidrs) {
    const size = 1n << BigInt((c.family === 4 ? 32 : 128) - c.bits);
    n += size;
    if (pool.avoidBuggyIPs && c.family === 4) {
      // Count the .0 and .255 addresses inside the prefix.
      for (let v = c.base; v < c.base + size; v++) {
        const last = v & 0xffn;
        if (last === 0n || last === 255n) n--;
        // Larger prefixes: jump to the next candidate (.255 then the next .0).
        if (size > 512n && last !== 0n && last !== 255n) v += 254n - last;
      }
    }
  }
  return n;
}
