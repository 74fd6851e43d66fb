import { describe, expect, it } from "vitest";
import { MemoryEventBus } from "../../../src/adapters/events/memory/index.js";
import { createMemoryPersistence, MemoryUnitOfWork } from "../../../src/adapters/persistence/memory/index.js";
import type { BackendEvent } from "../../../src/application/ports/index.js";
import type { Organization } from "../../../src/domain/organization/index.js";
import type { Device, User } from "../../../src/domain/user/index.js";
import { DateTime } from "../../../src/domain/time.js";
import { deviceId, orgId, userId } from "../../support/app.js";

const A = orgId("OrgA");
const B = orgId("OrgB");
const NOW = DateTime.fromEpochMicroseconds(1_700_000_000_000_000);

/** Lets other pending work run (several macrotask turns). */
const yieldTurns = async (n = 3): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 1));
};

const organization = (id = A, overrides: Partial<Organization> = {}): Organization => ({
  id,
  bootstrapToken: "t0",
  isExpired: false,
  createdOn: NOW,
  bootstrappedOn: null,
  rootVerifyKey: null,
  userProfileOutsiderAllowed: true,
  activeUsersLimit: null,
  minimumArchivingPeriod: 0,
  sequesterAuthority: null,
  sequesterServicesCertificates: null,
  ...overrides,
});

const user: User = {
  userId: userId("alice"),
  humanHandle: null,
  profile: "ADMIN",
  publicKey: Buffer.alloc(32),
  userCertificate: Buffer.from("u"),
  redactedUserCertificate: Buffer.from("ru"),
  userCertifier: null,
  createdOn: NOW,
  revokedOn: null,
  revokedUserCertificate: null,
  revokedUserCertifier: null,
};
const device: Device = {
  deviceId: deviceId("alice@dev1"),
  deviceLabel: null,
  verifyKey: Buffer.alloc(32),
  deviceCertificate: Buffer.from("d"),
  redactedDeviceCertificate: Buffer.from("rd"),
  deviceCertifier: null,
  createdOn: NOW,
};

describe("MemoryUnitOfWork: serialisation", () => {
  it("never interleaves two runs on one organization", async () => {
    const uow = new MemoryUnitOfWork();
    const log: string[] = [];
    const work = (name: string) => async () => {
      log.push(`${name}:start`);
      await yieldTurns();
      log.push(`${name}:end`);
      return name;
    };
    const results = await Promise.all([uow.run(A, work("1")), uow.run(A, work("2")), uow.run(A, work("3"))]);
    expect(results).toEqual(["1", "2", "3"]);
    expect(log).toEqual(["1:start", "1:end", "2:start", "2:end", "3:start", "3:end"]);
  });

  it("interleaves runs on two organizations", async () => {
    const uow = new MemoryUnitOfWork();
    const log: string[] = [];
    const work = (name: string) => async () => {
      log.push(`${name}:start`);
      await yieldTurns();
      log.push(`${name}:end`);
    };
    await Promise.all([uow.run(A, work("a")), uow.run(B, work("b"))]);
    expect(log.slice(0, 2).sort()).toEqual(["a:start", "b:start"]);
  });

  it("keeps a read-modify-write counter exact under 100 concurrent runs", async () => {
    const uow = new MemoryUnitOfWork();
    let counter = 0;
    await Promise.all(
      Array.from({ length: 100 }, () =>
        uow.run(A, async () => {
          const read = counter;
          await Promise.resolve();
          await yieldTurns(1);
          counter = read + 1;
        }),
      ),
    );
    expect(counter).toBe(100);
  });

  it("releases the organization after a failed run, and rejects with the work's error", async () => {
    const uow = new MemoryUnitOfWork();
    const failing = uow.run(A, async () => {
      await yieldTurns(1);
      throw new Error("boom");
    });
    const next = uow.run(A, async () => "after");
    await expect(failing).rejects.toThrow("boom");
    await expect(next).resolves.toBe("after");
  });

  it("releases the organization after a work that throws synchronously", async () => {
    const uow = new MemoryUnitOfWork();
    await expect(
      uow.run(A, (() => {
        throw new Error("sync");
      }) as never),
    ).rejects.toThrow("sync");
    await expect(uow.run(A, async () => 1)).resolves.toBe(1);
  });
});

describe("MemoryUnitOfWork: rollback of journaled changes", () => {
  it("an organization created then an exception: not stored", async () => {
    const p = createMemoryPersistence(() => NOW);
    await expect(
      p.uow.run(A, async (tx) => {
        expect(await p.organizations.create(tx, organization())).toBe("ok");
        expect(await p.organizations.get(A)).not.toBeNull();
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await p.organizations.get(A)).toBeNull();
    expect(await p.organizations.list()).toEqual([]);
  });

  it("a replaced organization is restored, undo steps applied in reverse order", async () => {
    const p = createMemoryPersistence(() => NOW);
    const original = organization(A, { bootstrapToken: "t0" });
    await p.uow.run(A, (tx) => p.organizations.create(tx, original));
    await expect(
      p.uow.run(A, async (tx) => {
        await p.organizations.replaceNotBootstrapped(tx, organization(A, { bootstrapToken: "t1" }));
        await p.organizations.update(tx, A, { activeUsersLimit: 3 });
        await p.organizations.replaceNotBootstrapped(tx, organization(A, { bootstrapToken: "t2" }));
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await p.organizations.get(A)).toEqual(original);
  });

  it("a user created then an exception: neither user nor device stored", async () => {
    const p = createMemoryPersistence(() => NOW);
    await p.uow.run(A, (tx) => p.organizations.create(tx, organization()));
    await expect(
      p.uow.run(A, async (tx) => {
        expect(await p.users.create(tx, A, user, device)).toBe("ok");
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect((await p.users.getAuthentication(A, device.deviceId))?.device).toBeNull();
    expect(p.store.organizations.get(A)!.users.size).toBe(0);
    expect(p.store.organizations.get(A)!.devices.size).toBe(0);
  });

  it("a committed run keeps its changes", async () => {
    const p = createMemoryPersistence(() => NOW);
    await p.uow.run(A, async (tx) => {
      await p.organizations.create(tx, organization());
      await p.users.create(tx, A, user, device);
    });
    expect((await p.users.getAuthentication(A, device.deviceId))?.device).toEqual({ user, device });
  });
});

describe("MemoryUnitOfWork + MemoryEventBus: delivery after commit", () => {
  const collect = (bus: MemoryEventBus, org = A) => {
    const received: BackendEvent[] = [];
    bus.subscribe(org, { event: (e) => received.push(e) });
    return received;
  };

  it("delivers tx-published events only once the run has committed, on a later turn of the event loop", async () => {
    const uow = new MemoryUnitOfWork();
    const bus = new MemoryEventBus();
    const received = collect(bus);
    const event: BackendEvent = { type: "organization.expired", organizationId: A };
    const run = uow.run(A, async (tx) => {
      await bus.publish(tx, event);
      await yieldTurns();
      expect(received).toEqual([]);
      return "done";
    });
    expect(received).toEqual([]);
    await expect(run).resolves.toBe("done");
    expect(received).toEqual([]);
    await bus.idle();
    expect(received).toEqual([event]);
  });

  it("never delivers events of a rolled-back run", async () => {
    const uow = new MemoryUnitOfWork();
    const bus = new MemoryEventBus();
    const received = collect(bus);
    await expect(
      uow.run(A, async (tx) => {
        await bus.publish(tx, { type: "organization.expired", organizationId: A });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await bus.idle();
    await yieldTurns();
    expect(received).toEqual([]);
  });

  it("delivers in commit order: events without a transaction when published, a transaction's at its commit", async () => {
    const uow = new MemoryUnitOfWork();
    const bus = new MemoryEventBus();
    const received: string[] = [];
    bus.subscribe(A, { event: (e) => received.push(e.type === "pinged" ? e.ping : e.type) });
    const ping = (p: string): BackendEvent => ({ type: "pinged", organizationId: A, author: device.deviceId, ping: p });
    await uow.run(A, async (tx) => {
      await bus.publish(tx, ping("1"));
      await bus.publishNow(ping("now"));
      expect(received).toEqual([]);
      await bus.publish(tx, ping("2"));
    });
    await bus.idle();
    expect(received).toEqual(["now", "1", "2"]);
  });

  it("resolves idle() at once when nothing is queued, and after delivery otherwise", async () => {
    const bus = new MemoryEventBus();
    await bus.idle();
    const received = collect(bus);
    const event: BackendEvent = { type: "organization.expired", organizationId: A };
    await bus.publishNow(event);
    const idle = bus.idle();
    expect(received).toEqual([]);
    await idle;
    expect(received).toEqual([event]);
  });

  it("hands every committed event to onCommitted synchronously, before any subscriber", async () => {
    const uow = new MemoryUnitOfWork();
    const seen: string[] = [];
    const bus = new MemoryEventBus(undefined, (e) => seen.push(`committed:${e.type}`));
    bus.subscribe(A, { event: (e) => seen.push(`delivered:${e.type}`) });
    await uow.run(A, async (tx) => {
      await bus.publish(tx, { type: "organization.expired", organizationId: A });
      expect(seen).toEqual([]);
    });
    expect(seen).toEqual(["committed:organization.expired"]);
    await bus.idle();
    expect(seen).toEqual(["committed:organization.expired", "delivered:organization.expired"]);
  });

  it("never signals a gap", async () => {
    const bus = new MemoryEventBus();
    let gaps = 0;
    bus.subscribe(A, { event: () => {}, gap: () => (gaps += 1) });
    for (let i = 0; i < 10; i++) await bus.publishNow({ type: "organization.expired", organizationId: A });
    await bus.idle();
    expect(gaps).toBe(0);
  });

  it("commit callbacks of a run fire before the next run on the organization starts", async () => {
    const uow = new MemoryUnitOfWork();
    const log: string[] = [];
    await Promise.all([
      uow.run(A, async (tx) => {
        tx.onCommit(() => log.push("1:committed"));
        await yieldTurns(1);
      }),
      uow.run(A, async () => {
        log.push("2:start");
      }),
    ]);
    expect(log).toEqual(["1:committed", "2:start"]);
  });

  it("a throwing commit callback neither undoes the committed changes nor stops the other callbacks", async () => {
    const p = createMemoryPersistence(() => NOW);
    const log: string[] = [];
    const run = p.uow.run(A, async (tx) => {
      await p.organizations.create(tx, organization());
      tx.onCommit(() => {
        throw new Error("callback");
      });
      tx.onCommit(() => log.push("second"));
      return "done";
    });
    await expect(run).rejects.toThrow("callback");
    expect(await p.organizations.get(A)).toEqual(organization());
    expect(log).toEqual(["second"]);
    await expect(p.uow.run(A, async () => "next")).resolves.toBe("next");
  });

  it("isolates a failing subscriber from the others and reports it with the event", async () => {
    const errors: [unknown, BackendEvent][] = [];
    const bus = new MemoryEventBus((err, event) => errors.push([err, event]));
    const received: BackendEvent[] = [];
    bus.subscribe(A, {
      event: () => {
        throw new Error("subscriber");
      },
    });
    const unsubscribe = bus.subscribe(A, { event: (e) => received.push(e) });
    const event: BackendEvent = { type: "organization.expired", organizationId: A };
    await bus.publishNow(event);
    await bus.idle();
    expect(received).toEqual([event]);
    expect(errors).toHaveLength(1);
    expect(errors[0]![1]).toEqual(event);
    unsubscribe();
    unsubscribe();
    await bus.publishNow(event);
    await bus.idle();
    expect(received).toEqual([event]);
    expect(errors).toHaveLength(2);
  });

  it("delivers the events of one organization to its subscribers only", async () => {
    const bus = new MemoryEventBus();
    const [a, b] = [collect(bus, A), collect(bus, B)];
    await bus.publishNow({ type: "organization.expired", organizationId: B });
    await bus.idle();
    expect(a).toEqual([]);
    expect(b).toEqual([{ type: "organization.expired", organizationId: B }]);
  });
});
