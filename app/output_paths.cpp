#include "output_paths.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "nst/checkpoint.h"
#include "nst/error.h"
#include "nst/image.h"
#include "nst/text.h"
#include "stylize.h"

namespace nst::app {
namespace fs = std::filesystem;

namespace {

struct Named {
  std::string flag, path;
};

// The same file: the same inode where both exist, else the same absolute path with "." and ".." resolved
// and symbolic links followed as far as they exist.
bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(fs::absolute(a), ec) == fs::weakly_canonical(fs::absolute(b), ec);
}

void check_writable_folder(const Named& o) {
  fs::path dir = fs::path(o.path).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir) || ::access(dir.c_str(), W_OK) != 0)
    throw Error(o.path + ": cannot write there (" + dir.string() + " is not a writable folder)");
}

// An existing file at an output's path is replaced only when it is ours by its name (or, for a
// checkpoint, by its content): `--log demo/content.png` must not turn a photo into CSV.
void check_kind(const Named& o) {
  std::error_code ec;
  if (!fs::exists(o.path, ec)) return;
  if (fs::is_directory(o.path, ec)) throw UsageError(o.flag + ": " + o.path + " is a folder");
  const std::string e = lower_extension(o.path);
  const char* want = nullptr;
  if (o.flag == "--log" && e != ".csv") want = "a .csv file";
  if (o.flag == "--report" && e != ".html" && e != ".htm") want = "an .html file";
  if (o.flag == "--checkpoint" && !is_checkpoint(o.path)) want = "an nst checkpoint";
  if (want)
    throw UsageError(o.flag + ": " + o.path + " exists and is not " + want + "; nst replaces only its own outputs, so choose another name");
}

}  // namespace

std::string partial_path(const std::string& output) {
  fs::path p(output);
  return (p.parent_path() / (p.stem().string() + ".partial" + p.extension().string())).string();
}

std::string default_checkpoint_path(const std::string& output) { return output + ".checkpoint.h5"; }

std::string snapshot_path(const std::string& output, int stage, int stages, int iteration) {
  fs::path p(output);
  const std::string stage_part = stages > 1 ? "_stage" + std::to_string(stage + 1) : "";
  return (p.parent_path() / (p.stem().string() + stage_part + "_iter" + std::to_string(iteration) + p.extension().string())).string();
}

// Whether name is STEM_iterN.EXT or STEM_stageK_iterN.EXT (N, K decimal), the names --save-every writes.
// By hand, not std::regex: GCC 12's <regex> trips -Wmaybe-uninitialized under -O2 -Werror.
static bool is_snapshot_name(const std::string& name, const std::string& stem, const std::string& ext) {
  if (name.size() < stem.size() + ext.size() || name.compare(0, stem.size(), stem) != 0 ||
      name.compare(name.size() - ext.size(), ext.size(), ext) != 0)
    return false;
  std::string_view mid(name);
  mid = mid.substr(stem.size(), name.size() - stem.size() - ext.size());
  const auto number = [&mid](std::string_view prefix) {
    if (mid.substr(0, prefix.size()) != prefix) return false;
    mid.remove_prefix(prefix.size());
    std::size_t n = 0;
    while (n < mid.size() && mid[n] >= '0' && mid[n] <= '9') ++n;
    mid.remove_prefix(n);
    return n > 0;
  };
  if (mid.substr(0, 6) == "_stage" && !number("_stage")) return false;
  return number("_iter") && mid.empty();
}

void check_output_paths(const StylizeArgs& a) {
  if (!writable_image_extension(a.output)) throw UsageError("--output: '" + a.output + "' must end in .png, .jpg or .jpeg");
  std::vector<Named> inputs = {{"--content", a.run.content}, {"--weights", a.run.weights}};
  for (const std::string& s : a.run.styles) inputs.push_back({"--style", s});
  if (a.run.init == InitKind::File) inputs.push_back({"--init", a.run.init_file});
  if (!a.run.resume.empty()) inputs.push_back({"--resume", a.run.resume});

  std::vector<Named> outputs = {{"--output", a.output}, {"--output", partial_path(a.output)}};
  outputs.back().flag = "the partial image of --output";
  for (const Named& o : {Named{"--log", a.log}, Named{"--report", a.report}})
    if (!o.path.empty()) outputs.push_back(o);
  outputs.push_back({a.checkpoint.empty() ? "the checkpoint of an interrupted run" : "--checkpoint",
                     a.checkpoint.empty() ? default_checkpoint_path(a.output) : a.checkpoint});

  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Named& o = outputs[i];
    for (const Named& in : inputs) {
      // Checkpointing to the file resumed from is the point of --resume: it continues the same run.
      if (in.flag == "--resume" && o.path == (a.checkpoint.empty() ? default_checkpoint_path(a.output) : a.checkpoint)) continue;
      if (same_file(o.path, in.path))
        throw UsageError(o.flag + ": " + o.path + " is the " + in.flag + " file; nst never writes over its inputs");
    }
    for (std::size_t j = 0; j < i; ++j)
      if (same_file(o.path, outputs[j].path)) throw UsageError(o.flag + ": " + o.path + " is also " + outputs[j].flag);
    if (o.flag.rfind("--", 0) == 0 && o.flag != "--output") check_kind(o);
    check_writable_folder(o);
  }
  // The snapshots of --save-every: OUT_iterN.png and OUT_stageK_iterN.png beside the output.
  if (a.save_every > 0) {
    const fs::path out(a.output);
    const std::string out_dir = out.parent_path().empty() ? "." : out.parent_path().string();
    for (const Named& in : inputs) {
      const fs::path p(in.path);
      if (is_snapshot_name(p.filename().string(), out.stem().string(), out.extension().string()) &&
          same_file(p.parent_path().empty() ? "." : p.parent_path().string(), out_dir))
        throw UsageError("--save-every: the snapshots of --output " + a.output + " would write over the " + in.flag + " file " + in.path);
    }
  }
}

}  // namespace nst::app
