import type { ApplicationDeps } from "../deps.js";

/** The event subscription use cases (`events_subscribe`, `events_listen`). */
export const eventUseCases = (deps: ApplicationDeps) => {
  void deps;
  return {};
};
