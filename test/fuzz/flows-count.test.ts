/**
 * Issue 19 item 9: the replay's `flows` count. 200 000 distinct TCP 5-tuples were reported as 65 501 (a 32-bit
 * mix of the tuple folded them together); now they are counted exactly, and past the limit the summary says
 * the count is a lower bound.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER, defaultObjects, FLOW_COUNT_LIMIT, replayCapture } from '@vippath/cluster';
import { memorySink, PcapWriter } from '@vippath/pcap';
import { buildFrame } from '@vippath/wire';
import { bytesSource } from './capture-helpers.js';

/** `n` SYNs of distinct 5-tuples: source address 10.180.<hi>.<lo> and source port varying together. */
function distinctFlows(n: number, v6 = false): Uint8Array {
  const sink = memorySink();
  const w = new PcapWriter(sink);
  const template = v6
    ? buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', vlans: [341], ipv6: { src: 'fd00::1', dst: 'fd00::fc' }, tcp: { srcPort: 1, dstPort: 80, flags: 2 } })
    : buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', vlans: [341], ipv4: { src: '10.180.0.0', dst: '10.180.204.252' }, tcp: { srcPort: 1, dstPort: 80, flags: 2 } });
  // Offsets after the 802.1Q tag: two bytes of the source address (IPv4: the last two; IPv6: bytes 2–3, which
  // the old count never read) and the TCP source port (fixed for IPv6: only the address tells the flows apart).
  const addrLo = v6 ? 18 + 8 + 2 : 18 + 12 + 2;
  const sport = v6 ? 18 + 40 : 18 + 20;
  for (let i = 0; i < n; i++) {
    const f = template.slice();
    const port = v6 ? 40000 : 1024 + (i % 60000);
    const host = v6 ? i : Math.floor(i / 60000) * 7 + (i % 13);
    f[addrLo] = host >> 8;
    f[addrLo + 1] = host & 0xff;
    f[sport] = port >> 8;
    f[sport + 1] = port & 0xff;
    w.write({ timestamp: BigInt(i) * 1000n, data: f });
  }
  return sink.bytes();
}

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}

function expected(n: number): number {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(`${Math.floor(i / 60000) * 7 + (i % 13)}:${1024 + (i % 60000)}`);
  return seen.size;
}

describe('the flows count', () => {
  it('200 000 distinct IPv4 TCP 5-tuples are 200 000 flows', async () => {
    const n = 200_000;
    const { summary } = await replayCapture(bytesSource(distinctFlows(n)), defaultObjects(), DEFAULT_CLUSTER);
    expect(expected(n)).toBe(n);
    expect(summary.flows).toBe(n);
    expect(summary.flowsCapped).toBe(false);
  }, 120_000);

  it('200 000 crafted IPv4 5-tuples that a 32-bit mix of the tuple folds into one value are 200 000 flows', async () => {
    // The old count hashed (src, dst, ports) to 32 bits as imul(src ^ c1, k1) ^ imul(dst, k2) ^ imul(ports, k3);
    // choosing dst = (T ^ imul(src ^ c1, k1)) · k2⁻¹ makes every tuple hash to T. An attacker can do this.
    const k2inv = Number(modInverse(0xc2b2ae35n, 1n << 32n));
    const n = 200_000;
    const sink = memorySink();
    const w = new PcapWriter(sink);
    const template = buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', vlans: [341], ipv4: { src: '10.180.0.0', dst: '10.180.204.252' }, tcp: { srcPort: 40000, dstPort: 80, flags: 2 } });
    const T = 0x12345678;
    for (let i = 0; i < n; i++) {
      const src = (0x0ab40000 + i) >>> 0;
      const dst = Math.imul(T ^ Math.imul(src ^ 0x9e3779b9, 0x85ebca6b), k2inv) >>> 0;
      const f = template.slice();
      const v = new DataView(f.buffer);
      v.setUint32(18 + 12, src);
      v.setUint32(18 + 16, dst);
      w.write({ timestamp: BigInt(i) * 1000n, data: f });
    }
    const { summary } = await replayCapture(bytesSource(sink.bytes()), defaultObjects(), DEFAULT_CLUSTER);
    expect(summary.flows).toBe(n);
  }, 120_000);

  it('IPv6 5-tuples differing only in the address bytes the old count folded away are distinct', async () => {
    const { summary } = await replayCapture(bytesSource(distinctFlows(20_000, true)), defaultObjects(), DEFAULT_CLUSTER);
    expect(summary.flows).toBe(20_000);
  }, 120_000);

  it('the same frame repeated is one flow; the limit is documented', async () => {
    const sink = memorySink();
    const w = new PcapWriter(sink);
    const f = buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', vlans: [341], ipv4: { src: '10.180.204.100', dst: '10.180.204.252' }, tcp: { srcPort: 40000, dstPort: 80, flags: 0x10 } });
    for (let i = 0; i < 1000; i++) w.write({ timestamp: BigInt(i) * 1000n, data: f });
    const { summary } = await replayCapture(bytesSource(sink.bytes()), defaultObjects(), DEFAULT_CLUSTER);
    expect(summary.flows).toBe(1);
    expect(FLOW_COUNT_LIMIT).toBe(1_000_000);
  });
});

describe('FlowCounter at its limit', () => {
  it('stops at the limit and says so', async () => {
    const { FlowCounter } = await import('../../packages/cluster/src/flow-count.js');
    const c = new FlowCounter(100);
    const f = buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { srcPort: 1, dstPort: 53 } });
    for (let i = 0; i < 150; i++) {
      f[34] = i >> 8;
      f[35] = i & 0xff;
      c.add(f);
    }
    expect(c.count).toBe(100);
    expect(c.capped).toBe(true);
  });
});
