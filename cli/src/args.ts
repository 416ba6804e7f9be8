/** `--name value` and `--flag` options after a sub-command; unknown options are an error. */
export function parseArgs(
  argv: readonly string[],
  spec: Record<string, "string" | "boolean">,
): Record<string, string | boolean | undefined> {
  const out: Record<string, string | boolean | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument '${a}'`);
    const [name, inline] = a.slice(2).split("=", 2);
    const kind = spec[name];
    if (!kind)
      throw new Error(
        `unknown option --${name}; known: ${Object.keys(spec)
          .map((k) => `--${k}`)
          .join(" ")}`,
      );
    if (kind === "boolean") out[name] = true;
    else {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`--${name} needs a value`);
      out[name] = v;
    }
  }
  return out;
}

export function intOption(v: string | boolean | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got '${String(v)}'`);
  return n;
}
