import {
  bundledLibraryDir,
  checkPodLibrary,
  formatProblem,
  loadPodLibrary,
} from "@ondemand-eks/pod-library";
import type { CliIo } from "../io.js";
import { loadCliSettings, type SettingsFlags } from "../settings.js";

/**
 * `ondemand-eks validate`: every problem in the library, one per line on stderr, and a
 * non-zero exit if there is any. Also checks the default pod definition exists.
 */
export async function validate(flags: SettingsFlags, io: CliIo): Promise<number> {
  const { settings, library } = await loadCliSettings(flags, io);
  const directory = library ?? bundledLibraryDir();
  const problems = (await checkPodLibrary(directory)).map(formatProblem);
  if (problems.length === 0) {
    const pods = await loadPodLibrary(directory);
    if (!pods.has(settings.defaultPodDefinition)) {
      problems.push(
        `${directory}: the default pod definition "${settings.defaultPodDefinition}" is missing (add ${settings.defaultPodDefinition}.yaml or set --default-pod)`,
      );
    } else {
      io.stdout(
        `${directory}: ${pods.size} pod definitions, no problems (${pods.names().join(", ")})\n`,
      );
      return 0;
    }
  }
  for (const line of problems) io.stderr(`${line}\n`);
  io.stderr(
    `ondemand-eks: ${problems.length} problem${problems.length === 1 ? "" : "s"} in ${directory}\n`,
  );
  return 1;
}
