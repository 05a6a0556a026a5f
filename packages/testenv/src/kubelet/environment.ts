import type { CoreV1Api, V1Container, V1EnvVar, V1Pod } from "@kubernetes/client-node";

/**
 * A container's environment, resolved as a kubelet resolves it: `envFrom`, then `env` in
 * order, where a value may use `$(NAME)` of a variable defined before it (never one the
 * image sets: the kubelet does not know those; the runtime adds them underneath), and `valueFrom` reads a Secret, a ConfigMap or a field of the pod.
 * A Secret or ConfigMap that does not exist (or lacks the key) is the kubelet's
 * `CreateContainerConfigError`, unless the reference is optional.
 *
 * @module
 */

/** A container the kubelet cannot start until its configuration exists. */
export class ContainerConfigError extends Error {
  override readonly name = "ContainerConfigError";
}

/** Reads Secrets and ConfigMaps; undefined when the object does not exist. */
export interface ConfigSource {
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

/** A source reading the API server with the kubelet's credentials. */
export function apiConfigSource(core: CoreV1Api): ConfigSource {
  const notFound = (error: unknown) => (error as { code?: number }).code === 404;
  return {
    async secret(namespace, name) {
      try {
        const secret = await core.readNamespacedSecret({ name, namespace });
        const data: Record<string, string> = {};
        for (const [key, value] of Object.entries(secret.data ?? {})) {
          data[key] = Buffer.from(value, "base64").toString("utf8");
        }
        return { ...data, ...secret.stringData };
      } catch (error) {
        if (notFound(error)) return undefined;
        throw error;
      }
    },
    async configMap(namespace, name) {
      try {
        return (await core.readNamespacedConfigMap({ name, namespace })).data ?? {};
      } catch (error) {
        if (notFound(error)) return undefined;
        throw error;
      }
    },
  };
}

/**
 * Expands `$(NAME)` from `defined`, as Kubernetes does: `$$` is a literal `$` (so
 * `$$(NAME)` stays `$(NAME)`), and a name not defined is left as written.
 */
export function expand(value: string, defined: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name?: string) =>
    name === undefined ? "$" : (defined[name] ?? whole),
  );
}

/** The value of a `fieldRef` path on `pod`, for the paths the downward API allows. */
export function fieldValue(pod: V1Pod, path: string): string {
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (labelOrAnnotation) {
    const [, kind, key] = labelOrAnnotation;
    const map = kind === "labels" ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[key as string] ?? "";
  }
  const fields: Record<string, string | undefined> = {
    "metadata.name": pod.metadata?.name,
    "metadata.namespace": pod.metadata?.namespace,
    "metadata.uid": pod.metadata?.uid,
    "spec.nodeName": pod.spec?.nodeName,
    "spec.serviceAccountName": pod.spec?.serviceAccountName,
    "status.hostIP": "127.0.0.1",
    "status.hostIPs": "127.0.0.1",
    "status.podIP": "127.0.0.1",
    "status.podIPs": "127.0.0.1",
  };
  if (!(path in fields)) throw new ContainerConfigError(`unsupported fieldRef path "${path}"`);
  return fields[path] ?? "";
}

/** The environment `container` in `pod` declares, resolved (the image's is not in it). */
export async function resolveEnvironment(
  pod: V1Pod,
  container: V1Container,
  source: ConfigSource,
): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? "default";
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const ref = from.secretRef ?? from.configMapRef;
    if (!ref?.name) continue;
    const kind = from.secretRef ? "secret" : "configmap";
    const data = from.secretRef
      ? await source.secret(namespace, ref.name)
      : await source.configMap(namespace, ref.name);
    if (data === undefined) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
    }
    for (const [key, value] of Object.entries(data)) env[`${from.prefix ?? ""}${key}`] = value;
  }
  for (const variable of container.env ?? []) {
    const value = await variableValue(pod, container, variable, env, source);
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}

async function variableValue(
  pod: V1Pod,
  container: V1Container,
  variable: V1EnvVar,
  defined: Readonly<Record<string, string>>,
  source: ConfigSource,
): Promise<string | undefined> {
  const from = variable.valueFrom;
  if (!from) return expand(variable.value ?? "", defined);
  const namespace = pod.metadata?.namespace ?? "default";
  const keyed = from.secretKeyRef ?? from.configMapKeyRef;
  if (keyed) {
    const isSecret = from.secretKeyRef !== undefined;
    const data = isSecret
      ? await source.secret(namespace, keyed.name ?? "")
      : await source.configMap(namespace, keyed.name ?? "");
    const kind = isSecret ? "secret" : "configmap";
    if (data === undefined) {
      if (keyed.optional) return undefined;
      throw new ContainerConfigError(`${kind} "${keyed.name}" not found`);
    }
    if (!(keyed.key in data)) {
      if (keyed.optional) return undefined;
      const object = isSecret ? "Secret" : "ConfigMap";
      throw new ContainerConfigError(
        `couldn't find key ${keyed.key} in ${object} ${namespace}/${keyed.name}`,
      );
    }
    return data[keyed.key];
  }
  if (from.fieldRef) return fieldValue(pod, from.fieldRef.fieldPath);
  if (from.resourceFieldRef) {
    const [kind, resource] = from.resourceFieldRef.resource.split(".") as [string, string];
    const resources =
      kind === "limits" ? container.resources?.limits : container.resources?.requests;
    return resources?.[resource] ?? "0";
  }
  return undefined;
}
