import type { IncomingMessage } from "node:http";

/**
 * A tiny router for the Buildkite emulator: routes are `METHOD path` patterns whose
 * `:name` segments capture one decoded path segment each.
 */

/** Who may call a route: nobody checked, the registration token, an agent, a stack. */
export type Auth = "none" | "registration" | "agent" | "cluster";

/** What a handler gets: the request, its URL, body, captured params, and a way to answer. */
export interface RouteContext {
  readonly request: IncomingMessage;
  readonly url: URL;
  readonly body: Buffer;
  readonly params: Readonly<Record<string, string>>;
  /** The `Authorization: Token` value, already checked against the route's `auth`. */
  readonly token: string | undefined;
  answer(status: number, body: unknown, headers?: Record<string, string>): void;
}

export interface Route {
  readonly method: string;
  /** A path below the API's base, e.g. `jobs/:job/accept`. */
  readonly path: string;
  readonly auth: Auth;
  handle(context: RouteContext): void | Promise<void>;
}

/**
 * A route from `"METHOD path"`.
 *
 * @example
 * route("PUT jobs/:job/accept", "agent", ({ params, answer }) => answer(200, { id: params.job }));
 */
export function route(spec: string, auth: Auth, handle: Route["handle"]): Route {
  const [method = "GET", path = ""] = spec.split(" ");
  return { method, path, auth, handle };
}

/**
 * The route for `method` and `path` (below the API base) and its params, if any matches.
 *
 * @example
 * findRoute(routes, "PUT", "jobs/0190a3c2/accept"); // { route, params: { job: "0190a3c2" } }
 */
export function findRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  const segments = path.split("/");
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const pattern = candidate.path.split("/");
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const fits = pattern.every((part, index) => {
      const segment = segments[index] ?? "";
      if (!part.startsWith(":")) return part === segment;
      params[part.slice(1)] = decodeURIComponent(segment);
      return segment !== "";
    });
    if (fits) return { route: candidate, params };
  }
  return undefined;
}
