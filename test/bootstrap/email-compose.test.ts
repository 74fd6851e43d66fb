import { existsSync, rmSync } from "node:fs";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { buildEmailSender } from "../../src/bootstrap/compose.js";
import type { EmailSettings } from "../../src/bootstrap/settings.js";
import { invitationEmail } from "../adapters/email/invitation-fixture.js";
import { hasOpenssl, selfSignedCertificate, startSmtpServer, type TestSmtpServer } from "../adapters/email/smtp-test-server.js";

function capturingLogger() {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), records };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

let smtp: TestSmtpServer | null = null;
const folders: string[] = [];
afterEach(async () => {
  await smtp?.close();
  smtp = null;
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe("buildEmailSender", () => {
  it("builds the mocked sender, logging its folder at startup and each email it writes", async () => {
    const { logger, records } = capturingLogger();
    const settings: EmailSettings = { transport: { type: "MOCKED" }, sender: "no-reply@parsec.com", language: "en" };
    const sender = await buildEmailSender(settings, logger);
    expect(await sender.send(invitationEmail("bob@example.com"))).toEqual({ ok: true });
    await flush();
    const folder = records[0]?.["folder"];
    expect(typeof folder).toBe("string");
    folders.push(folder as string);
    expect(records[0]?.["msg"]).toContain(folder as string);
    expect(records[1]).toMatchObject({ to: "bob@example.com", file: `${folder as string}/000001.eml` });
    expect(records[1]?.["msg"]).toMatch(/e-mail to bob@example\.com has been triggered and mocked.*000001\.eml/);
    expect(existsSync(records[1]?.["file"] as string)).toBe(true);
  });

  it("builds the SMTP sender with the configured server, credentials and sender", async () => {
    smtp = await startSmtpServer({ authOptional: false, allowInsecureAuth: true, onAuth: (auth, _session, callback) => callback(null, { user: auth.username }) });
    const settings: EmailSettings = {
      transport: { type: "SMTP", host: "127.0.0.1", port: smtp.port, auth: { user: "parsec", password: "p" }, security: "NONE" },
      sender: "parsec@example.com",
      language: "en",
    };
    const sender = await buildEmailSender(settings, capturingLogger().logger);
    expect(await sender.send(invitationEmail("bob@example.com"))).toEqual({ ok: true });
    expect(smtp.received[0]).toMatchObject({ mailFrom: "parsec@example.com", user: "parsec", secure: false });
  });

  it.skipIf(!hasOpenssl())("maps STARTTLS to an upgrade checked against the system CAs, refusing a self-signed certificate (skipped without openssl)", async () => {
    smtp = await startSmtpServer(selfSignedCertificate());
    const settings: EmailSettings = {
      transport: { type: "SMTP", host: "127.0.0.1", port: smtp.port, auth: null, security: "STARTTLS" },
      sender: "parsec@example.com",
      language: "en",
    };
    const outcome = await (await buildEmailSender(settings, capturingLogger().logger)).send(invitationEmail("bob@example.com"));
    expect(outcome).toMatchObject({ ok: false, kind: "server_unavailable" });
    expect(outcome.ok ? "" : outcome.reason).toMatch(/self[- ]signed|certificate/i);
  });
});
