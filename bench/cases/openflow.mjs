// br-provider alone (`Bridge.process`). openflow-10, -1000, -100000: Kube-OVN-style rules for N services (distinct
// VIP:port) plus NORMAL; every frame hits one of the rules (in_port 1, TCP to a VIP:port). openflow-normal: the
// same 10 rules, every frame through NORMAL with its MACs learned — half the pods' answers from the patch port to 512
// clients' MACs, half the clients' frames to a port no rule takes (MAC refreshes, a lookup, a forward). Each runs with
// the megaflow cache (the default: after the first frames every packet is a hit) and without it (`-nocache`: the
// classifier and NORMAL for every packet); `extra.megaflows` reports the cache's counters.
import { Bridge } from '../../packages/openflow/dist/index.js';
import { buildFrame, formatIPv4 } from '../../packages/wire/dist/index.js';

const LB_MAC = '00:00:00:01:00:01';
const clientMac = (i) => `52:54:00:aa:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

function bridge(nflows, megaflows) {
  const br = new Bridge('br-provider', [{ name: 'underlay0.341', ofport: 1 }, { name: 'patch', ofport: 2 }], { megaflows });
  const lines = [];
  const vips = [];
  for (let i = 0; i < nflows - 1; i++) {
    const vip = formatIPv4((10 << 24) | (180 << 16) | (i >> 4));
    const port = 80 + (i & 15);
    vips.push([vip, port]);
    lines.push(`cookie=0x1000,priority=10000,in_port=1,tcp,nw_dst=${vip},tp_dst=${port} actions=mod_dl_dst:${LB_MAC},output:2`);
  }
  lines.push('priority=0,actions=NORMAL');
  br.addFlows(lines.join('\n'));
  return { br, vips };
}

function rules(nflows, megaflows) {
  return {
    name: `openflow-${nflows}${megaflows ? '' : '-nocache'}`,
    setup: ({ frames }) => {
      const { br, vips } = bridge(nflows, megaflows);
      const packets = [];
      for (let i = 0; i < 1024; i++) {
        const [vip, port] = vips[(i * 7919) % vips.length];
        packets.push(buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', ipv4: { src: '10.180.204.100', dst: vip }, tcp: { srcPort: 1024 + i, dstPort: port } }));
      }
      return { br, packets, frames };
    },
    run({ br, packets, frames }) {
      let out = 0;
      for (let i = 0; i < frames; i++) out += br.process(packets[i & 1023], 1).outputs.length;
      if (out !== frames) throw new Error(`expected one output per frame, got ${out} for ${frames}`);
      return frames;
    },
    extra: ({ br }) => ({ megaflows: br.megaflowStats() }),
  };
}

function normal(megaflows) {
  return {
    name: `openflow-normal${megaflows ? '' : '-nocache'}`,
    setup: ({ frames }) => {
      const { br } = bridge(10, megaflows);
      const packets = [];
      const ports = [];
      for (let i = 0; i < 512; i++) {
        const client = `10.180.${204 + (i >> 8)}.${i & 0xff}`;
        packets.push(buildFrame({ dst: clientMac(i), src: LB_MAC, vlans: [], ipv4: { src: '10.180.204.252', dst: client }, tcp: { srcPort: 80, dstPort: 1024 + i, flags: 0x10 } }));
        ports.push(2);
        packets.push(buildFrame({ dst: LB_MAC, src: clientMac(i), ipv4: { src: client, dst: '10.180.204.252' }, tcp: { srcPort: 1024 + i, dstPort: 8080, flags: 0x10 } }));
        ports.push(1);
      }
      // Both sides learned before the clock starts: every measured frame refreshes and forwards.
      for (let i = 0; i < 1024; i++) br.process(packets[i], ports[i], { now: 0 });
      return { br, packets, ports, frames };
    },
    run({ br, packets, ports, frames }) {
      let out = 0;
      const options = { now: 0 };
      for (let i = 0; i < frames; i++) {
        options.now = i >> 10;
        out += br.process(packets[i & 1023], ports[i & 1023], options).outputs.length;
      }
      if (out !== frames) throw new Error(`expected one output per frame, got ${out} for ${frames}`);
      return frames;
    },
    extra: ({ br }) => ({ megaflows: br.megaflowStats() }),
  };
}

export default [rules(10, true), rules(1000, true), rules(100000, true), rules(10, false), rules(1000, false), rules(100000, false), normal(true), normal(false)];
