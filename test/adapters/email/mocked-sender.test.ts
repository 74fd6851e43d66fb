import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, describe, expect, it } from "vitest";
import { MOCKED_EMAIL_FOLDER_PREFIX, MockedEmailSender } from "../../../src/adapters/email/index.js";
import { GREETER, INVITATION_URL, invitationEmail } from "./invitation-fixture.js";

const parent = mkdtempSync(join(tmpdir(), "parsec-mocked-email-test-"));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

const create = (written: { to: string; subject: string; file: string }[] = []) =>
  MockedEmailSender.create({ sender: "no-reply@parsec.com", onWritten: (w) => written.push(w), parent });

describe("MockedEmailSender", () => {
  it("makes a fresh parsec-emails-* folder at creation, in the system temporary directory by default", async () => {
    const [a, b] = await Promise.all([create(), create()]);
    expect(a.folder).not.toBe(b.folder);
    for (const sender of [a, b]) {
      expect(dirname(sender.folder)).toBe(parent);
      expect(basename(sender.folder).startsWith(MOCKED_EMAIL_FOLDER_PREFIX)).toBe(true);
      expect(readdirSync(sender.folder)).toEqual([]);
    }
    const inTmp = await MockedEmailSender.create({ sender: "no-reply@parsec.com", onWritten: () => undefined });
    try {
      expect(dirname(inTmp.folder)).toBe(tmpdir());
      expect(statSync(inTmp.folder).isDirectory()).toBe(true);
    } finally {
      rmSync(inTmp.folder, { recursive: true, force: true });
    }
  });

  it("removes its folder on dispose only when no email was written to it", async () => {
    const idle = await create();
    await idle.dispose();
    expect(() => statSync(idle.folder)).toThrow();
    const busy = await create();
    expect(await busy.send(invitationEmail("bob@example.com"))).toEqual({ ok: true });
    await busy.dispose();
    expect(readdirSync(busy.folder)).toEqual(["000001.eml"]);
  });

  it("writes each email as a readable .eml file (headers, text and HTML) and says where", async () => {
    const written: { to: string; subject: string; file: string }[] = [];
    const sender = await create(written);
    const email = invitationEmail("bob@example.com");
    expect(await sender.send(email)).toEqual({ ok: true });
    expect(await sender.send(invitationEmail("carol@example.com", { language: "fr" }))).toEqual({ ok: true });

    expect(readdirSync(sender.folder).sort()).toEqual(["000001.eml", "000002.eml"]);
    expect(written).toEqual([
      { to: "bob@example.com", subject: email.subject, file: join(sender.folder, "000001.eml") },
      { to: "carol@example.com", subject: `[Parsec] ${GREETER} vous invite à rejoindre CoolOrg`, file: join(sender.folder, "000002.eml") },
    ]);

    const raw = readFileSync(written[0]!.file, "utf8");
    expect(raw).toMatch(/^From: no-reply@parsec\.com$/m);
    expect(raw).toMatch(/^To: bob@example\.com$/m);
    expect(raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe(email.subject);
    expect(parsed.replyTo).toMatchObject({ value: [{ address: "greeter@example.com", name: GREETER }] });
    expect(parsed.text).toContain(INVITATION_URL);
    expect(parsed.text).toContain(GREETER);
    expect(parsed.html).toContain("Jean-José &lt;Admin&gt; &amp; Co");
    expect(parsed.html).toContain(INVITATION_URL.replaceAll("&", "&amp;"));
  });

  it("reports a folder that cannot be written as server_unavailable", async () => {
    const written: { to: string; subject: string; file: string }[] = [];
    const sender = await create(written);
    rmSync(sender.folder, { recursive: true });
    const outcome = await sender.send(invitationEmail("bob@example.com"));
    expect(outcome).toMatchObject({ ok: false, kind: "server_unavailable" });
    expect(outcome.ok ? "" : outcome.reason).toContain(sender.folder);
    expect(written).toEqual([]);
  });
});
