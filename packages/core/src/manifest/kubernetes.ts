/**
 * The slice of the Kubernetes object model the builders produce. Kept here, not taken
 * from a client library, so the core stays dependency-free; fields we do not set pass
 * through from pod definitions untyped.
 */

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  restartPolicy?: "Always";
  [field: string]: unknown;
}

export interface PodSpec {
  restartPolicy: "Never" | "Always";
  /** false unless the definition sets it. */
  automountServiceAccountToken?: boolean;
  /** false unless the definition sets it. */
  enableServiceLinks?: boolean;
  /** The definition's, with `seccompProfile: { type: RuntimeDefault }` unless it sets one. */
  securityContext?: Record<string, unknown>;
  initContainers?: Container[];
  containers: Container[];
  [field: string]: unknown;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: PodSpec;
}

/** A `batch/v1` Job, as the builder makes it. */
export interface JobManifest {
  apiVersion: "batch/v1";
  kind: "Job";
  metadata: ObjectMeta;
  spec: {
    backoffLimit: number;
    ttlSecondsAfterFinished: number;
    activeDeadlineSeconds: number;
    /** Created suspended when admission is capped: the controller resumes it in turn. */
    suspend?: boolean;
    template: PodTemplate;
  };
}

/** An `apps/v1` Deployment of long-polling agents. */
export interface DeploymentManifest {
  apiVersion: "apps/v1";
  kind: "Deployment";
  metadata: ObjectMeta;
  spec: {
    /** Absent for a scaled pool built without a count: whoever scales it owns the field. */
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: PodTemplate;
  };
}
