import { Type, type FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { READ } from "../auth/access";
import type { AgentRegistry } from "./registry";

const AgentView = Type.Object(
  {
    agent_id: Type.String(),
    module: Type.String(),
    state: Type.String(),
    throttle_pct: Type.Integer(),
    policy_version: Type.String({ description: "64-bit, as a decimal string" }),
    model_id: Type.String(),
    last_seen: Type.Number({ description: "ms since the epoch" }),
    stale: Type.Boolean({ description: "no heartbeat for longer than three intervals" }),
    commands_applied: Type.String({ description: "64-bit, as a decimal string" }),
    boot_id: Type.String({ description: "the agent process's run: a new id after every restart" }),
    started_at: Type.Number({ description: "when that run started, ms since the epoch" }),
  },
  { additionalProperties: false },
);

export const agentRoutes: FastifyPluginAsyncTypebox<{ registry: AgentRegistry }> = async (app, deps) => {
  app.get(
    "/api/agents",
    {
      config: { access: READ },
      schema: {
        summary: "Every agent heard on agent-status, with its latest heartbeat",
        tags: ["agents"],
        response: { 200: Type.Object({ agents: Type.Array(AgentView) }, { additionalProperties: false }) },
      },
    },
    async () => ({ agents: deps.registry.list() }),
  );
};
