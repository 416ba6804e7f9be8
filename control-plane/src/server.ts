import type { FastifyInstance } from "fastify";
import type { TrustedKeys } from "@mevlab/kernel-helpers";
import { createApp, registerApi } from "./app";
import type { SessionStore } from "./auth/sessions";
import type { TokenService } from "./auth/tokens";
import type { UserStore } from "./auth/users";
import { resolveConfig, type ControlPlaneOptions } from "./config";
import { privateDataDir } from "./data-dir";
import { HttpError } from "./http/errors";
import type { RouteEntry } from "./http/openapi";
import { registerLive } from "./live";
import { createServices } from "./services";
import type { EventSink } from "./sink/sink";

export type { ControlPlaneOptions } from "./config";
export { BODY_LIMIT } from "./app";

export interface ControlPlane {
  url: string;
  port: number;
  users: UserStore;
  tokens: TokenService;
  sessions: SessionStore;
  /** Public keys of the keys commands and policies are signed with, by key id (what agents trust). */
  signingKeys: TrustedKeys;
  /** The event sink (undefined when turned off). */
  sink?: EventSink;
  /** Fastify's route table (method and URL of every route), as registered. */
  routes: readonly RouteEntry[];
  close(): Promise<void>;
}

function boundPort(app: FastifyInstance, fallback: number): number {
  const address = app.server.address();
  return typeof address === "object" && address ? address.port : fallback;
}

/**
 * Opens the control plane's state, registers the API and the live flow, and listens. Everything
 * opened is closed by the app's onClose hooks: by `close()`, or at once when the start fails.
 */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const config = resolveConfig(opts);
  privateDataDir(config.dataDir, config.exportRoots, config.log);
  const app = createApp(config);
  const routes: RouteEntry[] = [];
  try {
    const services = await createServices(app, config);
    await registerApi(app, config, services, routes);
    registerLive(app, config, services);
    await app.listen({ port: config.port, host: config.host });
    const port = boundPort(app, config.port);
    return {
      url: `http://${config.host}:${port}`,
      port,
      users: services.users,
      tokens: services.tokens,
      sessions: services.sessions,
      signingKeys: services.signing.trusted,
      sink: services.sink,
      routes,
      close: () => app.close(),
    };
  } catch (err) {
    await app.close().catch((closeErr: unknown) => config.log(`closing after a failed start: ${String(closeErr)}`));
    throw err;
  }
}

export { HttpError };
