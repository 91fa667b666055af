/**
 * A property test a user would copy: "my br-provider flows never send VIP traffic to the host stack".
 * Replace FLOWS with `ovs-ofctl dump-flows br-provider` from your node and PORTS with `ovs-ofctl show`'s ports;
 * on failure vippath prints the minimal packet, writes it as a pcap, and gives the replay command.
 */
import { it } from 'vitest';
import { Port } from '@vippath/openflow';
import { checkFlowTable, frameArb, neverOutputsTo } from '@vippath/testing';

const FLOWS = `
 cookie=0x1000, duration=8634.126s, table=0, n_packets=1822, n_bytes=187211, idle_age=3, priority=10000,tcp,in_port=1,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2
 cookie=0x0, duration=9011.552s, table=0, n_packets=55310, n_bytes=4721932, idle_age=0, priority=0 actions=NORMAL
`;
const PORTS = [
  { name: 'underlay0.341', ofport: 1 },
  { name: 'patch-localnet.underlay-subnet-to-br-int', ofport: 2 },
];

it('TCP to the VIP:80 arriving from the underlay never reaches the host stack (LOCAL)', () => {
  checkFlowTable({
    flows: FLOWS,
    ports: PORTS,
    inPorts: [1],
    // Whatever the MACs, VLAN state of the inner frame or TCP flags: only the VIP and port are fixed.
    packets: frameArb({ kinds: ['tcp4'], ipv4: ['10.180.204.252'], ports: [80] }),
    property: neverOutputsTo(Port.LOCAL),
  });
});
