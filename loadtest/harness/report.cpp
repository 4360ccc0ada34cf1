// The report in its three forms. JSON carries everything; Markdown is for people and links the
// chart; the SVG is drawn here by hand (no plotting dependency).
#include "report.hpp"

#include <nats/nats.h>
#include <sys/utsname.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/version.hpp>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <pqxx/version>
#include <sstream>
#include <thread>

#include "nats_transport.hpp"

namespace wallet::loadtest {
namespace {

namespace json = boost::json;

std::string fixed(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw harness_error("cannot write " + path);
}

// The service's CPU time over the whole phase (warm-up and drain included) per command sent in it:
// less sensitive to other work on the machine than a rate. 0 when the service was not sampled.
double service_cpu_us_per_command(const phase_report& p) {
  if (p.stats.commands_sent == 0) return 0;
  return p.cpu.service_cores * p.cpu.wall_s * 1e6 / static_cast<double>(p.stats.commands_sent);
}

json::object latency_json(const latency_summary& l) {
  return {{"count", l.count}, {"mean_ms", l.mean}, {"p50_ms", l.p50}, {"p90_ms", l.p90},
          {"p99_ms", l.p99},  {"p999_ms", l.p999}, {"max_ms", l.max}};
}

json::object counts_json(const std::map<std::string, std::uint64_t>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

json::object phase_json(const phase_report& p) {
  const phase_stats& s = p.stats;
  json::array timeline;
  for (const timeline_point& t : s.timeline) {
    timeline.push_back({{"at_s", t.at_s},
                        {"warmup", t.warmup},
                        {"answered_per_s", t.answered_per_s},
                        {"credited_per_s", t.credited_per_s},
                        {"p50_ms", t.p50_ms},
                        {"p99_ms", t.p99_ms},
                        {"max_ms", t.max_ms},
                        {"errors", t.errors},
                        {"outstanding", t.outstanding},
                        {"service_rss_kb", t.service_rss_kb}});
  }
  json::object by_op;
  for (const auto& [op_name, l] : p.by_op) by_op[op_name] = latency_json(l);
  return {{"name", s.name},
          {"model", s.load.how == load_settings::model::closed ? "closed" : "open"},
          {"concurrency", s.load.concurrency},
          {"rate", s.load.rate},
          {"jobs_started", s.jobs_started},
          {"commands_sent", s.commands_sent},
          {"measured_answers", s.measured_answers},
          {"measured_s", s.measured_s},
          {"seconds", s.seconds},
          {"throughput_per_s", s.throughput()},
          {"send_lag_max_ms", s.send_lag_max_ms},
          {"transfers_accepted", s.transfers_accepted},
          {"transfers_credited", s.transfers_credited},
          {"credited_per_s", s.credited_per_s},
          {"latency", latency_json(p.all)},
          {"latency_by_op", std::move(by_op)},
          {"transfer_complete", latency_json(p.transfer_complete)},
          {"answers", counts_json(s.answers)},
          {"errors", counts_json(s.errors)},
          {"cpu_cores",
           {{"machine", p.cpu.busy_cores},
            {"harness", p.cpu.self_cores},
            {"postgres", p.cpu.postgres_cores},
            {"service", p.cpu.service_cores},
            {"other", p.cpu.foreign_cores}}},
          {"service_cpu_us_per_command", service_cpu_us_per_command(p)},
          {"timeline", std::move(timeline)}};
}

json::object target_json(const target_report& t) {
  json::array phases;
  for (const phase_report& p : t.phases) phases.push_back(phase_json(p));
  json::array checks;
  for (const check_result& c : t.verification.checks) {
    json::array examples;
    for (const std::string& e : c.examples) examples.emplace_back(e);
    checks.push_back({{"name", c.name},
                      {"result", std::string(to_string(c.outcome))},
                      {"checked", c.checked},
                      {"failures", c.failures},
                      {"note", c.note},
                      {"examples", std::move(examples)}});
  }
  json::object rss;
  for (const auto& [when, kb] : t.service_rss_kb) rss[when] = kb;
  return {{"transport", t.transport},    {"service", t.service},
          {"phases", std::move(phases)}, {"verified", t.verification.ok()},
          {"checks", std::move(checks)}, {"service_rss_kb", std::move(rss)}};
}

}  // namespace

// ---- facts

machine_facts read_machine_facts() {
  machine_facts m;
  m.cores = std::thread::hardware_concurrency();
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.starts_with("model name")) {
      m.cpu_model = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.starts_with("MemTotal:")) m.memory_kb = std::strtoll(line.c_str() + 9, nullptr, 10);
  }
  utsname u{};
  if (uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
  m.compiler = std::string("GCC ") + __VERSION__;
  m.libraries = std::string("NATS.c ") + nats_GetVersion() + ", Boost " +
                std::to_string(BOOST_VERSION / 100000) + "." +
                std::to_string(BOOST_VERSION / 100 % 1000) + ", libpqxx " + PQXX_VERSION;
  return m;
}

phase_report make_phase_report(phase_stats stats, const latency_set& latency,
                               const cpu_usage& cpu) {
  phase_report p;
  p.stats = std::move(stats);
  p.all = summarise(latency.all, 1e-6);
  for (std::size_t i = 0; i < op_count; ++i) {
    if (latency.by_op[i].count() == 0) continue;
    p.by_op[std::string(to_string(static_cast<op>(i)))] = summarise(latency.by_op[i], 1e-6);
  }
  p.transfer_complete = summarise(latency.transfer_complete, 1e-6);
  p.cpu = cpu;
  return p;
}

const phase_report* target_report::run_phase() const {
  return phases.empty() ? nullptr : &phases.back();
}

std::optional<double> run_report::ratio() const {
  if (!baseline || baseline->run_phase() == nullptr || main.run_phase() == nullptr) {
    return std::nullopt;
  }
  const double base = baseline->run_phase()->stats.throughput();
  return base > 0 ? std::optional(main.run_phase()->stats.throughput() / base) : std::nullopt;
}

bool run_report::ok() const {
  return main.verification.ok() && (!baseline || baseline->verification.ok());
}

// ---- JSON

void write_json(const run_report& r, const std::string& path) {
  json::object settings;
  for (const auto& [k, v] : r.settings) settings[k] = v;
  const machine_facts& m = r.machine;
  json::object root{{"title", r.title},
                    {"ok", r.ok()},
                    {"settings", std::move(settings)},
                    {"machine",
                     {{"cores", m.cores},
                      {"cpu", m.cpu_model},
                      {"memory_kb", m.memory_kb},
                      {"kernel", m.kernel},
                      {"compiler", m.compiler},
                      {"libraries", m.libraries}}},
                    {"main", target_json(r.main)}};
  if (r.postgres) {
    const server_facts& f = *r.postgres;
    root["postgres"] = {{"version", f.version},
                        {"fsync", f.fsync},
                        {"synchronous_commit", f.synchronous_commit},
                        {"full_page_writes", f.full_page_writes},
                        {"shared_buffers", f.shared_buffers}};
  }
  if (r.baseline) root["baseline"] = target_json(*r.baseline);
  if (const auto ratio = r.ratio()) root["ratio_to_baseline"] = *ratio;
  write_file(path, json::serialize(root) + "\n");
}

// ---- Markdown

namespace {

std::string latency_row(const std::string& what, const latency_summary& l) {
  return "| " + what + " | " + std::to_string(l.count) + " | " + fixed(l.p50, 2) + " | " +
         fixed(l.p90, 2) + " | " + fixed(l.p99, 2) + " | " + fixed(l.p999, 2) + " | " +
         fixed(l.max, 2) + " |\n";
}

std::string target_markdown(const target_report& t) {
  std::ostringstream md;
  md << "### " << t.transport << "\n\n" << t.service << "\n\n";
  md << "| phase | jobs | commands | measured s | answers/s | transfers credited/s |"
        " cores: machine / harness / PostgreSQL / service / other | service CPU per command |"
        "\n|---|---|---|---|---|---|---|---|\n";
  for (const phase_report& p : t.phases) {
    const phase_stats& s = p.stats;
    md << "| " << s.name << " | " << s.jobs_started << " | " << s.commands_sent << " | "
       << fixed(s.measured_s, 1) << " | " << fixed(s.throughput(), 0) << " | "
       << fixed(s.credited_per_s, 0) << " | " << fixed(p.cpu.busy_cores, 2) << " / "
       << fixed(p.cpu.self_cores, 2) << " / " << fixed(p.cpu.postgres_cores, 2) << " / "
       << fixed(p.cpu.service_cores, 2) << " / " << fixed(p.cpu.foreign_cores, 2) << " | "
       << fixed(service_cpu_us_per_command(p), 0) << " us |\n";
  }
  if (const phase_report* run = t.run_phase()) {
    md << "\nLatency of the measured run (ms; open loop: from the intended send time)\n\n"
       << "| what | count | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|\n"
       << latency_row("all commands", run->all);
    for (const auto& [name, l] : run->by_op) md << latency_row(name, l);
    if (run->transfer_complete.count > 0) {
      md << latency_row("transfer: sent -> credit event", run->transfer_complete);
    }
    md << "\nAnswers: ";
    for (const auto& [k, v] : run->stats.answers) md << k << " " << v << "; ";
    md << "\n\nErrors by kind: ";
    if (run->stats.errors.empty()) md << "none";
    for (const auto& [k, v] : run->stats.errors) md << "`" << k << "` " << v << "; ";
    md << "\n";
  }
  md << "\nVerification: **" << (t.verification.ok() ? "passed" : "FAILED") << "**\n\n"
     << "| check | result | checked | failures | note |\n|---|---|---|---|---|\n";
  for (const check_result& c : t.verification.checks) {
    md << "| " << c.name << " | " << to_string(c.outcome) << " | " << c.checked << " | "
       << c.failures << " | " << c.note << " |\n";
  }
  for (const check_result& c : t.verification.checks) {
    for (const std::string& e : c.examples) md << "- " << c.name << ": `" << e << "`\n";
  }
  if (!t.service_rss_kb.empty()) {
    md << "\nService memory (RSS): ";
    for (const auto& [when, kb] : t.service_rss_kb) md << when << " " << kb / 1024 << " MiB; ";
    md << "\n";
  }
  return md.str();
}

}  // namespace

void write_markdown(const run_report& r, const std::string& path, const std::string& chart_file) {
  std::ostringstream md;
  md << "# " << r.title << "\n\n";
  if (const auto ratio = r.ratio()) {
    md << "**" << fixed(*ratio, 2) << "x** the naive baseline's throughput, same workload, same "
       << "PostgreSQL.\n\n";
  }
  md << "Verified: **" << (r.ok() ? "yes" : "NO") << "**\n\n![throughput and latency]("
     << chart_file << ")\n\n## Settings\n\n| setting | value |\n|---|---|\n";
  for (const auto& [k, v] : r.settings) md << "| " << k << " | " << v << " |\n";
  const machine_facts& m = r.machine;
  md << "\n## Machine\n\n"
     << m.cores << " cores (" << m.cpu_model << "), " << m.memory_kb / 1024 << " MiB, " << m.kernel
     << "; " << m.compiler << "; " << m.libraries << "\n";
  if (r.postgres) {
    const server_facts& f = *r.postgres;
    md << "\nPostgreSQL " << f.version << ": fsync=" << f.fsync
       << ", synchronous_commit=" << f.synchronous_commit
       << ", full_page_writes=" << f.full_page_writes << ", shared_buffers=" << f.shared_buffers
       << "\n";
  }
  md << "\n## Results\n\n" << target_markdown(r.main);
  if (r.baseline) md << "\n" << target_markdown(*r.baseline);
  write_file(path, md.str());
}

// ---- SVG

namespace {

constexpr double chart_width = 900;
constexpr double panel_height = 220;
constexpr double margin_left = 70;
constexpr double margin_right = 20;
constexpr double margin_top = 40;
constexpr double panel_gap = 50;

// A round step for about five ticks up to `top`.
double tick_step(double top) {
  if (top <= 0) return 1;
  const double raw = top / 5;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * magnitude) return m * magnitude;
  }
  return 10 * magnitude;
}

struct panel {
  double top = 0;    // y of the panel's top edge
  double x_max = 1;  // seconds
  double y_max = 1;  // value
  [[nodiscard]] double x(double seconds) const {
    return margin_left + (chart_width - margin_left - margin_right) * seconds / x_max;
  }
  [[nodiscard]] double y(double v) const {
    return top + panel_height - panel_height * std::min(v, y_max) / y_max;
  }
};

std::string axes(const panel& p, const std::string& label) {
  std::ostringstream s;
  const double step_y = tick_step(p.y_max);
  const auto ticks_y = static_cast<int>(std::floor(p.y_max * 1.0001 / step_y));
  for (int k = 0; k <= ticks_y; ++k) {
    const double v = k * step_y;
    s << "<line x1='" << margin_left << "' x2='" << chart_width - margin_right << "' y1='" << p.y(v)
      << "' y2='" << p.y(v) << "' stroke='#ddd'/>"
      << "<text x='" << margin_left - 6 << "' y='" << p.y(v) + 4
      << "' text-anchor='end' font-size='11'>" << fixed(v, v < 10 && step_y < 1 ? 1 : 0)
      << "</text>\n";
  }
  const double step_x = tick_step(p.x_max);
  const auto ticks_x = static_cast<int>(std::floor(p.x_max * 1.0001 / step_x));
  for (int k = 0; k <= ticks_x; ++k) {
    const double t = k * step_x;
    s << "<text x='" << p.x(t) << "' y='" << p.top + panel_height + 14
      << "' text-anchor='middle' font-size='11'>" << fixed(t, 0) << " s</text>\n";
  }
  s << "<text x='14' y='" << p.top + panel_height / 2
    << "' font-size='12' transform='rotate(-90 14 " << p.top + panel_height / 2
    << ")' text-anchor='middle'>" << label << "</text>\n"
    << "<rect x='" << margin_left << "' y='" << p.top << "' width='"
    << chart_width - margin_left - margin_right << "' height='" << panel_height
    << "' fill='none' stroke='#888'/>\n";
  return s.str();
}

std::string line(const panel& p, const std::vector<timeline_point>& t,
                 double timeline_point::*field, const char* colour, const char* dash) {
  std::ostringstream s;
  s << "<polyline fill='none' stroke='" << colour << "' stroke-width='1.6' stroke-dasharray='"
    << dash << "' points='";
  for (const timeline_point& pt : t) {
    s << fixed(p.x(pt.at_s), 1) << "," << fixed(p.y(pt.*field), 1) << " ";
  }
  s << "'/>\n";
  return s.str();
}

std::string legend(double x, double y, const char* colour, const char* dash,
                   const std::string& text) {
  std::ostringstream s;
  s << "<line x1='" << x << "' x2='" << x + 24 << "' y1='" << y << "' y2='" << y << "' stroke='"
    << colour << "' stroke-width='2' stroke-dasharray='" << dash << "'/><text x='" << x + 30
    << "' y='" << y + 4 << "' font-size='11'>" << text << "</text>\n";
  return s.str();
}

std::string warmup_shade(const panel& p, double end) {
  if (end <= 0) return {};
  std::ostringstream s;
  s << "<rect x='" << p.x(0) << "' y='" << p.top << "' width='" << p.x(end) - p.x(0) << "' height='"
    << panel_height << "' fill='#f3f3f3'/><text x='" << p.x(0) + 4 << "' y='" << p.top + 12
    << "' font-size='10' fill='#888'>warm-up</text>\n";
  return s.str();
}

double max_of(const std::vector<timeline_point>& t, double timeline_point::*field) {
  double m = 0;
  for (const timeline_point& pt : t) m = std::max(m, pt.*field);
  return m;
}

}  // namespace

std::string svg_chart(const std::string& title, const std::vector<timeline_point>& timeline,
                      double warmup_s, const std::vector<timeline_point>* baseline) {
  panel rate{margin_top, 1, 1};
  panel lat{margin_top + panel_height + panel_gap, 1, 1};
  for (const auto* t : {&timeline, baseline}) {
    if (t == nullptr || t->empty()) continue;
    rate.x_max = lat.x_max = std::max(rate.x_max, t->back().at_s);
    rate.y_max = std::max({rate.y_max, max_of(*t, &timeline_point::answered_per_s),
                           max_of(*t, &timeline_point::credited_per_s)});
    lat.y_max = std::max(lat.y_max, max_of(*t, &timeline_point::p99_ms));
  }
  rate.y_max = tick_step(rate.y_max) * std::ceil(rate.y_max * 1.05 / tick_step(rate.y_max));
  lat.y_max = tick_step(lat.y_max) * std::ceil(lat.y_max * 1.05 / tick_step(lat.y_max));
  const double height = lat.top + panel_height + 60;
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << chart_width << "' height='" << height
    << "' font-family='sans-serif'>\n<rect width='100%' height='100%' fill='white'/>\n"
    << "<text x='" << margin_left << "' y='22' font-size='14' font-weight='bold'>" << title
    << "</text>\n"
    << warmup_shade(rate, std::min(warmup_s, rate.x_max))
    << warmup_shade(lat, std::min(warmup_s, lat.x_max)) << axes(rate, "answers per second")
    << axes(lat, "latency ms (p99 clipped to axis)")
    << line(rate, timeline, &timeline_point::answered_per_s, "#1f77b4", "none")
    << line(rate, timeline, &timeline_point::credited_per_s, "#2ca02c", "4 3")
    << line(lat, timeline, &timeline_point::p50_ms, "#1f77b4", "none")
    << line(lat, timeline, &timeline_point::p99_ms, "#d62728", "none");
  const double ly = height - 22;
  s << legend(margin_left, ly, "#1f77b4", "none", "answered/s, p50")
    << legend(margin_left + 170, ly, "#2ca02c", "4 3", "transfers credited/s")
    << legend(margin_left + 340, ly, "#d62728", "none", "p99");
  if (baseline != nullptr && !baseline->empty()) {
    s << line(rate, *baseline, &timeline_point::answered_per_s, "#7f7f7f", "2 2")
      << line(lat, *baseline, &timeline_point::p99_ms, "#ff9896", "2 2")
      << legend(margin_left + 450, ly, "#7f7f7f", "2 2", "naive answered/s")
      << legend(margin_left + 620, ly, "#ff9896", "2 2", "naive p99");
  }
  s << "</svg>\n";
  return s.str();
}

void write_svg(const run_report& r, const std::string& path) {
  static const std::vector<timeline_point> none;
  const phase_report* run = r.main.run_phase();
  const phase_report* base = r.baseline ? r.baseline->run_phase() : nullptr;
  write_file(path, svg_chart(r.title, run != nullptr ? run->stats.timeline : none,
                             run != nullptr ? run->stats.load.warmup_s : 0,
                             base != nullptr ? &base->stats.timeline : nullptr));
}

// ---- terminal

void print_summary(const run_report& r) {
  const auto print_target = [](const target_report& t) {
    const phase_report* run = t.run_phase();
    if (run == nullptr) return;
    std::printf(
        "%-6s %10.0f answers/s  p50 %7.2f  p90 %7.2f  p99 %7.2f  p99.9 %7.2f  max %8.2f ms"
        "  verified: %s\n",
        t.transport.c_str(), run->stats.throughput(), run->all.p50, run->all.p90, run->all.p99,
        run->all.p999, run->all.max, t.verification.ok() ? "yes" : "NO");
    for (const check_result& c : t.verification.checks) {
      if (c.outcome != check_result::state::failed) continue;
      std::printf("  FAILED %s: %s\n", c.name.c_str(), c.note.c_str());
      for (const std::string& e : c.examples) std::printf("    %s\n", e.c_str());
    }
  };
  print_target(r.main);
  if (r.baseline) print_target(*r.baseline);
  if (const auto ratio = r.ratio()) std::printf("ratio to the naive baseline: %.2fx\n", *ratio);
  const auto result = [](const char* key, double v) { std::printf("RESULT %s %.3f\n", key, v); };
  if (const phase_report* run = r.main.run_phase()) {
    result("throughput", run->stats.throughput());
    result("credited_per_s", run->stats.credited_per_s);
    result("p50_ms", run->all.p50);
    result("p99_ms", run->all.p99);
    result("p999_ms", run->all.p999);
    result("transfer_complete_p99_ms", run->transfer_complete.p99);
    result("service_cpu_us_per_command", service_cpu_us_per_command(*run));
  }
  if (r.baseline && r.baseline->run_phase() != nullptr) {
    result("baseline_throughput", r.baseline->run_phase()->stats.throughput());
    result("baseline_credited_per_s", r.baseline->run_phase()->stats.credited_per_s);
    result("baseline_p99_ms", r.baseline->run_phase()->all.p99);
  }
  if (const auto ratio = r.ratio()) result("ratio", *ratio);
  // A run whose checks did not run (--no-verify) is not verified.
  const bool checked = !r.main.verification.checks.empty();
  std::printf("RESULT verified %d\n", checked && r.ok() ? 1 : 0);
  std::fflush(stdout);
}

}  // namespace wallet::loadtest
