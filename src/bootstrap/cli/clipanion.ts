/**
 * clipanion, loaded through its CommonJS entry: its ES build imports a directory (`./platform`), which Node's ESM
 * resolver refuses whenever a bundler-aware loader such as Vite picks the package's `module` field.
 */
export { Builtins, Cli, Command, Option } from "clipanion/lib/advanced/index.js";
export type { BaseContext } from "clipanion/lib/advanced/index.js";
