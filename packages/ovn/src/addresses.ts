/**
 * IPv6 addresses as numbers, so that conntrack keys, VIP matches and backend lists stay numeric for both
 * families: each switch interns the IPv6 addresses it meets and hands out small integers. IPv4 addresses are
 * their own uint32; callers always carry the family next to the number, so the two spaces never mix.
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '@vippath/wire';

export class AddressBook {
  private readonly ids = new Map<string, number>();
  private readonly bytes: Uint8Array[] = [];

  /** The number of a 16-byte address at `offset` of `buf` (interned on first sight). */
  intern(buf: Uint8Array, offset = 0): number {
    let key = '';
    for (let i = 0; i < 16; i++) key += String.fromCharCode(buf[offset + i]!);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.bytes.length;
      this.ids.set(key, id);
      this.bytes.push(buf.slice(offset, offset + 16));
    }
    return id;
  }

  /** The 16 bytes behind an IPv6 number. */
  bytesOf(id: number): Uint8Array {
    const b = this.bytes[id];
    if (!b) throw new RangeError(`no IPv6 address ${id}`);
    return b;
  }

  /** Parses text of either family into its number (throws the wire package's AddressFormatError). */
  parse(text: string, _what = ''): number {
    return text.includes(':') ? this.intern(parseIPv6(text)) : parseIPv4(text);
  }

  /** Text of a number of the given family. */
  format(id: number, v6: boolean): string {
    return v6 ? formatIPv6(this.bytesOf(id)) : formatIPv4(id);
  }
}
