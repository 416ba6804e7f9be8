import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, mavenJars } from "@mevlab/cli";
import { ROOT } from "./stack";

/**
 * A real S3-compatible server for export tests: s3proxy (Maven Central, org.gaul:s3proxy) with its
 * filesystem backend in a temporary folder, AWS signature v4, one access key. Jars are resolved once by
 * Maven into the mevlab cache, like the Kafka broker's.
 */
export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The backend folder: `<dir>/<bucket>/<key>`. */
  dir: string;
  stop(): Promise<void>;
}

const VERSION = "2.6.0";

function s3proxyJars(): string {
  return mavenJars({
    name: "s3proxy",
    version: VERSION,
    pom: join(ROOT, "e2e/s3proxy/pom.xml"),
    jarPrefix: "s3proxy-",
  });
}

export async function startS3Proxy(buckets: readonly string[] = []): Promise<S3Server> {
  const jars = s3proxyJars();
  const dir = mkdtempSync(join(tmpdir(), "mevlab-s3-"));
  const data = join(dir, "data");
  for (const b of buckets) mkdirSync(join(data, b), { recursive: true });
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = "mevlab-test";
  const secretAccessKey = "mevlab-test-secret";
  const props = join(dir, "s3proxy.conf");
  writeFileSync(
    props,
    [
      `s3proxy.endpoint=${endpoint}`,
      "s3proxy.authorization=aws-v2-or-v4",
      `s3proxy.identity=${accessKeyId}`,
      `s3proxy.credential=${secretAccessKey}`,
      "jclouds.provider=filesystem",
      `jclouds.filesystem.basedir=${data}`,
      "",
    ].join("\n"),
  );
  const proc: ChildProcess = spawn(
    "java",
    [
      `-Dlogback.configurationFile=${join(ROOT, "e2e/s3proxy/logback.xml")}`,
      "-cp",
      join(jars, "*"),
      "org.gaul.s3proxy.Main",
      "--properties",
      props,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`s3proxy exited ${proc.exitCode}: ${err}`);
    // Any HTTP answer (403 for an unsigned request) means it listens.
    const up = await fetch(endpoint, { signal: AbortSignal.timeout(1_000) }).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`s3proxy did not answer on ${endpoint} within 60 s: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region: "us-east-1",
    dir: data,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        await new Promise((r) => proc.once("exit", r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
