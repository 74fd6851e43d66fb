import { afterEach, describe, expect, it } from "vitest";
import { SmtpEmailSender, type SmtpEmailConfig } from "../../../src/adapters/email/index.js";
import { GREETER, INVITATION_URL, invitationEmail } from "./invitation-fixture.js";
import { closedPort, hasOpenssl, selfSignedCertificate, smtpError, startSilentServer, startSmtpServer, type TestSmtpServer } from "./smtp-test-server.js";

const SENDER = "no-reply@parsec.example.com";
const RECIPIENT = "bob@example.com";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function server(options: Parameters<typeof startSmtpServer>[0] = {}): Promise<TestSmtpServer> {
  const started = await startSmtpServer(options);
  cleanups.push(() => started.close());
  return started;
}

const sender = (port: number, config: Partial<SmtpEmailConfig> = {}) =>
  new SmtpEmailSender({ host: "127.0.0.1", port, auth: null, security: "none", sender: SENDER, ...config });

describe("SmtpEmailSender delivery", () => {
  it("hands a multipart message over with From, To, Reply-To, Subject, and text and HTML naming the greeter and the URL", async () => {
    const smtp = await server();
    const email = invitationEmail(RECIPIENT);
    expect(await sender(smtp.port).send(email)).toEqual({ ok: true });

    expect(smtp.received).toHaveLength(1);
    const [message] = smtp.received;
    expect(message?.mailFrom).toBe(SENDER);
    expect(message?.rcptTo).toEqual([RECIPIENT]);
    const parsed = message!.parsed;
    expect(parsed.from?.value).toEqual([{ address: SENDER, name: "" }]);
    expect(parsed.to).toMatchObject({ value: [{ address: RECIPIENT }] });
    expect(parsed.replyTo).toMatchObject({ value: [{ address: "greeter@example.com", name: GREETER }] });
    expect(parsed.subject).toBe(`[Parsec] ${GREETER} invited you to CoolOrg`);
    expect(parsed.subject).toBe(email.subject);
    expect(parsed.text).toContain(INVITATION_URL);
    expect(parsed.text).toContain(GREETER);
    expect(parsed.html).toContain(`href="${INVITATION_URL.replaceAll("&", "&amp;")}"`);
    expect(parsed.html).toContain("Jean-José &lt;Admin&gt; &amp; Co");
    expect(parsed.headers.get("content-type")).toMatchObject({ value: "multipart/alternative" });
  });

  it("sends the French device invitation", async () => {
    const smtp = await server();
    expect(await sender(smtp.port).send(invitationEmail(RECIPIENT, { language: "fr", type: "DEVICE" }))).toEqual({ ok: true });
    const parsed = smtp.received[0]!.parsed;
    expect(parsed.subject).toBe("[Parsec] Invitation d'un nouvel appareil à CoolOrg");
    expect(parsed.text).toContain(`Bonjour ${GREETER},`);
    expect(parsed.text).toContain(INVITATION_URL);
    expect(parsed.html).toContain('<html lang="fr">');
    expect(parsed.html).toContain("Bonjour Jean-José &lt;Admin&gt; &amp; Co,");
  });

  it("stays in plain text with security `none`, even when the server offers STARTTLS", async () => {
    const smtp = await server({ ...(hasOpenssl() ? selfSignedCertificate() : {}) });
    expect(await sender(smtp.port).send(invitationEmail(RECIPIENT))).toEqual({ ok: true });
    expect(smtp.received[0]?.secure).toBe(false);
  });
});

describe("SmtpEmailSender authentication", () => {
  const credentials = { user: "parsec", password: "s3cr3t p4ss" };
  const authServer = () =>
    server({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        if (auth.username === credentials.user && auth.password === credentials.password) callback(null, { user: auth.username });
        else callback(smtpError(535, "Authentication failed"));
      },
    });

  it("logs in with the right credentials", async () => {
    const smtp = await authServer();
    expect(await sender(smtp.port, { auth: credentials }).send(invitationEmail(RECIPIENT))).toEqual({ ok: true });
    expect(smtp.received[0]?.user).toBe("parsec");
  });

  it("reports wrong credentials as server_unavailable", async () => {
    const smtp = await authServer();
    const outcome = await sender(smtp.port, { auth: { user: "parsec", password: "wrong" } }).send(invitationEmail(RECIPIENT));
    expect(outcome).toMatchObject({ ok: false, kind: "server_unavailable" });
    expect(outcome.ok ? "" : outcome.reason).toMatch(/127\.0\.0\.1:\d+.*535/);
    expect(smtp.received).toHaveLength(0);
  });

  it("reports missing credentials on a server that requires them as server_unavailable", async () => {
    const smtp = await authServer();
    expect(await sender(smtp.port).send(invitationEmail(RECIPIENT))).toMatchObject({ ok: false, kind: "server_unavailable" });
  });
});

describe("SmtpEmailSender recipient refusal", () => {
  it("reports a 550 on RCPT TO as recipient_refused", async () => {
    const smtp = await server({ onRcptTo: (_address, _session, callback) => callback(smtpError(550, "No such user here")) });
    const outcome = await sender(smtp.port).send(invitationEmail("nobody@example.com"));
    expect(outcome).toMatchObject({ ok: false, kind: "recipient_refused" });
    expect(outcome.ok ? "" : outcome.reason).toMatch(/550/);
  });

  it("reports a temporary 450 on RCPT TO as server_unavailable", async () => {
    const smtp = await server({ onRcptTo: (_address, _session, callback) => callback(smtpError(450, "Mailbox busy, try later")) });
    expect(await sender(smtp.port).send(invitationEmail(RECIPIENT))).toMatchObject({ ok: false, kind: "server_unavailable" });
  });

  it("reports a refused sender (550 on MAIL FROM) as server_unavailable", async () => {
    const smtp = await server({ onMailFrom: (_address, _session, callback) => callback(smtpError(550, "Sender not allowed")) });
    expect(await sender(smtp.port).send(invitationEmail(RECIPIENT))).toMatchObject({ ok: false, kind: "server_unavailable" });
  });
});

describe("SmtpEmailSender with the server out of reach", () => {
  it("reports a closed port as server_unavailable, quickly", async () => {
    const started = Date.now();
    const outcome = await sender(await closedPort()).send(invitationEmail(RECIPIENT));
    expect(outcome).toMatchObject({ ok: false, kind: "server_unavailable" });
    expect(outcome.ok ? "" : outcome.reason).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("gives up on a server that never greets after the greeting timeout", async () => {
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    const started = Date.now();
    const outcome = await sender(silent.port, { timeouts: { connectionMs: 500, greetingMs: 500, socketMs: 500 } }).send(invitationEmail(RECIPIENT));
    expect(outcome).toMatchObject({ ok: false, kind: "server_unavailable" });
    expect(outcome.ok ? "" : outcome.reason).toMatch(/greeting|timed? ?out/i);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe.skipIf(!hasOpenssl())("SmtpEmailSender over TLS (skipped: needs `openssl` on PATH to make a certificate)", () => {
  const tls = hasOpenssl() ? selfSignedCertificate() : { key: "", cert: "" };

  it("upgrades with STARTTLS and checks the certificate", async () => {
    const smtp = await server(tls);
    expect(await sender(smtp.port, { security: "starttls", extraCaCertificates: [tls.cert] }).send(invitationEmail(RECIPIENT))).toEqual({ ok: true });
    expect(smtp.received[0]?.secure).toBe(true);
  });

  it("logs in after STARTTLS", async () => {
    const smtp = await server({ ...tls, authOptional: false, onAuth: (auth, _session, callback) => callback(null, { user: auth.username }) });
    const outcome = await sender(smtp.port, { security: "starttls", extraCaCertificates: [tls.cert], auth: { user: "u", password: "p" } }).send(invitationEmail(RECIPIENT));
    expect(outcome).toEqual({ ok: true });
    expect(smtp.received[0]).toMatchObject({ secure: true, user: "u" });
  });

  it("refuses to go on in plain text when STARTTLS is required but refused", async () => {
    const smtp = await server({ ...tls, disabledCommands: ["STARTTLS"] });
    expect(await sender(smtp.port, { security: "starttls", extraCaCertificates: [tls.cert] }).send(invitationEmail(RECIPIENT))).toMatchObject({ ok: false, kind: "server_unavailable" });
    expect(smtp.received).toHaveLength(0);
  });

  it("speaks TLS from the first byte with implicit TLS", async () => {
    const smtp = await server({ ...tls, secure: true });
    expect(await sender(smtp.port, { security: "implicit_tls", extraCaCertificates: [tls.cert] }).send(invitationEmail(RECIPIENT))).toEqual({ ok: true });
    expect(smtp.received[0]?.secure).toBe(true);
  });

  it.each(["starttls", "implicit_tls"] as const)("rejects an untrusted certificate with %s as server_unavailable", async (security) => {
    const smtp = await server({ ...tls, secure: security === "implicit_tls" });
    const outcome = await sender(smtp.port, { security }).send(invitationEmail(RECIPIENT));
    expect(outcome).toMatchObject({ ok: false, kind: "server_unavailable" });
    expect(outcome.ok ? "" : outcome.reason).toMatch(/self[- ]signed|certificate/i);
    expect(smtp.received).toHaveLength(0);
  });
});
