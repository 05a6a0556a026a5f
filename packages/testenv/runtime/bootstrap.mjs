// A small AWS Lambda runtime for Node handlers, for tests under the Runtime Interface
// Emulator (the managed Node runtime is not available outside Lambda's images). It speaks
// the Lambda Runtime API: load the handler named by _HANDLER ("file.export") from
// LAMBDA_TASK_ROOT, then fetch each invocation, call the handler and post its result or
// its error. Only node: built-ins, so it runs from anywhere.
import { existsSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const env = process.env;
const api = `http://${env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;

/** One Runtime API call. node:http, not fetch: a wait for the next event has no time limit. */
function call(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(`${api}${path}`, { method, headers }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () =>
        resolve({ headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Lambda's error shape; its type also goes in the Lambda-Runtime-Function-Error-Type header. */
function errorBody(error, type) {
  const err = error instanceof Error ? error : new Error(String(error));
  const errorType = type ?? err.name ?? "Error";
  const stackTrace = (err.stack ?? "")
    .split("\n")
    .slice(1)
    .map((line) => line.trim());
  const body = JSON.stringify({ errorType, errorMessage: err.message, stackTrace });
  return { body, headers: { "Lambda-Runtime-Function-Error-Type": errorType } };
}

/** Imports the handler function; a failure carries the Runtime.* type Lambda reports. */
async function loadHandler() {
  const name = env._HANDLER ?? "";
  const dot = name.lastIndexOf(".");
  const [file, exported] = [name.slice(0, dot), name.slice(dot + 1)];
  const root = env.LAMBDA_TASK_ROOT ?? process.cwd();
  const path = [".mjs", ".js", ".cjs"]
    .map((ext) => join(root, file + ext))
    .find((candidate) => existsSync(candidate));
  if (dot < 1 || !path) {
    throw Object.assign(new Error(`Cannot find module '${file}' for handler '${name}'`), {
      lambdaType: "Runtime.ImportModuleError",
    });
  }
  const module = await import(pathToFileURL(path).href);
  const handler = module[exported] ?? module.default?.[exported];
  if (typeof handler !== "function") {
    throw Object.assign(new Error(`${name} is undefined or not exported`), {
      lambdaType: "Runtime.HandlerNotFound",
    });
  }
  return handler;
}

/** Calls an async handler, or a callback-style one (three parameters). */
function run(handler, event, context) {
  return new Promise((resolve, reject) => {
    const done = (error, value) => (error ? reject(error) : resolve(value));
    const result = handler(event, context, done);
    if (typeof result?.then === "function") result.then(resolve, reject);
    else if (handler.length < 3) resolve(result);
  });
}

/** The context object Lambda's Node runtime passes as the second argument. */
function contextFor(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  return {
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

async function main() {
  let handler;
  try {
    process.chdir(env.LAMBDA_TASK_ROOT ?? process.cwd());
    handler = await loadHandler();
  } catch (error) {
    const { body, headers } = errorBody(error, error?.lambdaType);
    await call("POST", "/init/error", body, headers);
    process.exit(1);
  }
  for (;;) {
    const next = await call("GET", "/invocation/next");
    const id = next.headers["lambda-runtime-aws-request-id"];
    const trace = next.headers["lambda-runtime-trace-id"];
    if (trace) env._X_AMZN_TRACE_ID = trace;
    else delete env._X_AMZN_TRACE_ID;
    try {
      const result = await run(handler, JSON.parse(next.body), contextFor(next.headers));
      await call("POST", `/invocation/${id}/response`, JSON.stringify(result ?? null));
    } catch (error) {
      const { body, headers } = errorBody(error);
      await call("POST", `/invocation/${id}/error`, body, headers);
    }
  }
}

// Losing the Runtime API (the emulator stopped) ends the runtime, as in Lambda.
main().catch((error) => {
  process.stderr.write(`bootstrap: ${error?.stack ?? error}\n`);
  process.exit(1);
});
