#!/usr/bin/python3
"""Prints the draws that reference_rng_test.cpp pins reference_rng.hpp to.

Run with Debian's /usr/bin/python3 (CPython 3.11; numpy from python3-numpy). Values are
printed with repr(), which round-trips doubles exactly.
"""
import random

r = random.Random(12345)
print("python Random(12345) getrandbits(32) x3:", [r.getrandbits(32) for _ in range(3)])
r = random.Random(12345)
print("python Random(12345) random() x3:", [repr(r.random()) for _ in range(3)])
r = random.Random(0)
print("python Random(0) random():", repr(r.random()))
r = random.Random(2**40 + 7)
print("python Random(2**40 + 7) random():", repr(r.random()))
r = random.Random(12345)
d = r.choices([0, 1], k=1000) + r.choices(range(4, 8), k=1000)
print("python doctest stream sum, [1023], [1999]:", sum(d), d[1023], d[1999])
r = random.Random(123)
print("python Random(123) gauss(0, 1) x3:", [repr(r.gauss(0, 1)) for _ in range(3)])

try:
    import numpy as np
except ImportError:
    print("numpy: not installed")
else:
    np.random.seed(12345)
    a = np.random.randint(2, size=1000)
    b = np.random.randint(8, size=1000)
    print("numpy seed(12345) randint(2,1000) sum, randint(8,1000) sum, b[:8]:",
          int(a.sum()), int(b.sum()), b[:8].tolist())
    np.random.seed(0)
    print("numpy seed(0) random_sample():", repr(float(np.random.random_sample())))
    np.random.seed(42)
    print("numpy seed(42) randn x3:", [repr(float(v)) for v in np.random.randn(3)])
    np.random.seed(7)
    print("numpy seed(7) randint(0, 100) x5:", np.random.randint(0, 100, size=5).tolist())
