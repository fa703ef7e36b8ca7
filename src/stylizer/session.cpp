// What a process's stylizations share: one backend, each weights file loaded once, the networks, and each
// style's Grams per size (nst batch computes a style's Grams once for all its rows).
#include <cstdio>

#include "nst/stylizer.h"

namespace nst {

Backend& Session::backend() {
  if (!backend_) backend_ = make_();
  return *backend_;
}

const Weights& Session::weights(const std::string& path) {
  auto it = weights_.find(path);
  if (it == weights_.end()) it = weights_.emplace(path, load_weights(path)).first;
  return it->second;
}

void Session::uploaded(const std::string& path) {
  if (!keep_weights_) weights_.erase(path);
}

Objective& Session::objective(const std::string& weights_path, const LossConfig& c) {
  std::string key = weights_path + "|" + std::to_string(c.pooling == PoolKind::Avg);
  for (int l : c.content_layers) key += "|c" + std::to_string(l);
  for (int l : c.style_layers) key += "|s" + std::to_string(l);
  char w[96];
  std::snprintf(w, sizeof w, "|%.17g|%.17g|%.17g", c.content_weight, c.style_weight, c.tv_weight);
  key += w;
  auto it = objectives_.find(key);
  if (it == objectives_.end()) it = objectives_.emplace(key, std::make_unique<Objective>(backend(), weights(weights_path), c)).first;
  return *it->second;
}

const std::vector<Tensor>& Session::style_grams(Objective& objective, const std::string& key, const Tensor& style) {
  auto it = grams_.find(key);
  if (it != grams_.end()) {
    ++reused_;
    return it->second;
  }
  ++computed_;
  return grams_.emplace(key, objective.style_grams(style)).first->second;
}

}  // namespace nst
