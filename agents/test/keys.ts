import { randomBytes } from "node:crypto";
import { signCommand, signingKey, type TrustedKeys } from "@mevlab/kernel-helpers";
import type { ControlCommand } from "@mevlab/proto";

/** A control-plane signing key of the tests' own, and the trust an agent is given for it. */
export const TEST_KEY = signingKey();
export const TRUST: TrustedKeys = { [TEST_KEY.keyId]: TEST_KEY.publicKey };

/** The command, signed as the control plane signs it. */
export const signed = (cmd: ControlCommand): ControlCommand => signCommand(cmd, TEST_KEY);

/** An agent's own key, for tests where no control plane checks it. */
export const AGENT_KEY = randomBytes(32);
