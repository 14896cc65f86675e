// Reads bottle's own source (src/ and tasks/, as TypeScript, with the
// compiler's parser): every import and which folder it points to, every
// function and how long it is, every type assertion. The import-direction
// test checks the arrows; `node dist/test/helpers/source-map.js` prints the
// measurements (folder-to-folder imports, the longest functions, the casts).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** The checkout: dist/test/helpers/ → three levels up. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export interface SourceImport {
  /** Importing file, relative to the checkout (src/cli/build.ts). */
  from: string;
  /** The specifier as written. */
  specifier: string;
  /** The imported file relative to the checkout, or null for a package or node: import. */
  to: string | null;
  line: number;
  /** `import type` / `export type`: erased at run time. */
  typeOnly: boolean;
}

export function sourceFiles(roots: readonly string[] = ["src", "tasks"], repo = REPO_ROOT): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(repo, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(path);
    }
  };
  for (const root of roots) walk(root);
  return files;
}

function parse(file: string, repo: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(join(repo, file), "utf8"), ts.ScriptTarget.ES2022, true);
}

/** A relative specifier `./x.js` as the source file it names (`x.ts`). */
function resolveSpecifier(from: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  return join(dirname(from), specifier).replace(/\.js$/, ".ts");
}

/** Every static import, re-export and dynamic `import("…")` of `file`. */
export function importsOf(file: string, repo = REPO_ROOT): SourceImport[] {
  const source = parse(file, repo);
  const found: SourceImport[] = [];
  const add = (node: ts.Node, literal: ts.Expression | undefined, typeOnly: boolean): void => {
    if (!literal || !ts.isStringLiteralLike(literal)) return;
    const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    found.push({ from: file, specifier: literal.text, to: resolveSpecifier(file, literal.text), line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, Boolean(node.importClause?.isTypeOnly));
    else if (ts.isExportDeclaration(node)) add(node, node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0], false);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal as ts.Expression, true);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * The folder a file belongs to for the import map: src/<folder>, with the
 * backend one level deeper (src/backends/smolmachines/<part>), and files
 * directly in src/ or a backend as that folder itself.
 */
export function folderOf(file: string): string {
  const parts = file.split("/");
  if (parts[0] !== "src") return parts[0]!;
  if (parts.length === 2) return "src";
  if (parts[1] === "backends" && parts[2] === "smolmachines" && parts.length > 4) return parts.slice(0, 4).join("/");
  if (parts[1] === "backends" && parts.length > 3) return parts.slice(0, 3).join("/");
  return parts.slice(0, 2).join("/");
}

/** Folder → the folders it imports (type-only imports included), each with how many imports. */
export function folderMatrix(imports: readonly SourceImport[]): Map<string, Map<string, number>> {
  const matrix = new Map<string, Map<string, number>>();
  for (const imp of imports) {
    if (imp.to === null) continue;
    const from = folderOf(imp.from);
    const to = folderOf(imp.to);
    if (from === to) continue;
    const row = matrix.get(from) ?? new Map<string, number>();
    row.set(to, (row.get(to) ?? 0) + 1);
    matrix.set(from, row);
  }
  return matrix;
}

export interface FunctionLength {
  name: string;
  file: string;
  line: number;
  lines: number;
}

function functionName(node: ts.Node, source: ts.SourceFile): string {
  const named = (node as { name?: ts.Node }).name;
  const owner = (): string => {
    for (let at = node.parent; at; at = at.parent) if (ts.isClassDeclaration(at) && at.name) return `${at.name.text}.`;
    return "";
  };
  if (named && (ts.isIdentifier(named) || ts.isStringLiteral(named))) {
    return ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessor(node) ? `${owner()}${named.text}` : named.text;
  }
  if (ts.isConstructorDeclaration(node)) return `${owner()}constructor`;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyAssignment(parent) && (ts.isIdentifier(parent.name) || ts.isStringLiteral(parent.name))) return parent.name.text;
  if (ts.isPropertyDeclaration(parent) && ts.isIdentifier(parent.name)) return `${owner()}${parent.name.text}`;
  const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
  return `(anonymous, line ${line})`;
}

/** Every function, method and arrow function with a block body, with its length in lines. */
export function functionLengths(files: readonly string[], repo = REPO_ROOT): FunctionLength[] {
  const found: FunctionLength[] = [];
  for (const file of files) {
    const source = parse(file, repo);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && "body" in node && node.body && ts.isBlock(node.body as ts.Node)) {
        const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        found.push({ name: functionName(node, source), file, line: start + 1, lines: end - start + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file));
}

export interface Cast {
  file: string;
  line: number;
  text: string;
  /** `x as unknown as T`. */
  doubled: boolean;
}

/** Every type assertion (`x as T`, `<T>x`) but `as const`; a double one counts once. */
export function casts(files: readonly string[], repo = REPO_ROOT): Cast[] {
  const found: Cast[] = [];
  for (const file of files) {
    const source = parse(file, repo);
    const visit = (node: ts.Node): void => {
      if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) {
        const constant = ts.isTypeReferenceNode(node.type) && node.type.typeName.getText(source) === "const";
        const inner = node.expression;
        const doubled = ts.isAsExpression(inner) && inner.type.kind === ts.SyntaxKind.UnknownKeyword;
        const isInnerOfDouble = ts.isAsExpression(node.parent) && node.type.kind === ts.SyntaxKind.UnknownKeyword;
        if (!constant && !isInnerOfDouble) {
          const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
          found.push({ file, line, text: node.getText(source).replace(/\s+/g, " ").slice(0, 100), doubled });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

export interface ErrorClass {
  name: string;
  extends: string;
  file: string;
}

/** Every class that extends Error or another error class. */
export function errorClasses(files: readonly string[], repo = REPO_ROOT): ErrorClass[] {
  const found: ErrorClass[] = [];
  for (const file of files) {
    const source = parse(file, repo);
    const visit = (node: ts.Node): void => {
      if (ts.isClassDeclaration(node) && node.name) {
        const base = node.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression.getText(source);
        if (base && /Error$/.test(base)) found.push({ name: node.name.text, extends: base, file });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

function report(): void {
  const files = sourceFiles();
  const imports = files.flatMap((file) => importsOf(file));
  console.log("## folder → folders it imports (count of import statements; type-only included)");
  const matrix = folderMatrix(imports);
  for (const from of [...matrix.keys()].sort()) {
    const row = [...matrix.get(from)!].sort(([a], [b]) => a.localeCompare(b));
    console.log(`${from} → ${row.map(([to, n]) => `${to} (${n})`).join(", ")}`);
  }
  console.log("\n## the ten longest functions");
  for (const f of functionLengths(files).slice(0, 10)) console.log(`${String(f.lines).padStart(4)}  ${f.name}  ${f.file}:${f.line}`);
  const launchPath = (process.env.LAUNCH_PATH ?? "").split(",").filter(Boolean);
  const castFiles = files.filter((f) => f.startsWith("tasks/") || launchPath.some((p) => f.startsWith(p)));
  const found = casts(castFiles);
  console.log(`\n## casts in tasks/ and the launch path (${launchPath.join(", ") || "LAUNCH_PATH unset"})`);
  console.log(`as unknown as: ${found.filter((c) => c.doubled).length}; other casts: ${found.filter((c) => !c.doubled).length}`);
  for (const c of found) console.log(`  ${c.doubled ? "double" : "single"}  ${c.file}:${c.line}  ${c.text}`);
  const everywhere = casts(files);
  console.log(`in all of src/ and tasks/: as unknown as: ${everywhere.filter((c) => c.doubled).length}; other casts: ${everywhere.filter((c) => !c.doubled).length}`);
  console.log("\n## error classes");
  for (const e of errorClasses(files)) console.log(`${e.name} extends ${e.extends}  (${e.file})`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) report();
