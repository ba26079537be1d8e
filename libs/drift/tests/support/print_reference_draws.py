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

# River's other test streams (tests/drift/test_drift_detectors.py) and the binary
# detectors' docstring stream.
r = random.Random(42)
d = r.choices([0, 1], k=1000)
w = r.choices([0, 1], k=1000, weights=[0.3, 0.7])
print("python Random(42) choices sum, weighted sum, weighted[:40]:", sum(d), sum(w),
      "".join(map(str, w[:40])))
try:
    import numpy as np
except ImportError:
    pass
else:
    np.random.seed(12345)
    print("numpy seed(12345) normal(0, .1), normal(.25, .1):",
          repr(np.random.normal(0.0, 0.1)), repr(np.random.normal(0.25, 0.1)))
    np.random.seed(12345)
    s2 = np.concatenate([[np.random.binomial(1, 0.2) for _ in range(1000)],
                         [np.random.binomial(1, 0.8) for _ in range(1000)]]).astype(int)
    print("data_stream_2 sum, first-half sum, [:40]:", s2.sum(), s2[:1000].sum(),
          "".join(map(str, s2[:40])))
    np.random.seed(12345)
    s3 = np.concatenate([np.random.normal(loc, 0.1, 500) > 0
                         for loc in (0.0, 0.25, 0.0, 0.25)]).astype(int)
    print("data_stream_3 sum, first-quarter sum, [:40]:", s3.sum(), s3[:500].sum(),
          "".join(map(str, s3[:40])))
