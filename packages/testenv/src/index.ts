/**
 * A real local Kubernetes control plane for tests and `npm start`: etcd, kube-apiserver
 * and kube-controller-manager built from pinned versions (tools/k8s), cached outside the
 * work tree, started on loopback ports with RBAC and service-account tokens; and the
 * other servers and tools tests need (moto, the Lambda emulator, cfn-lint). Every server
 * runs as a daemon (daemon.ts); a missing prerequisite skips the tests that need it,
 * except under CI=true (prerequisites.ts).
 *
 * @module
 */

export { AWSCLI_VERSION, ensureAwsCli } from "./aws-cli.js";
export {
  type Binaries,
  binariesDir,
  ensureBinaries,
  goVersion,
  type Log,
  readToolVersions,
  type ToolVersions,
} from "./binaries.js";
export type {
  EmulatedJobState,
  JobSpec,
  JobView,
  TimelineEntry,
} from "./buildkite/emulated-job.js";
export {
  type BuildkiteEmulator,
  type BuildkiteEmulatorOptions,
  type EmulatorRequest,
  startBuildkiteEmulator,
} from "./buildkite/emulator.js";
export {
  type DeliveryTarget,
  type EventBridgeTarget,
  signatureHeader,
  type WebhookTarget,
} from "./buildkite/event-delivery.js";
export {
  type EventBridgeOrigin,
  eventBridgeEvent,
  type JobScheduledEvent,
  webhookBody,
} from "./buildkite/job-events.js";
export { matches as matchesAgentQueryRules, queueOf } from "./buildkite/matching.js";
export type { StacksRateLimit } from "./buildkite/throttle.js";
export {
  buildkiteAgentPath,
  type EnsureBuildkiteAgentOptions,
  ensureBuildkiteAgent,
  readBuildkiteAgentVersion,
} from "./buildkite-agent.js";
export { CFN_LINT_VERSION, type CfnLintResult, cfnLint, ensureCfnLint } from "./cfn-lint.js";
export {
  type CfnRenderOptions,
  type CfnTemplate,
  readCfnTemplate,
  renderCfnTemplate,
} from "./cloudformation.js";
export {
  type ControlPlaneState,
  destroyControlPlane,
  isHealthy,
  readState,
  type StartOptions,
  startApiserver,
  startControlPlane,
  stopApiserver,
  stopControlPlane,
} from "./control-plane.js";
export {
  BuildkiteAgentToolchainMissingError,
  DaemonStartError,
  HelmToolchainMissingError,
  KubectlMissingError,
  PrerequisiteMissingError,
  PythonMissingError,
  RieToolchainMissingError,
  ToolchainMissingError,
} from "./errors.js";
export { jobScheduledDetail, jobScheduledEvent, type TestJob } from "./events.js";
export { type EnsureHelmOptions, ensureHelm, helmPath, readHelmVersion, runHelm } from "./helm.js";
export { parseImage, pullFailure } from "./kubelet/images.js";
export { startTestKubelet, type TestKubelet, type TestKubeletOptions } from "./kubelet/kubelet.js";
export type { TestNode } from "./kubelet/nodes.js";
export type { PodTimes } from "./kubelet/pod-runner.js";
export {
  imageName,
  type Kustomization,
  kubectlVersion,
  podSpecOf,
  render as renderKustomization,
} from "./kustomize.js";
export {
  type EmulatedLambda,
  ensureRie,
  type LambdaInvokeResult,
  type LambdaOptions,
  readRieVersion,
  rieBinaryPath,
  startLambda,
} from "./lambda-rie.js";
export {
  AGENT_TOKEN_SECRET,
  DEFAULT_NODES,
  type LocalBuildkite,
  type LocalBuildkiteOptions,
  startLocalBuildkite,
} from "./local-buildkite.js";
export { ensureMoto, MOTO_VERSION, type Moto, startMoto } from "./moto.js";
export { cacheRoot, REPO_ROOT } from "./paths.js";
export { createPki, type Pki } from "./pki.js";
export { freePort } from "./ports.js";
export { type Prerequisite, skipUnlessCi } from "./prerequisites.js";
export { cleanUpAbandonedRuns } from "./run-dirs.js";
export { serverSideApply } from "./server-side-apply.js";
export { downShared, SHARED_KUBECONFIG, upShared } from "./shared.js";
export {
  type ControlPlaneAddress,
  startTestControlPlane,
  type TestControlPlane,
  type TestRun,
} from "./test-run.js";
export { controlPlaneGlobalSetup } from "./vitest.js";
