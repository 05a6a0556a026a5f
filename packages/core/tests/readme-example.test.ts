/**
 * The README's examples, run: the code between each `readme:begin` and `readme:end`
 * below is what the README shows (the last test checks, character for character), so
 * the README's property and typed definition work as written.
 */
import { readFileSync } from "node:fs";
// readme:begin property
import { renderEvent } from "@ondemand-eks/core";
import { arbitraries, COMMAND_MARK, UNTRUSTED_MARK } from "@ondemand-eks/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const queues = ["default", "build"];

describe("our Jobs", () => {
  it("carry their job's uuid, and no event text reaches an image or a command", () => {
    fc.assert(
      fc.property(
        arbitraries.scheduledEvent({ queues }),
        // Your own definitions instead: fc.constantFrom(...library.definitions())
        arbitraries.podDefinition({ mode: "one-shot" }),
        arbitraries.settings({ queues }),
        (event, definition, settings) => {
          const rendered = renderEvent(event.input, {
            ...event.options,
            settings,
            lookup: () => definition,
          });
          if (rendered.kind !== "job") throw new Error(rendered.reason);

          const { metadata, spec } = rendered.manifest;
          expect(metadata.labels["buildkite.com/job-uuid"]).toBe(event.uuid);
          const pod = spec.template.spec;
          for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
            const runs = JSON.stringify([container.image, container.command, container.args]);
            expect(runs).not.toContain(UNTRUSTED_MARK);
          }
          expect(JSON.stringify(rendered.manifest)).not.toContain(COMMAND_MARK);
        },
      ),
      { numRuns: 200 },
    );
  });
});

// readme:end property

// readme:begin typed
import { definePodDefinition, parsePodDefinition } from "@ondemand-eks/core";

const nodePostgres = definePodDefinition({
  name: "node-postgres",
  agent: { image: "buildkite/agent:3", resources: { requests: { cpu: "1", memory: "2Gi" } } },
  services: [
    { name: "postgres", image: "postgres:17", env: [{ name: "POSTGRES_PASSWORD", value: "ci" }] },
  ],
  access: { pipelines: ["acme/*"] },
});

// A typo fails tsc, before anything runs:
// definePodDefinition({ name: "typo", agent, servics: [] });
//   error TS2353: Object literal may only specify known properties, and 'servics' does
//   not exist in type 'PodDefinitionInput'.

// Data from outside (a file, a request) is `unknown`: parsePodDefinition checks it all
// at run time, and throws InvalidPodDefinitionError naming each bad field.
const fromJson = parsePodDefinition(
  JSON.parse('{"name":"small","agent":{"image":"buildkite/agent:3"}}'),
);
// readme:end typed

describe("typed definitions", () => {
  it("define what they say; a typo still fails at run time too", () => {
    expect(nodePostgres.services.map((s) => s.name)).toEqual(["postgres"]);
    expect(fromJson).toMatchObject({ name: "small", mode: "one-shot" });
    expect(() =>
      parsePodDefinition({ name: "typo", agent: { image: "buildkite/agent:3" }, servics: [] }),
    ).toThrow('unknown field "servics"');
  });
});

describe("README", () => {
  it.each(["property", "typed"])("shows the %s example exactly as it runs here", (name) => {
    // Prepare
    const self = readFileSync(new URL(import.meta.url), "utf8");
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const begin = `// readme:begin ${name}\n`;
    const code = self.slice(
      self.indexOf(begin) + begin.length,
      self.indexOf(`// readme:end ${name}`),
    );

    // Assess
    expect(code.trim().length).toBeGreaterThan(0);
    expect(readme).toContain(`\`\`\`ts\n${code.trim()}\n\`\`\``);
  });
});
