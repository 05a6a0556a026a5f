import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Container,
  type V1Deployment,
} from "@kubernetes/client-node";
import {
  kubectlVersion,
  renderKustomization,
  serverSideApply,
  skipUnlessCi,
  startMoto,
} from "@ondemand-eks/testenv";
import { describeWith, kubeconfigPath } from "@ondemand-eks/testenv/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { cli, sample, tempDir } from "./helpers.js";

// deploy/kubernetes/library/{configmap,s3}: kustomize Components that point every route's
// Deployment at a pod library of the platform team's own, in a ConfigMap or under an S3
// prefix. Rendered by the real kustomize (kubectl kustomize: our render() does not do
// Components or generators), checked, dry-run on the API server, and then read the way
// the pod would read it: the ConfigMap as the kubelet lays it out, the prefix from moto.

const execFileAsync = promisify(execFile);
const DEPLOY = new URL("../../../deploy/kubernetes/", import.meta.url).pathname;
const ROUTES = ["webhook", "sqs-consumer", "controller"] as const;
const VARIABLE = "ONDEMAND_EKS_LIBRARY";

const kubectl = await skipUnlessCi(kubectlVersion);
const aws = await skipUnlessCi(() => startMoto("cli-library-components"));
afterAll(() => aws.value?.stop());

/** `kubectl kustomize` of a kustomization written into a fresh directory. */
async function kustomize(
  kustomization: Record<string, unknown>,
  files: Record<string, string> = {},
): Promise<KubernetesObject[]> {
  const dir = tempDir(files);
  // kustomize takes only relative paths to other kustomizations.
  const relativeTo = (paths: unknown) =>
    (paths as string[] | undefined)?.map((path) => relative(dir, path));
  const written = {
    ...kustomization,
    resources: relativeTo(kustomization.resources),
    ...(kustomization.components ? { components: relativeTo(kustomization.components) } : {}),
  };
  writeFileSync(join(dir, "kustomization.yaml"), JSON.stringify(written));
  const { stdout } = await execFileAsync("kubectl", ["kustomize", dir], { timeout: 60_000 });
  return parseAllDocuments(stdout).map((document) => document.toJS() as KubernetesObject);
}

const deploymentsOf = (objects: KubernetesObject[]) =>
  objects.filter((object): object is V1Deployment => object.kind === "Deployment");
const processOf = (deployment: V1Deployment) =>
  deployment.spec?.template.spec?.containers[0] as V1Container;
const envOf = (container: V1Container) =>
  Object.fromEntries((container.env ?? []).map((entry) => [entry.name, entry.value]));

/** A definition only this test's library holds, and an event that asks for it. */
const DEFINITION = "name: from-configmap\nagent:\n  image: buildkite/agent:3\n";
function eventFor(definition: string): string {
  const event = sample();
  const job = (event.detail as { job: Record<string, unknown> }).job;
  job.agent_query_rules = ["queue=default", `pod=${definition}`];
  return join(tempDir({ "event.json": JSON.stringify(event) }), "event.json");
}

describeWith(kubectl, "deploy/kubernetes/library/configmap", () => {
  /** Each route with the Component and a ConfigMap generated from one definition. */
  const rendered = new Map<string, KubernetesObject[]>();
  beforeAll(async () => {
    for (const route of ROUTES) {
      rendered.set(
        route,
        await kustomize(
          {
            resources: [join(DEPLOY, route)],
            components: [join(DEPLOY, "library", "configmap")],
            configMapGenerator: [
              {
                name: "ondemand-eks-pod-library",
                namespace: "ondemand-eks",
                files: ["from-configmap.yaml"],
              },
            ],
          },
          { "from-configmap.yaml": DEFINITION },
        ),
      );
    }
  });

  it.each(ROUTES)(
    "mounts the generated ConfigMap read-only where %s's process is told to read its library, keeping its own mounts and env",
    (route) => {
      // Prepare
      const objects = rendered.get(route) ?? [];
      const plain = renderKustomization(join(DEPLOY, route));
      const [deployment] = deploymentsOf(objects);
      const [before] = deploymentsOf(plain);
      const configMap = objects.find(
        (object) =>
          object.kind === "ConfigMap" &&
          object.metadata?.name?.startsWith("ondemand-eks-pod-library-"),
      ) as V1ConfigMap;
      const container = processOf(deployment as V1Deployment);
      const volume = deployment?.spec?.template.spec?.volumes?.find(
        (entry) => entry.name === "pod-library",
      );
      const mount = container.volumeMounts?.find((entry) => entry.name === "pod-library");

      // Assess: the name carries a hash of the contents, so an edit rolls the pods.
      expect(configMap.metadata?.name).toMatch(/^ondemand-eks-pod-library-[a-z0-9]{10}$/);
      expect(configMap.data).toEqual({ "from-configmap.yaml": DEFINITION });
      expect(volume?.configMap?.name).toBe(configMap.metadata?.name);
      expect(mount?.readOnly).toBe(true);
      expect(envOf(container)[VARIABLE]).toBe(mount?.mountPath);
      // Appended, not replaced: the route's own mounts, volumes and env are all still there.
      const own = processOf(before as V1Deployment);
      expect(container.volumeMounts?.slice(0, -1)).toEqual(own.volumeMounts);
      expect(container.env?.slice(0, -1)).toEqual(own.env);
      expect(deployment?.spec?.template.spec?.volumes?.slice(0, -1)).toEqual(
        before?.spec?.template.spec?.volumes,
      );
    },
  );

  it("leaves a route without the Component on the bundled library", () => {
    for (const route of ROUTES) {
      const [deployment] = deploymentsOf(renderKustomization(join(DEPLOY, route)));
      expect(envOf(processOf(deployment as V1Deployment))[VARIABLE], route).toBeUndefined();
    }
  });

  it("builds the example directory, whose definitions validate", async () => {
    // Act
    const { stdout } = await execFileAsync(
      "kubectl",
      ["kustomize", join(DEPLOY, "examples", "library-configmap")],
      { timeout: 60_000 },
    );
    const objects = parseAllDocuments(stdout).map((document) => document.toJS());
    const validated = await cli([
      "validate",
      "--library",
      join(DEPLOY, "examples", "library-configmap", "pods"),
    ]);

    // Assess
    expect(objects.filter((object) => object.kind === "ConfigMap")).toHaveLength(1);
    expect(validated).toMatchObject({ status: 0, stderr: "" });
  });

  it("is read as the kubelet lays the ConfigMap out: the Job uses the ConfigMap's definition", async () => {
    // Prepare: the kubelet's atomic writer: <key> -> ..data/<key>, ..data -> ..<timestamp>/.
    const objects = rendered.get("webhook") ?? [];
    const configMap = objects.find((object) => object.kind === "ConfigMap") as V1ConfigMap;
    const volume = tempDir();
    const stamp = "..2026_12_02_07_00_00.000000001";
    mkdirSync(join(volume, stamp));
    for (const [key, text] of Object.entries(configMap.data ?? {})) {
      writeFileSync(join(volume, stamp, key), text);
    }
    symlinkSync(stamp, join(volume, "..data"));
    for (const key of Object.keys(configMap.data ?? {})) {
      symlinkSync(join("..data", key), join(volume, key));
    }

    // Act: the process's library variable, with the mount path standing for the volume.
    const env = envOf(processOf(deploymentsOf(objects)[0] as V1Deployment));
    const ran = await cli(["render", "--event", eventFor("from-configmap"), "-o", "json"], {
      env: { [VARIABLE]: (env[VARIABLE] ?? "").replace("/etc/ondemand-eks/pods", volume) },
    });
    const bundled = await cli(["render", "--event", eventFor("from-configmap"), "-o", "json"]);

    // Assess
    expect(ran.stderr).toBe("");
    expect(JSON.parse(ran.stdout).metadata.labels["ondemand-eks.io/pod-definition"]).toBe(
      "from-configmap",
    );
    expect(bundled.status).toBe(1);
    expect(bundled.stderr).toMatch(/from-configmap/);
  });
});

describeWith([kubectl, aws], "deploy/kubernetes/library/s3", () => {
  it.each(ROUTES)(
    "sets %s's library to an S3 prefix with its TTL and region, and the process reads it from there",
    async (route) => {
      // Prepare
      const objects = await kustomize({
        resources: [join(DEPLOY, route)],
        components: [join(DEPLOY, "library", "s3")],
      });
      const env = envOf(processOf(deploymentsOf(objects)[0] as V1Deployment));
      const bucket = `library-${route}-${process.pid}`;
      const s3 = new S3Client({
        region: "us-east-1",
        endpoint: aws.value?.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: "AKIDLIBRARY", secretAccessKey: "library-components" },
      });
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: "pods/from-s3.yaml",
          Body: DEFINITION.replace("from-configmap", "from-s3"),
        }),
      );
      s3.destroy();

      // Act: the process's variables, with the example bucket replaced by this one.
      const ran = await cli(["render", "--event", eventFor("from-s3"), "-o", "json"], {
        env: {
          [VARIABLE]: (env[VARIABLE] ?? "").replace("example-buildkite-pod-library", bucket),
          ONDEMAND_EKS_LIBRARY_TTL_SECONDS: env.ONDEMAND_EKS_LIBRARY_TTL_SECONDS ?? "",
          AWS_DEFAULT_REGION: env.AWS_DEFAULT_REGION ?? "",
          AWS_ACCESS_KEY_ID: "AKIDLIBRARY",
          AWS_SECRET_ACCESS_KEY: "library-components",
          AWS_ENDPOINT_URL_S3: aws.value?.endpoint ?? "",
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        },
      });

      // Assess
      expect(env[VARIABLE]).toBe("s3://example-buildkite-pod-library/pods/");
      expect(env.ONDEMAND_EKS_LIBRARY_TTL_SECONDS).toBe("300");
      expect(env.AWS_DEFAULT_REGION).toBe("us-east-1");
      expect(ran.stderr).toBe("");
      expect(JSON.parse(ran.stdout).metadata.labels["ondemand-eks.io/pod-definition"]).toBe(
        "from-s3",
      );
    },
  );
});

describeWith([kubectl], "the library Components on an API server", () => {
  it.each(["configmap", "s3"])(
    "every route with the %s Component is accepted as rendered (server-side apply, dry run)",
    async (component) => {
      const config = new KubeConfig();
      config.loadFromFile(kubeconfigPath());
      const refusals: string[] = [];
      for (const route of ROUTES) {
        const objects = await kustomize(
          {
            resources: [join(DEPLOY, route)],
            components: [join(DEPLOY, "library", component)],
            ...(component === "configmap"
              ? {
                  configMapGenerator: [
                    {
                      name: "ondemand-eks-pod-library",
                      namespace: "ondemand-eks",
                      files: ["from-configmap.yaml"],
                    },
                  ],
                }
              : {}),
          },
          { "from-configmap.yaml": DEFINITION },
        );
        for (const object of objects) {
          const refusal = await serverSideApply(config, object, {
            dryRun: true,
            fieldManager: "library-components-test",
          });
          if (refusal) refusals.push(refusal);
        }
      }
      expect(refusals).toEqual([]);
    },
  );
});

describe("deploy/kubernetes/library", () => {
  it("names the ConfigMap the Component mounts in its own comment's example", () => {
    const text = readFileSync(join(DEPLOY, "library", "configmap", "kustomization.yaml"), "utf8");
    const mount = parseYaml(
      readFileSync(join(DEPLOY, "library", "configmap", "mount.yaml"), "utf8"),
    ) as { value: { configMap?: { name: string } } }[];
    expect(text).toContain(`- name: ${mount[0]?.value.configMap?.name}`);
  });
});
