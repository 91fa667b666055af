/**
 * `vippath collect` against a fake kubectl on PATH: a small script that records its arguments and prints canned
 * outputs (the snapshot fixture's files, the OVSDB fixtures). Checks that only reading commands are used, that
 * the snapshot layout is written, that a missing CRD is skipped and logged, and that the result loads.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { COLLECT_SCRIPT } from '../packages/vippath/src/commands/collect.js';
import { main } from 'vippath';

const fixture = fileURLToPath(new URL('./fixtures/snapshot/', import.meta.url));
const ovsdb = fileURLToPath(new URL('./fixtures/ovsdb/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vippath-collect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The fake: every call appended to $FAKE_LOG (one line, arguments separated by tabs), answers by pattern. The
 * nodes call answers with the whole fixture List (all kinds in one), the other gets with empty Lists.
 */
const FAKE = `#!/bin/sh
sep=''
for a in "$@"; do printf '%s%s' "$sep" "$a" >> "$FAKE_LOG"; sep='\t'; done
printf '\n' >> "$FAKE_LOG"
args="$*"
case "$args" in
  *"get nodes -o yaml"*) cat "$FIX/cluster.yaml" ;;
  *"get servicel2statuses"*) echo 'error: the server doesn'"'"'t have a resource type "servicel2statuses"' >&2; exit 1 ;;
  *"get pods -n kube-system -l app=ovs"*) printf 'node1 ovs-ovn-aaaaa\\nnode2 ovs-ovn-bbbbb\\nnode3 ovs-ovn-ccccc\\n' ;;
  *"get pods -n kube-system -l app=ovn-central"*) printf 'ovn-central-5f7c' ;;
  *"jsonpath={.spec.template.spec.containers[0].image}"*kube-ovn-controller*|*kube-ovn-controller*"jsonpath={.spec.template.spec.containers[0].image}"*) printf 'docker.io/kubeovn/kube-ovn:v1.14.10' ;;
  *"-n metallb-system controller"*) printf 'quay.io/metallb/controller:v0.13.7' ;;
  *" get "*|"get "*) printf 'apiVersion: v1\\nitems: []\\nkind: List\\nmetadata:\\n  resourceVersion: ""\\n' ;;
  *"exec -n kube-system ovs-ovn-aaaaa -- ovs-ofctl dump-flows --names br-provider"*) cat "$FIX/nodes/node1/br-provider.flows" ;;
  *"exec -n kube-system ovs-ovn-bbbbb -- ovs-ofctl dump-flows --names br-provider"*) cat "$FIX/nodes/node2/br-provider.flows" ;;
  *"exec -n kube-system ovs-ovn-ccccc -- ovs-ofctl dump-flows --names br-provider"*) cat "$FIX/nodes/node3/br-provider.flows" ;;
  *"exec -n kube-system ovs-ovn-aaaaa -- ovs-ofctl show br-provider"*) cat "$FIX/nodes/node1/br-provider.ports" ;;
  *"exec -n kube-system ovs-ovn-bbbbb -- ovs-ofctl show br-provider"*) cat "$FIX/nodes/node2/br-provider.ports" ;;
  *"exec -n kube-system ovs-ovn-ccccc -- ovs-ofctl show br-provider"*) cat "$FIX/nodes/node3/br-provider.ports" ;;
  *"ovsdb-client backup unix:/var/run/ovn/ovnnb_db.sock OVN_Northbound"*) cat "$OVSDB/nb-backup.db" ;;
  *"ovsdb-client backup unix:/var/run/ovn/ovnsb_db.sock OVN_Southbound"*) cat "$OVSDB/sb-backup.db" ;;
  *"ovn-nbctl --version"*) printf 'ovn-nbctl 23.03.1\\nOpen vSwitch Library 3.1.3\\nDB Schema 7.0.0\\n' ;;
  *"ovs-vswitchd --version"*) printf 'ovs-vswitchd (Open vSwitch) 3.1.3\\n' ;;
  *) echo "fake kubectl: no canned answer for: $args" >&2; exit 1 ;;
esac
`;

function fakeKubectl(): { bin: string; log: string } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'kubectl'), FAKE);
  chmodSync(join(bin, 'kubectl'), 0o755);
  return { bin, log: join(dir, 'kubectl.log') };
}

/** The commands the script may run: kubectl get, and kubectl exec of these read-only tools only. */
const READ_ONLY_EXEC = [/^ovs-ofctl dump-flows --names br-provider$/, /^ovs-ofctl show br-provider$/, /^ovsdb-client backup unix:\/var\/run\/ovn\/ovn[ns]b_db\.sock OVN_(North|South)bound$/, /^ovn-nbctl --version$/, /^ovs-vswitchd --version$/];

describe('vippath collect', () => {
  it('with a fake kubectl: writes the snapshot layout using only get and read-only exec, then the snapshot loads and serves', async () => {
    const { bin, log } = fakeKubectl();
    const out = join(dir, 'snap');
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_LOG: log, FIX: fixture, OVSDB: ovsdb };
    const r = spawnSync('sh', [COLLECT_SCRIPT, '--kubeconfig', '/tmp/kc', '--context', 'lab', out], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const calls = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split('\t'));
    expect(calls.length).toBeGreaterThan(10);
    for (const c of calls) {
      // The context options come first, as given.
      expect(c.slice(0, 2)).toEqual(['--kubeconfig=/tmp/kc', '--context=lab']);
      const verb = c[2];
      expect(['get', 'exec']).toContain(verb);
      if (verb === 'exec') {
        const cmd = c.slice(c.indexOf('--') + 1).join(' ');
        expect(READ_ONLY_EXEC.some((re) => re.test(cmd)), cmd).toBe(true);
      }
      expect(c.join(' ')).not.toMatch(/\b(apply|create|delete|patch|edit|replace|label|annotate|scale|cordon|drain|set)\b/);
    }
    for (const f of ['cluster.yaml', 'versions.json', 'collect.log', 'ovn/nb.db', 'ovn/sb.db', 'nodes/node1/br-provider.flows', 'nodes/node3/br-provider.ports']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'versions.json'), 'utf8'))).toMatchObject({ kubeOvn: 'v1.14.10', metallb: 'v0.13.7', ovn: 'ovn-nbctl 23.03.1', ovs: 'ovs-vswitchd (Open vSwitch) 3.1.3' });
    // The CRD MetalLB 0.13 does not have is skipped, and said.
    expect(readFileSync(join(out, 'collect.log'), 'utf8')).toMatch(/skipped: kubectl get servicel2statuses\.metallb\.io -A failed/);
    let text = '';
    const code = await main(['curl', '--snapshot', out, '--json'], { stdout: (s) => void (text += s), stderr: () => undefined });
    expect(code).toBe(0);
    expect((JSON.parse(text) as { servedBy: { pod: string } }).servedBy.pod).toBe('web-a');
  });

  it('usage: OUT_DIR is required, unknown options refused (exit 2); nothing readable is exit 1', () => {
    expect(spawnSync('sh', [COLLECT_SCRIPT], { encoding: 'utf8' }).status).toBe(2);
    expect(spawnSync('sh', [COLLECT_SCRIPT, '--frobnicate', 'x'], { encoding: 'utf8' }).status).toBe(2);
    const r = spawnSync('sh', [COLLECT_SCRIPT, join(dir, 'none')], { encoding: 'utf8', env: { ...process.env, KUBECTL: 'false' } });
    expect([r.status, r.stderr]).toEqual([1, expect.stringMatching(/nothing could be read/)]);
  });
});
