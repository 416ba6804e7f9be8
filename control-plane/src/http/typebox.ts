import { Type, type FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";

/** The app as a feature plugin sees it: request parts typed from the route's TypeBox schemas. */
export type Api = Parameters<FastifyPluginAsyncTypebox>[0];

/** A string of these values, as `enum` (one clear keyword to fail, where TypeBox would nest `anyOf`s). */
export const StringEnum = <T extends string>(values: readonly T[], options: Record<string, unknown> = {}) =>
  Type.Unsafe<T>({ type: "string", enum: [...values], ...options });
