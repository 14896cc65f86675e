// The environments the gate runs git in. Nothing of the user's own git
// setup applies (no system or global config, no credential store, no
// prompts, no proxy variables), and a command that talks to the upstream
// gets the credential through a helper that reads it from the environment:
// never a file, a git config file or a command line. node: imports only.
import type { GateRemote } from "./options.js";

// The helper git runs (through sh) when the upstream asks for a credential.
const CREDENTIAL_HELPER = `!f() { test "$1" = get && printf 'username=%s\\npassword=%s\\n' "$BOTTLE_GIT_GATE_USERNAME" "$BOTTLE_GIT_GATE_PASSWORD"; }; f`;

/** No system or global git config file applies. */
const NO_CONFIG_FILES = { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" } as const;

/** git with no user or system config, no prompts, English messages. */
export function isolatedGitEnv(pathEnv: string, home: string): NodeJS.ProcessEnv {
  return {
    PATH: pathEnv,
    HOME: home,
    LANG: "C",
    LC_ALL: "C",
    ...NO_CONFIG_FILES,
    GIT_TERMINAL_PROMPT: "0",
  };
}

/** Config entries as GIT_CONFIG_COUNT/KEY_n/VALUE_n, which git reads after its config files. */
export function configEnv(entries: readonly (readonly [string, string])[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

/** For a git command that fetches from or pushes to `remote`'s upstream, and nothing else. */
export function upstreamGitEnv(base: NodeJS.ProcessEnv, remote: GateRemote, token: string): NodeJS.ProcessEnv {
  const scheme = new URL(remote.url).protocol.replace(/:$/, "");
  return {
    ...base,
    // Whatever `base` kept or dropped (the pre-receive hook drops the gate's GIT_CONFIG_* variables), no system or global config applies.
    ...NO_CONFIG_FILES,
    // The one protocol the upstream URL uses: no file://, ssh, ext:: or git:// via submodules or redirects.
    GIT_ALLOW_PROTOCOL: scheme,
    ...configEnv([
      // An empty value resets the helper list: no store, keychain or manager of the user's.
      ["credential.helper", ""],
      ["credential.helper", CREDENTIAL_HELPER],
      ["http.followRedirects", "false"],
      ["core.askPass", ""],
      ["fetch.recurseSubmodules", "false"],
      ["push.recurseSubmodules", "no"],
    ]),
    BOTTLE_GIT_GATE_USERNAME: remote.username,
    BOTTLE_GIT_GATE_PASSWORD: token,
  };
}
