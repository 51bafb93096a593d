"""Subprocess node: reads the node input as JSON on stdin, writes the output JSON to stdout.

Anything printed to stderr is captured as the node's log; a non-zero exit fails the node.
"""

import json
import statistics
import sys


def main() -> None:
    numbers = json.load(sys.stdin)["numbers"]
    if not numbers:
        print("no numbers given", file=sys.stderr)
        sys.exit(1)
    print(f"computing stats of {len(numbers)} numbers", file=sys.stderr)
    json.dump(
        {
            "count": len(numbers),
            "min": min(numbers),
            "max": max(numbers),
            "mean": round(statistics.fmean(numbers), 3),
            "median": statistics.median(numbers),
            "stdev": round(statistics.stdev(numbers), 3) if len(numbers) > 1 else 0,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
