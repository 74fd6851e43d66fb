import { describe, expect, it } from "vitest";
import { authenticate, bootstrapOrganization, buildTestApp, deviceId, seedInvitation } from "../support/app.js";

describe("ping", () => {
  it("authenticated: answers the same string and publishes `pinged` with author and ping", async () => {
    const t = buildTestApp({ debug: true });
    const org = await bootstrapOrganization(t, "CoolOrg");
    const session = await authenticate(t, org);
    expect(await t.app.ping(session, "hello")).toEqual({ kind: "ok", pong: "hello" });
    expect(await t.app.ping(session, "")).toEqual({ kind: "ok", pong: "" });
    expect(t.published).toEqual([
      { type: "pinged", organizationId: org.organizationId, author: org.deviceId, ping: "hello" },
      { type: "pinged", organizationId: org.organizationId, author: org.deviceId, ping: "" },
    ]);
  });

  it("invited: answers the same string and publishes nothing", async () => {
    const t = buildTestApp({ debug: true });
    const org = await bootstrapOrganization(t, "CoolOrg");
    const invitation = await seedInvitation(t, org.organizationId, { greeterUserId: org.userId });
    const admitted = await t.app.admitInvited({
      organizationId: org.organizationId,
      invitationType: invitation.type,
      token: invitation.token,
      clientApiVersion: { major: 2, revision: 5 },
    });
    if (admitted.kind !== "ok") throw new Error(admitted.kind);
    expect(await t.app.ping(admitted.session, "héllo")).toEqual({ kind: "ok", pong: "héllo" });
    await t.events.idle();
    expect(t.published).toEqual([]);
  });

  it("answers before another session's subscription receives the ping, which it does once the bus is idle", async () => {
    const t = buildTestApp({ debug: true });
    const org = await bootstrapOrganization(t, "CoolOrg");
    const pinger = await authenticate(t, org);
    const listener = { ...pinger, deviceId: deviceId(`${org.userId}@dev2`) };
    await t.app.subscribeEvents(listener);
    const never = new AbortController().signal;
    expect(await t.app.ping(pinger, "hello")).toEqual({ kind: "ok", pong: "hello" });
    expect(await t.app.listenEvents(listener, false, never)).toEqual({ kind: "no_events" });
    await t.events.idle();
    expect(await t.app.listenEvents(listener, false, never)).toEqual({
      kind: "ok",
      event: { type: "pinged", organizationId: org.organizationId, author: org.deviceId, ping: "hello" },
    });
  });

  it("exposes the debug switch the transport uses to serve ping", () => {
    expect(buildTestApp({ debug: true }).app.config.debug).toBe(true);
    expect(buildTestApp().app.config.debug).toBe(false);
  });
});
