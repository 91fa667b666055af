/**
 * Lint for MetalLB on a Kube-OVN underlay: every prerequisite and note of the seed document and the edge cases
 * of shared/research/kube-ovn.md §7, as diagnostics with a code, the object and field, and the consequence in one
 * sentence.
 */
import { compileConfig, parseIp, cidrContains, type Cidr, type Ip, type IPAddressPoolObject, type L2AdvertisementObject } from '@vippath/metallb';
import { isLoadBalancerService, type K8sObject } from './manifests.js';

/** One finding. */
export interface Diagnostic {
  code: string;
  severity: 'error' | 'warning' | 'info';
  /** `Kind/name`. */
  object: string;
  field: string;
  message: string;
  /** What happens to traffic, in one sentence. */
  consequence: string;
  source?: { file: string; line: number };
}

/** Kube-OVN controller flags that matter here. */
export interface ControllerFlags {
  enableOvnLbPreferLocal?: boolean;
  lsCtSkipDstLportIps?: boolean;
}

const ref = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;

function expandExcludes(list: unknown): Array<{ lo: bigint; hi: bigint }> {
  const out: Array<{ lo: bigint; hi: bigint }> = [];
  for (const e of Array.isArray(list) ? list : []) {
    const [a, b] = String(e).split('..');
    try {
      const lo = parseIp(a!.trim()).value;
      out.push({ lo, hi: b ? parseIp(b.trim()).value : lo });
    } catch {
      // reported by the subnet check
    }
  }
  return out;
}

/** Runs every rule over the loaded objects. */
export function lint(objects: K8sObject[], flags: ControllerFlags = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const add = (o: K8sObject | undefined, d: Omit<Diagnostic, 'object' | 'source'> & { object?: string }): void => {
    out.push({ ...d, object: d.object ?? (o ? ref(o) : '-'), ...(o ? { source: { file: o.source.file, line: o.source.line } } : {}) });
  };
  if (flags.enableOvnLbPreferLocal !== true) {
    add(undefined, { code: 'PREFER_LOCAL_OFF', severity: 'error', object: 'kube-ovn-controller', field: '--enable-ovn-lb-prefer-local', message: 'the controller flag --enable-ovn-lb-prefer-local is not true', consequence: 'VIP traffic will not be DNATed: Kube-OVN writes no OVN load-balancer VIP for the MetalLB address.' });
  }
  if (flags.lsCtSkipDstLportIps !== false) {
    add(undefined, { code: 'CT_SKIP_DST_LPORT_IPS', severity: 'error', object: 'kube-ovn-controller', field: '--ls-ct-skip-dst-lport-ips', message: '--ls-ct-skip-dst-lport-ips is not false (Kube-OVN defaults it to true)', consequence: 'VIP traffic will not be DNATed: the VIP is inside the subnet, so a priority-105 flow skips conntrack and the packet is dropped at L2 lookup.' });
  }
  const subnets = objects.filter((o) => o.kind === 'Subnet');
  const pools = objects.filter((o) => o.kind === 'IPAddressPool');
  const ads = objects.filter((o) => o.kind === 'L2Advertisement');
  for (const s of subnets) {
    const spec = s.spec ?? {};
    if (spec.enableExternalLBAddress !== true) {
      add(s, { code: 'EXTERNAL_LB_ADDRESS_OFF', severity: 'error', field: 'spec.enableExternalLBAddress', message: 'enableExternalLBAddress is not true', consequence: 'VIP traffic reaching br-provider is not steered into OVN: no priority-10000 flow, so NORMAL hands it to the host stack.' });
    }
    if (!spec.vlan) {
      add(s, { code: 'SUBNET_WITHOUT_VLAN', severity: 'error', field: 'spec.vlan', message: 'the subnet names no Vlan (underlay subnets need one; Vlan id 0 when the VLAN sub-interface tags)', consequence: 'Kube-OVN refuses the br-provider rule ("vlan not specified in subnet"), so VIP traffic goes to the host stack instead of OVN.' });
    }
  }
  // Every block of the subnet: a dual-stack one lists an IPv4 and an IPv6 block, in either order.
  let cidrs: Cidr[] | undefined;
  const subnet = subnets[0];
  const cidrText = subnet?.spec?.cidrBlock;
  if (typeof cidrText === 'string') {
    try {
      cidrs = cidrText.split(',').map((b) => {
        const [ip, len] = b.trim().split('/');
        const p = parseIp(ip!);
        const bits = Number(len);
        const host = BigInt((p.family === 4 ? 32 : 128) - bits);
        return { family: p.family, base: (p.value >> host) << host, bits };
      });
    } catch {
      add(subnet, { code: 'BAD_CIDR', severity: 'error', field: 'spec.cidrBlock', message: `"${cidrText}" is not a CIDR`, consequence: 'The subnet cannot be created.' });
    }
  }
  if (subnet && typeof cidrText === 'string') {
    // Kube-OVN's ValidateSubnet (pkg/util/validator.go) refuses an excludeIps entry that is not an address or
    // whose range runs backwards, and accepts one outside every block (it then excludes nothing). vippath's
    // IPAM hung on an IPv6 entry in an IPv4 subnet before; both cases are findings now.
    const blocks: Cidr[] = cidrs ?? [];
    const list: unknown[] = Array.isArray(subnet.spec?.excludeIps) ? (subnet.spec.excludeIps as unknown[]) : [];
    list.forEach((e, i) => {
      const [a, b] = String(e).split('..');
      let lo: Ip | undefined;
      let hi: Ip | undefined;
      try {
        lo = parseIp(a!.trim());
        hi = b ? parseIp(b.trim()) : lo;
      } catch {
        add(subnet, { code: 'BAD_EXCLUDE_IP', severity: 'error', field: `spec.excludeIps[${i}]`, message: `${JSON.stringify(e)} is not an address or an address range (a..b)`, consequence: 'Kube-OVN refuses the subnet ("is not a valid address").' });
        return;
      }
      if (lo.family !== hi.family || lo.value > hi.value) {
        add(subnet, { code: 'BAD_EXCLUDE_IP', severity: 'error', field: `spec.excludeIps[${i}]`, message: `${String(e)} is not a range from a lower to a higher address of one family`, consequence: 'Kube-OVN refuses the subnet ("is not a valid ip range").' });
        return;
      }
      if (blocks.length && !blocks.some((c) => cidrContains(c, lo!) && cidrContains(c, hi!))) {
        add(subnet, { code: 'EXCLUDE_IP_OUTSIDE_SUBNET', severity: 'warning', field: `spec.excludeIps[${i}]`, message: `${String(e)} is not in the subnet's ${blocks.length > 1 ? 'blocks' : 'block'} ${cidrText}${lo.family === 6 && blocks.every((c) => c.family === 4) ? ' (an IPv6 address in an IPv4 subnet)' : ''}`, consequence: 'Kube-OVN accepts it and excludes nothing with it: if it was meant to keep a MetalLB address from pods, it does not.' });
      }
    });
  }
  if (pools.length) {
    let config;
    try {
      config = compileConfig(pools as unknown as IPAddressPoolObject[], ads as unknown as L2AdvertisementObject[], []);
    } catch (e) {
      add(undefined, { code: 'BAD_METALLB_CONFIG', severity: 'error', object: (e as { object?: string }).object ?? 'metallb', field: (e as { field?: string }).field ?? '-', message: (e as Error).message, consequence: 'MetalLB rejects the configuration: no address is assigned or announced.' });
    }
    const excludes = subnet ? expandExcludes(subnet.spec?.excludeIps) : [];
    for (const pool of config?.pools ?? []) {
      const obj = pools.find((p) => p.metadata.name === pool.name)!;
      const missing: string[] = [];
      let outside = false;
      for (const c of pool.cidrs) {
        const size = 1n << BigInt((c.family === 4 ? 32 : 128) - c.bits);
        for (let v = c.base; v < c.base + size && v < c.base + 4096n; v++) {
          const ip = { family: c.family, value: v };
          if (cidrs && !cidrs.some((c) => cidrContains(c, ip))) outside = true;
          if (!excludes.some((x) => v >= x.lo && v <= x.hi)) missing.push(ip.family === 4 ? `${Number(v >> 24n)}.${Number((v >> 16n) & 255n)}.${Number((v >> 8n) & 255n)}.${Number(v & 255n)}` : v.toString(16));
        }
      }
      if (cidrs && outside) {
        add(obj, { code: 'POOL_OUTSIDE_SUBNET', severity: 'error', field: 'spec.addresses', message: `the pool is not a subset of the underlay subnet ${String(cidrText)}`, consequence: 'Addresses outside the subnet are not on the VLAN segment: nothing steers their traffic into OVN.' });
      }
      if (subnet && missing.length) {
        add(obj, { code: 'POOL_NOT_EXCLUDED', severity: 'warning', field: 'spec.addresses', message: `${missing.length} pool address(es) are not in ${ref(subnet)} spec.excludeIps: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', …' : ''}`, consequence: 'Kube-OVN IPAM can give a pod the same address MetalLB gives a Service: ARP for it is answered twice and traffic goes to the wrong place.' });
      }
      if (pool.l2Advertisements.length === 0) {
        add(obj, { code: 'POOL_NOT_ADVERTISED', severity: 'error', field: 'metadata.name', message: 'no L2Advertisement selects this pool', consequence: 'MetalLB assigns its addresses but no node answers ARP for them: the VIP is dark.' });
      }
    }
  }
  for (const svc of objects.filter(isLoadBalancerService)) {
    const spec = svc.spec as { externalTrafficPolicy?: string; ports?: Array<{ protocol?: string; port?: number }> };
    if (spec.externalTrafficPolicy !== 'Local') {
      add(svc, { code: 'ETP_NOT_LOCAL', severity: 'warning', field: 'spec.externalTrafficPolicy', message: 'externalTrafficPolicy is not Local', consequence: 'The MetalLB node may have no local backend; with Kube-OVN 1.14 OVN then picks a remote one and the reply leaves un-NATed from another node, breaking the connection.' });
    }
    (spec.ports ?? []).forEach((p, i) => {
      if ((p.protocol ?? 'TCP').toUpperCase() === 'SCTP') {
        add(svc, { code: 'SCTP_PORT', severity: 'error', field: `spec.ports[${i}].protocol`, message: 'SCTP ports are not supported by Kube-OVN\'s external LB rules', consequence: 'Kube-OVN refuses the br-provider rule for this port ("unsupported protocol"): its traffic goes to the host stack.' });
      }
    });
  }
  return out;
}
