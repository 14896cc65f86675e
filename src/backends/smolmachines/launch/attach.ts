// Step `attach`: the agent, started in the guest through the network
// bootstrap, with the terminal passed through. bottle exits with its code.
import type { BottleContext } from "../../../context.js";
import { GUEST_NET_UP, machineName } from "../guest-layout.js";
import { launchServices } from "./services.js";

export async function attachAgent(ctx: BottleContext): Promise<{ exitCode: number }> {
  const services = launchServices(ctx);
  await services.handoff();
  services.attached = true;
  const args = services.smolvm.execArgs(machineName(ctx.config.name), [GUEST_NET_UP, ...ctx.config.agent.command], services.tty);
  // Recorded so that, if this launcher dies, `rm` (or the next launch) can end the session.
  return services.supervisor.attach(services.smolvm.command, args, { env: services.smolvm.env, signal: services.signal, onStart: (pid) => services.record.addChild("agent", pid) });
}
