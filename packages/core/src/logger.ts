/**
 * The logger every runtime hands to adapters and library sources: levels, structured
 * fields, and children carrying correlation fields (job uuid, SQS message id, Lambda
 * request id, webhook request id). Only the type lives in the core; the runtime
 * implements it.
 */

/** Fields of one log line. Never a request body, a token or a credential. */
export type LogFields = Readonly<Record<string, unknown>>;

/** A structured logger. Its methods never throw. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose every line also carries `fields`. */
  child(fields: LogFields): Logger;
}
