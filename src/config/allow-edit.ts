// Adding a host to egress.allow in a config's source text, as a person
// would: the config is TypeScript (or JavaScript), edited as text, and only
// where its shape is plain: one `egress: { ... }` object literal, whose
// `allow` is an array literal or absent. Anything else (egress built in
// code, spread, or named twice) is not guessed at: the caller is told the
// exact line to add instead. Pure; the caller writes the file and checks
// the result by loading it.

export type AllowEdit =
  | { ok: true; text: string; line: number }
  /** `instruction` says exactly what to add where; `why` why bottle did not. */
  | { ok: false; why: string; instruction: string };

interface Token {
  kind: "name" | "string" | "punct" | "other";
  /** The name, the string's value, or the punctuation. */
  value: string;
  start: number;
  end: number;
}

const OPEN: Readonly<Record<string, string>> = { "{": "}", "[": "]", "(": ")" };

/** The tokens that matter for finding object keys and brackets: comments, template literals and whitespace skipped. */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (source.startsWith("//", i)) {
      const end = source.indexOf("\n", i);
      i = end === -1 ? source.length : end;
    } else if (source.startsWith("/*", i)) {
      const end = source.indexOf("*/", i + 2);
      i = end === -1 ? source.length : end + 2;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let value = "";
      while (j < source.length && source[j] !== c && source[j] !== "\n") {
        if (source[j] === "\\") j++;
        value += source[j] ?? "";
        j++;
      }
      tokens.push({ kind: "string", value, start: i, end: j + 1 });
      i = j + 1;
    } else if (c === "`") {
      const end = templateEnd(source, i);
      tokens.push({ kind: "other", value: "`", start: i, end });
      i = end;
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < source.length && /[\w$]/.test(source[j]!)) j++;
      tokens.push({ kind: "name", value: source.slice(i, j), start: i, end: j });
      i = j;
    } else if (source.startsWith("...", i)) {
      tokens.push({ kind: "punct", value: "...", start: i, end: i + 3 });
      i += 3;
    } else {
      tokens.push({ kind: /[{}[\]():,]/.test(c) ? "punct" : "other", value: c, start: i, end: i + 1 });
      i++;
    }
  }
  return tokens;
}

/** Where a template literal starting at `start` ends (after its closing backtick), skipping `${ ... }` with nested braces and strings. */
function templateEnd(source: string, start: number): number {
  let i = start + 1;
  while (i < source.length) {
    const c = source[i]!;
    if (c === "\\") i += 2;
    else if (c === "`") return i + 1;
    else if (source.startsWith("${", i)) {
      let depth = 1;
      i += 2;
      while (i < source.length && depth > 0) {
        const d = source[i]!;
        if (d === "{") depth++;
        else if (d === "}") depth--;
        else if (d === "`") {
          i = templateEnd(source, i);
          continue;
        } else if (d === '"' || d === "'") {
          i++;
          while (i < source.length && source[i] !== d) i += source[i] === "\\" ? 2 : 1;
        }
        i++;
      }
    } else i++;
  }
  return source.length;
}

/** Index of the token closing the bracket at `open`, or -1. */
function closing(tokens: readonly Token[], open: number): number {
  const stack: string[] = [];
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== "punct") continue;
    if (OPEN[t.value]) stack.push(OPEN[t.value]!);
    else if (t.value === "}" || t.value === "]" || t.value === ")") {
      if (stack.pop() !== t.value) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

/** Indices of `key:` property keys directly inside the object whose braces are tokens `open`..`close` (or anywhere, with depth undefined). */
function keysNamed(tokens: readonly Token[], key: string, open: number, close: number, directOnly: boolean): number[] {
  const found: number[] = [];
  let depth = 0;
  for (let i = open + 1; i < close; i++) {
    const t = tokens[i]!;
    if (t.kind === "punct" && OPEN[t.value]) depth++;
    else if (t.kind === "punct" && (t.value === "}" || t.value === "]" || t.value === ")")) depth--;
    else if ((t.kind === "name" || t.kind === "string") && t.value === key && (!directOnly || depth === 0)) {
      const before = tokens[i - 1];
      if (before?.kind === "punct" && (before.value === "{" || before.value === ",")) found.push(i);
    }
  }
  return found;
}

function lineOf(source: string, index: number): number {
  return source.slice(0, index).split("\n").length;
}

function indentAt(source: string, index: number): string {
  const lineStart = source.lastIndexOf("\n", index - 1) + 1;
  return /^[ \t]*/.exec(source.slice(lineStart))![0];
}

/** `source` with `insert` put at `at` (replacing what is before `removeUpTo`), and the line `item` lands on. */
function spliced(source: string, at: number, insert: string, item: string, removeUpTo = at): { text: string; line: number } {
  const text = source.slice(0, at) + insert + source.slice(removeUpTo);
  return { text, line: lineOf(text, at + insert.indexOf(item)) };
}

/** Adds `host` (already validated) to egress.allow in `source`, or says what to add by hand. */
export function addAllowedHost(source: string, host: string, file: string): AllowEdit {
  const tokens = tokenize(source);
  const quoted = JSON.stringify(host);
  const named = keysNamed(tokens, "egress", -1, tokens.length, false);
  const whole = named.filter((i) => tokens[i + 1]?.value === ":");
  const newEgress = `egress: { allow: [${quoted}] },`;
  if (named.length > whole.length) {
    const line = lineOf(source, tokens[named.find((i) => !whole.includes(i))!]!.start);
    return { ok: false, why: `egress in ${file} (line ${line}) is a variable, not an object written out as \`{ ... }\``, instruction: `add ${quoted} to the allow list of the egress object given at line ${line} of ${file}` };
  }
  if (whole.length === 0) {
    return { ok: false, why: `${file} has no \`egress: { ... }\``, instruction: `add the line \`${newEgress}\` to the object the config exports (the one passed to defineConfig) in ${file}` };
  }
  if (whole.length > 1) {
    const lines = whole.map((i) => lineOf(source, tokens[i]!.start)).join(", ");
    return { ok: false, why: `${file} names \`egress\` more than once (lines ${lines})`, instruction: `add ${quoted} to the \`allow\` array of the bottle's \`egress\` in ${file}` };
  }
  const key = whole[0]!;
  const egressLine = lineOf(source, tokens[key]!.start);
  const open = key + 2;
  const close = tokens[open]?.value === "{" ? closing(tokens, open) : -1;
  if (close === -1) {
    return { ok: false, why: `egress in ${file} (line ${egressLine}) is not an object written out as \`{ ... }\``, instruction: `add ${quoted} to the list its \`allow\` comes from, at or above line ${egressLine} of ${file}` };
  }
  const allows = keysNamed(tokens, "allow", open, close, true);
  if (allows.length === 0) return addAllowKey(source, tokens, open, close, quoted, egressLine, file);
  const allowKey = allows[0]!;
  const allowLine = lineOf(source, tokens[allowKey]!.start);
  const bracket = allowKey + 2;
  const end = allows.length === 1 && tokens[allowKey + 1]?.value === ":" && tokens[bracket]?.value === "[" ? closing(tokens, bracket) : -1;
  // `[...]` must be the whole value: `[...].filter(...)` is code.
  if (end === -1 || ![",", "}"].includes(tokens[end + 1]?.value ?? "")) {
    return { ok: false, why: `egress.allow in ${file} (line ${allowLine}) is not an array written out as \`[ ... ]\``, instruction: `add ${quoted} to egress.allow at line ${allowLine} of ${file}` };
  }
  return { ok: true, ...appendToArray(source, tokens, bracket, end, quoted) };
}

/** `allow: [host]` as the egress object's first key. */
function addAllowKey(source: string, tokens: readonly Token[], open: number, close: number, quoted: string, egressLine: number, file: string): AllowEdit {
  const inside = tokens.slice(open + 1, close);
  // A spread (`...base`) may bring an allow of its own, which a new key would replace.
  if (inside.some((t) => t.value === "...")) {
    return { ok: false, why: `egress in ${file} (line ${egressLine}) spreads another object, whose allow a new key would replace`, instruction: `add ${quoted} to the allow list egress takes from it, or the line \`allow: [${quoted}],\` to egress at line ${egressLine} of ${file} keeping what it had` };
  }
  const brace = tokens[open]!;
  const entry = `allow: [${quoted}]`;
  if (inside.length === 0) return { ok: true, ...spliced(source, brace.end, ` ${entry} `, entry, tokens[close]!.start) };
  const first = inside[0]!;
  const between = source.slice(brace.end, first.start);
  if (between.includes("\n")) return { ok: true, ...spliced(source, brace.end, `\n${indentAt(source, first.start)}${entry},`, entry) };
  return { ok: true, ...spliced(source, brace.end, ` ${entry},${between === "" ? " " : ""}`, entry) };
}

/** The array literal `[ ... ]` (tokens open..close) with `quoted` as its last element, in its own style. */
function appendToArray(source: string, tokens: readonly Token[], open: number, close: number, quoted: string): { text: string; line: number } {
  const elements = tokens.slice(open + 1, close);
  const strings = elements.filter((t) => t.kind === "string");
  const quote = strings.length && source[strings[0]!.start] === "'" ? "'" : '"';
  const item = quote === "'" ? `'${quoted.slice(1, -1)}'` : quoted;
  const bracket = tokens[open]!;
  const end = tokens[close]!;
  if (elements.length === 0) return spliced(source, bracket.end, item, item, end.start);
  const last = elements.at(-1)!;
  const trailingComma = last.value === ",";
  if (source.slice(bracket.end, end.start).includes("\n")) {
    // On a line of its own, indented as the last element is, after a comment that ends the last one's line.
    const indent = indentAt(source, elements.findLast((t) => t.value !== ",")!.start);
    const text = trailingComma ? source : spliced(source, last.end, ",", ",").text;
    const after = trailingComma ? last.end : last.end + 1;
    const lineEnd = text.indexOf("\n", after);
    const at = lineEnd !== -1 && lineEnd < end.start + (trailingComma ? 0 : 1) ? lineEnd : after;
    return spliced(text, at, `\n${indent}${item}${trailingComma ? "," : ""}`, item);
  }
  return spliced(source, last.end, trailingComma ? ` ${item},` : `, ${item}`, item);
}
