#include "nst/options.h"

#include <array>
#include <utility>

#include "nst/error.h"

namespace nst {
namespace {

// One table per choice: its words in the order a usage message lists them.
template <typename E, std::size_t N>
E parse_word(const std::array<std::pair<E, const char*>, N>& words, const std::string& w) {
  for (const auto& [e, s] : words)
    if (w == s) return e;
  std::string list;
  for (std::size_t i = 0; i < N; ++i) list += std::string(i == 0 ? "" : i + 1 == N ? " or " : ", ") + words[i].second;
  throw UsageError("expected " + list + ", got '" + w + "'");
}

template <typename E, std::size_t N>
const char* word_of(const std::array<std::pair<E, const char*>, N>& words, E e) {
  for (const auto& [x, s] : words)
    if (x == e) return s;
  return "?";
}

constexpr std::array<std::pair<OptimizerKind, const char*>, 2> kOptimizers{{{OptimizerKind::Adam, "adam"}, {OptimizerKind::Lbfgs, "lbfgs"}}};
constexpr std::array<std::pair<ColorMode, const char*>, 3> kColors{
    {{ColorMode::None, "none"}, {ColorMode::Luminance, "luminance"}, {ColorMode::Histogram, "histogram"}}};
constexpr std::array<std::pair<PoolKind, const char*>, 2> kPools{{{PoolKind::Max, "max"}, {PoolKind::Avg, "avg"}}};
constexpr std::array<std::pair<ConvAlgo, const char*>, 3> kAlgos{
    {{ConvAlgo::Direct, "direct"}, {ConvAlgo::Winograd, "winograd"}, {ConvAlgo::Fastest, "fastest"}}};
constexpr std::array<std::pair<Precision, const char*>, 2> kPrecisions{{{Precision::FP32, "fp32"}, {Precision::TF32, "tf32"}}};

}  // namespace

OptimizerKind parse_optimizer(const std::string& w) { return parse_word(kOptimizers, w); }
ColorMode parse_color_mode(const std::string& w) { return parse_word(kColors, w); }
PoolKind parse_pooling(const std::string& w) { return parse_word(kPools, w); }
ConvAlgo parse_conv_algo(const std::string& w) { return parse_word(kAlgos, w); }
Precision parse_precision(const std::string& w) { return parse_word(kPrecisions, w); }

const char* name(OptimizerKind k) { return word_of(kOptimizers, k); }
const char* name(ColorMode m) { return word_of(kColors, m); }
const char* name(PoolKind k) { return word_of(kPools, k); }
const char* name(ConvAlgo a) { return word_of(kAlgos, a); }
const char* name(Precision p) { return word_of(kPrecisions, p); }

}  // namespace nst
