// nst: the command line. `main` picks the command and catches once, printing one line: exit 2 for usage
// errors, 1 otherwise.
#include <malloc.h>

#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "flags.h"
#include "nst/error.h"

namespace nst::app {

namespace {

const char* kHelp =
    "nst " NST_VERSION " - neural style transfer (Gatys et al.) on VGG19, CUDA or CPU\n"
    "\n"
    "usage: nst COMMAND [options]     (nst COMMAND --help lists a command's options)\n"
    "\n"
    "commands:\n"
    "  stylize --content C --style S --output OUT [options]\n"
    "                             paint C in the style of S\n"
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

}  // namespace

}  // namespace nst::app

int main(int argc, char** argv) {
  using namespace nst::app;
  // Every buffer of 1 MiB or more gets its own mapping, returned to the system when freed. glibc's default
  // threshold rises with each large free, after which big buffers come from heaps that keep freed memory:
  // the peak then depends on the order of allocations, not on what is live (the memory planner's figure).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) throw nst::UsageError("no command; try nst --help");
    std::string cmd = args[0];
    args.erase(args.begin());
    if (cmd == "--help" || cmd == "-h" || cmd == "help") return print_help(kHelp);
    if (cmd == "--version") {
      std::printf("nst %s\n", NST_VERSION);
      return 0;
    }
    if (cmd == "stylize") return stylize_command(args);
    if (cmd == "batch") return batch_command(args);
    if (cmd == "bench") return bench_command(args);
    if (cmd == "weights") return weights_command(args);
    if (cmd == "info") return info_command(args);
    std::string near = closest(cmd, {"stylize", "batch", "bench", "weights", "info"});
    if (cmd == "stylise" || cmd == "style" || cmd == "run") near = "stylize";  // the British spelling, and the peers' words
    throw nst::UsageError("unknown command '" + cmd + "'" + (near.empty() ? "" : "; did you mean nst " + near + "?") + " (see nst --help)");
  } catch (const nst::UsageError& e) {
    std::fprintf(stderr, "nst: %s\n", error_message(e).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nst: %s\n", error_message(e).c_str());
    return 1;
  }
}
