// W3C Trace Context for requests: a valid `traceparent` is continued (same trace id, a new span
// for this request), anything else starts a new trace. The child traceparent travels into the
// command's context and from there into its events.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wallet::http {

struct trace_context {
  std::string trace_id;  // 32 lower-case hex digits, never all zero
  std::string span_id;   // this request's span: 16 lower-case hex digits
  std::string flags;     // 2 hex digits: the caller's, or "01" (sampled) for a new trace

  // "00-<trace_id>-<span_id>-<flags>": what this request hands on.
  [[nodiscard]] std::string traceparent() const;
};

// The caller's trace id and flags from a traceparent header (version 00 exactly 55 bytes; a later
// version may append fields), or nothing when the header is not one (then a new trace starts).
struct parsed_traceparent {
  std::string trace_id;
  std::string parent_id;
  std::string flags;
};
[[nodiscard]] std::optional<parsed_traceparent> parse_traceparent(std::string_view header);

// The context of a request that came with `header` (empty when none): the caller's trace
// continued, or a new one; a fresh span id either way.
[[nodiscard]] trace_context trace_for(std::string_view header);

}  // namespace wallet::http
