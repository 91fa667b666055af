import { VippathError } from '@vippath/wire';

/** Codes of {@link PcapFormatError}: one per way a capture file can be wrong. */
export type PcapErrorCode =
  | 'BAD_MAGIC'
  | 'TRUNCATED_HEADER'
  | 'RECORD_TOO_LARGE'
  | 'CAPLEN_EXCEEDS_SNAPLEN'
  | 'CAPLEN_EXCEEDS_ORIGLEN'
  | 'BLOCK_LENGTH'
  | 'BLOCK_LENGTH_MISMATCH'
  | 'UNKNOWN_INTERFACE'
  | 'UNSUPPORTED_LINKTYPE'
  | 'UNSUPPORTED_VERSION'
  | 'BAD_OPTION';

/** A capture file that is not what its headers say. `offset` is the file offset of the bad structure. */
export class PcapFormatError extends VippathError {
  readonly offset: number;
  constructor(code: PcapErrorCode, offset: number, message: string) {
    super(code, `${message} (at file offset ${offset})`);
    this.offset = offset;
  }
}

/** The capture ended in the middle of a header or record; every complete record before it was delivered. */
export class TruncatedCaptureError extends VippathError {
  readonly offset: number;
  /** Records delivered before the cut. */
  readonly records: number;
  constructor(offset: number, records: number, what: string) {
    super('TRUNCATED_CAPTURE', `capture ends in the middle of ${what} at file offset ${offset}, after ${records} complete records`);
    this.offset = offset;
    this.records = records;
  }
}

/** A capture source that cannot be read at all (no such file, not a stream). */
export class CaptureReadError extends VippathError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CAPTURE_READ', message, options);
  }
}

/** Live capture was asked for but cannot be started. */
export class LiveCaptureError extends VippathError {
  constructor(code: 'LIVE_UNAVAILABLE' | 'LIVE_OPEN', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
