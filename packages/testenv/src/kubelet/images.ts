import { join } from "node:path";
import { REPO_ROOT } from "../paths.js";

/**
 * What the test kubelet knows about container images. It cannot pull or unpack an image,
 * so an image is a small description: the entrypoint and command it would run, the
 * environment it sets, and the few files of it a pod uses (the `buildkite-agent` binary
 * of the official agent image is the real agent testenv built; the elastic-ci-stack
 * image's hooks are the repository's). Images it knows nothing about still "pull"; their
 * containers run their `command` on the host, or stand in as an idle process when they
 * have none (Postgres, Redis, dockerd: see the README).
 *
 * @module
 */

/** An image as the kubelet sees it once pulled. */
export interface ImageDescription {
  /** The image's ENTRYPOINT; absent when the kubelet does not know it. */
  readonly entrypoint?: readonly string[];
  /** The image's CMD (the entrypoint's default arguments). */
  readonly cmd?: readonly string[];
  /** Environment the image sets; a container's own `env` overrides it. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Files inside the image that stand for host files (path in image -> host path); a
   * directory stands for a host directory with everything in it.
   */
  readonly files?: Readonly<Record<string, string>>;
  /** Directories of the image's own file system, given to each container as a private copy. */
  readonly dirs?: readonly string[];
}

/** Why a pull fails, in the words a kubelet writes into the container status. */
export type PullFailure =
  | { readonly reason: "InvalidImageName"; readonly message: string }
  | { readonly reason: "ErrImagePull"; readonly message: string };

// A reference as a container runtime accepts it: optional registry host (with port),
// lower-case path components, optional tag, optional digest.
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const HOST = "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9-]+)*(?::[0-9]+)?";
const REFERENCE = new RegExp(
  `^(?:(${HOST})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`,
);

/** An image reference split into registry host, repository and tag. */
export interface ImageReference {
  readonly host: string;
  readonly repository: string;
  readonly tag: string;
}

/**
 * Parses an image reference as a container runtime does, or returns undefined for one it
 * would refuse (`InvalidImageName`). A first component without a dot, colon or
 * `localhost` is a Docker Hub path, as Docker reads it.
 *
 * @example
 * parseImage("buildkite/agent:3"); // { host: "docker.io", repository: "buildkite/agent", tag: "3" }
 * parseImage("Buildkite/Agent"); // undefined
 */
export function parseImage(image: string): ImageReference | undefined {
  const match = REFERENCE.exec(image);
  if (!match) return undefined;
  let [, host, path = ""] = match;
  if (host !== undefined && !/[.:]/.test(host) && host !== "localhost") {
    path = `${host}/${path}`;
    host = undefined;
  }
  if (host !== undefined && /[A-Z]/.test(host)) return undefined;
  const repository = host === undefined && !path.includes("/") ? `library/${path}` : path;
  return { host: host ?? "docker.io", repository, tag: match[3] ?? "latest" };
}

/**
 * Why pulling `image` fails, or undefined when it succeeds: a malformed reference is
 * `InvalidImageName` at once; a registry under the reserved `.invalid` top-level domain,
 * or an image `unpullable` names, is `ErrImagePull` (then `ImagePullBackOff`).
 */
export function pullFailure(
  image: string,
  unpullable: (image: string) => boolean = () => false,
): PullFailure | undefined {
  const reference = parseImage(image);
  if (!reference) {
    return {
      reason: "InvalidImageName",
      message: `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`,
    };
  }
  if (reference.host.endsWith(".invalid") || unpullable(image)) {
    return {
      reason: "ErrImagePull",
      message: `failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${reference.host}: not found`,
    };
  }
  return undefined;
}

const AGENT_REPOSITORIES = new Set(["buildkite/agent", "public.ecr.aws/buildkite/agent"]);

/**
 * The repository name of the elastic-ci-stack agent image, under whichever registry the
 * user pushed it to (images/elastic-ci-stack/Dockerfile).
 */
export const ELASTIC_CI_STACK_REPOSITORY = "ondemand-eks-elastic-ci-stack";

/** The directory images/elastic-ci-stack/Dockerfile builds from. */
export const ELASTIC_CI_STACK_IMAGE_DIR = join(REPO_ROOT, "images", "elastic-ci-stack");

/** The official agent image: Buildkite's entrypoint and the paths its config file sets. */
function agentImage(agentPath: string): ImageDescription {
  return {
    entrypoint: ["/usr/local/bin/buildkite-agent"],
    cmd: ["start"],
    env: {
      BUILDKITE_BUILD_PATH: "/buildkite/builds",
      BUILDKITE_HOOKS_PATH: "/buildkite/hooks",
      BUILDKITE_PLUGINS_PATH: "/buildkite/plugins",
    },
    files: { "/usr/local/bin/buildkite-agent": agentPath },
    dirs: ["/buildkite"],
  };
}

/**
 * The elastic-ci-stack image: the official agent image plus what its Dockerfile adds that
 * the agent reads, the hooks (`COPY hooks/ ...`) and `ENV BUILDKITE_HOOKS_PATH`. A test
 * reads the Dockerfile to keep the two equal. The AWS CLI it installs is not here: a
 * pod finds testenv's pinned one through the PATH its definition gives.
 */
function elasticCiStackImage(agentPath: string): ImageDescription {
  const base = agentImage(agentPath);
  const hooksPath = "/etc/buildkite-agent/hooks";
  return {
    ...base,
    env: { ...base.env, BUILDKITE_HOOKS_PATH: hooksPath },
    files: { ...base.files, [hooksPath]: join(ELASTIC_CI_STACK_IMAGE_DIR, "hooks") },
  };
}

/**
 * What the kubelet knows of `image`. The official agent image runs the real agent
 * (`agentPath`) with the directories its configuration names, and so does the
 * elastic-ci-stack image, with its hooks; any other image is empty.
 *
 * @example
 * describeImage("buildkite/agent:3", agentPath).entrypoint; // ["/usr/local/bin/buildkite-agent"]
 * describeImage("postgres:16", agentPath); // {}
 */
export function describeImage(image: string, agentPath: string): ImageDescription {
  const reference = parseImage(image);
  const name =
    reference?.host === "docker.io"
      ? reference.repository
      : `${reference?.host}/${reference?.repository}`;
  if (AGENT_REPOSITORIES.has(name)) return agentImage(agentPath);
  const last = reference?.repository.split("/").at(-1);
  if (last === ELASTIC_CI_STACK_REPOSITORY) return elasticCiStackImage(agentPath);
  return {};
}
