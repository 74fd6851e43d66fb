/**
 * The outcome of a validation that can fail: either the value, or a human-readable reason.
 * Smart constructors return it instead of throwing on bad input.
 */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Builds a successful {@link Parsed}. */
export const parsed = <T>(value: T): Parsed<T> => ({ ok: true, value });

/** Builds a failed {@link Parsed} carrying `error` as its reason. */
export const invalid = <T = never>(error: string): Parsed<T> => ({ ok: false, error });
