// The loopback collector of the bench parts that run inside workerd (workerd has no file system): the bench posts its
// figures to `/results`, which are written to `out` (or printed when no file is named). A part may answer other paths
// itself (`answer` returns a body, or null for the default 204).
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

interface Collector {
  origin: string;
  close(): Promise<void>;
}

export async function startCollector(
  out: string | undefined,
  answer?: (path: string) => string | null,
): Promise<Collector> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const own = answer?.(req.url ?? "/") ?? null;
      if (own !== null) {
        res.writeHead(200, { "Content-Type": "text/plain" }).end(own);
        return;
      }
      if (req.url === "/results") {
        const body = Buffer.concat(chunks).toString("utf8");
        if (out) writeFileSync(out, body);
        else console.log(body);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
