// A command node run with every Deno permission: only its OS sandbox stands between it and
// the engine's files, secrets and network.
const attempt = (path) => {
  try {
    Deno.readTextFileSync(path);
    return "read";
  } catch (error) {
    return error.name;
  }
};
console.log(JSON.stringify({
  passwd: attempt("/etc/passwd"),
  mountedSecret: attempt("/app/secrets/svc"),
  uid: Deno.uid(),
}));
