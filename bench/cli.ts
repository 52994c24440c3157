/**
 * Small helpers the bench entry points share: `--key=value` flags and the
 * median. Owned by bench/; never imported by src/.
 */

/** `--key=value` / `--flag` arguments as a record; anything else is an error. */
export function parseFlags(argv = process.argv.slice(2)): Record<string, string> {
  return Object.fromEntries(
    argv.map((a) => {
      const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
      if (!m) throw new Error(`unknown argument ${a}`);
      return [m[1], m[2] ?? "true"];
    }),
  );
}

/** A numeric flag with its default. */
export function numFlag(args: Record<string, string>, key: string, dflt: number): number {
  return args[key] === undefined ? dflt : Number(args[key]);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
