import { Dialog, showDialog } from "@jupyterlab/apputils";
import { Widget } from "@lumino/widgets";

class LoginBody extends Widget implements Dialog.IBodyWidget<{ username: string; password: string }> {
  private readonly user: HTMLInputElement;
  private readonly pass: HTMLInputElement;

  constructor(url: string, message: string) {
    super();
    this.addClass("mevlab-login");
    const note = document.createElement("p");
    note.textContent = message || `Control plane: ${url}`;
    this.user = input("text", "username", "Username");
    this.pass = input("password", "current-password", "Password");
    this.node.append(note, label("Username", this.user), label("Password", this.pass));
  }

  getValue(): { username: string; password: string } {
    return { username: this.user.value.trim(), password: this.pass.value };
  }

  protected override onAfterAttach(): void {
    this.user.focus();
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
): Promise<{ username: string; password: string } | undefined> {
  const result = await showDialog({
    title: "Log in to mevlab",
    body: new LoginBody(url, message),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Log in" })],
    focusNodeSelector: "input[name=username]",
  });
  return result.button.accept && result.value ? result.value : undefined;
}
