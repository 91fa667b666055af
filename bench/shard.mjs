// The symmetric flow hash that picks a replay shard: the same for both directions of a connection (addresses
// and ports are combined order-free), like a symmetric RSS key. ARP and non-IP frames shard by the pair of MACs.
export function shardOf(buf, at, length, shards) {
  if (shards === 1) return 0;
  let o = at + 12;
  let type = (buf[o] << 8) | buf[o + 1];
  while ((type === 0x8100 || type === 0x88a8) && o + 4 < at + length) {
    o += 4;
    type = (buf[o] << 8) | buf[o + 1];
  }
  let h;
  if (type === 0x0800 && o + 22 <= at + length) {
    const ip = o + 2;
    const a = ((buf[ip + 12] << 24) | (buf[ip + 13] << 16) | (buf[ip + 14] << 8) | buf[ip + 15]) >>> 0;
    const b = ((buf[ip + 16] << 24) | (buf[ip + 17] << 16) | (buf[ip + 18] << 8) | buf[ip + 19]) >>> 0;
    const l4 = ip + (buf[ip] & 0x0f) * 4;
    const p = (buf[l4] << 8) | buf[l4 + 1];
    const q = (buf[l4 + 2] << 8) | buf[l4 + 3];
    h = (a ^ b) ^ Math.imul(p ^ q, 0x9e3779b1);
  } else {
    h = 0;
    for (let i = 0; i < 6; i++) h ^= (buf[at + i] ^ buf[at + 6 + i]) << ((i % 4) * 8);
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return ((h ^ (h >>> 13)) >>> 0) % shards;
}
