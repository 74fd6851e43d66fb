import { describe, expect, it } from "vitest";
import { userStatsFrom } from "../../src/domain/organization/index.js";

describe("userStatsFrom", () => {
  it("lists every profile in Parsec's order, 0 where none, and only user figures", () => {
    expect(userStatsFrom([{ profile: "OUTSIDER", active: 1, revoked: 2 }])).toEqual({
      dataSize: 0,
      metadataSize: 0,
      realms: 0,
      users: 3,
      activeUsers: 1,
      usersPerProfileDetail: [
        { profile: "ADMIN", active: 0, revoked: 0 },
        { profile: "STANDARD", active: 0, revoked: 0 },
        { profile: "OUTSIDER", active: 1, revoked: 2 },
      ],
    });
  });

  it("sums the counts of a profile that comes more than once (one entry per user)", () => {
    const stats = userStatsFrom([
      { profile: "STANDARD", active: 1, revoked: 0 },
      { profile: "ADMIN", active: 1, revoked: 0 },
      { profile: "STANDARD", active: 0, revoked: 1 },
      { profile: "STANDARD", active: 1, revoked: 0 },
    ]);
    expect(stats.users).toBe(4);
    expect(stats.activeUsers).toBe(3);
    expect(stats.usersPerProfileDetail).toEqual([
      { profile: "ADMIN", active: 1, revoked: 0 },
      { profile: "STANDARD", active: 2, revoked: 1 },
      { profile: "OUTSIDER", active: 0, revoked: 0 },
    ]);
  });
});
