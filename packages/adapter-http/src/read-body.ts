import type { IncomingMessage } from "node:http";
import type { BodySlot } from "./traffic.js";

/** The body is over the limit: nothing past the limit was kept. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`body larger than ${limit} bytes`);
    this.name = "BodyTooLarge";
  }
}

/** The client went away (or was cut off at its deadline) before the body ended. */
export class BodyAborted extends Error {
  constructor() {
    super("the client closed the connection before the body ended");
    this.name = "BodyAborted";
  }
}

/**
 * Reads a request's body into memory, counting every byte into `slot`, and stops at
 * `limit` bytes: a declared `Content-Length` over it is refused before a byte is read,
 * and an undeclared (chunked) one as soon as it passes the limit; the rest is never
 * buffered.
 *
 * @example
 * const body = await readBody(request, 512 * 1024, slot); // BodyTooLarge, BodyAborted
 */
export function readBody(request: IncomingMessage, limit: number, slot: BodySlot): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      request.off("data", onData);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.pause();
        chunks.length = 0;
        settle(() => reject(new BodyTooLarge(limit)));
        return;
      }
      slot.add(chunk.length);
      chunks.push(chunk);
    };
    request.on("data", onData);
    request.once("end", () => settle(() => resolve(Buffer.concat(chunks, size))));
    request.once("error", () => settle(() => reject(new BodyAborted())));
    request.once("close", () => settle(() => reject(new BodyAborted())));
  });
}
