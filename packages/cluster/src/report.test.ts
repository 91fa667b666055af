import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { escapeHtml, renderReport, scriptJson } from './report.js';
import { replayCapture, reportTopology } from './replay.js';
import { DEFAULT_CLUSTER, defaultObjects } from './scenario.js';
import type { TraceLine } from './outputs.js';

const capture = fileURLToPath(new URL('../../../test/fixtures/vip-ipv4.pcap', import.meta.url));

async function realInput() {
  const { summary, sim, traces } = await replayCapture(capture, defaultObjects(), DEFAULT_CLUSTER, { keepTraces: true });
  return { topology: reportTopology(sim), summary, traces: traces! };
}

describe('the replay report', () => {
  it('is self-contained: no external URL, stylesheet, script or font', async () => {
    const html = renderReport(await realInput());
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toMatch(/^<!doctype html>/);
  });

  it('draws every node, pod and the owner, with edge counts taken from the summary', async () => {
    const input = await realInput();
    const html = renderReport(input);
    for (const n of input.topology.nodes) {
      expect(html).toContain(`data-node="${n.name}"`);
      for (const p of n.pods) expect(html).toContain(`data-stage="${n.name}/${p.name}"`);
    }
    expect([...html.matchAll(/data-owner="([^"]+)"/g)].map((m) => m[1])).toEqual(['node3']);
    // The request edge into node3's bridge: both directions of the pair, from summary.edges.
    const pair = ['node3/underlay0.341', 'node3/br-provider'];
    const expected = input.summary.edges.filter((e) => pair.includes(e.from) && pair.includes(e.to)).reduce((a, e) => a + e.frames, 0);
    expect(expected).toBeGreaterThan(0);
    expect(html).toContain(`data-edge="node3/underlay0.341→node3/br-provider" data-frames="${expected}"`);
    expect(html).toContain(`data-kpi="framesRead"><b>${input.summary.framesRead}</b>`);
  });

  it('marks a node that is down at the end of the run', async () => {
    const { summary, sim, traces } = await replayCapture(capture, defaultObjects(), DEFAULT_CLUSTER, { keepTraces: true, setup: (s) => s.nodeDown('node3', 100) });
    const html = renderReport({ topology: reportTopology(sim), summary, traces: traces! });
    expect([...html.matchAll(/<g class="lane[^"]*\bdown\b[^"]*" data-node="([^"]+)"/g)].map((m) => m[1])).toEqual(['node3']);
    expect(html).toContain('down at the end of the run');
  });

  it('escapes hostile names in the page and in the embedded data', async () => {
    const input = await realInput();
    input.topology.nodes[0]!.pods[0]!.name = '<img src=x onerror=alert(1)>';
    const evil: TraceLine = { index: 99, time: 1, ingress: 'outside', flow: 'tcp </script><script>alert(1)</script>', stages: [], verdict: 'dropped', drops: [{ at: 'wire', code: 'wire.runt', reason: '<b>x</b>' }], emitted: [] };
    input.traces.push(evil);
    const html = renderReport(input);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain(escapeHtml('<img src=x onerror=alert(1)>'));
    // Exactly the two scripts of the page: the data block cannot be closed early.
    expect(html.match(/<\/script>/g)!.length).toBe(2);
    expect(JSON.parse(scriptJson({ s: '</script>\u2028' })).s).toBe('</script>\u2028');
  });

  it('labels the timeline\'s time axis in round steps, in ms for short captures and s for long ones', async () => {
    const input = await realInput();
    const labels = (html: string): string[] => [...html.matchAll(/<g class="tick">.*?<text [^>]*>([^<]+)<\/text><\/g>/g)].map((m) => m[1]!);
    // The bundled capture: 268 ms, 60 bins from the trace lines.
    expect(labels(renderReport(input))).toEqual(['0 ms', '50 ms', '100 ms', '150 ms', '200 ms', '250 ms']);
    // An hour without every trace line in the report: the summary's frames per second, labelled in seconds.
    const hour = { ...input, traces: [], summary: { ...input.summary, timeline: new Array<number>(3600).fill(1) } };
    expect(labels(renderReport(hour))).toEqual(['0 s', '500 s', '1000 s', '1500 s', '2000 s', '2500 s', '3000 s', '3500 s']);
    const short = { ...input, traces: input.traces.map((t) => ({ ...t, time: t.time / 100 })), summary: { ...input.summary, events: [] } };
    expect(labels(renderReport(short))).toEqual(['0.0 ms', '0.5 ms', '1.0 ms', '1.5 ms', '2.0 ms', '2.5 ms']);
  });

  it('grows linearly with the number of frames', async () => {
    const input = await realInput();
    const line = input.traces.find((t) => t.verdict === 'delivered')!;
    const size = (n: number): number => renderReport({ ...input, traces: Array.from({ length: n }, (_, i) => ({ ...line, index: i + 1 })) }).length;
    const s1 = size(1000);
    const s10 = size(10_000);
    expect(s10 / s1).toBeGreaterThan(5);
    expect(s10 / s1).toBeLessThan(11);
    // Renders 11 000 trace lines: seconds on a loaded CI machine (6.4 s once), not vitest's default 5 s.
  }, 60_000);

  it('replayCapture --report writes the file through a temporary name', async () => {
    const { mkdtempSync, rmSync, readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'vippath-report-'));
    await replayCapture(capture, defaultObjects(), DEFAULT_CLUSTER, { report: join(dir, 'r.html') });
    expect(readdirSync(dir)).toEqual(['r.html']);
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toContain('vip-ipv4.pcap');
    rmSync(dir, { recursive: true, force: true });
  });
});
