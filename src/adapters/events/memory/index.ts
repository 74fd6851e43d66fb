export { MemoryEventBus } from "./event-bus.js";
