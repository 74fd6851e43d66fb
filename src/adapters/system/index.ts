export { SystemClock } from "./clock.js";
export { CryptoRandom } from "./random.js";
