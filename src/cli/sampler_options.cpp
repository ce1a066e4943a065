// Shared sampling flags (see sampler_options.h).
#include "cli/sampler_options.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <random>

#include "core/error.h"
#include "core/format.h"

namespace loom::cli {
namespace {

// A whole string as a float (strtof: decimal, exponent, "inf"); nullopt if anything is
// left over or nothing was read.
std::optional<float> parse_float(const std::string& text) {
    if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    float value = std::strtof(text.c_str(), &end);
    if (end != text.c_str() + text.size() || errno == ERANGE) return std::nullopt;
    return value;
}

}  // namespace

runtime::LogitBias parse_logit_bias(std::string_view spec) {
    auto bad = [spec](const std::string& why) {
        return Error(ErrorCode::InvalidArgument,
                     "logit bias " + quote_for_message(spec) + ": " + why +
                         " (expected TOKEN+BIAS, TOKEN-BIAS or TOKEN=BIAS, "
                         "e.g. 15043+1 or 15043-inf)");
    };
    size_t digits = 0;
    while (digits < spec.size() && spec[digits] >= '0' && spec[digits] <= '9') ++digits;
    if (digits == 0) throw bad("no token id");
    if (digits > 9) throw bad("token id out of range");  // more than any vocabulary holds
    if (digits == spec.size()) throw bad("no bias");
    const char sign = spec[digits];
    if (sign != '+' && sign != '-' && sign != '=')
        throw bad("expected +, - or = after the token id");
    const std::string number(spec.substr(digits + 1));
    if (number.empty()) throw bad("no bias after the sign");
    // After + or - the sign is already given: the number itself must be unsigned.
    if (sign != '=' && !number.empty() && (number.front() == '+' || number.front() == '-')) {
        throw bad("two signs");
    }
    std::optional<float> value = parse_float(number);
    if (!value) throw bad("the bias is not a number");
    const float bias = sign == '-' ? -*value : *value;
    if (std::isnan(bias)) throw bad("the bias is not a number");
    if (bias == std::numeric_limits<float>::infinity())
        throw bad("+inf is not allowed (-inf bans a token)");
    return runtime::LogitBias{
        static_cast<tokenizer::TokenId>(std::stol(std::string(spec.substr(0, digits)))), bias};
}

void add_sampler_options(CLI::App& app, runtime::SamplerParams& params, int64_t& seed) {
    app.add_option("--temp", params.temperature, "Temperature; 0 is greedy")
        ->check(CLI::Range(0.0, 100.0));
    app.add_option("--top-k", params.top_k, "Top-k (0: off)")->check(CLI::Range(0, 1 << 24));
    app.add_option("--top-p", params.top_p, "Top-p (1: off)")->check(CLI::Range(0.0, 1.0));
    app.add_option("--min-p", params.min_p, "Min-p (0: off)")->check(CLI::Range(0.0, 1.0));
    app.add_option("--typical", params.typical_p, "Locally typical sampling p (1: off)")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--repeat-penalty", params.repeat_penalty, "Repetition penalty (1: off)")
        ->check(CLI::Validator(
            [](std::string& text) -> std::string {
                std::optional<float> value = parse_float(text);
                return value && *value > 0.0f && *value <= 100.0f
                           ? ""
                           : "expected a number in (0, 100], got " + text;
            },
            "(0, 100]"));
    app.add_option("--repeat-last-n", params.penalty_last_n,
                   "Tokens the penalties look back over (0: off, -1: the context size)")
        ->check(CLI::Range(-1, 1 << 24));
    // The penalties' bounds only keep the arithmetic finite; useful values lie within +-2.
    app.add_option("--frequency-penalty,--freq-penalty", params.frequency_penalty,
                   "Frequency penalty: subtracted per occurrence in the last n tokens (0: off)")
        ->check(CLI::Range(-100.0, 100.0));
    app.add_option("--presence-penalty", params.presence_penalty,
                   "Presence penalty: subtracted once for a token in the last n tokens (0: off)")
        ->check(CLI::Range(-100.0, 100.0));
    app.add_option_function<std::vector<std::string>>(
           "-l,--logit-bias",
           [&params](const std::vector<std::string>& specs) {
               for (const std::string& spec : specs)
                   params.logit_bias.push_back(parse_logit_bias(spec));
           },
           "Add BIAS to TOKEN's logit, as TOKEN+BIAS, TOKEN-BIAS or TOKEN=BIAS; -inf bans it "
           "(repeatable)")
        ->type_name("TOKEN(+|-)BIAS")
        ->allow_extra_args(false)
        ->check(CLI::Validator(
            [](std::string& spec) -> std::string {
                try {
                    parse_logit_bias(spec);
                    return {};
                } catch (const Error& e) {
                    return e.what();
                }
            },
            ""));
    app.add_option("-s,--seed", seed, "RNG seed (default: random)");
}

void add_stop_option(CLI::App& app, std::vector<std::string>& stop) {
    app.add_option("--stop", stop, "Stop the output before this text (repeatable; taken literally)")
        ->type_name("TEXT")
        ->allow_extra_args(false)
        ->check(CLI::Validator(
            [](std::string& text) -> std::string {
                return text.empty() ? "a stop string cannot be empty" : "";
            },
            ""));
}

runtime::SamplerParams resolve_seed(runtime::SamplerParams params, int64_t seed) {
    params.seed = seed >= 0 ? static_cast<uint64_t>(seed) : std::random_device{}();
    return params;
}

}  // namespace loom::cli
