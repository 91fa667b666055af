// vippath's scanCapture from a file on disk: streaming in constant memory without a record object per frame.
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanCapture } from '../../packages/pcap/dist/index.js';

export default {
  name: 'reader-scan',
  setup: ({ capture }) => {
    const path = join(tmpdir(), `vippath-bench-scan-${process.pid}.pcap`);
    writeFileSync(path, capture);
    return { path };
  },
  async run({ path }) {
    let n = 0;
    let sum = 0;
    await scanCapture(path, (c) => {
      sum += c.buffer[c.dataOffset];
      n++;
    });
    if (sum < 0) throw new Error('unreachable');
    return n;
  },
  teardown: ({ path }) => rmSync(path, { force: true }),
};
