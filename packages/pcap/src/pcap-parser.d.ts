// Types for the parts of `pcap-parser` (no bundled types) that vippath's tests and bench use.
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';
  import type { Readable } from 'node:stream';
  export interface PcapParserPacket {
    header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
    data: Buffer;
  }
  export function parse(input: string | Readable): EventEmitter;
}
