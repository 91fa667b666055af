/**
 * Microflows in ovn-trace's syntax (utilities/ovn-trace.c `trace_parse` → lib/expr.c `expr_parse_microflow`):
 * a match expression that determines one packet. Every `field == value` sets the field; prerequisites fill in the
 * rest (`tcp.dst == 80 && ip6.src == …` makes an IPv6 TCP packet, `nd_ns` sets ip.ttl = 255); fields nobody
 * mentions are 0.
 * @module
 */
import { lower, parseMatch, solve, type MatchEnv } from './expr.js';
import { LflowError } from './executor.js';
import { W } from './fields.js';

/** Parses a microflow for a datapath whose ports `portKey` resolves; throws {@link LflowError}. */
export function parseMicroflow(text: string, env: MatchEnv): Uint32Array {
  let low;
  try {
    low = lower(parseMatch(text), env, false, text);
  } catch (e) {
    throw new LflowError('BAD_MICROFLOW', `error parsing flow: ${e instanceof Error ? e.message : String(e)}`);
  }
  const words = new Uint32Array(W.SIZE);
  const fixed = new Uint32Array(W.SIZE);
  if (!solve(low, words, fixed, { isResident: () => true })) {
    throw new LflowError('BAD_MICROFLOW', `error parsing flow: no packet satisfies "${text}"`);
  }
  return words;
}
