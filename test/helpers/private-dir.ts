// The private-dir suites' check: checkPrivateDir on a test spec, answered
// with what it returned or the message it refused with.
import { checkPrivateDir, type PrivateDirSpec } from "../../src/lib/private-dir.js";

export const TEST_DIR_SPEC: PrivateDirSpec = { what: "test dir", privateLevels: 2, fix: "the fix" };

/** checkPrivateDir's answer for `dir` (false: it or an ancestor does not exist), or the message it refused with. */
export function privateDirOutcome(dir: string, extra: Partial<PrivateDirSpec> = {}): string | boolean {
  try {
    return checkPrivateDir(dir, { ...TEST_DIR_SPEC, ...extra });
  } catch (error) {
    return (error as Error).message;
  }
}
