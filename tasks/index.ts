// The bottle's graph, read like a Makefile:
//
//   preflight (volatile)
//   subnet ─────────── gvproxy.yaml
//   ports (volatile) ─ smolfile.toml
//   pipelock.yaml
//   guest/ (net-up.sh, gvforwarder)
import { guest } from "./guest.js";
import { gvproxyYaml } from "./gvproxy-yaml.js";
import { pipelockYaml } from "./pipelock-yaml.js";
import { ports } from "./ports.js";
import { preflight } from "./preflight.js";
import { smolfileToml } from "./smolfile-toml.js";
import { subnet } from "./subnet.js";

export const buildTasks = [preflight, subnet, ports, gvproxyYaml, smolfileToml, pipelockYaml, guest];
export const BUILD_TARGETS = ["preflight", "gvproxy.yaml", "smolfile.toml", "pipelock.yaml", "guest"];
