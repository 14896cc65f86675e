// The world outside the bottle for one test run: a network namespace
// reached from the host over a veth pair, where test-host.js serves HTTP,
// UDP and DNS; and the /etc/hosts and /etc/resolv.conf that make its names
// resolve for whatever runs in the launch's private mount namespace
// (pipelock, and gvproxy if its jail let it resolve anything).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const testHostScript = fileURLToPath(new URL("./test-host.js", import.meta.url));

export interface World {
  /** The network namespace the test host runs in (its only route is the veth to the host). */
  namespace: string;
  /** The test host's address, 198.18.K.2 (a benchmarking range: never routed publicly). */
  address: string;
  names: string[];
  nonce: string;
  log: string;
  hostsFile: string;
  resolvFile: string;
  entries(): Record<string, unknown>[];
  close(): void;
}

function ip(...args: string[]): void {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ip ${args.join(" ")}: ${result.stderr.trim()}`);
}

/** `tls`: a certificate for the names (and its key) the test host serves HTTPS on :443 with. */
export async function makeWorld(dir: string, names: string[], tls?: { cert: string; key: string }): Promise<World> {
  const id = process.pid % 10000;
  const octet = 20 + (process.pid % 200);
  const ns = `bt-acc-${id}`;
  const [outside, inside] = [`bta${id}h`, `bta${id}n`];
  const [hostSide, address] = [`198.18.${octet}.1`, `198.18.${octet}.2`];
  const nonce = `n${Date.now().toString(36)}${process.pid}`;
  const log = join(dir, "test-host.jsonl");
  writeFileSync(log, "");
  let server: ChildProcess | undefined;
  const close = (): void => {
    server?.kill("SIGKILL");
    spawnSync("ip", ["netns", "del", ns]);
    spawnSync("ip", ["link", "del", outside]);
  };
  try {
    ip("netns", "add", ns);
    ip("link", "add", outside, "type", "veth", "peer", "name", inside);
    ip("link", "set", inside, "netns", ns);
    ip("addr", "add", `${hostSide}/24`, "dev", outside);
    ip("link", "set", outside, "up");
    ip("-n", ns, "addr", "add", `${address}/24`, "dev", inside);
    ip("-n", ns, "link", "set", inside, "up");
    ip("-n", ns, "link", "set", "lo", "up");
    const env = { ...process.env, ...(tls ? { TEST_HOST_TLS_CERT: tls.cert, TEST_HOST_TLS_KEY: tls.key } : {}) };
    server = spawn("ip", ["netns", "exec", ns, process.execPath, testHostScript, log, address, nonce, ...names], { stdio: ["ignore", "pipe", "inherit"], env });
    await new Promise<void>((resolve, reject) => {
      let out = "";
      server!.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("ready\n")) resolve();
      });
      server!.on("exit", (code) => reject(new Error(`the test host exited (${code}) before it was ready`)));
    });
  } catch (error) {
    close();
    throw error;
  }
  const hostsFile = join(dir, "hosts");
  writeFileSync(hostsFile, `127.0.0.1 localhost\n${address} ${names.join(" ")}\n`);
  const resolvFile = join(dir, "resolv.conf");
  writeFileSync(resolvFile, `nameserver ${address}\n`);
  return {
    namespace: ns,
    address,
    names,
    nonce,
    log,
    hostsFile,
    resolvFile,
    entries: () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : []),
    close,
  };
}

/**
 * argv that runs `command` in a private mount namespace where /etc/hosts
 * and /etc/resolv.conf are the world's: the host's own files are untouched.
 */
export function inPrivateMounts(world: Pick<World, "hostsFile" | "resolvFile">, command: readonly string[]): string[] {
  const script = 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"';
  return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", world.hostsFile, world.resolvFile, ...command];
}
