// A Stryker ignorer: the literal text of messages (what an error, a
// refusal, a warning or a log line says) is not mutated. Its wording is not
// part of the seal, and mutating it would double the run for nothing the
// tests should pin. Every decision around a message (its condition, the
// throw, the refusal being pushed) is still mutated.
//
// Text counts as a message when it is a string or template literal that is
// - an argument of `new SomethingError(...)`, of bottle's message helpers
//   (usageError, refuse, say, warn, log, leak) or of process.stderr.write;
// - the value of a `message`, `reason` or `fix` property (ConfigProblem,
//   detectJail's answers);
// - pushed onto `refusals`, `problems` or `cleaned`, or returned from
//   describeObject (the push check's descriptions).
const MESSAGE_CALLS = new Set(["usageError", "refuse", "say", "warn", "log", "leak"]);
const MESSAGE_PROPERTIES = new Set(["message", "reason", "fix"]);
const MESSAGE_LISTS = new Set(["refusals", "problems", "cleaned"]);
const REASON = "message text (scripts/mutate/ignore-messages.mjs)";

function calleeName(callee) {
  if (callee.type === "Identifier") return callee.name;
  if (callee.type === "MemberExpression" && callee.property.type === "Identifier") return callee.property.name;
  return "";
}

function isStderrWrite(callee) {
  return (
    callee.type === "MemberExpression" &&
    calleeName(callee) === "write" &&
    callee.object.type === "MemberExpression" &&
    callee.object.object.type === "Identifier" &&
    callee.object.object.name === "process" &&
    calleeName(callee.object) === "stderr"
  );
}

function isMessageText(path) {
  const parent = path.parentPath;
  if (!parent) return false;
  if ((parent.isNewExpression() || parent.isCallExpression()) && path.listKey === "arguments") {
    const { callee } = parent.node;
    const name = calleeName(callee);
    if (parent.isNewExpression() && /Error$/.test(name)) return true;
    if (parent.isCallExpression() && callee.type === "Identifier" && MESSAGE_CALLS.has(name)) return true;
    if (isStderrWrite(callee)) return true;
    if (name === "push" && callee.object?.type === "Identifier" && MESSAGE_LISTS.has(callee.object.name)) return true;
  }
  if (parent.isObjectProperty() && path.key === "value" && parent.node.key.type === "Identifier" && MESSAGE_PROPERTIES.has(parent.node.key.name)) return true;
  if (parent.isReturnStatement() || parent.isSwitchCase()) {
    const fn = path.getFunctionParent();
    if (fn?.node.id?.name === "describeObject") return true;
  }
  return false;
}

export const strykerPlugins = [
  {
    kind: "Ignore",
    name: "messages",
    value: {
      shouldIgnore(path) {
        if (!path.isStringLiteral() && !path.isTemplateLiteral()) return undefined;
        return isMessageText(path) ? REASON : undefined;
      },
    },
  },
];
