import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../kafka/broker";

export const CLICKHOUSE_SERVER = process.env.MEVLAB_CLICKHOUSE_SERVER ?? "/usr/sbin/clickhouse-server";

export interface ClickHouseServer {
  /** http://user:password@127.0.0.1:port/database, as CLICKHOUSE_URL takes it. */
  url: (database?: string) => string;
  httpPort: number;
  user: string;
  password: string;
  dir: string;
  query(sql: string): Promise<string>;
  /** Stops it (SIGTERM); data stays in `dir` for start(). */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data. */
  start(): Promise<void>;
}

/**
 * Starts a private clickhouse-server (Debian's package) on free loopback ports with its data in a
 * temporary folder and one password user; resolves when it answers queries.
 */
export async function startClickHouse(opts: { log?: (line: string) => void } = {}): Promise<ClickHouseServer> {
  if (!existsSync(CLICKHOUSE_SERVER)) {
    throw new Error(`${CLICKHOUSE_SERVER} not found: install it with 'apt-get install clickhouse-server'`);
  }
  const dir = mkdtempSync(join(tmpdir(), "mevlab-clickhouse-"));
  const [httpPort, tcpPort, interPort] = [await freePort(), await freePort(), await freePort()];
  const user = "mevlab";
  const password = randomBytes(9).toString("base64url");
  for (const d of ["data", "tmp", "user_files", "format_schemas"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(
    join(dir, "config.xml"),
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <interserver_http_port>${interPort}</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>53687091</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
</yandex>
`,
  );
  writeFileSync(
    join(dir, "users.xml"),
    `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <${user}>
      <password>${password}</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </${user}>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`,
  );
  const log = opts.log ?? (() => undefined);
  let child: ChildProcess | undefined;
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const query = async (sql: string): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/`, {
      method: "POST",
      headers: { authorization: auth },
      body: sql,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`ClickHouse ${res.status}: ${text.trim()}`);
    return text;
  };
  const start = async (): Promise<void> => {
    child = spawn(CLICKHOUSE_SERVER, [`--config-file=${join(dir, "config.xml")}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (b: Buffer): void => {
      output = (output + b.toString()).slice(-4000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    const until = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`clickhouse-server exited (${child.exitCode}): ${output}`);
      try {
        await query("SELECT 1");
        log(`clickhouse-server ready on 127.0.0.1:${httpPort}`);
        return;
      } catch {
        if (Date.now() > until) throw new Error(`clickhouse-server not ready after 60 s: ${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    const timer = setTimeout(() => c.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    url: (database = "mevlab") => `http://${user}:${encodeURIComponent(password)}@127.0.0.1:${httpPort}/${database}`,
    httpPort,
    user,
    password,
    dir,
    query,
    stop,
    start,
  };
}
