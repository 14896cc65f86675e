// Joins two stream sockets both ways. Both must be created with
// allowHalfOpen: true, so an end from one peer becomes a half-close towards
// the other while the reverse direction keeps flowing.
// Imported by relay-inside.ts, so node: imports only.
import type { Socket } from "node:net";

export function pipeBoth(a: Socket, b: Socket): void {
  const destroyBoth = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on("error", destroyBoth);
  b.on("error", destroyBoth);
  // A side that closes without ending (destroyed) must not leave its peer
  // half-open forever: flush what the peer still has queued, then close it.
  a.on("close", () => b.destroySoon());
  b.on("close", () => a.destroySoon());
  a.pipe(b);
  b.pipe(a);
}
