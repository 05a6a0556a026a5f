/**
 * A real local Kubernetes control plane for tests and `npm start`: etcd, kube-apiserver
 * and kube-controller-manager built from pinned versions (tools/k8s), cached outside the
 * work tree, started on loopback ports with RBAC and service-account tokens.
 */
export {
  type Binaries,
  binariesDir,
  ensureBinaries,
  goVersion,
  type Log,
  readToolVersions,
  ToolchainMissingError,
  type ToolVersions,
} from "./binaries.js";
export { CFN_LINT_VERSION, type CfnLintResult, cfnLint, cfnLintAvailable } from "./cfn-lint.js";
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
export { jobScheduledDetail, jobScheduledEvent, type TestJob } from "./events.js";
export {
  imageName,
  type Kustomization,
  kubectlMissing,
  podSpecOf,
  render as renderKustomization,
} from "./kustomize.js";
export {
  type EmulatedLambda,
  ensureRie,
  type LambdaInvokeResult,
  type LambdaOptions,
  RieToolchainMissingError,
  readRieVersion,
  rieBinaryPath,
  startLambda,
  startTestLambda,
} from "./lambda-rie.js";
export {
  ensureMoto,
  MOTO_VERSION,
  type Moto,
  PythonMissingError,
  startMoto,
  startTestMoto,
} from "./moto.js";
export { cacheRoot, REPO_ROOT } from "./paths.js";
export { createPki, type Pki } from "./pki.js";
export { freePort } from "./ports.js";
export { serverSideApply } from "./server-side-apply.js";
export { downShared, SHARED_KUBECONFIG, upShared } from "./shared.js";
export {
  cleanUpAbandonedRuns,
  startTestControlPlane,
  type TestControlPlane,
  type TestRun,
} from "./test-run.js";
export { controlPlaneGlobalSetup } from "./vitest.js";
