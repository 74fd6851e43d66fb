export { EVENT_CHANNEL, listenApplicationName, PostgresEventBus } from "./event-bus.js";
export type { Executor, PostgresEventBusDeps, PostgresEventBusOptions } from "./event-bus.js";
