import { type RequestOptions, request } from "node:https";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";

/** Resource names of the kinds our manifests hold (what discovery would find). */
const PLURALS: Record<string, string> = {
  ConfigMap: "configmaps",
  Ingress: "ingresses",
  Namespace: "namespaces",
  NetworkPolicy: "networkpolicies",
  Deployment: "deployments",
  PodDisruptionBudget: "poddisruptionbudgets",
  Role: "roles",
  RoleBinding: "rolebindings",
  Service: "services",
  ServiceAccount: "serviceaccounts",
  ValidatingAdmissionPolicy: "validatingadmissionpolicies",
  ValidatingAdmissionPolicyBinding: "validatingadmissionpolicybindings",
};

/**
 * Server-side apply of one object exactly as rendered, with fieldValidation=Strict, so
 * a misspelt or misplaced field is an error. (client-node's typed serializer would drop
 * unknown fields before they reach the server, hiding exactly that.) Resolves to
 * undefined when the server accepts it, or to `Kind name: status message`.
 */
export async function serverSideApply(
  config: KubeConfig,
  object: KubernetesObject,
  options: { dryRun: boolean; fieldManager: string; timeoutMs?: number },
): Promise<string | undefined> {
  const { dryRun, fieldManager } = options;
  const plural = PLURALS[object.kind ?? ""];
  if (!plural) throw new Error(`${object.kind}: add its resource name to PLURALS`);
  const group = object.apiVersion === "v1" ? "/api/v1" : `/apis/${object.apiVersion}`;
  const scope = object.metadata?.namespace ? `/namespaces/${object.metadata.namespace}` : "";
  const query = new URLSearchParams({
    fieldManager,
    force: "true",
    fieldValidation: "Strict",
    ...(dryRun ? { dryRun: "All" } : {}),
  });
  const url = new URL(
    `${config.getCurrentCluster()?.server}${group}${scope}/${plural}/${object.metadata?.name}?${query}`,
  );
  const https: RequestOptions = {};
  await config.applyToHTTPSOptions(https);
  const { status, body } = await new Promise<{ status: number; body: string }>(
    (resolve, reject) => {
      const call = request(
        url,
        {
          ...https,
          method: "PATCH",
          // A deadline for the whole call: a stuck API server fails the test, not hangs it.
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
          headers: {
            ...https.headers,
            "content-type": "application/apply-patch+yaml",
            accept: "application/json",
          },
        },
        (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => {
            text += chunk;
          });
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
          response.on("error", reject);
        },
      );
      call.on("error", reject);
      call.end(JSON.stringify(object));
    },
  );
  if (status >= 200 && status < 300) return undefined;
  let message = body;
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    // Not JSON: keep the body as it is.
  }
  return `${object.kind} ${object.metadata?.name}: ${status} ${message}`;
}
