// A word for POSIX sh: bare when it is plainly safe, else single-quoted.
// node: imports only (none at all): the git gate's hook writer uses it too.
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return "'" + word.replace(/'/g, "'\\''") + "'";
}
