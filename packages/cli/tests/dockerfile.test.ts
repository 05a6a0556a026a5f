import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const DOCKERFILE = readFileSync(new URL("../../../Dockerfile", import.meta.url), "utf8");

/** Each stage's base image, with `${NAME}` replaced by the ARG's default. */
function bases(dockerfile: string): string[] {
  const args = Object.fromEntries(
    [...dockerfile.matchAll(/^ARG\s+(\w+)=(\S+)/gm)].map(([, name, value]) => [name, value]),
  );
  return [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map(([, image = ""]) =>
    image.replace(/\$\{(\w+)\}/g, (whole, name: string) => args[name] ?? whole),
  );
}

describe("the Dockerfile", () => {
  it("pins every base image by digest", () => {
    const images = bases(DOCKERFILE);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toMatch(/^[^@\s]+@sha256:[0-9a-f]{64}$/);
  });

  it("reads ARG defaults into FROM lines as Docker does", () => {
    expect(bases("ARG B=node:22@sha256:abc\nFROM ${B} AS x\nFROM alpine")).toEqual([
      "node:22@sha256:abc",
      "alpine",
    ]);
  });
});
