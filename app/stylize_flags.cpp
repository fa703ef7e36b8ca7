// The flags of `nst stylize` (and of every batch row): one table gives each flag's parser, its help line and
// how its value reads back for the report and a checkpoint's identity.
#include <string>
#include <vector>

#include "device_flags.h"
#include "nst/network.h"
#include "nst/optim.h"
#include "nst/text.h"
#include "stylize.h"

namespace nst::app {
namespace {

using F = Flag<StylizeArgs>;
using O = StylizeArgs;
using V = const std::string&;

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::vector<F> table() {
  const DefaultWeights tv = default_loss_weights(1), caffe = default_loss_weights(255);
  const StylizeOptions d;
  auto g = format_double;
  std::vector<F> t = {
      {"--content", "FILE", "content image (JPEG, PNG, BMP, TGA)", [](O& o, V v) { o.run.content = v; },
       [](const O& o) { return o.run.content; }, true},
      {"--style", "FILE[,FILE..]", "style image(s)",
       [](O& o, V v) {
         o.run.styles = split(v, ',');
         for (const auto& s : o.run.styles)
           if (s.empty()) throw UsageError("empty file name in '" + v + "'");
       },
       [](const O& o) { return join(o.run.styles); }, true},
      {"--output", "FILE", "result, .png or .jpg; written only when complete", [](O& o, V v) { o.output = v; }, nullptr, true},
      {"--jpeg-quality", "Q", "quality of a .jpg --output and its snapshots, 1-100 (default " + std::to_string(kDefaultJpegQuality) + ")",
       [](O& o, V v) { o.jpeg_quality = int(parse_int(v, 1, 100)); }},
      {"--weights", "FILE.h5", "VGG19 weights (default: $NST_WEIGHTS, else weights/vgg19.h5, else $XDG_DATA_HOME/nst/vgg19.h5)", [](O& o, V v) { o.run.weights = v; },
       [](const O& o) { return o.run.weights; }},
      {"--size", "N", "long side of the result in pixels (default " + std::to_string(d.size) + ")",
       [](O& o, V v) { o.run.size = int(parse_int(v, 16, 16384)); }, [](const O& o) { return std::to_string(o.run.size); }},
      {"--style-scale", "F", "style images' long side as a fraction of --size (default 1)",
       [](O& o, V v) { o.run.style_scale = parse_positive(v); }, [](const O& o) { return format_double(o.run.style_scale); }},
      {"--style-blend", "a,b,..", "relative weights of the style images (default equal)",
       [](O& o, V v) {
         o.run.style_blend.clear();
         double sum = 0;
         for (const auto& w : split(v, ',')) sum += o.run.style_blend.emplace_back(parse_nonnegative(w));
         if (!(sum > 0)) throw UsageError("the weights sum to zero");
       },
       [](const O& o) {
         std::vector<std::string> b;
         for (double x : o.run.style_blend) b.push_back(format_double(x));
         return b.empty() ? std::string("equal") : join(b);
       }},
      {"--iterations", "N", "optimiser iterations (default " + std::to_string(d.iterations) + ")",
       [](O& o, V v) { o.run.iterations = int(parse_int(v, 0, 10000000)); }, [](const O& o) { return std::to_string(o.run.iterations); }},
      {"--optimizer", "adam|lbfgs", std::string("optimiser (default ") + name(d.optimizer) + ")",
       [](O& o, V v) { o.run.optimizer = parse_optimizer(v); }, [](const O& o) { return std::string(name(o.run.optimizer)); }},
      {"--lr", "F",
       "Adam: step size in [0,1] image units (default " + g(kAdamLr) + "); L-BFGS: length of the first step (default " + g(kLbfgsLr) + ")",
       [](O& o, V v) {
         o.run.lr = parse_double(v);
         if (!(o.run.lr > 0)) throw UsageError("must be positive");
       },
       [](const O& o) { return o.run.lr > 0 ? format_double(o.run.lr) : std::string("default"); }},
      {"--history", "N", "L-BFGS memory: pairs kept (default " + std::to_string(kLbfgsHistory) + ")",
       [](O& o, V v) { o.run.history = int(parse_int(v, 1, 10000)); }, [](const O& o) { return std::to_string(o.run.history); }},
      {"--content-weight", "F", "w_c (default " + g(tv.content) + " for torchvision weights, " + g(caffe.content) + " for Caffe/Keras)",
       [](O& o, V v) { o.run.content_weight = parse_nonnegative(v); }, [](const O& o) { return format_double(o.run.content_weight); }},
      {"--style-weight", "F", "w_s (default " + g(tv.style) + " for torchvision weights, " + g(caffe.style) + " for Caffe/Keras)",
       [](O& o, V v) { o.run.style_weight = parse_nonnegative(v); }, [](const O& o) { return format_double(o.run.style_weight); }},
      {"--tv-weight", "F", "w_tv, total-variation smoothing (default " + g(tv.tv) + " torchvision, " + g(caffe.tv) + " Caffe/Keras)",
       [](O& o, V v) { o.run.tv_weight = parse_nonnegative(v); }, [](const O& o) { return format_double(o.run.tv_weight); }},
      {"--content-layers", "L,..", "layers of the content loss (default " + layer_list_names(d.content_layers) + ")",
       [](O& o, V v) { o.run.content_layers = parse_layer_list(v); }, [](const O& o) { return layer_list_names(o.run.content_layers); }},
      {"--style-layers", "L,..", "layers of the style loss (default " + layer_list_names(d.style_layers) + ")",
       [](O& o, V v) { o.run.style_layers = parse_layer_list(v); }, [](const O& o) { return layer_list_names(o.run.style_layers); }},
      {"--pooling", "max|avg", std::string("VGG19 pooling (default ") + name(d.pooling) + ")", [](O& o, V v) { o.run.pooling = parse_pooling(v); },
       [](const O& o) { return std::string(name(o.run.pooling)); }},
      {"--init", "content|random|FILE", "starting image (default content)",
       [](O& o, V v) {
         o.run.init = v == "content" ? InitKind::Content : v == "random" ? InitKind::Random : InitKind::File;
         o.run.init_file = o.run.init == InitKind::File ? v : "";
       },
       [](const O& o) { return o.run.init == InitKind::File ? o.run.init_file : o.run.init == InitKind::Random ? "random" : "content"; }},
      {"--seed", "N", "seed of --init random (default 0)", [](O& o, V v) { o.run.seed = (unsigned long long)parse_int(v, 0, (1LL << 62)); },
       [](const O& o) { return std::to_string(o.run.seed); }},
  };
  for (F& f : device_flags<O>()) t.push_back(std::move(f));
  t[t.size() - 3].get = [](const O& o) { return o.device; };
  t[t.size() - 2].get = [](const O& o) { return std::string(name(o.precision)); };
  t[t.size() - 1].get = [](const O& o) { return std::string(name(o.conv_algo)); };
  std::vector<F> more = {
      {"--log", "FILE.csv", "losses per iteration: iteration,total,content,style,tv", [](O& o, V v) { o.log = v; }},
      {"--print-every", "N", "progress line every N iterations when stderr is not a terminal (default 50; 0: none)",
       [](O& o, V v) { o.print_every = int(parse_int(v, 0, 10000000)); }},
      {"--save-every", "N", "also write OUT_iterN.png every N iterations (default 0: never)",
       [](O& o, V v) { o.save_every = int(parse_int(v, 0, 10000000)); }},
      {"--scales", "N",
       "coarse-to-fine: optimise at N sizes up to --size, each stage starting from the last one's result enlarged, each running "
       "--iterations (default 1)",
       [](O& o, V v) { o.run.scales = int(parse_int(v, 1, 10)); }, [](const O& o) { return std::to_string(o.run.scales); }},
      {"--start-size", "N", "the first stage's long side (default: --size halved for each further stage)",
       [](O& o, V v) { o.run.start_size = int(parse_int(v, 16, 16384)); }},
      {"--preserve-colors", "none|luminance|histogram",
       "keep the content's colours: style only the luminance, or match the styles' colour histograms to the content first (default none)",
       [](O& o, V v) { o.run.colors = parse_color_mode(v); }, [](const O& o) { return std::string(name(o.run.colors)); }},
      {"--report", "FILE.html", "a self-contained page with the inputs, snapshots, result, options and loss curves; while the run goes on it is rewritten at each snapshot and reloads itself in a browser",
       [](O& o, V v) { o.report = v; }},
      {"--checkpoint", "FILE.h5", "save the image and the optimiser's state every --save-every iterations and on SIGINT/SIGTERM (an interrupt "
       "without this flag checkpoints to OUT.png.checkpoint.h5)",
       [](O& o, V v) { o.checkpoint = v; }},
      {"--resume", "FILE.h5", "continue from a checkpoint (same options; --iterations may grow); later checkpoints go to this file too unless "
       "--checkpoint names another", [](O& o, V v) { o.run.resume = v; }},
      {"--dry-run", nullptr, "check the inputs and print the plan without optimising", [](O& o, V) { o.dry_run = true; }},
  };
  for (F& f : more) t.push_back(std::move(f));
  return t;
}

}  // namespace

const FlagTable<StylizeArgs>& stylize_flags() {
  static const FlagTable<StylizeArgs> t(
      "stylize",
      "usage: nst stylize --content C.png --style S.png[,S2.png] --output OUT.png [options]\n\n"
      "Paints the content image in the style of the style image(s) (Gatys et al.): content loss on deep VGG19\n"
      "features, style loss on Gram matrices, total-variation smoothing, optimised over the image itself.\n",
      table(),
      "On SIGINT or SIGTERM the current iteration finishes; the image so far is written to OUT.partial.png and a\n"
      "checkpoint to --checkpoint (default OUT.png.checkpoint.h5), and nst prints the command that continues the\n"
      "run, then exits with status 128+signal. A run whose loss diverges keeps its last finite image in\n"
      "OUT.partial.png and exits 1. No output may be an input or another output, and an existing file is replaced\n"
      "only when it is one of ours by its name (.csv log, .html report, nst checkpoint).\n"
      "Exit status 2: a usage error; 1: a runtime error (bad file, out of memory).\n");
  return t;
}

}  // namespace nst::app
