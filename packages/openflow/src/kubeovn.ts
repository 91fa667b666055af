/**
 * The flows Kube-OVN's daemon installs on `br-<provider>` for LoadBalancer Services whose ingress IPs come
 * from an underlay subnet with `enableExternalLBAddress` (kube-ovn pkg/daemon/controller_linux.go
 * genLBServiceRules, flow_rules_linux.go; shared/research/kube-ovn.md §2.3):
 *   cookie=0x1000,priority=10000,in_port=<underlay NIC>,tcp,nw_dst=<VIP>,tp_dst=<port>
 *     actions=mod_dl_dst:<00:00:00:01:00:01 or U2O MAC>,output:<patch-localnet.<subnet>-to-br-int>
 * IPv6 uses cookie 0x1001 and tcp6/udp6 with ipv6_dst; SCTP is refused; a subnet without `vlan` is refused;
 * without the patch port the rule is silently skipped. Every node gets the rules, whatever the ETP.
 */
import { parseIp } from './ip-text.js';

/** `util.MasqueradeExternalLBAccessMac` (pkg/util/const.go). */
export const KUBE_OVN_LB_MAC = '00:00:00:01:00:01';
/** `UnderlaySvcLocalOpenFlowPriority`. */
export const KUBE_OVN_SVC_PRIORITY = 10000;

/** Input of {@link kubeOvnProviderFlows}. */
export interface KubeOvnProviderInput {
  subnet: { name: string; vlan?: string; enableExternalLBAddress?: boolean; u2oInterconnectionMac?: string };
  /** LoadBalancer Services whose external IPs come from this subnet. */
  services: Array<{ name: string; ingress: string[]; ports: Array<{ port: number; protocol?: string }> }>;
  /** ofport of the underlay NIC on br-provider (e.g. `underlay0.341`). */
  underlayOfport: number;
  /** ofport of `patch-localnet.<subnet>-to-br-int`, or undefined when ovn-controller has not created it. */
  patchOfport?: number;
  /** Add OVS's `priority=0,actions=NORMAL` default (standalone bridge). Default true. */
  normalDefault?: boolean;
}

/** A rule Kube-OVN would not install, and why. */
export interface KubeOvnSkip {
  service: string;
  reason: string;
}

/** Generates the flow lines (ovs-ofctl add-flows syntax) and what was skipped. */
export function kubeOvnProviderFlows(input: KubeOvnProviderInput): { flows: string[]; skipped: KubeOvnSkip[] } {
  const flows: string[] = [];
  const skipped: KubeOvnSkip[] = [];
  const { subnet } = input;
  if (subnet.enableExternalLBAddress) {
    for (const svc of input.services) {
      if (!subnet.vlan) {
        skipped.push({ service: svc.name, reason: 'vlan not specified in subnet' });
        continue;
      }
      if (input.patchOfport === undefined) {
        skipped.push({ service: svc.name, reason: `no patch port patch-localnet.${subnet.name}-to-br-int on this node (ovn-controller creates it only where the switch is local); rule silently skipped` });
        continue;
      }
      const mac = subnet.u2oInterconnectionMac || KUBE_OVN_LB_MAC;
      for (const ip of svc.ingress) {
        const v6 = parseIp(ip) === 6;
        for (const p of svc.ports) {
          const proto = (p.protocol ?? 'TCP').toUpperCase();
          if (proto !== 'TCP' && proto !== 'UDP') {
            skipped.push({ service: svc.name, reason: `unsupported protocol ${proto}` });
            continue;
          }
          const l4 = proto === 'TCP' ? (v6 ? 'tcp6' : 'tcp') : v6 ? 'udp6' : 'udp';
          flows.push(`cookie=${v6 ? '0x1001' : '0x1000'},priority=${KUBE_OVN_SVC_PRIORITY},in_port=${input.underlayOfport},${l4},${v6 ? 'ipv6_dst' : 'nw_dst'}=${ip},tp_dst=${p.port} actions=mod_dl_dst:${mac},output:${input.patchOfport}`);
        }
      }
    }
  }
  if (input.normalDefault !== false) flows.push('priority=0,actions=NORMAL');
  return { flows, skipped };
}
