// What an egress.allow entry may be. pipelock runs on the host, unjailed, and
// lets through whatever its allowlist matches, so an entry must name sites on
// the internet that one owner controls: no IP literal (in any notation a URL
// parser or pipelock would decode), nothing under `localhost`, and no
// wildcard that spans a public suffix (`*.co.uk`, `*.github.io`), where every
// label below belongs to someone else. The public suffix list is tldts's.
import { isIP } from "node:net";
import { createRequire } from "node:module";

// A host name of at least two labels, with an optional leading `*.`; no
// scheme, port or path.
const HOST_PATTERN = /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Why `entry` may not be an egress.allow entry, or undefined when it may. */
export function egressHostProblem(entry: string): string | undefined {
  if (isIpLiteral(entry)) {
    return "is an IP address: pipelock would connect to it directly, bypassing the name-based allowlist; allow the host name that serves it";
  }
  const topLevel = /^\*\.([a-z0-9-]+)$/i.exec(entry);
  if (topLevel) return `spans the public suffix \`${topLevel[1]!.toLowerCase()}\`: a whole top-level domain; list the hosts you need`;
  if (!HOST_PATTERN.test(entry)) {
    return "is not a host name: write `example.com` or `*.example.com` (at least two labels; no scheme, port or path)";
  }
  const host = entry.toLowerCase();
  const apex = host.startsWith("*.") ? host.slice(2) : host;
  if (apex === "localhost" || apex.endsWith(".localhost")) {
    return "is under `localhost`, which resolves to this machine: the guest must not reach the host's own services";
  }
  if (host.startsWith("*.")) {
    if (isPublicSuffix(apex)) {
      return `spans the public suffix \`${apex}\`: every name under it belongs to a different owner; list the hosts you need (e.g. \`api.example.${apex}\`)`;
    }
    if (hasPublicSuffixesBelow(apex)) {
      return `spans public suffixes registered under \`${apex}\` (sites of other owners, e.g. other customers' buckets); list the hosts you need instead`;
    }
  }
  return undefined;
}

/**
 * IPv4 and IPv6 in standard form (bracketed too), and any name whose last
 * label is a number: the WHATWG URL parser and pipelock (parseAlternativeIP)
 * read `2130706433`, `0x7f000001` or `0177.0.0.1` as an IPv4 address.
 */
function isIpLiteral(entry: string): boolean {
  const bare = entry.startsWith("[") && entry.endsWith("]") ? entry.slice(1, -1) : entry;
  if (isIP(bare) !== 0) return true;
  const labels = bare.replace(/\.$/, "").split(".");
  const last = labels[labels.length - 1] ?? "";
  return /^(?:[0-9]+|0x[0-9a-f]*)$/i.test(last);
}

const require = createRequire(import.meta.url);

/** Loaded only for wildcard entries: tldts costs tens of milliseconds to load, and every command validates the config. */
function isPublicSuffix(domain: string): boolean {
  const { getPublicSuffix } = require("tldts") as typeof import("tldts");
  return getPublicSuffix(domain, { allowPrivateDomains: true }) === domain;
}

/** tldts's compiled list: a trie of labels, right to left, from `rulesRoot`. */
interface SuffixTrie {
  nodeFlags: Uint8Array;
  edgeStart: ArrayLike<number>;
  edgeLength: ArrayLike<number>;
  edgeChild: ArrayLike<number>;
  labelText: string;
  rulesRoot: number;
}

let trie: { data: SuffixTrie; edgeOffset: Uint32Array } | undefined;

function suffixTrie(): { data: SuffixTrie; edgeOffset: Uint32Array } {
  if (trie) return trie;
  // tldts's public API answers "what is the suffix of this name", not "are
  // there suffixes below this name" (amazonaws.com is no suffix, but
  // s3.amazonaws.com is); its list data answers the second.
  const data = require("tldts/dist/cjs/src/data/trie.js") as SuffixTrie;
  if (!(data.nodeFlags instanceof Uint8Array) || typeof data.labelText !== "string" || typeof data.rulesRoot !== "number") {
    throw new Error("tldts's suffix list data has an unexpected shape: bottle needs an update for this tldts version");
  }
  const edgeOffset = new Uint32Array(data.edgeLength.length);
  for (let edge = 0, offset = 0; edge < data.edgeLength.length; edge++) {
    edgeOffset[edge] = offset;
    offset += data.edgeLength[edge] ?? 0;
  }
  trie = { data, edgeOffset };
  return trie;
}

/** True when the list has a rule strictly below `domain` (e.g. `s3.amazonaws.com` below `amazonaws.com`). */
function hasPublicSuffixesBelow(domain: string): boolean {
  const { data, edgeOffset } = suffixTrie();
  let node = data.rulesRoot;
  for (const label of domain.split(".").reverse()) {
    let next = -1;
    for (let edge = data.edgeStart[node]!; edge < data.edgeStart[node + 1]!; edge++) {
      const start = edgeOffset[edge]!;
      if (data.labelText.slice(start, start + data.edgeLength[edge]!) === label) {
        next = data.edgeChild[edge]!;
        break;
      }
    }
    if (next < 0) return false;
    node = next;
  }
  return data.edgeStart[node + 1]! > data.edgeStart[node]!;
}
