/**
 * fast-check arbitraries of a frame's addresses and ports, as buildFrame's FrameSpec spells them (text MACs and IPv4
 * addresses): shared by the frame read-back and frame write properties (frame-sync.test.ts, store-frame.test.ts).
 */
import fc from 'fast-check';

/** Any MAC address, as `aa:bb:cc:dd:ee:ff`. */
export const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));
/** Any IPv4 address, dotted. */
export const ip4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => b.join('.'));
/** Any TCP/UDP port, 0 included. */
export const port = fc.integer({ min: 0, max: 0xffff });
/** A frame's Ethernet and IPv4 header fields (an optional VLAN tag, any TTL and TOS), to spread into an fc.record. */
export const headerFields = {
  dst: mac,
  src: mac,
  vlan: fc.option(fc.integer({ min: 1, max: 4094 }), { nil: undefined }),
  ipSrc: ip4,
  ipDst: ip4,
  ttl: fc.integer({ min: 0, max: 255 }),
  tos: fc.integer({ min: 0, max: 255 }),
};
