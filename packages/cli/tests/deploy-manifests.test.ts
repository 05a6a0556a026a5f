import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Container,
  type V1Deployment,
  type V1Job,
  type V1Lease,
  type V1Pod,
  type V1PolicyRule,
  type V1Role,
  type V1RoleBinding,
} from "@kubernetes/client-node";
import { type CliIo, processIo, run } from "@ondemand-eks/cli";
import {
  imageName,
  type Kustomization,
  kubectlVersion,
  renderKustomization as render,
  serverSideApply,
  skipUnlessCi,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { describeWithCluster, kubeconfigPath } from "./cluster.js";

// deploy/kubernetes/webhook, sqs-consumer and controller: what `kubectl apply -k` sends
// (each lists ../base, so one apply installs a route whole), checked for the properties the Deployments promise (non-root, read-only, no privileges,
// resources, probes, secrets only by reference, least-privilege RBAC), then sent to a
// real API server.

const REPO = new URL("../../../", import.meta.url).pathname;
const DEPLOY = join(REPO, "deploy", "kubernetes");
/** What every entry point's directory lists first, and the test control planes apply. */
const BASE = join(DEPLOY, "base");
/** The version the packages carry, which the Deployments' version label repeats. */
const VERSION = (
  JSON.parse(readFileSync(join(REPO, "packages", "cli", "package.json"), "utf8")) as {
    version: string;
  }
).version;
const POLICY = join(REPO, "deploy", "aws", "sqs-consumer-policy.json");
const FIELD_MANAGER = "ondemand-eks-deploy-test";
/** The label of the namespaces whose pods may reach the ops ports (Prometheus and the like). */
const MONITORING_LABEL = "ondemand-eks.io/monitoring";

/** Who a NetworkPolicy lets reach a port: anyone, or the monitoring namespaces' pods. */
type Audience = "anywhere" | "monitoring";

interface Overlay {
  dir: string;
  component: string;
  command: string[];
  account: string;
  /** The Role its account is bound to in the job namespaces. */
  role: string;
  /** What that Role lets it do with Jobs there, and nothing more. */
  jobVerbs: string[];
  kinds: string[];
  /** Each container port, by name, and who may connect to it. */
  audience: Record<string, Audience>;
}

const OVERLAYS: Overlay[] = [
  {
    dir: "webhook",
    component: "webhook",
    command: ["serve", "http"],
    account: "ondemand-eks-scheduler",
    role: "ondemand-eks-scheduler",
    jobVerbs: ["create", "get"],
    kinds: ["Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"],
    audience: { http: "anywhere", ops: "monitoring" },
  },
  {
    dir: "sqs-consumer",
    component: "sqs-consumer",
    command: ["consume", "sqs"],
    account: "ondemand-eks-sqs-consumer",
    role: "ondemand-eks-scheduler",
    jobVerbs: ["create", "get"],
    kinds: ["ServiceAccount", "ConfigMap", "Deployment", "PodDisruptionBudget", "NetworkPolicy"],
    audience: { ops: "monitoring" },
  },
  {
    dir: "controller",
    component: "controller",
    command: ["controller"],
    account: "ondemand-eks-controller",
    role: "ondemand-eks-controller",
    jobVerbs: ["list", "create", "get", "patch", "delete"],
    kinds: [
      "ServiceAccount",
      ...["Role", "Role", "Role", "RoleBinding", "RoleBinding", "RoleBinding"],
      ...["Deployment", "PodDisruptionBudget", "NetworkPolicy"],
    ],
    audience: { ops: "monitoring" },
  },
];

/** The namespaces the base makes for Jobs; only RBAC objects of an overlay go there. */
const JOB_NAMESPACES = ["buildkite", "buildkite-privileged"];
/** Every verb RBAC knows on a resource, to check a Role grants exactly some of them. */
const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];

const base = render(BASE);
const namespaces = base.filter((object) => object.kind === "Namespace");
/** Where the scheduler's own pods, accounts and Secrets go. */
const SCHEDULER_NAMESPACE = "ondemand-eks";

/**
 * An entry point's own objects, rendered as `kubectl kustomize` renders its directory,
 * without the base it lists first (checked to be the base, whole and unchanged).
 */
function own(dir: string, namespace?: string): KubernetesObject[] {
  const all = render(join(DEPLOY, dir), namespace);
  const shared = render(BASE, namespace);
  expect(all.slice(0, shared.length), `${dir} lists ../base first`).toEqual(shared);
  return all.slice(shared.length);
}

/** The Prometheus Operator's PodMonitor, as far as the test reads it. */
interface PodMonitor extends KubernetesObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    podMetricsEndpoints: { port: string; path: string }[];
  };
}

function deploymentOf(objects: KubernetesObject[]): V1Deployment {
  const deployments = objects.filter((object) => object.kind === "Deployment");
  expect(deployments).toHaveLength(1);
  return deployments[0] as V1Deployment;
}

/** A NetworkPolicy as written (client-node's own type calls `from` `_from`). */
interface NetworkPolicyManifest extends KubernetesObject {
  spec?: {
    podSelector?: { matchLabels?: Record<string, string> };
    policyTypes?: string[];
    ingress?: { from?: object[]; ports?: { port?: number | string; protocol?: string }[] }[];
    egress?: unknown[];
  };
}

function networkPolicyOf(objects: KubernetesObject[]): NetworkPolicyManifest {
  const policies = objects.filter((object) => object.kind === "NetworkPolicy");
  expect(policies).toHaveLength(1);
  return policies[0] as NetworkPolicyManifest;
}

/** `a=b,c=d`, for a label selector in a list call. */
function labelSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
}

/**
 * Who the policy lets reach each of the container's ports, by port name: a rule with no
 * `from` lets anyone in; one whose only peer selects the monitoring namespaces by their
 * label, those; anything else is "other". A port no rule names is absent.
 */
function audienceOf(
  policy: NetworkPolicyManifest,
  container: V1Container,
): Record<string, string[]> {
  const names = new Map<string | number, string>();
  for (const port of container.ports ?? []) {
    if (port.name) names.set(port.containerPort, port.name).set(port.name, port.name);
  }
  const audience: Record<string, string[]> = {};
  for (const rule of policy.spec?.ingress ?? []) {
    const from = rule.from ?? [];
    const monitoring =
      from.length === 1 &&
      JSON.stringify(from[0]) ===
        JSON.stringify({ namespaceSelector: { matchLabels: { [MONITORING_LABEL]: "true" } } });
    const who = from.length === 0 ? "anywhere" : monitoring ? "monitoring" : "other";
    // A rule without ports opens every port: name it so the test shows it.
    for (const port of rule.ports ?? [{ port: "every port" }]) {
      expect(port.protocol ?? "TCP").toBe("TCP");
      const name = names.get(port.port ?? "every port") ?? `unknown port ${port.port}`;
      audience[name] = [...(audience[name] ?? []), who];
    }
  }
  return audience;
}

function containersOf(deployment: V1Deployment): V1Container[] {
  const spec = deployment.spec?.template.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

/** The value of `--name=value` or `--name value` in args. */
function flag(args: string[], name: string): string | undefined {
  const at = args.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (at < 0) return undefined;
  const arg = args[at] as string;
  return arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : args[at + 1];
}

/** Mebibytes in a Kubernetes quantity such as 384Mi or 1Gi. */
function mebibytes(quantity: string | undefined): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity ?? "");
  if (!match) throw new Error(`unexpected memory quantity "${quantity}"`);
  return Number(match[1]) * (match[2] === "Gi" ? 1024 : 1);
}

/** The environment the kubelet would give the container; Secrets get a stand-in value. */
function containerEnv(
  container: V1Container,
  objects: KubernetesObject[],
  namespace: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (from?.secretKeyRef) {
      // As long as a real token must be (the webhook refuses one under 32 characters),
      // and without spaces (the controller refuses a cluster token with any).
      env[variable.name] = `stand-in-for-${from.secretKeyRef.key}`.padEnd(48, "-");
    } else if (from?.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const map = objects.find(
        (object) => object.kind === "ConfigMap" && object.metadata?.name === ref.name,
      ) as V1ConfigMap | undefined;
      const value = map?.data?.[ref.key];
      if (value === undefined) throw new Error(`${variable.name}: no ConfigMap key ${ref.key}`);
      env[variable.name] = value;
    } else if (from?.fieldRef?.fieldPath === "metadata.namespace") env[variable.name] = namespace;
    else throw new Error(`${variable.name}: a source this test does not resolve`);
  }
  return env;
}

/** The kubelet's $(VAR) expansion of args ($$ escapes a $). */
function expand(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string | undefined) =>
    name === undefined ? "$" : (env[name] ?? whole),
  );
}

const kubectl = await skipUnlessCi(kubectlVersion);

describeWith(kubectl, "render(), against kubectl's own kustomize", () => {
  it.each(["base", "monitoring", ...OVERLAYS.map((overlay) => overlay.dir)])(
    "gives what `kubectl kustomize` gives for %s",
    (dir) => {
      const key = (object: KubernetesObject) =>
        `${object.kind}/${object.metadata?.namespace}/${object.metadata?.name}`;
      const sorted = (objects: KubernetesObject[]) =>
        [...objects].sort((a, b) => key(a).localeCompare(key(b)));
      const built = execFileSync("kubectl", ["kustomize", join(DEPLOY, dir)], {
        encoding: "utf8",
      });
      const real = parseAllDocuments(built).map((document) => document.toJS() as KubernetesObject);
      expect(sorted(render(join(DEPLOY, dir)))).toEqual(sorted(real));
    },
  );
});

describe("deploy/kubernetes/monitoring", () => {
  it("is a PodMonitor alone, which no route's directory lists (it needs the operator's CRDs)", () => {
    expect(render(join(DEPLOY, "monitoring")).map((object) => object.kind)).toEqual(["PodMonitor"]);
    // Every kustomization, those one level down too (webhook-exposure/eks-alb...).
    const dirs = readdirSync(DEPLOY, { recursive: true, encoding: "utf8" })
      .filter((path) => path.endsWith("kustomization.yaml"))
      .map((path) => path.slice(0, -"/kustomization.yaml".length));
    expect(dirs).toContain("webhook-exposure/eks-alb");
    for (const dir of dirs) {
      const kustomization = parseYaml(
        readFileSync(join(DEPLOY, dir, "kustomization.yaml"), "utf8"),
      ) as Kustomization;
      expect(kustomization.resources ?? [], dir).not.toContain("../monitoring");
    }
  });
});

describe("the base, deploy/kubernetes/base", () => {
  it("separates the scheduler from job pods, each namespace at the Pod Security level it needs", () => {
    const level = (name: string) =>
      namespaces.find((object) => object.metadata?.name === name)?.metadata?.labels?.[
        "pod-security.kubernetes.io/enforce"
      ];
    expect(namespaces.map((object) => object.metadata?.name)).toEqual([
      SCHEDULER_NAMESPACE,
      "buildkite",
      "buildkite-privileged",
    ]);
    expect(level(SCHEDULER_NAMESPACE)).toBe("restricted");
    expect(level("buildkite")).toBe("baseline");
    expect(level("buildkite-privileged")).toBe("privileged");
    // The scheduler may create Jobs only in the job namespaces, never beside its Secrets.
    const roles = base.filter((object) => object.kind === "Role");
    expect(roles.map((object) => object.metadata?.namespace)).toEqual([
      "buildkite",
      "buildkite-privileged",
    ]);
    const accounts = base.filter((object) => object.kind === "ServiceAccount");
    expect(
      accounts.find((object) => object.metadata?.name === "ondemand-eks-scheduler")?.metadata
        ?.namespace,
    ).toBe(SCHEDULER_NAMESPACE);
  });

  it("holds only the namespaces, RBAC and the admission policy, which the test control planes apply", () => {
    expect(new Set(base.map((object) => object.kind))).toEqual(
      new Set([
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
      ]),
    );
  });
});

describe.each(OVERLAYS)("deploy/kubernetes/$dir", (overlay) => {
  const objects = own(overlay.dir);
  const deployment = deploymentOf(objects);
  const pod = deployment.spec?.template.spec;
  const [container] = containersOf(deployment);
  const args = container?.args ?? [];

  it("renders its objects into the scheduler's namespace, labelled as its component", () => {
    expect(objects.map((object) => object.kind)).toEqual(overlay.kinds);
    for (const object of objects) {
      // Its RBAC may also be in the job namespaces, where it acts; nothing else may.
      const rbac = object.kind === "Role" || object.kind === "RoleBinding";
      expect(object.metadata?.namespace, `${object.kind} ${object.metadata?.name}`).toBeOneOf(
        rbac ? [SCHEDULER_NAMESPACE, ...JOB_NAMESPACES] : [SCHEDULER_NAMESPACE],
      );
      expect(object.metadata?.labels).toMatchObject({
        "app.kubernetes.io/name": "ondemand-eks",
        "app.kubernetes.io/component": overlay.component,
      });
    }
    const selector = deployment.spec?.selector.matchLabels ?? {};
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    expect(deployment.spec?.template.metadata?.labels).toMatchObject(selector);
    expect(deployment.spec?.replicas).toBeGreaterThanOrEqual(1);
  });

  it("installs the route whole from its one directory: the base first, then its own objects", () => {
    const all = render(join(DEPLOY, overlay.dir));
    expect(all.slice(0, base.length)).toEqual(base);
    expect(all.slice(base.length)).toEqual(objects);
    // No `namespace:`: it would move the base's Roles out of the job namespaces.
    const kustomization = parseYaml(
      readFileSync(join(DEPLOY, overlay.dir, "kustomization.yaml"), "utf8"),
    ) as Kustomization;
    expect(kustomization.resources?.[0]).toBe("../base");
    expect(kustomization.namespace).toBeUndefined();
  });

  it("can be scraped: its pods' annotations name the ops port, and monitoring/'s PodMonitor selects them", () => {
    const ops = container?.ports?.find((each) => each.name === "ops");
    expect(deployment.spec?.template.metadata?.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(ops?.containerPort),
      "prometheus.io/path": "/metrics",
    });
    const [monitor] = render(join(DEPLOY, "monitoring")) as PodMonitor[];
    expect(deployment.spec?.template.metadata?.labels).toMatchObject(
      monitor?.spec.selector.matchLabels ?? { nothing: "selected" },
    );
    expect(monitor?.spec.podMetricsEndpoints.map((each) => each.port)).toEqual(["ops"]);
    expect(monitor?.metadata?.namespace).toBe(deployment.metadata?.namespace);
  });

  it("carries the recommended labels on the Deployment and its pods, version the packages'", () => {
    const recommended = {
      "app.kubernetes.io/name": "ondemand-eks",
      "app.kubernetes.io/instance": "ondemand-eks",
      "app.kubernetes.io/version": VERSION,
      "app.kubernetes.io/component": overlay.component,
      "app.kubernetes.io/part-of": "ondemand-eks",
    };
    expect(deployment.metadata?.labels).toMatchObject(recommended);
    expect(deployment.spec?.template.metadata?.labels).toMatchObject(recommended);
    // The selector cannot change after creation: a new version must not need a new one.
    expect(Object.keys(deployment.spec?.selector.matchLabels ?? {})).not.toContain(
      "app.kubernetes.io/version",
    );
  });

  it("takes its image from the kustomization's images entry", () => {
    const kustomization = parseYaml(
      readFileSync(join(DEPLOY, overlay.dir, "kustomization.yaml"), "utf8"),
    ) as Kustomization;
    const raw = parseAllDocuments(
      readFileSync(join(DEPLOY, overlay.dir, "deployment.yaml"), "utf8"),
    )
      .map((document) => document.toJS() as V1Deployment)
      .find((object) => object.kind === "Deployment");
    const declared = raw?.spec?.template.spec?.containers[0]?.image ?? "";
    const entry = kustomization.images?.find((image) => image.name === imageName(declared));
    expect(entry, `an images entry named ${imageName(declared)}`).toBeDefined();
    expect(container?.image).toBe(`${entry?.newName}:${entry?.newTag}`);
  });

  it("runs non-root on a read-only root filesystem, without privileges", () => {
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(pod?.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(pod?.securityContext?.runAsGroup).toBeGreaterThan(0);
    expect(pod?.securityContext?.seccompProfile?.type).toBe("RuntimeDefault");
    expect(pod?.hostNetwork ?? false).toBe(false);
    expect(pod?.hostPID ?? false).toBe(false);
    expect(pod?.hostIPC ?? false).toBe(false);
    for (const volume of pod?.volumes ?? []) {
      expect(Object.keys(volume).filter((key) => key !== "name")).toEqual(["emptyDir"]);
    }
    for (const each of containersOf(deployment)) {
      const context = each.securityContext;
      expect(context?.runAsNonRoot ?? pod?.securityContext?.runAsNonRoot, each.name).toBe(true);
      expect(context?.readOnlyRootFilesystem, each.name).toBe(true);
      expect(context?.allowPrivilegeEscalation, each.name).toBe(false);
      expect(context?.privileged ?? false, each.name).toBe(false);
      expect(context?.capabilities?.drop, each.name).toEqual(["ALL"]);
      expect(context?.capabilities?.add ?? [], each.name).toEqual([]);
      // A writable /tmp, since nothing else is.
      const tmp = each.volumeMounts?.find((mount) => mount.mountPath === "/tmp");
      expect(tmp?.readOnly ?? false, each.name).toBe(false);
    }
  });

  it("sets requests, a memory limit above the heap cap, and both probes on the ops port it serves", () => {
    for (const each of containersOf(deployment)) {
      expect(each.resources?.requests?.cpu, each.name).toBeDefined();
      expect(each.resources?.requests?.memory, each.name).toBeDefined();
      const limit = mebibytes(each.resources?.limits?.memory);
      expect(limit).toBeGreaterThanOrEqual(mebibytes(each.resources?.requests?.memory));
      const heap = /--max-old-space-size=(\d+)/.exec(
        each.env?.find((variable) => variable.name === "NODE_OPTIONS")?.value ?? "",
      );
      if (heap) expect(Number(heap[1])).toBeLessThan(limit);
    }
    // /healthz and /readyz are served on --ops-port where it is given, else on --port.
    const ops = container?.ports?.find((each) => each.name === "ops");
    expect(ops?.containerPort).toBe(Number(flag(args, "--ops-port") ?? flag(args, "--port")));
    const http = container?.ports?.find((each) => each.name === "http");
    if (http) expect(http.containerPort).toBe(Number(flag(args, "--port")));
    expect((container?.ports ?? []).map((each) => each.name).sort()).toEqual(
      Object.keys(overlay.audience).sort(),
    );
    expect(container?.livenessProbe?.httpGet).toMatchObject({ path: "/healthz", port: "ops" });
    expect(container?.readinessProbe?.httpGet).toMatchObject({ path: "/readyz", port: "ops" });
  });

  it("has a NetworkPolicy on its pods: each port open only to whom it serves, egress untouched", () => {
    // Prepare
    const policy = networkPolicyOf(objects);
    const selector = policy.spec?.podSelector?.matchLabels ?? {};
    // Assess: it selects this Deployment's pods, and no other overlay's.
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    expect(deployment.spec?.template.metadata?.labels).toMatchObject(selector);
    for (const other of OVERLAYS.filter((each) => each !== overlay)) {
      const labels = deploymentOf(own(other.dir)).spec?.template.metadata?.labels;
      expect(labels, other.dir).not.toMatchObject(selector);
    }
    // Ingress only: the pods' calls out (API server, SQS, STS, DNS) are not restricted.
    expect(policy.spec?.policyTypes).toEqual(["Ingress"]);
    expect(policy.spec?.egress).toBeUndefined();
    if (!container) throw new Error("no container");
    const expected = Object.fromEntries(
      Object.entries(overlay.audience).map(([port, who]) => [port, [who]]),
    );
    expect(audienceOf(policy, container)).toEqual(expected);
  });

  it("gives SIGTERM longer than the 25 s the process takes to finish what is in flight", () => {
    const preStop = container?.lifecycle?.preStop?.exec?.command ?? [];
    const sleep = preStop[0] === "sleep" ? Number(preStop[1]) : 0;
    expect(deployment.spec?.template.spec?.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      sleep + 25 + 5,
    );
  });

  it("mounts the token of an account that is bound to its Role", () => {
    expect(pod?.serviceAccountName).toBe(overlay.account);
    expect(pod?.automountServiceAccountToken).toBe(true);
    const everything = [...base, ...objects];
    expect(
      everything.some(
        (object) => object.kind === "ServiceAccount" && object.metadata?.name === overlay.account,
      ),
    ).toBe(true);
    const bound = everything.filter(
      (object): object is V1RoleBinding =>
        object.kind === "RoleBinding" &&
        (object as V1RoleBinding).roleRef.name === overlay.role &&
        ((object as V1RoleBinding).subjects ?? []).some(
          (subject) => subject.kind === "ServiceAccount" && subject.name === overlay.account,
        ),
    );
    // In every job namespace, where its Jobs go.
    expect(bound.map((binding) => binding.metadata?.namespace).sort()).toEqual(JOB_NAMESPACES);
  });

  it("holds no secret: no Secret object, no literal token in args or env", () => {
    expect(objects.filter((object) => object.kind === "Secret")).toEqual([]);
    for (const each of containersOf(deployment)) {
      for (const arg of [...(each.command ?? []), ...(each.args ?? [])]) {
        expect(arg, each.name).not.toMatch(/token|secret|password/i);
      }
      for (const variable of each.env ?? []) {
        if (/TOKEN|SECRET|PASSWORD|ACCESS_KEY|PRIVATE/i.test(variable.name)) {
          expect(variable.value, variable.name).toBeUndefined();
          expect(variable.valueFrom?.secretKeyRef, variable.name).toBeDefined();
        }
      }
      expect(each.envFrom ?? [], each.name).toEqual([]);
    }
  });

  it("starts the entry point with a command line the CLI accepts, up to the cluster", async () => {
    // Outside a pod, --in-cluster is the first thing that fails: every flag, the
    // settings, the token and the pod library were accepted before it (a usage error
    // would exit 2).
    if (!container) throw new Error("no container");
    const env = containerEnv(container, objects, SCHEDULER_NAMESPACE);
    // Its Jobs go to the job namespace, not to its own.
    expect(env.ONDEMAND_EKS_NAMESPACE).toBe("buildkite");
    const argv = args.map((arg) => expand(arg, env));
    expect(argv.slice(0, overlay.command.length)).toEqual(overlay.command);
    expect(argv).toContain("--in-cluster");
    expect(argv.join(" ")).not.toContain("$(");
    let stderr = "";
    const io: CliIo = {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      readStdin: async () => "",
      readFile: processIo().readFile,
      env,
    };
    const status = await run(argv, io);
    expect({ status, stderr }).toEqual({
      status: 1,
      stderr: expect.stringContaining("not running in a Kubernetes pod"),
    });
  });
});

describe("deploy/kubernetes/webhook", () => {
  const objects = own("webhook");
  const deployment = deploymentOf(objects);

  it("reads the webhook token from a Secret, through the environment only", () => {
    const [container] = containersOf(deployment);
    const token = container?.env?.find((variable) => variable.name === "BUILDKITE_WEBHOOK_TOKEN");
    expect(token?.valueFrom?.secretKeyRef).toEqual({
      name: "buildkite-webhook-token",
      key: "token",
    });
    expect(flag(container?.args ?? [], "--webhook-token-file")).toBeUndefined();
  });

  it("has a Service from port 80 to the webhook port of its pods, and not to the ops port", () => {
    const service = objects.find((object) => object.kind === "Service") as {
      spec: { type?: string; selector: Record<string, string>; ports: object[] };
    };
    expect(service.spec.type ?? "ClusterIP").toBe("ClusterIP");
    expect(service.spec.ports).toEqual([
      { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
    ]);
    expect(deployment.spec?.template.metadata?.labels).toMatchObject(service.spec.selector);
  });
});

/** A Role's rules as written, for comparing whole. */
function rulesOf(object: KubernetesObject | undefined): V1PolicyRule[] {
  return ((object as V1Role | undefined)?.rules ?? []).map((rule) => ({ ...rule }));
}

describe("deploy/kubernetes/controller", () => {
  const objects = own("controller");
  const deployment = deploymentOf(objects);
  const [container] = containersOf(deployment);
  const roles = objects.filter((object) => object.kind === "Role");
  const roleIn = (namespace: string, name = "ondemand-eks-controller") =>
    roles.find(
      (object) => object.metadata?.namespace === namespace && object.metadata?.name === name,
    );

  it("grants exactly list, create, get, patch and delete on Jobs, list on pods and events, get, list, create, patch and delete on Deployments, in each job namespace", () => {
    for (const namespace of JOB_NAMESPACES) {
      expect(rulesOf(roleIn(namespace)), namespace).toEqual([
        {
          apiGroups: ["batch"],
          resources: ["jobs"],
          verbs: ["list", "create", "get", "patch", "delete"],
        },
        { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
        { apiGroups: [""], resources: ["events"], verbs: ["list"] },
        // The long-polling pools: applied (patch, and create for a new one), read,
        // listed, deleted.
        {
          apiGroups: ["apps"],
          resources: ["deployments"],
          verbs: ["get", "list", "create", "patch", "delete"],
        },
      ]);
    }
  });

  it("grants get and update on its one Lease, and create on Leases, in its own namespace only", () => {
    const lease = roleIn(SCHEDULER_NAMESPACE, "ondemand-eks-controller-lease");
    expect(rulesOf(lease)).toEqual([
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: ["ondemand-eks-controller"],
        verbs: ["get", "update"],
      },
      // RBAC cannot limit create by name: the name is not known when it authorizes.
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    ]);
    // Three Roles, no more: nothing in any other namespace, nothing cluster-wide.
    expect(roles.map((object) => object.metadata?.namespace).sort()).toEqual(
      [SCHEDULER_NAMESPACE, ...JOB_NAMESPACES].sort(),
    );
    expect(objects.map((object) => object.kind)).not.toContain("ClusterRole");
    expect(objects.map((object) => object.kind)).not.toContain("ClusterRoleBinding");
  });

  it("binds each Role to the controller's account and the Lambda's group only, and that account to nothing of the scheduler's", () => {
    const bindings = objects.filter(
      (object): object is V1RoleBinding => object.kind === "RoleBinding",
    );
    expect(bindings).toHaveLength(roles.length);
    for (const role of roles) {
      const binding = bindings.find(
        (each) =>
          each.metadata?.namespace === role.metadata?.namespace &&
          each.roleRef.name === role.metadata?.name,
      );
      expect(binding?.roleRef.kind, role.metadata?.name).toBe("Role");
      expect(binding?.subjects).toEqual([
        { kind: "ServiceAccount", name: "ondemand-eks-controller", namespace: SCHEDULER_NAMESPACE },
        // The scheduled Lambda's IAM role, mapped by deploy/lambda/controller.yaml.
        { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "ondemand-eks:controller" },
      ]);
    }
    const account = objects.find((object) => object.kind === "ServiceAccount") as {
      metadata: { name: string; namespace: string };
      automountServiceAccountToken?: boolean;
    };
    expect(account.metadata).toMatchObject({
      name: "ondemand-eks-controller",
      namespace: SCHEDULER_NAMESPACE,
    });
    expect(account.automountServiceAccountToken).toBe(false);
    // The scheduler's Role stays create and get: the controller's verbs are its own.
    for (const role of base.filter((object) => object.kind === "Role")) {
      expect(rulesOf(role), role.metadata?.namespace).toEqual([
        { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get"] },
      ]);
    }
    const schedulerSubjects = base
      .filter((object): object is V1RoleBinding => object.kind === "RoleBinding")
      .flatMap((binding) => binding.subjects ?? []);
    expect(schedulerSubjects.map((subject) => subject.name)).not.toContain(
      "ondemand-eks-controller",
    );
  });

  it("reads the cluster token from a Secret and the Lease's namespace from the pod, through the environment only", () => {
    const env = container?.env ?? [];
    const named = (name: string) => env.find((variable) => variable.name === name);
    expect(named("BUILDKITE_CLUSTER_TOKEN")?.valueFrom?.secretKeyRef).toEqual({
      name: "ondemand-eks-buildkite-cluster-token",
      key: "token",
    });
    expect(named("POD_NAMESPACE")?.valueFrom?.fieldRef).toEqual({
      fieldPath: "metadata.namespace",
    });
    const args = container?.args ?? [];
    expect(flag(args, "--cluster-token-file")).toBeUndefined();
    // The Lease Role names the default Lease: a --lease-name here would need it changed.
    expect(flag(args, "--lease-name")).toBeUndefined();
    expect(flag(args, "--lease-namespace")).toBeUndefined();
    expect(deployment.spec?.replicas).toBe(2);
  });
});

describe("deploy/aws/sqs-consumer-policy.json", () => {
  it("allows exactly the SQS actions the consumer calls, on one queue", () => {
    const sources = [
      ...readdirSync(join(REPO, "packages", "adapter-sqs", "src")).map((name) =>
        join(REPO, "packages", "adapter-sqs", "src", name),
      ),
      join(REPO, "packages", "cli", "src", "commands", "consume-sqs.ts"),
    ].filter((path) => path.endsWith(".ts"));
    const called = new Set<string>();
    for (const path of sources) {
      for (const match of readFileSync(path, "utf8").matchAll(/new (\w+)Command\(/g)) {
        called.add(`sqs:${match[1]}`);
      }
    }
    const policy = JSON.parse(readFileSync(POLICY, "utf8")) as {
      Statement: { Effect: string; Action: string[]; Resource: string }[];
    };
    const allowed = new Set<string>();
    for (const statement of policy.Statement) {
      expect(statement.Effect).toBe("Allow");
      expect(statement.Resource).toMatch(/^arn:aws:sqs:[a-z0-9-]+:\d{12}:[\w-]+$/);
      for (const action of statement.Action) allowed.add(action);
    }
    expect(called.size).toBeGreaterThan(0);
    expect([...allowed].sort()).toEqual([...called].sort());
  });
});

describeWithCluster("deploy/kubernetes on an API server", () => {
  let config: KubeConfig;
  let core: CoreV1Api;
  // A namespace of our own that enforces the restricted Pod Security Standard, with the
  // base and both entry points applied for real, and what the server refused.
  const namespace = `deploy-manifests-${randomBytes(4).toString("hex")}`;
  let refusedObjects: string[];

  async function apply(objects: KubernetesObject[], dryRun = false): Promise<string[]> {
    const failures: string[] = [];
    for (const object of objects) {
      const failure = await serverSideApply(config, object, {
        dryRun,
        fieldManager: FIELD_MANAGER,
      });
      if (failure) failures.push(failure);
    }
    return failures;
  }

  beforeAll(async () => {
    config = new KubeConfig();
    config.loadFromFile(kubeconfigPath());
    core = config.makeApiClient(CoreV1Api);
    await core.createNamespace({
      body: {
        metadata: {
          name: namespace,
          labels: {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
          },
        },
      },
    });
    refusedObjects = await apply([
      ...render(BASE, namespace).filter((object) => object.kind !== "Namespace"),
      ...OVERLAYS.flatMap((overlay) => own(overlay.dir, namespace)),
    ]);
  });
  afterAll(async () => {
    await core?.deleteNamespace({ name: namespace }).catch(() => {});
  });

  it.each(OVERLAYS)(
    "accepts every object of $dir as rendered, the base included (server-side apply, dry run)",
    async (overlay) => {
      expect(await apply(render(join(DEPLOY, overlay.dir)), true)).toEqual([]);
    },
  );

  it("admits the Deployments' pods under the restricted Pod Security Standard, with the account's token", async () => {
    expect(refusedObjects).toEqual([]);
    // The namespace really enforces it: a pod without the restrictions is refused.
    const refused = await core
      .createNamespacedPod({
        namespace,
        dryRun: "All",
        body: {
          metadata: { name: "unrestricted" },
          spec: {
            serviceAccountName: "ondemand-eks-scheduler",
            containers: [{ name: "c", image: "ondemand-eks:latest" }],
          },
        },
      })
      .then(
        () => 0,
        (error: unknown) => (error instanceof ApiException ? error.code : -1),
      );
    expect(refused).toBe(403);

    // Act: the Deployment and ReplicaSet controllers create the pods (which stay
    // Pending: no kubelet runs here).
    for (const overlay of OVERLAYS) {
      const deployment = deploymentOf(own(overlay.dir, namespace));
      const selector = labelSelector(deployment.spec?.selector.matchLabels ?? {});
      const deadline = Date.now() + 60_000;
      let pods: V1Pod[] = [];
      let failure: string | undefined;
      while (Date.now() < deadline) {
        pods = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
        if (pods.length >= (deployment.spec?.replicas ?? 1)) break;
        const events = await core.listNamespacedEvent({ namespace });
        failure = events.items
          .filter((event) => event.reason === "FailedCreate")
          .map((event) => event.message)
          .join("\n");
        if (failure) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }

      // Assess
      expect(failure || undefined, overlay.dir).toBeUndefined();
      expect(pods, overlay.dir).toHaveLength(deployment.spec?.replicas ?? 1);
      for (const pod of pods) {
        expect(pod.spec?.serviceAccountName).toBe(overlay.account);
        const mounts = pod.spec?.containers[0]?.volumeMounts ?? [];
        expect(mounts.map((mount) => mount.mountPath)).toContain(
          "/var/run/secrets/kubernetes.io/serviceaccount",
        );
      }
    }
  });

  it("stores each NetworkPolicy as rendered, and its selector picks exactly its Deployment's pods", async () => {
    expect(refusedObjects).toEqual([]);
    const networking = config.makeApiClient(NetworkingV1Api);
    for (const overlay of OVERLAYS) {
      // Prepare
      const objects = own(overlay.dir, namespace);
      const deployment = deploymentOf(objects);
      const rendered = networkPolicyOf(objects);
      const [container] = containersOf(deployment);
      if (!container) throw new Error("no container");
      // Act: what the API server kept, and the pods the controllers made.
      const stored = await networking.readNamespacedNetworkPolicy({
        namespace,
        name: rendered.metadata?.name ?? "",
      });
      const deadline = Date.now() + 60_000;
      let made: V1Pod[] = [];
      while (Date.now() < deadline) {
        const selector = labelSelector(deployment.spec?.selector.matchLabels ?? {});
        made = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
        if (made.length >= (deployment.spec?.replicas ?? 1)) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const selected = await core.listNamespacedPod({
        namespace,
        labelSelector: labelSelector(stored.spec?.podSelector?.matchLabels ?? {}),
      });
      // Assess
      const names = (pods: V1Pod[]) => pods.map((pod) => pod.metadata?.name).sort();
      expect(made, overlay.dir).toHaveLength(deployment.spec?.replicas ?? 1);
      expect(names(selected.items), overlay.dir).toEqual(names(made));
      expect(stored.spec?.policyTypes).toEqual(["Ingress"]);
      const asWritten: NetworkPolicyManifest = {
        spec: {
          ingress: (stored.spec?.ingress ?? []).map(({ _from, ports }) => ({
            ...(_from ? { from: JSON.parse(JSON.stringify(_from)) as object[] } : {}),
            ...(ports ? { ports } : {}),
          })),
        },
      };
      expect(audienceOf(asWritten, container)).toEqual(audienceOf(rendered, container));
    }
  });

  it("lets each entry point's account do with Jobs in its namespace exactly what its Role says, and nothing else asked", async () => {
    expect(refusedObjects).toEqual([]);
    const authorization = config.makeApiClient(AuthorizationV1Api);
    const allowed = async (
      account: string,
      verb: string,
      resource: string,
      group: string,
      where = namespace,
    ) => {
      const review = await authorization.createSubjectAccessReview({
        body: {
          spec: {
            user: `system:serviceaccount:${namespace}:${account}`,
            groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`],
            resourceAttributes: { namespace: where, verb, resource, group },
          },
        },
      });
      return review.status?.allowed ?? false;
    };
    for (const { account, jobVerbs } of OVERLAYS) {
      for (const verb of VERBS) {
        const expected = jobVerbs.includes(verb);
        expect(await allowed(account, verb, "jobs", "batch"), `${account} ${verb}`).toBe(expected);
      }
      expect(await allowed(account, "create", "pods", ""), account).toBe(false);
      expect(await allowed(account, "delete", "pods", ""), account).toBe(false);
      expect(await allowed(account, "get", "secrets", ""), account).toBe(false);
      expect(await allowed(account, "create", "jobs", "batch", "default"), account).toBe(false);
    }
  });
});

/** A client config that is `account` in `namespace` (a token from the TokenRequest API). */
async function configAs(
  admin: KubeConfig,
  account: string,
  namespace: string,
): Promise<KubeConfig> {
  const { status } = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: account,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  const cluster = admin.getCurrentCluster();
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster ?? { name: "c", server: "" }],
    users: [{ name: account, token: status?.token }],
    contexts: [{ name: account, cluster: cluster?.name ?? "c", user: account }],
    currentContext: account,
  });
  return config;
}

/** The HTTP status a call ends with: 200 when it succeeds, else the API's error code. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

describeWithCluster("the controller's RBAC, as its own ServiceAccount on an API server", () => {
  // The controller's account, Roles and RoleBindings applied as rendered, in the real
  // namespaces the test control plane's base made; left there (the control plane is this
  // run's own, and admission-policy.test.ts applies the same objects).
  const LEASE = "ondemand-eks-controller";
  const OURS = { "app.kubernetes.io/managed-by": "ondemand-eks" };
  let admin: KubeConfig;
  let controller: KubeConfig;
  let scheduler: KubeConfig;

  /** Whether `config`'s identity may do it, by its own SelfSubjectAccessReview. */
  async function can(
    config: KubeConfig,
    attributes: {
      verb: string;
      resource: string;
      group?: string;
      namespace?: string;
      name?: string;
    },
  ): Promise<boolean> {
    const review = await config.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { group: "", ...attributes } } },
    });
    return review.status?.allowed ?? false;
  }

  beforeAll(async () => {
    admin = new KubeConfig();
    admin.loadFromFile(kubeconfigPath());
    const rbac = own("controller").filter((object) =>
      ["ServiceAccount", "Role", "RoleBinding"].includes(object.kind ?? ""),
    );
    for (const object of rbac) {
      const failure = await serverSideApply(admin, object, {
        dryRun: false,
        fieldManager: FIELD_MANAGER,
      });
      if (failure) throw new Error(failure);
    }
    controller = await configAs(admin, "ondemand-eks-controller", SCHEDULER_NAMESPACE);
    scheduler = await configAs(admin, "ondemand-eks-scheduler", SCHEDULER_NAMESPACE);
  });

  it("lists, creates, gets, merge-patches and deletes (with a uid precondition) its Jobs, and lists pods and events, in each job namespace", async () => {
    const batch = controller.makeApiClient(BatchV1Api);
    const core = controller.makeApiClient(CoreV1Api);
    for (const namespace of JOB_NAMESPACES) {
      // Prepare: a Job as the scheduler makes them (labelled, so the admission policy,
      // which applies to this account too, admits it), suspended so no pod is made.
      const name = `controller-rbac-${randomBytes(4).toString("hex")}`;
      const job: V1Job = {
        metadata: { name, labels: OURS },
        spec: {
          suspend: true,
          template: {
            metadata: { labels: OURS },
            spec: { restartPolicy: "Never", containers: [{ name: "agent", image: "busybox" }] },
          },
        },
      };

      // Act and assess: each call the controller makes, as it makes it.
      const created = await batch.createNamespacedJob({ namespace, body: job });
      const read = await batch.readNamespacedJob({ namespace, name });
      expect(read.metadata?.uid).toBe(created.metadata?.uid);
      const listed = await batch.listNamespacedJob({
        namespace,
        labelSelector: "app.kubernetes.io/managed-by=ondemand-eks",
        limit: 50,
      });
      expect(listed.items.map((each) => each.metadata?.name)).toContain(name);
      const patched = await batch.patchNamespacedJob(
        {
          namespace,
          name,
          body: {
            metadata: {
              annotations: {
                "ondemand-eks.io/stopped": "cancelled",
                "ondemand-eks.io/stopped-at": new Date().toISOString(),
                "ondemand-eks.io/notified": "true",
              },
            },
            spec: { suspend: true },
          },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      expect(patched.metadata?.annotations?.["ondemand-eks.io/stopped"]).toBe("cancelled");
      const pods = core.listNamespacedPod({
        namespace,
        labelSelector: "app.kubernetes.io/managed-by=ondemand-eks,buildkite.com/job-uuid",
      });
      expect(await statusOf(pods), namespace).toBe(200);
      const events = core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.kind=Job,involvedObject.name=${name}`,
      });
      expect(await statusOf(events), namespace).toBe(200);
      // A uid that is not this Job's: the precondition, not RBAC, refuses it (409).
      const stale = batch.deleteNamespacedJob({
        namespace,
        name,
        propagationPolicy: "Background",
        body: { preconditions: { uid: "00000000-0000-0000-0000-000000000000" } },
      });
      expect(await statusOf(stale)).toBe(409);
      await batch.deleteNamespacedJob({
        namespace,
        name,
        propagationPolicy: "Background",
        body: { preconditions: { uid: created.metadata?.uid } },
      });
    }
  });

  it("applies (creating), gets, lists, scales and deletes a pool's Deployment in each job namespace, and nothing more", async () => {
    const apps = controller.makeApiClient(AppsV1Api);
    for (const namespace of JOB_NAMESPACES) {
      // Prepare: a pool's Deployment as reconcilePools applies it (a server-side apply
      // that creates it, authorized as patch and as create).
      const name = `controller-rbac-pool-${randomBytes(4).toString("hex")}`;
      const labels = { ...OURS, "app.kubernetes.io/component": "long-polling-agent", pool: name };
      const body: V1Deployment = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace, labels },
        spec: {
          replicas: 0,
          selector: { matchLabels: { pool: name } },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: "agent", image: "busybox" }] },
          },
        },
      };
      const apply = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);
      const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

      // Act and assess: each call the controller makes, as it makes it.
      const created = await apps.patchNamespacedDeployment(
        { namespace, name, body, fieldManager: "ondemand-eks", force: true },
        apply,
      );
      expect(created.metadata?.uid, namespace).toBeTruthy();
      expect((await apps.readNamespacedDeployment({ namespace, name })).spec?.replicas).toBe(0);
      const listed = await apps.listNamespacedDeployment({
        namespace,
        labelSelector:
          "app.kubernetes.io/managed-by=ondemand-eks,app.kubernetes.io/component=long-polling-agent",
      });
      expect(listed.items.map((each) => each.metadata?.name)).toContain(name);
      const scaled = await apps.patchNamespacedDeployment(
        { namespace, name, body: { spec: { replicas: 1 } } },
        merge,
      );
      expect(scaled.spec?.replicas).toBe(1);
      // Refused: update (apply covers it), the scale subresource (the replicas are
      // merge-patched on the Deployment), watch, deletecollection.
      const replaced = await statusOf(
        apps.replaceNamespacedDeployment({ namespace, name, body: scaled, dryRun: "All" }),
      );
      const rescaled = await statusOf(
        apps.patchNamespacedDeploymentScale(
          { namespace, name, body: { spec: { replicas: 2 } } },
          merge,
        ),
      );
      expect([replaced, rescaled], namespace).toEqual([403, 403]);
      for (const verb of ["watch", "deletecollection", "update"]) {
        expect(
          await can(controller, { verb, resource: "deployments", group: "apps", namespace }),
          verb,
        ).toBe(false);
      }
      await apps.deleteNamespacedDeployment({
        namespace,
        name,
        propagationPolicy: "Background",
        body: { preconditions: { uid: created.metadata?.uid } },
      });
    }
    // Nowhere else: not beside its Secrets, not in another namespace, not cluster-wide.
    for (const namespace of [SCHEDULER_NAMESPACE, "default"]) {
      for (const verb of ["get", "list", "create", "patch", "delete"]) {
        expect(
          await can(controller, { verb, resource: "deployments", group: "apps", namespace }),
          `${namespace} ${verb}`,
        ).toBe(false);
      }
    }
    expect(await can(controller, { verb: "list", resource: "deployments", group: "apps" })).toBe(
      false,
    );
    const elsewhere = apps.patchNamespacedDeployment(
      {
        namespace: "default",
        name: "controller-rbac-elsewhere",
        body: {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "controller-rbac-elsewhere" },
        },
        fieldManager: "ondemand-eks",
        dryRun: "All",
      },
      setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    );
    expect(await statusOf(elsewhere)).toBe(403);
  });

  it("gets, creates and updates its Lease in its own namespace (dry runs: the Lease is left alone)", async () => {
    const coordination = controller.makeApiClient(CoordinationV1Api);
    const where = { namespace: SCHEDULER_NAMESPACE, name: LEASE };
    // get: 200 or 404 are both allowed; 403 is not.
    expect([200, 404]).toContain(await statusOf(coordination.readNamespacedLease(where)));
    const body: V1Lease = {
      metadata: { name: LEASE, namespace: SCHEDULER_NAMESPACE },
      spec: { holderIdentity: "deploy-manifests-test", leaseDurationSeconds: 15 },
    };
    const created = coordination.createNamespacedLease({
      namespace: SCHEDULER_NAMESPACE,
      body,
      dryRun: "All",
    });
    // 409: another run's controller made it already, which still means create was allowed.
    expect([200, 409]).toContain(await statusOf(created));
    // update: on a Lease that does not exist yet the API server answers 404, after RBAC.
    const replaced = coordination.replaceNamespacedLease({ ...where, body, dryRun: "All" });
    expect([200, 404, 409]).toContain(await statusOf(replaced));
    expect(
      await can(controller, {
        verb: "update",
        resource: "leases",
        group: "coordination.k8s.io",
        ...where,
      }),
    ).toBe(true);
    // No other Lease's name, no other verb.
    for (const verb of ["get", "update", "patch", "delete"]) {
      expect(
        await can(controller, {
          verb,
          resource: "leases",
          group: "coordination.k8s.io",
          namespace: SCHEDULER_NAMESPACE,
          name: verb === "get" || verb === "update" ? "another-lease" : LEASE,
        }),
        verb,
      ).toBe(false);
    }
    expect(
      await can(controller, {
        verb: "watch",
        resource: "leases",
        group: "coordination.k8s.io",
        namespace: SCHEDULER_NAMESPACE,
      }),
    ).toBe(false);
  });

  it("can do nothing else: no Jobs beside its Secrets, no Secrets, no pod deletes, no Lease in a job namespace, nothing cluster-wide", async () => {
    const refused: Parameters<typeof can>[1][] = [
      { verb: "create", resource: "jobs", group: "batch", namespace: SCHEDULER_NAMESPACE },
      { verb: "list", resource: "jobs", group: "batch", namespace: SCHEDULER_NAMESPACE },
      { verb: "create", resource: "jobs", group: "batch", namespace: "default" },
      { verb: "watch", resource: "jobs", group: "batch", namespace: "buildkite" },
      { verb: "update", resource: "jobs", group: "batch", namespace: "buildkite" },
      { verb: "deletecollection", resource: "jobs", group: "batch", namespace: "buildkite" },
      { verb: "get", resource: "secrets", namespace: "buildkite" },
      { verb: "list", resource: "secrets", namespace: "buildkite" },
      { verb: "get", resource: "secrets", namespace: SCHEDULER_NAMESPACE },
      { verb: "delete", resource: "pods", namespace: "buildkite" },
      { verb: "get", resource: "pods", namespace: "buildkite" },
      { verb: "create", resource: "pods", namespace: "buildkite" },
      { verb: "create", resource: "events", namespace: "buildkite" },
      {
        verb: "update",
        resource: "leases",
        group: "coordination.k8s.io",
        namespace: "buildkite",
        name: LEASE,
      },
      { verb: "create", resource: "leases", group: "coordination.k8s.io", namespace: "buildkite" },
      // Cluster-scoped, or every namespace at once.
      { verb: "list", resource: "jobs", group: "batch" },
      { verb: "list", resource: "pods" },
      { verb: "list", resource: "namespaces" },
      { verb: "list", resource: "nodes" },
      { verb: "create", resource: "clusterrolebindings", group: "rbac.authorization.k8s.io" },
      {
        verb: "update",
        resource: "validatingadmissionpolicies",
        group: "admissionregistration.k8s.io",
      },
    ];
    for (const attributes of refused) {
      expect(await can(controller, attributes), JSON.stringify(attributes)).toBe(false);
    }
    // And for real: a Job beside the scheduler's Secrets is refused by RBAC.
    const beside = controller.makeApiClient(BatchV1Api).createNamespacedJob({
      namespace: SCHEDULER_NAMESPACE,
      body: {
        metadata: { name: "beside-secrets", labels: OURS },
        spec: { template: { spec: { containers: [] } } },
      },
      dryRun: "All",
    });
    expect(await statusOf(beside)).toBe(403);
    const secret = controller
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ namespace: "buildkite", name: "buildkite-agent-token" });
    expect(await statusOf(secret)).toBe(403);
  });

  it("leaves the scheduler's (the webhook's) account with create and get on Jobs only", async () => {
    for (const namespace of JOB_NAMESPACES) {
      for (const verb of VERBS) {
        const expected = verb === "create" || verb === "get";
        expect(
          await can(scheduler, { verb, resource: "jobs", group: "batch", namespace }),
          `${namespace} ${verb}`,
        ).toBe(expected);
      }
      expect(await can(scheduler, { verb: "list", resource: "pods", namespace })).toBe(false);
      expect(await can(scheduler, { verb: "list", resource: "events", namespace })).toBe(false);
    }
    expect(
      await can(scheduler, {
        verb: "get",
        resource: "leases",
        group: "coordination.k8s.io",
        namespace: SCHEDULER_NAMESPACE,
        name: LEASE,
      }),
    ).toBe(false);
  });
});
