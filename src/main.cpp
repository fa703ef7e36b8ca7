// nst: the command line. `main` catches once and prints one line: exit 2 for usage errors, 1 otherwise.
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench.h"
#include "nst/backend.h"
#include "nst/batch.h"
#include "nst/convert.h"
#include "nst/device.h"
#include "nst/fetch.h"
#include "nst/error.h"
#include "nst/network.h"
#include "nst/stylizer.h"
#include "nst/weights.h"

#ifndef NST_VERSION
#define NST_VERSION "0.1.0"
#endif

namespace {

const char* kHelp =
    "nst " NST_VERSION " - neural style transfer (Gatys et al.) on VGG19, CUDA or CPU\n"
    "\n"
    "usage: nst COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  stylize --content C --style S --output OUT [options]\n"
    "                             paint C in the style of S (nst stylize --help lists every option)\n"
    "  batch --output-dir DIR (--manifest F.csv | --contents D --styles D | --frames D) [options]\n"
    "                             many stylizations: sharded, resumable, one worker per GPU\n"
    "  weights fetch [torchvision|caffe|keras] [--output FILE.h5]\n"
    "                             download a published VGG19, check it, convert it to weights/vgg19.h5\n"
    "  weights convert IN OUT.h5 [--source torchvision|caffe|keras]\n"
    "                             convert a published VGG19 (.pth, .caffemodel, Keras .h5) to our HDF5\n"
    "  bench [--device D] [--sizes 256,512] [--iterations N] [--csv F] [--json F] [--plot F.svg]\n"
    "                             time each op of an NST iteration and whole iterations; roofline chart\n"
    "  info [--weights FILE.h5]   build, backends, CUDA devices, and a summary of a weights file\n"
    "\n"
    "options:\n"
    "  --help, -h                 this text\n"
    "  --version                  the version\n";

int info(const std::vector<std::string>& args) {
  std::string weights;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--weights" && i + 1 < args.size()) weights = args[++i];
    else throw nst::UsageError("info: unknown option " + args[i]);
  }
  nst::CudaProbe p = nst::probe_cuda();
  std::printf("nst %s\nbackends: cpu%s\n", NST_VERSION, p.built ? ", cuda" : "");
  {
    auto cpu = nst::make_cpu_backend();
    std::printf("cpu convolutions: %s (3->64), %s (64->64)\n", cpu->conv_info({1, 3, 64, 64}, {64, 3, 3, 3}, false).c_str(),
                cpu->conv_info({1, 64, 64, 64}, {64, 64, 3, 3}, false).c_str());
  }
  if (p.built) std::printf("cuda: %s\n", p.versions.c_str());
  if (p.devices > 0) std::printf("cuda devices: %d\n", p.devices);
  else std::printf("cuda devices: none (%s)\n", p.reason.c_str());
  if (!weights.empty()) {
    nst::Weights w = nst::load_weights(weights);
    std::size_t params = 0;
    for (const auto& c : w.convs) params += c.weight.size() + c.bias.size();
    std::printf("weights: %s\n  source: %s\n  input: %s, scale %g, mean %g %g %g, std %g %g %g\n  widths:",
                weights.c_str(), w.source_model.c_str(), w.norm.bgr ? "BGR" : "RGB", w.norm.scale, w.norm.mean[0],
                w.norm.mean[1], w.norm.mean[2], w.norm.std[0], w.norm.std[1], w.norm.std[2]);
    for (const auto& c : w.convs) std::printf(" %d", c.out);
    std::printf("\n  parameters: %zu\n", params);
  }
  return 0;
}

int weights(const std::vector<std::string>& args) {
  if (args.empty()) throw nst::UsageError("weights: expected convert or fetch; try nst --help");
  if (args[0] == "convert") {
    std::vector<std::string> files;
    std::string source;
    for (std::size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--source") {
        if (i + 1 >= args.size()) throw nst::UsageError("--source needs a value (torchvision, caffe or keras)");
        source = args[++i];
        nst::parse_source(source);  // a bad name is a usage error before any work
      } else if (args[i].rfind("--", 0) == 0) {
        throw nst::UsageError("weights convert: unknown option " + args[i]);
      } else {
        files.push_back(args[i]);
      }
    }
    if (files.size() != 2) throw nst::UsageError("usage: nst weights convert IN.{pth,caffemodel,h5} OUT.h5 [--source torchvision|caffe|keras]");
    nst::convert_weights(files[0], files[1], source);
    std::printf("wrote %s\n", files[1].c_str());
    return 0;
  }
  if (args[0] == "fetch") {
    std::string name, output;
    for (std::size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--output") {
        if (i + 1 >= args.size()) throw nst::UsageError("--output needs a value (FILE.h5)");
        output = args[++i];
      } else if (args[i].rfind("--", 0) == 0) {
        throw nst::UsageError("weights fetch: unknown option " + args[i]);
      } else if (name.empty()) {
        name = args[i];
      } else {
        throw nst::UsageError("usage: nst weights fetch [torchvision|caffe|keras] [--output FILE.h5]");
      }
    }
    return nst::fetch_weights(name, output, "");
  }
  throw nst::UsageError("weights: unknown subcommand '" + args[0] + "'; expected convert or fetch");
}

// --help or -h anywhere among a command's arguments asks for its help text instead of a run.
bool asks_for_help(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
}

int print_help(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Every buffer of 1 MiB or more gets its own mapping, returned to the system when freed. glibc's default
  // threshold rises with each large free, after which big buffers come from heaps that keep freed memory:
  // the peak then depends on the order of allocations, not on what is live (the memory planner's figure).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) throw nst::UsageError("no command; try nst --help");
    std::string cmd = args[0];
    args.erase(args.begin());
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (cmd == "--version") {
      std::printf("nst %s\n", NST_VERSION);
      return 0;
    }
    if (cmd == "info") return info(args);
    if (cmd == "weights") return weights(args);
    if (cmd == "batch") return asks_for_help(args) ? print_help(nst::batch_help()) : nst::run_batch(args);
    if (cmd == "bench") return asks_for_help(args) ? print_help(nst::bench_help()) : nst::run_bench(args);
    if (cmd == "stylize") {
      if (asks_for_help(args)) return print_help(nst::stylize_help());
      return nst::stylize(nst::parse_stylize(args));
    }
    throw nst::UsageError("unknown command '" + cmd + "'; try nst --help");
  } catch (const nst::UsageError& e) {
    std::fprintf(stderr, "nst: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nst: %s\n", e.what());
    return 1;
  }
}
