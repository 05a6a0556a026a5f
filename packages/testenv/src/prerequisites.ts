import { PrerequisiteMissingError } from "./errors.js";

/**
 * The one "skip unless CI" rule: a test whose prerequisite (Go, Python, kubectl) is not
 * installed here is reported as skipped, with the reason; under `CI=true` that is an
 * error instead, so CI runs every test. {@link skipUnlessCi} gets a prerequisite,
 * `describeWith` (from `@ondemand-eks/testenv/vitest`) runs or skips the tests that need it.
 */

/** Something tests need (a server, a tool): its value, or why it is missing here. */
export type Prerequisite<T> =
  | { readonly available: true; readonly value: T; readonly reason?: undefined }
  | { readonly available: false; readonly value?: undefined; readonly reason: string };

/** Whether a missing prerequisite is an error rather than a reason to skip: `CI=true`. */
function skipsAreErrors(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === "true";
}

/**
 * Runs `get`. A {@link PrerequisiteMissingError} it throws becomes `{ available: false,
 * reason }`, except under `CI=true` (in `env`), where it is thrown like any other error.
 *
 * @example
 * const aws = await skipUnlessCi(() => startMoto("s3-library"));
 * afterAll(() => aws.value?.stop());
 * describeWith(aws, "pod library from an S3 prefix", () => {
 *   it("lists", () => list(aws.value!.endpoint));
 * });
 */
export async function skipUnlessCi<T>(
  get: () => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Prerequisite<T>> {
  try {
    return { available: true, value: await get() };
  } catch (error) {
    if (error instanceof PrerequisiteMissingError && !skipsAreErrors(env)) {
      return { available: false, reason: error.message };
    }
    throw error;
  }
}

/**
 * Why tests that need all of `needs` are skipped: the first missing one's reason, or
 * undefined when all are there. Under `CI=true` a missing one is thrown instead.
 *
 * @example
 * skipReason([plane.info, aws]); // "moto (the AWS emulator for tests) is installed with..."
 */
export function skipReason(
  needs: readonly Prerequisite<unknown>[],
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const missing = needs.find((need) => !need.available);
  if (missing === undefined) return undefined;
  if (skipsAreErrors(env)) {
    throw new PrerequisiteMissingError(`${missing.reason} (nothing is skipped under CI=true)`);
  }
  return missing.reason;
}
