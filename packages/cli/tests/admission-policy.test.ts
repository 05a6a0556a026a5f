import { randomUUID } from "node:crypto";
import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  type V1Job,
} from "@kubernetes/client-node";
import { renderKustomization, serverSideApply } from "@ondemand-eks/testenv";
import { beforeAll, expect, it } from "vitest";
import { describeWithCluster, kubeconfigPath } from "./cluster.js";
import { cli, sample, tempDir } from "./helpers.js";

// deploy/kubernetes/base/scheduler-admission-policy.yaml, applied with the base by the test
// control plane: Jobs sent with the scheduler's own ServiceAccount token, and with the
// lifecycle controller's (deploy/kubernetes/controller), which creates Jobs too.

/** The base's namespace for privileged definitions' jobs (the Role is granted there too). */
const PRIVILEGED = "buildkite-privileged";

const CONTROLLER_DIR = new URL("../../../deploy/kubernetes/controller", import.meta.url).pathname;

/**
 * An API client that is one of the scheduler's ServiceAccounts in ondemand-eks (a token
 * from the TokenRequest API): by default the scheduler's own.
 */
async function asScheduler(
  admin: KubeConfig,
  account = "ondemand-eks-scheduler",
): Promise<BatchV1Api> {
  const core = admin.makeApiClient(CoreV1Api);
  const { status } = await core.createNamespacedServiceAccountToken({
    name: account,
    namespace: "ondemand-eks",
    body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  const cluster = admin.getCurrentCluster();
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster ?? { name: "c", server: "" }],
    users: [{ name: "scheduler", token: status?.token }],
    contexts: [{ name: "scheduler", cluster: cluster?.name ?? "c", user: "scheduler" }],
    currentContext: "scheduler",
  });
  return config.makeApiClient(BatchV1Api);
}

/**
 * The Job `render` makes for the sample event with `pod`, in `namespace` (privileged
 * definitions' Jobs too, unless `privileged` names another).
 */
async function rendered(
  pod: string,
  namespace = "buildkite",
  privileged = namespace,
): Promise<V1Job> {
  const event = sample();
  const detail = event.detail as { job: { uuid: string; agent_query_rules: string[] } };
  detail.job.uuid = randomUUID();
  detail.job.agent_query_rules = ["queue=default", `pod=${pod}`];
  const dir = tempDir({ "event.json": JSON.stringify(event) });
  const { stdout, stderr } = await cli(
    [
      ...["render", "--event", `${dir}/event.json`, "-o", "json"],
      ...["--namespace", namespace, "--privileged-namespace", privileged],
    ],
    { env: {} },
  );
  if (!stdout) throw new Error(stderr);
  return JSON.parse(stdout) as V1Job;
}

/** A dry-run create as the scheduler: undefined when admitted, else status and message. */
async function send(batch: BatchV1Api, job: V1Job) {
  try {
    await batch.createNamespacedJob({
      namespace: job.metadata?.namespace ?? "buildkite",
      body: job,
      dryRun: "All",
    });
    return undefined;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body = typeof error.body === "string" ? error.body : JSON.stringify(error.body);
    return { code: error.code, message: (JSON.parse(body) as { message?: string }).message ?? "" };
  }
}

describeWithCluster("the admission policy on the scheduler's Jobs", () => {
  let scheduler: BatchV1Api;
  let admin: KubeConfig;

  beforeAll(async () => {
    admin = new KubeConfig();
    admin.loadFromFile(kubeconfigPath());
    scheduler = await asScheduler(admin);
    // A new policy takes a moment to be enforced: wait until a crafted Job is refused.
    const crafted = await rendered("default");
    crafted.spec?.template.spec?.containers.forEach((c) => {
      c.securityContext = { privileged: true };
    });
    for (let i = 0; i < 100 && (await send(scheduler, crafted)) === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it("admits the Job of every bundled one-shot definition, elastic-ci-stack in a privileged namespace", async () => {
    expect(await send(scheduler, await rendered("default"))).toBeUndefined();
    expect(await send(scheduler, await rendered("node-postgres"))).toBeUndefined();
    // By default a privileged definition's Job goes to the privileged namespace.
    const elastic = await rendered("elastic-ci-stack", "buildkite", PRIVILEGED);
    expect(elastic.metadata?.namespace).toBe(PRIVILEGED);
    expect(await send(scheduler, elastic)).toBeUndefined();
  });

  it("refuses elastic-ci-stack's privileged dockerd outside a privileged namespace", async () => {
    const refused = await send(scheduler, await rendered("elastic-ci-stack"));
    expect(refused?.code).toBe(403);
    expect(refused?.message).toContain("privileged features");
    expect(refused?.message).toContain("not in buildkite");
  });

  it.each([
    [
      "a privileged container",
      (job: V1Job) => {
        const agent = job.spec?.template.spec?.containers[0];
        if (agent) agent.securityContext = { privileged: true };
      },
      "privileged features",
    ],
    [
      "a hostPath volume",
      (job: V1Job) => {
        const spec = job.spec?.template.spec;
        if (spec) spec.volumes = [{ name: "root", hostPath: { path: "/" } }];
      },
      "privileged features",
    ],
    [
      "added capabilities",
      (job: V1Job) => {
        const agent = job.spec?.template.spec?.containers[0];
        if (agent) agent.securityContext = { capabilities: { add: ["SYS_ADMIN"] } };
      },
      "privileged features",
    ],
    [
      "another Secret",
      (job: V1Job) => {
        job.spec?.template.spec?.containers[0]?.env?.push({
          name: "STOLEN",
          valueFrom: { secretKeyRef: { name: "ondemand-eks-webhook-token", key: "token" } },
        });
      },
      "no Secret but the agent token",
    ],
    [
      "a Secret volume",
      (job: V1Job) => {
        const spec = job.spec?.template.spec;
        if (spec) spec.volumes = [{ name: "s", secret: { secretName: "anything" } }];
      },
      "no Secret but the agent token",
    ],
    [
      "no managed-by label",
      (job: V1Job) => {
        delete job.metadata?.labels?.["app.kubernetes.io/managed-by"];
      },
      "labelled app.kubernetes.io/managed-by=ondemand-eks",
    ],
  ])("refuses a crafted Job with %s", async (_name, craft, expected) => {
    // Prepare
    const job = await rendered("default");
    craft(job);

    // Act
    const refused = await send(scheduler, job);

    // Assess
    expect(refused?.code).toBe(403);
    expect(refused?.message).toContain(expected);
  });

  it("applies to the lifecycle controller's account too: its Jobs are admitted, an unlabelled or privileged one refused", async () => {
    // Prepare: the controller's account and Roles, as rendered (left in place: this
    // control plane is the run's own, and deploy-manifests.test.ts applies the same).
    for (const object of renderKustomization(CONTROLLER_DIR).filter((each) =>
      ["ServiceAccount", "Role", "RoleBinding"].includes(each.kind ?? ""),
    )) {
      const failure = await serverSideApply(admin, object, {
        dryRun: false,
        fieldManager: "ondemand-eks-admission-policy-test",
      });
      if (failure) throw new Error(failure);
    }
    const controller = await asScheduler(admin, "ondemand-eks-controller");
    const unlabelled = await rendered("default");
    delete unlabelled.metadata?.labels?.["app.kubernetes.io/managed-by"];
    const privileged = await rendered("default");
    const agent = privileged.spec?.template.spec?.containers[0];
    if (agent) agent.securityContext = { privileged: true };

    // Act
    const admitted = await send(controller, await rendered("default"));
    const refusedUnlabelled = await send(controller, unlabelled);
    const refusedPrivileged = await send(controller, privileged);

    // Assess
    expect(admitted).toBeUndefined();
    expect(refusedUnlabelled?.code).toBe(403);
    expect(refusedUnlabelled?.message).toContain(
      "labelled app.kubernetes.io/managed-by=ondemand-eks",
    );
    expect(refusedPrivileged?.code).toBe(403);
    expect(refusedPrivileged?.message).toContain("privileged features");
  });

  it("lets RBAC refuse a Job in another namespace", async () => {
    const refused = await send(scheduler, await rendered("default", "default"));
    expect(refused?.code).toBe(403);
    expect(refused?.message).toContain('cannot create resource "jobs"');
  });
});
