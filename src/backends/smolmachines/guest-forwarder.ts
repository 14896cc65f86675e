// Reading the host's gvforwarder binary for the guest's copy. The guest
// mounts guest/, so whatever is read here ends up readable by the agent: the
// file is opened without following a symlink (O_NOFOLLOW) and must be a
// regular file (fstat on the open descriptor, so it is the file read), else
// nothing is copied. O_NONBLOCK keeps a FIFO put in its place from hanging.
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import { BottleError, errorMessage } from "../../lib/errors.js";

export function readForwarderBinary(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ELOOP" ? "is a symlink; point guest.gvforwarder at the binary itself" : errorMessage(error);
    throw new BottleError("failed", `guest.gvforwarder: ${path} ${why}; nothing was copied into the guest`, { cause: error });
  }
  try {
    if (!fstatSync(fd).isFile()) {
      throw new BottleError("failed", `guest.gvforwarder: ${path} is not a regular file; nothing was copied into the guest`);
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
