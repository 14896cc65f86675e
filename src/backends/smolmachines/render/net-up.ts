// net-up.sh: the guest's network bootstrap (design.md, "The guest side").
// `attach` runs `smolvm machine exec … -- /opt/bottle/net-up.sh <agent…>`;
// the script gives the guest its only NIC, tap0, through gvforwarder, which
// reaches the host's gvproxy over the socket smolvm mounts into the guest,
// and then execs the agent. Every guest-side assumption lives in this script.
import { shellQuote } from "../../../lib/shell-quote.js";
import { GUEST_CA, GUEST_GVFORWARDER, GUEST_SOCKET } from "../guest-layout.js";

export { shellQuote };

export interface NetUpOptions {
  /** Guest path of gvproxy's mounted control socket. */
  socket?: string;
  /** Guest path of the mounted gvforwarder; the image's PATH is the fallback. */
  gvforwarder?: string;
  iface?: string;
  /** How long to wait for the interface's IPv4 address. */
  timeoutSeconds?: number;
  /** Where gvforwarder's output goes (the guest's private /tmp by default; tests running the script on the host give their own). */
  logFile?: string;
  /** Guest path of the bottle's CA certificate. */
  caCert?: string;
  /** Where the trust bundle (the image's roots and the bottle's CA) is written; a fresh temp file by default. */
  bundleDir?: string;
}

/**
 * Where images keep their root certificates, most common first (Go's list
 * for Linux): Debian/Ubuntu/Alpine, Fedora/RHEL, OpenSUSE, OpenELEC, CentOS,
 * Alpine's second name.
 */
export const IMAGE_ROOT_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/ca-bundle.pem",
  "/etc/pki/tls/cacert.pem",
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
  "/etc/ssl/cert.pem",
] as const;

/** The variables through which common clients take their trusted roots. NODE_EXTRA_CA_CERTS adds to Node's own; the rest replace the system's. */
export const TRUST_ENV_ADDING = "NODE_EXTRA_CA_CERTS";
export const TRUST_ENV_REPLACING = ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"] as const;

export const DEFAULT_NET_UP_TIMEOUT_SECONDS = 20;

export function renderNetUp(opts: NetUpOptions = {}): string {
  const settings = {
    socket: opts.socket ?? GUEST_SOCKET,
    gvforwarder: opts.gvforwarder ?? GUEST_GVFORWARDER,
    iface: opts.iface ?? "tap0",
    timeout: opts.timeoutSeconds ?? DEFAULT_NET_UP_TIMEOUT_SECONDS,
    logFile: opts.logFile ?? "/tmp/bottle-gvforwarder.log",
    caCert: opts.caCert ?? GUEST_CA,
    bundleDir: opts.bundleDir ?? "/tmp",
  };
  if (!Number.isInteger(settings.timeout) || settings.timeout < 1) {
    throw new RangeError(`net-up timeout must be a positive whole number of seconds, got ${settings.timeout}`);
  }
  return [header(settings), HELPERS, startNetwork(settings), PROXY_VARIABLES, TRUST_BUNDLE, START].join("");
}

type NetUpSettings = Required<Omit<NetUpOptions, "timeoutSeconds">> & { timeout: number };

/** The shebang, what the script is, and its settings as shell variables. */
function header({ iface, socket, gvforwarder, timeout, logFile, caCert, bundleDir }: NetUpSettings): string {
  return `#!/bin/sh
# bottle's guest network bootstrap, rendered by bottle. Usage: net-up.sh COMMAND [ARG...]
# Gives the guest its network (${iface}, served by the host's gvproxy through
# gvforwarder), then execs COMMAND. Checked with shellcheck and run in bottle's
# namespace machine; it has not yet run on a real smolvm host.
set -eu

iface=${shellQuote(iface)}
socket=${shellQuote(socket)}
mounted_forwarder=${shellQuote(gvforwarder)}
timeout=${timeout}
log=${shellQuote(logFile)}
ca=${shellQuote(caCert)}
bundle_dir=${shellQuote(bundleDir)}

`;
}

/** fail, the usage check, and the checks the wait for the network uses. */
const HELPERS = `fail() {
  printf 'bottle net-up: %s\\n' "$1" >&2
  exit 1
}

fail_with_log() {
  printf 'bottle net-up: %s\\n' "$1" >&2
  if [ -s "$log" ]; then
    printf 'bottle net-up: last lines of %s:\\n' "$log" >&2
    tail -n 20 "$log" >&2 || true
  fi
  exit 1
}

if [ "$#" -eq 0 ]; then
  printf 'usage: %s COMMAND [ARG...]\\n' "$0" >&2
  exit 2
fi

has_address() {
  if command -v ip >/dev/null 2>&1; then
    ip -4 addr show dev "$iface" 2>/dev/null | grep -q 'inet '
  else
    # No ip(8): the kernel adds a route on the interface once it has an address.
    [ -r /proc/net/route ] &&
      awk -v i="$iface" '$1 == i { found = 1 } END { exit !found }' /proc/net/route
  fi
}

# Stops gvforwarder and reaps it, so it is gone when this script exits.
stop_forwarder() {
  kill "$forwarder_pid" 2>/dev/null || true
  wait "$forwarder_pid" 2>/dev/null || true
}

# gvforwarder never exits on an error: it logs it and retries every second.
# One that cannot succeed on a retry ends the wait at once.
forwarder_gave_up() {
  grep -q 'cannot create tap device' "$log" 2>/dev/null
}

forwarder_alive() {
  kill -0 "$forwarder_pid" 2>/dev/null || return 1
  # An exited child the shell has not reaped yet still answers kill -0.
  state=$(sed -n 's/^.*) \\(.\\).*$/\\1/p' "/proc/$forwarder_pid/stat" 2>/dev/null) || return 0
  [ "$state" != Z ]
}

`;

/** start_network: /dev/net/tun, gvforwarder (the mounted copy, else the image's), then the wait for an address. */
function startNetwork({ socket, iface }: NetUpSettings): string {
  const url = shellQuote(`unix://${socket}`);
  return `start_network() {
  if [ ! -c /dev/net/tun ]; then
    if ! { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; }; then
      fail "cannot create /dev/net/tun (mknod /dev/net/tun c 10 200); gvforwarder needs it and must run as root"
    fi
  fi

  if [ -f "$mounted_forwarder" ] && [ -x "$mounted_forwarder" ]; then
    forwarder=$mounted_forwarder
  elif forwarder=$(command -v gvforwarder); then
    :
  else
    fail "no gvforwarder: $mounted_forwarder is missing or not executable and there is none on PATH (see guest.gvforwarder in bottle.config.ts)"
  fi

  if ! command -v udhcpc >/dev/null 2>&1 && ! command -v dhclient >/dev/null 2>&1; then
    fail "gvforwarder configures $iface with udhcpc or dhclient, and the image has neither on PATH"
  fi

  if [ ! -e "$socket" ]; then
    fail "gvproxy's socket $socket is missing: the machine must be created with --mount-socket <run dir>/gvproxy.sock:$socket"
  fi

  "$forwarder" -url ${url} -iface ${shellQuote(iface)} -stop-if-exist '' >"$log" 2>&1 &
  forwarder_pid=$!
  trap 'stop_forwarder; exit 130' INT TERM

  waited=0
  until has_address; do
    if ! forwarder_alive; then
      fail_with_log "gvforwarder exited before $iface got an IPv4 address"
    fi
    if forwarder_gave_up; then
      stop_forwarder
      fail_with_log "gvforwarder cannot create $iface (it needs root, CAP_NET_ADMIN and a usable /dev/net/tun)"
    fi
    if [ "$waited" -ge "$timeout" ]; then
      stop_forwarder
      fail_with_log "$iface got no IPv4 address within \${timeout}s (is gvproxy running on the host?)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  trap - INT TERM
}

`;
}

/** Every spelling of the proxy variables, from whichever the Smolfile set. */
const PROXY_VARIABLES = `# The proxy variables come from the Smolfile's env; fill any spelling that is
# missing from one that is present.
proxy=\${HTTPS_PROXY:-\${https_proxy:-\${HTTP_PROXY:-\${http_proxy:-}}}}
if [ -n "$proxy" ]; then
  : "\${HTTPS_PROXY:=$proxy}" "\${HTTP_PROXY:=$proxy}" "\${https_proxy:=$proxy}" "\${http_proxy:=$proxy}"
  export HTTPS_PROXY HTTP_PROXY https_proxy http_proxy
else
  printf 'bottle net-up: warning: no HTTPS_PROXY set; nothing outside the guest will be reachable\\n' >&2
fi

`;

/** The trust bundle: the image's roots plus the bottle's CA, and the variables clients read it from. */
const TRUST_BUNDLE = `# pipelock opens HTTPS with the bottle's CA: every client must trust it.
# Node adds NODE_EXTRA_CA_CERTS to its own roots; OpenSSL, Python, curl and
# git replace theirs with a file, so they get the image's roots plus the CA
# (hosts in egress.passthrough still show their real certificates).
[ -r "$ca" ] || fail "the bottle's CA certificate $ca is missing (bottle build makes it with pipelock)"
bundle=$(mktemp "$bundle_dir/bottle-ca-bundle.XXXXXX") || fail "cannot create the trust bundle in $bundle_dir"
for roots in ${IMAGE_ROOT_BUNDLES.join(" ")}; do
  if [ -r "$roots" ]; then
    cat "$roots" >"$bundle" || fail "cannot copy the image's root certificates from $roots"
    printf '\\n' >>"$bundle"
    break
  fi
done
cat "$ca" >>"$bundle" || fail "cannot add the bottle's CA to $bundle"
chmod 0644 "$bundle"
${TRUST_ENV_ADDING}=$ca
${TRUST_ENV_REPLACING.map((name) => `${name}=$bundle`).join("\n")}
export ${[TRUST_ENV_ADDING, ...TRUST_ENV_REPLACING].join(" ")}

`;

/** The network (unless a first attach brought it up), then the agent. */
const START = `# A second attach to a running machine finds the network already up.
if ! has_address; then
  start_network
fi

exec "$@"
`;
