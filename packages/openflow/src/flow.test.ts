import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlowParseError } from './errors.js';
import { formatFlow, parseFlow, parseFlows, DEFAULT_PRIORITY } from './flow.js';
import { Bridge } from './bridge.js';
import { kubeOvnProviderFlows } from './kubeovn.js';

// A br-provider dump of a Kube-OVN node, written from the facts of research/kube-ovn.md §2.3 in the
// format ovs-ofctl 3.1 prints (header line, cookies, counters, durations, idle ages).
const KUBE_OVN_DUMP = `NXST_FLOW reply (xid=0x4):
 cookie=0x1000, duration=8634.126s, table=0, n_packets=1822, n_bytes=187211, idle_age=3, priority=10000,tcp,in_port=1,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2
 cookie=0x1001, duration=8634.126s, table=0, n_packets=0, n_bytes=0, idle_age=8634, priority=10000,tcp6,in_port=1,ipv6_dst=fd00:10:180:204::252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2
 cookie=0x0, duration=9011.552s, table=0, n_packets=55310, n_bytes=4721932, idle_age=0, priority=0 actions=NORMAL
`;

describe('flow text', () => {
  it('reads a Kube-OVN node\'s dump-flows output and round-trips it', () => {
    const flows = parseFlows(KUBE_OVN_DUMP);
    expect(flows.length).toBe(3);
    expect(flows[0]).toMatchObject({ cookie: 0x1000n, priority: 10000, table: 0 });
    const text = flows.map((f) => formatFlow(f, { stats: false })).join('\n');
    expect(text).toContain('priority=10000,tcp,in_port=1,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2');
    expect(text).toContain('priority=10000,tcp6,in_port=1,ipv6_dst=fd00:10:180:204::252,tp_dst=80');
    expect(text).toContain('cookie=0x0, table=0, priority=0 actions=NORMAL');
    const again = parseFlows(text);
    expect(again.map((f) => formatFlow(f, { stats: false }))).toEqual(flows.map((f) => formatFlow(f, { stats: false })));
  });

  it('orders fields as ovs-ofctl prints them (observed with OVS 3.1)', () => {
    const f = parseFlow('table=3,priority=9,cookie=0x1000,tcp,tp_dst=80,tp_src=1000/0xff00,nw_ttl=5,nw_tos=8,nw_dst=10.180.204.252,nw_src=10.0.0.0/8,dl_dst=00:00:00:01:00:01,dl_src=52:54:00:aa:00:64,dl_vlan=341,in_port=1,reg1=5,metadata=0x3,reg0=0x10/0xf0,actions=mod_dl_dst:00:00:00:01:00:01,output:2')!;
    expect(formatFlow(f, { stats: false })).toBe(' cookie=0x1000, table=3, priority=9,tcp,reg0=0x10/0xf0,reg1=0x5,metadata=0x3,in_port=1,dl_vlan=341,dl_src=52:54:00:aa:00:64,dl_dst=00:00:00:01:00:01,nw_src=10.0.0.0/8,nw_dst=10.180.204.252,nw_tos=8,nw_ttl=5,tp_src=0x300/0xff00,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2');
    const g = parseFlow('priority=9,icmp6,icmpv6_type=135,icmpv6_code=0,nd_target=fd00::1,ipv6_dst=fd00::/64,ipv6_src=fd00::2,in_port=2,dl_vlan_pcp=3,actions=output:3')!;
    expect(formatFlow(g, { stats: false })).toContain('priority=9,icmp6,in_port=2,dl_vlan_pcp=3,ipv6_src=fd00::2,ipv6_dst=fd00::/64,icmp_type=135,icmp_code=0,nd_target=fd00::1 actions=output:3');
    expect(formatFlow(parseFlow('priority=9,udp,dl_vlan=0xffff,udp_dst=53,actions=output:3')!, { stats: false })).toContain('priority=9,udp,vlan_tci=0x0000,tp_dst=53');
    expect(formatFlow(parseFlow('actions=drop')!, { stats: false })).toBe(' cookie=0x0, table=0, actions=drop');
    expect(parseFlow('actions=drop')!.priority).toBe(DEFAULT_PRIORITY);
  });

  it('drops fields whose prerequisite is missing, as OVS normalizes them, with a warning', () => {
    const f = parseFlow('nw_dst=1.2.3.4,actions=drop')!;
    expect(f.match).toEqual([]);
    expect(f.warnings[0]).toMatch(/nw_dst ignored/);
    const g = parseFlow('ip,tp_dst=80,actions=drop')!;
    expect(formatFlow(g, { stats: false })).toContain(' ip actions=drop');
    // icmp_type and tp_src are one field: the later wins (OVS prints tcp6,tp_src=3 for this).
    expect(formatFlow(parseFlow('tcp6,tp_src=0x100/0xff00,icmp_type=3,actions=NORMAL')!, { stats: false })).toContain('tcp6,tp_src=3 ');
  });

  it('errors name line and column', () => {
    const err = (text: string): FlowParseError => {
      try {
        parseFlows(text);
      } catch (e) {
        expect(e).toBeInstanceOf(FlowParseError);
        return e as FlowParseError;
      }
      throw new Error('expected a FlowParseError');
    };
    let e = err('priority=1,actions=drop\n\nip,nw_dst=10.0.0.300,actions=drop');
    expect([e.line, e.column]).toEqual([3, 11]);
    expect(e.message).toMatch(/nw_dst/);
    e = err('ip,bogus=1,actions=drop');
    expect([e.line, e.column]).toEqual([1, 4]);
    expect(e.message).toMatch(/unknown field "bogus"/);
    e = err('ip,actions=output:1,frobnicate:3');
    expect([e.line, e.column]).toEqual([1, 21]);
    expect(e.message).toMatch(/unknown action "frobnicate"/);
    expect(err('ip').message).toMatch(/no "actions="/);
    expect(err('actions=drop,output:1').message).toMatch(/"drop" must not be accompanied/);
    expect(err('ipv6,actions=mod_nw_src:1.2.3.4').message).toMatch(/invalid with the match/);
    expect(err('table=2,actions=goto_table:1').message).toMatch(/later table/);
    expect(err('actions=load:0x1ffff->NXM_NX_REG0[0..15]').message).toMatch(/does not fit in 16 bits/);
    expect(err('actions=move:NXM_NX_REG0[0..7]->NXM_NX_REG1[0..15]').message).toMatch(/8 bits, destination 16/);
    expect(err('dl_vlan=5000,actions=drop').message).toMatch(/VLAN ID 5000/);
  });

  it('fuzz: any text gives flows or a FlowParseError with a position, never anything else', () => {
    const pieces = ['ip', 'tcp', 'arp', 'in_port=1', 'nw_dst=10.0.0.0/8', 'tp_dst=80', 'actions=', 'output:2', 'NORMAL', 'drop', ',', ' ', '=', '/', ':', '->', '[0..3]', 'resubmit(,1)', 'load:0x1->NXM_NX_REG0[]', 'dl_vlan=', 'priority=', '0xffff', 'mod_dl_dst:00:00:00:01:00:01', '(', ')', 'table=300', '\n'];
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.constantFrom(...pieces), { maxLength: 20 }).map((p) => p.join('')), fc.string({ maxLength: 80 })), (text) => {
        try {
          parseFlows(text);
        } catch (e) {
          expect(e).toBeInstanceOf(FlowParseError);
          const pe = e as FlowParseError;
          expect(pe.line).toBeGreaterThanOrEqual(1);
          expect(pe.column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('Kube-OVN preset (research/kube-ovn.md §2.3)', () => {
  const base = { subnet: { name: 'underlay-subnet', vlan: 'vlan341', enableExternalLBAddress: true }, underlayOfport: 1, patchOfport: 2 };
  it('one rule per ingress IP and service port, IPv6 with cookie 0x1001, NORMAL default', () => {
    const { flows, skipped } = kubeOvnProviderFlows({ ...base, services: [{ name: 'nginx-lb', ingress: ['10.180.204.252', 'fd00::252'], ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }] });
    expect(skipped).toEqual([]);
    expect(flows).toEqual([
      'cookie=0x1000,priority=10000,in_port=1,tcp,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2',
      'cookie=0x1000,priority=10000,in_port=1,udp,nw_dst=10.180.204.252,tp_dst=53 actions=mod_dl_dst:00:00:00:01:00:01,output:2',
      'cookie=0x1001,priority=10000,in_port=1,tcp6,ipv6_dst=fd00::252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2',
      'cookie=0x1001,priority=10000,in_port=1,udp6,ipv6_dst=fd00::252,tp_dst=53 actions=mod_dl_dst:00:00:00:01:00:01,output:2',
      'priority=0,actions=NORMAL',
    ]);
    // They load into a bridge as OVS would load them.
    const br = new Bridge('br-provider', [{ name: 'underlay0.341', ofport: 1 }, { name: 'patch-localnet.underlay-subnet-to-br-int', ofport: 2 }]);
    expect(br.addFlows(flows.join('\n')).length).toBe(5);
  });

  it('refuses SCTP and subnets without vlan; skips silently without the patch port; U2O MAC wins', () => {
    const svc = [{ name: 's', ingress: ['10.180.204.252'], ports: [{ port: 80 }, { port: 9, protocol: 'SCTP' }] }];
    expect(kubeOvnProviderFlows({ ...base, services: svc }).skipped).toEqual([{ service: 's', reason: 'unsupported protocol SCTP' }]);
    expect(kubeOvnProviderFlows({ ...base, subnet: { name: 'u', enableExternalLBAddress: true }, services: svc }).skipped[0]!.reason).toBe('vlan not specified in subnet');
    const noPatch = kubeOvnProviderFlows({ subnet: base.subnet, underlayOfport: 1, services: svc });
    expect(noPatch.flows).toEqual(['priority=0,actions=NORMAL']);
    expect(noPatch.skipped[0]!.reason).toMatch(/no patch port/);
    expect(kubeOvnProviderFlows({ ...base, subnet: { ...base.subnet, enableExternalLBAddress: false }, services: svc }).flows).toEqual(['priority=0,actions=NORMAL']);
    expect(kubeOvnProviderFlows({ ...base, subnet: { ...base.subnet, u2oInterconnectionMac: '0a:58:0a:b4:cc:01' }, services: svc }).flows[0]).toContain('mod_dl_dst:0a:58:0a:b4:cc:01');
  });
});
