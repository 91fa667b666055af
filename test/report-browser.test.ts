/**
 * The report in a real browser (Debian's chromium through playwright-core; CI installs it): the bundled capture
 * replayed through the default scenario with `vippath replay --report`, the page opened from disk, the diagram's
 * counts checked against summary.json, copies and frames told apart in every count, the timeline's time axis, the
 * search and the click on a frame exercised, and a screenshot kept in test/artifacts/report.png. No request may
 * leave the page.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReplaySummary } from '@vippath/cluster';
import { main } from 'vippath';

const CHROMIUM = process.env.VIPPATH_CHROMIUM ?? '/usr/bin/chromium';
const capture = fileURLToPath(new URL('./fixtures/vip-ipv4.pcap', import.meta.url));
const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vippath-report-browser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the HTML report in Chromium', () => {
  it('shows the path with the summary\'s counts, filters frames, and shows a frame\'s stages on click', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (CI does: apt-get install chromium)`).toBe(true);
    const out = join(dir, 'out');
    const report = join(dir, 'report.html');
    let stdout = '';
    const code = await main(['replay', capture, '--out', out, '--report', report], { stdout: (s) => void (stdout += s), stderr: () => undefined });
    expect(code).toBe(0);
    expect(stdout).toContain(`report: ${report}`);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ReplaySummary;
    const traceLines = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n').length;

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${report}`);

      // Headline numbers and the owner.
      expect(await page.textContent('[data-kpi="framesRead"] b')).toBe(String(summary.framesRead));
      expect(await page.textContent('[data-kpi="tcpFromVip"] b')).toBe(String(summary.toClient.tcpFromVip));
      expect(await page.locator('[data-owner]').evaluateAll((els) => els.map((e) => e.getAttribute('data-owner')))).toEqual(['node3']);
      // Each drawn edge's label equals the summary's frames for that pair (either direction, plus the hops the
      // diagram folds in, as its caption says): recomputed here from summary.json alone.
      const pairsOf = (from: string, to: string): Array<[string, string]> => {
        const [node] = from.split('/');
        if (from.endsWith('/br-provider') && to.endsWith('/underlay-subnet')) return [[from, to], [`${node}/lb-dnat`, from]];
        if (from.endsWith('/lb-dnat') && to.includes('/deploy-')) return [[from, to], [`${node}/underlay-subnet`, to]];
        return [[from, to]];
      };
      const drawn = await page.locator('svg [data-edge]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-edge')!, e.querySelector('text')!.textContent!] as [string, string]));
      expect(drawn.length).toBe(1 + 3 * 6);
      for (const [key, label] of drawn) {
        const [from, to] = key.split('→') as [string, string];
        const expected = summary.edges.filter((e) => pairsOf(from, to).some(([a, b]) => (e.from === a && e.to === b) || (e.from === b && e.to === a))).reduce((n, e) => n + e.frames, 0);
        expect(Number(label.replace(/,/g, '')), key).toBe(expected);
      }
      expect(await page.textContent('svg [data-edge="node3/lb-dnat→node3/deploy-169402624-2"] text')).not.toBe('0');

      // The frames table: every trace line, then the search narrows it.
      expect(await page.locator('#flows tbody tr').count()).toBe(traceLines);
      await page.fill('#q', 'tcp [S] delivered');
      const syns = await page.locator('#flows tbody tr').count();
      expect(syns).toBe(3);
      await page.fill('#q', '');
      // Clicking a SYN shows its stages, DNAT on node3 among them.
      await page.locator('#flows tbody tr', { hasText: '[S]' }).first().click();
      const detail = await page.textContent('#detail');
      expect(detail).toMatch(/node3\/lb-dnat/);
      expect(detail).toMatch(/ls_in_lb 140/);
      expect(await page.locator('#detail .step').count()).toBeGreaterThan(10);

      // The flows table: one row per flow; a click narrows the frames to that flow and shows its first frame.
      await page.fill('#q', '');
      const flowRows = await page.locator('#flowsum tbody tr').count();
      expect(flowRows).toBe(summary.flows);
      const synFlow = page.locator('#flowsum tbody tr', { hasText: '> 10.180.204.252:80' }).first();
      const flowFrames = Number(await synFlow.locator('td').nth(1).textContent());
      await synFlow.click();
      expect(await page.locator('#flows tbody tr').count()).toBe(flowFrames);
      expect(await page.textContent('#detail')).toMatch(/\[S\]/);
      await page.fill('#q', '');

      // Copies and frames are told apart everywhere: the header's two drop counts, the panels' units, the table.
      const copies = Object.values(summary.drops).reduce((a, b) => a + b, 0);
      expect(copies).toBeGreaterThan(summary.verdicts.dropped);
      expect(await page.textContent('[data-kpi="drops"]')).toBe(`${copies}copies dropped`);
      expect(await page.textContent('[data-kpi="framesDropped"]')).toBe(`${summary.verdicts.dropped}frames dropped`);
      expect(await page.textContent('[data-kpi="injected"]')).toBe(`${summary.injected}frames injected`);
      expect(await page.textContent('#drops h2')).toBe('Drops by reason (copies)');
      expect(await page.textContent('#verdicts h2')).toBe('Verdicts (frames)');
      const barsOf = async (id: string): Promise<Record<string, number>> => Object.fromEntries(await page.locator(`#${id} .bars tr`).evaluateAll((rows) => rows.map((r) => [r.querySelector('th')!.textContent!, Number(r.querySelector('td.n')!.textContent!.replace(/,/g, ''))])));
      expect(Object.values(await barsOf('drops')).reduce((a, b) => a + b, 0)).toBe(copies);
      const verdictBars = await barsOf('verdicts');
      expect(verdictBars.dropped).toBe(summary.verdicts.dropped);
      expect(Object.values(verdictBars).reduce((a, b) => a + b, 0)).toBe(summary.framesRead);
      expect(await page.textContent('#drops p')).toContain(`${copies} copies dropped`);
      expect(await page.textContent('#verdicts p')).toContain(`${summary.verdicts.dropped} frames`);
      const headers = await page.locator('#flows thead th').allTextContents();
      expect(headers).toEqual(['#', 'time s', 'ingress', 'frame', 'verdict', 'stages', 'copies dropped']);
      // The table's column adds up to the header's copies (it holds every trace line, the cluster's own included).
      const column = await page.locator('#flows tbody tr td:nth-child(7)').allTextContents();
      expect(column.reduce((a, c) => a + Number(c), 0)).toBe(copies);

      // The timeline's time axis: labelled ticks from 0, evenly spaced, in order, not overlapping, and placed so
      // that every bar sits where its own time range says.
      const ticks = await page.locator('.timeline .tick').evaluateAll((gs) => gs.map((g) => {
        const t = g.querySelector('text')!;
        const box = t.getBoundingClientRect();
        return { label: t.textContent!, x: Number(t.getAttribute('x')), left: box.left, right: box.right, height: box.height };
      }));
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(ticks[0]!.label).toMatch(/^0 (ms|s)$/);
      const unitOf = ticks[0]!.label.split(' ')[1]!;
      const values = ticks.map((t) => {
        const m = /^(\d+(?:\.\d+)?) (ms|s)$/.exec(t.label);
        expect(m, t.label).not.toBeNull();
        expect(m![2]).toBe(unitOf);
        return Number(m![1]) * (unitOf === 's' ? 1000 : 1);
      });
      const step = values[1]! - values[0]!;
      values.forEach((v, i) => expect(v).toBeCloseTo(i * step, 6));
      const pxPerMs = (ticks[1]!.x - ticks[0]!.x) / step;
      ticks.forEach((t, i) => expect(t.x).toBeCloseTo(ticks[0]!.x + values[i]! * pxPerMs, 1));
      for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.left, `${ticks[i - 1]!.label} overlaps ${ticks[i]!.label}`).toBeGreaterThan(ticks[i - 1]!.right);
      expect(Math.min(...ticks.map((t) => t.height))).toBeGreaterThan(6);
      const barStarts = await page.locator('.timeline rect').evaluateAll((rs) => rs.map((r) => ({ x: Number(r.getAttribute('x')), title: r.querySelector('title')!.textContent! })));
      expect(barStarts.length).toBeGreaterThan(10);
      for (const b of barStarts) {
        const startS = Number(/^(\d+(?:\.\d+)?) s–/.exec(b.title)![1]);
        expect(b.x, b.title).toBeCloseTo(ticks[0]!.x + startS * 1000 * pxPerMs, -0.5);
      }
      expect(await page.textContent('.timeline .axis .title')).toBe('capture time →');
      expect(await page.textContent('#timeline p')).toMatch(/^Frames injected per \d+(\.\d+)? (ms|s) of capture time/);

      mkdirSync(artifacts, { recursive: true });
      await page.evaluate("window.scrollTo(0, 0)");
      await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });
      await page.screenshot({ path: join(artifacts, 'report-top.png') });
      expect(errors).toEqual([]);
      expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
