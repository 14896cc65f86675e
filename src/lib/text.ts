// Small text helpers.

/** The last `count` lines of `text`, trailing blank space dropped (the tail of a log, for a message). */
export function lastLines(text: string, count: number): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}
