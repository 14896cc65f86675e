import type { BottleContext } from "../src/context.js";
import type { Json, TaskDef } from "../src/graph/index.js";
import { subnetForSlug } from "../src/backends/smolmachines/subnet.js";

/** 192.168.N.0/24 from the slug (the seed's formula), or the configured octet. */
export const subnet: TaskDef<BottleContext> = {
  name: "subnet",
  description: "the guest network 192.168.N.0/24 derived from the slug",
  version: 1,
  inputs: ({ config }) => ({ name: config.name, network: { subnetOctet: config.network.subnetOctet } }),
  run: ({ ctx }) => subnetForSlug(ctx.config.name, ctx.config.network.subnetOctet) as unknown as Json,
};
