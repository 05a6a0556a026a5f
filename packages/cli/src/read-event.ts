import { InvalidEventError } from "@ondemand-eks/core";
import type { CliIo } from "./io.js";

/** Largest event we read: a Buildkite event is a few kilobytes. */
export const MAX_EVENT_BYTES = 1024 * 1024;

/** Reads and JSON-parses an event from a file, or standard input for `-`. */
export async function readEvent(source: string, io: CliIo): Promise<unknown> {
  const label = source === "-" ? "standard input" : source;
  let text: string;
  try {
    text =
      source === "-"
        ? await io.readStdin(MAX_EVENT_BYTES)
        : await io.readFile(source, MAX_EVENT_BYTES);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : (error as Error).message;
    throw new InvalidEventError([
      { path: "", message: `event ${label}: cannot read it: ${reason}` },
    ]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidEventError([
      { path: "", message: `event ${label}: not valid JSON (${(error as Error).message})` },
    ]);
  }
}
