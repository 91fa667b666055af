/** Kube-OVN's session load balancers for `sessionAffinity: ClientIP` Services (release-1.14 init.go initLB, endpoint_slice.go). */
import { describe, expect, it } from 'vitest';
import { clusterFrom, derive, loadManifests, SimulatedCluster, withDefaults } from './index.js';

const service = (affinity: string) => `apiVersion: v1
kind: Service
metadata: {name: sticky, annotations: {metallb.universe.tf/loadBalancerIPs: 10.180.204.252}}
spec: {type: LoadBalancer, externalTrafficPolicy: Local, ${affinity} selector: {app: nginx}, ports: [{port: 80, targetPort: 80, protocol: TCP}]}
`;

describe('session load balancers', () => {
  it('a ClientIP Service\'s VIP goes into cluster-tcp-session-loadbalancer (selection_fields ip_src, affinity_timeout 10800), not the plain one', () => {
    const objects = withDefaults(loadManifests(service('sessionAffinity: ClientIP,'), 's.yaml').objects);
    const c = clusterFrom(objects);
    const lbs = derive(objects, c).loadBalancers;
    const session = lbs.find((lb) => lb.name === 'cluster-tcp-session-loadbalancer');
    expect(session).toMatchObject({ protocol: 'tcp', selectionFields: ['ip_src'], options: { affinity_timeout: '10800', prefer_local_backend: 'true' } });
    expect(Object.keys(session!.vips)).toEqual(['10.180.204.252:80']);
    expect(lbs.find((lb) => lb.name === 'cluster-udp-session-loadbalancer')?.vips).toEqual({});
    expect(Object.keys(lbs.find((lb) => lb.name === 'cluster-tcp-loadbalancer')!.vips)).toEqual([]);
    // northd makes the affinity stages of it.
    const sim = new SimulatedCluster(objects, c);
    const stages = new Set((sim.ls.sb.flows.get(sim.ls.name) ?? []).map((f) => `${f.stage}/${f.priority}`));
    expect(stages).toContain('ls_in_lb_aff_check/100');
    expect(stages).toContain('ls_in_lb_aff_learn/100');
  });

  it('without a ClientIP Service there are no session load balancers (they would hold no VIP)', () => {
    const objects = withDefaults(loadManifests(service(''), 's.yaml').objects);
    const lbs = derive(objects, clusterFrom(objects)).loadBalancers;
    expect(lbs.map((lb) => lb.name)).toEqual(['cluster-tcp-loadbalancer', 'cluster-udp-loadbalancer']);
    expect(Object.keys(lbs[0]!.vips)).toEqual(['10.180.204.252:80']);
  });
});
