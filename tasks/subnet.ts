import { subnetForSlug, type Subnet } from "../src/backends/smolmachines/subnet.js";
import { buildTask } from "./define.js";

/** 192.168.N.0/24 from the slug (the seed's formula), or the configured octet. */
export const subnet = buildTask({
  name: "subnet",
  description: "the guest network 192.168.N.0/24 derived from the slug",
  version: 1,
  inputs: ({ config }) => ({ name: config.name, network: { subnetOctet: config.network.subnetOctet } }),
  run: ({ ctx }): Subnet => subnetForSlug(ctx.config.name, ctx.config.network.subnetOctet),
});
