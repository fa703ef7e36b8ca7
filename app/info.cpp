// `nst info`: the build, its backends, the CUDA devices, and a summary of a weights file.
#include <cstdio>
#include <cstdlib>

#include "commands.h"
#include "convert/fetch.h"
#include "flags.h"
#include "nst/backend.h"
#include "nst/device.h"
#include "nst/weights.h"
#include "stylize.h"

namespace nst::app {
namespace {

struct InfoArgs {
  std::string weights;
};

const FlagTable<InfoArgs>& info_flags() {
  static const FlagTable<InfoArgs> t("info",
                                     "usage: nst info [--weights FILE.h5]\n\n"
                                     "Prints the version, the backends this build has, how the CPU runs convolutions, the CUDA\n"
                                     "versions and devices (or why there are none), and with --weights a summary of that file.\n",
                                     {{"--weights", "FILE.h5", "also summarise this weights file: source, preprocessing, widths",
                                       [](InfoArgs& a, const std::string& v) { a.weights = v; }}});
  return t;
}

}  // namespace

int info_command(const std::vector<std::string>& args) {
  if (asks_for_help(args)) return print_help(info_flags().help());
  InfoArgs a;
  info_flags().parse(args, a);
  CudaProbe p = probe_cuda();
  std::printf("nst %s\nbackends: cpu%s\n", NST_VERSION, p.built ? ", cuda" : "");
  {
    auto cpu = make_cpu_backend();
    std::printf("cpu convolutions: %s (3->64), %s (64->64)\n", cpu->conv_info({1, 3, 64, 64}, {64, 3, 3, 3}, false).c_str(),
                cpu->conv_info({1, 64, 64, 64}, {64, 64, 3, 3}, false).c_str());
  }
  std::printf("images: %s\n", image_libraries().c_str());
  if (p.built) std::printf("cuda: %s\n", p.versions.c_str());
  if (p.devices > 0) std::printf("cuda devices: %d\n", p.devices);
  else std::printf("cuda devices: none (%s)\n", p.reason.c_str());
  if (a.weights.empty()) {
    a.weights = default_weights();
    if (a.weights.empty())
      std::printf("weights: none found ($NST_WEIGHTS is not set, and neither weights/vgg19.h5 nor %s exists); get them with "
                  "nst weights fetch\n", user_weights_path().c_str());
    else
      std::printf("weights: %s is the default (%s)\n", a.weights.c_str(),
                  a.weights == "weights/vgg19.h5" ? "found in weights/" : a.weights == user_weights_path() ? "found in your data folder" : "$NST_WEIGHTS");
  }
  if (!a.weights.empty()) {
    Weights w = load_weights(a.weights);
    std::size_t params = 0;
    for (const auto& c : w.convs) params += c.weight.size() + c.bias.size();
    std::printf("weights: %s\n  source: %s\n  input: %s, scale %g, mean %g %g %g, std %g %g %g\n  widths:", a.weights.c_str(),
                w.source_model.c_str(), w.norm.bgr ? "BGR" : "RGB", w.norm.scale, w.norm.mean[0], w.norm.mean[1], w.norm.mean[2],
                w.norm.std[0], w.norm.std[1], w.norm.std[2]);
    for (const auto& c : w.convs) std::printf(" %d", c.out);
    std::printf("\n  parameters: %zu\n", params);
  }
  return 0;
}

}  // namespace nst::app
