/**
 * `deno task keygen`: a new gateway caller key with its `AQC_GATEWAY_KEYS` entry, and a
 * new `AQC_TOKEN_KEY`.
 *
 * @module
 */
import { generateGatewayKey, generateTokenKey } from "../src/gateway/mod.ts";

const HELP = `Usage: deno task keygen [--id NAME] [--offices NCE1A0955,DELAI08AA]

Prints a new gateway caller key (give it to the caller, keep it secret), the
AQC_GATEWAY_KEYS entry that admits it (only its SHA-256), and a fresh AQC_TOKEN_KEY
(base64url of 32 random bytes) for sealing tokens in Upstash.

Options:
  --id NAME        name of the key in logs (default: web)
  --offices LIST   comma-separated offices the key may call (default: * = all)
  --help           show this help`;

function option(name: string): string | undefined {
  const at = Deno.args.indexOf(name);
  return at === -1 ? undefined : Deno.args[at + 1];
}

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(HELP);
} else {
  const id = option("--id") ?? "web";
  const offices = (option("--offices") ?? "*").split(",").map((o) => o.trim().toUpperCase())
    .filter((o) => o !== "");
  const { key, entry } = await generateGatewayKey(id, offices);
  console.log(`# Gateway key for "${id}" (give to the caller; shown once):`);
  console.log(key);
  console.log(`\n# AQC_GATEWAY_KEYS (append the entry to the JSON array):`);
  console.log(`AQC_GATEWAY_KEYS='${JSON.stringify([entry])}'`);
  console.log(`\n# AQC_TOKEN_KEY (seals tokens in Upstash; same value on every deployment):`);
  console.log(`AQC_TOKEN_KEY=${generateTokenKey()}`);
}
