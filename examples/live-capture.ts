/**
 * Live capture with `cap` (the optional native addon): frames seen on a real interface go straight into the
 * simulated cluster as if they came from the outside — point it at the interface facing your client and watch
 * what the default scenario would do with each frame. Needs libpcap and the privilege to capture.
 */
import { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster, describeFrame } from '@vippath/cluster';
import { openLive } from '@vippath/pcap';
import { pushVlan } from '@vippath/wire';

/**
 * `accessVlan`: the interface is an access port (the client's frames arrive untagged); tag them with this VLAN,
 * as the switch does when it forwards them onto the nodes' trunk.
 */
export async function watchLive(device: string, options: { frames: number; timeoutMs: number; accessVlan?: number }): Promise<Array<{ flow: string; verdict: string }>> {
  const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
  const live = openLive({ device, snaplen: 2048 });
  const seen: Array<{ flow: string; verdict: string }> = [];
  const start = Date.now();
  const timer = setTimeout(() => live.close(), options.timeoutMs);
  try {
    for await (const rec of live) {
      if (rec.linktype !== 1) continue;
      let frame = rec.data;
      if (options.accessVlan !== undefined) {
        frame = new Uint8Array(rec.data.length + 4);
        frame.set(rec.data);
        frame = frame.subarray(0, pushVlan(frame, rec.data.length, options.accessVlan));
      }
      // Wall-clock time since the start is the simulated time: MetalLB's gratuitous ARP runs as it would.
      seen.push({ flow: describeFrame(frame), verdict: sim.process(frame, frame.length, Date.now() - start) });
      if (seen.length >= options.frames) break;
    }
  } finally {
    clearTimeout(timer);
    live.close();
  }
  return seen;
}
