// `nst weights convert` and `nst weights fetch`: the published VGG19s into our HDF5 file (tools/convert/).
#include <cstdio>

#include "commands.h"
#include "convert/convert.h"
#include "convert/fetch.h"
#include "flags.h"

namespace nst::app {
namespace {

struct WeightsArgs {
  std::string source, output, manifest;
  std::vector<std::string> files;  // positional arguments
};

// Flags first; the rest must be positional (a leftover "--x" is an unknown option).
std::vector<std::string> positional(const FlagTable<WeightsArgs>& t, const std::vector<std::string>& args, WeightsArgs& a,
                                    const std::string& command) {
  std::vector<std::string> rest;
  t.parse(args, a, &rest);
  for (const std::string& r : rest)
    if (r.rfind("-", 0) == 0 && r.size() > 1) throw UsageError(unknown_option(command, r, t.names()));
  return rest;
}

const FlagTable<WeightsArgs>& convert_flags() {
  static const FlagTable<WeightsArgs> t(
      "weights convert",
      "usage: nst weights convert IN.{pth,caffemodel,h5} OUT.h5 [--source torchvision|caffe|keras]\n\n"
      "Converts a published VGG19 (torchvision/PyTorch .pth, Caffe .caffemodel, Keras .h5) to nst's HDF5 weights\n"
      "file (SPEC 1), written whole or not at all. The format is recognised from the file's first bytes.\n",
      {{"--source", "torchvision|caffe|keras",
        "the preprocessing the weights expect (default: torchvision for .pth, caffe for .caffemodel, keras for .h5; "
        "jcjohnson's vgg19-d01eb7cb.pth needs caffe)",
        [](WeightsArgs& a, const std::string& v) {
          parse_source(v);  // a bad name is a usage error before any work
          a.source = v;
        }}});
  return t;
}

const FlagTable<WeightsArgs>& fetch_flags() {
  static const FlagTable<WeightsArgs> t(
      "weights fetch",
      "usage: nst weights fetch [torchvision|caffe|keras] [--output FILE.h5] [--manifest FILE.csv]\n\n"
      "Downloads a published VGG19 named in weights/manifest.csv (default torchvision) with curl or wget into\n"
      "downloads/ beside the output, checks its size and checksums, and converts it (default weights/vgg19.h5 in a\n"
      "checkout, else $XDG_DATA_HOME/nst/vgg19.h5 (~/.local/share/nst/vgg19.h5),\n"
      "where nst stylize looks). A download that fails prints the commands to run by hand.\n",
      {{"--output", "FILE.h5", "where the converted weights go (default weights/vgg19.h5 in a checkout, else $XDG_DATA_HOME/nst/vgg19.h5)",
        [](WeightsArgs& a, const std::string& v) { a.output = v; }},
       {"--manifest", "FILE.csv",
        "the sources to choose from: name,url,file,size,sha256,md5,sha256_prefix,license,preprocessing (default "
        "weights/manifest.csv, else nst's built-in copy of it)",
        [](WeightsArgs& a, const std::string& v) { a.manifest = v; }}});
  return t;
}

const char* kWeightsHelp =
    "usage: nst weights convert IN OUT.h5 [--source torchvision|caffe|keras]\n"
    "       nst weights fetch [torchvision|caffe|keras] [--output FILE.h5]\n\n"
    "The VGG19 weights nst runs on: fetch downloads a published one, checks and converts it; convert turns a\n"
    "file you have into nst's HDF5. nst weights convert --help and nst weights fetch --help say more.\n";

}  // namespace

int weights_command(const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("weights: expected convert or fetch; try nst weights --help");
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "convert") {
    if (asks_for_help(rest)) return print_help(convert_flags().help());
    WeightsArgs a;
    auto files = positional(convert_flags(), rest, a, "weights convert");
    if (files.size() != 2) throw UsageError("usage: nst weights convert IN.{pth,caffemodel,h5} OUT.h5 [--source torchvision|caffe|keras]");
    convert_weights(files[0], files[1], a.source);
    std::printf("wrote %s\n", files[1].c_str());
    return 0;
  }
  if (args[0] == "fetch") {
    if (asks_for_help(rest)) return print_help(fetch_flags().help());
    WeightsArgs a;
    auto names = positional(fetch_flags(), rest, a, "weights fetch");
    if (names.size() > 1) throw UsageError("usage: nst weights fetch [torchvision|caffe|keras] [--output FILE.h5] [--manifest FILE.csv]");
    return fetch_weights(names.empty() ? "" : names[0], a.output, a.manifest);
  }
  if (asks_for_help(args)) return print_help(kWeightsHelp);
  throw UsageError("weights: unknown subcommand '" + args[0] + "'; expected convert or fetch");
}

}  // namespace nst::app
