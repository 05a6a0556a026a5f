import { z } from "zod";
import { isLabelKey, isLabelValue } from "../manifest/labels.js";
import { DNS_LABEL, POD_DEFINITION_NAME, POD_DEFINITION_NAME_MAX } from "../names.js";

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

const LongPollingSchema = z.strictObject({
  queue: z
    .string()
    .max(100)
    .regex(/^[^\s,=]+$/, { error: "expected a queue name without spaces, commas or =" }),
  replicas: z.int().min(0).max(1000).optional(),
});

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
});

export type PodDefinitionSource = z.output<typeof PodDefinitionSourceSchema>;
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
  readonly longPolling?: { readonly queue: string; readonly replicas: number } | undefined;
}
