import { randomBytes } from "node:crypto";
import type { RandomSource } from "../../application/ports/index.js";

/** Randomness from the operating system's CSPRNG. */
export class CryptoRandom implements RandomSource {
  bytes(size: number): Buffer {
    return randomBytes(size);
  }
}
