import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { AgentList } from "@mevlab/kernel-helpers";
import { READ } from "../auth/access";
import type { AgentRegistry } from "./registry";

export const agentRoutes: FastifyPluginAsyncTypebox<{ registry: AgentRegistry }> = async (app, deps) => {
  app.get(
    "/api/agents",
    {
      config: { access: READ },
      schema: {
        summary: "Every agent heard on agent-status, with its latest heartbeat",
        tags: ["agents"],
        response: { 200: AgentList },
      },
    },
    async () => ({ agents: deps.registry.list() }),
  );
};
