import { z } from "zod";
import { isLabelKey, isLabelValue } from "../manifest/labels.js";
import { DNS_LABEL, POD_DEFINITION_NAME, POD_DEFINITION_NAME_MAX } from "../names.js";
import { PRIVILEGE_FEATURES, type PrivilegeFeature } from "./privilege.js";

/**
 * The pod definition format, as people write it (in YAML, in the pod library). Most
 * fields are optional here because a definition may `extends` another; a definition is
 * complete once {@link checkPodDefinition} finds nothing missing.
 */

const PodDefinitionNameSchema = z
  .string()
  .max(POD_DEFINITION_NAME_MAX, { error: `expected at most ${POD_DEFINITION_NAME_MAX} characters` })
  .regex(POD_DEFINITION_NAME, {
    error: 'expected lower-case letters, digits and "-" (an RFC 1123 label)',
  });

const ContainerNameSchema = z
  .string()
  .max(63)
  .regex(DNS_LABEL, { error: 'expected a container name: lower-case letters, digits and "-"' });

const EnvVarSchema = z.looseObject({
  name: z
    .string()
    .min(1, { error: "expected a non-empty variable name" })
    .regex(/^[^=]+$/, { error: 'expected a variable name without "="' }),
  value: z.string().optional(),
  valueFrom: z.looseObject({}).optional(),
});

const ResourceListSchema = z.record(z.string(), z.union([z.string(), z.number()]));
const ResourcesSchema = z.looseObject({
  requests: ResourceListSchema.optional(),
  limits: ResourceListSchema.optional(),
});

const VolumeMountSchema = z.looseObject({ name: z.string(), mountPath: z.string() });

/** Fields shared by every container we accept; anything else a Container allows passes through. */
const containerFields = {
  image: z.string().min(1, { error: "expected an image reference" }).optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.array(EnvVarSchema).optional(),
  resources: ResourcesSchema.optional(),
  volumeMounts: z.array(VolumeMountSchema).optional(),
};

const TagKeySchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
  error: 'expected a tag key of letters, digits, "_", "." and "-"',
});
const TagValueSchema = z
  .union([z.string(), z.number(), z.boolean()])
  .transform(String)
  .refine((value) => !/[,\n]/.test(value), {
    error: "expected a tag value without commas or newlines",
  });

/** The agent container. It is always named `agent`; the scheduler adds its token, job and tags. */
const AgentContainerSchema = z.looseObject({
  ...containerFields,
  name: z.never({ error: 'the agent container is always named "agent"; remove "name"' }).optional(),
  restartPolicy: z
    .never({ error: "the agent is the pod's main container: leave restartPolicy out" })
    .optional(),
  tags: z.record(TagKeySchema, TagValueSchema).optional(),
});

/** A service the job needs (Postgres, Redis, dockerd): run as a native sidecar. */
const ServiceContainerSchema = z.looseObject({
  ...containerFields,
  name: ContainerNameSchema,
  restartPolicy: z
    .literal("Always", {
      error: 'services always restart: leave restartPolicy out (it is "Always")',
    })
    .optional(),
});

const InitContainerSchema = z.looseObject({ ...containerFields, name: ContainerNameSchema });

const VolumeSchema = z.looseObject({ name: ContainerNameSchema });

/** A PodSpec fragment: node selectors, tolerations, service account, volumes, init containers... */
const PodTemplateSchema = z.looseObject({
  containers: z
    .never({
      error:
        'main containers are not allowed: configure the agent under "agent" and helpers under "services"',
    })
    .optional(),
  restartPolicy: z
    .never({ error: "set by the scheduler (Never for Jobs, Always for Deployments)" })
    .optional(),
  ephemeralContainers: z
    .never({ error: "ephemeral containers are for debugging a running pod, not for definitions" })
    .optional(),
  initContainers: z.array(InitContainerSchema).optional(),
  volumes: z.array(VolumeSchema).optional(),
});

const PodMetadataSchema = z.strictObject({
  labels: z
    .record(
      z.string().refine(isLabelKey, { error: "expected a label key ([prefix/]name)" }),
      z.string().refine(isLabelValue, {
        error: "expected a label value (at most 63 of A-Z a-z 0-9 . _ -)",
      }),
    )
    .optional(),
  annotations: z
    .record(
      z.string().refine(isLabelKey, { error: "expected an annotation key ([prefix/]name)" }),
      z.string(),
    )
    .optional(),
});

const QueueNameSchema = z
  .string()
  .max(100)
  .regex(/^[^\s,=]+$/, { error: "expected a queue name without spaces, commas or =" });

/** Most pods one long-polling pool may have: a typo (10000) should not reach the cluster. */
const MAX_POOL_REPLICAS = 1000;

/** A whole number from `min` to `max`, with messages that say so. */
const wholeNumber = (min: number, max: number) =>
  z
    .int({
      error: (issue) =>
        `${issue.input === undefined ? "required: " : ""}expected a whole number from ${min} to ${max}`,
    })
    .min(min, { error: `expected at least ${min}` })
    .max(max, { error: `expected at most ${max}` });

/**
 * How a long-polling pool follows its queue's depth. Only `maxReplicas` is required;
 * `minReplicas <= maxReplicas` is checked once `extends` is resolved, since parent and
 * child may each set one.
 */
const PoolScalingSchema = z.strictObject({
  /** Fewest pods, even with an empty queue. Default 0. */
  minReplicas: wholeNumber(0, MAX_POOL_REPLICAS).optional(),
  /** Most pods, however deep the queue. */
  maxReplicas: wholeNumber(1, MAX_POOL_REPLICAS),
  /** Agents each pod runs (the agent's `--spawn`). Default 1. */
  agentsPerPod: wholeNumber(1, 100).optional(),
  /** Idle agents kept ready beyond the demand, a buffer for the next jobs. Default 0. */
  idleAgents: wholeNumber(0, 10_000).optional(),
  /** Most pods added by one decision. Default: `maxReplicas` (no limit). */
  maxScaleOutStep: wholeNumber(1, MAX_POOL_REPLICAS).optional(),
  /** Seconds after adding pods before adding more. Default 0. */
  scaleOutCooldownSeconds: wholeNumber(0, 86_400).optional(),
  /** Seconds after any change before removing pods. Default 300. */
  scaleInCooldownSeconds: wholeNumber(0, 86_400).optional(),
  /** `false`: never remove pods for low demand. Default true. */
  scaleIn: z.boolean({ error: "expected true or false" }).optional(),
});

/**
 * A long-polling pool: a fixed number of pods (`replicas`), or a number that follows
 * the queue (`scaling`), never both. `null` clears what a parent set, so a child can
 * turn its parent's fixed pool into a scaled one.
 */
const LongPollingSchema = z.strictObject({
  queue: QueueNameSchema,
  replicas: wholeNumber(0, MAX_POOL_REPLICAS).nullish(),
  scaling: PoolScalingSchema.nullish(),
  /** Seconds a busy agent gets to finish its job after SIGTERM. Default 3600. */
  stopGraceSeconds: wholeNumber(0, 86_400).nullish(),
});

/**
 * Who may use a definition. Each rule given must match the job (queues, organizations,
 * pipelines and branches together); within a rule, any one pattern. In patterns `*`
 * matches any characters but `/`, `**` any characters at all; the rest is literal.
 * `null`, for a rule or the whole section, clears what a parent set (as everywhere
 * under `extends`).
 */
const AccessSchema = z.strictObject({
  /** Served queues the definition may run jobs from: names, or patterns (`*`, `**`) as in the other rules. */
  queues: z.array(QueueNameSchema).nullish(),
  /** Buildkite organization slugs, or patterns of them. */
  organizations: z
    .array(
      z
        .string()
        .max(100)
        .regex(/^[a-z0-9*-]+$/, {
          error:
            "expected an organization slug or pattern: lower-case letters, digits, hyphens and * wildcards",
        }),
    )
    .nullish(),
  /** `<organization>/<pipeline>` slugs, or patterns of them (`acme/infra-*`). */
  pipelines: z
    .array(
      z
        .string()
        .max(201)
        .regex(/^[a-z0-9*-]+\/[a-z0-9*_.-]+$/, {
          error: "expected <organization>/<pipeline>, slugs or patterns such as acme/infra-*",
        }),
    )
    .nullish(),
  /** Branch names, or patterns of them: `main`, `release/*`. */
  branches: z
    .array(
      z
        .string()
        .max(255)
        .regex(/^[^\s\p{Cc}]+$/u, {
          error: "expected a branch name or pattern (no spaces or control characters)",
        }),
    )
    .nullish(),
});

/** The privileged features a pod uses, each named once: its acknowledgement of them. */
const PrivilegeSchema = z
  .array(
    z.enum(PRIVILEGE_FEATURES, {
      error: `expected one of ${PRIVILEGE_FEATURES.join(", ")}`,
    }),
  )
  .superRefine((features, ctx) => {
    features.forEach((feature, i) => {
      if (features.indexOf(feature) !== i) {
        ctx.addIssue({ code: "custom", path: [i], message: `"${feature}" is listed twice` });
      }
    });
  });

/**
 * Where a definition's pods may run. `fargate`: on AWS Fargate only (the builder labels
 * the pod `ondemand-eks.io/compute: fargate`, which the Fargate profile selects, and the
 * check refuses what Fargate cannot run); `ec2`: on EC2 nodes only (the builder requires
 * node affinity `eks.amazonaws.com/compute-type NotIn [fargate]`); `any`: wherever the
 * cluster puts it (the default: the pod says nothing about its compute).
 */
export const POD_COMPUTES = ["ec2", "fargate", "any"] as const;

/** One of {@link POD_COMPUTES}. */
export type PodCompute = (typeof POD_COMPUTES)[number];

/** One pod definition as written in a file. */
export const PodDefinitionSourceSchema = z.strictObject({
  name: PodDefinitionNameSchema,
  description: z.string().optional(),
  extends: PodDefinitionNameSchema.optional(),
  mode: z
    .enum(["one-shot", "long-polling"], { error: 'expected "one-shot" or "long-polling"' })
    .optional(),
  agent: AgentContainerSchema.optional(),
  pod: PodTemplateSchema.optional(),
  metadata: PodMetadataSchema.optional(),
  services: z.array(ServiceContainerSchema).optional(),
  longPolling: LongPollingSchema.optional(),
  access: AccessSchema.nullish(),
  privilege: PrivilegeSchema.nullish(),
  compute: z.enum(POD_COMPUTES, { error: 'expected "ec2", "fargate" or "any"' }).optional(),
});

/** A definition's access rules, once checked: each one given is a list of patterns. */
export interface PodAccess {
  readonly queues?: readonly string[];
  readonly organizations?: readonly string[];
  readonly pipelines?: readonly string[];
  readonly branches?: readonly string[];
}

export type PodDefinitionSource = z.output<typeof PodDefinitionSourceSchema>;

/**
 * A stand-alone pod definition as written in TypeScript: what
 * {@link definePodDefinition} takes. It is the schema's input type without `extends`
 * (which only a pod library resolves), so a misspelt field (`servics`) fails `tsc`.
 */
export type PodDefinitionInput = Omit<z.input<typeof PodDefinitionSourceSchema>, "extends">;
export type ServiceContainer = z.output<typeof ServiceContainerSchema>;

/** A complete pod definition, every `extends` resolved: what the manifest builders take. */
export interface PodDefinition {
  readonly name: string;
  readonly description?: string | undefined;
  readonly mode: "one-shot" | "long-polling";
  readonly agent: z.output<typeof AgentContainerSchema> & { readonly image: string };
  readonly pod: z.output<typeof PodTemplateSchema>;
  readonly metadata: z.output<typeof PodMetadataSchema>;
  readonly services: readonly ServiceContainer[];
  readonly longPolling?: LongPolling | undefined;
  /** Who may use it; `undefined`: every job on a served queue. */
  readonly access?: PodAccess | undefined;
  /** The privileged features its pod uses, acknowledged; empty for most definitions. */
  readonly privilege: readonly PrivilegeFeature[];
  /** Where its pods run: EC2 nodes, Fargate, or either ({@link POD_COMPUTES}). */
  readonly compute: PodCompute;
}

/** How a scaled long-polling pool follows its queue, every default filled in. */
export interface PoolScaling {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Agents per pod: the agent's `--spawn`. */
  readonly agentsPerPod: number;
  /** Idle agents kept ready beyond the demand. */
  readonly idleAgents: number;
  /** Most pods one decision adds. */
  readonly maxScaleOutStep: number;
  readonly scaleOutCooldownSeconds: number;
  readonly scaleInCooldownSeconds: number;
  /** `false`: pods are never removed for low demand (only to stay within the bounds). */
  readonly scaleIn: boolean;
}

/** A long-polling definition's pool, every default filled in. */
export interface LongPolling {
  readonly queue: string;
  /** A fixed pool's size; for a scaled pool, its `minReplicas` (the size it starts from). */
  readonly replicas: number;
  /** Present: the pool follows the queue's depth. */
  readonly scaling?: PoolScaling | undefined;
  /** The pods' `terminationGracePeriodSeconds`: time a busy agent gets after SIGTERM. */
  readonly stopGraceSeconds: number;
}
