// Starting the credential injector: the command line and environment the
// launch's sidecars step hands its supervisor (tests start it the same
// way). Its environment holds its options, the real credential values and
// the host's TLS trust setting, nothing else of the caller's.
import { compiledProgram } from "../lib/package-root.js";
import { INJECTOR_OPTIONS_ENV, valueEnvName, type InjectorOptions } from "./options.js";

export interface InjectedCredential {
  host: string;
  /** Lower-case header name. */
  header: string;
  placeholder: string;
  value: string;
}

export interface InjectorInput {
  port: number;
  pipelockPort: number;
  upstreamName: string;
  credentials: readonly InjectedCredential[];
}

export interface InjectorProcess {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export function injectorProcess(input: InjectorInput): InjectorProcess {
  const env: NodeJS.ProcessEnv = {};
  const routes: InjectorOptions["routes"] = [];
  input.credentials.forEach((credential, index) => {
    let route = routes.find((r) => r.host === credential.host);
    if (!route) routes.push((route = { host: credential.host, headers: [] }));
    route.headers.push({ name: credential.header, placeholder: credential.placeholder, valueEnv: valueEnvName(index) });
    env[valueEnvName(index)] = credential.value;
  });
  const options: InjectorOptions = { port: input.port, pipelockPort: input.pipelockPort, upstreamName: input.upstreamName, routes };
  env[INJECTOR_OPTIONS_ENV] = JSON.stringify(options);
  if (process.env.SSL_CERT_FILE) env.SSL_CERT_FILE = process.env.SSL_CERT_FILE;
  return { command: process.execPath, args: [compiledProgram("injector/main.js"), `127.0.0.1:${input.port}`], env };
}
