import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/cli.ts", "src/floors/http-floor.ts", "src/floors/sqs-floor.ts"],
  format: ["esm"],
  clean: true,
  sourcemap: true,
  target: "node20",
});
