import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger, type ErrorLogRecord } from "../../src/bootstrap/logging.js";

const dir = mkdtempSync(join(tmpdir(), "parsec-log-"));

describe("createLogger", () => {
  it("appends NDJSON lines to the log file in JSON format", () => {
    const file = join(dir, "nested", "server.log");
    const logger = createLogger({ level: "INFO", format: "JSON", file });
    logger.info({ organization: "Org" }, "organization created");
    logger.debug("hidden at INFO");
    logger.warn("careful");
    createLogger({ level: "INFO", format: "JSON", file }).error("second logger appends");
    const lines = readFileSync(file, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ level: "info", msg: "organization created", organization: "Org" });
    expect(lines[0]?.["time"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(lines.map((line) => line["level"])).toEqual(["info", "warn", "error"]);
  });

  it("keeps what the file already held", () => {
    const file = join(dir, "existing.log");
    writeFileSync(file, "previous line\n");
    createLogger({ level: "INFO", format: "JSON", file }).info("new");
    expect(readFileSync(file, "utf8")).toMatch(/^previous line\n\{.*"msg":"new"/);
  });

  it.each([
    ["DEBUG", ["debug", "info", "warn", "error"]],
    ["WARNING", ["warn", "error"]],
    ["ERROR", ["error"]],
  ] as const)("filters at level %s", (level, kept) => {
    const file = join(dir, `level-${level}.log`);
    const logger = createLogger({ level, format: "JSON", file });
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    const levels = readFileSync(file, "utf8").trimEnd().split("\n").map((line) => (JSON.parse(line) as { level: string }).level);
    expect(levels).toEqual(kept);
  });

  it("writes human-readable lines in CONSOLE format", () => {
    const file = join(dir, "console.log");
    createLogger({ level: "INFO", format: "CONSOLE", file }).info({ port: 6777 }, "listening");
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/INFO.*listening/);
    expect(text).toContain("port: 6777");
    expect(text).not.toContain("\u001b[");
  });

  it("hands error records to onError", () => {
    const records: ErrorLogRecord[] = [];
    const logger = createLogger({ level: "INFO", format: "JSON", file: join(dir, "errors.log") }, { onError: (r) => records.push(r) });
    const boom = new Error("boom");
    logger.warn("not an error");
    logger.error({ err: boom }, "request failed");
    logger.fatal("plain fatal");
    expect(records).toEqual([
      { message: "request failed", error: boom },
      { message: "plain fatal", error: undefined },
    ]);
  });
});
