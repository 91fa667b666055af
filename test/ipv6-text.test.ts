/**
 * IPv6 addresses in the text vippath prints the way real tools do, against those tools: generated addresses biased to
 * the forms whose RFC 5952 text and glibc inet_ntop text differ (IPv4-compatible `::10.0.0.1`, -mapped
 * `::ffff:10.0.0.2`) and to those where the two agree only by the same choice (equal zero runs, one zero group, `::`).
 *
 * - `ovs-ofctl dump-flows` (OVS 3.1, dummy datapath): one table of flows matching `ipv6_src`/`ipv6_dst`/`nd_target`,
 *   exact, prefix-masked and arbitrarily masked, added in one `add-flows`; every dumped line must be the line vippath's
 *   `formatFlow` prints for the same input line.
 *
 * Runs: VIPPATH_IPV6_TEXT_RUNS (default 200 flows), seed VIPPATH_IPV6_TEXT_SEED (default fixed; `random`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { formatFlow, parseFlows } from '@vippath/openflow';
import { ipv6CornerArb, spell } from './helpers/ipv6-corner-arb.js';
import { ovsUnavailable } from './ovs-harness.js';

const RUNS = Number(process.env.VIPPATH_IPV6_TEXT_RUNS ?? 200);
const SEED = process.env.VIPPATH_IPV6_TEXT_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_IPV6_TEXT_SEED ?? 20261204);

/** An address as a flow field: spelled one of several ways, exact, /prefix or /mask (the mask itself generated). */
const fieldArb = fc.record({
  addr: ipv6CornerArb,
  how: fc.nat(3),
  mask: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 128 }), ipv6CornerArb),
  maskHow: fc.nat(3),
});
type Field = typeof fieldArb extends fc.Arbitrary<infer T> ? T : never;
// ovs-ofctl reads `/0…` or `/1…` as a prefix length before it tries an address (`::1/1::` and `::1/0:0:0:0:0:0:0:1`
// are refused): a mask whose text would begin with a digit gets 0xffff as its first group.
const maskText = (m: Uint8Array, how: number): string => (/^[0-9]/.test(spell(m, how)) ? spell(Uint8Array.from([0xff, 0xff, ...m.subarray(2)]), how) : spell(m, how));
const fieldText = (f: Field): string => `${spell(f.addr, f.how)}${f.mask === undefined ? '' : typeof f.mask === 'number' ? `/${f.mask}` : `/${maskText(f.mask, f.maskHow)}`}`;

const flowArb = fc.oneof(
  fc.record({ src: fc.option(fieldArb, { nil: undefined }), dst: fieldArb }).map(({ src, dst }) => `ipv6,${src ? `ipv6_src=${fieldText(src)},` : ''}ipv6_dst=${fieldText(dst)}`),
  fc.record({ type: fc.constantFrom(135, 136), target: fieldArb, src: fc.option(fieldArb, { nil: undefined }) }).map(({ type, target, src }) => `icmp6,icmp_type=${type},${src ? `ipv6_src=${fieldText(src)},` : ''}nd_target=${fieldText(target)}`),
);

const ovsMissing = ovsUnavailable();
if (ovsMissing) console.warn(`ipv6-text: the ovs-ofctl part is skipped: ${ovsMissing}`);

describe.skipIf(ovsMissing !== undefined)(`IPv6 in ovs-ofctl dump-flows text${ovsMissing ? ` (skipped: ${ovsMissing})` : ''}`, () => {
  const R = mkdtempSync(join(tmpdir(), 'vippath-ipv6-text-'));
  const env = { ...process.env, OVS_RUNDIR: R, OVS_LOGDIR: R, OVS_DBDIR: R, OVS_SYSCONFDIR: R };
  const sh = (cmd: string, ...args: string[]): string => {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  afterAll(() => {
    for (const p of ['ovs-vswitchd', 'ovsdb-server']) {
      const pidfile = join(R, `${p}.pid`);
      if (existsSync(pidfile)) spawnSync('kill', [readFileSync(pidfile, 'utf8').trim()]);
    }
    rmSync(R, { recursive: true, force: true });
  });

  it(`every dumped flow is vippath's text of its line (seed ${SEED}, ${RUNS} flows)`, () => {
    console.log(`ipv6-text ovs-ofctl: ${RUNS} flows, seed ${SEED} (VIPPATH_IPV6_TEXT_SEED reproduces)`);
    sh('ovsdb-tool', 'create', join(R, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema');
    sh('ovsdb-server', '--detach', '--no-chdir', `--pidfile=${R}/ovsdb-server.pid`, `--log-file=${R}/ovsdb-server.log`, `--remote=punix:${R}/db.sock`, join(R, 'conf.db'));
    sh('ovs-vsctl', `--db=unix:${R}/db.sock`, '--no-wait', 'init');
    sh('ovs-vswitchd', '--enable-dummy', '--disable-system', '--detach', '--no-chdir', `--pidfile=${R}/ovs-vswitchd.pid`, `--log-file=${R}/ovs-vswitchd.log`, `unix:${R}/db.sock`);
    sh('ovs-vsctl', `--db=unix:${R}/db.sock`, 'add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=dummy', 'fail-mode=secure');
    // Priority i+1 names the i-th case in the dump (whose order is OVS's own).
    const lines = fc.sample(flowArb, { seed: SEED, numRuns: RUNS }).map((m, i) => `priority=${i + 1},${m},actions=drop`);
    const file = join(R, 'flows.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    sh('ovs-ofctl', 'add-flows', 'br0', file);
    const real = new Map<number, string>();
    for (const l of sh('ovs-ofctl', 'dump-flows', '--no-stats', 'br0').split('\n')) {
      const m = /^ priority=(\d+),/.exec(l);
      if (m) real.set(Number(m[1]), l);
    }
    expect(real.size).toBe(RUNS);
    let dotted = 0;
    lines.forEach((line, i) => {
      // --no-stats leaves out a zero cookie and table 0; vippath's dump-flows text has them.
      const ours = formatFlow(parseFlows(line)[0]!, { stats: false }).replace(/^ cookie=0x0, table=0, /, ' ');
      const theirs = real.get(i + 1);
      if (/[:=/]::(ffff:)?\d+\.\d+\.\d+\.\d+/.test(theirs ?? '')) dotted++;
      expect({ input: line, text: ours }, `replay with VIPPATH_IPV6_TEXT_SEED=${SEED}`).toEqual({ input: line, text: theirs });
    });
    // The generator reaches what it is for: many dotted forms among the real texts.
    console.log(`ipv6-text ovs-ofctl: ${dotted} of ${RUNS} dumped flows print an address or mask dotted`);
    expect(dotted).toBeGreaterThan(RUNS / 10);
  }, 60_000);
});
