/**
 * Kubernetes YAML as users have it: multi-document files, each document an object with apiVersion, kind and
 * metadata. Every object remembers where it came from, so diagnostics can point at it. Parsing uses the `yaml`
 * package (line/column for every node); problems are {@link ManifestLoadError}s naming file, line and column.
 */
import { LineCounter, parseAllDocuments, isMap, type Document } from 'yaml';
import { VippathError } from '@vippath/wire';

/** A loaded object: the manifest as data plus its position. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
  /** Where the document starts. */
  source: { file: string; line: number; column: number };
}

/** A manifest that cannot be loaded: bad YAML, or a document that is not a Kubernetes object. */
export class ManifestLoadError extends VippathError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  constructor(file: string, line: number, column: number, message: string) {
    super('BAD_MANIFEST', `${file}:${line}:${column}: ${message}`);
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

/** The kinds vippath reads; others are reported as warnings and ignored. */
export const KNOWN_KINDS: ReadonlySet<string> = new Set(['Subnet', 'Vlan', 'ProviderNetwork', 'IPAddressPool', 'L2Advertisement', 'Deployment', 'Pod', 'Service', 'Node', 'Cluster']);

type FieldType = 'string' | 'int' | 'port' | 'bool' | 'string[]' | 'map' | 'object' | 'object[]' | 'int|string';

/**
 * The shape of the fields vippath reads, per kind: a wrong type is reported where it is (file:line:column) instead
 * of failing later, somewhere less helpful. `*` stands for every element of a list.
 */
const SCHEMA: Record<string, Array<[string, FieldType]>> = {
  '*': [['metadata.namespace', 'string'], ['metadata.labels', 'map'], ['metadata.annotations', 'map'], ['spec', 'object']],
  Subnet: [['spec.cidrBlock', 'string'], ['spec.gateway', 'string'], ['spec.excludeIps', 'string[]'], ['spec.vlan', 'string'], ['spec.provider', 'string'], ['spec.protocol', 'string'], ['spec.enableExternalLBAddress', 'bool'], ['spec.natOutgoing', 'bool'], ['spec.u2oInterconnection', 'bool']],
  Vlan: [['spec.id', 'int'], ['spec.provider', 'string']],
  ProviderNetwork: [['spec.defaultInterface', 'string']],
  IPAddressPool: [['spec.addresses', 'string[]'], ['spec.autoAssign', 'bool'], ['spec.avoidBuggyIPs', 'bool'], ['spec.serviceAllocation', 'object']],
  L2Advertisement: [['spec.ipAddressPools', 'string[]'], ['spec.ipAddressPoolSelectors', 'object[]'], ['spec.nodeSelectors', 'object[]'], ['spec.interfaces', 'string[]']],
  Deployment: [['spec.replicas', 'int'], ['spec.selector', 'object'], ['spec.template', 'object'], ['spec.template.metadata', 'object'], ['spec.template.metadata.labels', 'map'], ['spec.template.spec', 'object'], ['spec.template.spec.nodeName', 'string']],
  Service: [['spec.type', 'string'], ['spec.selector', 'map'], ['spec.externalTrafficPolicy', 'string'], ['spec.ports', 'object[]'], ['spec.ports.*.port', 'port'], ['spec.ports.*.targetPort', 'int|string'], ['spec.ports.*.protocol', 'string'], ['spec.loadBalancerIP', 'string'], ['spec.ipFamilies', 'string[]'], ['spec.ipFamilyPolicy', 'string']],
  Node: [['metadata.labels', 'map']],
};

const isMapOfStrings = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

function typeOk(v: unknown, t: FieldType): boolean {
  switch (t) {
    case 'string': return typeof v === 'string';
    case 'int': return Number.isSafeInteger(v) && (v as number) >= 0;
    case 'port': return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
    case 'int|string': return typeof v === 'string' || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535);
    case 'bool': return typeof v === 'boolean';
    case 'string[]': return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'map': return isMapOfStrings(v);
    case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'object[]': return Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));
  }
}

const TYPE_WORDS: Record<FieldType, string> = {
  string: 'a string', int: 'a whole number ≥ 0', port: 'a port from 1 to 65535', 'int|string': 'a port number or a port name', bool: 'true or false',
  'string[]': 'a list of strings', map: 'a map of string values', object: 'a mapping', 'object[]': 'a list of mappings',
};

/** Pods per Deployment vippath simulates; more is surely a typo (and would allocate without bound). */
export const MAX_REPLICAS = 4096;

/** Checks the fields of one object against {@link SCHEMA}; positions come from the YAML nodes. */
function checkShape(data: Record<string, unknown>, kind: string, doc: Document.Parsed, lines: LineCounter, file: string): void {
  const at = (path: Array<string | number>): { line: number; col: number } => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return lines.linePos(node?.range?.[0] ?? doc.contents?.range?.[0] ?? 0);
  };
  const visit = (value: unknown, parts: string[], path: Array<string | number>, t: FieldType): void => {
    if (value === undefined || value === null) return;
    if (parts.length === 0) {
      if (!typeOk(value, t)) {
        const pos = at(path);
        throw new ManifestLoadError(file, pos.line, pos.col, `${kind} ${path.join('.')} must be ${TYPE_WORDS[t]}, not ${JSON.stringify(value)?.slice(0, 40)}`);
      }
      return;
    }
    const [head, ...rest] = parts as [string, ...string[]];
    if (head === '*') {
      if (Array.isArray(value)) value.forEach((x, i) => visit(x, rest, [...path, i], t));
      return;
    }
    if (typeof value !== 'object' || Array.isArray(value)) return; // the parent's own check reports it
    visit((value as Record<string, unknown>)[head], rest, [...path, head], t);
  };
  for (const [field, t] of [...SCHEMA['*']!, ...(SCHEMA[kind] ?? [])]) visit(data, field.split('.'), [], t);
  if (kind === 'Deployment') {
    const replicas = (data.spec as { replicas?: number } | undefined)?.replicas;
    if (typeof replicas === 'number' && replicas > MAX_REPLICAS) {
      const pos = at(['spec', 'replicas']);
      throw new ManifestLoadError(file, pos.line, pos.col, `Deployment spec.replicas is ${replicas}; vippath simulates at most ${MAX_REPLICAS} pods per Deployment`);
    }
  }
}

/** Whether `o` is a `type: LoadBalancer` Service (the only kind MetalLB and this path care about). */
export function isLoadBalancerService(o: K8sObject): boolean {
  return o.kind === 'Service' && (o.spec as { type?: string } | undefined)?.type === 'LoadBalancer';
}

/** Loads every document of a YAML text. Unknown kinds come back in `ignored`. */
export function loadManifests(text: string, file = '<input>'): { objects: K8sObject[]; ignored: Array<{ kind: string; name: string; line: number }> } {
  if (typeof text !== 'string') throw new ManifestLoadError(file, 1, 1, `manifests are YAML text (a string), not ${typeof text}`);
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const objects: K8sObject[] = [];
  const ignored: Array<{ kind: string; name: string; line: number }> = [];
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) {
      const pos = lines.linePos(err.pos[0]);
      throw new ManifestLoadError(file, pos.line, pos.col, `invalid YAML: ${err.message.split('\n')[0]}`);
    }
    if (doc.contents === null) continue; // an empty document between separators
    const start = lines.linePos(doc.contents.range?.[0] ?? 0);
    if (!isMap(doc.contents)) throw new ManifestLoadError(file, start.line, start.col, 'a document must be a mapping (an object with apiVersion, kind, metadata)');
    let data: Record<string, unknown>;
    try {
      data = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
    } catch (e) {
      // Unresolved aliases and alias bombs surface only when the document is turned into data.
      throw new ManifestLoadError(file, start.line, start.col, `invalid YAML: ${(e as Error).message}`);
    }
    const where = (field: string): never => {
      throw new ManifestLoadError(file, start.line, start.col, `the object has no ${field}`);
    };
    if (typeof data.kind !== 'string') where('kind');
    if (typeof data.apiVersion !== 'string') where('apiVersion');
    const meta = data.metadata as { name?: unknown } | undefined;
    if (!meta || typeof meta.name !== 'string' || meta.name === '') where('metadata.name');
    const kind = data.kind as string;
    if (!KNOWN_KINDS.has(kind)) {
      ignored.push({ kind, name: meta!.name as string, line: start.line });
      continue;
    }
    // An object without a spec reads as an empty one (what the API server would default), not as a hole.
    if (data.spec === undefined || data.spec === null) data.spec = {};
    checkShape(data, kind, doc, lines, file);
    objects.push({ ...data, source: { file, line: start.line, column: start.col } } as K8sObject);
  }
  return { objects, ignored };
}
