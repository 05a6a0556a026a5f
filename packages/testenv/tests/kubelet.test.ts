import {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  type V1Container,
  type V1Job,
  type V1Pod,
  type V1PodSpec,
} from "@kubernetes/client-node";
import {
  ensureBuildkiteAgent,
  skipUnlessCi,
  startTestControlPlane,
  startTestKubelet,
  type TestKubelet,
  type TestRun,
} from "@ondemand-eks/testenv";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";

// A control plane of this file's own: its scheduler, and Nodes no other test sees.
const run: TestRun = await startTestControlPlane("kubelet");
const agent = await skipUnlessCi(() => ensureBuildkiteAgent());
afterAll(() => run.teardown());

const NAMESPACE = "default";
let kubelet: TestKubelet;
let core: CoreV1Api;
let batch: BatchV1Api;

/** Polls until `read` gives something `done` accepts (30 s at most); returns it. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let attempt = 0; attempt < 300; attempt++) {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting; last seen: ${JSON.stringify(last, null, 1).slice(0, 3000)}`);
}

const pod = (name: string) => () => core.readNamespacedPod({ name, namespace: NAMESPACE });
const job = (name: string) => () => core && batch.readNamespacedJob({ name, namespace: NAMESPACE });
const phaseIs = (phase: string) => (found: V1Pod) => found.status?.phase === phase;
const jobCondition = (found: V1Job) =>
  found.status?.conditions?.find(
    (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
  )?.type;
const waiting = (found: V1Pod, container: string) =>
  [...(found.status?.initContainerStatuses ?? []), ...(found.status?.containerStatuses ?? [])].find(
    (c) => c.name === container,
  )?.state?.waiting?.reason;
const terminated = (found: V1Pod, container: string) =>
  [...(found.status?.initContainerStatuses ?? []), ...(found.status?.containerStatuses ?? [])].find(
    (c) => c.name === container,
  )?.state?.terminated;

/** A Job of one pod on the EC2-like node, never retried. */
async function createJob(name: string, spec: Partial<V1PodSpec>): Promise<string> {
  await batch.createNamespacedJob({
    namespace: NAMESPACE,
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: "Never",
            nodeSelector: { "eks.amazonaws.com/compute-type": "ec2" },
            containers: [],
            ...spec,
          },
        },
      },
    },
  });
  const pods = await until(
    () => core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `job-name=${name}` }),
    (list) => list.items.length > 0,
  );
  return pods.items[0]?.metadata?.name ?? "";
}

const shell = (name: string, script: string, extra: Partial<V1Container> = {}): V1Container => ({
  name,
  image: "debian:bookworm",
  command: ["sh", "-c", script],
  ...extra,
});

describeWith([run.info, agent], "the test kubelet on the local control plane", () => {
  beforeAll(async () => {
    const config = new KubeConfig();
    config.loadFromFile(run.info.available ? run.info.value.kubeconfig : "");
    core = config.makeApiClient(CoreV1Api);
    batch = config.makeApiClient(BatchV1Api);
    kubelet = await startTestKubelet({
      kubeconfig: run.info.available ? run.info.value.kubeconfig : "",
      agentPath: agent.value as string,
      nodes: [
        { name: "ec2-node", labels: { "eks.amazonaws.com/compute-type": "ec2" } },
        { name: "doomed-node", labels: { "testenv/doomed": "true" } },
        {
          name: "fargate-node",
          labels: { "eks.amazonaws.com/compute-type": "fargate" },
          taints: [
            { key: "eks.amazonaws.com/compute-type", value: "fargate", effect: "NoSchedule" },
          ],
        },
      ],
    });
  });
  afterAll(() => kubelet?.close());

  it("lets the real scheduler bind by selector, affinity and toleration, and leave pods no node fits pending", async () => {
    // Prepare
    const tolerateFargate = [
      { key: "eks.amazonaws.com/compute-type", value: "fargate", effect: "NoSchedule" },
    ];
    const body = (
      name: string,
      selector: Record<string, string>,
      tolerations = tolerateFargate,
    ) => ({
      metadata: { name },
      spec: {
        nodeSelector: selector,
        tolerations,
        restartPolicy: "Never",
        containers: [shell("main", "true")],
      },
    });

    // Act
    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: body("wants-fargate", { "eks.amazonaws.com/compute-type": "fargate" }),
    });
    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: body("wants-fargate-untolerated", { "eks.amazonaws.com/compute-type": "fargate" }, []),
    });
    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: body("wants-gpu", { "nvidia.com/gpu": "true" }),
    });

    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name: "wants-fargate-by-affinity" },
        spec: {
          tolerations: tolerateFargate,
          restartPolicy: "Never",
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      {
                        key: "eks.amazonaws.com/compute-type",
                        operator: "In",
                        values: ["fargate"],
                      },
                    ],
                  },
                ],
              },
            },
          },
          containers: [shell("main", "true")],
        },
      },
    });
    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name: "wants-too-much" },
        spec: {
          restartPolicy: "Never",
          containers: [shell("main", "true", { resources: { requests: { cpu: "100" } } })],
        },
      },
    });

    // Assess
    const fargate = await until(pod("wants-fargate"), phaseIs("Succeeded"));
    expect(fargate.spec?.nodeName).toBe("fargate-node");
    const byAffinity = await until(pod("wants-fargate-by-affinity"), phaseIs("Succeeded"));
    expect(byAffinity.spec?.nodeName).toBe("fargate-node");
    const tooBig = await until(pod("wants-too-much"), (found) =>
      Boolean(found.status?.conditions?.some((c) => c.message?.includes("Insufficient cpu"))),
    );
    expect(tooBig.spec?.nodeName).toBeUndefined();
    for (const name of ["wants-gpu", "wants-fargate-untolerated"]) {
      const pending = await until(pod(name), (found) =>
        Boolean(found.status?.conditions?.some((c) => c.reason === "Unschedulable")),
      );
      expect(pending.spec?.nodeName).toBeUndefined();
    }
  });

  it("runs a Job's pod as processes: env from values, a Secret, a ConfigMap and fields; an emptyDir; a sidecar; the Job completes", async () => {
    // Prepare
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name: "greeting" }, stringData: { word: "hello" } },
    });
    await core.createNamespacedConfigMap({
      namespace: NAMESPACE,
      body: { metadata: { name: "audience" }, data: { who: "world" } },
    });
    const mount = [{ name: "shared", mountPath: "/shared" }];

    // Act
    const name = await createJob("runs", {
      volumes: [{ name: "shared", emptyDir: {} }],
      initContainers: [
        shell("prepare", "echo prepared > /shared/note", { volumeMounts: mount }),
        { name: "postgres", image: "postgres:16", restartPolicy: "Always" },
      ],
      containers: [
        shell("main", 'echo "$WORD $WHO from $(POD) on $NODE: $(cat /shared/note)"', {
          volumeMounts: mount,
          env: [
            { name: "WORD", valueFrom: { secretKeyRef: { name: "greeting", key: "word" } } },
            { name: "WHO", valueFrom: { configMapKeyRef: { name: "audience", key: "who" } } },
            { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          ],
        }),
      ],
    });

    // Assess
    const done = await until(job("runs"), (found) => jobCondition(found) !== undefined);
    const story = async () =>
      `${JSON.stringify((await pod(name)()).status, null, 1)}\n${await kubelet.containerLog(NAMESPACE, name, "prepare")}${await kubelet.containerLog(NAMESPACE, name, "main")}`;
    expect(jobCondition(done), await story()).toBe("Complete");
    const finished = await until(pod(name), phaseIs("Succeeded"));
    expect(terminated(finished, "prepare")).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(terminated(finished, "main")).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(terminated(finished, "postgres")).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(await kubelet.containerLog(NAMESPACE, name, "main")).toBe(
      `hello world from ${name} on ec2-node: prepared\n`,
    );
  });

  it("holds a container whose Secret is missing in CreateContainerConfigError, and starts it once the Secret exists", async () => {
    // Act
    const name = await createJob("needs-secret", {
      containers: [
        shell("main", 'test "$TOKEN" = late', {
          env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "late", key: "token" } } }],
        }),
      ],
    });
    const held = await until(
      pod(name),
      (found) =>
        waiting(found, "main") !== undefined && waiting(found, "main") !== "PodInitializing",
    );
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name: "late" }, stringData: { token: "late" } },
    });

    const unmounted = await createJob("needs-secret-volume", {
      volumes: [{ name: "token", secret: { secretName: "never-created" } }],
      containers: [
        shell("main", "true", { volumeMounts: [{ name: "token", mountPath: "/token" }] }),
      ],
    });

    // Assess
    expect(waiting(held, "main")).toBe("CreateContainerConfigError");
    // A volume it cannot mount holds the pod in ContainerCreating instead.
    await until(pod(unmounted), (found) => waiting(found, "main") === "ContainerCreating");
    expect(held.status?.containerStatuses?.[0]?.state?.waiting?.message).toBe(
      'secret "late" not found',
    );
    expect(
      (await until(pod(name), (found) => found.status?.phase !== "Pending")).status?.phase,
    ).not.toBe("Failed");
    await until(pod(name), phaseIs("Succeeded"));
  });

  it("fails pulls as a node does: ErrImagePull then ImagePullBackOff, and InvalidImageName", async () => {
    // Act
    const missing = await createJob("missing-image", {
      containers: [{ name: "main", image: "registry.invalid/nothing:1" }],
    });
    const invalid = await createJob("invalid-image", {
      containers: [{ name: "main", image: "Not/A Valid:Image" }],
    });

    // Assess
    await until(pod(missing), (found) => waiting(found, "main") === "ErrImagePull");
    const backOff = await until(
      pod(missing),
      (found) => waiting(found, "main") === "ImagePullBackOff",
    );
    expect(backOff.status?.phase).toBe("Pending");
    const refused = await until(
      pod(invalid),
      (found) => waiting(found, "main") === "InvalidImageName",
    );
    expect(refused.status?.phase).toBe("Pending");
  });

  it("fails the Job when the command fails, when an init container fails, and on an OOM kill", async () => {
    // Act
    const failing = await createJob("exits-3", { containers: [shell("main", "exit 3")] });
    const early = await createJob("init-fails", {
      volumes: [{ name: "bin", emptyDir: {} }],
      initContainers: [
        // The agent image's binary is not in a plain image: the copy fails, as it would there.
        {
          name: "copy-agent",
          image: "debian:bookworm",
          command: ["cp", "/usr/local/bin/buildkite-agent", "/buildkite/bin/"],
          volumeMounts: [{ name: "bin", mountPath: "/buildkite/bin" }],
        },
      ],
      containers: [shell("main", "true")],
    });
    const hungry = await createJob("oom", { containers: [shell("main", "sleep 60")] });
    await until(pod(hungry), phaseIs("Running"));
    expect(kubelet.oomKill(NAMESPACE, hungry, "main")).toBe(true);

    // Assess
    expect(terminated(await until(pod(failing), phaseIs("Failed")), "main")).toMatchObject({
      exitCode: 3,
      reason: "Error",
    });
    const initFailed = await until(pod(early), phaseIs("Failed"));
    expect(terminated(initFailed, "copy-agent")?.exitCode).not.toBe(0);
    expect(waiting(initFailed, "main")).toBe("PodInitializing");
    expect(terminated(await until(pod(hungry), phaseIs("Failed")), "main")).toMatchObject({
      exitCode: 137,
      reason: "OOMKilled",
    });
    for (const name of ["exits-3", "init-fails", "oom"]) {
      expect(
        jobCondition(await until(job(name), (found) => jobCondition(found) !== undefined)),
      ).toBe("Failed");
    }
  });

  it("stops a deleted pod within its grace period and confirms the deletion", async () => {
    // Prepare
    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name: "deleted" },
        spec: {
          nodeSelector: { "eks.amazonaws.com/compute-type": "ec2" },
          restartPolicy: "Never",
          terminationGracePeriodSeconds: 5,
          containers: [shell("main", "sleep 60")],
        },
      },
    });
    await until(pod("deleted"), phaseIs("Running"));

    // Act
    await core.deleteNamespacedPod({ name: "deleted", namespace: NAMESPACE });

    // Assess
    const gone = await until(
      () =>
        core.listNamespacedPod({ namespace: NAMESPACE, fieldSelector: "metadata.name=deleted" }),
      (list) => list.items.length === 0,
    );
    expect(gone.items).toEqual([]);
  });

  it("lets the TTL controller remove a finished Job and its pod", async () => {
    // Act
    await batch.createNamespacedJob({
      namespace: NAMESPACE,
      body: {
        metadata: { name: "short-lived" },
        spec: {
          ttlSecondsAfterFinished: 0,
          template: {
            spec: {
              restartPolicy: "Never",
              nodeSelector: { "eks.amazonaws.com/compute-type": "ec2" },
              containers: [shell("main", "true")],
            },
          },
        },
      },
    });

    // Assess
    const jobs = await until(
      () =>
        batch.listNamespacedJob({
          namespace: NAMESPACE,
          fieldSelector: "metadata.name=short-lived",
        }),
      (list) => list.items.length === 0,
    );
    expect(jobs.items).toEqual([]);
  });

  it("loses a node: the node controller marks it unreachable and its pods not ready", async () => {
    // Prepare
    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name: "on-doomed-node" },
        spec: {
          nodeSelector: { "testenv/doomed": "true" },
          restartPolicy: "Never",
          containers: [shell("main", "sleep 120")],
        },
      },
    });
    await until(pod("on-doomed-node"), phaseIs("Running"));

    // Act
    await kubelet.loseNode("doomed-node");

    // Assess
    const ready = (found: { status?: { conditions?: { type: string; status: string }[] } }) =>
      found.status?.conditions?.find((c) => c.type === "Ready")?.status;
    // The node controller marks it Unknown, then taints it: wait for both.
    const node = await until(
      () => core.readNode({ name: "doomed-node" }),
      (found) =>
        ready(found) === "Unknown" &&
        Boolean(found.spec?.taints?.some((t) => t.key === "node.kubernetes.io/unreachable")),
    );
    expect(node.status?.conditions?.find((c) => c.type === "Ready")?.reason).toBe(
      "NodeStatusUnknown",
    );
    const stranded = await until(pod("on-doomed-node"), (found) => ready(found) === "False");
    expect(stranded.status?.phase).toBe("Running");
  });

  it("posts its node Ready again after the node controller marked it unknown (a late heartbeat)", async () => {
    // Prepare: what the node controller writes when a heartbeat is late
    const node = await core.readNodeStatus({ name: "ec2-node" });
    const conditions = (node.status?.conditions ?? []).map((c) =>
      c.type === "Ready" ? { ...c, status: "Unknown", reason: "NodeStatusUnknown" } : c,
    );

    // Act
    await core.replaceNodeStatus({
      name: "ec2-node",
      body: { ...node, status: { ...node.status, conditions } },
    });

    // Assess
    const ready = (found: typeof node) =>
      found.status?.conditions?.find((c) => c.type === "Ready")?.status;
    const recovered = await until(
      () => core.readNode({ name: "ec2-node" }),
      (found) => ready(found) === "True" && found.status?.conditions !== undefined,
    );
    expect(recovered.status?.conditions?.find((c) => c.type === "Ready")?.reason).toBe(
      "KubeletReady",
    );
  });
});
