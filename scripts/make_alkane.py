#!/usr/bin/env python3
"""Writes a rough zigzag n-alkane C(n)H(2n+2) as XYZ (xtb optimizes it properly).
Used to make test and benchmark molecules of a chosen size without Open Babel."""
import math
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
half = math.radians(109.5 / 2)
dx, dy = 1.54 * math.sin(half), 1.54 * math.cos(half) / 2
atoms = []
for i in range(n):
    s = 1 if i % 2 else -1
    x, y = i * dx, s * dy
    atoms.append(("C", x, y, 0.0))
    atoms.append(("H", x, y + s * 0.63, 0.89))
    atoms.append(("H", x, y + s * 0.63, -0.89))
atoms.append(("H", -1.09 * math.sin(half), -dy - 1.09 * math.cos(half) * 0.0 - 0.0, 0.0))
atoms.append(("H", (n - 1) * dx + 1.09 * math.sin(half), (1 if (n - 1) % 2 else -1) * dy, 0.0))
print(len(atoms))
print(f"n-alkane C{n}H{2 * n + 2}, rough geometry")
for sym, x, y, z in atoms:
    print(f"{sym} {x:.4f} {y:.4f} {z:.4f}")
