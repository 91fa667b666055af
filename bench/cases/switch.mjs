// The OVN switch alone, as the cluster runs it on one node (bench/switch-workload.mjs): the default scenario's
// LogicalSwitch (northd's flows, the executor with its megaflow cache, OvsConntrack) on node3.
//   switch-new: every frame a SYN of a new connection from the localnet port to the VIP (conntrack emptied per run);
//   switch-est: pure ACKs of 10 000 established load-balanced connections (handshakes made in setup);
//   switch-hfloor: switch-est's ACKs through the two hinted ct() calls alone (bench/switch-floor.mjs), for profiles.
import { fileURLToPath } from 'node:url';
import { CHASSIS, estWorkload, loadSwitch, newWorkload, NEW_FRAMES } from '../switch-workload.mjs';
import { floorHintedWorkload } from '../switch-floor.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

export default [
  {
    name: 'switch-new',
    frames: NEW_FRAMES,
    setup: async ({ frames }) => ({ w: newWorkload(await loadSwitch(root), Math.min(frames, NEW_FRAMES)) }),
    run: ({ w }) => w.run(),
  },
  {
    name: 'switch-est',
    setup: async ({ frames }) => {
      const sw = await loadSwitch(root);
      return { sw, frames, w: estWorkload(sw) };
    },
    run: ({ w, frames }) => w.run(frames),
    extra: ({ sw }) => (sw.logicalFlows ? { megaflows: sw.ls.megaflowStats(CHASSIS) } : {}),
  },
  {
    name: 'switch-hfloor',
    setup: async ({ frames }) => {
      const sw = await loadSwitch(root);
      return { frames, w: await floorHintedWorkload(sw, estWorkload(sw), root) };
    },
    run: ({ w, frames }) => w.run(frames),
  },
];
