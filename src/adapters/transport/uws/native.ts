import { createRequire } from "node:module";
import type * as UwsTypes from "uWebSockets.js";

/** The uWebSockets.js module type. */
export type Uws = typeof UwsTypes;

/**
 * Loads uWebSockets.js and refuses its pure-JavaScript fallback: the package silently falls back
 * to an emulation (without `SSLApp`, `getParts` and the libus constants) when its native binary
 * does not match this Node.js build.
 * @throws Error naming the Node.js ABI when the native binary is not the one loaded.
 */
export const loadNativeUws = (): Uws => {
  const require = createRequire(import.meta.url);
  if (/^(1|true)$/i.test(process.env.UWS_USE_FALLBACK ?? ""))
    throw new Error("uWebSockets.js: UWS_USE_FALLBACK is set; refusing to run on the slow JavaScript fallback");
  const originalWarn = console.warn;
  const warnings: string[] = [];
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
  let uws: Uws;
  try {
    uws = require("uWebSockets.js") as Uws;
  } finally {
    console.warn = originalWarn;
  }
  const native = typeof uws.SSLApp === "function" && typeof (uws as { getParts?: unknown }).getParts === "function";
  if (!native || warnings.length > 0)
    throw new Error(
      `uWebSockets.js native binary did not load for Node.js ${process.version} (ABI ${process.versions.modules}, ${process.platform}-${process.arch})` +
        (warnings.length ? `: ${warnings.join(" ").trim()}` : ""),
    );
  return uws;
};
