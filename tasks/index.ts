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
import { machine } from "./machine.js";
import { network } from "./network.js";
import { sidecars } from "./sidecars.js";
import { sidecarsJson } from "./sidecars-json.js";
import { guest } from "./guest.js";
import { injector } from "./injector.js";
import { gvproxyYaml } from "./gvproxy-yaml.js";
import { pipelockYaml } from "./pipelock-yaml.js";
import { ports } from "./ports.js";
import { preflight } from "./preflight.js";
import { smolfileToml } from "./smolfile-toml.js";
import { subnet } from "./subnet.js";
import { tls } from "./tls.js";

export const buildTasks = [preflight, subnet, ports, gvproxyYaml, smolfileToml, injector, pipelockYaml, sidecarsJson, guest, tls];
export const launchTasks = [sidecars, network, machine, attach];
export const BUILD_TARGETS = ["preflight", "gvproxy.yaml", "smolfile.toml", "pipelock.yaml", "sidecars.json", "guest", "tls"];
export const LAUNCH_TARGET = "attach";
