// Every process a launch is answerable for, by pid: the children it spawned
// (long-lived ones by role), and the processes another program started for
// it (smolvm's VM), so that a forced exit can kill them all at once.
import { killIfSame, signalGroup } from "./identity.js";
import { descendants, processStartTime } from "../../../lib/proc.js";

/** A spawned child, as the registry needs it: its pid (once started), and a way to kill it. */
export interface TrackedChild {
  readonly pid?: number | undefined;
  kill(signal: NodeJS.Signals): unknown;
}

export class ChildRegistry<Named extends { alive(): boolean }> {
  private readonly running = new Set<TrackedChild>();
  private readonly byRole = new Map<string, Named>();
  /** Processes another program started for us: killed only by a forced exit, and only while still the same process. */
  private readonly adopted = new Map<string, { pid: number; startTime: string | null }>();

  add(child: TrackedChild): void {
    this.running.add(child);
  }

  remove(child: TrackedChild): void {
    this.running.delete(child);
  }

  name(role: string, child: Named): void {
    this.byRole.set(role, child);
  }

  /** The live long-lived child started under `role`, if any. */
  named(role: string): Named | undefined {
    const found = this.byRole.get(role);
    return found?.alive() ? found : undefined;
  }

  adopt(role: string, pid: number): void {
    this.adopted.set(role, { pid, startTime: processStartTime(pid) });
  }

  disown(role: string): void {
    this.adopted.delete(role);
  }

  /** Kills what is still running (an interrupted short call): the end of a teardown. */
  killRunning(): void {
    for (const child of this.running) child.kill("SIGKILL");
  }

  /**
   * The second Ctrl-C: kills every child now, no ordering, with everything
   * under it (the jail's processes lead a session of their own, and when
   * bottle runs as root they are nobody's, whom bwrap's parent-death signal
   * cannot reach), and every adopted process.
   */
  killEverything(): void {
    const pids = [...this.running].map((child) => child.pid).filter((pid): pid is number => pid !== undefined);
    // Found before anything dies: a killed parent's children are re-parented away.
    for (const pid of pids.flatMap(descendants)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    for (const child of this.running) {
      if (child.pid === undefined || !signalGroup(child.pid, "SIGKILL")) child.kill("SIGKILL");
    }
    for (const { pid, startTime } of this.adopted.values()) killIfSame(pid, startTime);
    this.adopted.clear();
  }
}
