/**
 * The cluster model: the objects (user manifests over the built-in default scenario) plus the vippath-specific
 * facts manifests do not carry (nodes' NICs and MACs, controller flags, profiles, the outside client). The
 * default scenario is the seed document's example (DATAPATH.md §1), with two deliberate differences, both
 * documented: the Service requests .252 (`metallb.universe.tf/loadBalancerIPs`) to match the document's figure
 * (as written it gets .250), and the Subnet names a Vlan with id 0 (the kernel's `underlay0.341` device tags;
 * Kube-OVN refuses the br-provider rule for a subnet without one — the seed as written trips that lint rule).
 */
import type { SouthboundState } from '@vippath/ovn';
import type { Diagnostic } from './lint.js';
import { DEFAULT_OBJECTS } from './default-scenario.js';
import { ManifestLoadError, type K8sObject } from './manifests.js';

/** What a node is, for vippath. */
export interface NodeSpec {
  name: string;
  nic: string;
  /** NIC MAC; br-provider takes the same MAC (Kube-OVN transferAddrsAndRoutes sets other-config:hwaddr). */
  mac: string;
}

/** Everything that is not in Kubernetes objects. */
export interface ClusterSpec {
  nodes: NodeSpec[];
  flags: { enableOvnLbPreferLocal: boolean; lsCtSkipDstLportIps: boolean; lsDnatModDlDst: boolean };
  /**
   * `kubeOvn: upstream` is OVN as released (ovn-northd without Kube-OVN's patches, as Debian's 23.03), with the
   * controller's patch flags off unless `spec.flags` sets them: Kube-OVN then writes no ingress VIP into the LB.
   */
  profiles: { kubeOvn: 'kube-ovn-1.14' | 'kube-ovn-1.15.20' | 'upstream'; metallb: 'metallb-0.13.7' | 'metallb-current' };
  /** The VLAN the underlay sub-interface carries. */
  vlan: number;
  client: { ip: string; mac: string };
  /** Pod name → node, overriding the default placement (one replica per node in turn). */
  placement?: Record<string, string>;
  /**
   * br-provider as collected, per node (a snapshot's `nodes/<node>/br-provider.flows` and `.ports`): used instead
   * of the flows vippath derives from the Subnet and Services. Ports are ofport numbers by name, as `ovs-ofctl show`
   * prints them (names may be cut to 15 characters).
   */
  brProvider?: Record<string, { flows: string; ports: Array<{ name: string; ofport: number }>; file?: string }>;
  /**
   * OVN's Southbound as collected (a snapshot's `ovn/sb.db`): the switch runs these logical flows, not the ones
   * vippath's northd makes of the derived Northbound (see LogicalSwitch's `southbound` option for what a later
   * change does to them). Port_Binding chassis are named by node.
   */
  southbound?: { state: SouthboundState; file: string };
  /** Findings made while loading (ignored kinds, what a snapshot lacks): reported by lint and status with the rest. */
  findings?: Diagnostic[];
}

export const DEFAULT_CLUSTER: ClusterSpec = {
  nodes: [1, 2, 3].map((i) => ({ name: `node${i}`, nic: 'underlay0', mac: `52:54:00:bb:00:0${i}` })),
  flags: { enableOvnLbPreferLocal: true, lsCtSkipDstLportIps: false, lsDnatModDlDst: true },
  profiles: { kubeOvn: 'kube-ovn-1.14', metallb: 'metallb-0.13.7' },
  vlan: 341,
  client: { ip: '10.180.204.100', mac: '52:54:00:aa:00:64' },
};

/** The default scenario's objects (default-scenario.yaml, kept parsed in default-scenario.ts by scripts/default-scenario.mjs). */
export function defaultObjects(): K8sObject[] {
  // Fresh objects each call, as loading the YAML made them (callers may change theirs).
  return structuredClone(DEFAULT_OBJECTS) as K8sObject[];
}

/**
 * User objects over the defaults: every kind the user gives replaces the default objects of that kind (a user
 * Subnet replaces the default Subnet), kinds the user leaves out keep their defaults.
 */
export function withDefaults(user: K8sObject[]): K8sObject[] {
  const given = new Set(user.map((o) => o.kind));
  return [...defaultObjects().filter((o) => !given.has(o.kind)), ...user];
}

/**
 * The vippath-specific cluster description, a YAML document like the others:
 *
 * ```yaml
 * apiVersion: vippath.dev/v1alpha1
 * kind: Cluster
 * metadata: {name: lab}
 * spec:
 *   vlan: 341
 *   nodes: [{name: node1, nic: underlay0, mac: "52:54:00:bb:00:01"}, …]
 *   flags: {enableOvnLbPreferLocal: true, lsCtSkipDstLportIps: false, lsDnatModDlDst: true}
 *   profiles: {kubeOvn: kube-ovn-1.14, metallb: metallb-0.13.7}
 *   client: {ip: 10.180.204.100, mac: "52:54:00:aa:00:64"}
 * ```
 *
 * Every field is optional (the default scenario fills in); `Node` objects name nodes too (NIC `underlay0`, a
 * MAC derived from their position) when no Cluster lists them. Wrong values are {@link ManifestLoadError}s at
 * the document's position.
 */
export function clusterFrom(objects: K8sObject[], base: ClusterSpec = DEFAULT_CLUSTER): ClusterSpec {
  const spec: ClusterSpec = { ...base, nodes: base.nodes, flags: { ...base.flags }, profiles: { ...base.profiles }, client: { ...base.client } };
  // A Node given twice is one node (lint reports DUPLICATE_OBJECT).
  const nodeNames = new Set<string>();
  const nodeObjects = objects.filter((o) => o.kind === 'Node' && !nodeNames.has(o.metadata.name) && nodeNames.add(o.metadata.name));
  if (nodeObjects.length) {
    spec.nodes = nodeObjects.map((o, i) => ({ name: o.metadata.name, nic: 'underlay0', mac: `52:54:00:bb:${((i + 1) >> 8).toString(16).padStart(2, '0')}:${((i + 1) & 255).toString(16).padStart(2, '0')}` }));
  }
  const described = objects.filter((o) => o.kind === 'Cluster');
  if (described.length > 1) fail(described[1]!, 'more than one Cluster object: give one');
  const c = described[0];
  if (!c) return spec;
  const s = (c.spec ?? {}) as Record<string, unknown>;
  const known = new Set(['vlan', 'nodes', 'flags', 'profiles', 'client', 'placement']);
  for (const k of Object.keys(s)) if (!known.has(k)) fail(c, `spec.${k} is not a Cluster field (fields: ${[...known].join(', ')})`);
  if (s.vlan !== undefined) {
    if (!Number.isInteger(s.vlan) || (s.vlan as number) < 1 || (s.vlan as number) > 4094) fail(c, `spec.vlan must be a VLAN ID from 1 to 4094, not ${JSON.stringify(s.vlan)}`);
    spec.vlan = s.vlan as number;
  }
  if (s.nodes !== undefined) {
    if (!Array.isArray(s.nodes) || s.nodes.length === 0) fail(c, 'spec.nodes must be a non-empty list of {name, nic, mac}');
    spec.nodes = (s.nodes as unknown[]).map((n, i) => {
      const x = (n ?? {}) as Record<string, unknown>;
      if (typeof x.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(x.name)) fail(c, `spec.nodes[${i}].name must be a node name (lowercase letters, digits, - and .)`);
      if (x.mac !== undefined && (typeof x.mac !== 'string' || !MAC.test(x.mac))) fail(c, `spec.nodes[${i}].mac must be a MAC like 52:54:00:bb:00:01, not ${JSON.stringify(x.mac)}`);
      if (x.nic !== undefined && (typeof x.nic !== 'string' || x.nic === '')) fail(c, `spec.nodes[${i}].nic must be an interface name`);
      return { name: x.name as string, nic: (x.nic as string | undefined) ?? 'underlay0', mac: ((x.mac as string | undefined) ?? `52:54:00:bb:00:${(i + 1).toString(16).padStart(2, '0')}`).toLowerCase() };
    });
    const names = new Set<string>();
    const macs = new Set<string>();
    for (const n of spec.nodes) {
      if (names.has(n.name)) fail(c, `spec.nodes: two nodes named ${n.name}`);
      if (macs.has(n.mac)) fail(c, `spec.nodes: two nodes with MAC ${n.mac}`);
      names.add(n.name);
      macs.add(n.mac);
    }
  }
  if (s.flags !== undefined) {
    const f = s.flags as Record<string, unknown>;
    for (const [k, v] of Object.entries(f ?? {})) {
      if (!(k in spec.flags)) fail(c, `spec.flags.${k} is not a flag (flags: ${Object.keys(spec.flags).join(', ')})`);
      if (typeof v !== 'boolean') fail(c, `spec.flags.${k} must be true or false`);
      (spec.flags as Record<string, boolean>)[k] = v as boolean;
    }
  }
  if (s.profiles !== undefined) {
    const p = (s.profiles ?? {}) as Record<string, unknown>;
    if (p.kubeOvn !== undefined) {
      if (p.kubeOvn !== 'kube-ovn-1.14' && p.kubeOvn !== 'kube-ovn-1.15.20' && p.kubeOvn !== 'upstream') fail(c, `spec.profiles.kubeOvn must be kube-ovn-1.14, kube-ovn-1.15.20 or upstream, not ${JSON.stringify(p.kubeOvn)}`);
      spec.profiles.kubeOvn = p.kubeOvn as ClusterSpec['profiles']['kubeOvn'];
      // No patches, no patch flags: those spec.flags does not set are off.
      if (p.kubeOvn === 'upstream') {
        const given = (s.flags ?? {}) as Record<string, unknown>;
        for (const k of Object.keys(spec.flags)) if (!(k in given)) (spec.flags as Record<string, boolean>)[k] = false;
      }
    }
    if (p.metallb !== undefined) {
      if (p.metallb !== 'metallb-0.13.7' && p.metallb !== 'metallb-current') fail(c, `spec.profiles.metallb must be metallb-0.13.7 or metallb-current, not ${JSON.stringify(p.metallb)}`);
      spec.profiles.metallb = p.metallb as ClusterSpec['profiles']['metallb'];
    }
  }
  if (s.client !== undefined) {
    const x = (s.client ?? {}) as Record<string, unknown>;
    if (x.ip !== undefined) {
      if (typeof x.ip !== 'string' || !/^(\d{1,3})(\.\d{1,3}){3}$/.test(x.ip) || x.ip.split('.').some((o) => Number(o) > 255)) fail(c, `spec.client.ip must be an IPv4 address, not ${JSON.stringify(x.ip)}`);
      spec.client.ip = x.ip as string;
    }
    if (x.mac !== undefined) {
      if (typeof x.mac !== 'string' || !MAC.test(x.mac)) fail(c, `spec.client.mac must be a MAC like 52:54:00:aa:00:64, not ${JSON.stringify(x.mac)}`);
      spec.client.mac = (x.mac as string).toLowerCase();
    }
  }
  if (s.placement !== undefined) {
    if (typeof s.placement !== 'object' || s.placement === null || Array.isArray(s.placement)) fail(c, 'spec.placement must map pod names to node names');
    for (const [pod, node] of Object.entries(s.placement as Record<string, unknown>)) {
      if (typeof node !== 'string' || !spec.nodes.some((n) => n.name === node)) fail(c, `spec.placement.${pod} must name one of the nodes (${spec.nodes.map((n) => n.name).join(', ')}), not ${JSON.stringify(node)}`);
    }
    spec.placement = s.placement as Record<string, string>;
  }
  return spec;
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function fail(o: K8sObject, message: string): never {
  throw new ManifestLoadError(o.source.file, o.source.line, o.source.column, `Cluster ${o.metadata.name}: ${message}`);
}
