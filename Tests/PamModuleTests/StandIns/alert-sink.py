#!/usr/bin/python3
"""An alert command for lockstepd's tests: reads one alert from standard input, checks that it
is a single JSON object (Python's own parser), and saves it as a new file in DIR.

    alert-sink.py DIR

It exits 1, saving nothing, when the input is not one JSON object.
"""

import json
import os
import sys
import time


def main():
    directory = sys.argv[1]
    text = sys.stdin.read()
    try:
        alert = json.loads(text)
    except ValueError as error:
        print(f"not JSON: {error}", file=sys.stderr)
        return 1
    if not isinstance(alert, dict):
        print("not a JSON object", file=sys.stderr)
        return 1
    name = f"{time.monotonic_ns()}-{os.getpid()}.json"
    temporary = os.path.join(directory, "." + name)
    with open(temporary, "w") as handle:
        json.dump(alert, handle)
    os.rename(temporary, os.path.join(directory, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
