/**
 * Kube-OVN's patches to ovn-northd, as overlays on the 23.03 flows: only what each patch adds or changes, with the
 * flow texts the patch writes. Sources (kubeovn/kube-ovn `dist/images/patches/`):
 * - `a9e009136a42cf6d985f97e2bf1ec41df6b5ca29.patch` (release-1.14, on OVN 24.03) and
 *   `9286e1fd578fdb8f565a0f4aa9066b538295e1ac.patch` (release-1.15 / master, on OVN 25.03): "add select local lb
 *   backend" — `options:prefer_local_backend` with `ip_port_mappings`, per-chassis `ls_in_lb` flows at 140 (130 for a
 *   VIP without port) guarded by `is_chassis_resident`; 9286e1fd adds the VIP-node marker
 *   `external_ids:kube-ovn.io/local-external-vip/<VIP>:<PORT>` (bypass at 139, VIP-node flow at 140, affinity
 *   filtered to the VIP node, and `ls_in_l2_lkup` 55 for VIP-node backends on U2O switches).
 * - `f4b1f5fbf0f5aff68299efaa2d0577c90cb2568e.patch` (1.14) / `a297b840c2c9f118c7ce6133077087b5999f12dd.patch` (1.15):
 *   `NB_Global options:ls_dnat_mod_dl_dst` — `ls_in_l2_lkup` 55 `reg0[2] != 0 && ip4.dst == IP` → the port.
 * - `505dc82f54d4ce54e0378fd3bac1052ee644ac59.patch` (1.14) / `34dc3e3fcfacec6597293765ecd6e20fe15581f1.patch` (1.15):
 *   `options:ls_ct_skip_dst_lport_ips` — `ls_in_pre_lb` 105 `next;` for the subnets behind the one router port, or
 *   the localnet ports' `external_ids:ipv4_network`/`ipv6_network`.
 * - `786756870f12ac69a5d7bc498693574c6591c5e9.patch` (1.14) / `85aa6263ad5b3648eb7ceec90c812328dbb7c6c0.patch` (1.15):
 *   `options:node_local_dns_ip` — `ls_in_pre_lb` 105 `next;` per address.
 * - `737d9f932edada5a91f315b5f382daada8dee952.patch` (1.15 only): `options:skip_conntrack_dst_cidrs` — 105 per CIDR.
 * All the pre_lb 105 flows sit in the `has_lb_vip` branch of build_ls_stateful_rec_pre_lb, after the 100 `ip` flow.
 *
 * More patches of both series add switch flows and are overlays too (at their call sites in northd.ts):
 * e7d3ba53 (node_local_dns_ip in pre_acl), 4a8e051f/477695a0 (localnet ARP/NS for router-port IPs dropped),
 * fb0108d8/52b727b3 (eth.src of router-redirected VIF traffic), 5593e614/e889d469 (bcast_arp_req_flood),
 * 53d96149/e76880e7 `version_compatibility` (an NB option that rolls flows back to older releases while a cluster
 * upgrades: northd.ts versionCompat; router flows it also changes are not built here).
 * Every patch of each release's series applies cleanly (`git apply`, Dockerfile order) on its base: ef8f5c1ac for
 * release-1.14, cbb88276a for release-1.15 — the context lines match the branch source the flows are read from.
 *
 * The patches sit on OVN 24.03/25.03, whose own flows northd.ts writes when `ovnVersion` says so; by default (23.03)
 * a profile is 23.03 plus the patches' deltas. Where a patch's text embeds its base version's action prefix
 * (build_lb_vip_actions), the prefix of that base is used: none on 24.03 (a9e00913 clears the action, also for the
 * generic flow), and `reg4 = VIP; reg2[0..15] = PORT; ` (IPv6 `xxreg1 = VIP;`) on 25.03 (northd.c branch-25.03
 * build_lb_vip_actions).
 * @module
 */
import { formatIp4, parseIp4, parseIp6, formatIp6 } from './addr.js';

export type KubeOvnProfile = 'kube-ovn-1.14' | 'kube-ovn-1.15';

/** The sorted, de-duplicated addresses of a comma-separated option, as the patches' `sset`s hold them. */
export function nodeLocalDnsIps(value: string | undefined): { v4: string[]; v6: string[] } {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  // strsep stops at the first empty token (`*cur` false), as the patch's loop does.
  for (const cur of (value ?? '').split(',')) {
    if (cur === '') break;
    if (cur.includes(':')) {
      const g = parseIp6(cur);
      if (g) v6.add(formatIp6(g));
    } else {
      const a = parseIp4(cur);
      if (a !== undefined) v4.add(formatIp4(a));
    }
  }
  return { v4: [...v4], v6: [...v6] };
}

/** `skip_conntrack_dst_cidrs` as 737d9f93 parses it: trimmed CIDRs; IPv4 re-printed, IPv6 kept as written. */
export function skipConntrackCidrs(value: string | undefined): { v4: string[]; v6: string[] } {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const raw of (value ?? '').split(',')) {
    if (raw === '') break;
    const cur = raw.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
    const slash = cur.indexOf('/');
    if (slash < 0) continue;
    const ip = cur.slice(0, slash);
    const m = /^(\d+)/.exec(cur.slice(slash + 1));
    if (!m) continue;
    const plen = Number(m[1]);
    if (cur.includes(':')) {
      if (parseIp6(ip) && plen <= 128) v6.add(`${ip}/${plen}`);
    } else {
      const a = parseIp4(ip);
      if (a !== undefined && plen <= 32) v4.add(`${formatIp4(a)}/${plen}`);
    }
  }
  return { v4: [...v4], v6: [...v6] };
}
