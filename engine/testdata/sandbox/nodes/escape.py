"""Tries every way out of a command node's sandbox and reports what worked."""
import json, os, socket, sys

args = json.load(sys.stdin)
report = {}

def attempt(name, fn):
    try:
        report[name] = fn()
    except Exception as error:  # noqa: BLE001 - the class name is the report
        report[name] = type(error).__name__

def read(path):
    with open(path) as f:
        return "read: " + f.read(40)

def write(path):
    with open(path, "w") as f:
        f.write("x")
    return "written"

def connect():
    sock = socket.create_connection(("127.0.0.1", args["port"]), timeout=2)
    sock.close()
    return "connected"

attempt("passwd", lambda: read("/etc/passwd"))
attempt("secrets", lambda: read(".secrets.yaml"))
attempt("secretsDir", lambda: read(".secrets/stripe"))
attempt("writeWorkflow", lambda: write("planted.txt"))
attempt("writeOutside", lambda: write(args["outside"]))
attempt("writeTmp", lambda: write(os.path.join(os.environ["TMPDIR"], "ok.txt")))
attempt("loopback", connect)
if args.get("enginePid"):
    attempt("killEngine", lambda: os.kill(args["enginePid"], 9) or "signalled")
report["uid"] = os.getuid()
report["env"] = sorted(os.environ.keys())
print(json.dumps(report))
