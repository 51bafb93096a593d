"""Doubles input["n"]; reads data.txt from the working directory (the workflow directory)."""
import json
import sys

data = json.load(sys.stdin)
with open("data.txt") as f:
    note = f.read().strip()
print(json.dumps({"doubled": data["n"] * 2, "note": note}))
