import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Allocator } from './allocator.js';
import { compileConfig, poolSize } from './config.js';
import { AllocationError, ManifestError } from './errors.js';
import { cidrContains, formatCidr, parseIp, summarizeRange } from './ip.js';
import type { IPAddressPoolObject, ServiceObject } from './objects.js';
import type { MetalLBProfile } from './profile.js';

const pool = (name: string, addresses: string[], extra: Partial<IPAddressPoolObject['spec']> = {}): IPAddressPoolObject => ({ metadata: { name }, spec: { addresses, ...extra } });
const svc = (name: string, spec: Partial<ServiceObject['spec']> = {}, annotations: Record<string, string> = {}, namespace = 'default'): ServiceObject => ({
  metadata: { name, namespace, annotations },
  spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], selector: { app: name }, ...spec },
});
const allocator = (pools: IPAddressPoolObject[], profile: MetalLBProfile = 'metallb-current'): Allocator => new Allocator(compileConfig(pools, [], []), profile);

describe('pool addresses', () => {
  it('summarises ranges to ascending CIDRs (ipaddr.Summarize) and masks host bits', () => {
    const c = compileConfig([pool('p', ['10.180.204.250-10.180.204.254', '10.0.0.5/24'])], [], []);
    expect(c.pools[0]!.cidrs.map(formatCidr)).toEqual(['10.180.204.250/31', '10.180.204.252/31', '10.180.204.254/32', '10.0.0.0/24']);
  });

  it('range summaries cover exactly the range, with aligned blocks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 600 }), (start, span) => {
        const a = { family: 4 as const, value: BigInt(start) };
        const b = { family: 4 as const, value: BigInt(start + span) };
        const cidrs = summarizeRange(a, b);
        let next = a.value;
        for (const c of cidrs) {
          expect(c.base).toBe(next);
          const size = 1n << BigInt(32 - c.bits);
          expect(c.base % size).toBe(0n);
          next += size;
        }
        expect(next).toBe(b.value + 1n);
      }),
    );
  });

  it('rejects overlaps, bad ranges, duplicate names and unknown fields, naming object and field', () => {
    const err = (f: () => unknown): ManifestError => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ManifestError);
        return e as ManifestError;
      }
      throw new Error('expected a ManifestError');
    };
    let e = err(() => compileConfig([pool('a', ['10.0.0.0/24']), pool('b', ['10.0.0.128/25'])], [], []));
    expect([e.object, e.field]).toEqual(['IPAddressPool/b', 'spec.addresses[0]']);
    expect(e.message).toMatch(/overlaps 10\.0\.0\.0\/24 of IPAddressPool\/a/);
    e = err(() => compileConfig([pool('a', ['10.0.0.9-10.0.0.1'])], [], []));
    expect(e.field).toBe('spec.addresses[0]');
    expect(e.message).toMatch(/start is after its end/);
    expect(err(() => compileConfig([pool('a', ['10.0.0.1-fd00::1'])], [], [])).message).toMatch(/mixes IPv4 and IPv6/);
    expect(err(() => compileConfig([pool('a', ['banana'])], [], [])).message).toMatch(/invalid address range "banana"/);
    expect(err(() => compileConfig([pool('a', ['10.0.0.0/33'])], [], [])).message).toMatch(/prefix length 33/);
    expect(err(() => compileConfig([pool('a', ['10.0.0.0/24']), pool('a', ['10.1.0.0/24'])], [], [])).field).toBe('metadata.name');
    e = err(() => compileConfig([{ metadata: { name: 'a' }, spec: { addresses: ['10.0.0.0/24'], autoassign: true } as never }], [], []));
    expect(e.field).toBe('spec.autoassign');
    expect(err(() => compileConfig([pool('a', ['10.0.0.0/24'])], [{ metadata: { name: 'l2' }, spec: { ipAddressPools: ['nope'] } }], [])).message).toMatch(/no IPAddressPool named "nope"/);
    expect(err(() => compileConfig([pool('a', ['10.0.0.0/24'])], [{ metadata: { name: 'l2' }, spec: { interfaces: ['eth0', 'eth0'] } }], [])).field).toBe('spec.interfaces[1]');
    expect(err(() => compileConfig([pool('a', ['10.0.0.0/24'])], [{ metadata: { name: 'l2' }, spec: { nodeSelectors: [{ matchExpressions: [{ key: 'x', operator: 'Near' as never }] }] } }], [])).field).toBe('spec.nodeSelectors[0].matchExpressions[0].operator');
  });

  it('empty pool lists attach an advertisement to every pool; selectors attach by label', () => {
    const c = compileConfig(
      [pool('a', ['10.0.0.0/24']), { metadata: { name: 'b', labels: { tier: 'gold' } }, spec: { addresses: ['10.1.0.0/24'] } }],
      [{ metadata: { name: 'everything' } }, { metadata: { name: 'gold' }, spec: { ipAddressPoolSelectors: [{ matchLabels: { tier: 'gold' } }] } }],
      [],
    );
    expect(c.pools[0]!.l2Advertisements.map((a) => a.name)).toEqual(['everything']);
    expect(c.pools[1]!.l2Advertisements.map((a) => a.name)).toEqual(['everything', 'gold']);
  });
});

describe('allocation (controller_test.go, allocator_test.go)', () => {
  it('lowest address first; spec.loadBalancerIP; the seed: .250 for the first service', () => {
    const a = allocator([pool('p', ['1.2.3.0/31'])]);
    expect(a.allocate(svc('s1')).ips).toEqual(['1.2.3.0']);
    const b = allocator([pool('p', ['1.2.3.0/31'])]);
    expect(b.allocate(svc('s1', { loadBalancerIP: '1.2.3.1' })).ips).toEqual(['1.2.3.1']);
    const seed = allocator([pool('underlay-pool', ['10.180.204.250-10.180.204.254'])], 'metallb-0.13.7');
    expect(seed.allocate(svc('nginx-lb', { externalTrafficPolicy: 'Local', ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4'] })).ips).toEqual(['10.180.204.250']);
    expect(seed.allocate(svc('second')).ips).toEqual(['10.180.204.251']);
    expect(seed.allocate(svc('third')).ips).toEqual(['10.180.204.252']);
  });

  it('dual stack: both families from one pool; PreferDualStack with one clusterIP is single; RequireDualStack with one fails', () => {
    const pools = [pool('p', ['1.2.3.0/31', '1000::/127'])];
    const dual = ['10.96.0.10', 'fd00::10'];
    expect(allocator(pools).allocate(svc('r', { ipFamilyPolicy: 'RequireDualStack', clusterIPs: dual })).ips).toEqual(['1.2.3.0', '1000::']);
    expect(allocator(pools).allocate(svc('p', { ipFamilyPolicy: 'PreferDualStack', clusterIPs: dual })).ips).toEqual(['1.2.3.0', '1000::']);
    expect(allocator(pools).allocate(svc('p', { ipFamilyPolicy: 'PreferDualStack', clusterIPs: ['10.96.0.10'] })).ips).toEqual(['1.2.3.0']);
    expect(() => allocator(pools).allocate(svc('r', { ipFamilyPolicy: 'RequireDualStack', clusterIPs: ['10.96.0.10'] }))).toThrow(AllocationError);
    // PreferDualStack in a dual cluster with an IPv4-only pool: one IPv4 today; nothing in v0.13.7.
    const v4only = [pool('p', ['1.2.3.0/31'])];
    expect(allocator(v4only).allocate(svc('p', { ipFamilyPolicy: 'PreferDualStack', clusterIPs: dual })).ips).toEqual(['1.2.3.0']);
    expect(() => allocator(v4only, 'metallb-0.13.7').allocate(svc('p', { ipFamilyPolicy: 'PreferDualStack', clusterIPs: dual }))).toThrow(/no available IPs/);
  });

  it('pinned pools by priority (v0.13.8+), ignored by v0.13.7', () => {
    const pools = [
      pool('p11', ['7.8.10.0/31'], { serviceAllocation: { priority: 11, namespaces: ['ns'] } }),
      pool('p10', ['7.8.9.0/31'], { serviceAllocation: { priority: 10, namespaces: ['ns'] } }),
      pool('auto', ['1.2.3.0/31']),
    ];
    expect(allocator(pools).allocate(svc('s', {}, {}, 'ns')).ips).toEqual(['7.8.9.0']);
    expect(allocator(pools).allocate(svc('s', {}, {}, 'other')).ips).toEqual(['1.2.3.0']);
    expect(allocator(pools, 'metallb-0.13.7').allocate(svc('s', {}, {}, 'ns')).ips).toEqual(['7.8.10.0']);
  });

  it('avoidBuggyIPs skips .0 and .255 (TestBuggyIPs)', () => {
    const a = allocator([pool('p', ['1.2.4.0/31'], { avoidBuggyIPs: true })]);
    expect(a.allocate(svc('a')).ips).toEqual(['1.2.4.1']);
    expect(() => a.allocate(svc('b'))).toThrow(/no available IPs/);
    const b = allocator([pool('p', ['1.2.4.254/31'], { avoidBuggyIPs: true })]);
    expect(b.allocate(svc('a')).ips).toEqual(['1.2.4.254']);
    expect(() => b.allocate(svc('b'))).toThrow(AllocationError);
  });

  it('pool sizes (TestPoolCount)', () => {
    const size = (p: IPAddressPoolObject): bigint => poolSize(compileConfig([p], [], []).pools[0]!);
    expect(size(pool('p', ['1.2.3.0/24']))).toBe(256n);
    expect(size(pool('p', ['1.2.3.0/24', '2.3.4.128/25']))).toBe(384n);
    expect(size(pool('p', ['1.2.3.0/24', '2.3.4.128/25'], { avoidBuggyIPs: true }))).toBe(381n);
    expect(size(pool('p', ['1.2.3.0/31', '1000::/127'], { avoidBuggyIPs: true }))).toBe(3n);
    expect(size(pool('p', ['10.0.0.0/16'], { avoidBuggyIPs: true }))).toBe(65536n - 512n);
  });

  it('autoAssign=false pools are used only on request', () => {
    const pools = [pool('manual', ['1.2.3.0/31'], { autoAssign: false })];
    expect(() => allocator(pools).allocate(svc('a'))).toThrow(/no available IPs/);
    expect(allocator(pools).allocate(svc('a', {}, { 'metallb.universe.tf/address-pool': 'manual' })).ips).toEqual(['1.2.3.0']);
  });

  it('annotations: metallb.io/ only from v0.14.9; the deprecated prefix always; both request forms at once is an error', () => {
    const pools = [pool('p', ['10.180.204.250-10.180.204.254'])];
    expect(allocator(pools).allocate(svc('a', {}, { 'metallb.io/loadBalancerIPs': '10.180.204.252' })).ips).toEqual(['10.180.204.252']);
    expect(allocator(pools, 'metallb-0.13.7').allocate(svc('a', {}, { 'metallb.io/loadBalancerIPs': '10.180.204.252' })).ips).toEqual(['10.180.204.250']);
    expect(allocator(pools, 'metallb-0.13.7').allocate(svc('a', {}, { 'metallb.universe.tf/loadBalancerIPs': '10.180.204.252' })).ips).toEqual(['10.180.204.252']);
    expect(() => allocator(pools).allocate(svc('a', { loadBalancerIP: '10.180.204.251' }, { 'metallb.universe.tf/loadBalancerIPs': '10.180.204.252' }))).toThrow(/use one/);
    expect(() => allocator(pools).allocate(svc('a', {}, { 'metallb.universe.tf/loadBalancerIPs': '10.9.9.9' }))).toThrow(/not in any IPAddressPool/);
  });

  it('sharing: same key, same backend, disjoint ports', () => {
    const pools = [pool('p', ['1.2.3.4/32'])];
    const share = { 'metallb.universe.tf/allow-shared-ip': 'k', 'metallb.universe.tf/loadBalancerIPs': '1.2.3.4' };
    const a = allocator(pools);
    expect(a.allocate(svc('web', { ports: [{ port: 80 }] }, share)).ips).toEqual(['1.2.3.4']);
    expect(a.allocate(svc('ssh', { ports: [{ port: 22 }] }, share)).ips).toEqual(['1.2.3.4']);
    expect(() => a.allocate(svc('web2', { ports: [{ port: 80 }] }, share))).toThrow(/cannot share/);
    expect(() => a.allocate(svc('dns', { ports: [{ port: 53 }] }, { ...share, 'metallb.universe.tf/allow-shared-ip': 'other' }))).toThrow(/cannot share/);
    // ETP=Local services share only with services selecting the same pods.
    const b = allocator(pools);
    b.allocate(svc('x', { externalTrafficPolicy: 'Local', ports: [{ port: 80 }], selector: { app: 'x' } }, share));
    expect(() => b.allocate(svc('y', { externalTrafficPolicy: 'Local', ports: [{ port: 81 }], selector: { app: 'y' } }, share))).toThrow(/cannot share/);
    expect(b.allocate(svc('z', { externalTrafficPolicy: 'Local', ports: [{ port: 82 }], selector: { app: 'x' } }, share)).ips).toEqual(['1.2.3.4']);
  });

  it('property: never an address outside the pools, never twice without sharing', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('v4', 'v6', 'dual'), { minLength: 1, maxLength: 12 }), fc.boolean(), (kinds, buggy) => {
        const pools = [pool('a', ['10.0.0.0/30'], { avoidBuggyIPs: buggy }), pool('b', ['fd00::/126', '10.0.1.0/31'])];
        const config = compileConfig(pools, [], []);
        const alloc = new Allocator(config, 'metallb-current');
        const seen = new Set<string>();
        kinds.forEach((k, i) => {
          const s = svc(`s${i}`, k === 'v4' ? {} : k === 'v6' ? { ipFamilies: ['IPv6'] } : { ipFamilyPolicy: 'PreferDualStack', clusterIPs: ['10.96.0.1', 'fd00:96::1'] });
          try {
            for (const ip of alloc.allocate(s).ips) {
              expect(seen.has(ip)).toBe(false);
              seen.add(ip);
              expect(config.pools.some((p) => p.cidrs.some((c) => cidrContains(c, parseIp(ip))))).toBe(true);
            }
          } catch (e) {
            expect(e).toBeInstanceOf(AllocationError);
          }
        });
      }),
      { numRuns: 200 },
    );
  });
});
