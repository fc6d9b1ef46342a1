/**
 * Debian's chromium, headless, driven by `puppeteer-core`: a fresh profile per launch, stopped
 * by its pid. A missing chromium fails the test with the line that installs it.
 *
 * @module
 */
import puppeteer, { type Browser } from "puppeteer-core";

/** Where chromium is: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export const CHROMIUM_PATH = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/** A running headless chromium. */
export interface Chromium {
  /** The puppeteer browser. */
  browser: Browser;
  /** Closes it, kills the process if it lingers, removes the profile. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Launches chromium headless with a fresh profile.
 *
 * @returns The browser.
 * @throws {Error} When chromium is not installed (never a silent skip).
 */
export async function launchChromium(): Promise<Chromium> {
  try {
    await Deno.stat(CHROMIUM_PATH);
  } catch {
    throw new Error(
      `chromium not found at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "aqc-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    pipe: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${profile}`,
    ],
  });
  const pid = browser.process()?.pid;
  return {
    browser,
    async [Symbol.asyncDispose]() {
      try {
        await browser.close();
      } catch {
        // already gone
      }
      if (pid !== undefined) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // exited
        }
      }
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
