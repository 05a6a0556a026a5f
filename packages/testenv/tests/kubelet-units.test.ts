import { parseImage, pullFailure } from "@ondemand-eks/testenv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expand } from "../src/kubelet/environment.js";
import { mapPaths, pathMap } from "../src/kubelet/filesystem.js";

const component = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/).filter((s) => s.length <= 30);
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);

describe("image references, as the test kubelet reads them", () => {
  it("parses every well-formed reference, and keeps its repository and tag", () => {
    fc.assert(
      fc.property(fc.array(component, { minLength: 1, maxLength: 3 }), tag, (path, version) => {
        const reference = parseImage(`registry.example:5000/${path.join("/")}:${version}`);
        expect(reference).toEqual({
          host: "registry.example:5000",
          repository: path.join("/"),
          tag: version,
        });
      }),
    );
  });

  it("reads Docker Hub names as Docker does", () => {
    expect(parseImage("postgres:16")).toEqual({
      host: "docker.io",
      repository: "library/postgres",
      tag: "16",
    });
    expect(parseImage("buildkite/agent")).toMatchObject({
      repository: "buildkite/agent",
      tag: "latest",
    });
  });

  it("refuses an upper-case repository or a space (InvalidImageName), and a .invalid registry cannot be pulled", () => {
    fc.assert(
      fc.property(component, fc.constantFrom("A", " ", "!"), (name, bad) => {
        expect(pullFailure(`acme/${name}${bad}x`)?.reason).toBe("InvalidImageName");
      }),
    );
    expect(pullFailure("registry.invalid/nothing:1")?.reason).toBe("ErrImagePull");
    expect(pullFailure("buildkite/agent:3")).toBeUndefined();
  });
});

describe("a container's view of paths and variables", () => {
  const map = pathMap(
    "/pods/p",
    { name: "agent", volumeMounts: [{ name: "bin", mountPath: "/buildkite/bin" }] },
    { files: { "/usr/local/bin/buildkite-agent": "/host/agent" }, dirs: ["/buildkite"] },
  );

  it("maps a volume mount before the image's directory that holds it, and leaves host paths", () => {
    expect(map("/buildkite/bin/buildkite-agent")).toBe("/pods/p/v/bin/buildkite-agent");
    expect(map("/buildkite/builds")).toBe("/pods/p/c/agent/buildkite/builds");
    expect(map("/usr/local/bin/buildkite-agent")).toBe("/host/agent");
    expect(map("/bin/sh")).toBe("/bin/sh");
  });

  it("maps paths inside scripts and PATH-like lists, and nothing else", () => {
    expect(mapPaths(["cp /usr/local/bin/buildkite-agent /buildkite/bin/"], map)).toEqual([
      "cp /host/agent /pods/p/v/bin/",
    ]);
    expect(mapPaths(["/buildkite/bin:/usr/bin", "x=1", "http://a/buildkite/bin"], map)).toEqual([
      "/pods/p/v/bin:/usr/bin",
      "x=1",
      "http://a/buildkite/bin",
    ]);
    expect(mapPaths(["unix:///buildkite/bin/docker.sock"], map)).toEqual([
      "unix:///pods/p/v/bin/docker.sock",
    ]);
  });

  it("expands $(NAME) from variables defined before, keeps unknown ones, and unescapes $$", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/), fc.string(), (name, value) => {
        expect(expand(`<$(${name})>`, { [name]: value })).toBe(`<${value}>`);
        expect(expand(`$$(${name})`, { [name]: value })).toBe(`$(${name})`);
        expect(expand(`$(${name})`, {})).toBe(`$(${name})`);
        expect(expand(`$$ $$${name}`, { [name]: value })).toBe(`$ $${name}`);
      }),
    );
  });
});
