/**
 * Link-layer header types (tcpdump.org LINKTYPE_ values). vippath simulates Ethernet; Linux cooked
 * captures (`tcpdump -i any`) are read too, with their link header exposed so that the protocol of
 * each packet is known.
 */
export const LinkType = {
  EN10MB: 1,
  LINUX_SLL: 113,
  LINUX_SLL2: 276,
} as const;

/** Linktypes the readers accept by default. */
export const SUPPORTED_LINKTYPES: readonly number[] = [LinkType.EN10MB, LinkType.LINUX_SLL, LinkType.LINUX_SLL2];

/** The name of a linktype (`EN10MB`, `LINUX_SLL`, …) or `LINKTYPE_<n>`. */
export function linktypeName(linktype: number): string {
  switch (linktype) {
    case LinkType.EN10MB:
      return 'EN10MB';
    case LinkType.LINUX_SLL:
      return 'LINUX_SLL';
    case LinkType.LINUX_SLL2:
      return 'LINUX_SLL2';
    default:
      return `LINKTYPE_${linktype}`;
  }
}

/**
 * Length of the link-layer header before the network-layer packet: 14 for Ethernet (untagged; tags are
 * the frame's business), 16 for LINUX_SLL, 20 for LINUX_SLL2 (tcpdump.org linktypes/LINKTYPE_LINUX_SLL*).
 */
export function linkHeaderLength(linktype: number): number {
  return linktype === LinkType.LINUX_SLL ? 16 : linktype === LinkType.LINUX_SLL2 ? 20 : linktype === LinkType.EN10MB ? 14 : 0;
}

/**
 * The protocol (EtherType) of a cooked-capture packet: bytes 14–15 of LINUX_SLL, bytes 0–1 of
 * LINUX_SLL2; for Ethernet, bytes 12–13 (a TPID when tagged). -1 when too short.
 */
export function linkProtocol(linktype: number, data: Uint8Array): number {
  const at = linktype === LinkType.LINUX_SLL ? 14 : linktype === LinkType.LINUX_SLL2 ? 0 : 12;
  return data.length >= at + 2 ? (data[at]! << 8) | data[at + 1]! : -1;
}
