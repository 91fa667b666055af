// The logical-flow interpreter alone (@vippath/ovn LflowExecutor) on the Logical_Flow table real ovn-northd 23.03
// wrote for the default scenario's switch (test/fixtures/ovsdb/sb-backup.db): a client's TCP segment from the
// localnet port to the VIP, conntrack answering as ovn-trace does (the first ct action `new` — lflow-new — or
// every one `est` — lflow-est), --lb-dst pinned so the packet reaches the pod. Tracing off. lflow-new/lflow-est run
// with the megaflow cache (after the first frames every segment between ct calls is a cache hit; the 4 ct calls
// still run); the -nocache variants walk the tables for every frame.
import { readFileSync } from 'node:fs';
import { LflowExecutor, TraceConntrack, parseCtFlags, parseLbDst, readOvsdbFile, sbFromOvsdb } from '../../packages/ovn/dist/index.js';
import { buildFrame } from '../../packages/wire/dist/index.js';

function make(name, ct, megaflows) {
  return {
    name,
    setup: ({ frames }) => {
      const sb = sbFromOvsdb(readOvsdbFile(readFileSync(new URL('../../test/fixtures/ovsdb/sb-backup.db', import.meta.url))));
      const ex = new LflowExecutor(sb, 'underlay-subnet', { ct: new TraceConntrack(ct.map(parseCtFlags)), lbDst: parseLbDst('10.180.204.3:80'), megaflows });
      const packets = [];
      for (let i = 0; i < 1024; i++) packets.push(buildFrame({ dst: '00:00:00:0a:0b:02', src: '52:54:00:aa:00:64', ipv4: { src: '10.180.204.100', dst: '10.180.204.252' }, tcp: { srcPort: 1024 + i, dstPort: 80 } }));
      return { ex, packets, buf: new Uint8Array(2048), frames };
    },
    run({ ex, packets, buf, frames }) {
      let out = 0;
      for (let i = 0; i < frames; i++) {
        const p = packets[i & 1023];
        buf.set(p);
        out += ex.runFrame(buf, p.length, 'localnet.underlay-subnet').outputs.length;
      }
      if (out !== frames) throw new Error(`expected one output per frame, got ${out} for ${frames}`);
      return frames;
    },
    extra: ({ ex }) => (megaflows ? { megaflows: ex.megaflowStats() } : {}),
  };
}

export default [
  make('lflow-new', ['new'], true),
  make('lflow-est', ['est', 'est'], true),
  make('lflow-new-nocache', ['new'], false),
  make('lflow-est-nocache', ['est', 'est'], false),
];
