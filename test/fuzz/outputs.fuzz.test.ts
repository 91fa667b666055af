/**
 * Issue 19 item 3 (and the output half of item 1): output paths and signals. Outputs are written to
 * unpredictable temporaries created with O_EXCL|O_NOFOLLOW in their final directory and renamed together when
 * the run is complete; an output that is an input, another output, a directory, a FIFO or a device is refused
 * with a typed error before anything is read; SIGINT/SIGTERM remove the temporaries, say "interrupted" and
 * exit 130/143, leaving earlier outputs as they were. The deterministic cases reproduce the reports;
 * the fuzz case throws random combinations of hostile paths at `replay --out --report`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER, defaultObjects, replayCapture } from '@vippath/cluster';
import { OutputError, PcapWriter, readCaptureSync, fileSink } from '@vippath/pcap';
import { VippathError } from '@vippath/wire';
import { main } from 'vippath';
import { announce, budget, seed } from './budget.js';
import { pcapAt, synFrame } from './capture-helpers.js';

const cli = fileURLToPath(new URL('../../packages/vippath/dist/cli.js', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/vip-ipv4.pcap', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'vippath-outputs-'));
afterAll(() => {
  // A read-only directory made by a test must not stop the clean-up.
  for (const d of readdirSync(root)) chmodSync(join(root, d), 0o755);
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
const sandbox = (): string => {
  const d = join(root, `case${n++}`);
  mkdirSync(d);
  return d;
};

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

const digest = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every file under `dir` (recursively) with its content digest, symlinks as their targets. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out[p] = `-> ${readlinkSync(p)}`;
      else if (st.isDirectory()) walk(p);
      else if (st.isFIFO()) out[p] = 'fifo';
      else out[p] = digest(p);
    }
  };
  walk(dir);
  return out;
}

function temporaries(dir: string): string[] {
  return Object.keys(snapshot(dir)).filter((p) => /\.tmp$/.test(p));
}

/** The CLI's stderr must be a message, not a stack. */
function noStack(text: string): void {
  expect(text).not.toMatch(/\n\s+at .+[(:]\d+/);
  expect(text).not.toMatch(/Error: E[A-Z]+:/);
}

describe('output paths (the issue\'s reports)', () => {
  it('a symlink planted at <output>.<pid>.tmp (and at every old-style temporary name) is never followed', async () => {
    const d = sandbox();
    const victim = join(d, 'victim.txt');
    writeFileSync(victim, 'do not touch');
    const out = join(d, 'o');
    mkdirSync(out);
    for (const f of ['wire.pcapng', 'nodes.pcapng', 'trace.jsonl', 'summary.json']) symlinkSync(victim, join(out, `${f}.${process.pid}.tmp`));
    symlinkSync(victim, join(d, `r.html.${process.pid}.tmp`));
    const r = await run(['replay', fixture, '--out', out, '--report', join(d, 'r.html')]);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('do not touch');
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).framesRead).toBeGreaterThan(0);
    expect(readFileSync(join(d, 'r.html'), 'utf8')).toMatch(/^<!doctype html>/);
    // The planted links are still links to the victim: nothing was written through them.
    expect(readlinkSync(join(out, `summary.json.${process.pid}.tmp`))).toBe(victim);
  });

  it('fileSink: temporaries are unpredictable, created exclusively, beside the output', async () => {
    const d = sandbox();
    const a = fileSink(join(d, 'x.bin'));
    const b = fileSink(join(d, 'x.bin'));
    expect(a.temporary).not.toBe(b.temporary);
    expect(a.temporary).toMatch(new RegExp(`^${d}/\\.x\\.bin\\.[0-9a-f]{16}\\.tmp$`));
    a.abort();
    b.abort();
    expect(readdirSync(d)).toEqual([]);
  });

  it('replay in.pcap --report in.pcap: refused, the input intact', async () => {
    const d = sandbox();
    const input = join(d, 'in.pcap');
    writeFileSync(input, readFileSync(fixture));
    const before = digest(input);
    const r = await run(['replay', input, '--report', input]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/in\.pcap: it is .*in\.pcap, an input of this run/);
    noStack(r.err);
    expect(digest(input)).toBe(before);
    expect(temporaries(d)).toEqual([]);
  });

  it('the input through another name (a symlink, ./ and a hard link) is refused too', async () => {
    const d = sandbox();
    const input = join(d, 'in.pcap');
    writeFileSync(input, readFileSync(fixture));
    symlinkSync(input, join(d, 'link.pcap'));
    execFileSync('ln', [input, join(d, 'hard.pcap')]);
    for (const report of [join(d, 'link.pcap'), `${d}/./in.pcap`, join(d, 'hard.pcap')]) {
      const r = await run(['replay', input, '--report', report]);
      expect(r.code, report).toBe(1);
      expect(r.err).toMatch(/an input of this run/);
    }
    expect(digest(input)).toBe(digest(fixture));
  });

  it('a manifest file given as an output is refused', async () => {
    const d = sandbox();
    const manifests = join(d, 'm.yaml');
    writeFileSync(manifests, 'apiVersion: v1\nkind: Node\nmetadata: {name: node1}\n');
    const r = await run(['replay', fixture, '--manifests', manifests, '--report', manifests]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/m\.yaml, an input of this run/);
    expect(readFileSync(manifests, 'utf8')).toMatch(/kind: Node/);
  });

  it('replay o/wire.pcapng --out o: refused, the earlier outputs intact', async () => {
    const d = sandbox();
    const out = join(d, 'o');
    expect((await run(['replay', fixture, '--out', out])).code).toBe(0);
    const before = snapshot(out);
    const r = await run(['replay', join(out, 'wire.pcapng'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/wire\.pcapng, an input of this run/);
    expect(snapshot(out)).toEqual(before);
  });

  it('--out o --report o/summary.json: refused (two outputs, one file), nothing written', async () => {
    const d = sandbox();
    const out = join(d, 'o');
    expect((await run(['replay', fixture, '--out', out])).code).toBe(0);
    const before = snapshot(out);
    const r = await run(['replay', fixture, '--out', out, '--report', join(out, 'summary.json')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/summary\.json: it is also .*summary\.json: two outputs of one run cannot be the same file/);
    expect(snapshot(out)).toEqual(before);
  });

  it('--report at a FIFO: refused with a clear error, the FIFO left a FIFO', async () => {
    const d = sandbox();
    const fifo = join(d, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const r = await run(['replay', fixture, '--report', fifo]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/pipe: it is a FIFO \(named pipe\), not a regular file/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(temporaries(d)).toEqual([]);
  });

  it('--report at a device (through a symlink to /dev/null): refused, the link left alone', async () => {
    const d = sandbox();
    const link = join(d, 'null');
    symlinkSync('/dev/null', link);
    const r = await run(['replay', fixture, '--report', link]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/it is a character device, not a regular file/);
    expect(readlinkSync(link)).toBe('/dev/null');
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('--out FILE: a typed error, no stack', async () => {
    const d = sandbox();
    const file = join(d, 'file');
    writeFileSync(file, 'x');
    const r = await run(['replay', fixture, '--out', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/file: it exists and is not a directory/);
    noStack(r.err);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('--report DIR: a typed error, no DIR.<pid>.tmp or other temporary left', async () => {
    const d = sandbox();
    const dir = join(d, 'dir');
    mkdirSync(dir);
    const r = await run(['replay', fixture, '--report', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/dir: it is a directory, not a regular file/);
    noStack(r.err);
    expect(readdirSync(d)).toEqual(['dir']);
  });

  const root0 = process.getuid?.() === 0;
  it.skipIf(root0)(`a read-only directory: a typed error, no stack${root0 ? ' (skipped: running as root, permissions do not apply)' : ''}`, async () => {
    const d = sandbox();
    const ro = join(d, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const r = await run(['replay', fixture, '--report', join(ro, 'r.html')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/permission denied/);
    noStack(r.err);
  });

  it('a report that cannot be written at the end: no output of the run is published (pcapngs never beside an old summary)', async () => {
    const d = sandbox();
    const out = join(d, 'o');
    const report = join(d, 'r.html');
    await replayCapture(fixture, defaultObjects(), DEFAULT_CLUSTER, { outDir: out });
    const before = snapshot(out);
    // The report's path turns into a directory while the run goes: publishing fails at the last output.
    const capture = pcapAt(Array.from({ length: 3000 }, (_, i) => 1 + i / 1000));
    let thrown: unknown;
    try {
      await replayCapture((async function* () {
        yield capture;
      })(), defaultObjects(), DEFAULT_CLUSTER, { outDir: out, report, onProgress: () => existsSync(report) || mkdirSync(report) });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(OutputError);
    expect(snapshot(out)).toEqual(before);
    expect(temporaries(d)).toEqual([]);
  });

  it('a corrupt record mid-capture (not a cut): the earlier outputs and report untouched, no temporaries', async () => {
    const d = sandbox();
    const out = join(d, 'o');
    const report = join(d, 'r.html');
    expect((await run(['replay', fixture, '--out', out, '--report', report])).code).toBe(0);
    const before = snapshot(d);
    const bytes = pcapAt([1, 2, 3, 4]);
    // The third record's caplen: absurd.
    const third = 24 + 2 * (16 + synFrame().length);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(third + 8, 0x7fffffff, true);
    const bad = join(root, `corrupt${n++}.pcap`);
    writeFileSync(bad, bytes);
    const r = await run(['replay', bad, '--out', out, '--report', report]);
    expect(r.code).toBe(1);
    noStack(r.err);
    expect(snapshot(d)).toEqual(before);
  });
});

describe('signals', () => {
  // Big enough that the replay (traced, with --out) runs for seconds.
  const big = join(root, 'big.pcap');
  writeFileSync(big, pcapAt(Array.from({ length: 150_000 }, (_, i) => 1 + i / 10_000), (i) => synFrame(1024 + (i % 60000))));

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} mid-replay: "interrupted" on stderr, exit ${code}, temporaries removed, earlier outputs intact`, async () => {
      const d = sandbox();
      const out = join(d, 'o');
      const report = join(d, 'r.html');
      expect((await run(['replay', fixture, '--out', out, '--report', report])).code).toBe(0);
      const before = snapshot(d);
      const child = spawn(process.execPath, [cli, 'replay', big, '--out', out, '--report', report], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => void (err += b.toString()));
      const done = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      // Wait until the run is writing its temporaries, then interrupt it.
      for (let i = 0; i < 400 && temporaries(out).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(temporaries(out).length, 'the run started writing').toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 200));
      child.kill(signal);
      const status = await done;
      expect(status).toBe(code);
      expect(err).toMatch(new RegExp(`interrupted \\(${signal}\\)`));
      expect(temporaries(d)).toEqual([]);
      expect(snapshot(d)).toEqual(before);
    }, 60_000);
  }
});

describe('signals after the command returned', () => {
  // The CLI's last milliseconds: its output is out, the command has returned. A signal there interrupts nothing,
  // so the run's own status stands — never "killed by SIGTERM". Left to a natural exit, Node closed its signal
  // handles and tore down for ≈ 30 ms with the default action back: 59 of 60 such kills here ended the process by
  // the signal (CI's signal fuzz once saw it beside complete outputs).
  it('SIGTERM 0–15 ms after the output: exit 0 (or 143 "interrupted" before the return), never killed by the signal', async () => {
    const ends: string[] = [];
    for (let i = 0; i < 12; i++) {
      const child = spawn(process.execPath, [cli, 'help'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        if (out === '') setTimeout(() => child.kill('SIGTERM'), (i * 15) / 11);
        out += b.toString();
      });
      const end = await new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
      expect(out).toMatch(/replay/);
      ends.push(end.sig ?? String(end.code));
    }
    expect(ends.filter((e) => e !== '0' && e !== '143'), ends.join(' ')).toEqual([]);
  }, 120_000);
});

describe('fuzz: signals at random moments', () => {
  const runs = budget(4);
  announce('signals', runs, 'replays interrupted at a random moment by SIGINT or SIGTERM');
  const medium = join(root, 'medium.pcap');
  writeFileSync(medium, pcapAt(Array.from({ length: 20_000 }, (_, i) => 1 + i / 10_000), (i) => synFrame(1024 + (i % 60000))));

  it('whenever the signal lands: finished (complete outputs) or interrupted (130/143, earlier outputs intact, no temporaries)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('SIGINT', 'SIGTERM') as fc.Arbitrary<'SIGINT' | 'SIGTERM'>, fc.integer({ min: 0, max: 2500 }), async (signal, delay) => {
        const d = sandbox();
        const out = join(d, 'o');
        const report = join(d, 'r.html');
        expect((await run(['replay', fixture, '--out', out, '--report', report])).code).toBe(0);
        const before = snapshot(d);
        const child = spawn(process.execPath, [cli, 'replay', medium, '--out', out, '--report', report], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (b: Buffer) => void (err += b.toString()));
        const done = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
        await new Promise((r) => setTimeout(r, delay));
        child.kill(signal);
        const { code, sig } = await done;
        expect(temporaries(d), `${signal} at ${delay} ms, exit ${code ?? sig}; the run's stderr: ${JSON.stringify(err)}`).toEqual([]);
        if (code === 0) {
          // It finished first: the outputs are the new run's, complete.
          expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).framesRead).toBe(20_000);
          expect(readFileSync(report, 'utf8')).toMatch(/<\/html>\n$/);
        } else {
          // Interrupted (or killed before the handler existed, during start-up): nothing changed.
          // What the run said goes with every failure: a CI run once saw 143 and "interrupted" beside four new
          // outputs (seed 20261124, SIGTERM at 2 481 ms), never reproduced here; its stderr says which window.
          const said = `${signal} at ${delay} ms, exit ${code ?? sig}; the run's stderr: ${JSON.stringify(err)}`;
          if (sig === null) {
            expect(code, said).toBe(signal === 'SIGINT' ? 130 : 143);
            expect(err, said).toMatch(new RegExp(`interrupted \\(${signal}\\)`));
          } else expect(sig, said).toBe(signal);
          expect(snapshot(d), said).toEqual(before);
        }
      }),
      { numRuns: runs, seed },
    );
  }, 180_000);
});

describe('fuzz: hostile output paths', () => {
  const runs = budget(60);
  announce('outputs', runs, 'replays with hostile --out/--report paths');

  type Target = 'fresh' | 'existing-file' | 'input' | 'input-symlink' | 'input-hardlink' | 'dir' | 'fifo' | 'devnull-link' | 'missing-dir' | 'dangling-link' | 'planted-tmp' | 'under-file';
  const targets: Target[] = ['fresh', 'existing-file', 'input', 'input-symlink', 'input-hardlink', 'dir', 'fifo', 'devnull-link', 'missing-dir', 'dangling-link', 'planted-tmp', 'under-file'];

  it('never a stack, never an input or a special file changed, never a temporary left; success publishes complete outputs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(fc.constantFrom(...targets)), fc.option(fc.constantFrom(...targets)), fc.boolean(), async (outT, reportT, sameDir) => {
        const d = sandbox();
        const input = join(d, 'in.pcap');
        writeFileSync(input, readFileSync(fixture));
        const victim = join(d, 'victim');
        writeFileSync(victim, 'victim');
        const make = (t: Target, name: string, asDir: boolean): string => {
          const p = join(d, name);
          switch (t) {
            case 'fresh':
              return p;
            case 'existing-file':
              writeFileSync(p, 'earlier');
              return p;
            case 'input':
              return input;
            case 'input-symlink':
              symlinkSync(input, p);
              return p;
            case 'input-hardlink':
              execFileSync('ln', [input, p]);
              return p;
            case 'dir':
              mkdirSync(p);
              if (asDir) writeFileSync(join(p, 'summary.json'), '{"earlier":true}\n');
              return p;
            case 'fifo':
              execFileSync('mkfifo', [p]);
              return p;
            case 'devnull-link':
              symlinkSync('/dev/null', p);
              return p;
            case 'missing-dir':
              return join(d, 'no', 'such', name);
            case 'dangling-link':
              symlinkSync(join(d, 'nowhere'), p);
              return p;
            case 'planted-tmp':
              symlinkSync(victim, `${p}.${process.pid}.tmp`);
              return p;
            case 'under-file':
              // A path through a regular file: ENOTDIR.
              return join(victim, name);
          }
        };
        const args = ['replay', input];
        if (outT) args.push('--out', make(outT, 'o', true));
        if (reportT) args.push('--report', sameDir && outT === 'dir' ? join(d, 'o', 'summary.json') : make(reportT, 'r.html', false));
        const before = snapshot(d);
        const r = await run(args);
        expect([0, 1]).toContain(r.code);
        noStack(r.err);
        const after = snapshot(d);
        // Inputs, the victim and special files are never changed; no temporary is left.
        expect(after[input]).toBe(before[input]);
        expect(after[victim]).toBe(before[victim]);
        for (const [p, v] of Object.entries(before)) if (v === 'fifo' || v.startsWith('-> /dev/null') || v.startsWith(`-> ${victim}`)) expect(after[p]).toBe(v);
        expect(Object.keys(after).filter((p) => p.endsWith('.tmp') && !before[p])).toEqual([]);
        if (r.code === 0) {
          const outDir = args[args.indexOf('--out') + 1];
          if (args.includes('--out')) {
            const summary = JSON.parse(readFileSync(join(outDir!, 'summary.json'), 'utf8')) as { framesRead: number };
            expect(summary.framesRead).toBe(readCaptureSync(new Uint8Array(readFileSync(input))).records.length);
            expect(readCaptureSync(new Uint8Array(readFileSync(join(outDir!, 'wire.pcapng')))).records.length).toBeGreaterThan(0);
          }
          if (args.includes('--report')) expect(readFileSync(args[args.indexOf('--report') + 1]!, 'utf8')).toMatch(/<\/html>\n$/);
        } else {
          // A refused run changes nothing at all.
          expect(after).toEqual(before);
          expect(r.err).toMatch(/^vippath replay: /);
          expect(r.err).not.toMatch(/\bE[A-Z]{3,}\b:/);
        }
      }),
      { numRuns: runs, seed },
    );
  }, 180_000);
});

describe('typed errors from the library', () => {
  it('replayCapture with an output that is the capture: an OutputError (a VippathError) with the path', async () => {
    const d = sandbox();
    const input = join(d, 'in.pcap');
    writeFileSync(input, readFileSync(fixture));
    const e = await replayCapture(input, defaultObjects(), DEFAULT_CLUSTER, { report: input }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OutputError);
    expect(e).toBeInstanceOf(VippathError);
    expect((e as OutputError).code).toBe('OUTPUT');
    expect((e as OutputError).path).toBe(input);
  });

  it('a PcapWriter to a path in a missing directory: an OutputError naming it', () => {
    expect(() => new PcapWriter(join(root, 'missing', 'x.pcap'))).toThrow(/its directory does not exist/);
  });
});
