import { createServer, type Server } from "node:net";
import { describeWith } from "@ondemand-eks/testenv/vitest";
import { expect, it } from "vitest";
import { freePort, skipUnlessCi, startMoto } from "../src/index.js";

// A port can be taken between choosing it and moto binding it (servers start side by side
// in the tests); startMoto then tries another instead of failing the test that asked.
const python = await skipUnlessCi(async () =>
  (await import("../src/moto.js")).ensureMoto(() => {}),
);

describeWith(python, "startMoto", () => {
  it("tries another port when the one it chose is taken before moto binds it", async () => {
    // Prepare: a port held by another listener, offered first.
    const held: Server = createServer();
    const taken = await new Promise<number>((resolve) =>
      held.listen(0, "127.0.0.1", () => resolve((held.address() as { port: number }).port)),
    );
    const offered: number[] = [];
    const lines: string[] = [];

    // Act
    const moto = await startMoto("moto-port-retry", {
      log: (line) => lines.push(line),
      port: async () => {
        const port = offered.length === 0 ? taken : await freePort();
        offered.push(port);
        return port;
      },
    });

    // Assess
    try {
      expect(offered).toHaveLength(2);
      expect(moto.endpoint).toBe(`http://127.0.0.1:${offered[1]}`);
      expect((await fetch(`${moto.endpoint}/moto-api/`)).ok).toBe(true);
      expect(lines.join("\n")).toContain(`port ${taken} was taken before moto bound it`);
    } finally {
      await moto.stop();
      held.close();
    }
  });
});

describeWith(python, "startMoto's retry", () => {
  it("is bounded: three taken ports end in the daemon's error", async () => {
    const held: Server = createServer();
    const taken = await new Promise<number>((resolve) =>
      held.listen(0, "127.0.0.1", () => resolve((held.address() as { port: number }).port)),
    );
    let tries = 0;
    try {
      await expect(
        startMoto("moto-port-retry-bounded", {
          log: () => {},
          port: async () => {
            tries++;
            return taken;
          },
        }),
      ).rejects.toThrow(/in use/i);
      expect(tries).toBe(3);
    } finally {
      held.close();
    }
  });
});
