// The audit record of administrative commands, without actors: which commands are audited, what
// their record holds, and the checks that keep every record within the audit_log table's rules.
#include <gtest/gtest.h>

#include "wallet/actors/audit.hpp"
#include "wallet/engine/limits.hpp"

namespace wallet::actors {
namespace {

const engine::currency eur = *engine::currency::from_code("EUR");

TEST(audit, only_administrative_commands_are_audited) {
  EXPECT_TRUE(is_administrative(engine::freeze{"r"}));
  EXPECT_TRUE(is_administrative(engine::unfreeze{"r"}));
  EXPECT_TRUE(is_administrative(engine::close_wallet{}));
  EXPECT_TRUE(is_administrative(engine::set_kyc_level{engine::kyc::basic, "r"}));
  EXPECT_FALSE(is_administrative(engine::deposit{engine::money{1, eur}}));
  EXPECT_FALSE(is_administrative(engine::open_wallet{"o", eur, 0}));
  EXPECT_FALSE(is_administrative(engine::hold_expire{"h"}));
}

TEST(audit, the_record_names_the_principal_the_reason_the_trace_and_the_key) {
  const engine::command cmd{"w-1", "k-1", engine::set_kyc_level{engine::kyc::full, "passport"}};
  const audit_context asked{"alice-admin", ""};
  const audit_entry e =
      audit_of(cmd, &asked, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(e.principal, "alice-admin");
  EXPECT_EQ(e.action, "set_kyc_level");
  EXPECT_EQ(e.target, "w-1");
  EXPECT_EQ(e.reason, "passport") << "the command's own reason when the context has none";
  EXPECT_EQ(e.trace_id, "0af7651916cd43dd8448eb211c80319c");
  const std::vector<std::pair<std::string, std::string>> details{{"idempotency_key", "k-1"},
                                                                 {"level", "full"}};
  EXPECT_EQ(e.details, details);
}

TEST(audit, the_context_reason_wins_and_close_without_one_is_not_given) {
  const engine::command close{"w-1", "k-2", engine::close_wallet{}};
  const audit_context asked{"bob", "account closed at the owner's request"};
  EXPECT_EQ(audit_of(close, &asked, "").reason, "account closed at the owner's request");
  const audit_entry bare = audit_of(close, nullptr, "");
  EXPECT_EQ(bare.reason, reason_not_given);
  EXPECT_EQ(bare.principal, unattributed_principal);
  EXPECT_EQ(bare.trace_id, "");
}

TEST(audit, a_reason_the_table_would_refuse_is_replaced_and_flagged) {
  const engine::command cmd{"w-1", "k-3", engine::freeze{"line\nbreak"}};
  const audit_entry e = audit_of(cmd, nullptr, "");
  EXPECT_EQ(e.reason, reason_not_given);
  ASSERT_EQ(e.details.size(), 2U);
  EXPECT_EQ(e.details[1].first, "reason_refused");
}

TEST(audit, principals_are_printable_ascii_and_bounded) {
  EXPECT_EQ(recorded_principal(""), unattributed_principal);
  EXPECT_EQ(recorded_principal("svc:payments"), "svc:payments");
  EXPECT_EQ(recorded_principal("caf\xc3\xa9\n"), "caf???");
  EXPECT_EQ(recorded_principal(std::string(300, 'a')).size(), audit_principal_length_max);
}

TEST(audit, trace_ids_come_only_from_valid_traceparents) {
  EXPECT_EQ(trace_id_of("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(trace_id_of(""), "");
  EXPECT_EQ(trace_id_of("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"), "");
  EXPECT_EQ(trace_id_of("00-00000000000000000000000000000000-b7ad6b7169203331-01"), "");
  EXPECT_EQ(trace_id_of("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), "");
}

TEST(audit, reasons_are_bounded_utf8_without_control_characters) {
  EXPECT_TRUE(is_valid_reason("fraud review \xe2\x82\xac 12"));
  EXPECT_TRUE(is_valid_reason(std::string(engine::reason_length_max, 'r')));
  EXPECT_FALSE(is_valid_reason(std::string(engine::reason_length_max + 1, 'r')));
  EXPECT_FALSE(is_valid_reason(""));
  EXPECT_FALSE(is_valid_reason("tab\there"));
  EXPECT_FALSE(is_valid_reason("del\x7f"));
  EXPECT_FALSE(is_valid_reason("cut \xe2\x82"));
}

TEST(audit, utf8_validation_refuses_malformed_sequences) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x92\xb6"));   // U+1F4B6
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));
}

}  // namespace
}  // namespace wallet::actors
