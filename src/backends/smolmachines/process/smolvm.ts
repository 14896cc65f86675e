// The smolvm CLI, as bottle uses it (smolvm.md). smolvm keeps its state in
// a single-writer SQLite database, so a call can fail with "database is
// locked" while another smolvm process writes: those are retried.
import { BottleError, isBottleError } from "../../../lib/errors.js";
import type { CallResult, Supervisor } from "./supervisor.js";

export type MachineState = "created" | "running" | "stopped" | "failed" | "unreachable";

export interface MachineStatus {
  name: string;
  state: MachineState;
  pid: number | null;
}

/**
 * A smolvm call that failed, as a BottleError: "missing-tool" when smolvm
 * could not be run at all, else "tool-failed" with what smolvm said.
 */
function smolvmFailed(binary: string, args: readonly string[], result: CallResult): BottleError<"missing-tool" | "tool-failed"> {
  const verb = `smolvm ${args.slice(0, 2).join(" ")}`;
  if (result.spawnError !== null) return new BottleError("missing-tool", `${verb} could not run ${binary}: ${result.spawnError}`);
  const said = (result.stderr.trim() || result.stdout.trim() || `exit code ${result.exitCode}`).replace(/^Error:\s*/, "");
  return new BottleError("tool-failed", `${verb} failed: ${said}`, { detail: { program: binary, args, exitCode: result.exitCode, stderr: result.stderr } });
}

// smolvm reports every failure as `Error: …` and exit 1 (smolvm.md): what
// went wrong is only in what it says. These two answers are part of how
// bottle drives it: a busy database is retried, an unknown machine is none.
const BUSY = /database is locked|database is busy|SQLITE_BUSY/i;
const NOT_FOUND = /not found|no such machine/i;
const ALREADY_RUNNING = /already running/i;
/**
 * A busy database is asked again for up to this long, the wait doubling from
 * 50 ms to at most 2 s, each wait drawn between half and the whole of it so
 * bottles launched together do not ask again in step. Six fixed retries
 * (3 s in all) lost to 50 launches at once on the namespace machine.
 */
const BUSY_RETRY_FOR_MS = 60_000;
const BUSY_FIRST_WAIT_MS = 50;
const BUSY_LONGEST_WAIT_MS = 2_000;

export class Smolvm {
  constructor(
    private readonly supervisor: Supervisor,
    private readonly binary = "smolvm",
    private readonly signal?: AbortSignal,
    /** What every smolvm call runs with (it resolves the Smolfile's secrets from it). */
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  private async call(args: string[]): Promise<CallResult> {
    const giveUpAt = Date.now() + BUSY_RETRY_FOR_MS;
    for (let wait = BUSY_FIRST_WAIT_MS; ; wait = Math.min(wait * 2, BUSY_LONGEST_WAIT_MS)) {
      const result = await this.supervisor.call(this.binary, args, { env: this.env, ...(this.signal ? { signal: this.signal } : {}) });
      if (result.exitCode === 0) return result;
      if (!BUSY.test(result.stderr) || Date.now() >= giveUpAt || this.signal?.aborted) throw smolvmFailed(this.binary, args, result);
      await new Promise((resolve) => setTimeout(resolve, wait * (0.5 + Math.random() / 2)));
    }
  }

  /** The machine's status, or null when smolvm has no such machine. */
  async status(name: string): Promise<MachineStatus | null> {
    try {
      const result = await this.call(["machine", "status", "--name", name, "--json"]);
      const parsed = JSON.parse(result.stdout) as Partial<MachineStatus>;
      return { name, state: (parsed.state ?? "failed") as MachineState, pid: parsed.pid ?? null };
    } catch (error) {
      if (isBottleError(error, "tool-failed") && NOT_FOUND.test(error.detail.stderr)) return null;
      throw error;
    }
  }

  async create(name: string, smolfile: string, mountSockets: readonly (readonly [string, string])[]): Promise<void> {
    await this.call(["machine", "create", "--name", name, "-s", smolfile, ...mountSockets.flatMap(([host, guest]) => ["--mount-socket", `${host}:${guest}`])]);
  }

  async start(name: string): Promise<void> {
    try {
      await this.call(["machine", "start", "--name", name]);
    } catch (error) {
      // A start refused as busy may have started the machine before the
      // refusal: asked again, smolvm says it is already running. The launch
      // holds the bottle's stage lock and run dir, so no one else started it.
      if (isBottleError(error, "tool-failed") && ALREADY_RUNNING.test(error.detail.stderr) && (await this.status(name))?.state === "running") return;
      throw error;
    }
  }

  async stop(name: string): Promise<void> {
    await this.call(["machine", "stop", "--name", name]);
  }

  async delete(name: string): Promise<void> {
    await this.call(["machine", "delete", "--name", name, "-f"]);
  }

  /** argv for `smolvm machine exec` that runs `command` with the terminal attached. */
  execArgs(name: string, command: readonly string[], tty: boolean): string[] {
    return ["machine", "exec", "--name", name, tty ? "-it" : "-i", "--", ...command];
  }

  /** The same CLI without the launch's abort signal: undoing a step must still work after Ctrl-C or `bottle stop`. */
  withoutSignal(): Smolvm {
    return new Smolvm(this.supervisor, this.binary);
  }

  get command(): string {
    return this.binary;
  }
}
