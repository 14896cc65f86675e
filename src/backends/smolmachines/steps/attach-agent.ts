// Step `attach`: the agent, started in the guest through the network
// bootstrap, with the terminal passed through. bottle exits with its code.
import { GUEST_NET_UP, machineName } from "../guest-layout.js";
import type { LaunchContext } from "./services.js";

export async function attachAgent({ config, launch }: LaunchContext): Promise<{ exitCode: number }> {
  await launch.handOverTerminal();
  const args = launch.smolvm.execArgs(machineName(config.name), [GUEST_NET_UP, ...config.agent.command], launch.tty);
  // Recorded so that, if this launcher dies, `rm` (or the next launch) can end the session.
  return launch.supervisor.attach(launch.smolvm.command, args, { env: launch.smolvm.env, signal: launch.signal, onStart: (pid) => launch.record.addChild("agent", pid) });
}
