/**
 * Port names as `ovs-ofctl` prints them. With `--names` (and on a terminal, where it is the default) it prints
 * port names instead of numbers, in double quotes when they hold anything but letters, digits, `-`, `_` and `.`
 * (lib/ofp-port.c ofputil_port_to_string → ds_put_cstr_quoted / json string escapes); and the names it knows come
 * from the OpenFlow port description, whose name field is 16 bytes (OFP_MAX_PORT_NAME_LEN, NUL included): a
 * longer port name such as `patch-localnet.underlay-subnet-to-br-int` comes out cut to 15 characters,
 * `patch-localnet.`. Checked against ovs-ofctl 3.1 (test/fixtures/ovs-text, scripts/ovs-text-fixtures.sh).
 */
import { VippathError } from '@vippath/wire';

/** The longest port name OpenFlow carries (OFP_MAX_PORT_NAME_LEN − 1). */
export const OFP_PORT_NAME_MAX = 15;

/** `"name"` → `name` (JSON-style escapes undone); anything else as given. */
export function unquotePortName(text: string): string {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    try {
      return JSON.parse(t) as string;
    } catch {
      return t.slice(1, -1);
    }
  }
  return t;
}

/**
 * The ofport of a port name from flow text: exact, else — for a name cut to 15 characters by OpenFlow — the one
 * port whose name it begins (or, for a port list itself cut, the one cut name a full name begins with).
 * `undefined` when nothing matches; a {@link VippathError} `AMBIGUOUS_PORT` when the cut name fits several ports.
 */
export function resolvePortName(text: string, ports: ReadonlyMap<string, number> | undefined): number | undefined {
  if (!ports) return undefined;
  const name = unquotePortName(text);
  const exact = ports.get(name);
  if (exact !== undefined) return exact;
  const found = new Set<number>();
  const names: string[] = [];
  for (const [n, ofport] of ports) {
    if ((name.length === OFP_PORT_NAME_MAX && n.length > name.length && n.startsWith(name)) || (n.length === OFP_PORT_NAME_MAX && name.length > n.length && name.startsWith(n))) {
      found.add(ofport);
      names.push(n);
    }
  }
  if (found.size > 1) throw new VippathError('AMBIGUOUS_PORT', `port name "${name}" (cut to ${OFP_PORT_NAME_MAX} characters by OpenFlow) fits ${names.join(', ')}: give --ports with numbers`);
  return found.size === 1 ? [...found][0] : undefined;
}

/**
 * The ports of `ovs-ofctl show BRIDGE` text (any OpenFlow version): ` 1(underlay0.341): addr:…` lines, LOCAL left
 * out (it is always there). Names are as printed (so possibly cut to 15 characters).
 */
export function parseShowPorts(text: string): Array<{ name: string; ofport: number }> {
  const out: Array<{ name: string; ofport: number }> = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(\d+)\((.*)\): addr:/.exec(line);
    if (m) out.push({ name: m[2]!, ofport: Number(m[1]) });
  }
  return out;
}
