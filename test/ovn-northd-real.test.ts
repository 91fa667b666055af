/**
 * vippath's OVN 24.03 / 25.03 northd — plain (`upstream`) and with Kube-OVN's patches (`kube-ovn-1.14` → 24.03,
 * `kube-ovn-1.15` → 25.03) — against the real programs: test/fixtures/northd-real/<variant>.jsonl.br hold, for the
 * default scenario's Northbound and ≥ 300 generated ones (kubeOvnNbArb, test/helpers/northd-nb-arb.ts, a fixed
 * seed in each file's header), the `ovn-sbctl lflow-list` of every switch as ovn-northd built from ovn-org/ovn (+
 * Kube-OVN's dist/images/patches) wrote it, with the ports bound to chassis. Made by make-fixtures.mjs and build.sh
 * there (no OVN 24.03/25.03 package exists for this machine's Debian; the build is from source).
 * Each case's lflow-list must equal vippath's line for line (no known differences are left); where the real northd
 * crashed, vippath's northd must refuse the NB with a typed error. Each variant's default-scenario SB and the real
 * ovn-trace's output for a few microflows check `vippath ovn trace --sb` too.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from 'vippath';
import { brotliDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatLflowList, northd, NorthdError, type NorthboundDb, type NorthdProfile, type OvnVersion } from '@vippath/ovn';

/** One recorded run: the switches' lflow-list, or the line of northd's log when it crashed on this NB. */
interface Case { i: number; nb: NorthboundDb; chassis: Record<string, string>; lflows?: Record<string, string>; crash?: string }
interface Header { variant: string; build: string[]; seed: number; runs: number }

const VARIANTS: Array<{ variant: string; profile: NorthdProfile; ovnVersion: OvnVersion }> = [
  { variant: 'kube-ovn-1.14', profile: 'kube-ovn-1.14', ovnVersion: '24.03' },
  { variant: 'kube-ovn-1.15', profile: 'kube-ovn-1.15', ovnVersion: '25.03' },
  { variant: 'upstream-24.03', profile: 'upstream', ovnVersion: '24.03' },
  { variant: 'upstream-25.03', profile: 'upstream', ovnVersion: '25.03' },
];

function load(variant: string): { header: Header; cases: Case[] } {
  const text = brotliDecompressSync(readFileSync(new URL(`./fixtures/northd-real/${variant}.jsonl.br`, import.meta.url))).toString('utf8');
  const [head, ...rest] = text.trimEnd().split('\n');
  return { header: JSON.parse(head!) as Header, cases: rest.map((l) => JSON.parse(l) as Case) };
}

/** Flow texts of Kube-OVN's patches, by the releases whose patches write them: each must show in some recorded case
 * of those variants (or the fixture proves less than it claims) and in none of the others. */
const FEATURES: Array<[string, RegExp, string[]]> = [
  ['prefer-local per-chassis flow, VIP with port', /ls_in_lb\s+\), priority=140 .*is_chassis_resident\("/, ['kube-ovn-1.14', 'kube-ovn-1.15']],
  ['prefer-local per-chassis flow, VIP without port', /ls_in_lb\s+\), priority=130 .*is_chassis_resident\("/, ['kube-ovn-1.14', 'kube-ovn-1.15']],
  ['VIP-node bypass (139)', /ls_in_lb\s+\), priority=139 /, ['kube-ovn-1.15']],
  ['VIP-node backend lookup', /ls_in_l2_lkup\s+\), priority=55 .*is_chassis_resident\("node-/, ['kube-ovn-1.15']],
  ['ls_dnat_mod_dl_dst', /ls_in_l2_lkup\s+\), priority=55\s+, match=\(reg0\[2\] != 0 && ip[46]\.dst == [^ ]+\)/, ['kube-ovn-1.14', 'kube-ovn-1.15']],
  ['conntrack skip in pre_lb (105)', /ls_in_pre_lb\s+\), priority=105 /, ['kube-ovn-1.14', 'kube-ovn-1.15']],
  ['node_local_dns_ip in pre_acl', /ls_in_pre_acl .*169\.254\.20\.10/, ['kube-ovn-1.14', 'kube-ovn-1.15']],
  ['skip_conntrack_dst_cidrs', /ls_in_pre_lb\s+\), priority=105 .*10\.0\.0\.0\/8/, ['kube-ovn-1.15']],
];

/** The lines of `a` not in `b` (as multisets). */
function minus(a: string[], b: string[]): string[] {
  const left = new Map<string, number>();
  for (const l of b) left.set(l, (left.get(l) ?? 0) + 1);
  const out: string[] = [];
  for (const l of a) {
    const n = left.get(l) ?? 0;
    if (n > 0) left.set(l, n - 1);
    else out.push(l);
  }
  return out;
}

/** vippath's lflow-list of each switch of a case, with the real datapath uuids. */
function ours(c: Case, profile: NorthdProfile, ovnVersion: OvnVersion): Record<string, string> {
  const state = northd(c.nb, { profile, ovnVersion, chassis: c.chassis });
  const out: Record<string, string> = {};
  for (const [name, real] of Object.entries(c.lflows!)) {
    const uuid = new RegExp(`^Datapath: "${name}" \\(([0-9a-f-]+)\\)`).exec(real)?.[1];
    const dp = state.datapaths.find((d) => d.name === name);
    if (dp && uuid) dp.uuid = uuid;
    out[name] = formatLflowList(state, { datapath: name });
  }
  return out;
}

interface Traces { variant: string; build: string[]; sb: string; datapath: string; traces: Array<{ ct: string[]; lbDst?: string; microflow: string; text: string }> }

describe.each(VARIANTS)('vippath northd against the real ovn-northd: $variant', ({ variant, profile, ovnVersion }) => {
  const { header, cases } = load(variant);

  it(`the fixture is what make-fixtures.mjs records (${variant}, seed ${header.seed})`, () => {
    expect(header.variant).toBe(variant);
    expect(cases.length).toBe(header.runs + 1);
    expect(cases.length).toBeGreaterThanOrEqual(301);
    // The default scenario's switch has flows, and every case printed each of its switches.
    expect(cases[0]!.lflows!['underlay-subnet']!.split('\n').length).toBeGreaterThan(100);
    for (const c of cases) {
      if (c.crash) expect(c.crash).toMatch(/SIGSEGV detected/);
      else expect(Object.keys(c.lflows!).sort()).toEqual(c.nb.switches.map((s) => s.name).sort());
    }
  });

  it('vippath refuses, with a typed error, exactly the NBs the real northd crashed on', () => {
    const crashed = cases.filter((c) => c.crash).map((c) => c.i);
    const refused = cases.filter((c) => {
      try {
        northd(c.nb, { profile, ovnVersion, chassis: c.chassis });
        return false;
      } catch (e) {
        if (!(e instanceof NorthdError) || e.code !== 'NORTHD_KUBE_OVN_CRASH') throw e;
        return true;
      }
    }).map((c) => c.i);
    expect(refused).toEqual(crashed);
    if (variant !== 'kube-ovn-1.14') expect(crashed).toEqual([]);
    console.log(`northd-real ${variant}: the real northd crashed on ${crashed.length} of ${cases.length} NBs`);
  });

  it("the patches' flows show up where, and only where, that release's patches write them", () => {
    const seen = FEATURES.map(([name, re]) => [name, cases.filter((c) => c.lflows && Object.values(c.lflows).some((t) => re.test(t))).length] as const);
    console.log(`northd-real ${variant} features (cases showing each): ${seen.map(([n, k]) => `${n} ${k}`).join(', ')}`);
    expect(seen.filter(([, k], j) => (k > 0) !== FEATURES[j]![2].includes(variant)).map(([n]) => n)).toEqual([]);
  });

  it(`every case's lflow-list, line for line (seed ${header.seed}, ${header.runs} generated NBs + the default scenario)`, () => {
    const firstDiff: string[] = [];
    let lines = 0;
    for (const c of cases) {
      if (c.crash) continue;
      const mine = ours(c, profile, ovnVersion);
      for (const [name, real] of Object.entries(c.lflows!)) {
        const a = real.split('\n');
        const b = mine[name]!.split('\n');
        lines += a.length;
        const left = [...minus(a, b).map((l) => `only in ovn-northd: ${l}`), ...minus(b, a).map((l) => `only in vippath   : ${l}`)];
        if (left.length && firstDiff.length === 0) {
          firstDiff.push(`first differing case: index ${c.i} (seed ${header.seed}; -1 = the default scenario), switch ${name}`, `NB: ${JSON.stringify(c.nb)}`, `chassis: ${JSON.stringify(c.chassis)}`, ...left.slice(0, 20));
        }
        // Same lines, same order: the texts are equal when nothing differs.
        if (!left.length) expect(mine[name]).toBe(real);
      }
    }
    console.log(`northd-real ${variant}: ${cases.length} cases, ${lines} lflow-list lines compared`);
    expect(firstDiff.join('\n')).toBe('');
  }, 600_000);

  it("vippath ovn trace on the real Southbound prints what that release's ovn-trace printed", async () => {
    const t = JSON.parse(brotliDecompressSync(readFileSync(new URL(`./fixtures/northd-real/${variant}.traces.json.br`, import.meta.url))).toString('utf8')) as Traces;
    expect(t.variant).toBe(variant);
    const dir = mkdtempSync(join(tmpdir(), 'vippath-northd-real-'));
    try {
      writeFileSync(join(dir, 'sb.backup'), Buffer.from(t.sb, 'base64'));
      for (const tr of t.traces) {
        let out = '';
        let err = '';
        const code = await main(['ovn', 'trace', '--sb', join(dir, 'sb.backup'), ...tr.ct.flatMap((c) => ['--ct', c]), ...(tr.lbDst ? ['--lb-dst', tr.lbDst] : []), '--detailed', t.datapath, tr.microflow], { stdout: (x) => void (out += x), stderr: (x) => void (err += x) });
        expect(code, err).toBe(0);
        expect(out, `ovn-trace --detailed ${tr.ct.map((c) => `--ct=${c}`).join(' ')}${tr.lbDst ? ` --lb-dst=${tr.lbDst}` : ''} ${t.datapath} '${tr.microflow}'`).toBe(tr.text);
      }
      // The client's SYN takes a per-chassis prefer-local flow on the Kube-OVN releases.
      if (profile !== 'upstream') expect(t.traces[0]!.text).toMatch(/ls_in_lb \([^)]*\): ct\.new && .*is_chassis_resident/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Kube-OVN's `version_compatibility` (NB_Global options, set by its chart while a cluster upgrades): the same NBs
 * (the first 60 of the seed, and the default scenario) with the option cycling through the values the chart writes,
 * later releases and texts its `%2d.%2d` reads oddly; <variant>.compat.jsonl.br from `make-fixtures.mjs --compat`.
 * upstream-25.03 has no such option: its flows must not move.
 */
describe.each(VARIANTS.filter((v) => v.variant !== 'upstream-24.03'))('version_compatibility against the real ovn-northd: $variant', ({ variant, profile, ovnVersion }) => {
  const { header, cases } = load(`${variant}.compat`);
  const compat = (header as Header & { compat?: string[] }).compat ?? [];

  it(`the fixture cycles the option over every case (${variant}, seed ${header.seed})`, () => {
    expect(header.variant).toBe(variant);
    expect(compat).toContain('24.03');
    expect(compat).toContain('21.06');
    expect(cases.length).toBe(header.runs + 1);
    cases.forEach((c, k) => expect(c.nb.options?.version_compatibility).toBe(compat[k % compat.length]));
  });

  it('every case\'s lflow-list, line for line, and the option changed flows where the patch says', () => {
    const firstDiff: string[] = [];
    let moved = 0;
    for (const c of cases) {
      if (c.crash) continue;
      const mine = ours(c, profile, ovnVersion);
      const { version_compatibility: _v, ...plainOpts } = c.nb.options ?? {};
      const plain = ours({ ...c, nb: { ...c.nb, options: plainOpts } }, profile, ovnVersion);
      for (const [name, real] of Object.entries(c.lflows!)) {
        if (mine[name] !== plain[name]) moved++;
        const a = real.split('\n');
        const b = mine[name]!.split('\n');
        const left = [...minus(a, b).map((l) => `only in ovn-northd: ${l}`), ...minus(b, a).map((l) => `only in vippath   : ${l}`)];
        if (left.length && firstDiff.length === 0) {
          firstDiff.push(`first differing case: index ${c.i} (seed ${header.seed}), version_compatibility "${c.nb.options?.version_compatibility}", switch ${name}`, `NB: ${JSON.stringify(c.nb)}`, `chassis: ${JSON.stringify(c.chassis)}`, ...left.slice(0, 20));
        }
        if (!left.length) expect(mine[name]).toBe(real);
      }
    }
    console.log(`northd-real ${variant} version_compatibility: ${cases.length} cases, ${moved} switches whose flows the option moved`);
    expect(firstDiff.join('\n')).toBe('');
    // The option is read by the patched releases only.
    if (profile === 'upstream') expect(moved).toBe(0);
    else expect(moved).toBeGreaterThan(20);
  }, 600_000);
});
