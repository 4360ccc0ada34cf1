// Array and timestamp literals for PostgreSQL's text input format.
#include "sql_text.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iterator>

namespace wallet::postgres::detail {

namespace {

// Writes `value` as exactly `width` decimal digits (zero-padded) at `out`.
void put_digits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// The general form (any year, BC included), through snprintf.
void append_timestamp_formatted(std::string& out, int year, unsigned month, unsigned day,
                                const std::chrono::hh_mm_ss<std::chrono::microseconds>& time) {
  // PostgreSQL has no year 0: astronomical year 0 is 1 BC.
  const bool bc = year <= 0;
  char text[64];
  const int written = std::snprintf(
      text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d.%06lld+00%s", bc ? 1 - year : year, month,
      day, static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
      static_cast<int>(time.seconds().count()), static_cast<long long>(time.subseconds().count()),
      bc ? " BC" : "");
  WALLET_ASSERT(written > 0 && static_cast<std::size_t>(written) < sizeof text);
  out.append(text, static_cast<std::size_t>(written));
}

}  // namespace

void append_timestamp_literal(std::string& out, engine::timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> time{t - day};
  const int year = static_cast<int>(ymd.year());
  const auto month = static_cast<unsigned>(ymd.month());
  const auto mday = static_cast<unsigned>(ymd.day());
  if (year < 1 || year > 9999) {
    append_timestamp_formatted(out, year, month, mday, time);
    return;
  }
  // Every commit writes a few of these per row: digits by hand, since snprintf's format parsing
  // was a visible share of the store actor's time. Same text as the general form.
  char text[] = "YYYY-MM-DD hh:mm:ss.uuuuuu+00";
  put_digits(text, static_cast<unsigned>(year), 4);
  put_digits(text + 5, month, 2);
  put_digits(text + 8, mday, 2);
  put_digits(text + 11, static_cast<unsigned>(time.hours().count()), 2);
  put_digits(text + 14, static_cast<unsigned>(time.minutes().count()), 2);
  put_digits(text + 17, static_cast<unsigned>(time.seconds().count()), 2);
  put_digits(text + 20, static_cast<unsigned>(time.subseconds().count()), 6);
  out.append(text, sizeof text - 1);
}

std::string timestamp_literal(engine::timestamp t) {
  std::string out;
  append_timestamp_literal(out, t);
  return out;
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
  // the backslash and the double quote need escaping. Runs without them are copied whole.
  text_.push_back('"');
  const auto special = [](char ch) { return ch == '"' || ch == '\\'; };
  auto run = value.begin();
  for (auto it = std::find_if(run, value.end(), special); it != value.end();
       it = std::find_if(run, value.end(), special)) {
    text_.append(run, it);
    text_.push_back('\\');
    text_.push_back(*it);
    run = it + 1;
  }
  text_.append(run, value.end());
  text_.push_back('"');
}

void array_literal::add_int(std::int64_t value) {
  separate();
  char digits[24];  // an int64 has at most 19 digits and a sign
  const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), value);
  WALLET_ASSERT(ec == std::errc{});
  text_.append(std::begin(digits), end);
}

void array_literal::add_timestamp(engine::timestamp t) {
  separate();
  text_.push_back('"');  // quoted like every text (a literal never holds a quote or a backslash)
  append_timestamp_literal(text_, t);
  text_.push_back('"');
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
