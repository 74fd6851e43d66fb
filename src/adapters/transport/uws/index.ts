export { startUwsServer, DEFAULT_LIMITS, type UwsServerOptions, type RunningServer, type TransportLimits } from "./server.js";
export type { WebSocketLimits } from "./websocket.js";
export type { WireEngine, HandshakeStep, CommandStep, AnonymousStep } from "../../protocol/engine-types.js";
export { loadNativeUws } from "./native.js";
