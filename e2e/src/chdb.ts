import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./stack";

/**
 * ClickHouse's engine (chDB, in the project venv) behind the minimal HTTP front in
 * kernel-helpers/test/chdb/ch_http.py — a modern engine for the ArrowStream and query-parameter paths,
 * which Debian's clickhouse-server 18.16 predates. Not a server: one engine, one request at a time.
 */
export interface ChdbHttp {
  url(database?: string): string;
  stop(): Promise<void>;
}

export async function startChdbHttp(): Promise<ChdbHttp> {
  const dir = mkdtempSync(join(tmpdir(), "mevlab-chdb-http-"));
  const python = join(ROOT, ".venv/bin/python");
  const proc: ChildProcess = spawn(
    python,
    [join(ROOT, "kernel-helpers/test/chdb/ch_http.py"), dir, "mevlab", "s3cret pw"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    proc.once("exit", (code) =>
      reject(new Error(`chDB HTTP front exited ${code}: ${err} (is chDB installed? scripts/setup.sh --data)`)),
    );
  });
  return {
    url: (database = "mevlab") => `http://mevlab:${encodeURIComponent("s3cret pw")}@127.0.0.1:${port}/${database}`,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        await new Promise((r) => proc.once("exit", r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
