import { createReadStream } from "node:fs";
import { InputTooLargeError } from "./errors.js";

/** Everything the CLI touches in the outside world, so tests can run it in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** All of standard input as text, at most `limit` bytes. */
  readonly readStdin: (limit: number) => Promise<string>;
  /** A whole file as text, at most `limit` bytes (read as a stream: a huge file is refused, not loaded). */
  readonly readFile: (path: string, limit: number) => Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * For long-running commands: a signal aborted when they should shut down (SIGTERM or
   * SIGINT for the process; tests abort their own). Asking for it is what installs the
   * signal handlers, so short commands still stop on Ctrl-C as usual.
   */
  readonly shutdown?: () => AbortSignal;
}

async function readStream(stream: NodeJS.ReadableStream, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += buffer.length;
    if (size > limit) throw new InputTooLargeError(limit);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The real process: standard streams, files, environment. */
export function processIo(): CliIo {
  let shutdown: AbortController | undefined;
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: (limit) => readStream(process.stdin, limit),
    readFile: (path, limit) => readStream(createReadStream(path), limit),
    env: process.env,
    shutdown: () => {
      if (!shutdown) {
        const controller = new AbortController();
        for (const signal of ["SIGTERM", "SIGINT"] as const) {
          process.once(signal, () => controller.abort(signal));
        }
        shutdown = controller;
      }
      return shutdown.signal;
    },
  };
}

/** Resolves when the process is asked to shut down (never, for an io without a shutdown signal). */
export function untilShutdown(io: CliIo): Promise<void> {
  const signal = io.shutdown?.();
  return new Promise<void>((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
