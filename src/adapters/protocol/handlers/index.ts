import { inviteClaimerHandlers, inviteGreeterHandlers } from "./invite.js";
import { messageHandlers } from "./message.js";
import { organizationBootstrap, organizationConfig, organizationStats } from "./organization.js";
import { authenticatedPing, invitedPing } from "./ping.js";
import type { HandlerTable } from "./types.js";
import { userHandlers } from "./user.js";
import { realmHandlers } from "./realm.js";
import { vlobHandlers } from "./vlob.js";
import { blockHandlers } from "./block.js";
import { eventHandlers } from "./events.js";

export type { Handler, HandlerContext, HandlerTable, SessionOf } from "./types.js";

/**
 * The commands served, per client family. `ping` is served only in debug mode, as in Parsec v2.16.3.
 * Commands of the schema without a handler here answer `unknown_command`.
 */
export const handlerTables = (options: { debug: boolean }) => ({
  authenticated: {
    organization_config: organizationConfig,
    organization_stats: organizationStats,
    ...userHandlers,
    ...inviteGreeterHandlers,
    ...messageHandlers,
    ...realmHandlers,
    ...vlobHandlers,
    ...blockHandlers,
    ...eventHandlers,
    ...(options.debug && { ping: authenticatedPing }),
  } satisfies HandlerTable<"authenticated"> as HandlerTable<"authenticated">,
  invited: {
    ...inviteClaimerHandlers,
    ...(options.debug && { ping: invitedPing }),
  } satisfies HandlerTable<"invited"> as HandlerTable<"invited">,
  anonymous: {
    organization_bootstrap: organizationBootstrap,
  } satisfies HandlerTable<"anonymous"> as HandlerTable<"anonymous">,
});
