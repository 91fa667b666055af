import { VippathError } from '@vippath/wire';
import { decodeCapture, formatSummary } from '../decode.js';
import { parseArgs, UsageError, type Command } from '../io.js';

/** `vippath pcap FILE [--json] [--skip-errors]`: decode a capture. */
export const pcapCommand: Command = {
  name: 'pcap',
  summary: 'decode a pcap or pcapng capture (one line, or one JSON object, per frame)',
  usage: `usage: vippath pcap FILE [--json] [--skip-errors]

Decodes every frame of FILE (pcap or pcapng; "-" reads standard input).
  --json         one JSON object per frame: index, timestamp (ns since the epoch, as a string),
                 interface, linktype, captureLength, originalLength, and layers named and
                 formatted as tshark -T fields prints them (eth.src, vlan.id, ip.src, tcp.flags, …);
                 malformed frames carry an "error" with layer, offset and reason
  --skip-errors  step over corrupt records that can be skipped, and count them, instead of stopping`,
  async run(args, io) {
    const { flags, positionals } = parseArgs(args, { flags: ['--json', '--skip-errors'] });
    if (positionals.length !== 1) throw new UsageError(positionals.length ? 'give exactly one capture file' : 'missing the capture FILE (use - for standard input)');
    const json = flags.has('--json');
    const capture = decodeCapture(positionals[0]!, { onError: flags.has('--skip-errors') ? 'skip' : 'stop' });
    let first: bigint | undefined;
    let frames = 0;
    let malformed = 0;
    const protocols = new Map<string, number>();
    try {
      for await (const rec of capture) {
        frames++;
        if (rec.error) malformed++;
        if (json) {
          io.stdout(`${JSON.stringify(rec)}\n`);
          continue;
        }
        first ??= BigInt(rec.timestamp);
        io.stdout(`${formatSummary(rec, first)}\n`);
        const l = rec.layers;
        const proto = l['arp.opcode'] ? 'ARP' : l['tcp.srcport'] ? 'TCP' : l['udp.srcport'] ? 'UDP' : l['icmp.type'] ? 'ICMP' : l['icmpv6.type'] ? 'ICMPv6' : 'other';
        protocols.set(proto, (protocols.get(proto) ?? 0) + 1);
      }
    } catch (e) {
      if (e instanceof VippathError) {
        io.stderr(`vippath pcap: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    if (!json) {
      const stats = capture.reader.stats;
      const skipped = Object.entries(stats.skipped).map(([k, v]) => `${k} ${v}`).join(', ');
      io.stdout(`\n${frames} frames (${[...protocols].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}) in ${capture.reader.format ?? 'an empty'} capture` +
        `${malformed ? `; ${malformed} malformed` : ''}${skipped ? `; skipped records: ${skipped}` : ''}\n`);
    }
    return 0;
  },
};
