/**
 * `@ondemand-eks/core/config`: every setting declared once, with its flag, environment
 * variables, config-file key, description, default and parser; one loader that reads
 * them from every source and reports every problem with where it came from.
 *
 * @module
 */
export { type LoadedSettings, type LoadResult, loadSettings, type SettingSources } from "./load.js";
export { settingsMarkdown } from "./markdown.js";
export {
  boolean,
  httpUrl,
  list,
  oneOf,
  type Parsed,
  type Parser,
  secondsAsMs,
  text,
  wholeNumber,
} from "./parsers.js";
export { SCHEDULER_SETTINGS, schedulerSettingsFrom } from "./scheduler-settings.js";
export {
  defaultOf,
  describeDefault,
  SCOPES,
  type Scope,
  type Setting,
  setting,
} from "./table.js";
