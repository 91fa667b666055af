/**
 * br-provider flows as a snapshot holds them (`ovs-ofctl dump-flows --names`: quoted names, names cut to 15
 * characters, durations and counters, `reset_counts`, the node's own port numbers) made into flows the testbed's
 * `ovs-ofctl replace-flows` takes: parsed with the snapshot's ports (`br-provider.ports`), each port put on the
 * testbed's port of the same role (the uplink `underlay0.<vlan>`, the patch port to br-int, LOCAL), printed as
 * numbers without statistics (and without `table=0`, which ovs-ofctl replace-flows cannot use on OpenFlow 1.0).
 */
import { Port, formatFlow, parseFlows, resolvePortName, Slot, type Action, type Flow } from '@vippath/openflow';
import { TestbedError } from './daemons.js';

/** What a port is, on both sides. */
export interface ProviderPortRoles {
  /** The uplink's name on the node (`underlay0.341`) and the testbed's ofport for it. */
  uplink: { name: string; ofport: number };
  /** The patch port to br-int (`patch-localnet.<subnet>-to-br-int`) and the testbed's ofport for it. */
  patch: { name: string; ofport: number };
}

/**
 * The snapshot's flow lines for the testbed's bridge. A port in the flows that is neither the uplink nor the patch
 * port (nor a reserved one) has no counterpart in the testbed: a {@link TestbedError} naming it.
 */
export function testbedProviderFlows(lines: readonly string[], ports: ReadonlyArray<{ name: string; ofport: number }>, roles: ProviderPortRoles): string[] {
  const byName = new Map(ports.map((p) => [p.name, p.ofport]));
  const map = new Map<number, number>();
  const theirs = (name: string): number | undefined => resolvePortName(name, byName);
  const up = theirs(roles.uplink.name);
  const patch = theirs(roles.patch.name);
  if (up !== undefined) map.set(up, roles.uplink.ofport);
  if (patch !== undefined) map.set(patch, roles.patch.ofport);
  const port = (n: number, f: Flow): number => {
    if (n >= 0xff00) return n;
    const m = map.get(n);
    if (m === undefined) throw new TestbedError(`br-provider flow at line ${f.line} uses port ${ports.find((p) => p.ofport === n)?.name ?? n} (ofport ${n}), which is neither ${roles.uplink.name} nor ${roles.patch.name}: the testbed has no such port`);
    return m;
  };
  const flows = parseFlows(lines.join('\n'), { ports: byName });
  return flows.map((f) => {
    const match = f.match.map((m) => (m.slot === Slot.IN_PORT ? { ...m, value: port(m.value, f) } : m));
    const actions = f.actions.map((a): Action => (a.kind === 'output' ? { ...a, port: port(a.port, f) } : a.kind === 'resubmit' && a.port !== undefined && a.port !== Port.IN_PORT ? { ...a, port: port(a.port, f) } : a));
    // `table=0` spelled out asks for a flow format with table ids, which replace-flows' dump of the bridge
    // refuses ("switch does not support any of the usable flow formats"); table 0 is the default.
    return formatFlow({ ...f, match, actions }, { stats: false }).trim().replace(/^(cookie=0x[0-9a-f]+), table=0,/, '$1,');
  });
}
