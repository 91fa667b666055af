/**
 * A property test a user would copy: "with my manifests, whatever clients do and whichever node fails, the pods
 * see the real client IP, replies come from the VIP on VLAN 341, and only one node ever announces the VIP".
 * Point `manifests` at your own YAML (the default scenario fills in what it leaves out).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';
import { checkCluster, clientIpPreserved, manifestCaseArb, noSilentLoss, oneAnnouncer, onlyOwnVlanOnWire, repliesFromVip } from '@vippath/testing';

const manifests = readFileSync(fileURLToPath(new URL('./seed/default-with-vlan.yaml', import.meta.url)), 'utf8');

it('my cluster keeps the client IP and answers from the VIP, through node failures', () => {
  const { seed, runs } = checkCluster({
    cases: manifestCaseArb(manifests, { clients: 3, spanMs: 30_000 }),
    invariants: [oneAnnouncer(), clientIpPreserved(), repliesFromVip(), onlyOwnVlanOnWire(), noSilentLoss()],
    parameters: { numRuns: 200, seed: 42 },
  });
  console.log(`checked ${runs} cases (seed ${seed})`);
});
