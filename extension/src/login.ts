import { Dialog, showDialog } from "@jupyterlab/apputils";
import { Widget } from "@lumino/widgets";
import type { IMevlabConnection } from "./tokens";
import { errorText } from "./errors";

class LoginBody extends Widget implements Dialog.IBodyWidget<{ username: string; password: string }> {
  private readonly user: HTMLInputElement;
  private readonly pass: HTMLInputElement;

  constructor(url: string, message: string, username = "") {
    super();
    this.addClass("mevlab-login");
    const note = document.createElement("p");
    note.textContent = message || `Control plane: ${url}`;
    this.user = input("text", "username", "Username");
    this.pass = input("password", "current-password", "Password");
    this.user.value = username;
    this.node.append(note, label("Username", this.user), label("Password", this.pass));
  }

  getValue(): { username: string; password: string } {
    return { username: this.user.value.trim(), password: this.pass.value };
  }

  protected override onAfterAttach(): void {
    (this.user.value ? this.pass : this.user).focus();
  }
}

function input(type: string, autocomplete: string, name: string): HTMLInputElement {
  const el = document.createElement("input");
  el.type = type;
  el.autocomplete = autocomplete;
  el.name = name.toLowerCase();
  el.className = "jp-mod-styled";
  el.setAttribute("aria-label", name);
  return el;
}

function label(text: string, control: HTMLElement): HTMLLabelElement {
  const l = document.createElement("label");
  l.textContent = text;
  l.append(control);
  return l;
}

/** Asks for credentials; undefined when cancelled. */
export async function askCredentials(
  url: string,
  message = "",
  username = "",
): Promise<{ username: string; password: string } | undefined> {
  const result = await showDialog({
    title: "Log in to mevlab",
    body: new LoginBody(url, message, username),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Log in" })],
    focusNodeSelector: username ? "input[name=password]" : "input[name=username]",
  });
  return result.button.accept && result.value ? result.value : undefined;
}

let asking: Promise<boolean> | undefined;

/**
 * Asks for a login until one succeeds or the user cancels (true when logged in). One dialog at a time:
 * the panel's button, the status bar and an expired session all come here. An expired session's user
 * is filled in: the same user carries the session on.
 */
export function logIn(conn: IMevlabConnection, url: string): Promise<boolean> {
  asking ??= (async () => {
    let message = conn.notice;
    const username = conn.link === "expired" ? (conn.session?.user ?? "") : "";
    for (;;) {
      const creds = await askCredentials(url, message, username);
      if (!creds) return false;
      try {
        await conn.login(creds.username, creds.password);
        return true;
      } catch (err) {
        message = errorText(err);
      }
    }
  })().finally(() => (asking = undefined));
  return asking;
}
