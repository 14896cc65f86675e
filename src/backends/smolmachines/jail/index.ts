// The network jail that gvproxy runs in (design.md, "The network path", 3).
// relay-inside.js and bwrap-launcher.js are entry scripts: run them, do not
// import them; jailScripts() says where they are.
export { bwrapArgs, isolationArgs, type BwrapArgsInput } from "./bwrap-args.js";
export {
  classifyBwrapFailure,
  detectJail,
  type AvailableJail,
  type DetectOptions,
  type JailSupport,
  type ProbeResult,
  type ProbeRunner,
} from "./detect.js";
export { jailCommand, jailScripts, type JailCommand, type JailCommandInput, type JailScripts } from "./jail-command.js";
export { startHostRelays, type HostRelays, type HostRelaysInput } from "./relay-host.js";
export { relaySocketPath } from "./relay-socket.js";
export { sandboxProfile, type SandboxProfileInput } from "./sandbox-profile.js";
export { existingMasks, jailReadOnlyPaths, packageRoot, MASK_CANDIDATES } from "./masks.js";
