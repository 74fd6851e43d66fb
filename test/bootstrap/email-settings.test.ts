import { describe, expect, it } from "vitest";
import { TLS_CERT, TLS_KEY } from "../support/tls.js";
import { parseBackendRunSettings } from "../../src/bootstrap/cli/index.js";
import type { BackendSettings } from "../../src/bootstrap/settings.js";

type Env = Record<string, string | undefined>;

const REQUIRED = ["--db=MOCKED", "--blockstore=MOCKED", "--administration-token=T"];
const SMTP = ["--email-host=smtp.example.com", "--email-sender=parsec@example.com"];

function settings(argv: string[], env: Env = {}): BackendSettings {
  const result = parseBackendRunSettings(argv, env);
  if (!result.ok) throw new Error(result.error);
  return result.settings;
}

function rejection(argv: string[], env: Env = {}): string {
  const result = parseBackendRunSettings(argv, env);
  if (result.ok) throw new Error(`accepted ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
  return result.error;
}

const smtpOf = (s: BackendSettings) => {
  if (s.email.transport.type !== "SMTP") throw new Error("expected an SMTP transport");
  return s.email.transport;
};

describe("--backend-addr", () => {
  it("takes the flag over the environment, and the environment over the default", () => {
    const env = { PARSEC_BACKEND_ADDR: "parsec://env.example.com" };
    expect(settings([...REQUIRED, "--backend-addr=parsec://flag.example.com:4443"], env).backendAddr).toEqual({ hostname: "flag.example.com", port: 4443, useSsl: true });
    expect(settings(REQUIRED, env).backendAddr).toEqual({ hostname: "env.example.com", port: null, useSsl: true });
    expect(settings(REQUIRED, { PARSEC_BACKEND_ADDR: "parsec://env.example.com:8080?no_ssl=true" }).backendAddr).toEqual({ hostname: "env.example.com", port: 8080, useSsl: false });
  });

  it("defaults with --dev to parsec://localhost:<port>, with no_ssl=true only without TLS", () => {
    expect(settings(["--dev"]).backendAddr).toEqual({ hostname: "localhost", port: 6777, useSsl: false });
    expect(settings(["--dev", "--host=0.0.0.0"], { PARSEC_PORT: "7001" }).backendAddr).toEqual({ hostname: "localhost", port: 7001, useSsl: false });
    expect(settings(["--dev", `--ssl-keyfile=${TLS_KEY}`, `--ssl-certfile=${TLS_CERT}`, "--port=4443"]).backendAddr).toEqual({ hostname: "localhost", port: 4443, useSsl: true });
  });

  it("with --dev, yields to the flag but wins over the environment", () => {
    expect(settings(["--dev", "--backend-addr=parsec://mine"]).backendAddr.hostname).toBe("mine");
    expect(settings(["--dev"], { PARSEC_BACKEND_ADDR: "parsec://env" }).backendAddr.hostname).toBe("localhost");
  });

  it("defaults without --dev to the listening address (localhost for a wildcard host)", () => {
    expect(settings([...REQUIRED, "--host=parsec.internal", "--port=443", `--ssl-keyfile=${TLS_KEY}`, `--ssl-certfile=${TLS_CERT}`]).backendAddr).toEqual({ hostname: "parsec.internal", port: null, useSsl: true });
    expect(settings([...REQUIRED, "--host=0.0.0.0"]).backendAddr).toEqual({ hostname: "localhost", port: 6777, useSsl: false });
    expect(settings([...REQUIRED, "--host=::"]).backendAddr).toEqual({ hostname: "localhost", port: 6777, useSsl: false });
    expect(settings([...REQUIRED, "--host=::1"]).backendAddr).toEqual({ hostname: "[::1]", port: 6777, useSsl: false });
  });

  it.each([
    ["https://parsec.example.com", /Expected a `parsec:\/\/` URL/],
    ["parsec://parsec.example.com/org", /no path/],
    ["parsec://parsec.example.com?no_ssl=maybe", /no_ssl=true/],
    ["not a url", /Invalid URL/],
  ])("rejects %s, naming the setting", (raw, message) => {
    expect(rejection([...REQUIRED, `--backend-addr=${raw}`])).toMatch(/^Invalid value for '--backend-addr'/);
    expect(rejection([...REQUIRED, `--backend-addr=${raw}`])).toMatch(message);
    expect(rejection(REQUIRED, { PARSEC_BACKEND_ADDR: raw })).toMatch(/'--backend-addr' \(from PARSEC_BACKEND_ADDR\)/);
  });
});

describe("email settings", () => {
  it("default to the mocked sender, no-reply@parsec.com, in English", () => {
    expect(settings(REQUIRED).email).toEqual({ transport: { type: "MOCKED" }, sender: "no-reply@parsec.com", language: "en" });
    expect(settings([...REQUIRED, "--email-host=mocked"]).email.transport).toEqual({ type: "MOCKED" });
  });

  it("read an SMTP server: port 25, no login, plain SMTP by default", () => {
    expect(settings([...REQUIRED, ...SMTP]).email).toEqual({
      transport: { type: "SMTP", host: "smtp.example.com", port: 25, auth: null, security: "NONE" },
      sender: "parsec@example.com",
      language: "en",
    });
  });

  it("read every setting from the environment", () => {
    const s = settings(REQUIRED, {
      PARSEC_EMAIL_HOST: "smtp.env.example.com",
      PARSEC_EMAIL_PORT: "587",
      PARSEC_EMAIL_HOST_USER: "user",
      PARSEC_EMAIL_HOST_PASSWORD: "pass word",
      PARSEC_EMAIL_USE_TLS: "true",
      PARSEC_EMAIL_SENDER: "env@example.com",
      PARSEC_EMAIL_LANGUAGE: "FR",
    });
    expect(s.email).toEqual({
      transport: { type: "SMTP", host: "smtp.env.example.com", port: 587, auth: { user: "user", password: "pass word" }, security: "STARTTLS" },
      sender: "env@example.com",
      language: "fr",
    });
  });

  it("take flags over the environment", () => {
    const env = {
      PARSEC_EMAIL_HOST: "smtp.env.example.com",
      PARSEC_EMAIL_PORT: "587",
      PARSEC_EMAIL_HOST_USER: "env-user",
      PARSEC_EMAIL_HOST_PASSWORD: "env-pass",
      PARSEC_EMAIL_USE_TLS: "true",
      PARSEC_EMAIL_SENDER: "env@example.com",
      PARSEC_EMAIL_LANGUAGE: "fr",
    };
    const s = settings(
      [...REQUIRED, "--email-host=smtp.flag.example.com", "--email-port=465", "--email-host-user=u", "--email-host-password=p", "--no-email-use-tls", "--email-use-ssl", "--email-sender=flag@example.com", "--email-language=en"],
      env,
    );
    expect(s.email).toEqual({
      transport: { type: "SMTP", host: "smtp.flag.example.com", port: 465, auth: { user: "u", password: "p" }, security: "IMPLICIT_TLS" },
      sender: "flag@example.com",
      language: "en",
    });
    expect(settings([...REQUIRED, "--email-host=MOCKED"], env).email.transport).toEqual({ type: "MOCKED" });
  });

  it("map --email-use-ssl to implicit TLS and --email-use-tls to STARTTLS, as Parsec's code does", () => {
    expect(smtpOf(settings([...REQUIRED, ...SMTP, "--email-use-ssl"])).security).toBe("IMPLICIT_TLS");
    expect(smtpOf(settings([...REQUIRED, ...SMTP, "--email-use-tls"])).security).toBe("STARTTLS");
    expect(smtpOf(settings([...REQUIRED, ...SMTP], { PARSEC_EMAIL_USE_SSL: "yes" })).security).toBe("IMPLICIT_TLS");
  });

  it("with --dev, are mocked from no-reply@parsec.com whatever the environment says, but yield to flags", () => {
    const env = { PARSEC_EMAIL_HOST: "smtp.env.example.com", PARSEC_EMAIL_SENDER: "env@example.com", PARSEC_EMAIL_LANGUAGE: "fr" };
    expect(settings(["--dev"], env).email).toEqual({ transport: { type: "MOCKED" }, sender: "no-reply@parsec.com", language: "fr" });
    expect(settings(["--dev", "--email-host=smtp.example.com", "--email-sender=me@example.com"]).email).toMatchObject({ transport: { type: "SMTP" }, sender: "me@example.com" });
  });

  it("accept a sender with the mocked host", () => {
    expect(settings([...REQUIRED, "--email-sender=mocked@example.com"]).email.sender).toBe("mocked@example.com");
  });

  it.each<[string, string[], Env, RegExp]>([
    ["both TLS flags", ["--email-use-ssl", "--email-use-tls"], {}, /'--email-use-ssl' and '--email-use-tls' are mutually exclusive/],
    ["both TLS flags, one from the environment", ["--email-use-ssl"], { PARSEC_EMAIL_USE_TLS: "1" }, /'--email-use-ssl' and '--email-use-tls' are mutually exclusive/],
    ["an SMTP host without sender", ["--email-host=smtp.example.com"], {}, /Missing setting '--email-sender' \(or environment variable PARSEC_EMAIL_SENDER\).*SMTP/],
    ["an SMTP host from the environment without sender", [], { PARSEC_EMAIL_HOST: "smtp.example.com" }, /Missing setting '--email-sender'/],
    ["a bad sender", [...SMTP, "--email-sender=Parsec <parsec@example.com>"], {}, /'--email-sender'.*not an email address/],
    ["a sender without domain", [], { PARSEC_EMAIL_SENDER: "parsec@" }, /'--email-sender' \(from PARSEC_EMAIL_SENDER\)/],
    ["a bad language", ["--email-language=de"], {}, /'--email-language'.*`de` is not one of en, fr/],
    ["a bad language from the environment", [], { PARSEC_EMAIL_LANGUAGE: "english" }, /'--email-language' \(from PARSEC_EMAIL_LANGUAGE\)/],
    ["a bad port", [...SMTP, "--email-port=0"], {}, /'--email-port'.*between 1 and 65535/],
    ["a bad port from the environment", SMTP, { PARSEC_EMAIL_PORT: "smtp" }, /'--email-port' \(from PARSEC_EMAIL_PORT\)/],
    ["a URL as host", ["--email-host=smtp://smtp.example.com", "--email-sender=a@b.c"], {}, /'--email-host'.*not a host name/],
    ["a user without password", [...SMTP, "--email-host-user=u"], {}, /'--email-host-password'.*together with --email-host-user/],
    ["a password without user", SMTP, { PARSEC_EMAIL_HOST_PASSWORD: "p" }, /'--email-host-user'.*together with --email-host-password/],
    ["a bad boolean", SMTP, { PARSEC_EMAIL_USE_SSL: "sure" }, /'--email-use-ssl' \(from PARSEC_EMAIL_USE_SSL\).*not a boolean/],
  ])("reject %s, naming the setting", (_, argv, env, message) => {
    expect(rejection([...REQUIRED, ...argv], env)).toMatch(message);
  });
});
