// The audit trail's direct writes and reads, and owner profiles. Profile errors are reported by
// SQLSTATE only: a server message may quote the row (a check's "Failing row contains ..."), and
// personal data must never reach a log.
#include "wallet/postgres/audit.hpp"

#include <algorithm>
#include <limits>
#include <pqxx/pqxx>

#include "commit_plan.hpp"
#include "failure.hpp"
#include "sql_text.hpp"

namespace wallet::postgres {
namespace {

error failed(std::string_view doing) {
  auto f = detail::classify_current_exception(doing, {});
  return error{f.code, std::move(f.detail)};
}

// For statements that carry personal data: the message and its detail are dropped.
error failed_quietly(std::string_view doing) {
  try {
    throw;
  } catch (const pqxx::sql_error& e) {
    return error{detail::classify_sqlstate(e.sqlstate()),
                 std::string(doing) + ": SQLSTATE " + e.sqlstate()};
  } catch (const pqxx::broken_connection&) {
    return error{errc::unavailable, std::string(doing) + ": the connection was lost"};
  } catch (...) {
    auto f = detail::classify_current_exception(doing, {});
    return error{f.code, std::string(doing) + ": failed"};
  }
}

const char* null_if_empty(const std::string& text) { return text.empty() ? nullptr : text.c_str(); }

std::int64_t insert_audit(pqxx::work& tx, const actors::audit_entry& entry) {
  return tx
      .exec_params(
          "INSERT INTO audit_log (principal, action, target, reason, trace_id, details)"
          " VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id",
          entry.principal, entry.action, entry.target, entry.reason, null_if_empty(entry.trace_id),
          detail::audit_details(entry, nullptr))[0][0]
      .as<std::int64_t>();
}

constexpr const char* profile_columns = "owner_id, display_name, email, " WALLET_PG_EPOCH_US(
    "created_at") ", " WALLET_PG_EPOCH_US("updated_at");

owner_profile to_profile(const pqxx::row& row) {
  return owner_profile{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                       detail::from_epoch_us(row[3].as<std::int64_t>()),
                       detail::from_epoch_us(row[4].as<std::int64_t>())};
}

}  // namespace

engine::result<std::int64_t, error> append_audit(pqxx::connection_base& conn,
                                                 const actors::audit_entry& entry) {
  try {
    pqxx::work tx(conn);
    const std::int64_t id = insert_audit(tx, entry);
    tx.commit();
    return id;
  } catch (...) {
    return failed("append_audit " + entry.action);
  }
}

engine::result<std::vector<audit_row>, error> find_audit(pqxx::connection_base& conn,
                                                         const audit_filter& f) {
  const std::string from = f.from ? detail::timestamp_literal(*f.from) : std::string{};
  const std::string to = f.to ? detail::timestamp_literal(*f.to) : std::string{};
  try {
    pqxx::read_transaction tx(conn);
    // Unset filters are NULL: each query is planned with its values, so they fold away.
    const pqxx::result rows = tx.exec_params(
        "SELECT id, " WALLET_PG_EPOCH_US("at") ", principal, action, target, reason,"
        " trace_id, details::text FROM audit_log"
        " WHERE id > $1 AND ($2::text IS NULL OR principal = $2)"
        " AND ($3::text IS NULL OR action = $3) AND ($4::text IS NULL OR target = $4)"
        " AND ($5::timestamptz IS NULL OR at >= $5) AND ($6::timestamptz IS NULL OR at < $6)"
        " ORDER BY id LIMIT $7",
        f.after_id, null_if_empty(f.principal), null_if_empty(f.action), null_if_empty(f.target),
        null_if_empty(from), null_if_empty(to),
        detail::to_bigint(
            std::min<std::uint64_t>(f.limit, std::numeric_limits<std::int64_t>::max())));
    std::vector<audit_row> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      out.push_back(audit_row{
          row[0].as<std::int64_t>(), detail::from_epoch_us(row[1].as<std::int64_t>()),
          row[2].as<std::string>(), row[3].as<std::string>(), row[4].as<std::string>(),
          row[5].as<std::string>(), row[6].is_null() ? std::string{} : row[6].as<std::string>(),
          row[7].as<std::string>()});
    }
    return out;
  } catch (...) {
    return failed("find_audit");
  }
}

engine::result<owner_profile, error> put_profile(pqxx::connection_base& conn,
                                                 const owner_profile& p,
                                                 actors::audit_entry entry) {
  try {
    pqxx::work tx(conn);
    // xmax is 0 on a row this statement inserted, and set on one it updated: created or updated.
    const pqxx::result r = tx.exec_params(
        std::string("INSERT INTO owner_profiles (owner_id, display_name, email) VALUES ($1, $2, $3)"
                    " ON CONFLICT (owner_id) DO UPDATE SET display_name = EXCLUDED.display_name,"
                    " email = EXCLUDED.email, updated_at = now() RETURNING ") +
            profile_columns + ", (xmax = 0)",
        p.owner_id, p.display_name, p.email);
    owner_profile stored = to_profile(r[0]);
    entry.action = r[0][5].as<bool>() ? "profile_created" : "profile_updated";
    insert_audit(tx, entry);
    tx.commit();
    return stored;
  } catch (...) {
    return failed_quietly("put_profile");
  }
}

engine::result<std::optional<owner_profile>, error> find_profile(pqxx::connection_base& conn,
                                                                 const std::string& owner_id) {
  try {
    pqxx::read_transaction tx(conn);
    const pqxx::result r = tx.exec_params(
        std::string("SELECT ") + profile_columns + " FROM owner_profiles WHERE owner_id = $1",
        owner_id);
    if (r.empty()) return std::optional<owner_profile>{};
    return std::optional<owner_profile>{to_profile(r[0])};
  } catch (...) {
    return failed_quietly("find_profile");
  }
}

engine::result<erasure, error> erase_profile(pqxx::connection_base& conn,
                                             const std::string& owner_id,
                                             actors::audit_entry entry) {
  try {
    pqxx::work tx(conn);
    const pqxx::result deleted =
        tx.exec_params("DELETE FROM owner_profiles WHERE owner_id = $1", owner_id);
    erasure done;
    done.existed = deleted.affected_rows() > 0;
    entry.details.emplace_back("existed", done.existed ? "true" : "false");
    done.audit_id = insert_audit(tx, entry);
    tx.commit();
    return done;
  } catch (...) {
    return failed_quietly("erase_profile");
  }
}

}  // namespace wallet::postgres
