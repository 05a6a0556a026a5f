import { type RenderedEvent, renderEvent } from "@ondemand-eks/core";
import { bundledLibraryDir, loadPodLibrary } from "@ondemand-eks/pod-library";
import type { CliIo } from "./io.js";
import { readEvent } from "./read-event.js";
import { loadCliSettings, type SettingsFlags } from "./settings.js";

/** The settings, the event file and the pod library the flags name, rendered. */
export async function renderFromFlags(
  flags: SettingsFlags & { readonly event: string },
  io: CliIo,
): Promise<RenderedEvent> {
  const { settings, library } = await loadCliSettings(flags, io);
  const event = await readEvent(flags.event, io);
  const pods = await loadPodLibrary(library ?? bundledLibraryDir());
  return renderEvent(event, { settings, lookup: (name) => pods.get(name) });
}
