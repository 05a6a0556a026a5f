#!/usr/bin/env node
import { processIo } from "./io.js";
import { run } from "./main.js";

// A reader that stops early (`ondemand-eks render ... | head`) closes our stdout: that
// is the reader's choice, not a failure, so end quietly instead of with a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

run(process.argv.slice(2), processIo()).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(
      `ondemand-eks: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
