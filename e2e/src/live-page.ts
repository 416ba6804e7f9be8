// What the live stream's UI test does to the page's realtime sockets: the live stream's subscribe
// frame held (a handshake the control plane never answers) and released (a socket that opens late).
import type { Page } from "playwright-core";
import { ClientFrameSchema, Stream, fromBinary } from "@mevlab/proto";

/**
 * Realtime sockets the page opens from `route` on go through the test. While `hold` is true the live
 * stream's subscribe frames (the socket that asks for the opportunity streams) wait here; `release`
 * sends them on, `drop` forgets them. Every other frame goes through as it comes.
 */
export class LiveSubscribeGate {
  hold = false;
  private held: (() => void)[] = [];

  /** Subscribe frames waiting. */
  get waiting(): number {
    return this.held.length;
  }

  async route(page: Page): Promise<void> {
    await page.routeWebSocket(/\/api\/realtime\/ws/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        if (this.hold && typeof message !== "string" && isLiveSubscribe(message)) {
          this.held.push(() => server.send(message));
        } else server.send(message);
      });
    });
  }

  /** Stops holding and sends what was held (to sockets still open). */
  release(): void {
    this.hold = false;
    for (const send of this.held.splice(0)) {
      try {
        send();
      } catch {
        // That socket has closed since.
      }
    }
  }

  /** Stops holding and forgets what was held. */
  drop(): void {
    this.hold = false;
    this.held = [];
  }
}

function isLiveSubscribe(data: Buffer): boolean {
  try {
    const frame = fromBinary(ClientFrameSchema, new Uint8Array(data)).frame;
    return frame.case === "subscribe" && frame.value.streams.includes(Stream.arb_opportunity);
  } catch {
    return false;
  }
}
