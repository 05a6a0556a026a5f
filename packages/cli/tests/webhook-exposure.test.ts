import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  KubeConfig,
  type KubernetesObject,
  type V1Deployment,
  type V1Ingress,
  type V1Service,
} from "@kubernetes/client-node";
import { renderKustomization as render, serverSideApply } from "@ondemand-eks/testenv";
import { describe, expect, it } from "vitest";
import { describeWithCluster, kubeconfigPath } from "./cluster.js";

// deploy/kubernetes/webhook-exposure: the three ways to put the webhook on the internet
// (an ALB or an NLB from the AWS Load Balancer Controller, or any Ingress controller).
// Each must reach exactly the webhook port of the webhook route's pods, over TLS, and
// expose nothing but POST /webhook; the API server must accept each as written.

const DEPLOY = new URL("../../../deploy/kubernetes/", import.meta.url).pathname;
const EXPOSURE = join(DEPLOY, "webhook-exposure");
const WAYS = ["eks-alb", "eks-nlb", "ingress"] as const;

/** The webhook route as `kubectl apply -k deploy/kubernetes/webhook` sends it. */
const route = render(join(DEPLOY, "webhook"));
const routeService = route.find(
  (object) => object.kind === "Service" && object.metadata?.name === "ondemand-eks-webhook",
) as V1Service;
const routeDeployment = route.find((object) => object.kind === "Deployment") as V1Deployment;
const webhookContainer = routeDeployment.spec?.template.spec?.containers[0];

/** The container port a Service port leads to, by the name or number of its target. */
function containerPortOf(target: string | number | undefined): number | undefined {
  const port = webhookContainer?.ports?.find((entry) =>
    typeof target === "number" ? entry.containerPort === target : entry.name === target,
  );
  return port?.containerPort;
}

/** The port the process serves the webhook on: its `--port` argument. */
const webhookPort = Number(
  webhookContainer?.args?.find((arg) => arg.startsWith("--port="))?.slice("--port=".length),
);
const opsPort = Number(
  webhookContainer?.args?.find((arg) => arg.startsWith("--ops-port="))?.slice("--ops-port=".length),
);

const only = <T extends KubernetesObject>(way: string): T => {
  const objects = render(join(EXPOSURE, way));
  expect(objects).toHaveLength(1);
  return objects[0] as T;
};

/** Annotations the AWS Load Balancer Controller documents, of those we may set. */
const ALB_ANNOTATIONS = new Set([
  "alb.ingress.kubernetes.io/scheme",
  "alb.ingress.kubernetes.io/target-type",
  "alb.ingress.kubernetes.io/listen-ports",
  "alb.ingress.kubernetes.io/certificate-arn",
  "alb.ingress.kubernetes.io/ssl-policy",
  "alb.ingress.kubernetes.io/healthcheck-path",
  "alb.ingress.kubernetes.io/success-codes",
]);
const NLB_ANNOTATIONS = new Set([
  "service.beta.kubernetes.io/aws-load-balancer-scheme",
  "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type",
  "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
  "service.beta.kubernetes.io/aws-load-balancer-ssl-ports",
  "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy",
  "service.beta.kubernetes.io/aws-load-balancer-backend-protocol",
  "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol",
  "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port",
]);

describe("the webhook route these expose", () => {
  it("serves the webhook on one port and the operations endpoints on another", () => {
    expect(webhookPort).toBe(8080);
    expect(opsPort).toBe(9090);
    expect(containerPortOf("http")).toBe(webhookPort);
    expect(containerPortOf("ops")).toBe(opsPort);
  });
});

describe.each(["eks-alb", "ingress"] as const)("deploy/kubernetes/webhook-exposure/%s", (way) => {
  const ingress = only<V1Ingress>(way);
  const rules = ingress.spec?.rules ?? [];

  it("forwards one path, /webhook exactly, to the webhook Service's port that leads to the webhook port", () => {
    expect(ingress.metadata?.namespace).toBe(routeService.metadata?.namespace);
    expect(ingress.spec?.defaultBackend).toBeUndefined();
    expect(rules).toHaveLength(1);
    const paths = rules[0]?.http?.paths ?? [];
    expect(paths.map((path) => [path.path, path.pathType])).toEqual([["/webhook", "Exact"]]);
    const backend = paths[0]?.backend.service;
    expect(backend?.name).toBe(routeService.metadata?.name);
    const servicePort = routeService.spec?.ports?.find((port) => port.name === backend?.port?.name);
    expect(containerPortOf(servicePort?.targetPort as string)).toBe(webhookPort);
  });

  it("names one host, to be edited", () => {
    expect(rules[0]?.host).toBe("buildkite-webhook.example.com");
    const text = readFileSync(join(EXPOSURE, way, "ingress.yaml"), "utf8");
    expect(text).toMatch(/# EDIT: the host name Buildkite will call/);
  });
});

describe("deploy/kubernetes/webhook-exposure/eks-alb", () => {
  const ingress = only<V1Ingress>("eks-alb");
  const annotations = ingress.metadata?.annotations ?? {};

  it("is an internet-facing ALB, HTTPS only, straight to the pods' IPs", () => {
    expect(ingress.spec?.ingressClassName).toBe("alb");
    expect(annotations["alb.ingress.kubernetes.io/scheme"]).toBe("internet-facing");
    expect(annotations["alb.ingress.kubernetes.io/target-type"]).toBe("ip");
    expect(JSON.parse(annotations["alb.ingress.kubernetes.io/listen-ports"] ?? "")).toEqual([
      { HTTPS: 443 },
    ]);
    expect(annotations["alb.ingress.kubernetes.io/certificate-arn"]).toMatch(
      /^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\//,
    );
    expect(annotations["alb.ingress.kubernetes.io/ssl-policy"]).toMatch(/^ELBSecurityPolicy-TLS13/);
  });

  it("health-checks the webhook port with the 405 a GET there answers (serve-http.test.ts checks it)", () => {
    expect(annotations["alb.ingress.kubernetes.io/healthcheck-path"]).toBe("/webhook");
    expect(annotations["alb.ingress.kubernetes.io/success-codes"]).toBe("405");
    expect(annotations["alb.ingress.kubernetes.io/healthcheck-port"]).toBeUndefined();
  });

  it("sets only annotations the AWS Load Balancer Controller documents", () => {
    expect(Object.keys(annotations).filter((key) => !ALB_ANNOTATIONS.has(key))).toEqual([]);
  });
});

describe("deploy/kubernetes/webhook-exposure/eks-nlb", () => {
  const service = only<V1Service>("eks-nlb");
  const annotations = service.metadata?.annotations ?? {};

  it("is a LoadBalancer of the AWS Load Balancer Controller's class, selecting the webhook pods", () => {
    expect(service.spec?.type).toBe("LoadBalancer");
    expect(service.spec?.loadBalancerClass).toBe("service.k8s.aws/nlb");
    expect(service.spec?.allocateLoadBalancerNodePorts).toBe(false);
    expect(service.spec?.selector).toEqual(routeService.spec?.selector);
    expect(service.metadata?.name).not.toBe(routeService.metadata?.name);
  });

  it("forwards one port, 443 with TLS, to the webhook port and never to the ops port", () => {
    expect(service.spec?.ports?.map((port) => [port.port, port.protocol])).toEqual([[443, "TCP"]]);
    const target = service.spec?.ports?.[0]?.targetPort as string;
    expect(containerPortOf(target)).toBe(webhookPort);
    expect(annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"]).toBe("443");
    expect(annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"]).toMatch(
      /^arn:aws:acm:/,
    );
    expect(annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"]).toBe(
      "internet-facing",
    );
    expect(annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"]).toBe("ip");
  });

  it("sets only annotations the AWS Load Balancer Controller documents", () => {
    expect(Object.keys(annotations).filter((key) => !NLB_ANNOTATIONS.has(key))).toEqual([]);
  });
});

describe("deploy/kubernetes/webhook-exposure/ingress", () => {
  const ingress = only<V1Ingress>("ingress");

  it("terminates TLS for the host it routes, from a Secret in its namespace", () => {
    const tls = ingress.spec?.tls ?? [];
    expect(tls).toHaveLength(1);
    expect(tls[0]?.hosts).toEqual([ingress.spec?.rules?.[0]?.host]);
    expect(tls[0]?.secretName).toBe("ondemand-eks-webhook-tls");
    expect(ingress.metadata?.annotations ?? {}).toEqual({});
  });
});

describeWithCluster("deploy/kubernetes/webhook-exposure on an API server", () => {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath());
  const apply = (object: KubernetesObject) =>
    serverSideApply(config, object, { dryRun: true, fieldManager: "webhook-exposure-test" });

  it.each(WAYS)(
    "accepts %s as written (server-side apply, dry run, strict fields)",
    async (way) => {
      expect(await apply(only(way))).toBeUndefined();
    },
  );

  it("would refuse a broken one (the check is live)", async () => {
    const broken = structuredClone(only<V1Ingress>("ingress"));
    const path = broken.spec?.rules?.[0]?.http?.paths[0];
    if (path) path.pathType = "Exactly";
    expect(await apply(broken)).toMatch(/pathType/);
  });
});
