import { ControlRequest_State } from "@mevlab/proto";
import { agentNames, confirmStop } from "./control";
import type { IMevlabConnection } from "./tokens";
import { errorText } from "./errors";

/**
 * Kill all, from the panel's button or the palette: asks first, naming every agent it will stop
 * (cancelling sends nothing), then waits for every agent's ack. Undefined when cancelled; else what
 * happened, per agent.
 */
export async function killAllConfirmed(conn: IMevlabConnection, onSent?: () => void): Promise<string | undefined> {
  const who = agentNames(conn, ["arbitrage", "mev"]);
  const body = `${who} will stop trading at once and stay killed until someone starts them again.`;
  if (!(await confirmStop("Kill every agent?", body, "Kill all"))) return undefined;
  onSent?.();
  try {
    const r = await conn.controlPlane().killAll();
    const state = ControlRequest_State[r.request.state] ?? "unknown";
    const acks = r.request.outcomes.map((o) => o.agentId).join(", ") || "no agent";
    return `kill all: ${state} in ${r.latencyMs.toFixed(1)} ms by ${acks}`;
  } catch (err) {
    return `kill all: ${errorText(err)}`;
  }
}
