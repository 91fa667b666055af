import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OvsdbFileError, ovsdbMap, ovsdbRows, ovsdbString, ovsdbStrings, readOvsdbFile, type OvsdbDatabase, type OvsdbValue } from './ovsdb.js';

const dir = fileURLToPath(new URL('../../../test/fixtures/ovsdb/', import.meta.url));
const load = (name: string): OvsdbDatabase => readOvsdbFile(readFileSync(dir + name), name);

/** `ovsdb-client dump --format=json` output (one JSON table per line) → table → uuid → column → normalised value. */
function dumped(name: string): Map<string, Map<string, Map<string, unknown>>> {
  const out = new Map<string, Map<string, Map<string, unknown>>>();
  for (const line of readFileSync(dir + name, 'utf8').split('\n').filter(Boolean)) {
    const t = JSON.parse(line) as { caption: string; data: unknown[][]; headings: string[] };
    const rows = new Map<string, Map<string, unknown>>();
    for (const r of t.data) {
      const cols = new Map<string, unknown>();
      t.headings.forEach((h, i) => cols.set(h, norm(r[i])));
      rows.set((r[0] as [string, string])[1], cols);
    }
    out.set(t.caption.replace(/ table$/, ''), rows);
  }
  return out;
}

function norm(v: unknown): unknown {
  if (Array.isArray(v) && v[0] === 'set') return (v[1] as unknown[]).map(norm).map(String).sort();
  if (Array.isArray(v) && v[0] === 'map') return (v[1] as unknown[][]).map(([k, x]) => `${String(norm(k))}=${String(norm(x))}`).sort();
  if (Array.isArray(v) && (v[0] === 'uuid' || v[0] === 'named-uuid')) return v[1];
  return v;
}

function ours(v: OvsdbValue): unknown {
  if (v instanceof Map) return [...v].map(([k, x]) => `${String(k)}=${String(x)}`).sort();
  if (Array.isArray(v)) return v.map(String).sort();
  return v;
}

/** Every row and column the real server dumped equals what the reader holds (a one-element set may be dumped bare). */
function compare(db: OvsdbDatabase, expect: ReturnType<typeof dumped>): number {
  let checked = 0;
  for (const [table, rows] of expect) {
    const got = db.tables.get(table)!;
    expect_(got, `table ${table}`).toBeDefined();
    expect_([...got.keys()].sort(), table).toEqual([...rows.keys()].sort());
    for (const [uuid, cols] of rows) {
      for (const [col, want] of cols) {
        if (col === '_uuid') continue;
        const have = ours(got.get(uuid)!.columns.get(col)!);
        const w = Array.isArray(have) && !Array.isArray(want) ? [String(want)] : want;
        expect_(have, `${table} ${uuid} ${col}`).toEqual(w);
        checked++;
      }
    }
  }
  return checked;
}
const expect_ = expect;

describe('readOvsdbFile against ovsdb-client dump of the same server', () => {
  it('reads an ovsdb-client backup of OVN_Northbound', () => {
    const db = load('nb-backup.db');
    expect(db.name).toBe('OVN_Northbound');
    expect(db.format).toBe('standalone');
    expect(compare(db, dumped('nb-backup.expect.json'))).toBeGreaterThan(50);
    const lb = ovsdbRows(db, 'Load_Balancer')[0]!;
    expect(ovsdbMap(lb, 'vips')['10.180.204.252:80']).toBe('10.180.204.2:80,10.180.204.3:80,10.180.204.4:80');
    expect(ovsdbMap(lb, 'options').prefer_local_backend).toBe('true');
  });

  it('reads the OVN_Southbound that ovn-northd wrote (Logical_Flow rows with their external_ids)', () => {
    const db = load('sb-backup.db');
    expect(db.name).toBe('OVN_Southbound');
    expect(compare(db, dumped('sb-backup.expect.json'))).toBeGreaterThan(500);
    const flows = ovsdbRows(db, 'Logical_Flow');
    expect(flows.length).toBeGreaterThan(100);
    expect(flows.some((f) => ovsdbMap(f, 'external_ids')['stage-name'] === 'ls_in_lb' && ovsdbString(f, 'match')!.includes('10.180.204.252'))).toBe(true);
  });

  it('replays a clustered (Raft) server file: diffs of sets and maps, deletes, commit index', () => {
    const db = load('nb-clustered.db');
    expect(db.format).toBe('clustered');
    expect(compare(db, dumped('nb-clustered.expect.json'))).toBeGreaterThan(20);
    const ports = ovsdbRows(db, 'Logical_Switch_Port');
    expect(ports.map((p) => ovsdbString(p, 'name'))).toEqual(['p1']);
    expect(ovsdbStrings(ports[0]!, 'addresses').sort()).toEqual(['00:00:00:00:00:01 10.0.0.5', '00:00:00:00:00:01 10.0.0.6']);
  });
});

describe('damaged files are typed errors', () => {
  const good = readFileSync(dir + 'nb-backup.db');
  const code = (bytes: Uint8Array): string => {
    try {
      readOvsdbFile(bytes, 'x.db');
    } catch (e) {
      expect(e).toBeInstanceOf(OvsdbFileError);
      return (e as OvsdbFileError).code;
    }
    return 'no error';
  };
  it('cut short', () => expect(code(good.subarray(0, good.length - 10))).toBe('OVSDB_TRUNCATED'));
  it('a flipped byte in a record', () => {
    const b = Buffer.from(good);
    const i = b.indexOf('"name"', 200);
    b[i + 1] = 0x4e;
    expect(code(b)).toBe('OVSDB_BAD_CHECKSUM');
  });
  it('not an OVSDB file', () => expect(code(Buffer.from('apiVersion: v1\nkind: List\n'))).toBe('OVSDB_BAD_HEADER'));
  it('empty', () => expect(code(new Uint8Array(0))).toBe('OVSDB_EMPTY'));
  it('valid framing, unknown table', () => {
    const schema = JSON.stringify({ name: 'T', version: '1', tables: { A: { columns: { x: { type: 'string' } } } } });
    const txn = JSON.stringify({ B: { 'u-1': { x: 'y' } } });
    const rec = (s: string): string => `OVSDB JSON ${Buffer.byteLength(s)} ${createHash('sha1').update(s).digest('hex')}\n${s}\n`;
    expect(code(Buffer.from(rec(schema) + rec(txn)))).toBe('OVSDB_UNKNOWN_TABLE');
  });
  it('a record header claiming gigabytes is refused before reading', () => {
    expect(code(Buffer.from(`OVSDB JSON 99999999999 ${'0'.repeat(40)}\n{}`))).toBe('OVSDB_RECORD_TOO_LARGE');
  });
});
