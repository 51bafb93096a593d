/// <reference lib="dom" />
/**
 * The sign-in form of `serve`: the API token is asked for once and kept in sessionStorage only
 * (gone when the tab closes; never in a URL, a cookie or localStorage).
 *
 * @module
 */

import { html } from "./html.ts";

/** The sessionStorage key of the API token. */
export const TOKEN_KEY = "pipedreamer.token";

/**
 * Shows the token form in `main`; resolves once a token was entered and stored. `rejected`
 * says the previous token was refused (wrong or rotated).
 */
export function promptForToken(main: HTMLElement, rejected: boolean): Promise<void> {
  main.innerHTML = html`
    <section class="card sign-in"
      aria-labelledby="sign-in-title"><h1 id="sign-in-title">Sign in</h1><p>This server requires its API token (the one given to <code>pipedreamer serve</code> with <code>--token-file</code> or <code>PIPEDREAMER_TOKEN</code>). It is kept for this browser tab only.</p>${rejected
        ? html`<p class="field-errors" role="alert">The server rejected the token: check it and try again.</p>`
        : ""}<form id="token-form"><label for="token-input">API token</label><input id="token-input" name="token" type="password" autocomplete="current-password" required spellcheck="false"><button type="submit">Sign in</button></form></section>
  `.value;
  const form = main.querySelector<HTMLFormElement>("#token-form")!;
  const input = main.querySelector<HTMLInputElement>("#token-input")!;
  input.focus();
  return new Promise((resolve) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (token === "") return input.focus();
      sessionStorage.setItem(TOKEN_KEY, token);
      resolve();
    });
  });
}
