/**
 * `@ondemand-eks/pod-library`: pod definitions written in YAML, loaded from a directory,
 * validated all at once, `extends` resolved, and looked up by name. A library kept in S3
 * is `@ondemand-eks/pod-library/s3`.
 *
 * @module
 */
export { bundledLibraryDir } from "./bundled.js";
export {
  formatProblem,
  type LibraryProblem,
  PodLibraryError,
  PodLibraryUnavailableError,
} from "./errors.js";
export { buildPodLibrary, PodLibrary } from "./library.js";
export { checkPodLibrary, loadPodLibrary } from "./load.js";
export { mergeDefinitions, mergeValues } from "./merge.js";
export {
  type DefinitionFile,
  MAX_DEFINITION_BYTES,
  parseDefinitionText,
  readDefinitionFiles,
} from "./read-definitions.js";
export type { PodLibrarySource } from "./source.js";
