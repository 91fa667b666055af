// vippath's streaming reader (openCapture) from a file on disk: the path for captures of any size.
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../../packages/pcap/dist/index.js';

export default {
  name: 'reader-stream',
  setup: ({ capture }) => {
    const path = join(tmpdir(), `vippath-bench-${process.pid}.pcap`);
    writeFileSync(path, capture);
    return { path };
  },
  async run({ path }) {
    let n = 0;
    let sum = 0;
    for await (const rec of openCapture(path)) {
      sum += rec.data[0];
      n++;
    }
    if (sum < 0) throw new Error('unreachable');
    return n;
  },
  teardown: ({ path }) => rmSync(path, { force: true }),
};
