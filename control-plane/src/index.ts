export * from "./server";
export { UserStore } from "./auth/users";
export { TokenService, loadOrCreateSecret } from "./auth/tokens";
