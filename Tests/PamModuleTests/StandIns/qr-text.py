#!/usr/bin/python3
"""Decodes a QR code drawn as text, for the tests of what the CLI and the module show.

    qr-text.py < LINES

LINES is a half-block drawing with the light modules drawn (as `lockstep enroll --qr utf8`
and an invitation at login draw it): U+2588 both halves, U+2580 the upper, U+2584 the lower,
a space neither. It becomes a PBM image with a wide white margin, which zbarimg (an
independent decoder) reads; the decoded text is printed. Exits 1 when nothing decodes.
"""

import os
import subprocess
import sys
import tempfile

HALVES = {"\u2588": (True, True), "\u2580": (True, False), "\u2584": (False, True), " ": (False, False)}


def main():
    light = []
    for line in sys.stdin.read().split("\n"):
        if not line:
            continue
        if any(c not in HALVES for c in line):
            print(f"not a half-block drawing: {line!r}", file=sys.stderr)
            return 1
        light.append([HALVES[c][0] for c in line])
        light.append([HALVES[c][1] for c in line])
    if not light:
        return 1
    size = len(light[0])
    light = light[:size]  # the last half line lies outside the code
    scale, margin = 4, 8
    pixels = (size + 2 * margin) * scale
    rows = []
    for row in range(-margin, size + margin):
        cells = []
        for column in range(-margin, size + margin):
            inside = 0 <= row < size and 0 <= column < size and column < len(light[row])
            cells += ["1" if inside and not light[row][column] else "0"] * scale
        rows += [" ".join(cells)] * scale
    with tempfile.NamedTemporaryFile("w", suffix=".pbm", delete=False) as image:
        image.write(f"P1\n{pixels} {pixels}\n" + "\n".join(rows) + "\n")
    try:
        result = subprocess.run(["/usr/bin/zbarimg", "--raw", "-q", image.name], capture_output=True, text=True)
    finally:
        os.unlink(image.name)
    text = result.stdout.strip("\n")
    if not text:
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
