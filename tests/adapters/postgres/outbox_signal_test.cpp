// The in-process outbox wake-up (ADR 0014) without a server: a signal's descriptor is readable
// exactly while shards are raised, and the registry reaches only attached shards.
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

}  // namespace
}  // namespace wallet::postgres::testing
