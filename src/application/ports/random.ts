/** Source of cryptographically secure randomness. */
export interface RandomSource {
  /** `size` random bytes. */
  bytes(size: number): Buffer;
}
