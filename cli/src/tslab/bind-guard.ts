/**
 * zeromq.js marks a socket blocked for the whole of an asynchronous bind: `receive` and `send` throw
 * EBUSY ("Socket is blocked by a bind or unbind operation") until the bind's completion has run on
 * the main thread, even when a peer's message has already arrived. See ../tslab-kernel.ts.
 */
import * as zmq from "zeromq";

type Method = (this: zmq.Socket, ...args: unknown[]) => Promise<unknown>;

const binding = new WeakMap<zmq.Socket, Promise<void>>();

/** The socket classes: zeromq's native methods cannot be replaced on Socket itself (read-only). */
function socketClasses(): { prototype: object }[] {
  return (Object.values(zmq) as unknown[]).filter(
    (v): v is { prototype: object } =>
      typeof v === "function" && (v as { prototype?: unknown }).prototype instanceof zmq.Socket,
  );
}

function guarded(name: "bind" | "send" | "receive", original: Method): Method {
  if (name === "bind") {
    return function (this: zmq.Socket, ...args: unknown[]) {
      const done = original.apply(this, args);
      const settled = done.then(
        () => undefined,
        () => undefined,
      );
      binding.set(this, settled);
      void settled.then(() => binding.get(this) === settled && binding.delete(this));
      return done;
    };
  }
  return function (this: zmq.Socket, ...args: unknown[]) {
    const pending = binding.get(this);
    return pending ? pending.then(() => original.apply(this, args)) : original.apply(this, args);
  };
}

/** Makes `send` and `receive` of every zeromq socket wait for a bind in flight on that socket. */
export function guardBinds(): void {
  for (const cls of socketClasses()) {
    for (const name of ["bind", "send", "receive"] as const) {
      const original = (cls.prototype as Record<string, Method | undefined>)[name];
      if (typeof original !== "function") continue;
      Object.defineProperty(cls.prototype, name, {
        value: guarded(name, original),
        writable: true,
        configurable: true,
      });
    }
  }
}
