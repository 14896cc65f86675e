// An agent for the two-bottles test: asks its proxy (HTTP_PROXY) for each
// host named on the command line, writes {host: status} to RESULT_FILE,
// then stays running until GO_FILE exists, so the harness can hold two (or
// fifty) bottles up at once.
import { existsSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";

const proxy = new URL(process.env.HTTP_PROXY ?? "");
const resultFile = process.env.RESULT_FILE ?? "";
const goFile = process.env.GO_FILE ?? "";

function status(host: string): Promise<number | string> {
  return new Promise((resolve) => {
    const socket = connect({ host: proxy.hostname, port: Number(proxy.port) });
    let data = "";
    socket.on("connect", () => socket.write(`GET http://${host}/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    socket.on("data", (chunk: Buffer) => (data += chunk.toString()));
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.on("close", () => resolve(Number(/^HTTP\/1\.[01] ([0-9]{3})/.exec(data)?.[1] ?? 0)));
  });
}

const results: Record<string, number | string> = {};
for (const host of process.argv.slice(2)) results[host] = await status(host);
writeFileSync(resultFile, JSON.stringify(results));
await new Promise<void>((resolve) => {
  let watcher: FSWatcher | null = null;
  const done = (): void => {
    if (!existsSync(goFile)) return;
    watcher?.close();
    clearInterval(poll);
    resolve();
  };
  // Polled too: in the namespace machine every guest shares the host's
  // kernel, and fifty guests use up its inotify instances (128 per user).
  const poll = setInterval(done, 500);
  try {
    watcher = watch(dirname(goFile), done);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EMFILE") throw error;
  }
  done();
});
