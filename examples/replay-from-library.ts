/**
 * Replay a capture from the library: the bundled real capture through the default scenario, with the outputs
 * written next to it, and the seed document's figure-1 story read back from the summary.
 */
import { DEFAULT_CLUSTER, defaultObjects, replayCapture } from '@vippath/cluster';

export async function replayBundled(capture: string, outDir: string): Promise<{ owner: string; servedBy: string[]; clientSeen: string[]; repliesFromVip: number; repliesFromPod: number }> {
  const { summary } = await replayCapture(capture, defaultObjects(), DEFAULT_CLUSTER, { outDir });
  const vip = summary.services[0]!.ingress[0]!;
  return {
    owner: summary.services[0]!.owners[vip]![0]!,
    servedBy: Object.entries(summary.servedBy).map(([pod, s]) => `${pod}@${s.node}`),
    clientSeen: Object.values(summary.servedBy).flatMap((s) => s.clients),
    repliesFromVip: summary.toClient.tcpFromVip,
    repliesFromPod: summary.toClient.tcpFromPodIp,
  };
}
