import type { FastifyInstance } from "fastify";
import { authenticate } from "../auth/guard";
import type { TokenService } from "../auth/tokens";
import type { AgentRegistry } from "./registry";

export function agentRoutes(app: FastifyInstance, deps: { tokens: TokenService; registry: AgentRegistry }): void {
  app.get("/api/agents", async (req) => {
    await authenticate(req, deps.tokens);
    return { agents: deps.registry.list() };
  });
}
