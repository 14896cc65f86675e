// A throw-away CA and a server certificate from it, made with openssl, for
// test hosts that speak HTTPS: pipelock (or bottle's injector) is made to
// trust the CA through SSL_CERT_FILE, a bundle of the system's roots plus it.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCa {
  /** The CA certificate (PEM file). */
  caCert: string;
  /** A certificate for the names, signed by the CA, and its key (PEM files). */
  cert: string;
  key: string;
  /** The system's roots plus the CA: an SSL_CERT_FILE that trusts both. */
  bundle: string;
}

const SYSTEM_ROOTS = "/etc/ssl/certs/ca-certificates.crt";

function openssl(args: string[]): void {
  const result = spawnSync("openssl", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${result.stderr || result.error?.message}`);
}

export function makeTestCa(dir: string, names: readonly string[]): TestCa {
  const p = (file: string) => join(dir, file);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", p("test-ca.key"), "-out", p("test-ca.pem"), "-days", "2", "-subj", "/CN=bottle test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
  openssl(["req", ...ec, "-keyout", p("host.key"), "-out", p("host.csr"), "-subj", "/CN=bottle test host"]);
  writeFileSync(p("host.ext"), `subjectAltName=${names.map((name) => `DNS:${name}`).join(",")}\nextendedKeyUsage=serverAuth\n`);
  openssl(["x509", "-req", "-in", p("host.csr"), "-CA", p("test-ca.pem"), "-CAkey", p("test-ca.key"), "-CAcreateserial", "-out", p("host.pem"), "-days", "2", "-extfile", p("host.ext")]);
  writeFileSync(p("bundle.pem"), `${readFileSync(SYSTEM_ROOTS, "utf8")}\n${readFileSync(p("test-ca.pem"), "utf8")}`);
  return { caCert: p("test-ca.pem"), cert: p("host.pem"), key: p("host.key"), bundle: p("bundle.pem") };
}
