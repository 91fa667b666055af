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
