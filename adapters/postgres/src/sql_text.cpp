// Array and timestamp literals for PostgreSQL's text input format.
#include "sql_text.hpp"

#include <chrono>
#include <cstdio>

namespace wallet::postgres::detail {

std::string timestamp_literal(engine::timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> time{t - day};
  const int year = static_cast<int>(ymd.year());
  // PostgreSQL has no year 0: astronomical year 0 is 1 BC.
  const bool bc = year <= 0;
  char text[64];
  const int written = std::snprintf(
      text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d.%06lld+00%s", bc ? 1 - year : year,
      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
      static_cast<int>(time.seconds().count()), static_cast<long long>(time.subseconds().count()),
      bc ? " BC" : "");
  WALLET_ASSERT(written > 0 && static_cast<std::size_t>(written) < sizeof text);
  return {text, static_cast<std::size_t>(written)};
}

void array_literal::separate() {
  if (size_ > 0) {
    text_.push_back(',');
  }
  ++size_;
}

void array_literal::add_text(std::string_view value) {
  separate();
  // Always quoted, so that "NULL", empty strings and delimiters stay text; inside the quotes only
  // the backslash and the double quote need escaping.
  text_.push_back('"');
  for (const char ch : value) {
    if (ch == '"' || ch == '\\') {
      text_.push_back('\\');
    }
    text_.push_back(ch);
  }
  text_.push_back('"');
}

void array_literal::add_int(std::int64_t value) {
  separate();
  text_.append(std::to_string(value));
}

void array_literal::add_null() {
  separate();
  text_.append("NULL");
}

std::string array_literal::finish() && {
  text_.push_back('}');
  return std::move(text_);
}

}  // namespace wallet::postgres::detail
