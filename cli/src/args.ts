import { parseArgs as parseNodeArgs } from "node:util";

/**
 * `--name value`, `--name=value` and `--flag` options after a sub-command, parsed by node:util; an
 * unknown option, a positional argument or a missing value is an error that names what is known.
 */
export function parseArgs(
  argv: readonly string[],
  spec: Record<string, "string" | "boolean">,
): Record<string, string | boolean | undefined> {
  const options = Object.fromEntries(Object.entries(spec).map(([name, type]) => [name, { type }]));
  try {
    return parseNodeArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const known = Object.keys(spec)
      .map((k) => `--${k}`)
      .join(" ");
    throw new Error(`${(err as Error).message.split(". ")[0]}; known options: ${known || "none"}`, { cause: err });
  }
}

export function intOption(v: string | boolean | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got '${String(v)}'`);
  return n;
}
