/**
 * Outputs that scale (issue 17): the text summary's lists are bounded (the most frequent entries with counts, and
 * how many more), and `vippath replay --trace/--capture-ports` are checked before anything is written.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { replayCapture, DEFAULT_CLUSTER, defaultObjects, type ReplaySummary } from '@vippath/cluster';
import { summaryText } from '../packages/vippath/src/commands/replay.js';
import { run } from './helpers/cli.js';

const capture = fileURLToPath(new URL('./fixtures/vip-ipv4.pcap', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vippath-outputs-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


const ip = (i: number): string => `10.${181 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

describe('the text summary of a replay with many clients', () => {
  it('shows top lists with counts and how many more, never every address', async () => {
    const base = (await replayCapture(capture, defaultObjects(), DEFAULT_CLUSTER)).summary;
    const clients = 10_000;
    const summary: ReplaySummary = {
      ...base,
      servedBy: { 'web-a': { node: 'node1', requests: 30_000, clients: Array.from({ length: 256 }, (_, i) => ip(i)), otherClientRequests: 20_000 } },
      clients: { addresses: clients, top: Array.from({ length: 10 }, (_, i) => ({ address: ip(i), frames: 100 - i })) },
      backends: { node1: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`web-${i}`, 1000 - i])) },
      toClient: { ...base.toClient, arpRepliesBy: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`52:54:00:00:00:${i.toString(16).padStart(2, '0')}`, i + 1])) },
    };
    const text = summaryText(summary);
    for (const line of text.split('\n')) expect(line.length).toBeLessThan(400);
    expect(text).toContain(`clients: 10000 addresses; most frames: ${ip(0)} ×100, ${ip(1)} ×99, ${ip(2)} ×98, ${ip(3)} ×97, ${ip(4)} ×96, … (9995 more)`);
    expect(text).toContain(`served by web-a on node1: 30000 request(s), over 256 client addresses seen, 256 of them listed (20000 requests from the others): ${ip(0)}, ${ip(1)}, ${ip(2)}, ${ip(3)}, ${ip(4)}, … (no SNAT)`);
    expect(text).toContain('node1: web-0 ×1000, web-1 ×999, web-2 ×998, web-3 ×997, web-4 ×996, … (35 more)');
    expect(text).toMatch(/ARP for the VIP answered by: 52:54:00:00:00:31 ×50, 52:54:00:00:00:30 ×49, .*… \(45 more\);/);
    expect(text).not.toContain(ip(300));
    // Under the cap, the count is every address the pod saw: no "over", nothing left out of its list.
    const under = summaryText({ ...summary, servedBy: { 'web-a': { node: 'node1', requests: 300, clients: Array.from({ length: 40 }, (_, i) => ip(i)) } } });
    expect(under).toContain(`served by web-a on node1: 300 request(s), 40 client addresses seen: ${ip(0)}, ${ip(1)}, ${ip(2)}, ${ip(3)}, ${ip(4)}, … (no SNAT)`);
    const capped = summaryText({ ...summary, clients: { ...summary.clients, addressesCapped: true } });
    expect(capped).toContain('clients: over 10000 addresses;');
  });

  it('a few clients are still listed whole', async () => {
    const r = await run('replay', capture);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/client address seen: 10\.180\.204\.100 \(no SNAT\)/);
    expect(r.out).not.toContain('clients:');
  });
});

describe('vippath replay --trace and --capture-ports', () => {
  it('refuses a bad level, an unknown port, or either without --out, before writing anything', async () => {
    const out = join(dir, 'refused');
    const level = await run('replay', capture, '--out', out, '--trace', 'verbose');
    expect(level.code).toBe(2);
    expect(level.err).toMatch(/--trace verbose: use none, summary, detailed/);
    const port = await run('replay', capture, '--out', out, '--capture-ports', 'pods,node9');
    expect(port.code).toBe(2);
    expect(port.err).toMatch(/--capture-ports: node9 names no port/);
    expect(existsSync(out)).toBe(false);
    expect((await run('replay', capture, '--trace', 'none')).err).toMatch(/give --out DIR too/);
  });

  it('writes what was asked', async () => {
    const out = join(dir, 'asked');
    expect((await run('replay', capture, '--out', out, '--trace', 'none', '--capture-ports', 'node3')).code).toBe(0);
    expect(existsSync(join(out, 'nodes.pcapng'))).toBe(true);
    expect(existsSync(join(out, 'trace.jsonl'))).toBe(false);
  });
});
