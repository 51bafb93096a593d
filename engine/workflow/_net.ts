/**
 * `capabilities.net` entries: a host name or IP, optionally with a port. `github.com` also
 * grants its subdomains; `*` grants every host.
 *
 * @module
 */

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`);
const IPV6 = /^\[[0-9a-f:.]+\]$/;

/** A normalised host (lower case), or what is wrong with it. */
export function checkNetHost(entry: string): string | { message: string; hint: string } {
  if (entry === "*") return entry;
  const fixed = entry.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, "")
    .replace(/[/?#].*$/, "").replace(/^\*\./, "");
  const suggestion = fixed ? `Write "${fixed}"` : 'Write a host name, e.g. "api.github.com"';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) {
    return { message: `Host "${entry}" must not include a scheme`, hint: suggestion };
  }
  if (/[/?#]/.test(entry)) {
    return { message: `Host "${entry}" must not include a path`, hint: suggestion };
  }
  if (entry.startsWith("*.")) {
    return {
      message: `Host "${entry}" must not use a wildcard`,
      hint: `${suggestion}: a host also grants its subdomains`,
    };
  }
  const lower = entry.toLowerCase();
  const match = /^(\[[^\]]*\]|[^:]+)(?::(\d+))?$/.exec(lower);
  const host = match?.[1];
  const port = match?.[2];
  if (!host || !(HOSTNAME.test(host) || IPV6.test(host))) {
    return {
      message: `Invalid host "${entry}"`,
      hint:
        'Write a host name or IP, optionally with a port, e.g. "api.github.com" or "localhost:8080"',
    };
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) {
    return { message: `Invalid port in host "${entry}"`, hint: "Use a port from 1 to 65535" };
  }
  return lower;
}
