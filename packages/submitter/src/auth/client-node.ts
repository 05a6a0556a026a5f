// Loaded only by kubeconfigAuth, through a dynamic import(): bundlers keep just what
// KubeConfig needs, and nothing of client-node is evaluated until a kubeconfig is used.
export { findHomeDir, KubeConfig } from "@kubernetes/client-node";
