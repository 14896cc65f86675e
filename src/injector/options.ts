// What the credential injector is told by whoever starts it (the launch's
// sidecars step, or a test): one JSON value in its environment. The real
// credential values travel only as environment variables of their own.
// node: imports only: the injector's entry script loads this.

export const INJECTOR_OPTIONS_ENV = "BOTTLE_INJECTOR";

/** The variable holding the real value of the credential at `index` (in route order, then header order). */
export function valueEnvName(index: number): string {
  return `BOTTLE_INJECTOR_VALUE_${index}`;
}

export interface InjectedHeader {
  /** Lower-case header name, e.g. `x-api-key`. */
  name: string;
  /** What the guest holds instead of the value, random per launch; the only value the header may have. */
  placeholder: string;
  /** The variable with the real value (valueEnvName). */
  valueEnv: string;
}

export interface InjectorRoute {
  /** The real host, reached on 443 with TLS; the guest's base URL for it is http://proxy.internal:<port>/<host>. */
  host: string;
  headers: InjectedHeader[];
}

export interface InjectorOptions {
  /** The guest-facing side: 127.0.0.1:<port>, relayed to proxy.internal:<port>. */
  port: number;
  /** pipelock's port on 127.0.0.1: every request goes through it, carrying only the placeholder. */
  pipelockPort: number;
  /**
   * The name pipelock reaches the injector's other side by: in pipelock's own
   * /etc/hosts it is 127.0.0.1, and pipelock.yaml admits it past the SSRF
   * check. Random per bottle and never shown to the guest: whoever knows it
   * can make pipelock connect to any port of this host's loopback.
   */
  upstreamName: string;
  routes: InjectorRoute[];
}

export function readInjectorOptions(env: NodeJS.ProcessEnv): InjectorOptions {
  const raw = env[INJECTOR_OPTIONS_ENV];
  if (!raw) throw new Error(`${INJECTOR_OPTIONS_ENV} is not set: the injector is started by bottle's sidecars step (injectorProcess in src/injector/start.ts)`);
  return JSON.parse(raw) as InjectorOptions;
}
