// Counts the heap allocations of a test executable's threads, each its own, so a test can show that a hot path
// allocates nothing: a replaced global operator new (and its deletes) and an interposed
// malloc (Eigen and C code allocate with malloc directly).
//
// Include in exactly ONE translation unit of a test executable: it defines the global
// operator new/delete and malloc, which a second copy would define twice (the link fails).
// Every TU in that executable (and every library it links) is then counted.
//
// Not under AddressSanitizer: it pairs its own operator new with its own delete, and reads a
// replacement here (malloc/free) as a mismatch with Catch's nothrow new. There nothing is
// replaced, kCountingAllocations is false and the counters stay 0: tests skip on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define SL_COUNTING_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)  // clang's spelling
#define SL_COUNTING_ALLOCATIONS 0
#endif
#endif
#if !defined(SL_COUNTING_ALLOCATIONS)
#define SL_COUNTING_ALLOCATIONS 1
#endif

namespace streamlearn::testing {

// False under AddressSanitizer: the counters below then never move.
inline constexpr bool kCountingAllocations = SL_COUNTING_ALLOCATIONS != 0;

namespace allocation_counter_detail {
// Per thread: the code under test runs on the test's thread, while libraries allocate on
// threads of their own at moments the test does not choose (RocksDB's flushes and
// compactions after a commit, librdkafka's brokers); counted together, a loaded machine
// made those look like the hot path's. Constant-initialised, so reading them never
// allocates (no TLS wrapper runs).
inline thread_local uint64_t news = 0;
inline thread_local uint64_t mallocs = 0;
}  // namespace allocation_counter_detail

// Calls to operator new so far on the calling thread.
inline uint64_t Allocations() { return allocation_counter_detail::news; }

// Calls to malloc so far on the calling thread, operator new's included (it allocates with
// malloc).
inline uint64_t Mallocs() { return allocation_counter_detail::mallocs; }

}  // namespace streamlearn::testing

#if SL_COUNTING_ALLOCATIONS
extern "C" void* __libc_malloc(std::size_t);  // glibc's own, behind the interposed malloc

extern "C" void* malloc(std::size_t n) noexcept {
  ++streamlearn::testing::allocation_counter_detail::mallocs;
  return __libc_malloc(n);
}

// noinline: inlined, GCC (11+) sees free() of what it takes for the built-in new's memory
// and warns (-Wmismatched-new-delete) of a mismatch that is not one: this new is malloc.
// new[] and nothrow new are libstdc++'s, which call this one (so they are counted); aligned
// new is libstdc++'s too, with its own deletes, and not counted.
[[gnu::noinline]] void* operator new(std::size_t n) {
  ++streamlearn::testing::allocation_counter_detail::news;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif
