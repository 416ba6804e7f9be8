import type { WebSocket } from "ws";
import type { Principal } from "../auth/tokens";

/** When a socket opened in a session that is still refreshed may stay open until (sessions.ts). */
export type SessionExpiry = (who: Principal) => number | undefined;

/**
 * The accepted sockets and the tokens that opened them. A socket is closed (4001) when its token
 * expires, unless its session has been refreshed since (then when the session's last access token
 * expires, and so on); and at once (4003) when its token is revoked or its user disabled or removed.
 */
export class TokenLifetimes {
  private readonly open = new Map<WebSocket, { who: Principal; name: string }>();

  constructor(
    private readonly log: (line: string) => void,
    private readonly sessionExpiry?: SessionExpiry,
  ) {}

  add(ws: WebSocket, who: Principal, name: string): void {
    this.open.set(ws, { who, name });
    const stop = this.closeAtExpiry(ws, who);
    ws.once("close", () => {
      stop();
      this.open.delete(ws);
    });
  }

  /** Closes each socket whose token is refused now; one that does not complete the close within 1 s is cut. */
  closeRefused(refused: (who: Principal) => string | undefined): void {
    for (const [ws, { who, name }] of this.open) {
      const why = refused(who);
      if (!why) continue;
      this.open.delete(ws);
      this.log(`${name}: closed: ${why}`);
      ws.close(4003, why.slice(0, 120));
      setTimeout(() => ws.terminate(), 1_000).unref();
    }
  }

  private closeAtExpiry(ws: WebSocket, who: Principal): () => void {
    let stop = (): void => undefined;
    const expire = (): void => {
      const next = this.sessionExpiry?.(who);
      if (next !== undefined && next > Date.now()) stop = atTime(next, expire);
      else ws.close(4001, "token expired");
    };
    stop = atTime(who.exp * 1000, expire);
    return () => stop();
  }
}

const MAX_TIMER_MS = 2_147_483_647;

/** Runs `fn` at an absolute time, however far away (setTimeout alone overflows after ~24.8 days). */
function atTime(when: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const ms = when - Date.now();
    timer = ms > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fn, Math.max(ms, 0));
  };
  arm();
  return () => clearTimeout(timer);
}
