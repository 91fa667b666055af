import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileConfig } from './config.js';
import { announcedInterfaces, EXCLUDE_LB_LABEL, shouldAnnounce, sortCandidates, type ElectionInput } from './election.js';
import type { Endpoint, L2AdvertisementObject, NodeObject, ServiceObject } from './objects.js';
import type { MetalLBProfile } from './profile.js';

// Vectors from MetalLB's speaker/layer2_controller_test.go (research/metallb.md §8).
describe('sortCandidates (TestSortL2Candidates)', () => {
  it('orders by SHA-256 of "<node>#<ip>", preference scores first', () => {
    expect(sortCandidates(['node-a', 'node-b', 'node-c'], '10.0.0.1')).toEqual(['node-b', 'node-a', 'node-c']);
    expect(sortCandidates(['node-c', 'node-a', 'node-b'], '10.0.0.2')).toEqual(['node-b', 'node-c', 'node-a']);
    expect(sortCandidates(['worker-b', 'edge-b', 'worker-a', 'edge-a'], '10.20.30.1', { 'edge-a': 100 })).toEqual(['edge-a', 'edge-b', 'worker-a', 'worker-b']);
    expect(sortCandidates(['node-a', 'node-b'], '10.20.30.1', { 'node-a': 100, 'node-b': 100 })).toEqual(['node-b', 'node-a']);
    expect(sortCandidates(['worker-a', 'edge-b', 'edge-a'], '10.20.30.1', { 'edge-a': 100, 'edge-b': 100 })).toEqual(['edge-b', 'edge-a', 'worker-a']);
    expect(sortCandidates([], '10.0.0.1')).toEqual([]);
    expect(sortCandidates(['solo'], '10.0.0.1')).toEqual(['solo']);
  });

  it('reproduces the worked examples for the seed pool (DATAPATH.md §1)', () => {
    const nodes = ['node1', 'node2', 'node3'];
    expect(sortCandidates(nodes, '10.180.204.250')).toEqual(['node2', 'node1', 'node3']);
    expect(sortCandidates(nodes, '10.180.204.251')).toEqual(['node1', 'node2', 'node3']);
    expect(sortCandidates(nodes, '10.180.204.252')).toEqual(['node3', 'node1', 'node2']);
    expect(sortCandidates(nodes, '10.180.204.253')).toEqual(['node1', 'node3', 'node2']);
    expect(sortCandidates(nodes, '10.180.204.254')).toEqual(['node3', 'node1', 'node2']);
    expect(sortCandidates(nodes, 'fd00:10:180:204::fc')).toEqual(['node2', 'node3', 'node1']);
    // Two-node fixtures of the MetalLB tests.
    expect(sortCandidates(['iris1', 'iris2'], '10.20.30.1')[0]).toBe('iris2');
    expect(sortCandidates(['iris1', 'iris2'], '10.20.30.2')[0]).toBe('iris1');
    expect(sortCandidates(['iris1', 'iris2'], '10.20.30.3')[0]).toBe('iris1');
    expect(sortCandidates(['iris1', 'iris2'], '10.20.30.4')[0]).toBe('iris2');
  });

  it('does not depend on the order candidates are listed; removing a non-winner never changes the winner', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 255 }), fc.nat(), (nodes, last, drop) => {
        const ip = `10.20.30.${last}`;
        const order = sortCandidates(nodes, ip);
        expect(sortCandidates([...nodes].reverse(), ip)).toEqual(order);
        if (order.length > 1) {
          const victim = order[1 + (drop % (order.length - 1))]!;
          expect(sortCandidates(nodes.filter((n) => n !== victim), ip)[0]).toBe(order[0]);
        }
      }),
    );
  });
});

const iris: NodeObject[] = [{ metadata: { name: 'iris1', labels: { 'kubernetes.io/hostname': 'iris1' } } }, { metadata: { name: 'iris2', labels: { 'kubernetes.io/hostname': 'iris2' } } }];
const pool = { metadata: { name: 'pool' }, spec: { addresses: ['10.20.30.0/24'] } };
const adAll: L2AdvertisementObject = { metadata: { name: 'all' } };
const adOn = (name: string, ...hosts: string[]): L2AdvertisementObject => ({ metadata: { name }, spec: { nodeSelectors: hosts.map((h) => ({ matchLabels: { 'kubernetes.io/hostname': h } })) } });

function svc(etp: 'Local' | 'Cluster', labels: Record<string, string> = {}): ServiceObject {
  return { metadata: { name: 'test', labels }, spec: { type: 'LoadBalancer', externalTrafficPolicy: etp, ports: [{ port: 80 }], selector: { app: 'web' } } };
}

function decide(opts: { ads?: L2AdvertisementObject[]; endpoints: Endpoint[]; etp?: 'Local' | 'Cluster'; ip?: string; nodes?: NodeObject[]; profile?: MetalLBProfile; ignoreExcludeLb?: boolean; members?: string[] | null }): Record<string, string> {
  const nodes = opts.nodes ?? iris;
  const config = compileConfig([pool], opts.ads ?? [adAll], nodes);
  const out: Record<string, string> = {};
  for (const n of nodes) {
    const input: ElectionInput = {
      node: n.metadata.name,
      service: svc(opts.etp ?? 'Local'),
      ips: [opts.ip ?? '10.20.30.1'],
      pool: config.pools[0]!,
      endpoints: opts.endpoints,
      nodes: new Map(nodes.map((x) => [x.metadata.name, x])),
      members: opts.members === null ? null : new Set(opts.members ?? nodes.map((x) => x.metadata.name)),
      profile: opts.profile ?? 'metallb-current',
      ...(opts.ignoreExcludeLb ? { ignoreExcludeLb: true } : {}),
    };
    out[n.metadata.name] = shouldAnnounce(input).result;
  }
  return out;
}

const ep = (nodeName: string, ready?: boolean, serving?: boolean): Endpoint => ({ nodeName, ...(ready !== undefined ? { ready } : {}), ...(serving !== undefined ? { serving } : {}) });

describe('shouldAnnounce (TestShouldAnnounceEPSlices, ETP=Local)', () => {
  it('two ready endpoints on iris1', () => expect(decide({ endpoints: [ep('iris1', true), ep('iris1', true)] })).toEqual({ iris1: '', iris2: 'notOwner' }));
  it('all endpoints not ready: nobody', () => expect(decide({ endpoints: [ep('iris1', false), ep('iris2', false)] })).toEqual({ iris1: 'notOwner', iris2: 'notOwner' }));
  it('ready on iris1 + serving-but-not-ready on iris2: iris2 wins by hash (v0.14.5+)', () => {
    expect(decide({ endpoints: [ep('iris1', true), ep('iris2', false, true)] })).toEqual({ iris1: 'notOwner', iris2: '' });
    // v0.13.7 ignores `serving`: only iris1 can serve.
    expect(decide({ endpoints: [ep('iris1', true), ep('iris2', false, true)], profile: 'metallb-0.13.7' })).toEqual({ iris1: '', iris2: 'notOwner' });
  });
  it('ready on iris1, not ready on iris2', () => expect(decide({ endpoints: [ep('iris1', true), ep('iris2', false)] })).toEqual({ iris1: '', iris2: 'notOwner' }));
  it('two services: .1 → iris2, .2 → iris1, also when the other node is not ready', () => {
    const both = [ep('iris1', true), ep('iris2', true)];
    expect(decide({ endpoints: both, ip: '10.20.30.1' })).toEqual({ iris1: 'notOwner', iris2: '' });
    expect(decide({ endpoints: both, ip: '10.20.30.2' })).toEqual({ iris1: '', iris2: 'notOwner' });
    expect(decide({ endpoints: [ep('iris1', false), ep('iris2', true)], ip: '10.20.30.1' })).toEqual({ iris1: 'notOwner', iris2: '' });
    expect(decide({ endpoints: [ep('iris1', true), ep('iris2', false)], ip: '10.20.30.2' })).toEqual({ iris1: '', iris2: 'notOwner' });
  });
  it("three endpoints: iris2's all not ready → iris1", () => {
    expect(decide({ endpoints: [ep('iris1', true), ep('iris2', true), ep('iris2', true)] })).toEqual({ iris1: 'notOwner', iris2: '' });
    expect(decide({ endpoints: [ep('iris1', true), ep('iris2', false), ep('iris2', false)] })).toEqual({ iris1: '', iris2: 'notOwner' });
  });
});

describe('shouldAnnounce (TestShouldAnnounceFromNodes, 10.20.30.1, endpoint on iris1)', () => {
  const endpoints = [ep('iris1', true)];
  it('ad on iris1 only, Cluster', () => expect(decide({ ads: [adOn('a', 'iris1')], endpoints, etp: 'Cluster' })).toEqual({ iris1: '', iris2: 'noMatchingAdvertisement' }));
  it('two ads (iris1), (iris2), Local', () => expect(decide({ ads: [adOn('a', 'iris1'), adOn('b', 'iris2')], endpoints })).toEqual({ iris1: '', iris2: 'notOwner' }));
  it('ad on both, Cluster: endpoint location irrelevant', () => expect(decide({ ads: [adOn('a', 'iris1', 'iris2')], endpoints, etp: 'Cluster' })).toEqual({ iris1: 'notOwner', iris2: '' }));
  it('ad on iris2 only, Local', () => expect(decide({ ads: [adOn('a', 'iris2')], endpoints })).toEqual({ iris1: 'noMatchingAdvertisement', iris2: 'notOwner' }));
  it('v0.13.7 says notOwner where later versions say noMatchingAdvertisement', () => expect(decide({ ads: [adOn('a', 'iris2')], endpoints, profile: 'metallb-0.13.7' })).toEqual({ iris1: 'notOwner', iris2: 'notOwner' }));
  it('exclude-from-external-load-balancers label, and --ignore-exclude-lb', () => {
    const label = (excluded: string[]): NodeObject[] => iris.map((n) => ({ metadata: { ...n.metadata, labels: { ...n.metadata.labels, ...(excluded.includes(n.metadata.name) ? { [EXCLUDE_LB_LABEL]: '' } : {}) } } }));
    const both = [ep('iris1', true), ep('iris2', true)];
    expect(decide({ endpoints: both, etp: 'Cluster', nodes: label(['iris2']) })).toEqual({ iris1: '', iris2: 'notOwner' });
    expect(decide({ endpoints: both, etp: 'Cluster', nodes: label(['iris1']) })).toEqual({ iris1: 'notOwner', iris2: '' });
    expect(decide({ endpoints: both, etp: 'Cluster', nodes: label(['iris1', 'iris2']) })).toEqual({ iris1: 'notOwner', iris2: 'notOwner' });
    expect(decide({ endpoints, nodes: label(['iris1', 'iris2']), ignoreExcludeLb: true })).toEqual({ iris1: '', iris2: 'notOwner' });
    // v0.13.7 does not know the label.
    expect(decide({ endpoints: both, etp: 'Cluster', nodes: label(['iris2']), profile: 'metallb-0.13.7' })).toEqual({ iris1: 'notOwner', iris2: '' });
  });
  it('NetworkUnavailable=True removes a node (v0.13.10+), not in v0.13.7', () => {
    const nodes: NodeObject[] = [iris[0]!, { ...iris[1]!, status: { conditions: [{ type: 'NetworkUnavailable', status: 'True' }] } }];
    const both = [ep('iris1', true), ep('iris2', true)];
    expect(decide({ endpoints: both, etp: 'Cluster', nodes })).toEqual({ iris1: '', iris2: 'notOwner' });
    expect(decide({ endpoints: both, etp: 'Cluster', nodes, profile: 'metallb-0.13.7' })).toEqual({ iris1: 'notOwner', iris2: '' });
  });
  it('memberlist disabled: every Node is a candidate (v0.15+); nobody announces in v0.13.7 (metallb#2425)', () => {
    expect(decide({ endpoints, members: null })).toEqual({ iris1: '', iris2: 'notOwner' });
    expect(decide({ endpoints, members: null, profile: 'metallb-0.13.7' })).toEqual({ iris1: 'notOwner', iris2: 'notOwner' });
  });
});

describe('TestClusterPolicy and interface scopes', () => {
  it('for every 10.20.30.1..255 exactly one node wins, and both nodes win some', () => {
    const wins = { iris1: 0, iris2: 0 };
    for (let i = 1; i <= 255; i++) {
      const r = decide({ endpoints: [ep('iris1', true)], etp: 'Cluster', ip: `10.20.30.${i}` });
      const winners = Object.entries(r).filter(([, v]) => v === '').map(([k]) => k as 'iris1' | 'iris2');
      expect(winners.length).toBe(1);
      wins[winners[0]!]++;
    }
    expect(wins.iris1).toBeGreaterThan(0);
    expect(wins.iris2).toBeGreaterThan(0);
  });

  it('TestIPAdvertisementFor: all interfaces wins over lists; lists are unioned', () => {
    const config = compileConfig([pool], [
      { metadata: { name: 'a' }, spec: { interfaces: ['eth0', 'eth1'] } },
      { metadata: { name: 'b' }, spec: { interfaces: ['eth0', 'eth2'] } },
    ], iris);
    expect(announcedInterfaces(config.pools[0]!.l2Advertisements, 'iris1')).toEqual({ all: false, interfaces: ['eth0', 'eth1', 'eth2'] });
    const withAll = compileConfig([pool], [{ metadata: { name: 'a' }, spec: { interfaces: ['eth0'] } }, { metadata: { name: 'b' } }], iris);
    expect(announcedInterfaces(withAll.pools[0]!.l2Advertisements, 'iris1').all).toBe(true);
  });

  it('TestL2ElectionConsistentButAdsPerNode: one winner, each node with its own interfaces', () => {
    const ads = [
      { metadata: { name: 'a' }, spec: { nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'iris1' } }], interfaces: ['eth0'] } },
      { metadata: { name: 'b' }, spec: { nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'iris2' } }], interfaces: ['eth1'] } },
    ];
    const r = decide({ ads, endpoints: [ep('iris1', true), ep('iris2', true)], etp: 'Cluster' });
    expect(Object.values(r).filter((v) => v === '').length).toBe(1);
    const config = compileConfig([pool], ads, iris);
    expect(announcedInterfaces(config.pools[0]!.l2Advertisements, 'iris1').interfaces).toEqual(['eth0']);
    expect(announcedInterfaces(config.pools[0]!.l2Advertisements, 'iris2').interfaces).toEqual(['eth1']);
  });

  it('TestL2NoMatchingAdForServiceAndNode: ads for another service or another node ⇒ noMatchingAdvertisement', () => {
    const ads: L2AdvertisementObject[] = [
      { metadata: { name: 'other' }, spec: { serviceSelectors: [{ matchLabels: { app: 'other' } }] } },
      { metadata: { name: 'ghost' }, spec: { serviceSelectors: [{ matchLabels: { app: 'web' } }], nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'ghost' } }] } },
    ];
    const config = compileConfig([pool], ads, iris);
    for (const n of iris) {
      const r = shouldAnnounce({ node: n.metadata.name, service: svc('Cluster', { app: 'web' }), ips: ['10.20.30.1'], pool: config.pools[0]!, endpoints: [ep('iris1', true)], nodes: new Map(iris.map((x) => [x.metadata.name, x])), members: new Set(['iris1', 'iris2']), profile: 'metallb-current' });
      expect(r.result).toBe('noMatchingAdvertisement');
    }
  });
});

describe('election properties', () => {
  const nodeNames = ['node1', 'node2', 'node3', 'node4', 'node5'];
  const arb = fc.record({
    present: fc.subarray(nodeNames, { minLength: 1 }),
    endpoints: fc.array(fc.record({ node: fc.constantFrom(...nodeNames), ready: fc.boolean() }), { maxLength: 8 }),
    etp: fc.constantFrom<'Local' | 'Cluster'>('Local', 'Cluster'),
    last: fc.integer({ min: 250, max: 254 }),
    profile: fc.constantFrom<MetalLBProfile>('metallb-0.13.7', 'metallb-current'),
  });

  it('with a shared view: exactly one announcer when some endpoint serves (a local one under ETP=Local), else none; independent of listing order', () => {
    fc.assert(
      fc.property(arb, ({ present, endpoints, etp, last, profile }) => {
        const nodes: NodeObject[] = present.map((name) => ({ metadata: { name } }));
        const eps = endpoints.map((e) => ep(e.node, e.ready));
        const ip = `10.180.204.${last}`;
        const r1 = decide({ nodes, endpoints: eps, etp, ip, profile });
        const r2 = decide({ nodes: [...nodes].reverse(), endpoints: [...eps].reverse(), etp, ip, profile });
        expect(r2).toEqual(r1);
        const winners = Object.entries(r1).filter(([, v]) => v === '').map(([k]) => k);
        const servingNodes = new Set(eps.filter((e) => e.ready).map((e) => e.nodeName!));
        const eligible = etp === 'Local' ? present.filter((n) => servingNodes.has(n)) : servingNodes.size ? present : [];
        expect(winners.length).toBe(eligible.length ? 1 : 0);
        if (winners.length) {
          expect(winners[0]).toBe(sortCandidates(eligible, ip)[0]);
          if (etp === 'Local') expect(servingNodes.has(winners[0]!)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
