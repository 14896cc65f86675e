// Watching files through their directories, with chokidar.
//
// Why not a watch on each file: an editor's rename dance replaces the file
// (a new inode) and a watch on the file itself stays on the old one unless
// chokidar re-stats it in time; chokidar throttles each file's raw events
// (5 ms) and its change events (50 ms) and drops, rather than delays, the
// ones it throttles. So a touch followed at once by a rename-over lost the
// watch for good, and a save right after an ignored one was never seen.
//
// A watch on the directory sees every write, rename, delete and re-create of
// its entries, and chokidar's `raw` events are never throttled. Each
// directory gets its own chokidar instance that ignores every entry (depth
// 0: nothing below is read or watched), so `ready` says exactly when that
// directory's watch is live. A directory that does not exist (yet) is
// stood in for by its nearest existing ancestor until it appears, and one
// that is removed falls back to its ancestor again. The caller decides what
// an event means (it compares content hashes).
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { isBelow } from "../../lib/path-checks.js";
import type { FSWatcher } from "chokidar";

/** `name` is the entry that changed, if the platform says; a directory that (re)appeared is reported without one. */
export type DirEvent = (dir: string, name: string | undefined) => void;

function nearestExisting(dir: string): string {
  let current = dir;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

function inode(dir: string): number | undefined {
  try {
    return statSync(dir).ino;
  } catch {
    return undefined;
  }
}

export class DirectoryWatch {
  /** By the directory actually watched: a wanted one, or an ancestor standing in for a missing one. */
  private readonly watchers = new Map<string, { watcher: FSWatcher; ino: number | undefined }>();
  private wanted = new Set<string>();
  /** Changes to the set of watches, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly onEvent: DirEvent) {}

  /** Watches exactly `dirs` from now on; resolves once every new watch is live. */
  async set(dirs: Iterable<string>): Promise<void> {
    this.wanted = new Set([...dirs].map((dir) => resolve(dir)));
    await this.sync();
  }

  /**
   * Brings the watches in line with `wanted`; resolves with the wanted dirs
   * that got a watch of their own. Goes round until nothing changes: a
   * directory created while a stand-in's watch was being set up (mkdir -p
   * a/b/c) sent its events to no one, so it is looked for again once the
   * watch is live.
   */
  private sync(): Promise<string[]> {
    const next = this.queue.then(async () => {
      const appeared: string[] = [];
      while (!this.closed) {
        const targets = new Set([...this.wanted].map(nearestExisting));
        for (const [dir, { watcher, ino }] of this.watchers) {
          // A directory removed and made again is a new inode: the old watch sees nothing.
          if (targets.has(dir) && inode(dir) === ino) continue;
          this.watchers.delete(dir);
          await watcher.close();
        }
        const added = [...targets].filter((dir) => !this.watchers.has(dir));
        if (!added.length) break;
        await Promise.all(added.map((dir) => this.add(dir)));
        appeared.push(...added.filter((dir) => this.wanted.has(dir)));
      }
      return appeared;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async add(dir: string): Promise<void> {
    const { watch } = await import("chokidar");
    if (this.closed) return;
    const ino = inode(dir);
    const watcher = watch(dir, { ignoreInitial: true, depth: 0, ignored: (path: string) => resolve(path) !== dir });
    this.watchers.set(dir, { watcher, ino });
    const ready = new Promise<void>((done) => watcher.once("ready", () => done()));
    watcher.on("raw", (_event, name: string | null | undefined, details) => {
      const watched = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
      if (typeof watched === "string" && resolve(watched) !== dir) return;
      this.onRaw(dir, name ? String(name) : undefined);
    });
    // A directory that cannot be watched (no permission): its files are
    // still hashed before every run; nothing else to do.
    watcher.on("error", () => undefined);
    await ready;
  }

  private onRaw(dir: string, name: string | undefined): void {
    if (this.closed) return;
    if (this.wanted.has(dir)) this.onEvent(dir, name);
    // A missing directory may have appeared below a stand-in, or this one was removed.
    const standsIn = [...this.wanted].some((wanted) => isBelow(dir, wanted) && !this.watchers.has(wanted));
    if (standsIn || inode(dir) !== this.watchers.get(dir)?.ino) {
      void this.sync().then(
        (appeared) => {
          for (const wanted of appeared) this.onEvent(wanted, undefined);
        },
        () => undefined,
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const all = [...this.watchers.values()];
    this.watchers.clear();
    await Promise.all(all.map(({ watcher }) => watcher.close()));
  }
}
