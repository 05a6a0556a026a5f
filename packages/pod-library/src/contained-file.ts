import { constants } from "node:fs";
import { lstat, open, realpath } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";

/** What reading one library entry gave: its text, nothing (not a file), or why not. */
export type ContainedRead =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "skipped" }
  | { readonly kind: "refused"; readonly message: string };

/**
 * Whether `path` (resolved) is `root` or under it. `..data/x` is under it (a ConfigMap's
 * directories start with two dots); `../x` is not.
 */
function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return !isAbsolute(rel) && rel.split(sep)[0] !== "..";
}

/**
 * Reads the regular file `entry` of the directory `root` (already resolved with
 * `realpath`), never anything outside it. A symbolic link is followed only when it
 * resolves to a file inside `root`: a Kubernetes ConfigMap volume (`name -> ..data/name`,
 * `..data -> ..2024_...`) loads, a link to `/etc/shadow` is refused. The resolved file is
 * opened with `O_NOFOLLOW`, so a link swapped in after the check is not followed either.
 * Errors name the entry and an errno code, never the file's content or the link's target.
 *
 * @example
 * ```ts
 * const read = await readContainedFile(await realpath("pods"), "default.yaml", 256 * 1024);
 * if (read.kind === "text") parse(read.text);
 * ```
 */
export async function readContainedFile(
  root: string,
  entry: string,
  maxBytes: number,
): Promise<ContainedRead> {
  const path = join(root, entry);
  let target = path;
  try {
    if ((await lstat(path)).isSymbolicLink()) {
      target = await realpath(path);
      if (!inside(root, target)) {
        return {
          kind: "refused",
          message:
            "is a symbolic link to a file outside the pod library's directory; refused (only links that stay inside, as a ConfigMap volume's do, are followed)",
        };
      }
    }
  } catch (error) {
    return { kind: "refused", message: `cannot read the file (${codeOf(error)})` };
  }

  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(target, constants.O_RDONLY | constants.O_NOFOLLOW);
    const info = await handle.stat();
    if (!info.isFile()) return { kind: "skipped" };
    if (info.size > maxBytes) {
      return {
        kind: "refused",
        message: `file is ${info.size} bytes; at most ${maxBytes} allowed`,
      };
    }
    const bytes = await handle.readFile();
    // Grown since the check: the cap holds for what was read, too.
    if (bytes.length > maxBytes) {
      return {
        kind: "refused",
        message: `file is ${bytes.length} bytes; at most ${maxBytes} allowed`,
      };
    }
    return { kind: "text", text: bytes.toString("utf8") };
  } catch (error) {
    const code = codeOf(error);
    // A directory named *.yaml (EISDIR on some systems) is not a definition.
    if (code === "EISDIR") return { kind: "skipped" };
    // ELOOP: the resolved path turned into a link after the check.
    return { kind: "refused", message: `cannot read the file (${code})` };
  } finally {
    await handle?.close();
  }
}

function codeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : "unknown error";
}
