// The reviewer's reads of aml_reviews (migrations 0008, 0010).
#include "wallet/postgres/reviews.hpp"

#include <algorithm>
#include <limits>
#include <pqxx/pqxx>

#include "failure.hpp"
#include "sql_text.hpp"

namespace wallet::postgres {
namespace {

#define WALLET_PG_REVIEW_COLUMNS \
  "review_id, wallet_id, hold_id, command, idempotency_key, amount, currency, reasons, " \
  "status, " WALLET_PG_EPOCH_US("opened_at") ", " WALLET_PG_EPOCH_US(                    \
      "expires_at") ", " WALLET_PG_EPOCH_US("decided_at") ", decided_by, decision_reason, " \
      "transfer_id, destination"

constexpr const char* review_columns = WALLET_PG_REVIEW_COLUMNS;

#undef WALLET_PG_REVIEW_COLUMNS

std::string text_or_empty(const pqxx::field& f) {
  return f.is_null() ? std::string{} : f.as<std::string>();
}

review_row to_review(const pqxx::row& row) {
  review_row r;
  r.review_id = row[0].as<std::string>();
  r.wallet_id = row[1].as<std::string>();
  r.hold_id = row[2].as<std::string>();
  r.command = row[3].as<std::string>();
  r.idempotency_key = row[4].as<std::string>();
  r.amount = row[5].as<std::int64_t>();
  r.currency = row[6].as<std::string>();
  r.reasons = row[7].as<std::string>();
  r.status = row[8].as<std::string>();
  r.opened_at = detail::from_epoch_us(row[9].as<std::int64_t>());
  r.expires_at = detail::from_epoch_us(row[10].as<std::int64_t>());
  if (!row[11].is_null()) r.decided_at = detail::from_epoch_us(row[11].as<std::int64_t>());
  r.decided_by = text_or_empty(row[12]);
  r.decision_reason = text_or_empty(row[13]);
  r.transfer_id = text_or_empty(row[14]);
  r.destination = text_or_empty(row[15]);
  return r;
}

error failed(std::string_view doing) {
  auto f = detail::classify_current_exception(doing, {});
  return error{f.code, std::move(f.detail)};
}

const char* null_if_empty(const std::string& text) { return text.empty() ? nullptr : text.c_str(); }

}  // namespace

engine::result<std::vector<review_row>, error> find_reviews(pqxx::connection_base& conn,
                                                            const review_filter& f) {
  try {
    pqxx::read_transaction tx(conn);
    // Unset filters are NULL and fold away; the cursor is the previous page's last review.
    const pqxx::result rows = tx.exec_params(
        std::string("SELECT ") + review_columns +
            " FROM aml_reviews r WHERE ($1::text IS NULL OR r.status = $1)"
            " AND ($2::text IS NULL OR r.wallet_id = $2)"
            " AND ($3::text IS NULL OR (r.opened_at, r.review_id) >"
            " (SELECT a.opened_at, a.review_id FROM aml_reviews a WHERE a.review_id = $3))"
            " ORDER BY r.opened_at, r.review_id LIMIT $4",
        null_if_empty(f.status), null_if_empty(f.wallet_id), null_if_empty(f.after),
        detail::to_bigint(
            std::min<std::uint64_t>(f.limit, std::numeric_limits<std::int64_t>::max())));
    std::vector<review_row> out;
    out.reserve(rows.size());
    for (const auto& row : rows) out.push_back(to_review(row));
    return out;
  } catch (...) {
    return failed("find_reviews");
  }
}

engine::result<std::optional<review_row>, error> find_review(pqxx::connection_base& conn,
                                                             const std::string& review_id) {
  try {
    pqxx::read_transaction tx(conn);
    const pqxx::result rows = tx.exec_params(
        std::string("SELECT ") + review_columns + " FROM aml_reviews WHERE review_id = $1",
        review_id);
    if (rows.empty()) return std::optional<review_row>{};
    return std::optional<review_row>{to_review(rows[0])};
  } catch (...) {
    return failed("find_review");
  }
}

}  // namespace wallet::postgres
