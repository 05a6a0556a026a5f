import type { LogFields, Logger } from "@ondemand-eks/core";
import type { LogLevel } from "./settings.js";

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys every line has first, which fields cannot overwrite. */
const RESERVED = new Set(["time", "level", "msg"]);
/** Field names that smell of a credential: written as `[redacted]`, whatever the value. */
const SECRET_NAME = /token|secret|passw|authori[sz]ation|cookie|credential|api[-_]?key/i;
/** Longest string written; a longer one (a pasted blob in a reason) is cut. */
const MAX_STRING = 1_024;

export interface LoggerOptions {
  /** Least severe level written. Default info. */
  readonly level?: LogLevel;
  /** Writes one line (without its newline). Default: standard output, synchronously. */
  readonly write?: (line: string) => void;
  /** Fields on every line. */
  readonly base?: LogFields;
  /** For tests: the clock of the `time` field. */
  readonly now?: () => Date;
}

const cut = (text: string) => (text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}...` : text);

/**
 * Copies loggable fields into `line`: scalars as they are, an Error as its name and
 * message, anything else (an object, a body passed by mistake) as its type only.
 */
function addFields(line: Record<string, unknown>, fields: LogFields | undefined): void {
  if (!fields) return;
  for (const [key, value] of Object.entries(fields)) {
    if (RESERVED.has(key) || value === undefined) continue;
    if (SECRET_NAME.test(key)) line[key] = "[redacted]";
    else if (typeof value === "string") line[key] = cut(value);
    else if (typeof value === "number") line[key] = Number.isFinite(value) ? value : String(value);
    else if (typeof value === "boolean" || value === null) line[key] = value;
    else if (value instanceof Error) line[key] = cut(`${value.name}: ${value.message}`);
    else line[key] = `[${typeof value}]`;
  }
}

/**
 * The one logger of every runtime: a JSON object per line (`time`, `level`, `msg`, then
 * fields) on standard output, which Lambda sends to CloudWatch Logs and Kubernetes to
 * its log pipeline. Written synchronously, so nothing waits in a buffer when Lambda
 * freezes an instance. Fields are scalars: a request body or a manifest cannot end up in
 * a log line, and a field named like a credential is redacted. Logging never throws.
 *
 * Chosen over pino and Powertools Logger by measurement (docs/architecture.md).
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "info" }).child({ messageId: record.messageId });
 * log.info("event", { outcome: "created", job });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());

  const make = (base: Record<string, unknown>): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (RANK[level] < threshold) return;
      try {
        const line: Record<string, unknown> = { time: now().toISOString(), level, msg: cut(msg) };
        Object.assign(line, base);
        addFields(line, fields);
        write(JSON.stringify(line));
      } catch {
        // Logging must never be what fails an event.
      }
    };
    return {
      debug: (msg, fields) => emit("debug", msg, fields),
      info: (msg, fields) => emit("info", msg, fields),
      warn: (msg, fields) => emit("warn", msg, fields),
      error: (msg, fields) => emit("error", msg, fields),
      child: (fields) => {
        const merged = { ...base };
        try {
          addFields(merged, fields);
        } catch {
          // A field that cannot be read (a throwing getter) is left out: a child never throws.
        }
        return make(merged);
      },
    };
  };
  const base: Record<string, unknown> = {};
  addFields(base, options.base);
  return make(base);
}

/** A logger that writes nothing: for embedders that report outcomes themselves. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
