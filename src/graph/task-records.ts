// The state's task records, by task name. The state file holds one record
// per line (state.ts); a record is parsed when a run first asks for it and
// written back as the text it was read as while nobody touched it, so a run
// that decides most tasks from the stamp neither parses nor re-serialises
// their records.
import { keyedRecord } from "./json.js";
import type { TaskRecord } from "./state.js";

export class TaskRecords {
  /** A parsed record, or the JSON text of one not parsed yet. */
  private readonly records = new Map<string, TaskRecord | string>();

  /** Records from a parsed state file (the layout before one record per line). */
  static fromObject(tasks: Readonly<Record<string, TaskRecord>>): TaskRecords {
    const records = new TaskRecords();
    for (const name of Object.keys(tasks)) records.set(name, tasks[name]!);
    return records;
  }

  /** Adds a record as the JSON text it was read as. */
  setText(name: string, json: string): void {
    this.records.set(name, json);
  }

  /**
   * The record, parsed on first use. Only a damaged file (not a torn one:
   * state.ts checks the layout) can hold a line that does not parse; that
   * record is dropped, so its task runs again.
   */
  get(name: string): TaskRecord | undefined {
    const record = this.records.get(name);
    if (typeof record !== "string") return record;
    try {
      const parsed = JSON.parse(record) as TaskRecord;
      this.records.set(name, parsed);
      return parsed;
    } catch {
      this.records.delete(name);
      return undefined;
    }
  }

  set(name: string, record: TaskRecord): void {
    this.records.set(name, record);
  }

  has(name: string): boolean {
    return this.records.has(name);
  }

  delete(name: string): void {
    this.records.delete(name);
  }

  names(): IterableIterator<string> {
    return this.records.keys();
  }

  /** Takes `name`'s record from `other` as it is there, parsed or not. */
  adopt(name: string, other: TaskRecords): void {
    const record = other.records.get(name);
    if (record !== undefined) this.records.set(name, record);
  }

  /** One `"name":{record}` per task, as the state file holds them. */
  lines(): string[] {
    const lines: string[] = [];
    for (const [name, record] of this.records) lines.push(`${JSON.stringify(name)}:${typeof record === "string" ? record : JSON.stringify(record)}`);
    return lines;
  }

  /** Every record parsed, by name (what JSON.stringify of the state writes for them). */
  toJSON(): Record<string, TaskRecord> {
    const all = keyedRecord<TaskRecord>();
    for (const name of [...this.records.keys()]) {
      const record = this.get(name);
      if (record) all[name] = record;
    }
    return all;
  }
}
