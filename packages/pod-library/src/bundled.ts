import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The directory of the pod library that ships with ondemand-eks: `pods/` inside this
 * package once built and published, or the repository's `pods/` when running from a
 * checkout. Returns the first that exists.
 */
export function bundledLibraryDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "..", "pods"), join(here, "..", "..", "..", "pods")];
  return (
    candidates.find((dir) => existsSync(join(dir, "default.yaml"))) ?? (candidates[0] as string)
  );
}
