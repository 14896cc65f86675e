// Branch patterns for gitGate's `push`: what `git check-ref-format
// --allow-onelevel --refspec-pattern` accepts, checked here without
// spawning git, and how a pattern matches a ref.

/** Why `pattern` is not a ref glob, or null when it is one. */
export function refGlobProblem(pattern: string): string | null {
  if (pattern === "") return "must not be empty";
  if (pattern === "@") return "must not be `@`";
  if (/[\x00-\x20\x7f~^:?[\\]/.test(pattern)) {
    return "must not contain spaces, control characters or any of `~ ^ : ? [ \\`";
  }
  if ((pattern.match(/\*/g) ?? []).length > 1) return "may contain at most one `*`";
  if (pattern.includes("..")) return "must not contain `..`";
  if (pattern.includes("@{")) return "must not contain `@{`";
  if (pattern.startsWith("/") || pattern.endsWith("/") || pattern.includes("//")) {
    return "must not start or end with `/` or contain `//`";
  }
  if (pattern.endsWith(".")) return "must not end with `.`";
  for (const component of pattern.split("/")) {
    if (component.startsWith(".")) return "no `/`-separated part may start with `.`";
    if (component.endsWith(".lock")) return "no `/`-separated part may end with `.lock`";
  }
  return null;
}

/**
 * The full ref a push pattern stands for: a pattern starting with `refs/` is
 * a full ref name; anything else is a branch name under `refs/heads/`.
 */
function patternRef(pattern: string): string {
  return pattern.startsWith("refs/") ? pattern : `refs/heads/${pattern}`;
}

/** As in a git refspec, `*` matches any run of characters, `/` included. */
export function refGlobMatches(pattern: string, ref: string): boolean {
  const full = patternRef(pattern);
  const star = full.indexOf("*");
  if (star < 0) return full === ref;
  const head = full.slice(0, star);
  const tail = full.slice(star + 1);
  return ref.length >= head.length + tail.length && ref.startsWith(head) && ref.endsWith(tail);
}
