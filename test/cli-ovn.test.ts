/**
 * `vippath ovn trace` on the Southbound that real ovn-northd 23.03 wrote for the default scenario's switch
 * (test/fixtures/ovsdb/sb-backup.db, made by scripts/make-ovsdb-fixtures.sh): the JSON names the backend's port and
 * the DNATed packet; and, where ovn-trace is installed, the same command line given to ovn-trace (served the same
 * file by an ovsdb-server) prints the same text.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ovnUnavailable } from './ovn-harness.js';
import { stopByPidfiles } from './oracle-process.js';
import { run } from './helpers/cli.js';

const SB = new URL('fixtures/ovsdb/sb-backup.db', import.meta.url).pathname;
const LN = 'localnet.underlay-subnet';
const POD1 = { name: 'deploy-169402624-1.default', mac: '00:00:00:0a:0b:02', ip: '10.180.204.3' };
const SYN = `inport == "${LN}" && eth.src == 52:54:00:aa:00:64 && eth.dst == ${POD1.mac} && ip4.src == 10.180.204.100 && ip4.dst == 10.180.204.252 && ip.ttl == 64 && tcp.src == 40000 && tcp.dst == 80`;


describe('vippath ovn trace', () => {
  it('--json: a SYN to the VIP with --lb-dst pinned leaves by the backend\'s port, DNATed', async () => {
    const r = await run('ovn', 'trace', '--sb', SB, '--ct', 'new', `--lb-dst=${POD1.ip}:80`, '--json', 'underlay-subnet', SYN);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { stages: Array<{ stage: string; priority: number }>; outputs: Array<{ port: string; microflow: string }>; drops: unknown[] };
    expect(j.stages.map((s) => `${s.stage}/${s.priority}`)).toContain('ls_in_pre_stateful/120');
    expect((JSON.parse(r.out) as { ct: Array<{ stage: string; backend?: string; state: string }> }).ct[0]).toEqual({ pipeline: 'ingress', table: 6, stage: 'ls_in_pre_stateful', action: 'ct_lb_mark', state: 'new|trk|dnat', backend: `${POD1.ip}:80` });
    expect(j.outputs.map((o) => o.port)).toEqual([POD1.name]);
    expect(j.outputs[0]!.microflow).toContain(`nw_dst=${POD1.ip}`);
    // ovn-trace ORs each ct action's state in: new|trk from --ct, dnat from the DNAT, est|trk from the egress default.
    expect(j.outputs[0]!.microflow).toContain('ct_state=new|est|trk|dnat');
  });

  it('--chassis: a backend bound to no chassis is not reachable (ovn-trace would deliver it)', async () => {
    const r = await run('ovn', 'trace', '--sb', SB, '--chassis', 'node1', '--ct', 'new', `--lb-dst=${POD1.ip}:80`, '--json', 'underlay-subnet', SYN);
    const j = JSON.parse(r.out) as { outputs: unknown[]; drops: Array<{ reason: string }> };
    expect(j.outputs).toEqual([]);
    expect(j.drops.map((d) => d.reason)).toContain('port not bound to any chassis');
  });

  it('rejects what ovn-trace rejects, with usage errors', async () => {
    expect((await run('ovn', 'trace', '--sb', SB, '--ct', 'est|rpl', 'underlay-subnet', SYN)).code).toBe(1);
    expect((await run('ovn', 'trace', 'underlay-subnet', SYN)).code).toBe(2);
    expect((await run('ovn', 'trace', '--sb', SB, 'nosuch', SYN)).code).toBe(1);
    expect((await run('ovn', 'trace', '--sb', SB, 'underlay-subnet', 'inport == "x" &&')).code).toBe(1);
  });

  it('--lflows: lflow-list text runs too (flows only)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vippath-cli-ovn-'));
    try {
      const j = JSON.parse((await run('ovn', 'trace', '--sb', SB, '--json', 'underlay-subnet', SYN)).out) as { stages: Array<{ pipeline: string; table: number; stage: string; priority: number; match: string; actions: string }> };
      // Rebuild lflow-list text from the stages and every other flow is irrelevant to this packet's path.
      const text = `Datapath: "underlay-subnet" (00000000-0000-0000-0000-000000000000)  Pipeline: ingress\n${j.stages.filter((s) => s.pipeline === 'ingress').map((s) => `  table=${s.table} (${s.stage}), priority=${s.priority}, match=(${s.match}), action=(${s.actions})`).join('\n')}\n`;
      writeFileSync(join(dir, 'lflows.txt'), text);
      const r = await run('ovn', 'trace', '--lflows', join(dir, 'lflows.txt'), '--minimal', 'underlay-subnet', SYN);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^# tcp,reg14=0x1,/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a flow OVN refuses to parse is left out, as ovn-trace leaves it out, and named on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vippath-cli-ovn-'));
    try {
      const text = `Datapath: "underlay-subnet" (00000000-0000-0000-0000-000000000000)  Pipeline: ingress
  table=0 (ls_in_check_port_sec), priority=100, match=(ip4 && tcp.dst == 080), action=(drop;)
  table=0 (ls_in_check_port_sec), priority=0, match=(inport == "${LN}"), action=(outport = "${POD1.name}"; output;)
Datapath: "underlay-subnet" (00000000-0000-0000-0000-000000000000)  Pipeline: egress
  table=0 (ls_out_pre_acl), priority=0, match=(1), action=(output;)
`;
      writeFileSync(join(dir, 'lflows.txt'), text);
      const r = await run('ovn', 'trace', '--lflows', join(dir, 'lflows.txt'), '--minimal', 'underlay-subnet', SYN);
      expect([r.code, r.err]).toEqual([0, 'vippath ovn trace: 1 logical flow skipped as ovn-controller skips them: ingress table 0 (ls_in_check_port_sec) priority 100: error parsing match (invalid constant: decimal constant 080 has a leading zero at column 19 of "ip4 && tcp.dst == 080")\n']);
      expect(r.out).toMatch(/output\("deploy-169402624-1\.default"\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a flow with an action vippath does not model loads; the line on stderr counts them; a packet reaching one is the coded drop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vippath-cli-ovn-'));
    try {
      const text = `Datapath: "underlay-subnet" (00000000-0000-0000-0000-000000000000)  Pipeline: ingress
  table=0 (ls_in_check_port_sec), priority=110, match=(ip4 && udp.src == 68 && udp.dst == 67), action=(reg0[3] = put_dhcp_opts(offerip = 10.180.204.2, router = 10.180.204.1); next;)
  table=0 (ls_in_check_port_sec), priority=100, match=(udp.dst == 53), action=(reg0[4] = dns_lookup(); next;)
  table=0 (ls_in_check_port_sec), priority=0, match=(inport == "${LN}"), action=(outport = "${POD1.name}"; output;)
Datapath: "underlay-subnet" (00000000-0000-0000-0000-000000000000)  Pipeline: egress
  table=0 (ls_out_pre_acl), priority=0, match=(1), action=(output;)
`;
      writeFileSync(join(dir, 'lflows.txt'), text);
      const line = 'vippath ovn trace: 2 logical flows with actions vippath does not run: dns_lookup ×1, put_dhcp_opts ×1 (loaded in their place; a packet that reaches one is dropped there, an action vippath does not model)\n';
      const r = await run('ovn', 'trace', '--lflows', join(dir, 'lflows.txt'), '--minimal', 'underlay-subnet', SYN);
      expect([r.code, r.err]).toEqual([0, line]);
      expect(r.out).toMatch(/output\("deploy-169402624-1\.default"\)/);
      const dhcp = SYN.replace(/tcp.*$/, '').replace(/ip4\.src == [\d.]+/, 'ip4.src == 0.0.0.0').replace(/ip4\.dst == [\d.]+/, 'ip4.dst == 255.255.255.255');
      const d = await run('ovn', 'trace', '--lflows', join(dir, 'lflows.txt'), '--json', 'underlay-subnet', `${dhcp}udp.src == 68 && udp.dst == 67`);
      // The drop names the action and its flow's priority (lflow-list text without --uuid: no uuid).
      expect(JSON.parse(d.out).drops).toEqual([{ pipeline: 'ingress', table: 0, stage: 'ls_in_check_port_sec', reason: 'an action vippath does not model', action: 'put_dhcp_opts', priority: 110 }]);
      const detailed = await run('ovn', 'trace', '--lflows', join(dir, 'lflows.txt'), '--detailed', 'underlay-subnet', `${dhcp}udp.src == 68 && udp.dst == 67`);
      expect(detailed.out).toMatch(/ 0\. ls_in_check_port_sec: ip4 && udp\.src == 68 && udp\.dst == 67, priority 110, uuid 00000000\n.*\n?\s*\*\*\* put_dhcp_opts: OVN hands the packet to ovn-controller \(pinctrl\) here; vippath does not model it: dropped/);
      // --strict-lflows: refused, exit 1, the flow and the action named; nothing traced.
      const strict = await run('ovn', 'trace', '--lflows', join(dir, 'lflows.txt'), '--strict-lflows', '--minimal', 'underlay-subnet', SYN);
      expect([strict.code, strict.out, strict.err]).toEqual([1, '', 'vippath ovn: ingress table 0 (ls_in_check_port_sec) priority 110: OVN\'s action put_dhcp_opts is not supported by vippath (strict) (OVN accepts it; vippath cannot run this flow)\n']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--nb (vippath\'s northd) and --sb (real northd\'s Southbound for the same Northbound) give the same summary and minimal traces', async () => {
    const NB = new URL('fixtures/ovsdb/nb-backup.db', import.meta.url).pathname;
    for (const extra of [['--ct', 'new', `--lb-dst=${POD1.ip}:80`], ['--ct', 'est,rpl'], ['--ct', 'inv']]) {
      const args = [...extra, '--summary', '--minimal', 'underlay-subnet', SYN];
      const a = await run('ovn', 'trace', '--sb', SB, ...args);
      const b = await run('ovn', 'trace', '--nb', NB, ...args);
      expect(b.code).toBe(0);
      // The first line is the microflow, whose reg14 is the inport's tunnel key: northd's numbering, not the trace.
      expect(b.out.split('\n').slice(1)).toEqual(a.out.split('\n').slice(1));
    }
  });

  it('--nb --profile traces the release the profile\'s images carry (kube-ovn-1.14 → 24.03, 1.15 → 25.03); --ovn-version overrides', async () => {
    const NB = new URL('fixtures/ovsdb/nb-backup.db', import.meta.url).pathname;
    const trace = async (...extra: string[]): Promise<{ stages: string[]; outputs: string[] }> => {
      const r = await run('ovn', 'trace', '--nb', NB, ...extra, '--ct', 'new', `--lb-dst=${POD1.ip}:80`, '--json', 'underlay-subnet', SYN);
      expect(r.err).toBe('');
      const j = JSON.parse(r.out) as { stages: Array<{ stage: string; table: number }>; outputs: Array<{ port: string }> };
      return { stages: j.stages.map((s) => `${s.stage}/${s.table}`), outputs: j.outputs.map((o) => o.port) };
    };
    const v24 = await trace('--profile', 'kube-ovn-1.14');
    const v25 = await trace('--profile', 'kube-ovn-1.15');
    const v23 = await trace('--profile', 'kube-ovn-1.14', '--ovn-version', '23.03');
    // ACLs split into eval/action from 24.03 (table 8 either way); ls_in_l2_lkup moves 25 → 27 → 28.
    expect(v24.stages).toEqual(expect.arrayContaining(['ls_in_acl_eval/8', 'ls_in_l2_lkup/27']));
    expect(v25.stages).toEqual(expect.arrayContaining(['ls_in_acl_eval/8', 'ls_in_l2_lkup/28']));
    expect(v23.stages).toEqual(expect.arrayContaining(['ls_in_acl/8', 'ls_in_l2_lkup/25']));
    for (const t of [v23, v24, v25]) expect(t.outputs).toEqual([POD1.name]);
    expect((await run('ovn', 'trace', '--nb', NB, '--ovn-version', '22.03', 'underlay-subnet', SYN)).code).toBe(2);
    expect((await run('ovn', 'trace', '--sb', SB, '--ovn-version', '24.03', 'underlay-subnet', SYN)).code).toBe(2);
  });

  const unavailable = ovnUnavailable();
  it.skipIf(unavailable !== undefined)('prints what ovn-trace prints for the same command line, at every level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vippath-cli-ovn-'));
    try {
      copyFileSync(SB, join(dir, 'sb.db'));
      execFileSync('ovsdb-server', ['--detach', '--no-chdir', `--pidfile=${dir}/sb.pid`, `--log-file=${dir}/sb.log`, `--remote=punix:${dir}/sb.sock`, `--unixctl=${dir}/sb.ctl`, `${dir}/sb.db`], { stdio: 'ignore' });
      const lines = [
        ['--ct=new', `--lb-dst=${POD1.ip}:80`, '--detailed', '--summary', '--minimal', 'underlay-subnet', SYN],
        ['--ct=est,rpl', '--summary', 'underlay-subnet', SYN.replace('eth.dst == 00:00:00:0a:0b:02', 'eth.dst == ff:ff:ff:ff:ff:ff')],
        ['--minimal', SYN],
      ];
      for (const args of lines) {
        const real = spawnSync('ovn-trace', [`--db=unix:${dir}/sb.sock`, ...args], { encoding: 'utf8' });
        expect(real.status).toBe(0);
        const mine = await run('ovn', 'trace', '--sb', SB, ...args);
        expect(mine.out).toBe(real.stdout);
      }
      void readFileSync;
    } finally {
      stopByPidfiles(dir, ['sb.pid']);
    }
  });
});
