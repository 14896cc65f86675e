// The files a watch depends on, watched through their directories
// (dirs.ts): each file's content hash as the last run read it, which
// directory events concern which files, and which files had events. A
// burst of events is checked on the next turn of the event loop, by
// content: a save that changes nothing (a touch, an editor's rename dance)
// is told apart from an edit.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { sha256Hex } from "../../lib/hash.js";
import { resolvedPath } from "../../lib/path-checks.js";
import { DirectoryWatch } from "./dirs.js";

function contentHash(path: string): string {
  try {
    return sha256Hex(readFileSync(path));
  } catch {
    return "missing";
  }
}

/** What a burst of events amounted to: whether a file's content changed, and the files whose did not. */
export interface Touched {
  changed: boolean;
  unchanged: string[];
}

export class WatchedFiles {
  /** Each watched file's content hash as the last run read it (as the watch first saw it, before any run). */
  private readonly readHashes = new Map<string, string>();
  /**
   * Directory entries whose events concern a watched file: the file's own
   * path and, for a symlink, the file it points to (an edit there changes
   * nothing in the link's directory).
   */
  private entries = new Map<string, Set<string>>();
  /** Files with an event not yet checked. */
  private readonly pending = new Set<string>();
  /** Files with events since the last run started: named if the debounce ends with nothing changed. */
  private readonly touchedSinceRun = new Set<string>();
  private readonly dirs = new DirectoryWatch((dir, name) => this.onDirEvent(dir, name));

  /** `onTouched` hears about each burst of events on watched files. */
  constructor(private readonly onTouched: (touched: Touched) => void) {}

  private onDirEvent(dir: string, name: string | undefined): void {
    const files =
      name === undefined
        ? [...this.entries].filter(([entry]) => dirname(entry) === dir).flatMap(([, owners]) => [...owners])
        : [...(this.entries.get(join(dir, name)) ?? [])];
    if (!files.length) return;
    const first = this.pending.size === 0;
    for (const file of files) {
      this.pending.add(file);
      this.touchedSinceRun.add(file);
    }
    if (first) setImmediate(() => this.checkPending());
  }

  private checkPending(): void {
    const files = [...this.pending].filter((file) => this.readHashes.has(file));
    this.pending.clear();
    const unchanged = files.filter((file) => contentHash(file) === this.readHashes.get(file));
    this.onTouched({ changed: unchanged.length < files.length, unchanged });
  }

  /** Whether any watched file's content now differs from what the last run read; with the files that had events since it started. */
  settle(): { changed: boolean; touched: string[] } {
    const touched = [...this.touchedSinceRun];
    this.touchedSinceRun.clear();
    return { changed: [...this.readHashes].some(([file, hash]) => contentHash(file) !== hash), touched };
  }

  /** A run starts: the content it reads is what later edits are compared with. Returns each file's hash. */
  markRead(): Record<string, string> {
    for (const file of this.readHashes.keys()) this.readHashes.set(file, contentHash(file));
    this.touchedSinceRun.clear();
    return Object.fromEntries(this.readHashes);
  }

  /**
   * Watches exactly `files` (through their directories); resolves once the
   * watches are live, with whether a newly watched file changed between
   * being hashed and its watch going live (no event would tell).
   */
  async watch(files: readonly string[]): Promise<boolean> {
    const wanted = new Set(files);
    for (const file of [...this.readHashes.keys()]) if (!wanted.has(file)) this.readHashes.delete(file);
    const added = files.filter((f) => !this.readHashes.has(f));
    // Files already known keep the hash taken before the config was loaded,
    // so an edit made while loading still counts as a change.
    for (const file of added) this.readHashes.set(file, contentHash(file));
    const entries = new Map<string, Set<string>>();
    const entry = (path: string, file: string): void => void entries.set(path, (entries.get(path) ?? new Set()).add(file));
    for (const file of this.readHashes.keys()) {
      entry(file, file);
      const real = resolvedPath(file);
      if (real !== file) entry(real, file);
    }
    this.entries = entries;
    await this.dirs.set(new Set([...entries.keys()].map((path) => dirname(path))));
    return added.some((file) => contentHash(file) !== this.readHashes.get(file));
  }

  async close(): Promise<void> {
    this.pending.clear();
    await this.dirs.close();
  }
}
