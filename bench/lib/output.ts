/**
 * How a scenario script hands its result to the runner: `--out <file>` writes JSON there,
 * otherwise it is printed on stdout.
 *
 * @module
 */

/**
 * Writes a scenario's result where the command line says.
 *
 * @param result The result (JSON-serialisable).
 */
export async function writeResult(result: unknown): Promise<void> {
  const at = Deno.args.indexOf("--out");
  const text = JSON.stringify(result, null, 2);
  if (at !== -1 && Deno.args[at + 1]) await Deno.writeTextFile(Deno.args[at + 1], text);
  else console.log(text);
}
