/**
 * One base class for every error vippath throws on purpose, so callers can
 * tell "your input is wrong" from "vippath has a bug" with one `instanceof`.
 * `code` is stable across releases: match on it, not on `message`.
 */
export class VippathError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The protocol layer a frame was being read at when it turned out malformed. */
export type Layer = 'ethernet' | 'vlan' | 'arp' | 'ipv4' | 'ipv6' | 'icmpv4' | 'icmpv6' | 'ndp' | 'tcp' | 'udp';

/**
 * A frame whose bytes do not hold what their headers claim (too short, bad length field, wrong version…).
 * `offset` is counted from the first byte of the frame (or of the buffer handed to the parser).
 */
export class MalformedFrameError extends VippathError {
  readonly layer: Layer;
  readonly offset: number;
  readonly reason: string;
  constructor(layer: Layer, offset: number, reason: string) {
    super('MALFORMED_FRAME', `malformed ${layer} at byte ${offset}: ${reason}`);
    this.layer = layer;
    this.offset = offset;
    this.reason = reason;
  }
}

/** Throws {@link MalformedFrameError} unless `need` bytes are available at `offset` before `end`. */
export function ensureBytes(layer: Layer, offset: number, need: number, end: number, what: string): void {
  if (offset + need > end) {
    throw new MalformedFrameError(layer, offset, `${what} needs ${need} bytes, ${Math.max(0, end - offset)} available`);
  }
}

/**
 * An argument outside what the API accepts (a time that is not a finite number, a port above 65535…), refused
 * at the boundary so it never reaches state it would poison. `argument` names the parameter.
 */
export class InvalidArgumentError extends VippathError {
  readonly argument: string;
  constructor(argument: string, message: string) {
    super('INVALID_ARGUMENT', `${argument}: ${message}`);
    this.argument = argument;
  }
}

/**
 * Simulated time as the API takes it: ms from 0 up to 2^53 (a `NaN` or `Infinity` would make every later
 * comparison false and stall or poison the schedule). Throws {@link InvalidArgumentError}.
 */
export function checkTime(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= Number.MAX_SAFE_INTEGER)) {
    throw new InvalidArgumentError(argument, `a simulated time is a finite number of ms from 0 to 2^53, not ${typeof value === 'number' ? String(value) : typeof value}`);
  }
  return value;
}
