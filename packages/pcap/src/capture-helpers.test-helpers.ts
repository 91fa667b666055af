/** Builders of capture files for tests: both byte orders, classic and pcapng, independently of the writers. */
export interface RawRecord {
  seconds: number;
  /** µs or ns depending on the file. */
  fraction: number;
  data: Uint8Array;
  originalLength?: number;
  interfaceId?: number;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A classic pcap file in the given byte order. */
export function classicFile(records: RawRecord[], opts: { little: boolean; nanosecond?: boolean; linktype?: number; snaplen?: number }): Uint8Array {
  const h = new Uint8Array(24);
  const v = new DataView(h.buffer);
  v.setUint32(0, opts.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, opts.little);
  v.setUint16(4, 2, opts.little);
  v.setUint16(6, 4, opts.little);
  v.setUint32(16, opts.snaplen ?? 65535, opts.little);
  v.setUint32(20, opts.linktype ?? 1, opts.little);
  const parts: Uint8Array[] = [h];
  for (const r of records) {
    const rh = new Uint8Array(16);
    const rv = new DataView(rh.buffer);
    rv.setUint32(0, r.seconds, opts.little);
    rv.setUint32(4, r.fraction, opts.little);
    rv.setUint32(8, r.data.length, opts.little);
    rv.setUint32(12, r.originalLength ?? r.data.length, opts.little);
    parts.push(rh, r.data);
  }
  return concat(parts);
}

function block(type: number, body: Uint8Array, little: boolean, trailerOverride?: number): Uint8Array {
  const len = 12 + ((body.length + 3) & ~3);
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  v.setUint32(0, type, little);
  v.setUint32(4, len, little);
  b.set(body, 8);
  v.setUint32(len - 4, trailerOverride ?? len, little);
  return b;
}

/** A pcapng section: SHB, IDBs (linktype, tsresol byte, name), EPBs with 64-bit timestamps in the IDB's units. */
export function pcapngSection(
  interfaces: Array<{ linktype?: number; tsresol?: number; name?: string; snaplen?: number }>,
  packets: Array<{ interfaceId: number; units: bigint; data: Uint8Array; originalLength?: number }>,
  little: boolean,
): Uint8Array {
  const shb = new Uint8Array(16);
  const sv = new DataView(shb.buffer);
  sv.setUint32(0, 0x1a2b3c4d, little);
  sv.setUint16(4, 1, little);
  sv.setInt32(8, -1, little);
  sv.setInt32(12, -1, little);
  const parts = [block(0x0a0d0d0a, shb, little)];
  for (const i of interfaces) {
    const opts: Uint8Array[] = [];
    const opt = (code: number, value: Uint8Array): void => {
      const o = new Uint8Array(4 + ((value.length + 3) & ~3));
      const ov = new DataView(o.buffer);
      ov.setUint16(0, code, little);
      ov.setUint16(2, value.length, little);
      o.set(value, 4);
      opts.push(o);
    };
    if (i.name) opt(2, new TextEncoder().encode(i.name));
    if (i.tsresol !== undefined) opt(9, Uint8Array.of(i.tsresol));
    if (opts.length) opts.push(new Uint8Array(4));
    const body = new Uint8Array(8);
    const bv = new DataView(body.buffer);
    bv.setUint16(0, i.linktype ?? 1, little);
    bv.setUint32(4, i.snaplen ?? 65535, little);
    parts.push(block(1, concat([body, ...opts]), little));
  }
  for (const p of packets) {
    const body = new Uint8Array(20 + ((p.data.length + 3) & ~3));
    const bv = new DataView(body.buffer);
    bv.setUint32(0, p.interfaceId, little);
    bv.setUint32(4, Number(p.units >> 32n), little);
    bv.setUint32(8, Number(p.units & 0xffffffffn), little);
    bv.setUint32(12, p.data.length, little);
    bv.setUint32(16, p.originalLength ?? p.data.length, little);
    body.set(p.data, 20);
    parts.push(block(6, body, little));
  }
  return concat(parts);
}

/** A raw pcapng block, for corrupt-file tests. */
export { block as pcapngBlock, concat };
