// `nst stylize` flags: one table gives each flag's parser, default and help line, so --help can never
// disagree with what is parsed.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "nst/args.h"
#include "nst/error.h"
#include "nst/stylizer.h"

namespace nst {
namespace {

double parse_weight(const std::string& flag, const std::string& v) {
  double x = parse_double(flag, v);
  if (x < 0) throw UsageError(flag + ": must not be negative, got " + v);
  return x;
}

struct Flag {
  const char* name;
  const char* value;  // metavariable; nullptr for switches
  std::string help;
  std::function<void(StylizeOptions&, const std::string&)> set;
};

std::vector<Flag> flags() {
  DefaultWeights tv = default_loss_weights(1), caffe = default_loss_weights(255);
  auto g = [](double x) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", x);
    return std::string(b);
  };
  return {
      {"--content", "FILE", "content image (PNG, JPEG, BMP, TGA); required", [](StylizeOptions& o, const std::string& v) { o.content = v; }},
      {"--style", "FILE[,FILE..]", "style image(s); required",
       [](StylizeOptions& o, const std::string& v) {
         o.styles = split(v, ',');
         for (const auto& s : o.styles)
           if (s.empty()) throw UsageError("--style: empty file name in '" + v + "'");
       }},
      {"--output", "FILE", "result, .png or .jpg; written only when complete; required", [](StylizeOptions& o, const std::string& v) { o.output = v; }},
      {"--weights", "FILE.h5", "VGG19 weights (default: $NST_WEIGHTS, else weights/vgg19.h5)", [](StylizeOptions& o, const std::string& v) { o.weights = v; }},
      {"--size", "N", "long side of the result in pixels (default 512)",
       [](StylizeOptions& o, const std::string& v) { o.size = int(parse_int("--size", v, 16, 16384)); }},
      {"--style-scale", "F", "style images' long side as a fraction of --size (default 1)",
       [](StylizeOptions& o, const std::string& v) { o.style_scale = parse_double("--style-scale", v); }},
      {"--style-blend", "a,b,..", "relative weights of the style images (default equal)",
       [](StylizeOptions& o, const std::string& v) {
         o.style_blend.clear();
         for (const auto& w : split(v, ',')) o.style_blend.push_back(parse_weight("--style-blend", w));
         double sum = 0;
         for (double w : o.style_blend) sum += w;
         if (!(sum > 0)) throw UsageError("--style-blend: the weights sum to zero");
       }},
      {"--iterations", "N", "optimiser iterations (default 1000)",
       [](StylizeOptions& o, const std::string& v) { o.iterations = int(parse_int("--iterations", v, 0, 10000000)); }},
      {"--optimizer", "adam|lbfgs", "optimiser (default lbfgs)", [](StylizeOptions& o, const std::string& v) { o.optimizer = v; }},
      {"--lr", "F", "Adam: step size in [0,1] image units (default 0.02); L-BFGS: length of the first step (default 1)",
       [](StylizeOptions& o, const std::string& v) {
         o.lr = parse_double("--lr", v);
         if (!(o.lr > 0)) throw UsageError("--lr must be positive");
       }},
      {"--history", "N", "L-BFGS memory: pairs kept (default 100)",
       [](StylizeOptions& o, const std::string& v) { o.history = int(parse_int("--history", v, 1, 10000)); }},
      {"--content-weight", "F", "w_c (default " + g(tv.content) + " for torchvision weights, " + g(caffe.content) + " for Caffe/Keras)",
       [](StylizeOptions& o, const std::string& v) { o.content_weight = parse_weight("--content-weight", v); }},
      {"--style-weight", "F", "w_s (default " + g(tv.style) + " for torchvision weights, " + g(caffe.style) + " for Caffe/Keras)",
       [](StylizeOptions& o, const std::string& v) { o.style_weight = parse_weight("--style-weight", v); }},
      {"--tv-weight", "F", "w_tv, total-variation smoothing (default " + g(tv.tv) + " torchvision, " + g(caffe.tv) + " Caffe/Keras)",
       [](StylizeOptions& o, const std::string& v) { o.tv_weight = parse_weight("--tv-weight", v); }},
      {"--content-layers", "L,..", "layers of the content loss (default relu4_2)", [](StylizeOptions& o, const std::string& v) { o.content_layers = v; }},
      {"--style-layers", "L,..", "layers of the style loss (default relu1_1,relu2_1,relu3_1,relu4_1,relu5_1)",
       [](StylizeOptions& o, const std::string& v) { o.style_layers = v; }},
      {"--pooling", "max|avg", "VGG19 pooling (default max)",
       [](StylizeOptions& o, const std::string& v) {
         if (v != "max" && v != "avg") throw UsageError("--pooling: expected max or avg, got '" + v + "'");
         o.pooling = v == "avg" ? PoolKind::Avg : PoolKind::Max;
       }},
      {"--init", "content|random|FILE", "starting image (default content)", [](StylizeOptions& o, const std::string& v) { o.init = v; }},
      {"--seed", "N", "seed of --init random (default 0)",
       [](StylizeOptions& o, const std::string& v) { o.seed = (unsigned long long)parse_int("--seed", v, 0, (1LL << 62)); }},
      {kDeviceFlag.name, kDeviceFlag.value, kDeviceFlag.help, [](StylizeOptions& o, const std::string& v) { o.device = v; }},
      {kPrecisionFlag.name, kPrecisionFlag.value, kPrecisionFlag.help, [](StylizeOptions& o, const std::string& v) { o.precision = parse_precision(v); }},
      {kConvAlgoFlag.name, kConvAlgoFlag.value, kConvAlgoFlag.help, [](StylizeOptions& o, const std::string& v) { o.conv_algo = parse_conv_algo(v); }},
      {"--log", "FILE.csv", "losses per iteration: iteration,total,content,style,tv", [](StylizeOptions& o, const std::string& v) { o.log = v; }},
      {"--print-every", "N", "progress line every N iterations when stderr is not a terminal (default 50; 0: none)",
       [](StylizeOptions& o, const std::string& v) { o.print_every = int(parse_int("--print-every", v, 0, 10000000)); }},
      {"--save-every", "N", "also write OUT_iterN.png every N iterations (default 0: never)",
       [](StylizeOptions& o, const std::string& v) { o.save_every = int(parse_int("--save-every", v, 0, 10000000)); }},
      {"--scales", "N", "coarse-to-fine: optimise at N sizes up to --size, each stage starting from the last one's result enlarged, each running --iterations (default 1)",
       [](StylizeOptions& o, const std::string& v) { o.scales = int(parse_int("--scales", v, 1, 10)); }},
      {"--start-size", "N", "the first stage's long side (default: --size halved for each further stage)",
       [](StylizeOptions& o, const std::string& v) { o.start_size = int(parse_int("--start-size", v, 16, 16384)); }},
      {"--preserve-colors", "none|luminance|histogram", "keep the content's colours: style only the luminance, or match the styles' colour histograms to the content first (default none)",
       [](StylizeOptions& o, const std::string& v) {
         if (v != "none" && v != "luminance" && v != "histogram")
           throw UsageError("--preserve-colors: expected none, luminance or histogram, got '" + v + "'");
         o.preserve_colors = v;
       }},
      {"--report", "FILE.html", "a self-contained page with the inputs, snapshots, result, options and loss curves",
       [](StylizeOptions& o, const std::string& v) { o.report = v; }},
      {"--checkpoint", "FILE.h5", "save the image and the optimiser's state every --save-every iterations and on SIGINT/SIGTERM",
       [](StylizeOptions& o, const std::string& v) { o.checkpoint = v; }},
      {"--resume", "FILE.h5", "continue from a checkpoint (same options; --iterations may grow)",
       [](StylizeOptions& o, const std::string& v) { o.resume = v; }},
      {"--dry-run", nullptr, "check the inputs and print the plan without optimising", [](StylizeOptions& o, const std::string&) { o.dry_run = true; }},
  };
}

}  // namespace

std::string stylize_help() {
  std::string s =
      "usage: nst stylize --content C.png --style S.png[,S2.png] --output OUT.png [options]\n\n"
      "Paints the content image in the style of the style image(s) (Gatys et al.): content loss on deep VGG19\n"
      "features, style loss on Gram matrices, total-variation smoothing, optimised over the image itself.\n\n"
      "options:\n";
  for (const Flag& f : flags()) {
    std::string head = std::string("  ") + f.name + (f.value ? std::string(" ") + f.value : "");
    if (head.size() < 34) head.resize(34, ' ');
    else head += "\n" + std::string(34, ' ');
    s += head + f.help + "\n";
  }
  s += "\nOn SIGINT or SIGTERM the current iteration finishes, the current image is written to --output and nst\n"
       "exits with status 128+signal. Exit status 2: a usage error; 1: a runtime error (bad file, out of memory).\n";
  return s;
}

StylizeOptions parse_stylize(const std::vector<std::string>& args, StylizeOptions o) {
  apply_flags(args, flags(), "stylize", o);
  return o;
}

}  // namespace nst
