#include "core/retry_policy.hpp"

#include <algorithm>
#include <cmath>

#include "core/json_text.hpp"

namespace nox {

namespace json = boost::json;

namespace {

double number_of(const json::object& o, std::string_view key, double fallback) {
  const json::value* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : fallback;
}

// A whole number as an integer ("1000", not "1E3" in the event a client reads).
json::value number(double v) {
  if (std::floor(v) == v && std::abs(v) < 1e15) return static_cast<std::int64_t>(v);
  return v;
}

// The keywords of the next attempt after an SCF failure: hotter and longer each time.
json::object hotter_scf(const json::object& keywords, int attempt) {
  json::object next = keywords;
  const double temperature = number_of(keywords, "electronic_temperature", 300);
  const double iterations = number_of(keywords, "max_iterations", 250);
  const double wanted_temperature = attempt <= 1 ? 1000 : 3000;
  next["electronic_temperature"] = number(std::max(temperature, wanted_temperature));
  next["max_iterations"] = number(std::min(100000.0, std::max(2 * iterations, 500.0)));
  return next;
}

}  // namespace

RetryPolicy retry_policy_of(const json::object& spec, RetryPolicy server) {
  const json::value* retry = spec.if_contains("retry");
  if (!retry || !retry->is_object()) return server;
  const json::object& r = retry->get_object();
  server.backoff_s = number_of(r, "backoff_s", server.backoff_s);
  server.max_backoff_s = number_of(r, "max_backoff_s", server.max_backoff_s);
  if (const json::value* rules = r.if_contains("rules"); rules && rules->is_bool()) server.rules = rules->get_bool();
  return server;
}

RetryPlan plan_retry(const json::object& spec, const json::object& error, bool engine_retryable, int attempt,
                     const RetryPolicy& policy, double random01) {
  RetryPlan plan;
  const std::string code = text_of(error, "code");
  if (code == "input_rejected") return plan;
  if (policy.rules && code == "scf_not_converged" && text_of(spec, "engine") == "xtb") {
    const json::value* keywords = spec.if_contains("keywords");
    json::object next = hotter_scf(keywords && keywords->is_object() ? keywords->get_object() : json::object{}, attempt);
    plan.spec = spec;
    plan.spec["keywords"] = next;
    plan.changed["keywords"] = json::object{{"electronic_temperature", next.at("electronic_temperature")},
                                            {"max_iterations", next.at("max_iterations")}};
    plan.retry = true;
  } else if (policy.rules && code == "optimization_not_converged" && !text_of(error, "last_xyz").empty()) {
    plan.spec = spec;
    plan.spec["molecule"] = json::object{{"xyz", text_of(error, "last_xyz")}};
    plan.spec.erase("depends_on");  // its molecule is now its own
    plan.changed["molecule"] = "the last geometry of the attempt before";
    plan.retry = true;
  } else {
    plan.retry = engine_retryable;
  }
  if (!plan.retry) return plan;
  const double base = std::max(0.0, policy.backoff_s) * std::pow(2.0, std::max(0, attempt - 1));
  const double capped = std::min(base, std::max(0.0, policy.max_backoff_s));
  const double stretched = capped * (1.0 + policy.jitter * (2.0 * random01 - 1.0));
  plan.delay = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(std::max(0.0, stretched) * 1000.0)));
  return plan;
}

}  // namespace nox
