// Where things live inside the guest, and the names the renderers and the
// process side must agree on.

/** The stage's guest/ directory, mounted read-only into the guest. */
export const GUEST_DIR = "/opt/bottle";

/** Where `smolvm machine create --mount-socket` exposes gvproxy's control socket. */
export const GUEST_SOCKET = "/run/bottle/gvproxy.sock";

/** The guest's network bootstrap; `attach` execs the agent through it. */
export const GUEST_NET_UP = GUEST_DIR + "/net-up.sh";

/** The gvforwarder copy mounted from the host (absent when the image has its own). */
export const GUEST_GVFORWARDER = GUEST_DIR + "/gvforwarder";

/** The bottle's CA certificate, in the guest dir: pipelock signs the sites it intercepts with it. */
export const GUEST_CA_FILE = "ca.pem";
export const GUEST_CA = GUEST_DIR + "/" + GUEST_CA_FILE;

/** The only name gvproxy's DNS resolves: the gateway, behind which pipelock listens. */
export const PROXY_HOST = "proxy.internal";

export function machineName(slug: string): string {
  return "bottle-" + slug;
}

export function proxyUrl(port: number): string {
  return `http://${PROXY_HOST}:${port}`;
}
