import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";

/** The app as a feature plugin sees it: request parts typed from the route's TypeBox schemas. */
export type Api = Parameters<FastifyPluginAsyncTypebox>[0];

export { StringEnum } from "@mevlab/kernel-helpers";
