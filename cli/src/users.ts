import { join } from "node:path";
import { UserStore } from "@mevlab/control-plane";
import { parseArgs } from "./args";
import { dataDirOf } from "./commands";

const say = (line: string): void => void process.stdout.write(line + "\n");

const USAGE = `usage: mevlab user <verb> [NAME] [--data-dir D]
  add NAME [--role admin|viewer]   a new user (password from MEVLAB_PASSWORD)
  list                             every user: role, created, disabled
  passwd NAME                      a new password (from MEVLAB_PASSWORD); the user's tokens are refused
  disable NAME | enable NAME       a disabled user cannot log in; their tokens and sockets are cut at once
  remove NAME                      the user is gone; their tokens and sockets are cut at once`;

const newPassword = (): string => {
  const password = process.env.MEVLAB_PASSWORD;
  if (!password) throw new Error("set MEVLAB_PASSWORD to the user's new password");
  return password;
};

/**
 * `mevlab user add | list | passwd | disable | enable | remove`: edits the data dir's users file.
 * A running control plane sees the change within a fraction of a second and closes what the user
 * had open (auth/revocation.ts).
 */
export async function runUser(argv: readonly string[]): Promise<void> {
  const [verb, ...args] = argv;
  const name = verb === "list" || args[0]?.startsWith("--") ? undefined : args[0];
  const o = parseArgs(name === undefined ? args : args.slice(1), { role: "string", "data-dir": "string" });
  const store = new UserStore(join(dataDirOf(o["data-dir"]), "users.json"));
  if (verb === "list") return listUsers(store);
  if (!name) throw new Error(USAGE);
  if (verb !== "add" && o.role !== undefined) throw new Error(`--role is for add only\n${USAGE}`);
  switch (verb) {
    case "add": {
      const role = o.role ?? "viewer";
      if (role !== "admin" && role !== "viewer") throw new Error("--role must be admin or viewer");
      await store.add(name, newPassword(), role);
      return say(`user ${name} (${role}) added`);
    }
    case "passwd":
      await store.setPassword(name, newPassword());
      return say(`password of ${name} changed; the tokens issued before are refused`);
    case "disable":
    case "enable":
      store.setDisabled(name, verb === "disable");
      return say(`user ${name} ${verb}d${verb === "disable" ? "; their sessions and sockets end at once" : ""}`);
    case "remove":
      store.remove(name);
      return say(`user ${name} removed; their sessions and sockets end at once`);
    default:
      throw new Error(USAGE);
  }
}

function listUsers(store: UserStore): void {
  const users = store.list();
  if (users.length === 0) return say("no users");
  const width = Math.max(...users.map((u) => u.username.length), 4);
  say(`${"user".padEnd(width)}  role    created                   status`);
  for (const u of users) {
    say(
      `${u.username.padEnd(width)}  ${u.role.padEnd(6)}  ${u.created_at.padEnd(24)}  ${u.disabled ? "disabled" : "enabled"}`,
    );
  }
}
