import { CA_FILES } from "../src/backends/smolmachines/bottle-ca.js";
import type { BuildContext } from "../src/backends/smolmachines/context.js";
import { findOnPath } from "../src/lib/host-tools.js";
import { buildTask } from "./define.js";

/** pipelock makes the CA; without it there is nothing to make (preflight says it is missing, and launch refuses). */
const pipelockFound = (ctx: BuildContext): string | null => findOnPath("pipelock", ctx.pathEnv);

/** The bottle's own CA: pipelock signs the sites it intercepts with it; the guest trusts its certificate. Made once, kept. */
export const tls = buildTask({
  name: "tls",
  description: "the bottle's own CA (pipelock tls init): pipelock opens the guest's HTTPS with it so DLP sees inside; the guest trusts guest/ca.pem, the key stays in tls/",
  version: 1,
  inputs: (ctx) => ({ pipelockInstalled: pipelockFound(ctx) !== null }),
  writes: (ctx) => (pipelockFound(ctx) ? [CA_FILES.cert, CA_FILES.key, CA_FILES.guestCert] : []),
  run: async ({ ctx, write, log, signal }) => {
    const pipelock = pipelockFound(ctx);
    if (pipelock === null) {
      log("no CA yet: pipelock, which makes it, is not installed");
      return null;
    }
    const { makeCa } = await import("../src/backends/smolmachines/bottle-ca.js");
    const { cert, key } = await makeCa(pipelock, ctx.stageDir, `bottle ${ctx.config.name}`, signal);
    write(CA_FILES.key, key, { mode: 0o600 });
    write(CA_FILES.cert, cert, { mode: 0o644 });
    // Readable by whichever user the agent runs as in the guest.
    write(CA_FILES.guestCert, cert, { mode: 0o644 });
    return null;
  },
});
