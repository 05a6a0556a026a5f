/**
 * `@ondemand-eks/cli`: the `ondemand-eks` command, and `run()` to embed it or test it
 * in-process with your own I/O.
 *
 * @module
 */

export { ALL_SETTINGS, CLI_SETTINGS } from "./cli-settings.js";
export { describeError, InputTooLargeError, UsageError } from "./errors.js";
export { EXIT, exitFor, exitForError } from "./exit.js";
export { type CliIo, processIo } from "./io.js";
export { run } from "./main.js";
export { type CommandFlags, loadCliConfig, settingOptions } from "./settings.js";
