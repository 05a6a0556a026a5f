#!/usr/bin/env node
// The ondemand-eks executable npm links at install time: committed, so the link exists
// in a fresh clone before anything is built. It runs the build, dist/bin.js.
import { existsSync } from "node:fs";

const built = new URL("../dist/bin.js", import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write(
    `ondemand-eks: ${built.pathname} is missing: run "npm run build" in the repository first\n`,
  );
  process.exitCode = 1;
}
