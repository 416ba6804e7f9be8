// Self time per function and per script of a V8 CPU profile (CDP Profiler.stop, or a .cpuprofile file).

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    hitCount?: number;
  }[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  name: string;
  ms: number;
  pct: number;
}

/** Self time (ms) per profile node, from the samples and their time deltas. */
function selfMsByNode(profile: CpuProfile): Map<number, number> {
  const ms = new Map<number, number>();
  const { samples = [], timeDeltas = [] } = profile;
  // A sample's time runs until the next sample: delta i+1 belongs to sample i.
  for (let i = 0; i < samples.length; i++) {
    const dt = (timeDeltas[i + 1] ?? 0) / 1000;
    ms.set(samples[i], (ms.get(samples[i]) ?? 0) + dt);
  }
  return ms;
}

const scriptOf = (url: string): string => (url ? (url.split("/").pop() ?? url).split("?")[0] : "");

/** The `top` heaviest entries by self time, grouped by `key`; pct of the whole profile. */
function summarize(profile: CpuProfile, top: number, key: (n: CpuProfile["nodes"][number]) => string): SelfTime[] {
  const byNode = selfMsByNode(profile);
  const total = (profile.endTime - profile.startTime) / 1000;
  const sums = new Map<string, number>();
  for (const n of profile.nodes) {
    const ms = byNode.get(n.id) ?? 0;
    if (ms > 0) sums.set(key(n), (sums.get(key(n)) ?? 0) + ms);
  }
  return [...sums]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), pct: Math.round((1000 * ms) / total) / 10 }));
}

/** Heaviest functions by self time, as `name script:line`. */
export function topFunctions(profile: CpuProfile, top = 20): SelfTime[] {
  return summarize(profile, top, ({ callFrame: f }) =>
    f.url ? `${f.functionName || "(anonymous)"} ${scriptOf(f.url)}:${f.lineNumber + 1}` : f.functionName,
  );
}

/** Self time per script (bundle), and the VM's own buckets: (garbage collector), (program), (idle). */
export function byScript(profile: CpuProfile, top = 12): SelfTime[] {
  return summarize(profile, top, ({ callFrame: f }) => scriptOf(f.url) || f.functionName);
}
