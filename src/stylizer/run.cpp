// A stylization's run: the coarse-to-fine stages, each with its targets, its starting image and the
// optimiser's iterations, and what the observer is told along the way.
#include <cmath>
#include <optional>

#include "nst/color.h"
#include "nst/error.h"
#include "nst/image.h"
#include "nst/network.h"
#include "nst/optim.h"
#include "nst/stylizer.h"
#include "resume.h"

namespace nst {

struct Stylization::Run {
  Stylization& s;
  const StylizeOptions& o;
  StylizeObserver& observer;
  const Identity& identity;
  Backend& be;
  Objective& objective;
  std::optional<Checkpoint> resume;  // applied when its stage starts
  Tensor content;                    // the current stage's content, on the host
  std::vector<LossRow> history;      // every row so far, all stages (and those of the run resumed)
  StylizeResult result;

  void row(int k, int iteration, const LossValues& v) {
    history.push_back({k, iteration, v});
    observer.loss(history.back());
  }

  // The image as written: on the host, with the content's chroma put back in luminance mode.
  Tensor final_image(const Tensor& X) {
    Tensor host = be.to_host(X);
    return o.colors == ColorMode::Luminance ? recombine_luminance(host, content) : host;
  }

  // The styles at this stage's size, with their colours controlled (Gatys et al. 2017): luminance only, the
  // content's chroma being put back when the image is written; or each style's colours matched to the
  // content's first.
  std::vector<Tensor> styles_at(int size) {
    std::vector<Tensor> styles;
    for (const Tensor& st : s.styles0_) {
      auto [sh, sw] = fit_long_side(st.shape().h, st.shape().w, s.style_size(size));
      Tensor t = resize_image(st, sh, sw);
      if (o.colors == ColorMode::Luminance) t = match_luminance(t, content);
      else if (o.colors == ColorMode::Histogram) t = match_color_histogram(t, content);
      styles.push_back(std::move(t));
    }
    return styles;
  }

  void set_targets(const std::vector<Tensor>& styles) {
    objective.set_content(o.colors == ColorMode::Luminance ? luminance_image(content) : content);
    if (o.colors != ColorMode::None) {
      objective.set_styles(styles, o.style_blend);
      return;
    }
    // The styles as loaded and sized do not depend on the content: their Grams serve every run of the session.
    std::vector<std::vector<Tensor>> grams;
    for (std::size_t i = 0; i < styles.size(); ++i) {
      std::string key = o.weights + "|" + layer_list_names(o.style_layers) + "|" + name(o.pooling) + "|" + o.styles[i] + "|" +
                        styles[i].shape().str();
      grams.push_back(s.session_.style_grams(objective, key, styles[i]));
    }
    objective.set_style_grams(grams, o.style_blend);
  }

  Tensor start_image(std::size_t k, const Tensor& previous, int H, int W) {
    Tensor init;
    if (k > 0) return resize_image(be.to_host(previous), H, W);
    if (o.init == InitKind::Content) init = content;
    else if (o.init == InitKind::Random) init = noise_image(H, W, o.seed);
    else init = resize_image(s.init0_, H, W);
    return o.colors == ColorMode::Luminance ? luminance_image(init) : init;
  }

  // One stage at sizes_[k]. Returns the result on the device.
  Tensor stage(std::size_t k, const Tensor& previous) {
    const int stages = int(s.sizes_.size());
    const bool final_stage = int(k) + 1 == stages;
    auto [H, W] = fit_long_side(s.content0_.shape().h, s.content0_.shape().w, s.sizes_[k]);
    content = resize_image(s.content0_, H, W);
    std::vector<Tensor> styles = styles_at(s.sizes_[k]);
    Tensor init = start_image(k, previous, H, W);
    set_targets(styles);
    if (final_stage) {
      std::vector<std::pair<std::string, Tensor>> inputs = {{"content: " + o.content, content}};
      for (std::size_t i = 0; i < styles.size(); ++i) inputs.push_back({"style: " + o.styles[i], styles[i]});
      if (!s.init0_.empty()) inputs.push_back({"init: " + o.init_file, resize_image(s.init0_, H, W)});
      observer.inputs(inputs);
    }
    observer.stage(int(k), stages, H, W);

    Evaluate f = [&](const Tensor& X, Tensor& g) { return objective.evaluate(X, g); };
    std::unique_ptr<Optimizer> opt = o.optimizer == OptimizerKind::Adam ? make_adam(be, f, o.lr > 0 ? o.lr : kAdamLr)
                                                                         : make_lbfgs(be, f, o.history, o.lr > 0 ? o.lr : kLbfgsLr);
    int first = 0;  // the first iteration to run: 0, or where a checkpoint left off
    if (resume) {
      if (resume->X.shape() != init.shape())
        throw Error(o.resume + ": its image is " + resume->X.shape().str() + ", this stage's is " + init.shape().str());
      init = resume->X;
    }
    Tensor X = be.to_device(init);
    LossValues v = opt->start(X);
    result.last = v;
    if (resume) {
      opt->restore(resume->optimizer);
      first = resume->iteration;
      result.done = resume->done;
      history = std::move(resume->history);
      resume.reset();
      observer.resumed(first);
      for (const LossRow& r : history) observer.loss(r);
    }
    // Row `first` of this stage, unless the checkpoint's log already has it (the same bits: X is the same).
    if (history.empty() || history.back().stage != int(k) || history.back().iteration != first) row(int(k), first, v);
    if (!std::isfinite(v.total))
      throw Error("the loss of the starting image is " + std::to_string(v.total) + ": check the inputs and the loss weights");
    auto checkpoint = [&](int iteration) { return Checkpoint{int(k), iteration, result.done, identity, be.to_host(X), opt->state(), history}; };
    if (observer.stop_requested()) {  // interrupted before the first iteration: a checkpoint all the same
      result.end = StylizeResult::End::Stopped;
      result.checkpoint = checkpoint(first);
      return X;
    }
    Tensor good = be.alloc(X.shape());  // the last image with a finite loss, kept if the next one diverges
    for (int i = first; i < o.iterations; ++i) {
      be.copy(X, good);
      const double before = v.total;
      v = opt->iterate(X);
      if (!std::isfinite(v.total)) {
        result.end = StylizeResult::End::Diverged;
        result.why = "the loss became " + std::string(std::isnan(v.total) ? "NaN" : "infinite") + " at iteration " +
                     std::to_string(result.done + 1) + ": kept the image of iteration " + std::to_string(result.done);
        return good;
      }
      if (result.done == 0 && !opt->stopped().empty() && !(v.total < before) && before > 0) {
        // Not convergence: nothing at all was gained from a positive loss, which at the start of a run means
        // the first step was too long for the line search to shrink back (an absurd learning rate).
        result.end = StylizeResult::End::Diverged;
        result.why = "L-BFGS found no step that lowers the loss in the first iteration: the starting image is unchanged";
        return X;
      }
      ++result.done;
      result.last = v;
      row(int(k), i + 1, v);
      IterationEvent e{int(k), stages, i + 1, o.iterations, result.done, v, [&] { return final_image(X); }, [&, i] { return checkpoint(i + 1); }};
      observer.iteration(e);
      if (observer.stop_requested()) {
        result.end = StylizeResult::End::Stopped;
        result.checkpoint = checkpoint(i + 1);
        return X;
      }
      if (!opt->stopped().empty()) {
        observer.converged(int(k), stages, i + 1, opt->stopped());
        break;
      }
    }
    return X;
  }

  StylizeResult run() {
    Tensor X;  // the current image, on the device
    for (std::size_t k = 0; k < s.sizes_.size() && result.end == StylizeResult::End::Done; ++k)
      if (!resume || int(k) >= resume->stage) X = stage(k, X);  // earlier stages are done
    result.image = final_image(X);
    return result;
  }
};

StylizeResult Stylization::run(StylizeObserver& observer, const std::vector<std::pair<std::string, std::string>>& identity) {
  std::optional<Checkpoint> resume;
  if (!o_.resume.empty()) resume = load_resume(o_.resume, identity, int(sizes_.size()), o_.iterations);
  Backend& be = session_.backend();
  Objective& objective = session_.objective(o_.weights, cfg_);
  session_.uploaded(o_.weights);
  weights_ = nullptr;  // the session may have let the host copy go
  Run r{*this, o_, observer, identity, be, objective, std::move(resume), {}, {}, {}};
  return r.run();
}

}  // namespace nst
