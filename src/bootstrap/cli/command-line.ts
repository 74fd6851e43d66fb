import { invalid, parsed, type Parsed } from "../../domain/result.js";

const NAME = /^[A-Za-z0-9_]+/;
const BARE_ESCAPABLE = new Set([" ", "\t", "\n", "\r", "'", '"', "$", "\\"]);
const QUOTED_ESCAPABLE = new Set(['"', "$", "\\"]);

function expandAt(text: string, at: number, env: Readonly<Record<string, string | undefined>>): { value: string; end: number } {
  const rest = text.slice(at + 1);
  if (rest.startsWith("{")) {
    const close = rest.indexOf("}");
    if (close > 1) {
      const name = rest.slice(1, close);
      const end = at + 1 + close + 1;
      return { value: env[name] ?? text.slice(at, end), end };
    }
    return { value: "$", end: at + 1 };
  }
  const name = NAME.exec(rest)?.[0];
  if (name === undefined) return { value: "$", end: at + 1 };
  const end = at + 1 + name.length;
  return { value: env[name] ?? text.slice(at, end), end };
}

/**
 * Splits `text` into arguments the way a POSIX shell would for a simple command, expanding variables from `env`.
 *
 * - Whitespace separates arguments; `'…'` keeps its content literally; `"…"` groups but still expands variables.
 * - Outside quotes a backslash escapes whitespace, a quote, `$` or a backslash; before any other character it is
 *   kept, so Parsec's `\:` blockstore escape passes through untouched.
 * - `$NAME` and `${NAME}` are replaced by the variable's value; an unset variable is left as written (as Parsec does),
 *   and an expanded value is never split again.
 *
 * @returns the arguments, or an error naming `PARSEC_CMD_ARGS` when a quote is left open.
 */
export function splitCommandLine(text: string, env: Readonly<Record<string, string | undefined>>): Parsed<string[]> {
  const args: string[] = [];
  let current = "";
  let inArg = false;
  let quote: "'" | '"' | null = null;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (quote === "'") {
      if (c === "'") quote = null;
      else current += c;
      i += 1;
    } else if (c === "$") {
      const { value, end } = expandAt(text, i, env);
      current += value;
      inArg = true;
      i = end;
    } else if (quote === '"') {
      if (c === '"') {
        quote = null;
        i += 1;
      } else if (c === "\\" && next !== undefined && QUOTED_ESCAPABLE.has(next)) {
        current += next;
        i += 2;
      } else {
        current += c;
        i += 1;
      }
    } else if (c === "'" || c === '"') {
      quote = c;
      inArg = true;
      i += 1;
    } else if (c === "\\" && next !== undefined && BARE_ESCAPABLE.has(next)) {
      current += next;
      inArg = true;
      i += 2;
    } else if (/\s/.test(c)) {
      if (inArg) args.push(current);
      current = "";
      inArg = false;
      i += 1;
    } else {
      current += c;
      inArg = true;
      i += 1;
    }
  }
  if (quote !== null) return invalid(`PARSEC_CMD_ARGS: unterminated ${quote === "'" ? "single" : "double"} quote`);
  if (inArg) args.push(current);
  return parsed(args);
}
