/**
 * Reads an OVSDB database file — what `ovsdb-client backup` writes, a standalone server's `.db`, or a clustered
 * (Raft) server's `.db` copied off a node — into tables of rows, as the server would hold them after replaying
 * the file. This is how a real cluster's OVN Northbound and Southbound state enters vippath.
 *
 * Facts (openvswitch/ovs, branch-3.1):
 * - Framing, `ovsdb/log.c`: each record is a header line `OVSDB JSON <length> <sha1>` (standalone) or
 *   `OVSDB CLUSTER <length> <sha1>` (clustered), then exactly `<length>` bytes of JSON whose SHA-1 is `<sha1>`.
 * - Standalone contents, `ovsdb/file.c`: the first record is the schema; every later one is a transaction
 *   `{"<table>": {"<uuid>": <row or null>}, "_date", "_comment", "_is_diff"}`; `null` deletes the row. With
 *   `_is_diff` set, a set or map column holds the *difference* to apply (`ovsdb_datum_apply_diff`: a set element
 *   present is removed, absent is added; a map key with the same value is removed, with another value is
 *   replaced, absent is added); otherwise a column's value replaces the old one.
 * - Clustered contents, `ovsdb/raft.c` and `ovsdb/storage.c`: the first record is the Raft header, whose
 *   `prev_data` is the snapshot `[schema, data]`; later records are either Raft bookkeeping (`term`, `vote`,
 *   `commit_index`, …) or log entries `{"term", "index", "data": [schema or null, transaction or null]}`.
 *   Only entries up to the last `commit_index` are part of the database; a later entry with an index already
 *   seen replaces the earlier one (a new leader overwrote it). A non-null schema in an entry is a conversion:
 *   the database is replaced by the entry's data under the new schema.
 * - Values, RFC 7047 §5.1: an atom (string, number, boolean, `["uuid", U]`, `["named-uuid", N]`), a set
 *   `["set", [atoms]]` (a one-element set may be written as its atom), a map `["map", [[k, v], …]]`.
 * @module
 */
import { createHash } from 'node:crypto';
import { VippathError } from '@vippath/wire';

/** A value of one OVSDB column, normalised: scalar columns hold an atom, set columns an array, map columns a Map. */
export type OvsdbAtom = string | number | boolean;
export type OvsdbValue = OvsdbAtom | OvsdbAtom[] | Map<OvsdbAtom, OvsdbAtom>;

/** One row: its uuid and its columns (every column of the schema, defaults filled in). */
export interface OvsdbRow {
  readonly _uuid: string;
  readonly columns: Map<string, OvsdbValue>;
}

/** A column's type as the schema gives it (RFC 7047 §3.2). */
export interface OvsdbColumnType {
  key: string;
  value?: string;
  min: number;
  max: number;
  /** Table a uuid key refers to, if any. */
  refTable?: string;
}

/** A database as a server holds it after reading the file. */
export interface OvsdbDatabase {
  /** The schema's `name`: `OVN_Northbound`, `OVN_Southbound`, `Open_vSwitch`, … */
  readonly name: string;
  readonly version: string;
  /** `standalone` for `ovsdb-client backup` and standalone servers, `clustered` for a Raft server's file. */
  readonly format: 'standalone' | 'clustered';
  /** Table name → uuid → row. */
  readonly tables: Map<string, Map<string, OvsdbRow>>;
  /** Table name → column name → type. */
  readonly schema: Map<string, Map<string, OvsdbColumnType>>;
}

/** Why a database file could not be read; `record` counts from 1, `offset` is the header's byte offset. */
export class OvsdbFileError extends VippathError {
  readonly file: string;
  readonly record: number;
  readonly offset: number;
  constructor(code: string, file: string, record: number, offset: number, message: string) {
    super(code, `${file}: record ${record} (byte ${offset}): ${message}`);
    this.file = file;
    this.record = record;
    this.offset = offset;
  }
}

/** At most this many bytes of one record: a header claiming more is refused before anything is read. */
export const OVSDB_MAX_RECORD = 1 << 30;

interface RawRecord {
  magic: 'JSON' | 'CLUSTER';
  json: unknown;
  index: number;
  offset: number;
}

function* records(bytes: Uint8Array, file: string): Generator<RawRecord> {
  let pos = 0;
  let index = 0;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  while (pos < bytes.length) {
    index++;
    const nl = bytes.indexOf(0x0a, pos);
    const headerEnd = nl < 0 ? bytes.length : nl;
    if (headerEnd - pos > 200) throw new OvsdbFileError('OVSDB_BAD_HEADER', file, index, pos, 'no record header (is this an OVSDB database file?)');
    const header = decoder.decode(bytes.subarray(pos, headerEnd));
    const m = /^OVSDB (JSON|CLUSTER) (\d+) ([0-9a-f]{40})$/.exec(header);
    if (!m) throw new OvsdbFileError('OVSDB_BAD_HEADER', file, index, pos, `expected "OVSDB JSON|CLUSTER <length> <sha1>", found ${JSON.stringify(header.slice(0, 60))}`);
    const length = Number(m[2]);
    if (length > OVSDB_MAX_RECORD) throw new OvsdbFileError('OVSDB_RECORD_TOO_LARGE', file, index, pos, `record of ${length} bytes exceeds the ${OVSDB_MAX_RECORD}-byte limit`);
    const start = headerEnd + 1;
    if (nl < 0 || start + length > bytes.length) throw new OvsdbFileError('OVSDB_TRUNCATED', file, index, pos, `record claims ${length} bytes, ${Math.max(0, bytes.length - start)} remain (file cut short?)`);
    const body = bytes.subarray(start, start + length);
    const sha1 = createHash('sha1').update(body).digest('hex');
    if (sha1 !== m[3]) throw new OvsdbFileError('OVSDB_BAD_CHECKSUM', file, index, pos, `SHA-1 ${sha1} does not match the header's ${m[3]} (file damaged?)`);
    let json: unknown;
    try {
      json = JSON.parse(decoder.decode(body));
    } catch (e) {
      throw new OvsdbFileError('OVSDB_BAD_JSON', file, index, pos, `not JSON: ${(e as Error).message}`);
    }
    yield { magic: m[1] as 'JSON' | 'CLUSTER', json, index, offset: pos };
    pos = start + length;
    // The log writer ends each record's JSON with a newline that is not counted in <length>.
    if (bytes[pos] === 0x0a) pos++;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Reader {
  readonly tables = new Map<string, Map<string, OvsdbRow>>();
  schema = new Map<string, Map<string, OvsdbColumnType>>();
  name = '';
  version = '';
  constructor(readonly file: string) {}
  private record = 0;
  private offset = 0;

  fail(code: string, message: string): never {
    throw new OvsdbFileError(code, this.file, this.record, this.offset, message);
  }

  at(r: RawRecord): void {
    this.record = r.index;
    this.offset = r.offset;
  }

  setSchema(s: unknown): void {
    if (!isObject(s) || typeof s.name !== 'string' || !isObject(s.tables)) this.fail('OVSDB_BAD_SCHEMA', 'the schema record has no name or tables');
    this.name = s.name;
    this.version = typeof s.version === 'string' ? s.version : '';
    this.schema = new Map();
    this.tables.clear();
    for (const [table, def] of Object.entries(s.tables)) {
      const cols = new Map<string, OvsdbColumnType>();
      const columns = isObject(def) && isObject(def.columns) ? def.columns : {};
      for (const [col, cdef] of Object.entries(columns)) cols.set(col, columnType(isObject(cdef) ? cdef.type : undefined));
      this.schema.set(table, cols);
      this.tables.set(table, new Map());
    }
  }

  /** Applies one transaction record (`ovsdb/file.c`'s replay of a record). */
  apply(txn: unknown): void {
    if (!isObject(txn)) this.fail('OVSDB_BAD_TRANSACTION', 'a transaction record must be a JSON object');
    const isDiff = txn._is_diff === true;
    for (const [table, rows] of Object.entries(txn)) {
      if (table.startsWith('_')) continue;
      const cols = this.schema.get(table);
      const stored = this.tables.get(table);
      if (!cols || !stored) this.fail('OVSDB_UNKNOWN_TABLE', `table ${table} is not in the ${this.name} schema`);
      if (!isObject(rows)) this.fail('OVSDB_BAD_TRANSACTION', `table ${table}: rows must be an object keyed by uuid`);
      for (const [uuid, row] of Object.entries(rows)) {
        if (row === null) {
          stored.delete(uuid);
          continue;
        }
        if (!isObject(row)) this.fail('OVSDB_BAD_TRANSACTION', `${table} ${uuid}: a row must be an object or null`);
        let current = stored.get(uuid);
        if (!current) {
          current = { _uuid: uuid, columns: new Map() };
          for (const [col, type] of cols) current.columns.set(col, defaultValue(type));
          stored.set(uuid, current);
        }
        for (const [col, json] of Object.entries(row)) {
          const type = cols.get(col);
          if (!type) this.fail('OVSDB_UNKNOWN_COLUMN', `${table} ${uuid}: column ${col} is not in the schema`);
          const value = this.datum(json, type, `${table}.${col}`);
          current.columns.set(col, isDiff && !isScalar(type) ? applyDiff(current.columns.get(col)!, value) : value);
        }
      }
    }
  }

  private atom(json: unknown, where: string): OvsdbAtom {
    if (typeof json === 'string' || typeof json === 'number' || typeof json === 'boolean') return json;
    if (Array.isArray(json) && json.length === 2 && (json[0] === 'uuid' || json[0] === 'named-uuid') && typeof json[1] === 'string') return json[1];
    return this.fail('OVSDB_BAD_VALUE', `${where}: ${JSON.stringify(json)?.slice(0, 80)} is not an OVSDB atom`);
  }

  private datum(json: unknown, type: OvsdbColumnType, where: string): OvsdbValue {
    if (type.value !== undefined) {
      const m = new Map<OvsdbAtom, OvsdbAtom>();
      if (!Array.isArray(json) || json[0] !== 'map' || !Array.isArray(json[1])) this.fail('OVSDB_BAD_VALUE', `${where}: expected ["map", [...]]`);
      for (const pair of json[1] as unknown[]) {
        if (!Array.isArray(pair) || pair.length !== 2) this.fail('OVSDB_BAD_VALUE', `${where}: a map entry must be [key, value]`);
        m.set(this.atom(pair[0], where), this.atom(pair[1], where));
      }
      return m;
    }
    const set = Array.isArray(json) && json[0] === 'set' ? (Array.isArray(json[1]) ? (json[1] as unknown[]).map((a) => this.atom(a, where)) : this.fail('OVSDB_BAD_VALUE', `${where}: expected ["set", [...]]`)) : undefined;
    if (isScalar(type)) {
      if (set) {
        if (set.length !== 1) this.fail('OVSDB_BAD_VALUE', `${where}: a scalar column holds exactly one value`);
        return set[0]!;
      }
      return this.atom(json, where);
    }
    return set ?? [this.atom(json, where)];
  }
}

function columnType(t: unknown): OvsdbColumnType {
  // RFC 7047 §3.2: a type is an atomic type name, or {key, value?, min?, max?}; key/value are a name or {type, refTable…}.
  const base = (b: unknown): { type: string; refTable?: string } =>
    typeof b === 'string' ? { type: b } : isObject(b) && typeof b.type === 'string' ? { type: b.type, ...(typeof b.refTable === 'string' ? { refTable: b.refTable } : {}) } : { type: 'string' };
  if (!isObject(t)) return { key: base(t).type, min: 1, max: 1 };
  const key = base(t.key);
  const min = typeof t.min === 'number' ? t.min : 1;
  const max = t.max === 'unlimited' ? Infinity : typeof t.max === 'number' ? t.max : 1;
  return { key: key.type, ...(t.value !== undefined ? { value: base(t.value).type } : {}), min, max, ...(key.refTable ? { refTable: key.refTable } : {}) };
}

function isScalar(t: OvsdbColumnType): boolean {
  return t.value === undefined && t.min === 1 && t.max === 1;
}

function defaultValue(t: OvsdbColumnType): OvsdbValue {
  if (t.value !== undefined) return new Map();
  if (!isScalar(t)) return [];
  // RFC 7047 §5.2.1's defaults: 0, 0.0, false, "", and the all-zero uuid.
  switch (t.key) {
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'uuid':
      return '00000000-0000-0000-0000-000000000000';
    default:
      return '';
  }
}

function applyDiff(old: OvsdbValue, diff: OvsdbValue): OvsdbValue {
  if (diff instanceof Map) {
    const out = new Map(old as Map<OvsdbAtom, OvsdbAtom>);
    for (const [k, v] of diff) {
      if (out.has(k) && out.get(k) === v) out.delete(k);
      else out.set(k, v);
    }
    return out;
  }
  const out = (old as OvsdbAtom[]).slice();
  for (const a of diff as OvsdbAtom[]) {
    const i = out.indexOf(a);
    if (i >= 0) out.splice(i, 1);
    else out.push(a);
  }
  return out;
}

/**
 * Reads an OVSDB database file's bytes. Every record's length and SHA-1 are checked; a damaged or cut file is
 * an {@link OvsdbFileError}, never a partial database.
 */
export function readOvsdbFile(bytes: Uint8Array, file = '<ovsdb>'): OvsdbDatabase {
  const r: Reader = new Reader(file);
  let format: 'standalone' | 'clustered' | undefined;
  // Clustered: log entries by Raft index (a later entry with the same index replaces the earlier), and the
  // highest commit index seen; entries are applied in index order once the whole file is read.
  const entries = new Map<number, { data: unknown; raw: RawRecord }>();
  let commitIndex = 0;
  let snapshotIndex = 0;
  for (const rec of records(bytes, file)) {
    r.at(rec);
    const fmt = rec.magic === 'JSON' ? 'standalone' : 'clustered';
    if (format && fmt !== format) r.fail('OVSDB_MIXED_FORMAT', `a ${fmt} record in a ${format} file`);
    const first = format === undefined;
    format = fmt;
    if (fmt === 'standalone') {
      if (first) r.setSchema(rec.json);
      else r.apply(rec.json);
      continue;
    }
    const j = rec.json;
    if (!isObject(j)) r.fail('OVSDB_BAD_RAFT', 'a Raft record must be a JSON object');
    if (first) {
      if (!Array.isArray(j.prev_data) || j.prev_data.length !== 2) r.fail('OVSDB_BAD_RAFT', 'the Raft header has no prev_data snapshot [schema, data]');
      r.setSchema(j.prev_data[0]);
      if (j.prev_data[1] !== null) r.apply(j.prev_data[1]);
      snapshotIndex = typeof j.prev_index === 'number' ? j.prev_index : 0;
      commitIndex = snapshotIndex;
      continue;
    }
    if (typeof j.commit_index === 'number') commitIndex = Math.max(commitIndex, j.commit_index);
    // An entry without data (a new leader's no-op, or a membership change) still replaces one at its index.
    if (typeof j.index === 'number' && 'term' in j) entries.set(j.index, { data: 'data' in j ? j.data : null, raw: rec });
  }
  if (!format) throw new OvsdbFileError('OVSDB_EMPTY', file, 0, 0, 'the file holds no records');
  if (format === 'clustered') {
    // A single-server cluster writes commit_index records; an entry past every commit index seen was never
    // committed and is not part of the database a server would load.
    for (const index of [...entries.keys()].sort((a, b) => a - b)) {
      if (index <= snapshotIndex || index > commitIndex) continue;
      const { data, raw } = entries.get(index)!;
      r.at(raw);
      if (data === null) continue;
      if (!Array.isArray(data) || data.length !== 2) r.fail('OVSDB_BAD_RAFT', 'a log entry\'s data must be [schema or null, transaction or null]');
      if (data[0] !== null) r.setSchema(data[0]);
      if (data[1] !== null) r.apply(data[1]);
    }
  }
  return { name: r.name, version: r.version, format, tables: r.tables, schema: r.schema };
}

/** The rows of `table` (empty when the table has none or is not in the schema). */
export function ovsdbRows(db: OvsdbDatabase, table: string): OvsdbRow[] {
  return [...(db.tables.get(table)?.values() ?? [])];
}

/** A scalar or optional string column (`undefined` when an optional column is empty). */
export function ovsdbString(row: OvsdbRow, column: string): string | undefined {
  const v = row.columns.get(column);
  if (Array.isArray(v)) return v.length ? String(v[0]) : undefined;
  if (v instanceof Map || v === undefined) return undefined;
  return String(v);
}

/** A scalar or optional integer column. */
export function ovsdbInteger(row: OvsdbRow, column: string): number | undefined {
  const v = row.columns.get(column);
  const a = Array.isArray(v) ? v[0] : v instanceof Map ? undefined : v;
  return typeof a === 'number' ? a : undefined;
}

/** A set column's values as strings (a scalar column gives one value). */
export function ovsdbStrings(row: OvsdbRow, column: string): string[] {
  const v = row.columns.get(column);
  if (v === undefined || v instanceof Map) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/** A string→string map column (options, external_ids, vips) as a null-prototype record. */
export function ovsdbMap(row: OvsdbRow, column: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const v = row.columns.get(column);
  if (v instanceof Map) for (const [k, val] of v) out[String(k)] = String(val);
  return out;
}
