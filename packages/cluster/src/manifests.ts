/**
 * Kubernetes YAML as users have it: multi-document files, each document an object with apiVersion, kind and
 * metadata. Every object remembers where it came from, so diagnostics can point at it. Parsing uses the `yaml`
 * package (line/column for every node); problems are {@link ManifestLoadError}s naming file, line and column.
 */
import { createRequire } from 'node:module';
import type { Document, LineCounter, Node as YamlNode } from 'yaml';
import { VippathError } from '@vippath/wire';

/**
 * The `yaml` package, loaded at the first manifest read rather than at import: the default scenario is kept
 * parsed (default-scenario.ts), so a replay of the default scenario never reads YAML, and loading the package
 * (≈ 100 CommonJS files) was ≈ 65 ms of CPU of every start (bench/README, "A small capture, start to finish").
 * `require` resolves it with Node's conditions as `import` did (its `node` export, CommonJS): the same module.
 */
let yamlPackage: typeof import('yaml') | undefined;
const yaml = (): typeof import('yaml') => (yamlPackage ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));

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

/** A manifest over one of {@link MANIFEST_LIMITS}: refused before it costs memory or time out of proportion. */
export class ManifestLimitError extends ManifestLoadError {
  readonly limit: keyof ManifestLimits;
  constructor(file: string, line: number, column: number, limit: keyof ManifestLimits, value: number, message: string) {
    super(file, line, column, `${message} (limit ${limit} = ${value})`);
    this.limit = limit;
  }
}

/**
 * What one manifest text may hold. The YAML parser's memory grows about 40× a long quoted scalar and its time with
 * every alias, so these are checked on the lexer's tokens (linear, a few ms per MB) before anything is composed.
 * Figures and what happens at each: test/README.md.
 */
export const MANIFEST_LIMITS: Readonly<ManifestLimits> = {
  /** Bytes of YAML text per file (a `kubectl get -o yaml` of 10 000 Nodes with their status is ~30 MB). */
  bytes: 64 * 1024 * 1024,
  /** Bytes of one scalar (names, annotations, certificates fit easily). */
  scalarBytes: 1024 * 1024,
  /** YAML tokens per file (keys, values, indicators): a 10 000-Node list is ~1.5 M with managedFields. */
  tokens: 8_000_000,
  /** Aliases (`*name`) per file: Kubernetes objects rarely use any. */
  aliases: 1000,
  /**
   * Aliases × tokens: the parser finds each alias's anchor by walking the document, so aliases cost in proportion
   * to the document (5 000 aliases in 40 000 tokens took 3.6 s); this keeps that walk under ~0.5 s.
   */
  aliasWork: 20_000_000,
  /** Objects per file (documents plus List items). */
  objects: 200_000,
};

/** The limits {@link loadManifests} enforces (see {@link MANIFEST_LIMITS}). */
export interface ManifestLimits {
  bytes: number;
  scalarBytes: number;
  tokens: number;
  aliases: number;
  aliasWork: number;
  objects: number;
}

/** The kinds vippath reads; others are reported as ignored (with a "did you mean" for near misses). */
export const KNOWN_KINDS: ReadonlySet<string> = new Set(['Subnet', 'Vlan', 'ProviderNetwork', 'IP', 'IPAddressPool', 'L2Advertisement', 'ServiceL2Status', 'Deployment', 'Pod', 'Service', 'Endpoints', 'EndpointSlice', 'Node', 'Cluster']);

/** An object the loader left out, and the known kind it most likely meant. */
export interface IgnoredObject {
  kind: string;
  name: string;
  line: number;
  file?: string;
  /** The known kind within two edits (or differing only in case), when there is one. */
  didYouMean?: string;
}

/** Levenshtein distance, cut off above `max` (kind names are short). */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known kind `kind` is most likely a misspelling of (`Servcie` → `Service`), if any. */
export function nearestKind(kind: string): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of KNOWN_KINDS) {
    const d = k.toLowerCase() === kind.toLowerCase() ? 0 : editDistance(kind, k, 2);
    // Short kinds (IP) are within two edits of too much to be a useful guess.
    if (d < bestD && (d === 0 || k.length > 3)) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

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
  Deployment: [['spec.template.spec.containers', 'object[]'], ['spec.template.spec.containers.*.args', 'string[]'], ['spec.template.spec.containers.*.command', 'string[]'], ['spec.replicas', 'int'], ['spec.selector', 'object'], ['spec.template', 'object'], ['spec.template.metadata', 'object'], ['spec.template.metadata.labels', 'map'], ['spec.template.spec', 'object'], ['spec.template.spec.nodeName', 'string']],
  Service: [['spec.type', 'string'], ['spec.selector', 'map'], ['spec.externalTrafficPolicy', 'string'], ['spec.internalTrafficPolicy', 'string'], ['spec.ports', 'object[]'], ['spec.ports.*.port', 'port'], ['spec.ports.*.targetPort', 'int|string'], ['spec.ports.*.protocol', 'string'], ['spec.loadBalancerIP', 'string'], ['spec.ipFamilies', 'string[]'], ['spec.ipFamilyPolicy', 'string'], ['spec.clusterIP', 'string'], ['spec.clusterIPs', 'string[]'], ['spec.publishNotReadyAddresses', 'bool'], ['spec.ports.*.name', 'string']],
  Node: [['metadata.labels', 'map']],
  Pod: [['spec.nodeName', 'string'], ['spec.containers', 'object[]'], ['spec.containers.*.ports', 'object[]'], ['spec.containers.*.ports.*.name', 'string'], ['spec.containers.*.ports.*.containerPort', 'port'], ['spec.containers.*.ports.*.protocol', 'string'], ['status.phase', 'string'], ['status', 'object'], ['status.podIP', 'string'], ['status.podIPs', 'object[]'], ['status.podIPs.*.ip', 'string'], ['status.conditions', 'object[]'], ['status.conditions.*.type', 'string'], ['status.conditions.*.status', 'string']],
  Endpoints: [['subsets', 'object[]'], ['subsets.*.addresses', 'object[]'], ['subsets.*.notReadyAddresses', 'object[]'], ['subsets.*.addresses.*.ip', 'string'], ['subsets.*.notReadyAddresses.*.ip', 'string'], ['subsets.*.addresses.*.nodeName', 'string'], ['subsets.*.addresses.*.targetRef', 'object'], ['subsets.*.notReadyAddresses.*.targetRef', 'object'], ['subsets.*.ports', 'object[]'], ['subsets.*.ports.*.name', 'string'], ['subsets.*.ports.*.port', 'port']],
  EndpointSlice: [['endpoints', 'object[]'], ['endpoints.*.addresses', 'string[]'], ['endpoints.*.nodeName', 'string'], ['endpoints.*.targetRef', 'object'], ['endpoints.*.conditions', 'object'], ['endpoints.*.conditions.ready', 'bool'], ['endpoints.*.conditions.serving', 'bool'], ['endpoints.*.conditions.terminating', 'bool'], ['addressType', 'string'], ['ports', 'object[]'], ['ports.*.name', 'string'], ['ports.*.port', 'port'], ['ports.*.protocol', 'string']],
  ServiceL2Status: [['status', 'object'], ['status.node', 'string'], ['status.serviceName', 'string'], ['status.serviceNamespace', 'string']],
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
function checkShape(data: Record<string, unknown>, kind: string, doc: Document.Parsed, lines: LineCounter, file: string, base: Array<string | number>): void {
  const at = (path: Array<string | number>): { line: number; col: number } => {
    const node = doc.getIn([...base, ...path], true) as { range?: [number, number, number] } | undefined;
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

/**
 * Whether `o` is a `type: LoadBalancer` Service: the only kind MetalLB allocates for and the VIP path starts at.
 * (Kube-OVN's OVN load balancers hold every Service's cluster IPs: derive.ts kubeOvnLbServices.)
 */
export function isLoadBalancerService(o: K8sObject): boolean {
  return o.kind === 'Service' && (o.spec as { type?: string } | undefined)?.type === 'LoadBalancer';
}

/**
 * Counts the lexer's tokens, aliases and the longest scalar before the text is composed, so an alias bomb, a
 * 100 MB quoted string or a million keys is refused in linear time with the limit named.
 */
function lineCounterOf(text: string): LineCounter {
  const lc = new (yaml().LineCounter)();
  lc.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lc.addNewLine(i + 1);
  return lc;
}

function checkLimits(text: string, file: string, lines: LineCounter, L: ManifestLimits): void {
  if (text.length > L.bytes) throw new ManifestLimitError(file, 1, 1, 'bytes', L.bytes, `the file is ${text.length} bytes`);
  let tokens = 0;
  let aliases = 0;
  let offset = 0;
  for (const tok of new (yaml().Lexer)().lex(text)) {
    tokens++;
    const c = tok.charCodeAt(0);
    if (c === 0x2a /* * */ && tok.length > 1) aliases++;
    if (tok.length > L.scalarBytes) {
      const pos = lines.linePos(offset);
      throw new ManifestLimitError(file, pos.line, pos.col, 'scalarBytes', L.scalarBytes, `a scalar of ${tok.length} bytes`);
    }
    if (tokens > L.tokens) {
      const pos = lines.linePos(offset);
      throw new ManifestLimitError(file, pos.line, pos.col, 'tokens', L.tokens, `more than ${L.tokens} YAML tokens`);
    }
    if (aliases > L.aliases) {
      const pos = lines.linePos(offset);
      throw new ManifestLimitError(file, pos.line, pos.col, 'aliases', L.aliases, `more than ${L.aliases} aliases`);
    }
    if (aliases > 0 && aliases * tokens > L.aliasWork) {
      const pos = lines.linePos(offset);
      throw new ManifestLimitError(file, pos.line, pos.col, 'aliasWork', L.aliasWork, `${aliases} aliases in a text of more than ${tokens} YAML tokens`);
    }
    // Control tokens of the lexer (document/flow markers) are one character outside the source; the offset is only
    // used for positions, so a token's own length is close enough.
    if (c >= 0x20 || c === 0x0a || c === 0x0d || c === 0x09) offset += tok.length;
  }
}

/**
 * Duplicate keys in one mapping, found in one pass (the parser's own check compares every pair of keys: 50 000
 * keys took 16 s). Kubernetes refuses them too ("mapping key already defined").
 */
function checkDuplicateKeys(doc: Document.Parsed, lines: LineCounter, file: string): void {
  const { visit, isScalar } = yaml();
  visit(doc, {
    Map(_, map) {
      if (map.items.length < 2) return;
      const seen = new Set<string>();
      for (const pair of map.items) {
        const k = pair.key;
        if (!isScalar(k)) continue;
        const key = String(k.value);
        if (seen.has(key)) {
          const pos = lines.linePos(k.range?.[0] ?? 0);
          throw new ManifestLoadError(file, pos.line, pos.col, `duplicate key "${key.slice(0, 60)}" in a mapping`);
        }
        seen.add(key);
      }
    },
  });
}

/** What {@link loadManifests} returns. */
export interface LoadedManifests {
  objects: K8sObject[];
  /** Objects of kinds vippath does not read: left out, each listed (lint reports them). */
  ignored: IgnoredObject[];
}

/**
 * Loads every document of a YAML text: single objects, `kind: List` / `v1/List` (what `kubectl get -o yaml`
 * prints: each item an object), with `managedFields` and `status` as the API server writes them. Empty and
 * comment-only documents (a trailing `---`) are skipped. Unknown kinds come back in `ignored`. The whole load is
 * linear in the text; {@link MANIFEST_LIMITS} bound it.
 */
export function loadManifests(text: string, file = '<input>', limits: Partial<ManifestLimits> = {}): LoadedManifests {
  const L: ManifestLimits = { ...MANIFEST_LIMITS, ...limits };
  if (typeof text !== 'string') throw new ManifestLoadError(file, 1, 1, `manifests are YAML text (a string), not ${typeof text}`);
  checkLimits(text, file, lineCounterOf(text), L);
  const { LineCounter, parseAllDocuments, isMap, isScalar, isSeq } = yaml();
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const objects: K8sObject[] = [];
  const ignored: IgnoredObject[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) {
      const pos = lines.linePos(err.pos[0]);
      throw new ManifestLoadError(file, pos.line, pos.col, `invalid YAML: ${err.message.split('\n')[0]}`);
    }
    // An empty document between separators, or one holding only comments.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue;
    const start = lines.linePos(doc.contents.range?.[0] ?? 0);
    if (!isMap(doc.contents)) throw new ManifestLoadError(file, start.line, start.col, 'a document must be a mapping (an object with apiVersion, kind, metadata)');
    checkDuplicateKeys(doc, lines, file);
    let data: Record<string, unknown>;
    try {
      data = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
    } catch (e) {
      // Unresolved aliases and alias bombs surface only when the document is turned into data.
      throw new ManifestLoadError(file, start.line, start.col, `invalid YAML: ${(e as Error).message}`);
    }
    if (data.kind === 'List' || (typeof data.kind === 'string' && data.kind.endsWith('List') && Array.isArray(data.items))) {
      // kubectl get -o yaml: `apiVersion: v1, kind: List, items: [...]` (typed lists like ServiceList the same).
      const items = data.items ?? [];
      if (!Array.isArray(items)) throw new ManifestLoadError(file, start.line, start.col, `${data.kind} items must be a list of objects`);
      const seq = doc.get('items', true);
      items.forEach((item, i) => {
        const node = isSeq(seq) ? (seq.items[i] as YamlNode | undefined) : undefined;
        const pos = lines.linePos(node?.range?.[0] ?? doc.contents!.range?.[0] ?? 0);
        if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ManifestLoadError(file, pos.line, pos.col, `${data.kind} items[${i}] must be an object with apiVersion, kind, metadata`);
        addObject(item as Record<string, unknown>, pos, ['items', i]);
      });
    } else addObject(data, start, []);
    if (objects.length + ignored.length > L.objects) throw new ManifestLimitError(file, start.line, start.col, 'objects', L.objects, `more than ${L.objects} objects`);

    function addObject(o: Record<string, unknown>, pos: { line: number; col: number }, base: Array<string | number>): void {
      const where = (field: string): never => {
        throw new ManifestLoadError(file, pos.line, pos.col, `the object has no ${field}`);
      };
      if (typeof o.kind !== 'string') where('kind');
      if (typeof o.apiVersion !== 'string') where('apiVersion');
      const meta = o.metadata as { name?: unknown; managedFields?: unknown } | undefined;
      if (!meta || typeof meta.name !== 'string' || meta.name === '') where('metadata.name');
      const kind = o.kind as string;
      if (!KNOWN_KINDS.has(kind)) {
        const guess = nearestKind(kind);
        ignored.push({ kind, name: meta!.name as string, line: pos.line, file, ...(guess ? { didYouMean: guess } : {}) });
        return;
      }
      // managedFields are the API server's bookkeeping: large, and nothing on the path depends on them.
      if (meta!.managedFields !== undefined) delete meta!.managedFields;
      // An object without a spec reads as an empty one (what the API server would default), not as a hole.
      if (o.spec === undefined || o.spec === null) o.spec = {};
      checkShape(o, kind, doc, lines, file, base);
      objects.push({ ...o, source: { file, line: pos.line, column: pos.col } } as K8sObject);
    }
  }
  return { objects, ignored };
}
