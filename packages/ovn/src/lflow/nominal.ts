/**
 * The fields OVN 23.03 calls nominal (lib/expr.c expr_symtab_add_field_scoped: an OVS field that is not fully
 * maskable — OVS 3.1 meta-flow's eth_type, ip_proto, ip_dscp, ip_ecn, ip_ttl, icmp and icmpv6 type and code, arp_op),
 * besides the string fields: no subfield of one (parse_field), and in a match only `==` (make_cmp). Checked against
 * ovn-trace 23.03 by test/lflow-accept.test.ts.
 * @module
 * @internal
 */
export const NOMINAL: ReadonlySet<string> = new Set(['eth.type', 'ip.proto', 'ip.dscp', 'ip.ecn', 'ip.ttl', 'icmp4.type', 'icmp4.code', 'icmp6.type', 'icmp6.code', 'arp.op', 'rarp.op']);
