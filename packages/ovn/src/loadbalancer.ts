/**
 * An OVN Load_Balancer as Kube-OVN writes it (shared/research/kube-ovn.md §3.2): `vips` from "VIP:port" to
 * "backend:port,…", a protocol, `options:prefer_local_backend`, `ip_port_mappings` (backend IP →
 * "<lsp>:<check ip>"), optional `selection_fields` (session LBs hash ip_src) and, from Kube-OVN v1.15.20,
 * the VIP-node marker `external_ids["kube-ovn.io/local-external-vip/<VIP>:<port>"] = "node-<name>"`.
 */
import { formatIPv4, parseIPv4, parseIPv6, VippathError } from '@vippath/wire';
import type { AddressBook } from './addresses.js';

/** Bad load-balancer configuration (a malformed VIP or backend). */
export class LoadBalancerError extends VippathError {
  constructor(message: string) {
    super('BAD_LOAD_BALANCER', message);
  }
}

/** The NB row, as text the way `ovn-nbctl` shows it. */
export interface LoadBalancerSpec {
  name: string;
  protocol?: 'tcp' | 'udp';
  vips: Record<string, string>;
  options?: { prefer_local_backend?: boolean | string; affinity_timeout?: number | string };
  ipPortMappings?: Record<string, string>;
  selectionFields?: Array<'ip_src' | 'ip_dst' | 'tp_src' | 'tp_dst'>;
  externalIds?: Record<string, string>;
}

/** One backend. */
export interface Backend {
  /** IPv4 as uint32, or an IPv6 address's number in the switch's {@link AddressBook}. */
  ip: number;
  v6: boolean;
  port: number;
  /** The logical port `ip_port_mappings` names for it, if any. */
  lsp?: string;
}

/** One compiled VIP. */
export interface Vip {
  key: string;
  /** IPv4 as uint32, or an IPv6 address's number in the switch's {@link AddressBook}. */
  ip: number;
  v6: boolean;
  port: number;
  proto: number;
  backends: Backend[];
  /** Kube-OVN v1.15.20 marker: the `node-<name>` LSP of the announcing node. */
  vipNode?: string;
}

/** A compiled load balancer. */
export class LoadBalancer {
  readonly name: string;
  readonly proto: number;
  readonly preferLocal: boolean;
  readonly hashSrcOnly: boolean;
  /** Session affinity: the same client goes to the same backend while idle less than this (ms); 0 = off. */
  readonly affinityMs: number;
  readonly vips: Vip[];

  constructor(spec: LoadBalancerSpec, book: AddressBook) {
    this.name = spec.name;
    this.proto = (spec.protocol ?? 'tcp') === 'tcp' ? 6 : 17;
    const pl = spec.options?.prefer_local_backend;
    this.preferLocal = pl === true || pl === 'true';
    this.hashSrcOnly = (spec.selectionFields ?? []).length > 0 && spec.selectionFields!.every((f) => f === 'ip_src');
    const aff = Number(spec.options?.affinity_timeout ?? 0);
    if (!Number.isFinite(aff) || aff < 0) throw new LoadBalancerError(`${spec.name}: affinity_timeout "${spec.options?.affinity_timeout}" is not a number of seconds`);
    this.affinityMs = aff * 1000;
    const mapping = new Map<string, string>();
    for (const [ip, v] of Object.entries(spec.ipPortMappings ?? {})) {
      const v6 = ip.includes(':');
      mapping.set(`${v6}/${book.parse(ip.replace(/^\[|\]$/g, ''), `ip_port_mappings key "${ip}"`)}`, v.split(':')[0]!);
    }
    this.vips = Object.entries(spec.vips).map(([key, list]) => {
      const vip = splitHostPort(key, `vips key "${key}"`, book);
      const backends = list.split(',').map((s) => s.trim()).filter(Boolean).map((b): Backend => {
        const be = splitHostPort(b, `backend "${b}" of ${key}`, book);
        if (be.v6 !== vip.v6) throw new LoadBalancerError(`backend "${b}" of ${key} is not of the VIP's address family`);
        const lsp = mapping.get(`${be.v6}/${be.ip}`);
        return { ip: be.ip, v6: be.v6, port: be.port, ...(lsp ? { lsp } : {}) };
      });
      const marker = spec.externalIds?.[`kube-ovn.io/local-external-vip/${key}`];
      return { key, ip: vip.ip, v6: vip.v6, port: vip.port, proto: this.proto, backends, ...(marker ? { vipNode: marker } : {}) };
    });
  }

  /** The VIP a packet is addressed to, if any. */
  match(proto: number, v6: boolean, dst: number, dport: number): Vip | undefined {
    for (const v of this.vips) if (v.proto === proto && v.v6 === v6 && v.ip === dst && v.port === dport) return v;
    return undefined;
  }
}

function splitHostPort(text: string, what: string, book: AddressBook): { ip: number; v6: boolean; port: number } {
  const t = text.trim();
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(t) ?? /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(t);
  if (!m) throw new LoadBalancerError(`${what}: expected IPv4:port or [IPv6]:port`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new LoadBalancerError(`${what}: port ${port} is not 1–65535`);
  const v6 = t.startsWith('[');
  try {
    return { ip: v6 ? book.intern(parseIPv6(m[1]!)) : parseIPv4(m[1]!), v6, port };
  } catch {
    throw new LoadBalancerError(`${what}: "${m[1]}" is not an IP${v6 ? 'v6' : 'v4'} address`);
  }
}

/**
 * Picks a backend the way OVN's select group does — deterministically from a hash of the connection: the
 * 5-tuple by default (dp_hash), only the source IP for session-affinity LBs. Not bit-identical to the
 * datapath's hash; stable for a given connection, which is what the simulation needs.
 */
export function selectBackend(backends: readonly Backend[], src: number, sport: number, dst: number, dport: number, proto: number, srcOnly: boolean): Backend {
  let h = Math.imul(src ^ 0x27d4eb2d, 0x165667b1);
  if (!srcOnly) {
    h = Math.imul(h ^ dst, 0x85ebca77);
    h = Math.imul(h ^ ((sport << 16) | dport), 0xc2b2ae3d);
    h = Math.imul(h ^ proto, 0x27d4eb2f);
  }
  h ^= h >>> 15;
  return backends[(h >>> 0) % backends.length]!;
}

/** For traces. */
export function formatBackends(backends: readonly Backend[], book: AddressBook): string {
  return backends.map((b) => (b.v6 ? `[${book.format(b.ip, true)}]:${b.port}` : `${formatIPv4(b.ip)}:${b.port}`)).join(',');
}
