import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { V1Container, V1Pod, V1Volume } from "@kubernetes/client-node";
import type { ConfigSource } from "./environment.js";
import { ContainerConfigError } from "./environment.js";
import type { ImageDescription } from "./images.js";

/**
 * How a container's file system is stood in for on the host. Host processes share one
 * file system, so the kubelet gives each pod a directory: each volume is a directory in
 * it (an emptyDir starts empty; a Secret or ConfigMap volume holds its keys as files), and
 * each container a private directory for the image's own directories. An absolute path in
 * a container's command, arguments or environment that falls under one of its volume
 * mounts or image directories is rewritten to the directory that stands for it, and an
 * image file (the agent binary) or directory (the elastic-ci-stack hooks) to the host's
 * that stands for it; every other path is the host's.
 *
 * @module
 */

/** Maps container paths to host paths for one container. */
export type PathMap = (path: string) => string;

/** The directory of a volume of the pod. */
export const volumeDir = (podDir: string, name: string) => join(podDir, "v", name);

/** The private directory standing for a container's own file system. */
export const rootfsDir = (podDir: string, container: string) => join(podDir, "c", container);

/**
 * Creates the pod's volumes: emptyDir as an empty directory, Secret and ConfigMap volumes
 * with one file per key; other kinds as an empty directory (this kubelet mounts nothing).
 */
export async function prepareVolumes(
  pod: V1Pod,
  podDir: string,
  source: ConfigSource,
): Promise<void> {
  const namespace = pod.metadata?.namespace ?? "default";
  for (const volume of pod.spec?.volumes ?? []) {
    const dir = volumeDir(podDir, volume.name);
    await mkdir(dir, { recursive: true });
    const data = await volumeData(volume, namespace, source);
    for (const [key, value] of Object.entries(data)) {
      await writeFile(join(dir, key), value, { mode: 0o600 });
    }
  }
}

async function volumeData(
  volume: V1Volume,
  namespace: string,
  source: ConfigSource,
): Promise<Record<string, string>> {
  if (volume.secret?.secretName) {
    const data = await source.secret(namespace, volume.secret.secretName);
    if (data === undefined && !volume.secret.optional) {
      throw new ContainerConfigError(`secret "${volume.secret.secretName}" not found`);
    }
    return data ?? {};
  }
  if (volume.configMap?.name) {
    const data = await source.configMap(namespace, volume.configMap.name);
    if (data === undefined && !volume.configMap.optional) {
      throw new ContainerConfigError(`configmap "${volume.configMap.name}" not found`);
    }
    return data ?? {};
  }
  return {};
}

/**
 * The path map of `container`: the longest of its volume mounts, the image's files (a
 * directory with what it holds) and the image's directories that holds a path wins, a
 * mount before an image path of the same length; everything else is left as it is.
 *
 * @example
 * const map = pathMap("/tmp/pod", container, image); // container mounts "workspace" at /workspace
 * map("/workspace/builds"); // "/tmp/pod/v/workspace/builds"
 * map("/bin/sh"); // "/bin/sh"
 */
export function pathMap(podDir: string, container: V1Container, image: ImageDescription): PathMap {
  const roots: [string, string][] = [
    ...(container.volumeMounts ?? []).map((mount): [string, string] => [
      mount.mountPath.replace(/\/+$/, ""),
      join(volumeDir(podDir, mount.name), mount.subPath ?? ""),
    ]),
    ...Object.entries(image.files ?? {}),
    ...(image.dirs ?? []).map((dir): [string, string] => [
      dir,
      join(rootfsDir(podDir, container.name), dir),
    ]),
  ].sort(([a], [b]) => b.length - a.length);
  return (path) => {
    if (!path.startsWith("/")) return path;
    for (const [root, dir] of roots) {
      if (path === root) return dir;
      if (path.startsWith(`${root}/`)) {
        const mapped = join(dir, path.slice(root.length + 1));
        return path.endsWith("/") && !mapped.endsWith("/") ? `${mapped}/` : mapped;
      }
    }
    return path;
  };
}

// An absolute path inside a longer text: after its start, a space, a quote, `=` or `:`.
const EMBEDDED_PATH = /(^|[\s"'=:])(\/[^\s"':;|&<>()$`]*)/g;

/**
 * Rewrites through `map` each absolute path in each value, also inside a shell script or
 * a `PATH`-like list, so a command names its volumes' directories.
 *
 * @example
 * mapPaths(["echo x > /shared/note"], map); // ["echo x > /tmp/pod/v/shared/note"]
 */
export function mapPaths(values: readonly string[], map: PathMap): string[] {
  return values.map((value) =>
    value.replace(EMBEDDED_PATH, (_whole, before: string, path: string) => {
      // `unix:///var/run/docker.sock`: the path is what follows the extra slashes.
      const extra = /^\/+/.exec(path)?.[0].slice(1) ?? "";
      return `${before}${extra}${map(path.slice(extra.length))}`;
    }),
  );
}
