/**
 * The Kubernetes objects MetalLB reads, as plain typed data (shaped like the API objects, so manifests
 * map onto them directly), and label-selector matching (k8s.io/apimachinery LabelSelector semantics).
 */

/** `metadata` of an object. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** One `matchExpressions` requirement. */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** A Kubernetes label selector: all of `matchLabels` and every expression must hold. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** metallb.io/v1beta1 IPAddressPool. */
export interface IPAddressPoolObject {
  apiVersion?: string;
  kind?: 'IPAddressPool';
  metadata: ObjectMeta;
  spec: {
    addresses: string[];
    autoAssign?: boolean;
    avoidBuggyIPs?: boolean;
    serviceAllocation?: {
      priority?: number;
      namespaces?: string[];
      namespaceSelectors?: LabelSelector[];
      serviceSelectors?: LabelSelector[];
    };
  };
}

/** metallb.io/v1beta1 L2Advertisement. */
export interface L2AdvertisementObject {
  apiVersion?: string;
  kind?: 'L2Advertisement';
  metadata: ObjectMeta;
  spec?: {
    ipAddressPools?: string[];
    ipAddressPoolSelectors?: LabelSelector[];
    nodeSelectors?: LabelSelector[];
    interfaces?: string[];
    serviceSelectors?: LabelSelector[];
  };
}

/** A Service port. */
export interface ServicePort {
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  targetPort?: number | string;
  name?: string;
}

/** v1 Service (the fields MetalLB reads). */
export interface ServiceObject {
  apiVersion?: string;
  kind?: 'Service';
  metadata: ObjectMeta;
  spec: {
    type?: string;
    externalTrafficPolicy?: 'Local' | 'Cluster';
    ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
    ipFamilies?: Array<'IPv4' | 'IPv6'>;
    clusterIPs?: string[];
    loadBalancerIP?: string;
    ports?: ServicePort[];
    selector?: Record<string, string>;
  };
  status?: { loadBalancer?: { ingress?: Array<{ ip: string }> } };
}

/** v1 Node (the fields MetalLB reads). */
export interface NodeObject {
  metadata: ObjectMeta;
  status?: { conditions?: Array<{ type: string; status: 'True' | 'False' | 'Unknown' }> };
}

/** One endpoint of a Service (an EndpointSlice entry). `undefined` conditions mean "unknown" as in the API. */
export interface Endpoint {
  address?: string;
  nodeName?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** Does `labels` satisfy `selector`? (An empty selector matches everything.) */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string> = {}): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = labels[req.key];
    switch (req.operator) {
      case 'In':
        if (!has || !(req.values ?? []).includes(value!)) return false;
        break;
      case 'NotIn':
        if (has && (req.values ?? []).includes(value!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** Any of `selectors` matches (MetalLB ORs selector lists); an empty list matches nothing. */
export function anySelectorMatches(selectors: readonly LabelSelector[], labels: Record<string, string> = {}): boolean {
  return selectors.some((s) => selectorMatches(s, labels));
}

/** `namespace/name` of an object (namespace `default` when unset). */
export function objectKey(meta: ObjectMeta): string {
  return `${meta.namespace ?? 'default'}/${meta.name}`;
}
