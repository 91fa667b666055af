#!/usr/bin/env node
// Inserts 802.1Q (and optionally an outer 802.1ad/802.1Q) tags after the MAC addresses of every frame
// of a classic pcap (either byte order, µs or ns), writing a new pcap. Used by make-fixtures.sh because
// the kernel here has no VLAN devices. No dependencies on purpose: it must be trivially auditable.
//   node scripts/tag-vlan.mjs --vid 341 [--outer-vid 100 --outer-tpid 0x88a8] in.pcap out.pcap
import { readFileSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const [v] = args.splice(i, 2).slice(1);
  return v;
};
const vid = Number(opt('--vid', '341'));
const outerVid = opt('--outer-vid', undefined);
const outerTpid = Number(opt('--outer-tpid', '0x88a8'));
const [input, output] = args;
if (!input || !output || !(vid >= 0 && vid < 4096)) {
  console.error('usage: tag-vlan.mjs --vid N [--outer-vid N --outer-tpid 0x88a8] in.pcap out.pcap');
  process.exit(2);
}
const tags = [];
if (outerVid !== undefined) tags.push([outerTpid, Number(outerVid)]);
tags.push([0x8100, vid]);

const inb = readFileSync(input);
const magic = inb.readUInt32LE(0);
const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
if (!le && inb.readUInt32BE(0) !== 0xa1b2c3d4 && inb.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${input}: not a classic pcap`);
const u32 = (at) => (le ? inb.readUInt32LE(at) : inb.readUInt32BE(at));
if ((u32(20) & 0xffff) !== 1) throw new Error(`${input}: linktype ${u32(20)} is not Ethernet`);
const parts = [inb.subarray(0, 24)];
for (let at = 24; at < inb.length; ) {
  const caplen = u32(at + 8);
  const orig = u32(at + 12);
  const frame = inb.subarray(at + 16, at + 16 + caplen);
  const hdr = Buffer.from(inb.subarray(at, at + 16));
  const add = 4 * tags.length;
  if (le) {
    hdr.writeUInt32LE(caplen + add, 8);
    hdr.writeUInt32LE(orig + add, 12);
  } else {
    hdr.writeUInt32BE(caplen + add, 8);
    hdr.writeUInt32BE(orig + add, 12);
  }
  const tagBytes = Buffer.alloc(add);
  tags.forEach(([tpid, v], i) => {
    tagBytes.writeUInt16BE(tpid, 4 * i);
    tagBytes.writeUInt16BE(v & 0xfff, 4 * i + 2);
  });
  parts.push(hdr, frame.subarray(0, 12), tagBytes, frame.subarray(12));
  at += 16 + caplen;
}
writeFileSync(output, Buffer.concat(parts));
