import { type RenderedEvent, renderEvent } from "@ondemand-eks/core";
import { createScheduler } from "@ondemand-eks/runtime";
import type { CliIo } from "./io.js";
import { readEvent } from "./read-event.js";
import { type CommandFlags, loadCliConfig } from "./settings.js";

/** The event file the flags name, rendered with their settings and pod library. */
export async function renderFromFlags(
  flags: CommandFlags & { readonly event: string },
  io: CliIo,
): Promise<RenderedEvent> {
  const { scheduler: config } = await loadCliConfig("render", flags, io);
  const event = await readEvent(flags.event, io);
  const scheduler = await createScheduler(config, { env: io.env });
  const pods = await scheduler.library();
  return renderEvent(event, { settings: config.settings, lookup: (name) => pods.get(name) });
}
