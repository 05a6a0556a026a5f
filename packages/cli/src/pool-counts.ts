import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson } from "@ondemand-eks/adapter-http";
import { type PodDefinition, STALE_METRICS_MS } from "@ondemand-eks/core";

/** A scaled pool's latest decision, as the controller's pool scaler keeps it. */
export interface PoolCount {
  /** What spec.replicas should be: after min and max, step limits and cool-downs. */
  readonly replicas: number;
  /** Before step limits and cool-downs. */
  readonly wanted: number;
  /** When the queue metrics it came from were read (epoch ms). */
  readonly at: number;
}

/** Where the answers come from. */
export interface PoolCountSource {
  /** Each scaled pool's latest decision, by definition name. */
  desired(): ReadonlyMap<string, PoolCount>;
  /** The pod definition of that name, if the library has one. */
  definition(name: string): Promise<PodDefinition | undefined>;
  now(): number;
}

/** An answer: the status and the JSON body. */
export interface PoolCountAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

const PREFIX = "/pools/";

/**
 * The answer to `GET /pools/<definition>` (undefined for any other path), for KEDA's
 * `metrics-api` scaler: `{"pool","queue","desiredReplicas","wanted","at"}` with 200; 404
 * for a name that is not a scaled long-polling pool; 503 while its queue metrics are
 * missing or stale, so KEDA keeps the replicas it has rather than act on a guess.
 *
 * @example
 * ```ts
 * const answer = await poolCountAnswer("/pools/linux-pool", source);
 * // { status: 200, body: { pool: "linux-pool", queue: "linux", desiredReplicas: 3, ... } }
 * ```
 */
export async function poolCountAnswer(
  path: string,
  source: PoolCountSource,
): Promise<PoolCountAnswer | undefined> {
  if (!path.startsWith(PREFIX)) return undefined;
  let pool = "";
  try {
    pool = decodeURIComponent(path.slice(PREFIX.length));
  } catch {
    return { status: 404, body: { error: "not a pool name" } };
  }
  const definition = await source.definition(pool);
  const queue = definition?.longPolling?.queue;
  if (queue === undefined || !definition?.longPolling?.scaling) {
    return { status: 404, body: { error: `no scaled long-polling pool named ${pool}` } };
  }
  const count = source.desired().get(pool);
  if (!count) {
    return { status: 503, body: { pool, queue, error: "no queue metrics read yet" } };
  }
  const at = new Date(count.at).toISOString();
  if (source.now() - count.at > STALE_METRICS_MS) {
    return {
      status: 503,
      body: { pool, queue, at, error: `queue metrics are stale: last read at ${at}` },
    };
  }
  return {
    status: 200,
    body: { pool, queue, desiredReplicas: count.replicas, wanted: count.wanted, at },
  };
}

/**
 * The ops server's extra route for `GET /pools/<definition>` (its `routes` option):
 * answers with {@link poolCountAnswer}, and leaves every other path to the ops server.
 *
 * @example
 * ```ts
 * const ops = await startOpsServer({ port: 8080, ready, log, routes: poolCountsRoute(source) });
 * ```
 */
export function poolCountsRoute(
  source: PoolCountSource,
): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  return async (request, response) => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    if (!path.startsWith(PREFIX)) return false;
    if (request.method !== "GET") {
      sendJson(response, 405, { error: "use GET" });
      return true;
    }
    const answer = await poolCountAnswer(path, source);
    sendJson(response, answer?.status ?? 404, answer?.body ?? { error: "not found" });
    return true;
  };
}
