import type { ApplicationDeps } from "../deps.js";
import { getMessages } from "./get-messages.js";

export { postMessage } from "./post-message.js";

/** The message use cases. */
export const messageUseCases = (deps: ApplicationDeps) => ({
  getMessages: getMessages(deps),
});
