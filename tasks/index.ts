// The bottle's graph, read like a Makefile:
//
//   preflight (volatile)
//   subnet ─────────── gvproxy.yaml
//   ports (volatile) ─ smolfile.toml
//   injector (the name pipelock reaches the credential injector by) ─ pipelock.yaml
//   sidecars.json (the git gate's and supervise's setup)
//   guest/ (net-up.sh, gvforwarder)
//   tls (the bottle's CA: tls/ for pipelock, guest/ca.pem for the guest)
//
// and, for launch and resume, each step undone in reverse on failure:
//   sidecars ─ network ─ machine ─ attach
import { attach } from "./attach.js";
import type { BuildTask, LaunchStep } from "./define.js";
import { guest } from "./guest.js";
import { gvproxyYaml } from "./gvproxy-yaml.js";
import { injector } from "./injector.js";
import { machine } from "./machine.js";
import { network } from "./network.js";
import { pipelockYaml } from "./pipelock-yaml.js";
import { ports } from "./ports.js";
import { preflight } from "./preflight.js";
import { sidecars } from "./sidecars.js";
import { sidecarsJson } from "./sidecars-json.js";
import { smolfileToml } from "./smolfile-toml.js";
import { subnet } from "./subnet.js";
import { tls } from "./tls.js";

/** What `bottle build` (and watch) renders: every build task. */
export const buildTasks: readonly BuildTask[] = [preflight, subnet, ports, gvproxyYaml, smolfileToml, injector, pipelockYaml, sidecarsJson, guest, tls];
/** What a launch runs on top of the build, to its target: the agent attached. */
export const launchSteps: readonly LaunchStep[] = [sidecars, network, machine, attach];
export const launchTarget = attach;

export { preflight, attach };
export type { BuildTask, LaunchStep };
