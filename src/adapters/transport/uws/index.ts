export { startUwsServer, DEFAULT_LIMITS, type UwsServerOptions, type RunningServer } from "./server.js";
export type { WireEngine, HandshakeStep, CommandStep, AnonymousStep } from "../../protocol/engine-types.js";
export { loadNativeUws } from "./native.js";
