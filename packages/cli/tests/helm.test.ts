import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Container,
  type V1Deployment,
  type V1EnvVar,
  type V1Ingress,
  type V1Namespace,
  type V1Role,
  type V1RoleBinding,
  type V1ServiceAccount,
} from "@kubernetes/client-node";
import {
  ensureHelm,
  readToolVersions,
  renderKustomization,
  runHelm,
  serverSideApply,
  skipUnlessCi,
} from "@ondemand-eks/testenv";
import { controlPlane, describeWith } from "@ondemand-eks/testenv/vitest";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { kubeconfigPath } from "./cluster.js";

// deploy/helm/ondemand-eks: linted and rendered by a real helm (built from its Go module,
// tools/helm), compared with what deploy/kubernetes gives for the same choices, and every
// rendered object sent to the local control plane as a server-side dry run.

const REPO = new URL("../../../", import.meta.url).pathname;
const CHART = join(REPO, "deploy", "helm", "ondemand-eks");
const KUSTOMIZE = join(REPO, "deploy", "kubernetes");
/** The release and namespace under which the chart's names are deploy/kubernetes's. */
const RELEASE = "ondemand-eks";
const NAMESPACE = "ondemand-eks";
const FIELD_MANAGER = "ondemand-eks-helm-test";

// Built (or found in the cache) here, so that without Go the tests are reported as
// skipped (never under CI). A cold build takes minutes; loading a test file has no timeout.
const helm = await skipUnlessCi(() => ensureHelm());
const { kubernetes } = await readToolVersions();

/** What the SQS consumer's kustomization holds as placeholders, set the same way here. */
const SQS_VALUES = [
  "sqsConsumer.queueUrl=https://sqs.us-east-1.amazonaws.com/111122223333/buildkite-scheduled-jobs",
  "sqsConsumer.region=us-east-1",
  "sqsConsumer.serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::111122223333:role/ondemand-eks-sqs-consumer",
];

/** Each case: `--set` values, and the kinds (beyond the defaults') it adds. */
const CASES = {
  defaults: { set: [], kinds: [] },
  webhook: {
    set: ["webhook.enabled=true"],
    kinds: ["Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"],
  },
  "sqs-consumer": {
    set: ["sqsConsumer.enabled=true", ...SQS_VALUES],
    kinds: ["ServiceAccount", "ConfigMap", "Deployment", "PodDisruptionBudget", "NetworkPolicy"],
  },
  "webhook-ingress": {
    set: [
      "webhook.enabled=true",
      "webhook.ingress.enabled=true",
      "webhook.ingress.className=nginx",
      "webhook.ingress.host=buildkite-webhook.example.com",
      "webhook.ingress.tls.secretName=ondemand-eks-webhook-tls",
    ],
    kinds: ["Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "Ingress"],
  },
  "library-files": {
    set: [
      "webhook.enabled=true",
      "library.files.default\\.yaml=name: default\nagent:\n  image: buildkite/agent:3\n",
    ],
    kinds: ["Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap"],
  },
  controller: {
    set: ["controller.enabled=true"],
    kinds: [
      "ServiceAccount",
      ...["Role", "Role", "Role", "RoleBinding", "RoleBinding", "RoleBinding"],
      ...["Deployment", "PodDisruptionBudget", "NetworkPolicy"],
    ],
  },
} satisfies Record<string, { set: string[]; kinds: string[] }>;
const EVERY_ROUTE = [...CASES.webhook.set, ...CASES["sqs-consumer"].set, ...CASES.controller.set];

/** What the default values render: the base of deploy/kubernetes without its scheduler Namespace. */
const DEFAULT_KINDS = [
  ...["Namespace", "Namespace", "ServiceAccount", "ServiceAccount"],
  ...["Role", "Role", "RoleBinding", "RoleBinding"],
  ...["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"],
];

/** Variables the chart sets that deploy/kubernetes leaves to the program's defaults. */
const CHART_ONLY_ENV = ["ONDEMAND_EKS_PRIVILEGED_NAMESPACE", "ONDEMAND_EKS_AGENT_TOKEN_SECRET"];

function helmArgs(set: string[], release = RELEASE): string[] {
  return [
    ...[release, CHART, "--namespace", NAMESPACE, "--kube-version", kubernetes],
    ...set.flatMap((value) => ["--set", value]),
  ];
}

async function template(set: string[], release = RELEASE): Promise<KubernetesObject[]> {
  const yaml = await runHelm(helm.value as string, ["template", ...helmArgs(set, release)]);
  return parseAllDocuments(yaml)
    .map((document) => document.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null);
}

const keyOf = (object: KubernetesObject) =>
  `${object.kind} ${object.metadata?.namespace ?? "-"}/${object.metadata?.name}`;

function byKey(objects: KubernetesObject[]): Map<string, KubernetesObject> {
  return new Map(objects.map((object) => [keyOf(object), object]));
}

/** deploy/kubernetes for every route at once: each directory's objects, the base's once. */
function kustomizeEveryRoute(): Map<string, KubernetesObject> {
  return byKey(
    ["base", "webhook", "sqs-consumer", "controller"].flatMap((dir) =>
      renderKustomization(join(KUSTOMIZE, dir)),
    ),
  );
}

const appVersion = (
  parseYaml(readFileSync(join(CHART, "Chart.yaml"), "utf8")) as {
    appVersion: string;
  }
).appVersion;

/** A container's env by name, without the chart-only variables. */
function envOf(container: V1Container): Record<string, V1EnvVar> {
  return Object.fromEntries(
    (container.env ?? [])
      .filter((variable) => !CHART_ONLY_ENV.includes(variable.name))
      .map((variable) => [variable.name, variable]),
  );
}

/** A Deployment's spec without what differs by design: selectors, pod labels, image, env. */
function comparableDeployment(deployment: V1Deployment) {
  const { selector: _selector, template, ...spec } = deployment.spec ?? ({} as never);
  const { topologySpreadConstraints, containers, ...pod } = template.spec ?? ({} as never);
  return {
    spec,
    pod,
    spread: topologySpreadConstraints?.map(({ labelSelector: _s, ...rest }) => rest),
    containers: containers.map(({ image: _image, env, ...container }) => ({
      ...container,
      env: envOf({ name: container.name, env }),
    })),
  };
}

/** A spec without its pod selector (the chart's adds the instance label). */
function withoutSelectors(object: KubernetesObject): unknown {
  const spec = { ...(object as { spec?: Record<string, unknown> }).spec };
  delete spec.selector;
  delete spec.podSelector;
  return spec;
}

/** The selector's labels of a Deployment, Service, PodDisruptionBudget or NetworkPolicy. */
function selectorOf(object: KubernetesObject): Record<string, string> | undefined {
  const spec = (object as { spec?: Record<string, unknown> }).spec ?? {};
  const selector = (spec.selector ?? spec.podSelector) as
    | { matchLabels?: Record<string, string> }
    | Record<string, string>
    | undefined;
  if (!selector) return undefined;
  return object.kind === "Service"
    ? (selector as Record<string, string>)
    : (selector as { matchLabels?: Record<string, string> }).matchLabels;
}

describeWith(helm, "the Helm chart (deploy/helm/ondemand-eks)", () => {
  it("passes helm lint --strict with the defaults and with every route on", async () => {
    // Act
    const defaults = await runHelm(helm.value as string, ["lint", "--strict", CHART]);
    const routes = await runHelm(helm.value as string, [
      "lint",
      "--strict",
      CHART,
      ...EVERY_ROUTE.flatMap((value) => ["--set", value]),
    ]);

    // Assess
    expect(defaults).toContain("0 chart(s) failed");
    expect(routes).toContain("0 chart(s) failed");
  });

  it("says the packages' version: appVersion is the cli's, the image's default tag", () => {
    const cli = JSON.parse(readFileSync(join(REPO, "packages/cli/package.json"), "utf8")) as {
      version: string;
    };
    expect(appVersion).toBe(cli.version);
  });

  it.each(Object.entries(CASES))(
    "renders %s with the recommended labels on every object",
    async (_name, { set, kinds }) => {
      // Act
      const objects = await template(set);

      // Assess
      expect(objects.map((object) => object.kind).sort()).toEqual(
        [...DEFAULT_KINDS, ...kinds].sort(),
      );
      for (const object of objects) {
        expect(object.metadata?.labels, keyOf(object)).toMatchObject({
          "app.kubernetes.io/name": "ondemand-eks",
          "app.kubernetes.io/instance": RELEASE,
          "app.kubernetes.io/version": appVersion,
          "app.kubernetes.io/managed-by": "Helm",
          "app.kubernetes.io/part-of": "ondemand-eks",
        });
      }
      for (const deployment of objects.filter((object) => object.kind === "Deployment")) {
        const image = (deployment as V1Deployment).spec?.template.spec?.containers[0]?.image;
        expect(image).toBe(`ondemand-eks:${appVersion}`);
      }
    },
  );

  it("exposes the webhook as deploy/kubernetes/webhook-exposure/ingress does: /webhook only, with TLS", async () => {
    // Prepare
    const [kustomized] = renderKustomization(join(KUSTOMIZE, "webhook-exposure", "ingress"));

    // Act
    const objects = await template(CASES["webhook-ingress"].set);
    const missingHost = runHelm(helm.value as string, [
      "template",
      ...helmArgs(["webhook.enabled=true", "webhook.ingress.enabled=true"]),
    ]);

    // Assess
    const ingress = objects.find((object) => object.kind === "Ingress") as V1Ingress;
    expect(ingress.spec).toEqual((kustomized as V1Ingress).spec);
    await expect(missingHost).rejects.toThrow(
      /webhook.ingress.host: the host name Buildkite will call/,
    );
  });

  describe("the pod library (library.*)", () => {
    const LIBRARY = "/etc/ondemand-eks/pods";
    const deploymentsOf = (objects: KubernetesObject[]) =>
      objects.filter((object): object is V1Deployment => object.kind === "Deployment");
    const processOf = (deployment: V1Deployment) =>
      deployment.spec?.template.spec?.containers[0] as V1Container;
    const withFiles = (text: string) => [...EVERY_ROUTE, `library.files.default\\.yaml=${text}`];

    it("makes a ConfigMap of library.files that every route mounts read-only where ONDEMAND_EKS_LIBRARY points", async () => {
      // Act
      const objects = await template(withFiles("name: default"));

      // Assess
      const configMap = objects.find(
        (object) => object.kind === "ConfigMap" && object.metadata?.name?.endsWith("-pod-library"),
      ) as V1ConfigMap;
      expect(configMap.data).toEqual({ "default.yaml": "name: default" });
      const deployments = deploymentsOf(objects);
      expect(deployments).toHaveLength(3);
      for (const deployment of deployments) {
        const container = processOf(deployment);
        const volume = deployment.spec?.template.spec?.volumes?.find(
          (v) => v.name === "pod-library",
        );
        const mount = container.volumeMounts?.find((m) => m.name === "pod-library");
        expect(volume?.configMap?.name, keyOf(deployment)).toBe(configMap.metadata?.name);
        expect(mount).toEqual({ name: "pod-library", mountPath: LIBRARY, readOnly: true });
        expect(envOf(container).ONDEMAND_EKS_LIBRARY?.value).toBe(LIBRARY);
        // The tmp volume is still there beside it.
        expect(container.volumeMounts?.map((m) => m.name)).toEqual(["tmp", "pod-library"]);
      }
    });

    it("mounts it where deploy/kubernetes/library/configmap mounts its ConfigMap", () => {
      const patch = parseYaml(
        readFileSync(join(KUSTOMIZE, "library", "configmap", "mount.yaml"), "utf8"),
      ) as { path: string; value: { mountPath?: string; name?: string; value?: string } }[];
      expect(patch.find((op) => op.path.endsWith("volumeMounts/-"))?.value.mountPath).toBe(LIBRARY);
      expect(patch.find((op) => op.value.name === "ONDEMAND_EKS_LIBRARY")?.value.value).toBe(
        LIBRARY,
      );
    });

    it("rolls the pods when a definition changes: their checksum annotation follows the files", async () => {
      const annotation = async (text: string) =>
        deploymentsOf(await template(withFiles(text))).map(
          (deployment) =>
            deployment.spec?.template.metadata?.annotations?.[
              "ondemand-eks.io/pod-library-checksum"
            ],
        );
      const [first, again, changed] = await Promise.all([
        annotation("name: default"),
        annotation("name: default"),
        annotation("name: default\ndescription: changed"),
      ]);
      expect(first.every((value) => /^[0-9a-f]{64}$/.test(value ?? ""))).toBe(true);
      expect(again).toEqual(first);
      expect(changed.some((value, index) => value === first[index])).toBe(false);
    });

    it("points every route at an S3 prefix with its TTL, or at an existing ConfigMap", async () => {
      const s3 = deploymentsOf(
        await template([
          ...EVERY_ROUTE,
          "library.s3=s3://acme-pods/pods/",
          "library.ttlSeconds=60",
        ]),
      );
      const existing = deploymentsOf(
        await template([...EVERY_ROUTE, "library.configMap=acme-pods"]),
      );
      for (const deployment of s3) {
        const env = envOf(processOf(deployment));
        expect(env.ONDEMAND_EKS_LIBRARY?.value).toBe("s3://acme-pods/pods/");
        expect(env.ONDEMAND_EKS_LIBRARY_TTL_SECONDS?.value).toBe("60");
        expect(deployment.spec?.template.spec?.volumes?.map((v) => v.name)).toEqual(["tmp"]);
      }
      for (const deployment of existing) {
        const volume = deployment.spec?.template.spec?.volumes?.find(
          (v) => v.name === "pod-library",
        );
        expect(volume?.configMap?.name).toBe("acme-pods");
      }
    });

    it("refuses two sources at once, naming both", async () => {
      await expect(
        template([
          "webhook.enabled=true",
          "library.s3=s3://acme-pods/pods/",
          "library.configMap=x",
        ]),
      ).rejects.toThrow(/library: give one of files, configMap and s3, not configMap and s3/);
    });

    it("leaves the library alone by default: no variable, no volume", async () => {
      for (const deployment of deploymentsOf(await template(EVERY_ROUTE))) {
        expect(envOf(processOf(deployment)).ONDEMAND_EKS_LIBRARY).toBeUndefined();
        expect(deployment.spec?.template.spec?.volumes?.map((v) => v.name)).toEqual(["tmp"]);
      }
    });
  });

  it("refuses the SQS consumer without its queue, naming the value", async () => {
    await expect(template(["sqsConsumer.enabled=true"])).rejects.toThrow(/sqsConsumer\.queueUrl/);
  });

  it("refuses a misspelt or mistyped value (values.schema.json)", async () => {
    await expect(template(["webhok.enabled=true"])).rejects.toThrow(/webhok/);
    await expect(template(["scheduler.maxInFlight=0"])).rejects.toThrow(/maxInFlight/);
  });

  describe("against deploy/kubernetes, every route on", () => {
    const kustomize = kustomizeEveryRoute();
    // Rendered once, on first use: a skipped block's body still runs, without helm.
    let rendered: Promise<Map<string, KubernetesObject>> | undefined;
    const chart = () => {
      rendered ??= template(EVERY_ROUTE).then(byKey);
      return rendered;
    };

    it("makes the same objects, but for the scheduler's Namespace (the release's)", async () => {
      const expected = [...kustomize.keys()].filter((key) => key !== `Namespace -/${NAMESPACE}`);
      expect([...(await chart()).keys()].sort()).toEqual(expected.sort());
    });

    it("labels each object as deploy/kubernetes does, and more", async () => {
      const rendered = await chart();
      for (const [key, object] of kustomize) {
        if (!rendered.has(key)) continue;
        expect(rendered.get(key)?.metadata?.labels, key).toMatchObject(
          object.metadata?.labels ?? {},
        );
      }
    });

    it("grants the same RBAC: every Role's rules, every RoleBinding's role and subjects", async () => {
      const rendered = await chart();
      const rbac = [...kustomize].filter(([, object]) => object.kind?.startsWith("Role"));
      expect(rbac.length).toBe(10);
      for (const [key, object] of rbac) {
        const ours = rendered.get(key);
        if (object.kind === "Role") {
          expect((ours as V1Role).rules, key).toEqual((object as V1Role).rules);
        } else {
          const { roleRef, subjects } = object as V1RoleBinding;
          expect((ours as V1RoleBinding).roleRef, key).toEqual(roleRef);
          expect((ours as V1RoleBinding).subjects, key).toEqual(subjects);
        }
      }
    });

    it("admits the same Jobs: the admission policy and its binding are the same", async () => {
      const rendered = await chart();
      for (const kind of ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]) {
        const key = `${kind} -/ondemand-eks-scheduler-jobs`;
        expect((rendered.get(key) as { spec?: unknown }).spec, key).toEqual(
          (kustomize.get(key) as { spec?: unknown }).spec,
        );
      }
    });

    it("gives the job namespaces the same Pod Security levels", async () => {
      const rendered = await chart();
      for (const name of ["buildkite", "buildkite-privileged"]) {
        const key = `Namespace -/${name}`;
        expect((rendered.get(key) as V1Namespace).metadata?.labels).toMatchObject(
          (kustomize.get(key) as V1Namespace).metadata?.labels ?? {},
        );
      }
    });

    it("makes the same accounts and settings", async () => {
      const rendered = await chart();
      for (const [key, object] of kustomize) {
        if (object.kind === "ServiceAccount") {
          const ours = rendered.get(key) as V1ServiceAccount;
          const theirs = object as V1ServiceAccount;
          expect(ours.automountServiceAccountToken, key).toBe(theirs.automountServiceAccountToken);
          expect(ours.metadata?.annotations, key).toEqual(theirs.metadata?.annotations);
        }
        if (object.kind === "ConfigMap") {
          expect((rendered.get(key) as V1ConfigMap).data, key).toEqual(
            (object as V1ConfigMap).data,
          );
        }
      }
    });

    it("runs the same pods: args, probes, ports, resources, security, env (plus the chart's)", async () => {
      const rendered = await chart();
      const deployments = [...kustomize].filter(([, object]) => object.kind === "Deployment");
      expect(deployments).toHaveLength(3);
      for (const [key, object] of deployments) {
        const ours = rendered.get(key) as V1Deployment;
        expect(comparableDeployment(ours), key).toEqual(
          comparableDeployment(object as V1Deployment),
        );
        for (const container of ours.spec?.template.spec?.containers ?? []) {
          const env = Object.fromEntries(
            (container.env ?? []).map((variable) => [variable.name, variable.value]),
          );
          expect(env, key).toMatchObject({
            ONDEMAND_EKS_PRIVILEGED_NAMESPACE: "buildkite-privileged",
            ONDEMAND_EKS_AGENT_TOKEN_SECRET: "buildkite-agent-token",
          });
        }
      }
    });

    it("gives Services, budgets and NetworkPolicies the same specs, selecting the same pods and the release's", async () => {
      const rendered = await chart();
      const kinds = ["Service", "PodDisruptionBudget", "NetworkPolicy"];
      const objects = [...kustomize].filter(([, object]) => kinds.includes(object.kind ?? ""));
      expect(objects).toHaveLength(7);
      for (const [key, object] of objects) {
        const ours = rendered.get(key) as KubernetesObject;
        expect(withoutSelectors(ours), key).toEqual(withoutSelectors(object));
        expect(selectorOf(ours), key).toEqual({
          ...selectorOf(object),
          "app.kubernetes.io/instance": RELEASE,
        });
      }
    });
  });

  it("names everything after another release, and keeps the Lease and policy in step", async () => {
    // Act
    const objects = byKey(await template(EVERY_ROUTE, "ci"));

    // Assess
    const lease = objects.get(`Role ${NAMESPACE}/ci-ondemand-eks-controller-lease`) as V1Role;
    expect(lease.rules?.[0]?.resourceNames).toEqual(["ci-ondemand-eks-controller"]);
    const controller = objects.get(
      `Deployment ${NAMESPACE}/ci-ondemand-eks-controller`,
    ) as V1Deployment;
    expect(controller.spec?.template.spec?.containers[0]?.args).toContain(
      "--lease-name=ci-ondemand-eks-controller",
    );
    const policy = objects.get("ValidatingAdmissionPolicy -/ci-ondemand-eks-scheduler-jobs") as {
      spec: { matchConditions: { expression: string }[] };
    };
    expect(policy.spec.matchConditions[0]?.expression).toContain(
      ":ci-ondemand-eks-(scheduler|webhook|sqs-consumer|controller)$",
    );
  });
});

describeWith(
  [controlPlane(), helm],
  "the Helm chart's objects, as a server-side dry run against the local control plane",
  () => {
    it.each(Object.entries(CASES))(
      "the API server accepts every object of %s (fieldValidation=Strict)",
      async (_name, { set }) => {
        // Prepare
        const config = new KubeConfig();
        config.loadFromFile(kubeconfigPath());
        const objects = await template(set);

        // Act
        const refusals: string[] = [];
        for (const object of objects) {
          const refusal = await serverSideApply(config, object, {
            dryRun: true,
            fieldManager: FIELD_MANAGER,
          });
          if (refusal) refusals.push(refusal);
        }

        // Assess
        expect(refusals).toEqual([]);
      },
    );
  },
);
