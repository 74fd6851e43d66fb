import type { ApplicationDeps } from "./deps.js";
import { createOrganization, getOrganization, organizationStats, patchOrganization, serverStats } from "./organization/administration.js";
import { bootstrapOrganization } from "./organization/bootstrap.js";
import { organizationConfig } from "./organization/config.js";
import { inviteUseCases } from "./invite/index.js";
import { messageUseCases } from "./message/index.js";
import { ping } from "./ping/ping.js";
import { userUseCases } from "./user/index.js";
import { realmUseCases } from "./realm/index.js";
import { vlobUseCases } from "./vlob/index.js";
import { blockUseCases } from "./block/index.js";
import { eventUseCases } from "./events/index.js";
import { admitInvited, authenticateDevice, checkSessionValidity } from "./session/handshake.js";

export type { ApplicationConfig, ApplicationDeps } from "./deps.js";
export type * from "./session/session.js";
export type { HandshakeFailure, AuthenticatedAnswer, InvitedAnswer, SessionValidity } from "./session/handshake.js";
export type { CreateOrganizationInput, CreateOrganizationOutcome } from "./organization/administration.js";
export type { BootstrapOrganizationInput, BootstrapOrganizationOutcome } from "./organization/bootstrap.js";

/** Every use case, bound to its ports: what driving adapters (transports, CLI tools, tests) call. */
export const createApplication = (deps: ApplicationDeps) => ({
  config: deps.config,
  events: deps.events,
  clock: deps.clock,
  random: deps.random,
  createOrganization: createOrganization(deps),
  getOrganization: getOrganization(deps),
  patchOrganization: patchOrganization(deps),
  organizationStats: organizationStats(deps),
  serverStats: serverStats(deps),
  organizationConfig: organizationConfig(deps),
  bootstrapOrganization: bootstrapOrganization(deps),
  authenticateDevice: authenticateDevice(deps),
  admitInvited: admitInvited(deps),
  checkSessionValidity: checkSessionValidity(deps),
  ping: ping(deps),
  ...userUseCases(deps),
  ...inviteUseCases(deps),
  ...messageUseCases(deps),
  ...realmUseCases(deps),
  ...vlobUseCases(deps),
  ...blockUseCases(deps),
  ...eventUseCases(deps),
});

/** The application as driving adapters see it. */
export type Application = ReturnType<typeof createApplication>;
