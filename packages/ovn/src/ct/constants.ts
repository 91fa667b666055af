/**
 * The numbers Open vSwitch's userspace conntrack runs on (OVS 3.1, the version Debian ships and the tests
 * compare against): timeouts, TCP peer states, per-protocol states, NAT action bits, and the reasons this
 * engine counts when it marks a packet invalid or refuses a connection.
 * @module
 */

/**
 * Default timeout policy in seconds (ovs lib/conntrack-tp.c v3.1.0 `ct_dpif_netdev_tp_def`, indexed through
 * `tm_to_ct_dpif_tp`). Keys are OVS's internal timeout names (`CT_TM_*`, lib/conntrack-private.h).
 */
export const CT_DEFAULT_TIMEOUTS = {
  /** CT_TM_TCP_FIRST_PACKET → TCP_SYN_SENT. */
  tcpFirstPacket: 30,
  /** CT_TM_TCP_OPENING → TCP_SYN_RECV. */
  tcpOpening: 30,
  /** CT_TM_TCP_ESTABLISHED → TCP_ESTABLISHED (one day). */
  tcpEstablished: 24 * 60 * 60,
  /** CT_TM_TCP_CLOSING → TCP_FIN_WAIT. */
  tcpClosing: 15 * 60,
  /** CT_TM_TCP_FIN_WAIT → TCP_TIME_WAIT. */
  tcpFinWait: 45,
  /** CT_TM_TCP_CLOSED → TCP_CLOSE. */
  tcpClosed: 30,
  /** CT_TM_OTHER_FIRST → UDP_FIRST. */
  otherFirst: 60,
  /** CT_TM_OTHER_MULTIPLE → UDP_SINGLE (sic: the mapping crosses over in OVS). */
  otherMultiple: 60,
  /** CT_TM_OTHER_BIDIR → UDP_MULTIPLE. */
  otherBidir: 30,
  /** CT_TM_ICMP_FIRST → ICMP_FIRST. */
  icmpFirst: 60,
  /** CT_TM_ICMP_REPLY → ICMP_REPLY. */
  icmpReply: 30,
} as const;

/** A timeout policy: seconds per {@link CT_DEFAULT_TIMEOUTS} key. */
export type CtTimeoutPolicy = { -readonly [K in keyof typeof CT_DEFAULT_TIMEOUTS]: number };

/** Index of each timeout in the engine's table. */
export const CtTimeout = {
  TCP_FIRST_PACKET: 0,
  TCP_OPENING: 1,
  TCP_ESTABLISHED: 2,
  TCP_CLOSING: 3,
  TCP_FIN_WAIT: 4,
  TCP_CLOSED: 5,
  OTHER_FIRST: 6,
  OTHER_MULTIPLE: 7,
  OTHER_BIDIR: 8,
  ICMP_FIRST: 9,
  ICMP_REPLY: 10,
} as const;

/** The policy's seconds in {@link CtTimeout} order. */
export function timeoutTable(p: CtTimeoutPolicy): Float64Array {
  return Float64Array.of(p.tcpFirstPacket, p.tcpOpening, p.tcpEstablished, p.tcpClosing, p.tcpFinWait, p.tcpClosed, p.otherFirst, p.otherMultiple, p.otherBidir, p.icmpFirst, p.icmpReply);
}

/**
 * TCP peer states, numbered as OVS numbers them (lib/ct-dpif.h `CT_DPIF_TCP_STATES`); the userspace tracker
 * uses CLOSED, SYN_SENT, ESTABLISHED, CLOSING, FIN_WAIT_2 and TIME_WAIT.
 */
export const CtTcpState = {
  CLOSED: 0,
  LISTEN: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  ESTABLISHED: 4,
  CLOSE_WAIT: 5,
  FIN_WAIT_1: 6,
  CLOSING: 7,
  LAST_ACK: 8,
  FIN_WAIT_2: 9,
  TIME_WAIT: 10,
} as const;

/** Names of {@link CtTcpState} values, as `dpctl/dump-conntrack` prints them. */
export const CT_TCP_STATE_NAMES: readonly string[] = ['CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'FIN_WAIT_1', 'CLOSING', 'LAST_ACK', 'FIN_WAIT_2', 'TIME_WAIT'];

/** NAT action bits of a connection (ovs lib/conntrack.h `enum nat_action_e`). */
export const CtNatAction = { SRC: 1, SRC_PORT: 2, DST: 4, DST_PORT: 8 } as const;

/** Which per-protocol tracker a connection uses (ovs lib/conntrack.c `l4_protos[]`, indexed by IP protocol). */
export const CtL4 = { OTHER: 0, TCP: 1, ICMP4: 2, ICMP6: 3 } as const;

/**
 * Why the engine marked a packet invalid, refused to commit it, or let an entry go. Counted per reason
 * (`OvsConntrack.counters`); OVS counts most of them as coverage counters (named in each comment).
 */
export const CtReason = {
  /** Not IPv4/IPv6, or the decoder found the frame malformed (conn_key_extract fails). */
  NOT_IP: 0,
  /** An IP fragment: this engine does not reassemble (OVS's ipf would; see README). */
  FRAGMENT: 1,
  /** IPv4 header checksum wrong (coverage `conntrack_l3csum_err`). */
  L3_CHECKSUM: 2,
  /** TCP/UDP/ICMP checksum wrong (coverage `conntrack_l4csum_err`). */
  L4_CHECKSUM: 3,
  /** L4 header too short, port 0, an ICMP type conntrack does not track, or a nonzero echo code. */
  L4_UNTRACKABLE: 4,
  /** An ICMP error whose embedded packet matches no connection. */
  RELATED_NOT_FOUND: 5,
  /** The first packet cannot start a connection (SYN+ACK, echo reply…: `valid_new` false). */
  INVALID_NEW: 6,
  /** TCP flags no stack sends (coverage `conntrack_invalid_tcp_flags`). */
  TCP_FLAGS: 7,
  /** TCP segment outside the tracked window (coverage `conntrack_tcp_seq_chk_failed`). */
  TCP_WINDOW: 8,
  /** Commit refused: the whole table is at its limit (coverage `conntrack_full`). */
  TABLE_FULL: 9,
  /** Commit refused: the zone (or the default zone limit) is at its limit (later OVS: `conntrack_zone_full`). */
  ZONE_FULL: 10,
  /** Commit refused: no free NAT tuple ("Unable to NAT due to tuple space exhaustion"). */
  NAT_EXHAUSTED: 11,
  /** An entry left the table because it timed out (swept). */
  EXPIRED: 12,
  /** An entry was expired early: `force` on a reply, or a new SYN on a closed connection. */
  FORCE_EXPIRED: 13,
  /** An entry was removed by `flush`. */
  FLUSHED: 14,
  /** Commit refused: the NAT address family is not the packet's (OVS refuses such flows when they are added). */
  NAT_FAMILY: 15,
} as const;

/** Text for each {@link CtReason}, for reports. */
export const CT_REASON_TEXT: readonly string[] = [
  'not an IPv4/IPv6 packet conntrack can parse',
  'IP fragment (not reassembled)',
  'bad IPv4 header checksum',
  'bad L4 checksum',
  'L4 header conntrack cannot key (short, port 0, untracked ICMP type)',
  'ICMP error about no known connection',
  'packet cannot start a connection',
  'invalid TCP flag combination',
  'TCP segment outside the tracked window',
  'connection table full',
  'zone connection limit reached',
  'NAT tuple space exhausted',
  'expired',
  'expired early (force or reopened)',
  'flushed',
  'NAT address family differs from the packet',
];

/** OVS's table-wide limit when none is configured (lib/conntrack.c `DEFAULT_N_CONN_LIMIT`). */
export const CT_DEFAULT_CONN_LIMIT = 3_000_000;
