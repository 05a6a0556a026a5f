/** Scheduler settings: any valid ones, serving the queues a property needs. */
import * as fc from "fast-check";
import {
  resolveSettings,
  type SchedulerSettings,
  type SchedulerSettingsInput,
} from "../settings.js";

/** A Kubernetes namespace or Secret name. */
const dnsLabel = fc.stringMatching(/^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$/);
/** A queue name the settings accept. */
const queueName = fc.stringMatching(/^[a-z][a-z0-9._-]{0,15}$/);

/** Options of {@link settings}. */
export interface SettingsOptions {
  /** The queues served; without it, one to four generated names (`default` among them). */
  readonly queues?: readonly string[];
}

/**
 * Valid settings as a user writes them ({@link SchedulerSettingsInput}): each field
 * sometimes left to its default, the rest anywhere in range, agent endpoints any
 * http(s) URL (IPv6 hosts, ports, queries) and in-flight caps sometimes set.
 *
 * @example
 * ```ts
 * fc.property(settingsInput(), (input) => resolveSettings(input) !== undefined);
 * ```
 */
export function settingsInput(options: SettingsOptions = {}): fc.Arbitrary<SchedulerSettingsInput> {
  const queues: fc.Arbitrary<string[]> =
    options.queues === undefined
      ? fc
          .uniqueArray(queueName, { maxLength: 3 })
          .map((more) => ["default", ...more.filter((q) => q !== "default")])
      : fc.constant([...options.queues]);
  return fc.record(
    {
      namespace: dnsLabel,
      privilegedNamespace: dnsLabel.map((name) => `${name}-privileged`.slice(-63)),
      agentTokenSecret: fc.record({ name: dnsLabel, key: fc.constantFrom("token", "agent.token") }),
      ttlSecondsAfterFinished: fc.integer({ min: 0, max: 2_147_483_647 }),
      activeDeadlineSeconds: fc.integer({ min: 1, max: 604_800 }),
      queues,
      defaultPodDefinition: fc.constantFrom("default", "small"),
      agentEndpoint: fc.webUrl({
        authoritySettings: { withIPv4: true, withIPv6: true, withPort: true },
        withQueryParameters: true,
        withFragments: true,
      }),
      maxInFlight: fc.integer({ min: 1, max: 1_000 }),
      maxInFlightTotal: fc.integer({ min: 1, max: 10_000 }),
    },
    { requiredKeys: ["queues"] },
  );
}

/**
 * {@link settingsInput} resolved: complete {@link SchedulerSettings}, defaults filled in.
 *
 * @example
 * ```ts
 * fc.property(scheduledJob({ queues }), settings({ queues }), (job, s) => routeJob(job, s).kind === "schedule");
 * ```
 */
export function settings(options: SettingsOptions = {}): fc.Arbitrary<SchedulerSettings> {
  return settingsInput(options).map((input) => resolveSettings(input));
}
