/**
 * Why a copy of a frame ended without delivery, as a code from a fixed table per stage (the pattern of MetalLB's
 * `ResponderVerdict`): the simulation counts codes, and words are looked up only for output. A code never holds
 * an address, so the summary's keys are bounded by this table, whatever the capture holds; the detailed trace
 * may add the particulars (which MAC, which VLAN) to the words.
 */

/** Every drop code with its words, `<stage>.<what>`. */
export const DROP_TEXT = {
  'wire.runt': 'runt frame (shorter than an Ethernet header)',
  'wire.hop-limit': 'hop limit (a forwarding loop)',
  'wire.same-port': 'destination MAC learned on the port the frame came from',
  'nic.node-down': 'node down',
  'nic.untagged': 'untagged frame: not for the VLAN interface',
  'nic.other-vlan': 'another VLAN: not for the VLAN interface',
  'br-provider.hop-limit': 'hop limit (a forwarding loop)',
  'br-provider.no-output': 'no flow output',
  'br-provider.recursion-too-deep': 'translation failed: resubmits nested deeper than 64 (OVS RECURSION_TOO_DEEP)',
  'br-provider.too-many-resubmits': 'translation failed: over 4096 resubmits (OVS TOO_MANY_RESUBMITS)',
  'br-provider.unknown-port': 'output to a port vippath does not know',
  'metallb.arpReply': 'an ARP reply (the responder answers requests only)',
  'metallb.ethernetDestination': 'Ethernet destination is neither broadcast nor the interface MAC',
  'metallb.notMatchInterface': 'interface not selected by any L2Advertisement',
  'metallb.announceIP': 'this node does not announce the target IP',
  'metallb.messageType': 'not a neighbor solicitation',
  'metallb.noSourceLL': 'neighbor solicitation without a source link-layer option',
  'metallb.ownLinkLocal': 'from its own link-local address',
  'metallb.notListening': 'no responder on this interface',
  'metallb.noResponder': 'no responder',
  'metallb.malformed': 'malformed ARP/NDP',
  'host.not-held': 'the node stack does not hold this address (not modelled further)',
  'host.not-addressed': 'not addressed to the node',
  'ovn.hop-limit': 'hop limit (a forwarding loop)',
  'ovn.drop-action': 'a logical flow drops it',
  'ovn.no-match': 'no logical flow matches (implicit drop)',
  'ovn.actions-end': 'a logical flow\'s actions end without next or output',
  'ovn.null-outport': 'output to the null logical port',
  'ovn.loopback': 'output to the port it came in on (inport == outport, no flags.loopback)',
  'ovn.unknown-outport': 'output to an unknown logical port or multicast group',
  'ovn.unbound': 'output to a logical port bound to no chassis',
  'ovn.localnet-tag': 'the VLAN tag does not match the localnet port\'s',
  'ovn.too-deep': 'the logical pipeline recursed too deep',
  'ovn.unmodelled-action': 'a logical flow\'s action vippath does not model (OVN would go on, most often through ovn-controller)',
  'ovn.ttl-exceeded': 'ip.ttl-- at TTL 0 or 1: OVS stops the logical flow\'s actions (decrement TTL exception)',
  'ovn.no-output': 'the logical switch gave no output',
  'ovn.no-patch-port': 'this node\'s br-provider has no patch port to br-int',
  'ovn.unmodelled-output': 'output to a port vippath does not model',
  'pod.node-down': 'node down',
  'pod.malformed': 'malformed frame',
  'pod.not-its-mac': 'Ethernet destination is not its MAC',
  'pod.arp-reply': 'ARP reply not asked for',
  'pod.arp-not-its-ip': 'ARP for another address, not its own',
  'pod.ipv6': 'IPv6 (the pod has no IPv6 address)',
  'pod.ethertype': 'an EtherType the pod does not serve',
  'pod.not-its-ip': 'IPv4 destination is not its address',
  'pod.ip-proto': 'an IP protocol the pod does not serve (only TCP on its port and ping)',
  'pod.rst-closed-port': 'RST to a closed port',
} as const;

/** A drop's code: `<stage>.<what>`, a key of {@link DROP_TEXT}. */
export type DropCode = keyof typeof DROP_TEXT;

/** What a pod did not take (`pod.*` codes without the prefix). */
export type PodIgnore = 'malformed' | 'not-its-mac' | 'arp-reply' | 'arp-not-its-ip' | 'ipv6' | 'ethertype' | 'not-its-ip' | 'ip-proto' | 'rst-closed-port';

/**
 * A drop's words in the summary (summary.json's `drops` keys, as they always read): the drops of the component
 * stages say where (`metallb: …`, `host: …`, `ovn: …`, `pod: …`), those of the wire, the NICs and br-provider
 * do not, and a node down is `node down` wherever it is met. Codes sharing words share a key (their counts add
 * up; `dropCodes` keeps them apart). Bounded by this table, made once.
 */
export const DROP_KEY: Readonly<Record<DropCode, string>> = Object.fromEntries(
  Object.entries(DROP_TEXT).map(([code, text]) => {
    const stage = code.slice(0, code.indexOf('.'));
    return [code, code.endsWith('.node-down') || !['metallb', 'host', 'ovn', 'pod'].includes(stage) ? text : `${stage}: ${text}`];
  }),
) as Record<DropCode, string>;

/** MetalLB's responder drop reasons as codes (looked up, not concatenated, per drop). */
export const METALLB_DROP_CODE: Readonly<Record<string, DropCode>> = Object.fromEntries(
  Object.keys(DROP_TEXT).filter((c) => c.startsWith('metallb.')).map((c) => [c.slice('metallb.'.length), c]),
) as Record<string, DropCode>;

/** What a pod did not take, as codes. */
export const POD_DROP_CODE: Readonly<Record<PodIgnore, DropCode>> = Object.fromEntries(
  Object.keys(DROP_TEXT).filter((c) => c.startsWith('pod.') && c !== 'pod.node-down').map((c) => [c.slice('pod.'.length), c]),
) as Record<PodIgnore, DropCode>;

/** True for a string that is a drop code. */
export function isDropCode(s: string): s is DropCode {
  return Object.prototype.hasOwnProperty.call(DROP_TEXT, s);
}

/**
 * The code of a logical switch drop from the executor's `DropReason` number (@vippath/ovn lflow/executor.ts:
 * DROP_ACTION 0 … TTL_EXCEEDED 10; -1: no output and no recorded drop).
 */
const OVN_DROP_CODES: readonly DropCode[] = ['ovn.drop-action', 'ovn.no-match', 'ovn.actions-end', 'ovn.null-outport', 'ovn.loopback', 'ovn.unknown-outport', 'ovn.unbound', 'ovn.localnet-tag', 'ovn.too-deep', 'ovn.unmodelled-action', 'ovn.ttl-exceeded'];

export function ovnDropCode(reason: number): DropCode {
  return OVN_DROP_CODES[reason] ?? 'ovn.no-output';
}
