// Reading the lines a log gains while it is written: from an open
// descriptor (opened once, without following a symlink: a link put at the
// name later changes nothing), from where the last read stopped. Only whole
// lines come out; a line still being written waits for its newline.
import { fstatSync, readSync } from "node:fs";

const CHUNK = 64 * 1024;
/** A line longer than this is cut here (and the rest of it dropped): a log line is never worth unbounded memory. */
export const MAX_LINE_BYTES = 1024 * 1024;

export class LineTail {
  private offset = 0;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private readonly buffer = Buffer.alloc(CHUNK);

  constructor(private readonly fd: number) {}

  /**
   * The whole lines written since the last call. A file that shrank was
   * truncated (a new launch starts its logs afresh): it is read again from
   * its start.
   */
  read(): string[] {
    const size = fstatSync(this.fd).size;
    if (size < this.offset) {
      this.offset = 0;
      this.dropPartial();
    }
    const lines: string[] = [];
    for (;;) {
      const count = readSync(this.fd, this.buffer, 0, CHUNK, this.offset);
      if (count === 0) break;
      this.offset += count;
      const chunk = this.buffer.subarray(0, count);
      let start = 0;
      for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
        this.keep(chunk.subarray(start, end));
        lines.push(this.takePartial());
        start = end + 1;
      }
      this.keep(chunk.subarray(start));
    }
    return lines;
  }

  /** What follows the last newline: at the end of a log, a line its writer never finished. */
  rest(): string {
    return this.takePartial();
  }

  private keep(bytes: Buffer): void {
    const room = MAX_LINE_BYTES - this.partialBytes;
    if (room <= 0 || bytes.length === 0) return;
    const kept = bytes.length > room ? bytes.subarray(0, room) : bytes;
    // A copy: the read buffer is reused.
    this.partial.push(Buffer.from(kept));
    this.partialBytes += kept.length;
  }

  private takePartial(): string {
    const line = Buffer.concat(this.partial).toString("utf8");
    this.dropPartial();
    return line;
  }

  private dropPartial(): void {
    this.partial = [];
    this.partialBytes = 0;
  }
}
