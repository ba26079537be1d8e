#include <catch2/catch.hpp>

#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "support/reference_rng.hpp"

// Expected values were printed by tests/support/print_reference_draws.py with Debian's
// /usr/bin/python3 (CPython 3.11.2) and python3-numpy 1.24.2. Doubles compare exactly:
// the ports must reproduce the streams River's tests use bit for bit.

using streamlearn::testing::NumpyRandomState;
using streamlearn::testing::PythonRandom;

TEST_CASE("reference rng: python Random(int) matches CPython's random() draws", "[rng]") {
  PythonRandom r(12345);
  CHECK(r.random() == 0.41661987254534116);
  CHECK(r.random() == 0.010169169457068361);
  CHECK(r.random() == 0.8252065092537432);
  CHECK(PythonRandom(0).random() == 0.8444218515250481);
  // A seed wider than 32 bits goes in as two key words.
  CHECK(PythonRandom((uint64_t{1} << 40) + 7).random() == 0.6137037779936511);
}

TEST_CASE("reference rng: python choices() reproduces River's ADWIN doctest stream", "[rng]") {
  PythonRandom r(12345);
  std::vector<double> data = r.choices({0, 1}, 1000);
  std::vector<double> second = r.choices({4, 5, 6, 7}, 1000);
  data.insert(data.end(), second.begin(), second.end());
  CHECK(std::accumulate(data.begin(), data.end(), 0.0) == 5970);
  CHECK(data[1023] == 4);  // the doctest prints "input value: 4" at index 1023
  CHECK(data[1999] == 7);
}

TEST_CASE("reference rng: python gauss() matches CPython", "[rng]") {
  PythonRandom r(123);
  CHECK(r.gauss(0, 1) == 0.40422843322466656);
  CHECK(r.gauss(0, 1) == 0.13801139264830412);
  CHECK(r.gauss(0, 1) == -0.3985847224936054);
}

TEST_CASE("reference rng: numpy legacy RandomState matches numpy's draws", "[rng]") {
  NumpyRandomState a(12345);
  int64_t bits = 0;
  for (int i = 0; i < 1000; ++i) bits += a.randint(0, 2);
  std::vector<int64_t> eights;
  for (int i = 0; i < 1000; ++i) eights.push_back(a.randint(0, 8));
  CHECK(bits == 507);
  CHECK(std::accumulate(eights.begin(), eights.end(), int64_t{0}) == 3478);
  CHECK(std::vector<int64_t>(eights.begin(), eights.begin() + 8) ==
        std::vector<int64_t>{3, 4, 5, 5, 7, 1, 2, 4});

  CHECK(NumpyRandomState(0).random_sample() == 0.5488135039273248);

  NumpyRandomState g(42);
  CHECK(g.standard_normal() == 0.4967141530112327);
  CHECK(g.standard_normal() == -0.13826430117118466);
  CHECK(g.standard_normal() == 0.6476885381006925);

  // A range that is not a power of two exercises the mask-and-reject loop.
  NumpyRandomState m(7);
  std::vector<int64_t> draws;
  for (int i = 0; i < 5; ++i) draws.push_back(m.randint(0, 100));
  CHECK(draws == std::vector<int64_t>{47, 68, 25, 67, 83});
}

TEST_CASE("reference rng: numpy legacy binomial() and normal() build River's test streams",
          "[rng]") {
  // tests/drift/test_drift_detectors.py: data_stream_2 (binomial) and data_stream_3 (normal).
  NumpyRandomState g(12345);
  CHECK(g.normal(0.0, 0.1) == -0.020470765948471296);
  CHECK(g.normal(0.25, 0.1) == 0.2978943338057548);

  NumpyRandomState b(12345);
  std::vector<double> s2;
  for (int i = 0; i < 1000; ++i) s2.push_back(static_cast<double>(b.binomial(1, 0.2)));
  for (int i = 0; i < 1000; ++i) s2.push_back(static_cast<double>(b.binomial(1, 0.8)));
  std::string head;
  for (int i = 0; i < 40; ++i) head += s2[i] == 1 ? '1' : '0';
  CHECK(std::accumulate(s2.begin(), s2.end(), 0.0) == 1000);
  CHECK(std::accumulate(s2.begin(), s2.begin() + 1000, 0.0) == 202);
  CHECK(head == "1000001000010000111000000010000110000010");

  NumpyRandomState n(12345);
  std::vector<double> s3;
  for (double loc : {0.0, 0.25, 0.0, 0.25}) {
    for (int i = 0; i < 500; ++i) s3.push_back(n.normal(loc, 0.1) > 0 ? 1.0 : 0.0);
  }
  head.clear();
  for (int i = 0; i < 40; ++i) head += s3[i] == 1 ? '1' : '0';
  CHECK(std::accumulate(s3.begin(), s3.end(), 0.0) == 1470);
  CHECK(std::accumulate(s3.begin(), s3.begin() + 500, 0.0) == 246);
  CHECK(head == "0100111111101111001001100111110000010101");
}

TEST_CASE("reference rng: python weighted choices() builds the binary docstring stream",
          "[rng]") {
  PythonRandom r(42);
  std::vector<double> d = r.choices({0, 1}, 1000);
  const std::vector<double> more = r.choices({0, 1}, {0.3, 0.7}, 1000);
  std::string head;
  for (int i = 0; i < 40; ++i) head += more[i] == 1 ? '1' : '0';
  CHECK(std::accumulate(d.begin(), d.end(), 0.0) == 520);
  CHECK(std::accumulate(more.begin(), more.end(), 0.0) == 714);
  CHECK(head == "0111110011111010010100110101000010010100");
}
