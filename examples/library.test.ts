import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { twoNodeStory } from './custom-topology.js';
import { replayBundled } from './replay-from-library.js';
import { traceSyn } from './trace-one-frame.js';

const dir = mkdtempSync(join(tmpdir(), 'vippath-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('replay-from-library: node3 announces, its pod serves with the client IP, replies come from the VIP', async () => {
  const r = await replayBundled(fileURLToPath(new URL('../test/fixtures/vip-ipv4.pcap', import.meta.url)), dir);
  expect(r).toEqual({ owner: 'node3', servedBy: ['deploy-169402624-2@node3'], clientSeen: ['10.180.204.100'], repliesFromVip: 9, repliesFromPod: 0 });
  expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toContain('"deploy-169402624-2"');
});

it('custom-topology: the owner serves from a local pod; after it is lost the other node does', () => {
  const s = twoNodeStory();
  expect(['node-a', 'node-b']).toContain(s.owner);
  expect(s.first).toMatch(/^web-\d$/);
  const other = s.owner === 'node-a' ? 'node-b' : 'node-a';
  expect(s.afterLoss).toEqual({ ok: true, node: other });
  expect(s.events.some((e) => e.includes(`${other} announces`))).toBe(true);
});

it('trace-one-frame: a SYN to the VIP is DNATed on node3 to its pod', () => {
  const { line, text } = traceSyn();
  expect(line.verdict).toBe('delivered');
  expect(line.emitted.map((e) => e.to)).toContain('node3/deploy-169402624-2');
  expect(text).toMatch(/ls_in_lb 140: .*chose 10\.180\.204\.4:80/);
});
