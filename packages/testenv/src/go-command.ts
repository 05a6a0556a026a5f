import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * Runs a go command in a tools module (`go build`, `go mod download`), feeding each line
 * it writes on stderr to `onLine`. Rejects with the last 40 of those lines when it fails.
 */
export function runGo(
  cwd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void = () => {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("go", [...args], { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    const tail: string[] = [];
    createInterface({ input: child.stderr }).on("line", (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      onLine(line);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`go ${args[0]} failed (exit ${code}):\n${tail.join("\n")}`));
    });
  });
}
