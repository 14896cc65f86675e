// The command line that runs `inner` (gvproxy) in the network jail (pure),
// and where the jail's compiled helper script lives (not pure). bwrap is
// started by spawnBwrap() (bwrap-process.ts), with the descriptors its
// arguments name.
import { isAbsolute } from "node:path";
import { compiledProgram } from "../../../lib/package-root.js";
import { unreachable } from "../../../lib/errors.js";
import { bwrapArgs, LIFELINE_FD } from "./bwrap-args.js";
import type { AvailableJail } from "./detect.js";
import type { JailFileSystem } from "./jail-filesystem.js";
import { isPort, jailLayout } from "./jail-layout.js";
import { sandboxProfile } from "./sandbox-profile.js";

export interface JailCommandInput {
  support: AvailableJail;
  runDir: string;
  /** The sidecar ports the jail may reach on host loopback. */
  ports: readonly number[];
  /** The jailed program and its arguments. */
  inner: readonly string[];
  /** Compiled relay-inside.js (Linux). */
  relayScript: string;
  /** Linux: what the jail's file system holds (jailFileSystem()); its node runs relay-inside. */
  fileSystem?: JailFileSystem;
}

export interface JailCommand {
  command: string;
  args: string[];
  /** bwrap: the files it gets a copy of, for spawnBwrap() (bwrap-process.ts) to open in this order; none for sandbox-exec. */
  copies: string[];
}

export function jailCommand(input: JailCommandInput): JailCommand {
  const { support, runDir, ports, inner } = input;
  if (inner.length === 0) throw new Error("jailCommand: no command to jail");
  for (const port of ports) if (!isPort(port)) throw new Error(`jailCommand: ${port} is not a port (1-65535)`);
  switch (support.kind) {
    case "bwrap": {
      // Linux: gvproxy sees only the jail's loopback, where relay-inside
      // listens on each sidecar port and carries the bytes to relay-host.
      const fileSystem = input.fileSystem;
      if (fileSystem === undefined) throw new Error("jailCommand: the bwrap jail needs its file system");
      for (const path of [fileSystem.node, inner[0]!]) {
        if (!isAbsolute(path)) throw new Error(`jailCommand: ${path} must be an absolute path to exist in the jail`);
      }
      const layout = jailLayout(runDir);
      const { credentials } = fileSystem;
      const relay = [
        fileSystem.node,
        input.relayScript,
        "--run",
        runDir,
        ...ports.flatMap((port) => ["--port", String(port)]),
        "--lifeline",
        String(LIFELINE_FD),
        ...(credentials.kind === "drop" ? ["--user", `${credentials.uid}:${credentials.gid}`] : []),
        "--",
        ...inner,
      ];
      return {
        command: support.bwrap,
        args: bwrapArgs({ jailDir: layout.dir, relayDir: layout.relayDir, ...fileSystem, command: relay }),
        copies: [...fileSystem.copies],
      };
    }
    case "sandbox-exec":
      // macOS: no relays; gvproxy dials host localhost:<port> itself and the
      // profile forbids every other destination and every other unix socket.
      return { command: support.path, args: ["-p", sandboxProfile({ runDir, ports }), ...inner], copies: [] };
    default:
      return unreachable(support);
  }
}

export interface JailScripts {
  relayScript: string;
}

/** The compiled helper script beside this module in dist/ (not beside the CLI's bundle). */
export function jailScripts(): JailScripts {
  return { relayScript: compiledProgram("backends/smolmachines/jail/relay-inside.js") };
}
