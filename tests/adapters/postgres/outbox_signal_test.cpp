// The in-process outbox wake-up (ADR 0014) without a server: a signal's descriptor is readable
// exactly while shards are raised, and the registry reaches only attached shards. And the
// in-memory hand-off of committed events (ADR 0015): when it may be trusted to hold every commit,
// what it gives, and how it falls back.
#include <poll.h>

#include <gtest/gtest.h>

#include "wallet/postgres/outbox.hpp"

namespace wallet::postgres::testing {
namespace {

bool readable(const outbox_signal& s) {
  pollfd fd{s.fd(), POLLIN, 0};
  return ::poll(&fd, 1, 0) == 1 && (fd.revents & POLLIN) != 0;
}

TEST(outbox_signal, is_readable_while_shards_are_raised_and_reports_each_once) {
  outbox_signal s;
  EXPECT_FALSE(readable(s));
  EXPECT_TRUE(s.take().empty());
  s.raise(3);
  s.raise(1);
  s.raise(3);
  EXPECT_TRUE(readable(s));
  EXPECT_EQ(s.take(), (std::vector<std::uint32_t>{3, 1}));
  EXPECT_FALSE(readable(s)) << "still readable after everything was taken";
  s.raise(3);
  EXPECT_TRUE(readable(s)) << "a shard raised again after a take must wake the thread again";
  EXPECT_EQ(s.take(), std::vector<std::uint32_t>{3});
}

TEST(outbox_wakeups, reach_only_attached_shards_until_detached) {
  outbox_wakeups w;
  EXPECT_FALSE(w.notify(0)) << "nothing attached: the store must send the NOTIFY";
  auto a = std::make_shared<outbox_signal>();
  auto b = std::make_shared<outbox_signal>();
  w.attach({0, 2}, a);
  w.attach({1}, b);
  EXPECT_TRUE(w.notify(2));
  EXPECT_TRUE(w.notify(1));
  EXPECT_FALSE(w.notify(3));
  EXPECT_EQ(a->take(), std::vector<std::uint32_t>{2});
  EXPECT_EQ(b->take(), std::vector<std::uint32_t>{1});
  w.detach(*a);
  EXPECT_FALSE(w.notify(0));
  EXPECT_FALSE(w.notify(2));
  EXPECT_TRUE(w.notify(1)) << "detaching one signal detached another";
  EXPECT_FALSE(readable(*a));
}

// An entry of `n` events of wallet "w" at `position`, seqs from `first_seq`.
outbox_entry entry(std::int64_t position, std::size_t n, std::uint64_t first_seq = 1) {
  outbox_entry e;
  e.position = position;
  for (std::size_t i = 0; i < n; ++i) {
    outbox_event ev;
    ev.wallet_id = "w";
    ev.currency = "EUR";
    ev.event.seq = first_seq + i;
    e.events.push_back(ev);
  }
  return e;
}

std::vector<std::int64_t> positions(const std::vector<outbox_entry>& entries) {
  std::vector<std::int64_t> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(e.position);
  return out;
}

TEST(outbox_handoff, records_nothing_and_gives_nothing_until_armed_and_established) {
  outbox_handoff h{100};
  EXPECT_FALSE(h.recording());
  h.push(entry(5, 1));
  EXPECT_EQ(h.events(), 0U) << "kept an entry before the publisher armed it";
  EXPECT_FALSE(h.take(0, 10).has_value()) << "gave entries without an established cursor";
  h.arm();
  EXPECT_TRUE(h.recording());
  h.push(entry(7, 2));
  EXPECT_FALSE(h.complete());
  EXPECT_FALSE(h.take(0, 10).has_value()) << "armed is not complete: the outbox must be read";
  // The read found nothing after cursor 7 (it saw the commit at 7): that entry is skipped.
  EXPECT_TRUE(h.establish(7));
  EXPECT_TRUE(h.complete());
  EXPECT_EQ(h.events(), 0U);
  h.push(entry(9, 1));
  h.push(entry(12, 3));
  const auto taken = h.take(7, 10);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(positions(*taken), (std::vector<std::int64_t>{9, 12}));
  EXPECT_EQ(taken->back().events.size(), 3U);
  EXPECT_EQ(h.events(), 0U);
}

TEST(outbox_handoff, gives_entries_in_position_order_above_the_cursor_at_most_entries_max) {
  outbox_handoff h{100};
  h.arm();
  h.push(entry(3, 1));  // committed before the read's snapshot: the read published it
  h.push(entry(4, 1));
  ASSERT_TRUE(h.establish(2));
  h.push(entry(6, 1));
  h.push(entry(8, 1));
  // A round read from the outbox meanwhile moved the cursor to 4: 3 and 4 are skipped by position.
  auto first = h.take(4, 2);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(positions(*first), (std::vector<std::int64_t>{6, 8}));
  h.push(entry(10, 1));
  h.push(entry(11, 1));
  h.push(entry(13, 1));
  auto second = h.take(8, 2);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(positions(*second), (std::vector<std::int64_t>{10, 11}));
  auto third = h.take(11, 2);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(positions(*third), std::vector<std::int64_t>{13});
  auto none = h.take(13, 2);
  ASSERT_TRUE(none.has_value()) << "complete and empty is an answer: nothing is pending";
  EXPECT_TRUE(none->empty());
}

TEST(outbox_handoff, an_overflow_loses_completeness_until_a_read_after_a_new_arm) {
  outbox_handoff h{4};
  h.arm();
  ASSERT_TRUE(h.establish(0));
  h.push(entry(1, 3));
  h.push(entry(2, 2));  // 5 events > 4: lost, and everything held is dropped
  EXPECT_FALSE(h.complete());
  EXPECT_FALSE(h.recording()) << "records after a loss: the store would build entries for nothing";
  EXPECT_EQ(h.events(), 0U);
  EXPECT_FALSE(h.take(0, 10).has_value()) << "gave entries after losing one";
  h.push(entry(3, 1));
  EXPECT_EQ(h.events(), 0U);
  // A read that began before the re-arm proves nothing: the loss stands until arm().
  EXPECT_FALSE(h.establish(2));
  EXPECT_FALSE(h.complete());
  h.arm();
  EXPECT_TRUE(h.recording());
  h.push(entry(4, 1));
  // A read after the arm found rows (up to 4) and published them: still not complete.
  EXPECT_FALSE(h.take(0, 10).has_value());
  h.push(entry(5, 1));
  h.arm();  // the next read: nothing was lost since the last arm, so the entries stay
  EXPECT_EQ(h.events(), 2U);
  ASSERT_TRUE(h.establish(4));  // that read found nothing after 4
  const auto taken = h.take(4, 10);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(positions(*taken), std::vector<std::int64_t>{5});
}

TEST(outbox_handoff, a_lost_commit_or_a_batch_above_the_bound_resets_completeness) {
  outbox_handoff h{2};
  h.arm();
  ASSERT_TRUE(h.establish(0));
  h.push(entry(1, 1));
  h.lose();  // a commit whose outcome the store does not know
  EXPECT_FALSE(h.complete());
  EXPECT_FALSE(h.take(0, 10).has_value());
  h.arm();
  ASSERT_TRUE(h.establish(1));
  h.push(entry(2, 3));  // alone above the bound
  EXPECT_FALSE(h.complete());
}

TEST(outbox_wakeups, hand_a_commit_to_the_attached_handoff_and_build_it_only_when_recording) {
  outbox_wakeups w;
  int built = 0;
  const auto events = [&built] {
    ++built;
    return entry(0, 2).events;
  };
  EXPECT_FALSE(w.committed(1, 5, events)) << "nothing attached: the store must send the NOTIFY";
  auto signal = std::make_shared<outbox_signal>();
  auto handoff = std::make_shared<outbox_handoff>(100);
  w.attach({1, 2}, signal, {handoff, nullptr});
  EXPECT_TRUE(w.committed(1, 5, events));
  EXPECT_EQ(built, 0) << "built events for a hand-off that does not record";
  EXPECT_EQ(signal->take(), std::vector<std::uint32_t>{1});
  handoff->arm();
  ASSERT_TRUE(handoff->establish(0));
  EXPECT_TRUE(w.committed(1, 6, events));
  EXPECT_TRUE(w.committed(2, 7, events)) << "a shard without a hand-off is still woken";
  EXPECT_EQ(built, 1);
  const auto taken = handoff->take(0, 10);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(positions(*taken), std::vector<std::int64_t>{6});
  w.lost(1);
  EXPECT_FALSE(handoff->complete());
  w.detach(*signal);
  EXPECT_FALSE(w.committed(1, 8, events));
}

}  // namespace
}  // namespace wallet::postgres::testing
