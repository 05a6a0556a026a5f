import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { KubernetesObject, V1Deployment, V1RoleBinding } from "@kubernetes/client-node";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { KubectlMissingError } from "./errors.js";

const execFileAsync = promisify(execFile);

// The part of kustomize our deploy/kubernetes kustomizations use, so their tests run
// without kubectl; deploy-manifests.test.ts checks it against `kubectl kustomize`.

export interface Kustomization {
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
}

/** The kustomization fields the renderer below implements; any other fails the test. */
const UNDERSTOOD = new Set(["apiVersion", "kind", "namespace", "resources", "images"]);
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
]);

/** The name of an image reference without its tag or digest. */
export function imageName(image: string): string {
  const withoutDigest = image.split("@")[0] as string;
  const colon = withoutDigest.lastIndexOf(":");
  return colon > withoutDigest.lastIndexOf("/") ? withoutDigest.slice(0, colon) : withoutDigest;
}

export function podSpecOf(object: KubernetesObject) {
  return object.kind === "Deployment" ? (object as V1Deployment).spec?.template.spec : undefined;
}

/** The objects of one `resources` entry: a file's documents, or a directory's rendering. */
function resourceObjects(path: string): KubernetesObject[] {
  if (statSync(path).isDirectory()) return render(path);
  const objects: KubernetesObject[] = [];
  for (const document of parseAllDocuments(readFileSync(path, "utf8"))) {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]?.message}`);
    const object = document.toJS() as KubernetesObject | null;
    if (object) objects.push(object);
  }
  return objects;
}

/**
 * What `kubectl kustomize <dir>` gives for the fields our kustomizations use, without
 * needing kubectl (where it is installed, a test checks that they agree): the
 * `resources` in order (a directory, such as an entry point's `../base`, rendered in
 * place), then `namespace` set on every namespaced object and on ServiceAccount
 * subjects, and `images` applied to containers, over all of them as kustomize does.
 * `namespace` overrides the kustomization's, as an overlay setting its own would.
 */
export function render(dir: string, namespace?: string): KubernetesObject[] {
  const kustomization = parseYaml(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as
    | Kustomization
    | undefined;
  const unknown = Object.keys(kustomization ?? {}).filter((key) => !UNDERSTOOD.has(key));
  if (unknown.length > 0) {
    throw new Error(`${dir}: this test does not render ${unknown.join(", ")}; extend render()`);
  }
  const targetNamespace = namespace ?? kustomization?.namespace;
  const objects = (kustomization?.resources ?? []).flatMap((resource) =>
    resourceObjects(join(dir, resource)),
  );
  for (const object of objects) {
    if (targetNamespace && !CLUSTER_SCOPED.has(object.kind ?? "")) {
      object.metadata = { ...object.metadata, namespace: targetNamespace };
      for (const subject of (object as V1RoleBinding).subjects ?? []) {
        if (subject.kind === "ServiceAccount") subject.namespace = targetNamespace;
      }
    }
    const spec = podSpecOf(object);
    for (const container of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
      const image = kustomization?.images?.find(
        (entry) => entry.name === imageName(container.image ?? ""),
      );
      if (!image) continue;
      const old = container.image ?? "";
      const tag = old.includes("@") ? "" : old.slice(imageName(old).length);
      container.image = `${image.newName ?? image.name}${
        image.digest ? `@${image.digest}` : image.newTag ? `:${image.newTag}` : tag
      }`;
    }
  }
  return objects;
}

/**
 * kubectl's client version, to check render() against `kubectl kustomize`; throws
 * KubectlMissingError where kubectl is not installed.
 *
 * @example
 * const kubectl = await skipUnlessCi(kubectlVersion);
 */
export async function kubectlVersion(): Promise<string> {
  try {
    const { stdout } = await execFileAsync("kubectl", ["version", "--client"], { timeout: 60_000 });
    return stdout.trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KubectlMissingError(code === "ENOENT" ? "`kubectl` is not on PATH" : String(error));
  }
}
