#!/usr/bin/python3
"""Prints what kswin_test.cpp pins KSWIN and the KS test to.

River's KSWIN.update (river/drift/kswin.py) transcribed into a loop over CPython's random
and scipy's ks_2samp, so the p-values themselves can be compared, not only the
detections. Run with Debian's /usr/bin/python3 (CPython 3.11) and python3-scipy (1.10.1).
"""
import collections
import itertools
import random
import warnings

import numpy as np
from scipy import stats


def kswin(stream, alpha, window_size, stat_size, seed):
    rng = random.Random(seed)
    window = collections.deque(maxlen=window_size)
    drift, found, p_values = False, [], []
    for i, x in enumerate(stream):
        if drift:  # River's _reset(): empty window, generator re-seeded
            rng = random.Random(seed)
            window = collections.deque(maxlen=window_size)
        window.append(x)
        drift = False
        if len(window) >= window_size:
            rnd = [window[r] for r in rng.sample(range(window_size - stat_size), stat_size)]
            recent = list(itertools.islice(window, window_size - stat_size, window_size))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=RuntimeWarning)
                st, p = stats.ks_2samp(rnd, recent, method="auto")
            p_values.append(p)
            if p <= alpha and st > 0.1:
                drift = True
                found.append(i)
    return found, sum(p_values)


r = random.Random(42)
print("Random(42).sample(range(70), 30):", r.sample(range(70), 30))
print("then sample(range(100), 100)[:10]:", r.sample(range(100), 100)[:10])
print("Random(7).sample(range(100000), 8):", random.Random(7).sample(range(100000), 8))

a = [((i * 37) % 101) / 10.0 for i in range(30)]
b = [((i * 53) % 97) / 10.0 + 1.5 for i in range(30)]
for x, y in [(a, b), (a, a), ([0] * 15 + [1] * 15, [0] * 5 + [1] * 25),
             (list(range(100)), list(range(40, 140)))]:
    res = stats.ks_2samp(x, y, method="auto")
    print("ks_2samp:", repr(res.statistic), repr(res.pvalue))

r = random.Random(12345)
doc = r.choices([0, 1], k=1000) + r.choices(range(4, 8), k=1000)
print("docstring (alpha=0.0001, seed=42):", kswin(doc, 0.0001, 100, 30, 42))
np.random.seed(12345)
s1 = np.concatenate((np.random.randint(2, size=1000), np.random.randint(8, size=1000)))
print("test_kswin (200, 100, seed=42):", kswin(list(s1), 0.0001, 200, 100, 42))
r = random.Random(3)
g = [r.gauss(0, 1) for _ in range(5000)]
print("gaussian, defaults, seed=1:", kswin(g, 0.005, 100, 30, 1))
