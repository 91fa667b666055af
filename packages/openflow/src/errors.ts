import { VippathError } from '@vippath/wire';

/** Flow text vippath cannot parse: `line` and `column` are 1-based positions in the text given. */
export class FlowParseError extends VippathError {
  readonly line: number;
  readonly column: number;
  constructor(line: number, column: number, message: string) {
    super('BAD_FLOW', `line ${line}, column ${column}: ${message}`);
    this.line = line;
    this.column = column;
  }
}
