// The per-bottle gvproxy subnet, derived from the slug so that `start` and
// `resume` of one bottle agree and different bottles rarely collide.
import { sha256Hex } from "../../lib/hash.js";

export type Subnet = {
  /** N in 192.168.N.0/24. */
  octet: number;
  cidr: string;
  /** .1: gvproxy's own address; `proxy.internal` resolves to it. */
  gateway: string;
  /** .2: the guest's tap0. */
  device: string;
  /** .254: gvproxy's host address (not NATed by bottle). */
  host: string;
};

/** 172.17.x is docker's default bridge; the seed steers clear of 17 by habit. */
const AVOIDED_OCTET = 17;

export function octetForSlug(slug: string): number {
  const firstByte = Number.parseInt(sha256Hex(slug).slice(0, 2), 16);
  const octet = (firstByte % 254) + 1;
  return octet === AVOIDED_OCTET ? AVOIDED_OCTET + 1 : octet;
}

/** An explicit override (config `network.subnetOctet`) is used as given. */
export function subnetForSlug(slug: string, octetOverride?: number | null): Subnet {
  const octet = octetOverride ?? octetForSlug(slug);
  if (!Number.isInteger(octet) || octet < 1 || octet > 254) {
    throw new RangeError(`subnet octet must be an integer from 1 to 254, got ${octet}`);
  }
  const prefix = `192.168.${octet}.`;
  return {
    octet,
    cidr: `${prefix}0/24`,
    gateway: `${prefix}1`,
    device: `${prefix}2`,
    host: `${prefix}254`,
  };
}
