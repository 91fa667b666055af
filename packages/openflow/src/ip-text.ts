import { parseIPv4, parseIPv6 } from '@vippath/wire';

/** The family of an address given as text (throws the wire package's AddressFormatError if it is neither). */
export function parseIp(text: string): 4 | 6 {
  if (text.includes(':')) {
    parseIPv6(text);
    return 6;
  }
  parseIPv4(text);
  return 4;
}
