import type { LogFields, Logger } from "@ondemand-eks/core";
import type { LogLevel } from "./settings.js";

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  /** Least severe level written. Default info. */
  readonly level?: LogLevel;
  /** Writes one line (without its newline). Default: standard output. */
  readonly write?: (line: string) => void;
  /** Fields on every line. */
  readonly base?: LogFields;
  /** For tests: the clock of the `time` field. */
  readonly now?: () => Date;
}

/**
 * The one logger of every runtime: a JSON object per line on standard output (which
 * Lambda sends to CloudWatch Logs, and Kubernetes to its log pipeline), with `time`,
 * `level` and `msg` first. Logging never throws: a value that cannot be serialised is
 * replaced by a note, and a failing `write` is ignored.
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

  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (RANK[level] < threshold) return;
      try {
        write(line({ time: now().toISOString(), level, msg, ...base, ...fields }));
      } catch {
        // Logging must never be what fails an event.
      }
    };
    return {
      debug: (msg, fields) => emit("debug", msg, fields),
      info: (msg, fields) => emit("info", msg, fields),
      warn: (msg, fields) => emit("warn", msg, fields),
      error: (msg, fields) => emit("error", msg, fields),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(options.base ?? {});
}

/** A line; a field that cannot be serialised (a cycle, a BigInt) is said, not thrown. */
function line(entry: Record<string, unknown>): string {
  try {
    return JSON.stringify(entry);
  } catch (error) {
    const { time, level, msg } = entry;
    return JSON.stringify({ time, level, msg, logError: (error as Error).message });
  }
}

/** A logger that writes nothing: for embedders that log outcomes themselves. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
