/**
 * Issue 19 items 5 and 14: user-given names are data. A node named `__proto__` or `constructor` is a key like
 * any other (no write reaches Object.prototype, nothing is dropped from the summary or `status --json`); names
 * with control characters reach a terminal escaped.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER, defaultObjects, replayCapture, statusJson, type ClusterSpec } from '@vippath/cluster';
import { main, shown, terminalText } from 'vippath';

const capture = fileURLToPath(new URL('../fixtures/vip-ipv4.pcap', import.meta.url));

function renamed(names: string[]): ClusterSpec {
  return { ...DEFAULT_CLUSTER, nodes: DEFAULT_CLUSTER.nodes.map((n, i) => ({ ...n, name: names[i]! })) };
}

describe('prototype pollution through user-given names', () => {
  afterEach(() => {
    // Whatever a failing run wrote there must not leak into the other tests.
    for (const k of Object.keys(Object.prototype)) delete (Object.prototype as Record<string, unknown>)[k];
  });

  it('a replay with nodes named __proto__ and constructor: Object.prototype untouched, every node in the summary', async () => {
    const { summary } = await replayCapture(capture, defaultObjects(), renamed(['node1', 'constructor', '__proto__']));
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(Object.keys(summary.servedBy).sort()).toEqual(['deploy-169402624-0', 'deploy-169402624-1', 'deploy-169402624-2']);
    expect(Object.hasOwn(summary.backends, '__proto__') || Object.hasOwn(summary.backends, 'constructor') || Object.hasOwn(summary.backends, 'node1')).toBe(true);
    const served = Object.values(summary.backends).flatMap((pods) => Object.values(pods)).reduce((a, b) => a + b, 0);
    expect(served).toBeGreaterThan(0);
    // The JSON round trip keeps the odd keys as keys.
    const back = JSON.parse(JSON.stringify(summary)) as typeof summary;
    expect(back.servedBy['deploy-169402624-2']!.node).toBe('__proto__');
  });

  it('the node that serves is named __proto__: the backends table has it', async () => {
    // MetalLB's election (ascending SHA-256 of "node#ip") makes `__proto__` the owner among node1, node2.
    const { summary } = await replayCapture(capture, defaultObjects(), renamed(['node1', 'node2', '__proto__']));
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(summary.services[0]!.owners['10.180.204.252']).toEqual(['__proto__']);
    expect(Object.keys(summary.backends)).toEqual(['__proto__']);
    expect(Object.values(summary.backends['__proto__']!)).toEqual([3]);
  });

  it('status --json keeps the br-provider flows of a node named __proto__', () => {
    const st = statusJson(defaultObjects(), renamed(['node1', 'constructor', '__proto__'])) as { brProviderFlows: Record<string, string> };
    expect(Object.keys(st.brProviderFlows)).toEqual(['node1', 'constructor', '__proto__']);
    expect(JSON.parse(JSON.stringify(st)).brProviderFlows.__proto__).toMatch(/priority=/);
  });
});

describe('terminal injection through names', () => {
  const evil = 'a\nb\r\x1b[31mred\u202e';
  const shownEvil = 'a\\nb\\r\\x1b[31mred\\u202e';
  const manifests = join(mkdtempSync(join(tmpdir(), 'vippath-names-')), 'nodes.yaml');
  writeFileSync(manifests, ['a\\nb\\r\\x1b[31mred\\u202e', 'node2', 'node3'].map((n) => `apiVersion: v1\nkind: Node\nmetadata: {name: "${n}"}\n`).join('---\n'));

  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
    return { code, out, err };
  }

  it('status: the node name is printed escaped, no raw control character', async () => {
    const r = await run(['status', '--defaults', '--manifests', manifests]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(shownEvil);
    expect(r.out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u202e]/);
    // The table stays a table: one line per pod.
    expect(r.out.split('\n').filter((l) => l.startsWith('deploy-169402624-'))).toHaveLength(3);
  });

  it('replay: events naming the node are printed escaped', async () => {
    const r = await run(['replay', capture, '--defaults', '--manifests', manifests, '--node-down', `${evil}@0`]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${shownEvil} lost`);
    expect(r.out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u202e]/);
  });

  it('an error naming the node: escaped on stderr', async () => {
    const r = await run(['replay', capture, '--node-down', `${evil}@1s`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(shownEvil);
    expect(r.err).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u202e]/);
  });

  it('shown() and terminalText(): every C0/C1 control escaped; terminalText keeps line breaks', () => {
    for (let c = 0; c < 0xa0; c++) {
      if (c >= 0x20 && c < 0x7f) continue;
      expect(shown(`x${String.fromCharCode(c)}y`)).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    }
    expect(terminalText('one\ntwo\x1b[2J\tthree')).toBe('one\ntwo\\x1b[2J\tthree');
  });
});
