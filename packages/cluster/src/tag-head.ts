/**
 * The first sixteen bytes of a frame tagged as the NIC tags it (pushVlan's bytes): the MACs, then the 802.1Q tag
 * (0x8100, the VLAN id). The way-back cache writes them after copying the rest of the frame four bytes on.
 * @module
 */

/** The general form: byte by byte, any buffers and offsets. */
export function tagHead(out: Uint8Array, frame: Uint8Array, vlan: number): void {
  out[0] = frame[0]!;
  out[1] = frame[1]!;
  out[2] = frame[2]!;
  out[3] = frame[3]!;
  out[4] = frame[4]!;
  out[5] = frame[5]!;
  out[6] = frame[6]!;
  out[7] = frame[7]!;
  out[8] = frame[8]!;
  out[9] = frame[9]!;
  out[10] = frame[10]!;
  out[11] = frame[11]!;
  out[12] = 0x81;
  out[13] = 0;
  out[14] = (vlan >> 8) & 0xff;
  out[15] = vlan & 0xff;
}

/**
 * {@link tagHead} as four word stores into `out32`, the words of `out`'s buffer from `out`'s byte 0 (the recorder's
 * pool hands them out: TraceRecorder.bufferWords). The source's first three words are read through an Int32Array view
 * made when a source is first met and kept: the way back's answers come from the switch's long-lived output buffer,
 * one frame after another. The tag is kept as a word, made from its bytes, so it is in the host's byte order, as the
 * words copied between views of one type are on any host. A byte store in TurboFan's code is a bounds check of each
 * side and a store (sixteen ≈ 90 instructions); the words measured ≈ 11 fewer a call in all, their views' loads and
 * checks taking the rest back (bench/README, "backReplay's MACs and tag as words"). A source the views cannot read (an
 * unaligned offset, under twelve bytes), or an `out` under sixteen bytes (whose stores past its end the general
 * form drops), takes the general form.
 */
export class TagHeadWriter {
  // Read by a caller that writes the words itself (the way-back cache: its inlining budget, see write) while
  // `frame === src` and `vlan === this.vlan`, as write does; written only here.
  /** The source {@link src32} reads (undefined: none it can read, each takes the general form). */
  src: Uint8Array | undefined;
  src32: Int32Array = new Int32Array(3);
  /** NaN: no VLAN id equals it. */
  vlan = NaN;
  tagWord = 0;
  private readonly tagBytes = new Uint8Array(4);
  private readonly tagWords = new Int32Array(this.tagBytes.buffer);

  /**
   * The sixteen bytes into `out` (`out32` its words from byte 0): the tag word made again for a new VLAN id, a view
   * made for a new aligned source, then the four words — or the general form. The way-back cache writes the words
   * itself while its source and VLAN are the kept ones (its inlining budget) and calls this otherwise.
   */
  write(out: Uint8Array, out32: Int32Array, frame: Uint8Array, vlan: number): void {
    if (vlan !== this.vlan) {
      const b = this.tagBytes;
      b[0] = 0x81;
      b[1] = 0;
      b[2] = (vlan >> 8) & 0xff;
      b[3] = vlan & 0xff;
      this.tagWord = this.tagWords[0]!;
      this.vlan = vlan;
    }
    if (frame !== this.src && (frame.byteOffset & 3) === 0 && frame.length >= 12) {
      this.src = frame;
      // Every whole word of the source, not only the MACs': the way-back cache copies a short answer through it.
      this.src32 = new Int32Array(frame.buffer, frame.byteOffset, frame.length >> 2);
    }
    if (frame !== this.src || out.length < 16) return tagHead(out, frame, vlan);
    const f = this.src32;
    out32[0] = f[0]!;
    out32[1] = f[1]!;
    out32[2] = f[2]!;
    out32[3] = this.tagWord;
  }
}
