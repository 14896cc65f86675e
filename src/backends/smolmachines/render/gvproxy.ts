// gvproxy's `-config` YAML. gvproxy (yaml.v3) silently ignores unknown keys,
// so only keys from its GvproxyConfig struct are written.
import { stringify } from "yaml";
import { PROXY_HOST } from "../guest-layout.js";
import { jailLayout } from "../jail/jail-layout.js";
import type { Subnet } from "../subnet.js";

export interface GvproxyConfigOptions {
  subnet: Subnet;
  /** The run dir; gvproxy's files go in its jail/ subdirectory, the only place the jail can write. */
  runDir: string;
}

const [PROXY_RECORD, PROXY_ZONE] = splitHost(PROXY_HOST);

export function renderGvproxyConfig(opts: GvproxyConfigOptions): string {
  const { subnet, runDir } = opts;
  const jail = jailLayout(runDir);
  const config = {
    listen: [`unix://${jail.gvproxySocket}`],
    "pid-file": jail.gvproxyPid,
    "log-file": jail.gvproxyLog,
    stack: {
      subnet: subnet.cidr,
      gatewayIP: subnet.gateway,
      deviceIP: subnet.device,
      hostIP: subnet.host,
      dns: [
        { name: PROXY_ZONE, records: [{ name: PROXY_RECORD, ip: subnet.gateway }] },
        // The empty zone name matches every query; listed after internal., it
        // answers every other A query with NXDOMAIN instead of asking the
        // host's resolver. (A zone named "." would match nothing.)
        { name: "" },
      ],
      // Only the gateway reaches the jail's loopback, where the sidecar relays listen.
      nat: { [subnet.gateway]: "127.0.0.1" },
      gatewayVirtualIPs: [subnet.gateway],
    },
  };
  return stringify(config);
}

/** "proxy.internal" -> ["proxy", "internal."]: gvproxy zone names end in a dot. */
function splitHost(host: string): [string, string] {
  const dot = host.indexOf(".");
  return [host.slice(0, dot), host.slice(dot + 1) + "."];
}
