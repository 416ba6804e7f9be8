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
  const ports: Ports = { http: await freePort(), tcp: await freePort(), interserver: await freePort() };
  const user = "mevlab";
  const password = randomBytes(9).toString("base64url");
  writeConfig(dir, ports, user, password);
  const log = opts.log ?? (() => undefined);
  const query = httpQuery(ports.http, user, password);
  let run: ServerRun | undefined;
  const start = async (): Promise<void> => {
    run = new ServerRun(join(dir, "config.xml"));
    await run.untilReady(query);
    log(`clickhouse-server ready on 127.0.0.1:${ports.http}`);
  };
  const stop = async (): Promise<void> => run?.stop();
  await start();
  return {
    url: (database = "mevlab") => `http://${user}:${encodeURIComponent(password)}@127.0.0.1:${ports.http}/${database}`,
    httpPort: ports.http,
    user,
    password,
    dir,
    query,
    stop,
    start,
  };
}

interface Ports {
  http: number;
  tcp: number;
  interserver: number;
}

/** The server's config.xml (loopback ports, everything under `dir`) and users.xml (one password user). */
function writeConfig(dir: string, ports: Ports, user: string, password: string): void {
  for (const d of ["data", "tmp", "user_files", "format_schemas"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(
    join(dir, "config.xml"),
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <http_port>${ports.http}</http_port>
  <tcp_port>${ports.tcp}</tcp_port>
  <interserver_http_port>${ports.interserver}</interserver_http_port>
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
}

/** A query over the HTTP interface, as the server's user; its text answer, or an error with ClickHouse's. */
function httpQuery(httpPort: number, user: string, password: string): (sql: string) => Promise<string> {
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  return async (sql) => {
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
}

/** One run of the server process; the end of its output says why, if it exits or never answers. */
class ServerRun {
  private readonly child: ChildProcess;
  private output = "";

  constructor(configFile: string) {
    this.child = spawn(CLICKHOUSE_SERVER, [`--config-file=${configFile}`], { stdio: ["ignore", "pipe", "pipe"] });
    const keep = (b: Buffer): void => {
      this.output = (this.output + b.toString()).slice(-4000);
    };
    this.child.stdout!.on("data", keep);
    this.child.stderr!.on("data", keep);
  }

  /** Resolves once `SELECT 1` answers; throws if the process exits or 60 s pass first. */
  async untilReady(query: (sql: string) => Promise<string>): Promise<void> {
    const until = Date.now() + 60_000;
    for (;;) {
      if (this.child.exitCode !== null) {
        throw new Error(`clickhouse-server exited (${this.child.exitCode}): ${this.output}`);
      }
      try {
        await query("SELECT 1");
        return;
      } catch {
        if (Date.now() > until) throw new Error(`clickhouse-server not ready after 60 s: ${this.output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** SIGTERM, then SIGKILL after 20 s; resolves when the process has exited. */
  async stop(): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    const timer = setTimeout(() => c.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
  }
}
