import { describe, expect, it } from "vitest";
import { formatBackendAddr, invitationUrl, parseBackendAddr } from "../../src/domain/backend-addr.js";
import type { InvitationToken, OrganizationID } from "../../src/domain/ids.js";
import { SUPPORTED_API_VERSIONS, formatApiVersion, parseApiVersion, settleApiVersion } from "../../src/domain/handshake/index.js";

describe("BackendAddr", () => {
  it("parses parsec:// addresses, dropping default ports", () => {
    expect(parseBackendAddr("parsec://parsec.example.com")).toEqual({ ok: true, value: { hostname: "parsec.example.com", port: null, useSsl: true } });
    expect(parseBackendAddr("parsec://localhost:6777?no_ssl=true")).toEqual({ ok: true, value: { hostname: "localhost", port: 6777, useSsl: false } });
    expect(parseBackendAddr("parsec://h:443")).toEqual({ ok: true, value: { hostname: "h", port: null, useSsl: true } });
    expect(parseBackendAddr("parsec://h:80?no_ssl=true")).toEqual({ ok: true, value: { hostname: "h", port: null, useSsl: false } });
  });

  it.each(["https://h", "parsec://h/Org", "parsec://h?no_ssl=maybe", "parsec://h?no_ssl=true&no_ssl=false", "not a url"])("refuses %s", (raw) => {
    expect(parseBackendAddr(raw).ok).toBe(false);
  });

  it("formats server and invitation URLs as Parsec clients expect", () => {
    const addr = { hostname: "localhost", port: 6777, useSsl: false };
    expect(formatBackendAddr(addr)).toBe("parsec://localhost:6777?no_ssl=true");
    expect(invitationUrl(addr, "CoolOrg" as OrganizationID, "USER", "9931e631856a44709c825d7f7d339197" as InvitationToken)).toBe(
      "parsec://localhost:6777/CoolOrg?no_ssl=true&action=claim_user&token=9931e631856a44709c825d7f7d339197",
    );
    expect(invitationUrl({ hostname: "p.example.com", port: null, useSsl: true }, "O" as OrganizationID, "DEVICE", "00" as InvitationToken)).toBe(
      "parsec://p.example.com/O?action=claim_device&token=00",
    );
  });
});

describe("API versions", () => {
  it("settles on the supported version of the client's major, and refuses other majors", () => {
    expect(SUPPORTED_API_VERSIONS.map(formatApiVersion)).toEqual(["2.10", "3.4"]);
    expect(settleApiVersion({ major: 2, revision: 5 })).toEqual({ major: 2, revision: 10 });
    expect(settleApiVersion({ major: 3, revision: 99 })).toEqual({ major: 3, revision: 4 });
    expect(settleApiVersion({ major: 1, revision: 3 })).toBeNull();
    expect(settleApiVersion({ major: 4, revision: 0 })).toBeNull();
  });

  it("parses the Api-Version header form", () => {
    expect(parseApiVersion("3.0")).toEqual({ major: 3, revision: 0 });
    expect(parseApiVersion("x")).toBeNull();
    expect(parseApiVersion("3")).toBeNull();
  });
});
