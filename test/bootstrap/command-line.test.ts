import { describe, expect, it } from "vitest";
import { splitCommandLine } from "../../src/bootstrap/cli/index.js";

const env = { DB_URL: "postgresql://u:p@db/parsec", SPACED: "a b", EMPTY: "" };

describe("splitCommandLine (PARSEC_CMD_ARGS)", () => {
  it.each([
    ["--host=0.0.0.0   --port 7000", ["--host=0.0.0.0", "--port", "7000"]],
    ["--db=$DB_URL", ["--db=postgresql://u:p@db/parsec"]],
    ["--db=${DB_URL}x", ["--db=postgresql://u:p@db/parsecx"]],
    ["--administration-token=$SPACED", ["--administration-token=a b"]],
    ['--administration-token="two words"', ["--administration-token=two words"]],
    ['"$SPACED" \'$SPACED\'', ["a b", "$SPACED"]],
    ["--x=$UNSET --y=${UNSET}", ["--x=$UNSET", "--y=${UNSET}"]],
    ["--x=$EMPTY", ["--x="]],
    ['"" \'\'', ["", ""]],
    ["a\\ b c\\\"d \\$DB_URL", ["a b", 'c"d', "$DB_URL"]],
    ["-b s3:host\\:9000:r:b:k:s", ["-b", "s3:host\\:9000:r:b:k:s"]],
    ['"a\\"b\\$c\\d"', ['a"b$c\\d']],
    ["cost=5$ $", ["cost=5$", "$"]],
    ["  \t\n ", []],
  ])("%s", (text, expected) => {
    expect(splitCommandLine(text, env)).toEqual({ ok: true, value: expected });
  });

  it.each(["--db='unterminated", '--db="unterminated'])("rejects an open quote in %s", (text) => {
    const result = splitCommandLine(text, env);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/PARSEC_CMD_ARGS.*unterminated/);
  });
});
