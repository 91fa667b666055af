// Reader + FrameDecoder: Ethernet → 802.1Q → IPv4 → TCP decode of every frame into one reused DecodedFrame.
import { CaptureCursor, Next } from '../../packages/pcap/dist/index.js';
import { DecodedFrame, FrameDecoder } from '../../packages/wire/dist/index.js';

export default {
  name: 'wire-parse',
  setup: ({ capture }) => ({ capture, decoder: new FrameDecoder(), out: new DecodedFrame() }),
  run({ capture, decoder, out }) {
    const cursor = new CaptureCursor();
    cursor.feed(capture, true);
    let n = 0;
    let ports = 0;
    const buf = cursor.buffer;
    while (cursor.next() === Next.RECORD) {
      // The decoder reads the frame where it lies in the capture buffer: no view per frame.
      decoder.decode(buf, out, cursor.captureLength, cursor.dataOffset);
      ports += out.dstPort;
      n++;
    }
    if (ports !== n * 80) throw new Error(`decoded ${ports / 80} VIP:80 frames of ${n}`);
    return n;
  },
};
