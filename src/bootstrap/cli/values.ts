import { invalid, parsed, type Parsed } from "../../domain/result.js";

const TRUE = new Set(["1", "true", "t", "yes", "y", "on"]);
const FALSE = new Set(["0", "false", "f", "no", "n", "off"]);

/** Reads a boolean environment value: `1/0`, `true/false`, `t/f`, `yes/no`, `y/n`, `on/off`, any case. */
export function parseBoolean(raw: string): Parsed<boolean> {
  const value = raw.trim().toLowerCase();
  if (TRUE.has(value)) return parsed(true);
  if (FALSE.has(value)) return parsed(false);
  return invalid(`\`${raw}\` is not a boolean (use true/false, 1/0, yes/no or on/off)`);
}

/** Reads a base-10 integer within `[min, max]`; signs, decimals and exponents are rejected. */
export function parseInteger(raw: string, min: number, max: number): Parsed<number> {
  const value = raw.trim();
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    return invalid(`\`${raw}\` is not an integer between ${min} and ${max}`);
  }
  return parsed(Number(value));
}

/** Reads one of `choices`, case-insensitively; returns the choice as spelt in `choices`. */
export function parseChoice<C extends string>(raw: string, choices: readonly C[]): Parsed<C> {
  const found = choices.find((choice) => choice.toUpperCase() === raw.trim().toUpperCase());
  return found === undefined ? invalid(`\`${raw}\` is not one of ${choices.join(", ")}`) : parsed(found);
}
