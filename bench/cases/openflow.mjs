// br-provider alone: Kube-OVN-style rules for N services (distinct VIP:port) plus NORMAL; every frame hits one
// of the rules (in_port 1, TCP to a VIP:port). Three cases: 10, 1 000 and 100 000 flows.
import { Bridge } from '../../packages/openflow/dist/index.js';
import { buildFrame, formatIPv4 } from '../../packages/wire/dist/index.js';

function make(nflows) {
  return {
    name: `openflow-${nflows}`,
    setup: ({ frames }) => {
      const br = new Bridge('br-provider', [{ name: 'underlay0.341', ofport: 1 }, { name: 'patch', ofport: 2 }]);
      const lines = [];
      const vips = [];
      for (let i = 0; i < nflows - 1; i++) {
        const vip = formatIPv4((10 << 24) | (180 << 16) | (i >> 4));
        const port = 80 + (i & 15);
        vips.push([vip, port]);
        lines.push(`cookie=0x1000,priority=10000,in_port=1,tcp,nw_dst=${vip},tp_dst=${port} actions=mod_dl_dst:00:00:00:01:00:01,output:2`);
      }
      lines.push('priority=0,actions=NORMAL');
      br.addFlows(lines.join('\n'));
      const distinct = 1024;
      const packets = [];
      for (let i = 0; i < distinct; i++) {
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
  };
}

export default [make(10), make(1000), make(100000)];
