// The dataset jobs journal: a snapshot torn by a crash is cut off at the next start (before, it was
// skipped but left in place, and the next snapshot was appended to it, a bad line for good); a bad
// line before the last refuses with file:line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataSource } from "@mevlab/kernel-helpers";
import { JobSchema, create, toWireJson } from "@mevlab/proto";
import { JobRunner } from "../src/datasets/jobs";

const snapshot = (id: string) =>
  JSON.stringify({
    job: toWireJson(
      JobSchema,
      create(JobSchema, { id, kind: "dataset_export", state: "succeeded", createdBy: "ops", createdAt: 1n }),
    ),
  });

function runner(dir: string, logged: string[] = []): JobRunner {
  return new JobRunner({
    file: join(dir, "jobs", "jobs.jsonl"),
    source: new DataSource({ dataDir: dir, clickhouseUrl: "" }),
    allowedRoots: [join(dir, "exports")],
    onChange: () => undefined,
    log: (l) => logged.push(l),
  });
}

test("regression: a torn last job snapshot is cut off at start and the file named", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mevlab-jobs-"));
  await runner(dir).close();
  const file = join(dir, "jobs", "jobs.jsonl");
  writeFileSync(file, `${snapshot("job-a")}\n${snapshot("job-b")}\n`);
  appendFileSync(file, snapshot("job-c").slice(0, 40));
  const logged: string[] = [];
  const jobs = runner(dir, logged);
  assert.deepEqual(
    jobs
      .list()
      .map((j) => j.id)
      .sort(),
    ["job-a", "job-b"],
  );
  await jobs.close();
  assert.equal(readFileSync(file, "utf8"), `${snapshot("job-a")}\n${snapshot("job-b")}\n`, "the torn line is gone");
  assert.match(logged.join("\n"), new RegExp(`${file}:3: dropped a torn last line \\(40 bytes, no newline\\)`));

  writeFileSync(file, `${snapshot("job-a")}\n${snapshot("job-c").slice(0, 40)}\n${snapshot("job-b")}\n`);
  assert.throws(() => runner(dir), { message: `${file}:2: not valid JSON (only the last line may be torn)` });
});
