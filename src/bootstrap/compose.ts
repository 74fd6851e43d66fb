import type { Logger } from "pino";
import type { BackendSettings } from "./settings.js";

/**
 * Builds every adapter from `settings` and starts the server.
 * Placeholder until the composition root is written: always rejects.
 */
export function startBackend(settings: BackendSettings, deps: { logger: Logger }): Promise<{ readonly port: number; stop(): Promise<void> }> {
  void settings;
  void deps;
  return Promise.reject(new Error("not implemented"));
}
