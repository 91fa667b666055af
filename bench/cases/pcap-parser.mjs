// The reference: pcap-parser (design card) parsing the same file from a Readable, counting packets.
import { Readable } from 'node:stream';
import pcapParser from 'pcap-parser';

export default {
  name: 'pcap-parser',
  setup: ({ capture }) => ({ capture }),
  async run({ capture }) {
    const chunks = [];
    for (let at = 0; at < capture.length; at += 1 << 20) chunks.push(capture.subarray(at, at + (1 << 20)));
    return new Promise((resolve, reject) => {
      let n = 0;
      let sum = 0;
      const p = pcapParser.parse(Readable.from(chunks));
      p.on('packet', (pkt) => {
        sum += pkt.data[0];
        n++;
      });
      p.on('error', reject);
      p.on('end', () => resolve(sum >= 0 ? n : 0));
    });
  },
};
