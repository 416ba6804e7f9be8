/**
 * The models an agent runs: the live one its decisions use and a shadow candidate scored beside it.
 * A policy's models are staged (fetched, verified, loaded and warmed in their own threads) while the
 * agent keeps trading on what it has, then swapped in with one assignment between two batches of
 * opportunities, or discarded when the policy is not applied.
 */
import { ModelHost, ModelRefused } from "./host";
import type { ModelSource } from "./source";

export interface Staged {
  live?: ModelHost;
  shadow?: ModelHost;
  /** Hosts opened for this policy (closed again if it is not applied). */
  opened: ModelHost[];
}

export class AgentModels {
  live?: ModelHost;
  shadow?: ModelHost;

  constructor(
    private readonly module: "arbitrage" | "mev",
    private readonly source: ModelSource | undefined,
  ) {}

  /** Hosts for these ids ("" = none), reusing the loaded ones; ModelRefused says why one cannot run. */
  async stage(liveId: string, shadowId: string | undefined): Promise<Staged> {
    const opened: ModelHost[] = [];
    try {
      const live = await this.host(liveId, opened);
      const shadow = shadowId ? await this.host(shadowId, opened) : undefined;
      return { live, shadow, opened };
    } catch (err) {
      for (const h of opened) void h.close();
      throw err;
    }
  }

  /** The staged models become the ones in use; those no longer used end once their batches are scored. */
  commit(staged: Staged): void {
    const before = [this.live, this.shadow];
    this.live = staged.live;
    this.shadow = staged.shadow;
    for (const h of before) if (h && h !== this.live && h !== this.shadow) void h.close();
  }

  discard(staged: Staged): void {
    for (const h of staged.opened) if (h !== this.live && h !== this.shadow) void h.close();
  }

  async close(): Promise<void> {
    await Promise.all([this.live?.close(), this.shadow?.close()]);
    this.live = this.shadow = undefined;
  }

  private async host(id: string, opened: ModelHost[]): Promise<ModelHost | undefined> {
    if (!id) return undefined;
    const reuse = [this.live, this.shadow, ...opened].find((h) => h?.id === id);
    if (reuse) return reuse;
    if (!this.source) throw new ModelRefused(`model ${id.slice(0, 12)}: this agent has no model source`);
    const host = await ModelHost.open(id, await this.source.get(id), this.module);
    opened.push(host);
    return host;
  }
}
