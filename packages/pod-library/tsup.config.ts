import { cp, rm } from "node:fs/promises";
import { defineConfig } from "tsup";
import { libraryBuild } from "../../tsup.shared.js";

export default defineConfig({
  ...libraryBuild,
  // The S3 library is a subpath of its own: the AWS SDK stays out of the main entry.
  entry: ["src/index.ts", "src/s3/index.ts"],
  // The bundled library ships inside the package, copied from the repository's pods/.
  async onSuccess() {
    await rm("pods", { recursive: true, force: true });
    await cp("../../pods", "pods", { recursive: true });
  },
});
