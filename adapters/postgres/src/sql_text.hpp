// Text forms PostgreSQL reads exactly: array literals (one parameter carries a whole column of a
// batch, unpacked by unnest()) and timestamptz literals. Internal to the adapter.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "wallet/engine/assert.hpp"
#include "wallet/engine/time.hpp"

namespace wallet::postgres::detail {

// "2026-11-30 03:36:26.870931+00"; years before 1 AD in PostgreSQL's "... BC" form.
[[nodiscard]] std::string timestamp_literal(engine::timestamp t);
// The same, appended to `out`.
void append_timestamp_literal(std::string& out, engine::timestamp t);

// Microseconds since the Unix epoch as read back by the epoch_us() SQL expression below.
[[nodiscard]] inline engine::timestamp from_epoch_us(std::int64_t us) {
  return engine::timestamp{engine::duration{us}};
}

// A timestamptz column as bigint microseconds since the Unix epoch: exact (extract returns
// numeric).
#define WALLET_PG_EPOCH_US(column) "(extract(epoch FROM " column ") * 1000000)::bigint"

// A one-dimensional array literal, "{...}", built element by element.
class array_literal {
 public:
  array_literal() { text_.push_back('{'); }

  void add_text(std::string_view value);
  void add_int(std::int64_t value);
  void add_null();
  void add_timestamp(engine::timestamp t);

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  // The literal, closed. The builder must not be used afterwards.
  [[nodiscard]] std::string finish() &&;

 private:
  void separate();

  std::string text_;
  std::size_t size_ = 0;
};

// An unsigned count or version as a bigint: they never reach 2^63 (asserted).
[[nodiscard]] inline std::int64_t to_bigint(std::uint64_t value) {
  WALLET_ASSERT(value <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  return static_cast<std::int64_t>(value);
}

}  // namespace wallet::postgres::detail
