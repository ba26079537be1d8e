// Standby placement (scale.standby_replicas = N): every instance computes, from the members'
// published assignments, the same N copies per partition, never on its holder.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "standby_placement.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

constexpr int64_t kNow = 1'000'000;

std::string Record(int64_t at_ms, int64_t ttl_ms, std::set<int32_t> held) {
  MemberRecord r;
  r.at_ms = at_ms;
  r.ttl_ms = ttl_ms;
  r.held = std::move(held);
  return EncodeMemberRecord(r);
}

struct Member {
  std::string id;
  std::set<int32_t> held;
};

// What each member keeps warm when it has read every other member's record.
std::map<std::string, std::set<int32_t>> Placements(const std::vector<Member>& members, int replicas,
                                                    int32_t partitions) {
  std::map<std::string, std::set<int32_t>> out;
  for (const Member& self : members) {
    StandbyPlacement placement(self.id, replicas);
    for (const Member& other : members) {
      placement.receive(other.id, Record(kNow - 500, 6000, other.held));
    }
    out[self.id] = placement.warm(self.held, partitions, kNow);
  }
  return out;
}

}  // namespace

TEST_CASE("standby placement: exactly N copies of each partition, none on its holder, the same on every member",
          "[standby][placement]") {
  const std::vector<Member> members = {
      {"host-a:/state", {0, 3, 6, 9}}, {"host-b:/state", {1, 4, 7, 10}}, {"host-c:/state", {2, 5, 8, 11}}};
  for (int replicas : {1, 2}) {
    const auto warm = Placements(members, replicas, 12);
    for (int32_t p = 0; p < 12; ++p) {
      int copies = 0;
      for (const Member& m : members) {
        if (!warm.at(m.id).count(p)) continue;
        copies++;
        CHECK_FALSE(m.held.count(p));
      }
      CHECK(copies == replicas);
    }
  }
  // With N = 1 the copies spread over the members (rendezvous hashing, not "the next one").
  for (const auto& [id, partitions] : Placements(members, 1, 12)) CHECK_FALSE(partitions.empty());
}

TEST_CASE("standby placement: fewer live non-holders than N give fewer copies, and say which", "[standby][placement]") {
  StandbyPlacement placement("a", 2);
  placement.receive("b", Record(kNow, 6000, {0, 1}));
  std::map<int32_t, int> short_of;
  const auto warm = placement.warm({2, 3}, 4, kNow, &short_of);
  CHECK(warm == std::set<int32_t>{0, 1});  // the one live non-holder keeps them
  CHECK(short_of == std::map<int32_t, int>{{0, 1}, {1, 1}});
}

TEST_CASE("standby placement: a member leaves with a tombstone or when its record outlives its TTL",
          "[standby][placement]") {
  // Each of two instances keeps every partition the other holds... until the other is gone.
  StandbyPlacement placement("a", 1);
  placement.receive("b", Record(kNow, 6000, {0, 1}));
  placement.receive("c", Record(kNow, 6000, {2, 3}));
  CHECK(placement.live(kNow) == std::set<std::string>{"a", "b", "c"});
  placement.receive("c", "");  // c stopped
  CHECK(placement.live(kNow) == std::set<std::string>{"a", "b"});
  // a keeps b's partitions, its only non-holder besides b.
  const auto two = placement.warm({}, 4, kNow);
  CHECK(two.count(0) == 1);
  CHECK(two.count(1) == 1);
  CHECK(placement.live(kNow + 6000) == std::set<std::string>{"a", "b"});
  CHECK(placement.live(kNow + 6001) == std::set<std::string>{"a"});  // b's record expired
  CHECK(placement.warm({}, 4, kNow + 6001) == std::set<int32_t>{0, 1, 2, 3});
  // Its own records and undecodable ones change nothing.
  placement.receive("a", Record(kNow, 6000, {0, 1, 2, 3}));
  placement.receive("d", "garbage");
  CHECK(placement.live(kNow) == std::set<std::string>{"a", "b"});
}

TEST_CASE("standby member records: a round trip, and damaged ones refused", "[standby][placement]") {
  MemberRecord r;
  r.at_ms = 1765000000123;
  r.ttl_ms = 6000;
  r.held = {0, 11};
  r.warm = {3};
  const std::string text = EncodeMemberRecord(r);
  CHECK(text == "standby-member 1 1765000000123 6000 held=0,11 warm=3");
  auto back = DecodeMemberRecord(text);
  REQUIRE(back.ok());
  CHECK(back->at_ms == r.at_ms);
  CHECK(back->ttl_ms == r.ttl_ms);
  CHECK(back->held == r.held);
  CHECK(back->warm == r.warm);
  auto empty = DecodeMemberRecord(Record(5, 1, {}));
  REQUIRE(empty.ok());
  CHECK(empty->held.empty());
  for (const char* bad : {"", "standby-member 1 5", "standby-member 1 5 0 held= warm=", "standby-member 1 5 6 held=x warm=",
                          "standby-member 1 5 6 held=1,,2 warm=", "standby-member 2 5 6 held= warm=",
                          "standby-member 1 5 6 held=-1 warm=", "standby-member 1 5 6 warm= held="}) {
    CHECK_FALSE(DecodeMemberRecord(bad).ok());
  }
  CHECK(RendezvousScore(3, "a") == RendezvousScore(3, "a"));
  CHECK(RendezvousScore(3, "a") != RendezvousScore(4, "a"));
}
