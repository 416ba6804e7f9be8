/** Polls `ok` until it holds or `timeoutMs` has passed; says whether it held. */
export async function waitUntil(ok: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ok()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Polls `ok` until it holds; throws, naming what was awaited, after `timeoutMs`. */
export async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  if (!(await waitUntil(ok, timeoutMs))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
