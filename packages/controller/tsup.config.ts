import { defineConfig } from "tsup";
import { libraryBuild } from "../../tsup.shared.js";

// The settings are a subpath of their own: the CLI's settings table reads them without
// loading the controller (and prom-client) for every other command.
export default defineConfig({ ...libraryBuild, entry: ["src/index.ts", "src/settings.ts"] });
