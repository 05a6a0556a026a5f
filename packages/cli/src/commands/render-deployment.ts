import { buildDeployment } from "@ondemand-eks/core";
import { bundledLibraryDir, loadPodLibrary } from "@ondemand-eks/pod-library";
import type { CliIo } from "../io.js";
import { formatManifest, type OutputFormat } from "../output.js";
import { loadCliSettings, type SettingsFlags } from "../settings.js";

export interface RenderDeploymentFlags extends SettingsFlags {
  readonly output: OutputFormat;
}

/** `ondemand-eks render-deployment NAME`: the Deployment of a long-polling definition. */
export async function renderDeployment(
  name: string,
  flags: RenderDeploymentFlags,
  io: CliIo,
): Promise<number> {
  const { settings, library } = await loadCliSettings(flags, io);
  const pods = await loadPodLibrary(library ?? bundledLibraryDir());
  io.stdout(
    formatManifest(buildDeployment({ definition: pods.get(name), settings }), flags.output),
  );
  return 0;
}
