/** Captures built in memory for the hostile-input tests: frames the default scenario's client sends. */
import { DEFAULT_CLUSTER, defaultObjects, frameFromDescription, SimulatedCluster } from '@vippath/cluster';
import { memorySink, PcapWriter } from '@vippath/pcap';

const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);

/** A TCP SYN from the client to the VIP, source port `sport`. */
export function synFrame(sport = 40000, dport = 80): Uint8Array {
  return frameFromDescription(`tcp,sport=${sport},dport=${dport},flags=S`, sim);
}

/** A classic pcap with one frame per timestamp (seconds since the epoch, may be fractional). */
export function pcapAt(seconds: number[], frame: (i: number) => Uint8Array = () => synFrame()): Uint8Array {
  const sink = memorySink();
  const w = new PcapWriter(sink);
  seconds.forEach((s, i) => w.write({ timestamp: BigInt(Math.round(s * 1e6)) * 1000n, data: frame(i) }));
  return sink.bytes();
}

/** An async iterable of one buffer, for replayCapture. */
export async function* bytesSource(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
