import type { WebSocket } from "ws";

/**
 * Pings every socket it watches each `intervalMs` and terminates one that has not answered the
 * previous ping (ws' heartbeat pattern), so a peer that is gone without a FIN (a frozen process, a
 * pulled cable) loses its socket, its link session and its place in its groups within two intervals.
 * Browsers and ws clients answer pings themselves.
 */
export class Heartbeat {
  /** Each watched socket: who it is (for the log) and whether it has answered since the last ping. */
  private readonly peers = new Map<WebSocket, { name: string; answered: boolean }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    intervalMs: number,
    private readonly onDrop: (name: string) => void = () => undefined,
  ) {
    this.timer = setInterval(() => this.beat(), intervalMs);
    this.timer.unref();
  }

  watch(ws: WebSocket, name: string): void {
    const peer = { name, answered: true };
    this.peers.set(ws, peer);
    ws.on("pong", () => (peer.answered = true));
    ws.once("close", () => this.peers.delete(ws));
  }

  stop(): void {
    clearInterval(this.timer);
    this.peers.clear();
  }

  private beat(): void {
    for (const [ws, peer] of this.peers) {
      if (!peer.answered) {
        this.peers.delete(ws);
        this.onDrop(peer.name);
        ws.terminate();
        continue;
      }
      peer.answered = false;
      ws.ping();
    }
  }
}

/** Why a socket is refused: the status and body of the upgrade's answer. */
export interface CapRefusal {
  status: 429 | 503;
  code: string;
  message: string;
}

/**
 * Counts open WebSockets per user and in all, and refuses one past either cap: one viewer's 2,000
 * realtime sockets took the control plane from 156 to 832 MiB. A slot is taken before the handshake
 * and given back when its socket closes, however the handshake ends.
 */
export class SocketCaps {
  private readonly perUser = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly maxPerUser: number,
    private readonly max: number,
  ) {}

  /** Takes a slot for `user`, or says why not. */
  take(user: string): CapRefusal | undefined {
    const mine = this.perUser.get(user) ?? 0;
    if (mine >= this.maxPerUser) {
      return {
        status: 429,
        code: "too_many_sockets",
        message: `'${user}' has ${mine} WebSockets open, the most one user may (MEVLAB_WS_MAX_PER_USER): close one first`,
      };
    }
    if (this.total >= this.max) {
      return {
        status: 503,
        code: "server_busy",
        message: `the control plane has ${this.total} WebSockets open, the most it takes (MEVLAB_WS_MAX): try again later`,
      };
    }
    this.perUser.set(user, mine + 1);
    this.total += 1;
    return undefined;
  }

  give(user: string): void {
    const mine = this.perUser.get(user) ?? 0;
    if (mine <= 1) this.perUser.delete(user);
    else this.perUser.set(user, mine - 1);
    this.total = Math.max(0, this.total - 1);
  }
}
