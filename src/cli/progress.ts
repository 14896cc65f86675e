// Picks the view for a run: NDJSON with --json, listr2 on a terminal, plain
// lines otherwise (no TTY, or CI set).
import type { GraphView } from "../app/graph-runner.js";

export function interactive(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.CI;
}

export async function progressFor(options: { json: boolean }): Promise<GraphView> {
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  if (options.json) {
    const { jsonView } = await import("../graph/views/json.js");
    const view = jsonView(print);
    return {
      onEvent: (event) => {
        if (event.type === "warning") process.stderr.write(`warning: ${event.message}\n`);
        view(event);
      },
      finished: async () => {},
      release: async () => {},
    };
  }
  const { plainView, plainLine } = await import("../graph/views/plain.js");
  if (interactive()) {
    const { createListrView } = await import("../graph/views/listr.js");
    const view = await createListrView();
    let summary: string | null = null;
    let released = false;
    const plain = plainView(print);
    return {
      onEvent: (event) => {
        if (released) return plain(event);
        if (event.type === "summary") summary = plainLine(event);
        view.onEvent(event);
      },
      finished: async () => {
        if (released) return;
        await view.finished();
        if (summary) print(summary);
      },
      release: async () => {
        released = true;
        await view.release();
      },
    };
  }
  return { onEvent: plainView(print), finished: async () => {}, release: async () => {} };
}
