// The JetStream pull protocol's texts: acknowledgement subjects in both layouts (and what is not
// one), the pull request and NAK bodies, and the status codes that end a request.
#include "wallet/nats/jetstream_pull.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace wallet::nats::pull {
namespace {

using namespace std::chrono_literals;

TEST(jetstream_pull, reads_the_first_ack_subject_layout) {
  const auto d =
      parse_ack_subject("$JS.ACK.COMMANDS.walletd-cmd.3.1042.977.1701234567890123456.12");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->stream, "COMMANDS");
  EXPECT_EQ(d->consumer, "walletd-cmd");
  EXPECT_EQ(d->deliveries, 3U);
  EXPECT_EQ(d->stream_sequence, 1'042U);
  EXPECT_EQ(d->consumer_sequence, 977U);
  EXPECT_EQ(d->timestamp_ns, 1'701'234'567'890'123'456U);
  EXPECT_EQ(d->pending, 12U);
}

TEST(jetstream_pull, reads_the_layout_with_a_domain_and_an_account_hash) {
  for (const char* reply :
       {"$JS.ACK.hub.ACCHASH.COMMANDS.walletd-sys-2.1.7.5.1701234567890123456.0",
        "$JS.ACK._.ACCHASH.COMMANDS.walletd-sys-2.1.7.5.1701234567890123456.0.r4nd0m"}) {
    const auto d = parse_ack_subject(reply);
    ASSERT_TRUE(d) << reply;
    EXPECT_EQ(d->stream, "COMMANDS");
    EXPECT_EQ(d->consumer, "walletd-sys-2");
    EXPECT_EQ(d->deliveries, 1U);
    EXPECT_EQ(d->stream_sequence, 7U);
    EXPECT_EQ(d->consumer_sequence, 5U);
    EXPECT_EQ(d->timestamp_ns, 1'701'234'567'890'123'456U);
    EXPECT_EQ(d->pending, 0U);
  }
}

TEST(jetstream_pull, refuses_what_is_not_an_ack_subject) {
  for (const char* reply : {"", "_INBOX.abc.1", "$JS.ACK", "$JS.ACK.S.C.1.2.3.4",  // too few
                            "$JS.ACK.S.C.x.2.3.4.5", "$JS.ACK.S.C.1.2.3.4.-5",     // not numbers
                            "$JS.ACK.S.C.1.2.3.4.5.", "$JS.ACK..C.1.2.3.4.5",      // empty tokens
                            "$JS.ACK.S.C.1.2.3.4.5.6",                             // 8 tokens
                            "$JS.ACK.S.C.1.2.3.4.5.6.7.8.9.10.11",                 // too many
                            "$JS.ACK.S.C.99999999999999999999.2.3.4.5"}) {         // overflow
    EXPECT_FALSE(parse_ack_subject(reply)) << reply;
  }
}

TEST(jetstream_pull, writes_the_request_and_acknowledgement_bodies) {
  EXPECT_EQ(next_subject("COMMANDS", "walletd-cmd-3"),
            "$JS.API.CONSUMER.MSG.NEXT.COMMANDS.walletd-cmd-3");
  const auto request = boost::json::parse(request_body(256, 500ms)).as_object();
  EXPECT_EQ(request.at("batch").as_int64(), 256);
  EXPECT_EQ(request.at("expires").as_int64(), 500'000'000);  // nanoseconds
  EXPECT_EQ(request.size(), 2U);
  const std::string nak = nak_body(1'500ms);
  ASSERT_TRUE(nak.starts_with("-NAK "));
  EXPECT_EQ(boost::json::parse(nak.substr(5)).as_object().at("delay").as_int64(), 1'500'000'000);
  EXPECT_EQ(ack_body, "+ACK");
  EXPECT_EQ(term_body, "+TERM");
}

TEST(jetstream_pull, tells_the_status_codes_apart) {
  EXPECT_EQ(classify_status("100"), status::heartbeat);
  EXPECT_EQ(classify_status("404"), status::no_messages);
  EXPECT_EQ(classify_status("408"), status::request_timeout);
  EXPECT_EQ(classify_status("409"), status::conflict);
  EXPECT_EQ(classify_status("503"), status::other);
  EXPECT_EQ(classify_status(""), status::other);
}

}  // namespace
}  // namespace wallet::nats::pull
