#!/usr/bin/env node
import { downShared, upShared } from "./shared.js";

/**
 * `npm run testenv:up` / `npm run testenv:down`: the long-lived local control plane in
 * .testenv/, for trying things by hand and for `npm start`.
 */
const log = (line: string) => process.stderr.write(`testenv: ${line}\n`);

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case "up": {
      const state = await upShared(log);
      process.stdout.write(
        [
          `Kubernetes API server: ${state.server}`,
          `kubeconfig:            ${state.kubeconfig}`,
          `Try: kubectl --kubeconfig ${state.kubeconfig} get namespaces`,
          "Stop it with: npm run testenv:down",
          "",
        ].join("\n"),
      );
      return 0;
    }
    case "down":
      await downShared(log);
      return 0;
    default:
      process.stderr.write("usage: testenv up|down\n");
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
