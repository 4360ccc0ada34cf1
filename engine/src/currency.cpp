// The ISO 4217 table behind `currency`: every active currency that can hold money, with its
// numeric code and minor-unit exponent, looked up by alphabetic code with a binary search.
#include "wallet/engine/currency.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "wallet/engine/assert.hpp"

namespace wallet::engine {
namespace {

// Source: ISO 4217 list one as maintained by SIX, through amendment 178 (2025) plus the euro
// changeover of Bulgaria (2026-01-01). Codes stay here only while they are current:
//   - withdrawn, so absent: HRK (euro, 2023), SLL (replaced by SLE), ZWL (replaced by ZWG, 2024),
//     ANG (replaced by XCG, which reuses numeric 532, 2025), CUC (amendment 178, 2025),
//     BGN (euro, 2026-01-01; treated like HRK was once the changeover took effect).
//   - present although they are not a country's everyday currency: the fund and index codes with a
//     defined minor unit (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), because ISO gives them an
//     exponent and payment systems do carry them; SVC and VED stay while ISO lists them.
//   - absent on purpose: codes whose minor unit ISO gives as "N.A." (XAU, XAG, XPD, XPT, XDR, XSU,
//     XUA, XBA..XBD, XTS, XXX). They are units of account, metals or test codes, not money here.
// Numeric codes are written without ISO's leading zeros, which C++ would read as octal.
// Index 0 is the "no currency" placeholder a default `currency` points at; from_code never
// returns it, so everything after it must be sorted by code for the binary search.
constexpr auto currency_table = std::to_array<currency_info>({
    {"XXX", 999, 0},  // placeholder, never looked up
    {"AED", 784, 2}, {"AFN", 971, 2}, {"ALL", 8, 2},   {"AMD", 51, 2},  {"AOA", 973, 2},
    {"ARS", 32, 2},  {"AUD", 36, 2},  {"AWG", 533, 2}, {"AZN", 944, 2}, {"BAM", 977, 2},
    {"BBD", 52, 2},  {"BDT", 50, 2},  {"BHD", 48, 3},  {"BIF", 108, 0}, {"BMD", 60, 2},
    {"BND", 96, 2},  {"BOB", 68, 2},  {"BOV", 984, 2}, {"BRL", 986, 2}, {"BSD", 44, 2},
    {"BTN", 64, 2},  {"BWP", 72, 2},  {"BYN", 933, 2}, {"BZD", 84, 2},  {"CAD", 124, 2},
    {"CDF", 976, 2}, {"CHE", 947, 2}, {"CHF", 756, 2}, {"CHW", 948, 2}, {"CLF", 990, 4},
    {"CLP", 152, 0}, {"CNY", 156, 2}, {"COP", 170, 2}, {"COU", 970, 2}, {"CRC", 188, 2},
    {"CUP", 192, 2}, {"CVE", 132, 2}, {"CZK", 203, 2}, {"DJF", 262, 0}, {"DKK", 208, 2},
    {"DOP", 214, 2}, {"DZD", 12, 2},  {"EGP", 818, 2}, {"ERN", 232, 2}, {"ETB", 230, 2},
    {"EUR", 978, 2}, {"FJD", 242, 2}, {"FKP", 238, 2}, {"GBP", 826, 2}, {"GEL", 981, 2},
    {"GHS", 936, 2}, {"GIP", 292, 2}, {"GMD", 270, 2}, {"GNF", 324, 0}, {"GTQ", 320, 2},
    {"GYD", 328, 2}, {"HKD", 344, 2}, {"HNL", 340, 2}, {"HTG", 332, 2}, {"HUF", 348, 2},
    {"IDR", 360, 2}, {"ILS", 376, 2}, {"INR", 356, 2}, {"IQD", 368, 3}, {"IRR", 364, 2},
    {"ISK", 352, 0}, {"JMD", 388, 2}, {"JOD", 400, 3}, {"JPY", 392, 0}, {"KES", 404, 2},
    {"KGS", 417, 2}, {"KHR", 116, 2}, {"KMF", 174, 0}, {"KPW", 408, 2}, {"KRW", 410, 0},
    {"KWD", 414, 3}, {"KYD", 136, 2}, {"KZT", 398, 2}, {"LAK", 418, 2}, {"LBP", 422, 2},
    {"LKR", 144, 2}, {"LRD", 430, 2}, {"LSL", 426, 2}, {"LYD", 434, 3}, {"MAD", 504, 2},
    {"MDL", 498, 2}, {"MGA", 969, 2}, {"MKD", 807, 2}, {"MMK", 104, 2}, {"MNT", 496, 2},
    {"MOP", 446, 2}, {"MRU", 929, 2}, {"MUR", 480, 2}, {"MVR", 462, 2}, {"MWK", 454, 2},
    {"MXN", 484, 2}, {"MXV", 979, 2}, {"MYR", 458, 2}, {"MZN", 943, 2}, {"NAD", 516, 2},
    {"NGN", 566, 2}, {"NIO", 558, 2}, {"NOK", 578, 2}, {"NPR", 524, 2}, {"NZD", 554, 2},
    {"OMR", 512, 3}, {"PAB", 590, 2}, {"PEN", 604, 2}, {"PGK", 598, 2}, {"PHP", 608, 2},
    {"PKR", 586, 2}, {"PLN", 985, 2}, {"PYG", 600, 0}, {"QAR", 634, 2}, {"RON", 946, 2},
    {"RSD", 941, 2}, {"RUB", 643, 2}, {"RWF", 646, 0}, {"SAR", 682, 2}, {"SBD", 90, 2},
    {"SCR", 690, 2}, {"SDG", 938, 2}, {"SEK", 752, 2}, {"SGD", 702, 2}, {"SHP", 654, 2},
    {"SLE", 925, 2}, {"SOS", 706, 2}, {"SRD", 968, 2}, {"SSP", 728, 2}, {"STN", 930, 2},
    {"SVC", 222, 2}, {"SYP", 760, 2}, {"SZL", 748, 2}, {"THB", 764, 2}, {"TJS", 972, 2},
    {"TMT", 934, 2}, {"TND", 788, 3}, {"TOP", 776, 2}, {"TRY", 949, 2}, {"TTD", 780, 2},
    {"TWD", 901, 2}, {"TZS", 834, 2}, {"UAH", 980, 2}, {"UGX", 800, 0}, {"USD", 840, 2},
    {"USN", 997, 2}, {"UYI", 940, 0}, {"UYU", 858, 2}, {"UYW", 927, 4}, {"UZS", 860, 2},
    {"VED", 926, 2}, {"VES", 928, 2}, {"VND", 704, 0}, {"VUV", 548, 0}, {"WST", 882, 2},
    {"XAF", 950, 0}, {"XCD", 951, 2}, {"XCG", 532, 2}, {"XOF", 952, 0}, {"XPF", 953, 0},
    {"YER", 886, 2}, {"ZAR", 710, 2}, {"ZMW", 967, 2}, {"ZWG", 924, 2},
});

// The exact form from_code accepts; no case folding, so "eur" is not a currency.
constexpr bool is_code_form(std::string_view code) noexcept {
  return code.size() == 3 &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Strictly ascending codes also proves the codes unique, which the binary search relies on.
constexpr bool table_is_well_formed() noexcept {
  const currency_info& none = currency_table[0];
  if (none.code != "XXX" || none.numeric != 999 || none.exponent != 0) return false;
  for (std::size_t i = 1; i < currency_table.size(); ++i) {
    const currency_info& entry = currency_table[i];
    if (!is_code_form(entry.code) || entry.code == "XXX") return false;
    if (entry.numeric == 0 || entry.numeric > 999) return false;
    if (i > 1 && !(currency_table[i - 1].code < entry.code)) return false;
  }
  return true;
}

// A numeric code names one currency; a duplicate would mean a withdrawn code was left in (ANG/XCG).
constexpr bool numerics_are_unique() noexcept {
  for (std::size_t i = 0; i < currency_table.size(); ++i) {
    for (std::size_t j = i + 1; j < currency_table.size(); ++j) {
      if (currency_table[i].numeric == currency_table[j].numeric) return false;
    }
  }
  return true;
}

// One major unit (10^exponent minor units) must fit in int64 many times over; ISO's largest is 4.
constexpr std::uint8_t currency_exponent_max = 4;

constexpr bool exponents_in_range() noexcept {
  return std::all_of(currency_table.begin(), currency_table.end(), [](const currency_info& entry) {
    return entry.exponent <= currency_exponent_max;
  });
}

static_assert(table_is_well_formed(), "currency table: XXX first, then valid codes in order");
static_assert(numerics_are_unique(), "currency table: numeric codes must be unique");
static_assert(exponents_in_range(), "currency table: exponent out of range");
static_assert(currency_table.size() <= std::numeric_limits<std::uint16_t>::max(),
              "currency indexes are uint16");

}  // namespace

std::optional<currency> currency::from_code(std::string_view code) noexcept {
  if (!is_code_form(code)) return std::nullopt;
  const auto* const first = currency_table.begin() + 1;  // never the placeholder
  const auto* const found = std::lower_bound(
      first, currency_table.end(), code,
      [](const currency_info& entry, std::string_view key) { return entry.code < key; });
  if (found == currency_table.end() || found->code != code) return std::nullopt;
  return currency(static_cast<std::uint16_t>(found - currency_table.begin()));
}

const currency_info& currency::info() const noexcept {
  WALLET_ASSERT(index_ < currency_table.size());
  return currency_table[index_];
}

std::span<const currency_info> active_currencies() noexcept {
  return std::span<const currency_info>(currency_table).subspan(1);
}

}  // namespace wallet::engine
