import { isIPv6 } from "node:net";
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

const ADDRESS_PART = /^[^\s@<>()[\]\\,;:"]+$/;

/** Reads a bare email address `local@domain` (no display name, no angle brackets, no whitespace). */
export function parseEmailAddress(raw: string): Parsed<string> {
  const value = raw.trim();
  const at = value.lastIndexOf("@");
  const [local, domain] = [value.slice(0, at), value.slice(at + 1)];
  return at > 0 && ADDRESS_PART.test(local) && ADDRESS_PART.test(domain) && !domain.startsWith(".") && !domain.endsWith(".")
    ? parsed(value)
    : invalid(`\`${raw}\` is not an email address such as \`parsec@example.com\``);
}

/** Reads a host name or IP address: no scheme, user, port or whitespace (an IPv6 address may be bracketed). */
export function parseHostName(raw: string): Parsed<string> {
  const value = raw.trim();
  const bare = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  if (/^[A-Za-z0-9.-]+$/.test(bare) || isIPv6(bare)) return parsed(bare);
  return invalid(`\`${raw}\` is not a host name or IP address`);
}
