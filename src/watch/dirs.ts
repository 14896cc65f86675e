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
// directory's watch is live. The caller decides what an event means (it
// compares content hashes).
import { resolve } from "node:path";
import type { FSWatcher } from "chokidar";

export type DirEvent = (dir: string, name: string | undefined) => void;

export class DirectoryWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  private closed = false;

  constructor(private readonly onEvent: DirEvent) {}

  /** Watches exactly `dirs` from now on; resolves once every new watch is live. */
  async set(dirs: Iterable<string>): Promise<void> {
    const wanted = new Set([...dirs].map((dir) => resolve(dir)));
    for (const [dir, watcher] of this.watchers) {
      if (wanted.has(dir)) continue;
      this.watchers.delete(dir);
      await watcher.close();
    }
    await Promise.all([...wanted].filter((dir) => !this.watchers.has(dir)).map((dir) => this.add(dir)));
  }

  private async add(dir: string): Promise<void> {
    const { watch } = await import("chokidar");
    if (this.closed || this.watchers.has(dir)) return;
    const watcher = watch(dir, { ignoreInitial: true, depth: 0, ignored: (path: string) => resolve(path) !== dir });
    this.watchers.set(dir, watcher);
    const ready = new Promise<void>((done) => watcher.once("ready", () => done()));
    watcher.on("raw", (_event, name: string | null | undefined, details) => {
      const watched = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
      if (typeof watched === "string" && resolve(watched) !== dir) return;
      this.onEvent(dir, name ? String(name) : undefined);
    });
    // A directory that cannot be watched (gone, no permission): its files are
    // still hashed before every run; nothing else to do.
    watcher.on("error", () => undefined);
    await ready;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.watchers.values()];
    this.watchers.clear();
    await Promise.all(all.map((watcher) => watcher.close()));
  }
}
