import type { CliIo } from "../io.js";
import { formatManifest, type OutputFormat } from "../output.js";
import { renderFromFlags } from "../render-input.js";
import type { CommandFlags } from "../settings.js";

export interface RenderFlags extends CommandFlags {
  readonly event: string;
  readonly output: OutputFormat;
}

/**
 * `ondemand-eks render`: prints the Job that would be submitted for an event. An event
 * that is not for us prints nothing on stdout and its reason on stderr, and succeeds.
 */
export async function render(flags: RenderFlags, io: CliIo): Promise<number> {
  const rendered = await renderFromFlags(flags, io);
  if (rendered.kind === "ignored") {
    io.stderr(`ondemand-eks: not for us: ${rendered.reason}\n`);
    return 0;
  }
  io.stdout(formatManifest(rendered.manifest, flags.output));
  return 0;
}
