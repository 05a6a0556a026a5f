import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import type { S3Sender } from "@ondemand-eks/pod-library/s3";
import { librarySourceFor, silentLogger } from "@ondemand-eks/runtime";
import { expect, it } from "vitest";

/** An S3 prefix of one definition, answered from memory: the runtime's wiring, not S3's. */
function oneDefinitionBucket(): { client: S3Sender; commands: string[] } {
  const text = "name: default\nagent:\n  image: buildkite/agent:3\n";
  const commands: string[] = [];
  const send = async (command: object) => {
    commands.push(command.constructor.name);
    if (command instanceof ListObjectsV2Command) {
      return { Contents: [{ Key: "p/default.yaml", Size: text.length, ETag: '"1"' }] };
    }
    if (command instanceof GetObjectCommand) {
      return { Body: { transformToString: async () => text } };
    }
    throw new Error(`unexpected ${command.constructor.name}`);
  };
  return { client: { send } as unknown as S3Sender, commands };
}

it("an s3 library config loads through @ondemand-eks/pod-library/s3 with the client given", async () => {
  // Prepare
  const { client, commands } = oneDefinitionBucket();

  // Act
  const source = await librarySourceFor(
    { kind: "s3", bucket: "ci", prefix: "p/", ttlMs: 60_000 },
    { env: {}, s3: client, log: silentLogger },
  );

  // Assess
  expect((await source.get()).names()).toEqual(["default"]);
  expect(commands).toEqual(["ListObjectsV2Command", "GetObjectCommand"]);
  // A client the caller gave is the caller's to close.
  expect(source.close).toBeUndefined();
});
