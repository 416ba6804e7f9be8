#!/usr/bin/env node
/**
 * The tslab kernel that mevlab installs into JupyterLab, with a start-up race mended.
 *
 * tslab starts reading its five sockets before it binds them, then binds them all at once, and
 * zeromq.js marks a socket blocked for the whole of an asynchronous bind: `receive` and `send` throw
 * EBUSY meanwhile. A client that connects as soon as a port accepts (JupyterLab, nbclient) can get
 * its kernel_info request in before the bind's completion has run; tslab's reply then throws, its
 * read loop ends, and the kernel never answers ("Socket is blocked by a bind or unbind operation",
 * then "Kernel didn't respond in 60 seconds": seen in the UI test on a busy machine). Here a socket's
 * `receive` and `send` wait for a bind in flight on it (./tslab/bind-guard.ts).
 */
import { main } from "tslab/dist/main";
import { guardBinds } from "./tslab/bind-guard";

guardBinds();
// tslab's own command line (`kernel --config-path FILE`), as its bin script runs it; it loads zeromq
// only when the kernel starts, after the guard is in place.
main();
