import { createServer } from "node:http";

/**
 * The floor of the webhook path: a Node process that reads each POST's body and answers
 * 202, doing nothing else. What the bench measures through it is the cost of one HTTP
 * exchange between two processes on this machine, which any webhook adapter pays.
 *
 *   node http-floor.js <port>
 */
const port = Number(process.argv[2]);
const server = createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(202, { "content-type": "application/json", "content-length": 3 });
    response.end("{}\n");
  });
});
server.keepAliveTimeout = 5_000;
server.listen(port, "127.0.0.1", () => process.stdout.write(`{"ready":true}\n`));
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
