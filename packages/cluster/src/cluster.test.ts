import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Allocator, compileConfig, MetalLB, type IPAddressPoolObject, type L2AdvertisementObject, type ServiceObject } from '@vippath/metallb';
import { lint } from './lint.js';
import { loadManifests, ManifestLoadError } from './manifests.js';
import { derive } from './derive.js';
import { DEFAULT_CLUSTER, withDefaults } from './scenario.js';

const seedPath = fileURLToPath(new URL('../../../examples/seed/manifests.yaml', import.meta.url));
const seedText = readFileSync(seedPath, 'utf8');

describe('loading the seed document\'s manifests as written', () => {
  it('reads the Subnet, pool, advertisement, Deployment and Service with their positions', () => {
    const { objects, ignored } = loadManifests(seedText, 'manifests.yaml');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Subnet/underlay-subnet', 'IPAddressPool/underlay-pool', 'L2Advertisement/l2-advert', 'Deployment/deploy-169402624', 'Service/nginx-lb']);
    expect(ignored).toEqual([]);
    expect(objects[0]!.source).toMatchObject({ file: 'manifests.yaml', line: 3 });
    expect(objects[0]!.spec).toMatchObject({ cidrBlock: '10.180.204.0/24', gateway: '10.180.204.1', enableExternalLBAddress: true });
  });

  it('as written, MetalLB gives nginx-lb .250, announced by node2 (DATAPATH.md §1)', () => {
    const { objects } = loadManifests(seedText);
    const pools = objects.filter((o) => o.kind === 'IPAddressPool') as unknown as IPAddressPoolObject[];
    const ads = objects.filter((o) => o.kind === 'L2Advertisement') as unknown as L2AdvertisementObject[];
    const svc = objects.find((o) => o.kind === 'Service') as unknown as ServiceObject;
    expect(new Allocator(compileConfig(pools, ads, [])).allocate(svc).ips).toEqual(['10.180.204.250']);
    const nodes = [1, 2, 3].map((i) => ({ node: { metadata: { name: `node${i}` } }, interfaces: [{ name: 'br-provider', mac: `52:54:00:bb:00:0${i}` }] }));
    const m = new MetalLB({ pools, advertisements: ads, nodes, services: [{ service: svc, endpoints: [1, 2, 3].map((i) => ({ nodeName: `node${i}`, ready: true })) }] });
    expect(m.owners('10.180.204.250')).toEqual(['node2']);
  });

  it('bad YAML and non-objects are errors with file, line and column', () => {
    const err = (text: string): ManifestLoadError => {
      try {
        loadManifests(text, 'x.yaml');
      } catch (e) {
        expect(e).toBeInstanceOf(ManifestLoadError);
        return e as ManifestLoadError;
      }
      throw new Error('expected a ManifestLoadError');
    };
    expect(err('kind: Subnet\nmetadata:\n  name: [unclosed\n').message).toMatch(/^x\.yaml:\d+:\d+: invalid YAML/);
    const e = err('---\napiVersion: v1\nkind: Service\nmetadata: {}\n');
    expect([e.line, e.message]).toEqual([2, expect.stringMatching(/no metadata\.name/)]);
    expect(err('- a\n- b\n').message).toMatch(/must be a mapping/);
    expect(loadManifests('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n').ignored).toEqual([{ kind: 'ConfigMap', name: 'c', line: 1, file: '<input>' }]);
  });

  it('a field of the wrong type is an error at its position (fuzz crash: ipAddressPools: 999999999999 was a TypeError)', () => {
    const text = 'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: a}\nspec:\n  ipAddressPools: 999999999999\n';
    expect(() => loadManifests(text, 'l2.yaml')).toThrow(/^l2\.yaml:5:19: L2Advertisement spec\.ipAddressPools must be a list of strings, not 999999999999$/);
    expect(() => loadManifests('apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 70000}]\n', 's.yaml')).toThrow(/s\.yaml:5:\d+: Service spec\.ports\.0\.port must be a port from 1 to 65535/);
  });

  it('a Deployment without spec loads as one replica (fuzz crash: reading replicas of undefined)', () => {
    const objects = withDefaults(loadManifests('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, replicas: 3}\n', 'd.yaml').objects);
    expect(derive(objects, DEFAULT_CLUSTER).pods.map((p) => p.name)).toEqual(['d-0']);
  });

  it('a billion replicas is refused before anything is allocated', () => {
    expect(() => loadManifests('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1000000000}\n', 'd.yaml')).toThrow(/at most 4096 pods per Deployment/);
  });

  it('fuzz: arbitrary text loads or fails with a ManifestLoadError, never anything else', () => {
    const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
    console.log(`manifest fuzz: 2000 runs, seed ${seed} (VIPPATH_PROPERTY_SEED)`);
    const pieces = ['apiVersion: v1\n', 'kind: Service\n', 'kind: Subnet\n', 'metadata:\n', '  name: x\n', '---\n', 'spec:\n', '  - 1\n', ': :\n', '"\n', '{', '}', '[', ']', '&a', '*a', '\t', '  ', '#c\n'];
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.constantFrom(...pieces), { maxLength: 25 }).map((p) => p.join('')), fc.string({ maxLength: 120 })), (text) => {
        try {
          loadManifests(text);
        } catch (e) {
          expect(e).toBeInstanceOf(ManifestLoadError);
        }
      }),
      { numRuns: 2000, seed },
    );
    // ≈ 1.7 s of CPU; 2.3–4.6 s wall at load 16–24 on this 2-core machine (session 18).
  }, 15_000);
});

describe('lint', () => {
  const codes = (text: string, flags = {}): string[] => lint(loadManifests(text).objects, flags).map((d) => d.code).sort();

  it('the seed\'s own example trips the pool-not-excluded finding (.253, .254), and its Subnet names no Vlan', () => {
    const d = lint(loadManifests(seedText, 'manifests.yaml').objects, { enableOvnLbPreferLocal: true, lsCtSkipDstLportIps: false });
    const notExcluded = d.find((x) => x.code === 'POOL_NOT_EXCLUDED')!;
    expect(notExcluded).toMatchObject({ object: 'IPAddressPool/underlay-pool', field: 'spec.addresses', severity: 'warning' });
    expect(notExcluded.message).toMatch(/2 pool address\(es\).*10\.180\.204\.253, 10\.180\.204\.254/);
    expect(notExcluded.consequence).toMatch(/ARP for it is answered twice/);
    expect(notExcluded.source).toEqual({ file: 'manifests.yaml', line: 19 });
    expect(d.map((x) => x.code).sort()).toEqual(['POOL_NOT_EXCLUDED', 'SUBNET_WITHOUT_VLAN']);
  });

  it('each rule fires when its condition holds and not otherwise', () => {
    const ok = `apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: s}
spec: {cidrBlock: 10.0.0.0/24, vlan: v341, enableExternalLBAddress: true, excludeIps: ["10.0.0.250..10.0.0.254"]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p}
spec: {addresses: ["10.0.0.250-10.0.0.254"]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: a}
spec: {ipAddressPools: [p]}
---
apiVersion: v1
kind: Service
metadata: {name: svc}
spec: {type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 80}]}
`;
    const good = { enableOvnLbPreferLocal: true, lsCtSkipDstLportIps: false };
    expect(codes(ok, good)).toEqual([]);
    expect(codes(ok)).toEqual(['CT_SKIP_DST_LPORT_IPS', 'PREFER_LOCAL_OFF']);
    expect(codes(ok.replace('enableExternalLBAddress: true', 'enableExternalLBAddress: false'), good)).toEqual(['EXTERNAL_LB_ADDRESS_OFF']);
    expect(codes(ok.replace('vlan: v341, ', ''), good)).toEqual(['SUBNET_WITHOUT_VLAN']);
    expect(codes(ok.replace('"10.0.0.250..10.0.0.254"', '"10.0.0.250..10.0.0.252"'), good)).toEqual(['POOL_NOT_EXCLUDED']);
    expect(codes(ok.replace('10.0.0.250-10.0.0.254', '10.0.1.250-10.0.1.254'), good)).toEqual(['POOL_NOT_EXCLUDED', 'POOL_OUTSIDE_SUBNET']);
    expect(codes(ok.replace('spec: {ipAddressPools: [p]}', 'spec: {ipAddressPoolSelectors: [{matchLabels: {x: y}}]}'), good)).toEqual(['POOL_NOT_ADVERTISED']);
    expect(codes(ok.replace('externalTrafficPolicy: Local', 'externalTrafficPolicy: Cluster'), good)).toEqual(['ETP_NOT_LOCAL']);
    expect(codes(ok.replace('ports: [{port: 80}]', 'ports: [{port: 80, protocol: SCTP}]'), good)).toEqual(['SCTP_PORT']);
    expect(codes(ok.replace('10.0.0.250-10.0.0.254', '10.0.0.254-10.0.0.250'), good)).toEqual(['BAD_METALLB_CONFIG']);
    expect(codes(ok.replace('cidrBlock: 10.0.0.0/24', 'cidrBlock: 10.0.0.300/24'), good)).toEqual(['BAD_CIDR']);
  });
});
