"""Ignores SIGTERM, says it is ready on stderr, then sleeps."""
import signal
import sys
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", file=sys.stderr, flush=True)
time.sleep(60)
