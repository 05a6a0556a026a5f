/**
 * `@ondemand-eks/cli`: the `ondemand-eks` command, and `run()` to embed it or test it
 * in-process with your own I/O.
 *
 * @module
 */
export { describeError } from "./errors.js";
export { type CliIo, processIo } from "./io.js";
export { run } from "./main.js";
export {
  type CliSettings,
  loadCliSettings,
  SETTING_SOURCES,
  type SettingsFlags,
} from "./settings.js";
