// The network jail that gvproxy runs in (design.md, "The network path", 3).
// relay-inside.js is an entry script: run it in the jail, do not import it;
// jailScripts() says where it is.
export {
  bwrapArgs,
  isolationArgs,
  jailCredentials,
  jailHostUid,
  rootArgs,
  JAIL_GID,
  JAIL_UID,
  ROOT_JAIL_USER,
  type BwrapArgsInput,
  type JailCredentials,
  type ProcCovers,
  type SystemMount,
} from "./bwrap-args.js";
export {
  classifyBwrapFailure,
  detectJail,
  type AvailableJail,
  type DetectOptions,
  type JailSupport,
  type ProbeResult,
  type ProbeRunner,
} from "./detect.js";
export { jailPidFromInfo, jailSeccompFilter, spawnBwrap, type BwrapExit, type BwrapProcess, type SpawnBwrapOptions } from "./bwrap-process.js";
export { jailCommand, jailScripts, type JailCommand, type JailCommandInput, type JailScripts } from "./jail-command.js";
export { startHostRelays, type HostRelays, type HostRelaysInput } from "./relay-host.js";
export { jailLayout, relaySocketPath, LONGEST_SOCKET_IN_RUN_DIR, type JailLayout } from "./jail-layout.js";
export { handOverJailDir, jailFileTail, linkGvproxySocket, prepareJailDir, printableText, readJailFile } from "./jail-dir.js";
export { sandboxProfile, type SandboxProfileInput } from "./sandbox-profile.js";
export {
  jailFileSystem,
  nodeInstallDir,
  procCovers,
  PROC_COVER_CANDIDATES,
  systemMounts,
  SYSTEM_DIRS,
  type JailFileSystem,
  type JailFileSystemInput,
} from "./jail-filesystem.js";
