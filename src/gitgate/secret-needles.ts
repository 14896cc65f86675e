// The byte strings whose presence in a pushed object means a secret is
// leaving: each value as it is, and base64-encoded at each of the three
// alignments it can take inside a longer encoded text (standard and
// URL-safe alphabets). node: imports only.

export interface Needle {
  bytes: Buffer;
  /** Which secret, in words (`secret ANTHROPIC_API_KEY`); never its value. */
  secret: string;
  encoding: "plain" | "base64";
}

/** Shorter base64 stems would match ordinary text by chance. */
const MIN_STEM = 4;

/**
 * The part of base64(prefix + value) that depends only on `value`, for a
 * prefix of `offset` bytes: characters mixing prefix bits (at the start) or
 * whatever follows (at the end) are cut off.
 */
function base64Stem(value: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), value]).toString("base64");
  const first = Math.ceil((offset * 8) / 6);
  const last = Math.floor(((offset + value.length) * 8) / 6);
  return encoded.slice(first, last);
}

export function needlesFor(secrets: ReadonlyMap<string, string>): Needle[] {
  const needles: Needle[] = [];
  const seen = new Set<string>();
  const add = (bytes: Buffer, secret: string, encoding: Needle["encoding"]): void => {
    const key = bytes.toString("binary");
    if (bytes.length === 0 || seen.has(key)) return;
    seen.add(key);
    needles.push({ bytes, secret, encoding });
  };
  for (const [secret, value] of secrets) {
    const raw = Buffer.from(value, "utf8");
    add(raw, secret, "plain");
    for (const offset of [0, 1, 2]) {
      const stem = base64Stem(raw, offset);
      if (stem.length < MIN_STEM) continue;
      add(Buffer.from(stem), secret, "base64");
      add(Buffer.from(stem.replaceAll("+", "-").replaceAll("/", "_")), secret, "base64");
    }
  }
  return needles;
}

/** The first needle found in `content`, or null. */
export function findNeedle(content: Buffer | string, needles: readonly Needle[]): Needle | null {
  const haystack = typeof content === "string" ? Buffer.from(content) : content;
  for (const needle of needles) if (haystack.includes(needle.bytes)) return needle;
  return null;
}

/** `text` with every needle replaced by `[<secret>]`: for log lines and messages. */
export function redact(text: string, needles: readonly Needle[]): string {
  let out = text;
  // Longest first, so a plain value is replaced before a stem inside it.
  for (const needle of [...needles].sort((a, b) => b.bytes.length - a.bytes.length)) {
    out = out.split(needle.bytes.toString()).join(`[${needle.secret}]`);
  }
  return out;
}
