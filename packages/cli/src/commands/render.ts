import { renderEvent } from "@ondemand-eks/core";
import { bundledLibraryDir, loadPodLibrary } from "@ondemand-eks/pod-library";
import type { CliIo } from "../io.js";
import { formatManifest, type OutputFormat } from "../output.js";
import { readEvent } from "../read-event.js";
import { loadCliSettings, type SettingsFlags } from "../settings.js";

export interface RenderFlags extends SettingsFlags {
  readonly event: string;
  readonly output: OutputFormat;
}

/**
 * `ondemand-eks render`: prints the Job that would be submitted for an event. An event
 * that is not for us prints nothing on stdout and its reason on stderr, and succeeds.
 */
export async function render(flags: RenderFlags, io: CliIo): Promise<number> {
  const { settings, library } = await loadCliSettings(flags, io);
  const event = await readEvent(flags.event, io);
  const pods = await loadPodLibrary(library ?? bundledLibraryDir());
  const rendered = renderEvent(event, { settings, lookup: (name) => pods.get(name) });
  if (rendered.kind === "ignored") {
    io.stderr(`ondemand-eks: not for us: ${rendered.reason}\n`);
    return 0;
  }
  io.stdout(formatManifest(rendered.manifest, flags.output));
  return 0;
}
