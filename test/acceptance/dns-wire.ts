// Just enough of the DNS wire format (RFC 1035) for the acceptance suite:
// the probe's queries, and the test resolver's answers.
export const TYPES = { A: 1, MX: 15, TXT: 16, AAAA: 28 } as const;
export type QueryType = keyof typeof TYPES;
export const RCODE_NXDOMAIN = 3;
const RCODE_NAMES: Record<number, string> = { 0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED" };

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `rcode ${rcode}`;
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, "").split(".");
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "ascii")])), Buffer.from([0])]);
}

export function encodeQuery(id: number, name: string, type: QueryType): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // recursion desired
  header.writeUInt16BE(1, 4);
  const question = Buffer.alloc(4);
  question.writeUInt16BE(TYPES[type], 0);
  question.writeUInt16BE(1, 2);
  return Buffer.concat([header, encodeName(name), question]);
}

function readName(message: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  for (let at = offset, hops = 0; hops < 64; hops++) {
    const length = message[at] ?? 0;
    if (length === 0) return { name: labels.join("."), next: next < 0 ? at + 1 : next };
    if ((length & 0xc0) === 0xc0) {
      if (next < 0) next = at + 2;
      at = ((length & 0x3f) << 8) | (message[at + 1] ?? 0);
      continue;
    }
    labels.push(message.subarray(at + 1, at + 1 + length).toString("ascii"));
    at += 1 + length;
  }
  throw new Error("DNS name loops");
}

export interface Question {
  id: number;
  name: string;
  type: number;
  /** Where the question ends (for building an answer). */
  end: number;
}

export function decodeQuestion(message: Buffer): Question {
  const { name, next } = readName(message, 12);
  return { id: message.readUInt16BE(0), name: name.toLowerCase(), type: message.readUInt16BE(next), end: next + 4 };
}

export interface Answer {
  id: number;
  rcode: number;
  /** IPv4 addresses of the A records. */
  addresses: string[];
}

export function decodeAnswer(message: Buffer): Answer {
  const id = message.readUInt16BE(0);
  const rcode = message.readUInt16BE(2) & 0x0f;
  const questions = message.readUInt16BE(4);
  const answers = message.readUInt16BE(6);
  // An answer may omit the question (gvproxy's SERVFAIL for a query it could not forward does).
  let at = questions > 0 ? decodeQuestion(message).end : 12;
  const addresses: string[] = [];
  for (let i = 0; i < answers; i++) {
    at = readName(message, at).next;
    const type = message.readUInt16BE(at);
    const length = message.readUInt16BE(at + 8);
    if (type === TYPES.A && length === 4) addresses.push([...message.subarray(at + 10, at + 14)].join("."));
    at += 10 + length;
  }
  return { id, rcode, addresses };
}

/** A response to `query`: one A record, or NXDOMAIN when `address` is undefined. */
export function encodeResponse(query: Buffer, address: string | undefined): Buffer {
  const { end } = decodeQuestion(query);
  const header = Buffer.from(query.subarray(0, 12));
  header.writeUInt16BE(0x8180 | (address ? 0 : RCODE_NXDOMAIN), 2);
  header.writeUInt16BE(address ? 1 : 0, 6);
  header.writeUInt32BE(0, 8);
  const question = query.subarray(12, end);
  if (!address) return Buffer.concat([header, question]);
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc00c, 0); // the question's name
  record.writeUInt16BE(TYPES.A, 2);
  record.writeUInt16BE(1, 4);
  record.writeUInt32BE(60, 6);
  record.writeUInt16BE(4, 10);
  address.split(".").forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
  return Buffer.concat([header, question, record]);
}
