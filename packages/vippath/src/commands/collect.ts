import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from '../io.js';

/** The script, shipped beside dist/ (scripts/vippath-collect.sh): readable, runnable without vippath too. */
export const COLLECT_SCRIPT = fileURLToPath(new URL('../../scripts/vippath-collect.sh', import.meta.url));

/** `vippath collect`: runs the shipped shell script (kubectl only; it reads, never writes to the cluster). */
export const collectCommand: Command = {
  name: 'collect',
  summary: 'copy a live cluster\'s state into a snapshot directory (kubectl get/exec, read-only)',
  usage: `usage: vippath collect [--kubeconfig FILE] [--context NAME] [--namespace NS] OUT_DIR

Writes OUT_DIR/cluster.yaml (Nodes, Pods, Services, Endpoints/EndpointSlices, MetalLB IPAddressPool,
L2Advertisement, ServiceL2Status, Kube-OVN Subnet, Vlan, ProviderNetwork, IP, the kube-ovn-controller Deployment),
OUT_DIR/nodes/<node>/br-provider.flows and .ports (ovs-ofctl dump-flows --names / show, in each node's ovs-ovn
pod), OUT_DIR/ovn/nb.db and sb.db (ovsdb-client backup in an ovn-central pod), OUT_DIR/versions.json, and
OUT_DIR/collect.log with every command it ran. Only kubectl get and kubectl exec of read-only tools; the script
(${COLLECT_SCRIPT}) lists each command. KUBECTL names another kubectl. Then:
  vippath lint --snapshot OUT_DIR; vippath curl --snapshot OUT_DIR; vippath replay capture.pcap --snapshot OUT_DIR`,
  async run(args, io) {
    const r = spawnSync('sh', [COLLECT_SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    if (r.stdout) io.stdout(r.stdout);
    if (r.stderr) io.stderr(r.stderr);
    if (r.error) {
      io.stderr(`vippath collect: cannot run sh: ${r.error.message}\n`);
      return 1;
    }
    return r.status ?? 1;
  },
};
