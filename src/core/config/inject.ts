import { parseExpressionAt, type Node } from "acorn";
import { LabnoteError } from "../../protocol";
import { getDotted } from "./resolve";

/** What a function expects: positional names, or the keys of one destructured options object. */
export type ParamSpec = { kind: "positional"; names: (string | undefined)[] } | { kind: "options"; keys: string[] };

interface AcornNode extends Node {
  [k: string]: unknown;
}

function parseFn(src: string): AcornNode | undefined {
  const attempts = [`(${src})`, `({${src}})`, `({async ${src.replace(/^async\s+/, "")}})`];
  for (const code of attempts) {
    try {
      const node = parseExpressionAt(code, 0, { ecmaVersion: "latest" }) as AcornNode;
      if (node.type === "ObjectExpression") {
        const prop = (node.properties as AcornNode[])[0];
        if (prop && prop.type === "Property" && (prop.value as AcornNode).type === "FunctionExpression") return prop.value as AcornNode;
        continue;
      }
      if (node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression") return node;
      if (node.type === "ClassExpression") return undefined;
    } catch {
      /* try the next shape */
    }
  }
  return undefined;
}

/**
 * Read a function's parameters by parsing its source (not with a regex), so defaults,
 * comments, destructuring and arrow functions are understood.
 */
export function readParams(fn: (...args: never[]) => unknown): ParamSpec {
  const src = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src))
    throw new LabnoteError("UNSUPPORTED", "Cannot capture a native or bound function", "wrap it: exp.capture((a, b) => fn(a, b))");
  const node = parseFn(src);
  if (!node) throw new LabnoteError("UNSUPPORTED", `Cannot read the parameters of ${fn.name || "this function"}`, "capture works on functions, arrow functions and methods, not classes");
  const params = node.params as AcornNode[];
  const names: (string | undefined)[] = [];
  for (const p of params) {
    const target = p.type === "AssignmentPattern" ? (p.left as AcornNode) : p;
    if (target.type === "Identifier") names.push(target.name as string);
    else if (target.type === "ObjectPattern" && params.length === 1) {
      const keys: string[] = [];
      for (const prop of target.properties as AcornNode[]) {
        if (prop.type !== "Property") continue;
        const key = prop.key as AcornNode;
        if (!prop.computed && key.type === "Identifier") keys.push(key.name as string);
        else if (key.type === "Literal") keys.push(String(key.value));
      }
      return { kind: "options", keys };
    } else if (target.type === "RestElement") break;
    else names.push(undefined);
  }
  return { kind: "positional", names };
}

/**
 * Wrap `fn` so that missing arguments come from `source()` (a config): positional parameters
 * by name, or the properties of a single destructured options object. Explicit arguments win.
 */
export function injectArguments<F extends (...args: never[]) => unknown>(fn: F, source: () => unknown, prefix?: string): F {
  const spec = readParams(fn);
  const lookup = (key: string): unknown => {
    const cfg = source();
    return getDotted(cfg, prefix ? `${prefix}.${key}` : key);
  };
  const wrapped = function (this: unknown, ...args: unknown[]) {
    if (spec.kind === "options") {
      const given = args[0];
      if (given !== undefined && (typeof given !== "object" || given === null)) return (fn as unknown as (...a: unknown[]) => unknown).apply(this, args);
      const filled: Record<string, unknown> = {};
      for (const k of spec.keys) {
        const v = lookup(k);
        if (v !== undefined) filled[k] = v;
      }
      args[0] = { ...filled, ...(given as object | undefined) };
    } else {
      spec.names.forEach((name, i) => {
        if (name !== undefined && args[i] === undefined) {
          const v = lookup(name);
          if (v !== undefined) args[i] = v;
        }
      });
    }
    return (fn as unknown as (...a: unknown[]) => unknown).apply(this, args);
  };
  Object.defineProperty(wrapped, "name", { value: fn.name });
  return wrapped as unknown as F;
}
