import { buildDeployment } from "@ondemand-eks/core";
import { createScheduler } from "@ondemand-eks/runtime";
import type { CliIo } from "../io.js";
import { formatManifest, type OutputFormat } from "../output.js";
import { type CommandFlags, loadCliConfig } from "../settings.js";

export interface RenderDeploymentFlags extends CommandFlags {
  readonly output: OutputFormat;
}

/** `ondemand-eks render-deployment NAME`: the Deployment of a long-polling definition. */
export async function renderDeployment(
  name: string,
  flags: RenderDeploymentFlags,
  io: CliIo,
): Promise<number> {
  const { scheduler: config } = await loadCliConfig("render-deployment", flags, io);
  const pods = await (await createScheduler(config, { env: io.env })).library();
  io.stdout(
    formatManifest(
      buildDeployment({ definition: pods.get(name), settings: config.settings }),
      flags.output,
    ),
  );
  return 0;
}
