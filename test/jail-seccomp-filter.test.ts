// The jail's seccomp program, decoded and run on a small classic-BPF
// evaluator: which system calls it denies on each CPU, that no call makes a
// user namespace, that it checks the ABI first and refuses x32, and that
// bottle refuses a CPU it has no numbers for.
// Every expectation is a literal written here, not read from the module: the
// deny list and its numbers from the kernel's tables
// (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h),
// the opcodes and return values from linux/filter.h, linux/bpf_common.h,
// linux/seccomp.h and linux/audit.h. Dropping a name from the filter fails
// here, not only in the live jail probe.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bwrapArgs, detectJail, jailSeccompFilter } from "../src/backends/smolmachines/jail/index.js";
import { INFO_FD } from "../src/backends/smolmachines/jail/bwrap-args.js";
import { DENIED_SYSCALLS, SECCOMP_ARCHES, SECCOMP_FD, seccompFilter } from "../src/backends/smolmachines/jail/seccomp-filter.js";
import { underJailParent } from "./helpers/jail.js";
import { tempDir } from "./helpers/tmp.js";

/** Classic-BPF opcodes (linux/bpf_common.h): BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_JMP|BPF_JSET|BPF_K, BPF_RET|BPF_K. */
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;
/** linux/seccomp.h: SECCOMP_RET_ALLOW, and SECCOMP_RET_ERRNO | EPERM (1) or ENOSYS (38). */
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_EPERM = 0x00050001;
const SECCOMP_RET_ENOSYS = 0x00050026;
/** linux/sched.h: CLONE_NEWUSER, CLONE_NEWNET. */
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNET = 0x40000000;
/** asm/unistd_x32.h: __X32_SYSCALL_BIT. */
const X32_SYSCALL_BIT = 0x40000000;
/** linux/audit.h: AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_ARM. */
const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_ARM = 0x40000028;

/** The calls the jail denies, with their numbers on x86_64 (syscall_64.tbl) and aarch64 (asm-generic/unistd.h). */
const DENIED: Readonly<Record<string, { x86_64: number; aarch64: number }>> = {
  keyctl: { x86_64: 250, aarch64: 219 },
  add_key: { x86_64: 248, aarch64: 217 },
  request_key: { x86_64: 249, aarch64: 218 },
  ptrace: { x86_64: 101, aarch64: 117 },
  perf_event_open: { x86_64: 298, aarch64: 241 },
  bpf: { x86_64: 321, aarch64: 280 },
  userfaultfd: { x86_64: 323, aarch64: 282 },
};

/** The calls that could make a user namespace, with their numbers (same tables). */
const NAMESPACE: Readonly<Record<"unshare" | "clone" | "clone3", { x86_64: number; aarch64: number }>> = {
  unshare: { x86_64: 272, aarch64: 97 },
  clone: { x86_64: 56, aarch64: 220 },
  clone3: { x86_64: 435, aarch64: 435 },
};

/** process.arch -> the kernel's name and AUDIT_ARCH value. */
const CPUS = { x64: { name: "x86_64", audit: AUDIT_ARCH_X86_64 }, arm64: { name: "aarch64", audit: AUDIT_ARCH_AARCH64 } } as const;

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

function decode(buffer: Buffer): Instruction[] {
  assert.is(buffer.length % 8, 0, "whole struct sock_filter entries");
  const program: Instruction[] = [];
  for (let at = 0; at < buffer.length; at += 8) {
    program.push({ code: buffer.readUInt16LE(at), jt: buffer.readUInt8(at + 2), jf: buffer.readUInt8(at + 3), k: buffer.readUInt32LE(at + 4) });
  }
  return program;
}

/** linux/seccomp.h, struct seccomp_data: nr at 0, arch at 4, args[0] at 16 (its low word on little-endian CPUs). */
const ARG0_LOW = 16;

/** What the kernel would return for a call `nr` made through ABI `arch` with first argument `arg0` (only the opcodes the filter may use). */
function evaluate(program: Instruction[], arch: number, nr: number, arg0 = 0): number {
  const data: Record<number, number> = { 0: nr, 4: arch, [ARG0_LOW]: arg0 };
  let accumulator = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    switch (code) {
      case BPF_LD_W_ABS:
        assert.ok(k in data, `load at offset ${k}`);
        accumulator = data[k]!;
        break;
      case BPF_JEQ_K:
        pc += accumulator === k ? jt : jf;
        break;
      case BPF_JSET_K:
        pc += (accumulator & k) !== 0 ? jt : jf;
        break;
      case BPF_RET_K:
        return k;
      default:
        throw new Error(`unexpected opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error("the program ran off its end");
}

test("the program is whole instructions: 4 to check the ABI and load the number, one per denied call, x32's check on x86_64, 3 for the namespace calls, and the flags check and returns", () => {
  const denied = Object.keys(DENIED).length;
  assert.is(decode(seccompFilter("x64")!).length, 4 + 1 + denied + 3 + 6);
  assert.is(decode(seccompFilter("arm64")!).length, 4 + denied + 3 + 6);
});

test("the program checks the ABI first and denies every call of another ABI", () => {
  for (const [arch, cpu] of Object.entries(CPUS)) {
    const program = decode(seccompFilter(arch)!);
    assert.equal(program.slice(0, 4), [
      { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 4 },
      { code: BPF_JEQ_K, jt: 1, jf: 0, k: cpu.audit },
      { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_EPERM },
      { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 0 },
    ]);
  }
  const x64 = decode(seccompFilter("x64")!);
  // i386 through int 0x80 numbers keyctl 288: without the ABI check it would pass.
  for (const nr of [0, 3, 286, 287, 288]) assert.is(evaluate(x64, AUDIT_ARCH_I386, nr), SECCOMP_RET_EPERM, `i386 ${nr}`);
  assert.is(evaluate(x64, AUDIT_ARCH_AARCH64, 63), SECCOMP_RET_EPERM);
  const arm64 = decode(seccompFilter("arm64")!);
  for (const nr of [3, 311]) assert.is(evaluate(arm64, AUDIT_ARCH_ARM, nr), SECCOMP_RET_EPERM, `arm32 ${nr}`);
});

test("the deny list is keyctl, add_key, request_key, ptrace, perf_event_open, bpf and userfaultfd, with the kernel's numbers", () => {
  assert.equal([...DENIED_SYSCALLS].sort(), Object.keys(DENIED).sort());
  for (const [arch, cpu] of Object.entries(CPUS)) {
    const numbers = Object.fromEntries(Object.entries({ ...DENIED, ...NAMESPACE }).map(([name, nr]) => [name, nr[cpu.name]]));
    assert.equal(SECCOMP_ARCHES[arch]?.numbers, numbers, arch);
    assert.is(SECCOMP_ARCHES[arch]?.audit, cpu.audit, arch);
  }
});

test("each denied call fails with EPERM and every other call number is allowed, on x86_64 and aarch64", () => {
  for (const [arch, cpu] of Object.entries(CPUS)) {
    const program = decode(seccompFilter(arch)!);
    for (const [name, nr] of Object.entries(DENIED)) assert.is(evaluate(program, cpu.audit, nr[cpu.name]), SECCOMP_RET_EPERM, `${arch} ${name} (${nr[cpu.name]})`);
    const filtered = new Set(Object.values({ ...DENIED, ...NAMESPACE }).map((nr) => nr[cpu.name]));
    for (let nr = 0; nr < 1024; nr++) if (!filtered.has(nr)) assert.is(evaluate(program, cpu.audit, nr), SECCOMP_RET_ALLOW, `${arch} ${nr}`);
  }
});

test("no call makes a user namespace: unshare and clone with CLONE_NEWUSER fail with EPERM, clone3 with ENOSYS (callers fall back to clone)", () => {
  const THREAD = 0x3d0f00; // what glibc's pthread_create asks clone for
  for (const [arch, cpu] of Object.entries(CPUS)) {
    const program = decode(seccompFilter(arch)!);
    for (const call of ["unshare", "clone"] as const) {
      const nr = NAMESPACE[call][cpu.name];
      assert.is(evaluate(program, cpu.audit, nr, CLONE_NEWUSER), SECCOMP_RET_EPERM, `${arch} ${call}(CLONE_NEWUSER)`);
      assert.is(evaluate(program, cpu.audit, nr, CLONE_NEWUSER | CLONE_NEWNET), SECCOMP_RET_EPERM, `${arch} ${call}(CLONE_NEWUSER|CLONE_NEWNET)`);
      assert.is(evaluate(program, cpu.audit, nr, 0), SECCOMP_RET_ALLOW, `${arch} ${call}(0)`);
      assert.is(evaluate(program, cpu.audit, nr, THREAD), SECCOMP_RET_ALLOW, `${arch} ${call}(a thread)`);
    }
    for (const arg0 of [0, CLONE_NEWUSER]) assert.is(evaluate(program, cpu.audit, NAMESPACE.clone3[cpu.name], arg0), SECCOMP_RET_ENOSYS, `${arch} clone3`);
  }
});

test("on x86_64 every x32 call is denied, so keyctl cannot come in that way", () => {
  const program = decode(seccompFilter("x64")!);
  // From instruction 4, to the last one (deny).
  assert.equal(program[4], { code: BPF_JSET_K, jt: program.length - 1 - 5, jf: 0, k: X32_SYSCALL_BIT });
  assert.equal(program[program.length - 1], { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_EPERM });
  for (const nr of [0, 1, DENIED.keyctl!.x86_64, 0x200, 520]) assert.is(evaluate(program, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | nr), SECCOMP_RET_EPERM, `x32 ${nr}`);
  const arm64 = decode(seccompFilter("arm64")!);
  assert.not.ok(arm64.some(({ code, k }) => code === BPF_JSET_K && k === X32_SYSCALL_BIT));
});

test("bottle has no filter for a CPU it has no numbers for, and detection says so without probing bwrap", async () => {
  assert.is(seccompFilter("ia32"), undefined);
  let probed = false;
  const support = await detectJail("linux", {
    arch: "riscv64",
    run: async () => {
      probed = true;
      return { code: 0, stderr: "" };
    },
    pathEnv: "/fake/bin",
    isExecutable: (path) => path === "/fake/bin/bwrap",
  });
  assert.equal(support, {
    kind: "unavailable",
    reason: "the jail's seccomp filter knows the system call numbers of x86_64 or aarch64 only, not this CPU's (Node calls it riscv64)",
    fix: "run bottle on x86_64 or aarch64 Linux",
  });
  assert.is(probed, false);
});

test("bottle refuses to start the jail on such a CPU, before running bwrap, with the words doctor gives", () => {
  const dir = tempDir("bottle-keyring-launcher-");
  const marker = join(dir, "bwrap-ran");
  assert.throws(() => jailSeccompFilter("ia32"), (error: Error) => error.message === "the jail's seccomp filter knows the system call numbers of x86_64 or aarch64 only, not this CPU's (Node calls it ia32); run bottle on x86_64 or aarch64 Linux");
  // spawnBwrap() itself, in a process that believes it runs on ia32.
  const pretendIa32 = 'data:text/javascript,Object.defineProperty(process, "arch", { value: "ia32" })';
  const [node, ...args] = underJailParent({ command: "/usr/bin/touch", args: [marker], copies: [] });
  const result = spawnSync(node, ["--import", pretendIa32, ...args], { encoding: "utf8" });
  assert.is(result.status, 1, result.stderr);
  assert.match(result.stderr, /^jail-parent: the jail's seccomp filter knows the system call numbers of x86_64 or aarch64 only, not this CPU's \(Node calls it ia32\); run bottle on/);
  assert.not.ok(existsSync(marker), "bwrap ran");
});

test("bwrapArgs reads the filter from the descriptor the launcher writes it to", () => {
  const args = bwrapArgs({ jailDir: "/r/jail", relayDir: "/r/jail/relays", system: [], proc: { dirs: [], files: [] }, readOnly: [], copies: [], credentials: { kind: "userns" }, command: ["/opt/gvproxy"] });
  const at = args.indexOf("--seccomp");
  assert.ok(at >= 0 && at < args.indexOf("--"));
  assert.is(args[at + 1], String(SECCOMP_FD));
  assert.is(args.lastIndexOf("--seccomp"), at, "bwrap's --seccomp is not repeatable");
  assert.is.not(SECCOMP_FD, INFO_FD, "3 is bwrap's --info-fd");
});

test.run();
