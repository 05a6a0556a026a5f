import type { LogFields, Logger } from "@ondemand-eks/core";

/** One line a {@link recordingLogger} kept. */
export interface LoggedLine {
  readonly level: string;
  readonly msg: string;
  readonly fields?: LogFields;
}

/** A logger that keeps its lines, to check what was said and at which level. */
export function recordingLogger(): Logger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: LogFields): void =>
      void lines.push({ level, msg, ...(fields ? { fields } : {}) });
  const logger = {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => logger,
  };
  return logger;
}
