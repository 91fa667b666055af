/**
 * Kubernetes YAML as users have it: multi-document files, each document an object with apiVersion, kind and
 * metadata. Every object remembers where it came from, so diagnostics can point at it. Parsing uses the `yaml`
 * package (line/column for every node); problems are {@link ManifestLoadError}s naming file, line and column.
 */
import { LineCounter, parseAllDocuments, isMap } from 'yaml';
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

/** Loads every document of a YAML text. Unknown kinds come back in `ignored`. */
export function loadManifests(text: string, file = '<input>'): { objects: K8sObject[]; ignored: Array<{ kind: string; name: string; line: number }> } {
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
    objects.push({ ...data, source: { file, line: start.line, column: start.col } } as K8sObject);
  }
  return { objects, ignored };
}
