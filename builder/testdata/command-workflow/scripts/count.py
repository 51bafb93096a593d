import json, sys

names = json.load(sys.stdin)
json.dump({"count": len(names), "flags": sys.argv[1:]}, sys.stdout)
