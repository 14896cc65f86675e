// The jail's seccomp filter: a classic-BPF program in the form bwrap's
// --seccomp reads from a file descriptor, an array of little-endian
// struct sock_filter { u16 code; u8 jt; u8 jf; u32 k } (pure).
//
// Not a general syscall profile: it denies, with EPERM, a short list of calls
// gvproxy never makes and a compromised one would use, and the making of a
// user namespace.

/** The descriptor bwrap reads the program from: bwrapArgs() names it, bwrap-process.ts writes it there. */
export const SECCOMP_FD = 4;

/**
 * - add_key, request_key, keyctl: the kernel keyrings are not namespaced. The
 *   jail shares the launcher's session keyring, which pam_keyinit links to
 *   the user keyring, where a login's cached passwords and tokens live.
 *   request_key can also make the host run /sbin/request-key.
 * - ptrace: gvproxy has no business with relay-inside (the jail's pid 1).
 * - perf_event_open, bpf, userfaultfd: large kernel attack surface, and
 *   userfaultfd is the usual tool for winning a kernel race.
 */
export const DENIED_SYSCALLS = ["add_key", "request_key", "keyctl", "ptrace", "perf_event_open", "bpf", "userfaultfd"] as const;
export type DeniedSyscall = (typeof DENIED_SYSCALLS)[number];

/**
 * A new user namespace, where the jail would be root again (over namespaces
 * of its own, with the kernel code that opens up): bwrap's --disable-userns
 * stops it in a jail with its own user namespace, but the jail of a bottle
 * run as root has none (bwrap-args.ts, JailCredentials). unshare and clone
 * with CLONE_NEWUSER fail with EPERM; clone3, whose flags sit in memory a
 * filter cannot read, fails with ENOSYS, on which glibc and Go fall back to
 * clone.
 */
export const CLONE_NEWUSER = 0x10000000;
const NAMESPACE_SYSCALLS = ["unshare", "clone", "clone3"] as const;
type NamespaceSyscall = (typeof NAMESPACE_SYSCALLS)[number];

interface SeccompArch {
  /** The kernel's name for it (uname -m). */
  name: string;
  /** AUDIT_ARCH_*, as seccomp_data.arch reports it. */
  audit: number;
  /** x86_64 also runs x32 system calls: the same numbers with bit 30 set. */
  x32: boolean;
  numbers: Readonly<Record<DeniedSyscall | NamespaceSyscall, number>>;
}

/** Keyed by process.arch. Numbers from asm/unistd_64.h (x86_64) and asm-generic/unistd.h (aarch64). */
export const SECCOMP_ARCHES: Readonly<Record<string, SeccompArch>> = {
  x64: {
    name: "x86_64",
    audit: 0xc000003e,
    x32: true,
    numbers: { add_key: 248, request_key: 249, keyctl: 250, ptrace: 101, perf_event_open: 298, bpf: 321, userfaultfd: 323, unshare: 272, clone: 56, clone3: 435 },
  },
  arm64: {
    name: "aarch64",
    audit: 0xc00000b7,
    x32: false,
    numbers: { add_key: 217, request_key: 218, keyctl: 219, ptrace: 117, perf_event_open: 241, bpf: 280, userfaultfd: 282, unshare: 97, clone: 220, clone3: 435 },
  },
};

/** Why there is no filter for `arch`, and the fix: for detection and the jail's start alike. */
export function unknownArch(arch: string): { reason: string; fix: string } {
  const names = Object.values(SECCOMP_ARCHES)
    .map(({ name }) => name)
    .join(" or ");
  return {
    reason: `the jail's seccomp filter knows the system call numbers of ${names} only, not this CPU's (Node calls it ${arch})`,
    fix: `run bottle on ${names} Linux`,
  };
}

export const X32_SYSCALL_BIT = 0x40000000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;
export const SECCOMP_RET_EPERM = SECCOMP_RET_ERRNO | EPERM;
export const SECCOMP_RET_ENOSYS = SECCOMP_RET_ERRNO | ENOSYS;

/** Offsets in struct seccomp_data: the call's number, the ABI, and the low 32 bits of its first argument (little-endian). */
const NR_OFFSET = 0;
const ARCH_OFFSET = 4;
export const ARG0_LOW_OFFSET = 16;

/** Classic-BPF opcodes. */
export const BPF_LD_W_ABS = 0x20;
export const BPF_JEQ_K = 0x15;
export const BPF_JSET_K = 0x45;
export const BPF_RET_K = 0x06;

const INSTRUCTION_BYTES = 8;

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The seccomp program for `arch` (a process.arch value), or undefined when bottle does not know its system call numbers. */
export function seccompFilter(arch: string): Buffer | undefined {
  const target = SECCOMP_ARCHES[arch];
  if (target === undefined) return undefined;
  const jeq = (k: number): Instruction => ({ code: BPF_JEQ_K, jt: 0, jf: 0, k });
  // Each test jumps, when true, to its target among the last instructions.
  const tests: { test: Instruction; to: "deny" | "enosys" | "flags" }[] = [
    ...(target.x32 ? [{ test: { code: BPF_JSET_K, jt: 0, jf: 0, k: X32_SYSCALL_BIT }, to: "deny" as const }] : []),
    ...DENIED_SYSCALLS.map((name) => ({ test: jeq(target.numbers[name]), to: "deny" as const })),
    { test: jeq(target.numbers.clone3), to: "enosys" },
    { test: jeq(target.numbers.unshare), to: "flags" },
    { test: jeq(target.numbers.clone), to: "flags" },
  ];
  // After the tests: allow, then the flags check (2), then ENOSYS, then deny.
  const tail: Instruction[] = [
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ALLOW },
    // flags: unshare's and clone's first argument, on both CPUs
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: ARG0_LOW_OFFSET },
    { code: BPF_JSET_K, jt: 2, jf: 0, k: CLONE_NEWUSER },
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ALLOW },
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ENOSYS },
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_EPERM },
  ];
  const from = { flags: 1, enosys: 4, deny: 5 } as const; // indices in `tail`
  const program: Instruction[] = [
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: ARCH_OFFSET },
    // Another ABI (i386 through int 0x80, arm32) numbers its calls otherwise: deny all of them.
    { code: BPF_JEQ_K, jt: 1, jf: 0, k: target.audit },
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_EPERM },
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: NR_OFFSET },
    ...tests.map(({ test, to }, index) => ({ ...test, jt: tests.length - index - 1 + from[to] })),
    ...tail,
  ];
  const buffer = Buffer.alloc(program.length * INSTRUCTION_BYTES);
  program.forEach(({ code, jt, jf, k }, index) => {
    const at = index * INSTRUCTION_BYTES;
    buffer.writeUInt16LE(code, at);
    buffer.writeUInt8(jt, at + 2);
    buffer.writeUInt8(jf, at + 3);
    buffer.writeUInt32LE(k, at + 4);
  });
  return buffer;
}
