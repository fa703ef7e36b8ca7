// nst batch: each row is an independent stylization; the scale-out is scheduling. Rows are sharded by
// index (--shard K/N, or Slurm's array variables), spread over one worker process per device
// (--devices), and skipped when their output exists (outputs are written atomically, so an existing one is
// complete): a re-run resumes. One Session per process loads the weights once and computes each style's
// Grams once per size.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "commands.h"
#include "flags.h"
#include "nst/error.h"
#include "nst/text.h"
#include "signals.h"
#include "stylize.h"

namespace nst::app {
namespace {

namespace fs = std::filesystem;

struct Row {
  std::size_t index;  // in the manifest (or frame order), for sharding and messages
  StylizeArgs options;
  std::string label;
};

struct BatchFlags {
  std::string manifest, output_dir, contents, styles, frames, devices;
  int shard = -1, shards = 1, worker = 0, workers = 1, frame_iterations = 0;
  std::vector<std::string> stylize_args;  // everything else: the stylize options for every row
};

// "K/N" with 0 <= K < N.
std::pair<int, int> parse_fraction(const std::string& v) {
  auto parts = split(v, '/');
  char* e1 = nullptr;
  char* e2 = nullptr;
  long k = parts.size() == 2 ? std::strtol(parts[0].c_str(), &e1, 10) : -1;
  long n = parts.size() == 2 ? std::strtol(parts[1].c_str(), &e2, 10) : 0;
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty() || *e1 || *e2 || n < 1 || k < 0 || k >= n || n > 100000)
    throw UsageError("expected K/N with 0 <= K < N, got '" + v + "'");
  return {int(k), int(n)};
}

const FlagTable<BatchFlags>& batch_flags() {
  using O = BatchFlags;
  using V = const std::string&;
  static const FlagTable<BatchFlags> t(
      "batch",
      "usage: nst batch --output-dir DIR (--manifest FILE.csv | --contents DIR --styles DIR | --frames DIR --style S)\n"
      "                 [--shard K/N] [--devices 0,1,..] [--frame-iterations N] [stylize options]\n\n"
      "Stylises many images, each an independent run with the stylize options (see nst stylize --help).\n",
      {{"--output-dir", "DIR", "where the results go (created if missing)", [](O& o, V v) { o.output_dir = v; }, nullptr, true},
       {"--manifest", "FILE.csv",
        "header content,style,output; style may list several files joined by ';'; further columns, named like stylize's "
        "flags without dashes (size, style_weight, ...), override the options for that row. Relative image paths are "
        "taken from the manifest's folder; outputs from --output-dir",
        [](O& o, V v) { o.manifest = v; }},
       {"--contents", "DIR", "with --styles: every content in every style, written as <content>__<style>.png", [](O& o, V v) { o.contents = v; }},
       {"--styles", "DIR", "the style images for --contents", [](O& o, V v) { o.styles = v; }},
       {"--frames", "DIR", "the images of DIR in name order, each frame starting from the previous result", [](O& o, V v) { o.frames = v; }},
       {"--frame-iterations", "N", "iterations for frames after the first (default half of --iterations)",
        [](O& o, V v) { o.frame_iterations = int(parse_int(v, 0, 10000000)); }},
       {"--shard", "K/N", "only the rows i with i mod N = K (default: from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT when set, else all rows)",
        [](O& o, V v) { std::tie(o.shard, o.shards) = parse_fraction(v); }},
       {"--devices", "0,1,..", "one worker process per GPU (any --device value works: cpu,cpu too)", [](O& o, V v) { o.devices = v; }},
       {"--worker", "W/N", "(set by --devices for its workers) this worker's share of the shard",
        [](O& o, V v) { std::tie(o.worker, o.workers) = parse_fraction(v); }}},
      "Every output must stay inside --output-dir (no absolute paths, no '..' or symbolic links leading out, no\n"
      "two rows writing one file): a row that breaks this stops the whole batch before any work (exit 2).\n"
      "A row whose output exists is skipped (outputs are written atomically), so a re-run resumes. A row\n"
      "that fails is reported with its reason and the batch goes on; the exit status is 1 if any failed.\n"
      "Weights are loaded once per process and each style's Grams computed once per size.\n");
  return t;
}

BatchFlags parse_flags(const std::vector<std::string>& args) {
  BatchFlags f;
  batch_flags().parse(args, f, &f.stylize_args);
  // What neither table knows is batch's unknown option, with a suggestion from both tables.
  for (const std::string& a : f.stylize_args) {
    const std::string name = a.substr(0, a.find('='));
    if (a.rfind("-", 0) == 0 && a.size() > 1 && !stylize_flags().find(name)) {
      std::vector<std::string> known = batch_flags().names(), more = stylize_flags().names();
      known.insert(known.end(), more.begin(), more.end());
      throw UsageError(unknown_option("batch", a, known));
    }
  }
  if (f.output_dir.empty()) throw UsageError("batch: --output-dir is required");
  int sources = !f.manifest.empty() + !f.contents.empty() + !f.frames.empty();
  if (sources != 1) throw UsageError("batch: give exactly one of --manifest FILE.csv, --contents DIR --styles DIR, or --frames DIR");
  if (!f.contents.empty() && f.styles.empty()) throw UsageError("batch: --contents needs --styles DIR");
  if (f.shard < 0) {
    // A Slurm array task runs its share without being told: SLURM_ARRAY_TASK_ID counts from the array's
    // first index (SLURM_ARRAY_TASK_MIN, usually 0).
    const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
    const char* count = std::getenv("SLURM_ARRAY_TASK_COUNT");
    const char* min = std::getenv("SLURM_ARRAY_TASK_MIN");
    if (id && count) {
      try {
        std::tie(f.shard, f.shards) = parse_fraction(std::to_string(std::atol(id) - (min ? std::atol(min) : 0)) + "/" + count);
      } catch (const UsageError& e) {
        throw UsageError(std::string("SLURM_ARRAY_TASK_ID/COUNT: ") + e.what());
      }
    } else {
      f.shard = 0;
    }
  }
  return f;
}

bool is_image(const fs::path& p) {
  const std::string e = lower_extension(p.string());
  return e == ".png" || e == ".jpg" || e == ".jpeg" || e == ".bmp" || e == ".tga";
}

std::vector<fs::path> images_in(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir + ": not a folder");
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && is_image(e.path())) v.push_back(e.path());
  std::sort(v.begin(), v.end());
  if (v.empty()) throw Error(dir + ": no images (.png, .jpg, .bmp, .tga) in it");
  return v;
}

// Every output stays inside --output-dir: a manifest may come from someone else, and a batch under your
// account must not write or replace files outside the folder you gave it. Checked for all rows before any
// work; a row that breaks the rule stops the whole batch (exit 2), naming the row and the path.
// A name as one line of a message: control characters (a newline in a file name) shown as \n, \xNN.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    char b[8];
    if (c == '\n') out += "\\n";
    else if (c < 0x20 || c == 0x7f) std::snprintf(b, sizeof b, "\\x%02x", c), out += b;
    else out += char(c);
  }
  return out;
}

class OutputFolder {
 public:
  explicit OutputFolder(const std::string& output_dir) : dir_(output_dir), root_(fs::canonical(output_dir)) {}

  // `rel` (as the row gives it) -> the path to write, after checking that it is relative, that `.` and
  // `..` keep it inside, that no folder on the way is a symbolic link leading out, and that no other row
  // writes it. `where` names the row in messages.
  std::string place(const std::string& rel, const std::string& row) {
    const std::string where = printable(row);
    auto bad = [&](const std::string& why) { throw UsageError(where + ": output '" + printable(rel) + "' " + why); };
    if (rel.empty()) bad("is empty");
    for (unsigned char c : rel)
      if (c < 0x20 || c == 0x7f) bad("has a control character in its name");
    const fs::path p(rel);
    if (p.is_absolute()) bad("is an absolute path; outputs are paths inside --output-dir");
    const fs::path n = p.lexically_normal();
    if (n.empty() || *n.begin() == ".." || n == ".") bad("leaves --output-dir");
    if (!n.has_filename()) bad("names a folder, not a file");
    // The folders that exist on the way are followed as the writer will follow them.
    const fs::path parent = fs::weakly_canonical(root_ / n.parent_path());
    if (std::mismatch(root_.begin(), root_.end(), parent.begin(), parent.end()).first != root_.end())
      bad("leads out of --output-dir through a symbolic link (to " + parent.string() + ")");
    const fs::path real = parent / n.filename();
    auto [it, fresh] = writers_.emplace(real.string(), where);
    if (!fresh) throw UsageError(it->second + " and " + where + " both write '" + printable(rel) + "'");
    return (dir_ / n).string();
  }

 private:
  fs::path dir_, root_;
  std::map<std::string, std::string> writers_;  // canonical output -> the row that writes it
};

std::string resolve(const fs::path& base, const std::string& p) { return fs::path(p).is_absolute() ? p : (base / p).string(); }

// Rows of SPEC §5's manifest: content,style,output[,overrides named like stylize's flags without dashes].
std::vector<Row> manifest_rows(const BatchFlags& f, const StylizeArgs& base, OutputFolder& outputs) {
  std::ifstream in(f.manifest);
  if (!in) throw Error(f.manifest + ": cannot read the manifest");
  const fs::path dir = fs::path(f.manifest).parent_path();
  std::string line;
  if (!std::getline(in, line)) throw Error(f.manifest + ": empty manifest");
  std::vector<std::string> header = csv_fields(line);
  if (header.size() < 3 || header[0] != "content" || header[1] != "style" || header[2] != "output")
    throw Error(f.manifest + ":1: the header must start with content,style,output");
  std::vector<Row> rows;
  for (int lineno = 2; std::getline(in, line); ++lineno) {
    if (line.empty() || line == "\r") continue;
    std::vector<std::string> v = csv_fields(line);
    if (v.size() != header.size())
      throw Error(f.manifest + ":" + std::to_string(lineno) + ": " + std::to_string(v.size()) + " fields, the header has " +
                  std::to_string(header.size()));
    Row r{rows.size(), base, v[0]};
    r.options.run.content = resolve(dir, v[0]);
    r.options.run.styles.clear();
    for (const std::string& s : split(v[1], ';')) r.options.run.styles.push_back(resolve(dir, s));
    const std::string where = f.manifest + ":" + std::to_string(lineno);
    r.options.output = outputs.place(v[2], where);
    std::vector<std::string> overrides;
    for (std::size_t c = 3; c < header.size(); ++c) {
      if (v[c].empty()) continue;
      std::string flag = "--" + header[c];
      std::replace(flag.begin(), flag.end(), '_', '-');
      overrides.push_back(flag);
      overrides.push_back(v[c]);
    }
    try {
      stylize_flags().parse(overrides, r.options);
    } catch (const UsageError& e) {
      throw UsageError(where + ": " + e.what());
    }
    // Files a row's own columns name are outputs too: inside --output-dir like the image.
    for (std::size_t c = 3; c < header.size(); ++c) {
      if (v[c].empty()) continue;
      if (header[c] == "log") r.options.log = outputs.place(v[c], where);
      if (header[c] == "report") r.options.report = outputs.place(v[c], where);
      if (header[c] == "checkpoint") r.options.checkpoint = outputs.place(v[c], where);
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<Row> all_rows(const BatchFlags& f, const StylizeArgs& base) {
  OutputFolder outputs(f.output_dir);
  if (!f.manifest.empty()) return manifest_rows(f, base, outputs);
  std::vector<Row> rows;
  if (!f.contents.empty()) {  // every content in every style: OUT/<content>__<style>.png
    for (const auto& c : images_in(f.contents))
      for (const auto& s : images_in(f.styles)) {
        Row r{rows.size(), base, c.filename().string() + " x " + s.filename().string()};
        r.options.run.content = c.string();
        r.options.run.styles = {s.string()};
        r.options.output = outputs.place(c.stem().string() + "__" + s.stem().string() + ".png", "row " + std::to_string(r.index) + " (" + r.label + ")");
        rows.push_back(std::move(r));
      }
    return rows;
  }
  // Frames: each frame after the first starts from the previous frame's result (a warm start cuts the
  // iterations needed and the flicker), with --frame-iterations (default half of --iterations).
  if (base.run.styles.empty()) throw UsageError("batch --frames needs --style");
  std::string previous;
  for (const auto& c : images_in(f.frames)) {
    Row r{rows.size(), base, c.filename().string()};
    r.options.run.content = c.string();
    r.options.output = outputs.place(c.stem().string() + ".png", "row " + std::to_string(r.index) + " (" + r.label + ")");
    if (!previous.empty()) {
      r.options.run.init = InitKind::File;
      r.options.run.init_file = previous;
      r.options.run.iterations = f.frame_iterations > 0 ? f.frame_iterations : std::max(1, base.run.iterations / 2);
    }
    previous = r.options.output;
    rows.push_back(std::move(r));
  }
  return rows;
}

// One worker process per device: this process re-runs itself with --worker w/W --device D and waits.
int spawn_workers(const std::vector<std::string>& args, const std::vector<std::string>& devices) {
  std::vector<pid_t> pids;
  for (std::size_t w = 0; w < devices.size(); ++w) {
    std::vector<std::string> a = {"nst", "batch"};
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--devices") {
        ++i;
        continue;
      }
      a.push_back(args[i]);
    }
    std::string dev = devices[w].find_first_not_of("0123456789") == std::string::npos ? "cuda:" + devices[w] : devices[w];
    for (const std::string& x : {std::string("--worker"), std::to_string(w) + "/" + std::to_string(devices.size()),
                                 std::string("--device"), dev})
      a.push_back(x);
    pid_t pid = fork();
    if (pid < 0) throw Error("cannot start a worker process");
    if (pid == 0) {
      std::vector<char*> argv;
      for (std::string& s : a) argv.push_back(s.data());
      argv.push_back(nullptr);
      execv("/proc/self/exe", argv.data());
      std::fprintf(stderr, "nst: batch: cannot run worker %zu\n", w);
      _exit(127);
    }
    pids.push_back(pid);
  }
  int failed = 0;
  for (pid_t p : pids) {
    int st = 0;
    waitpid(p, &st, 0);
    failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  std::fprintf(stderr, "nst: batch: %zu workers, %d reported failures\n", pids.size(), failed);
  return failed ? 1 : 0;
}

}  // namespace

std::size_t parse_manifest(const std::string& manifest, const std::string& output_dir) {
  BatchFlags f;
  f.manifest = manifest;
  f.output_dir = output_dir;
  OutputFolder outputs(output_dir);
  return manifest_rows(f, StylizeArgs{}, outputs).size();
}

int batch_command(const std::vector<std::string>& args) {
  if (asks_for_help(args)) return print_help(batch_flags().help());
  if (args.empty()) return print_usage(batch_flags().help());
  BatchFlags f = parse_flags(args);
  StylizeArgs base;
  stylize_flags().parse(f.stylize_args, base);
  std::error_code ec;
  const bool created = !fs::exists(f.output_dir, ec);
  fs::create_directories(f.output_dir, ec);
  if (!fs::is_directory(f.output_dir)) throw Error(f.output_dir + ": cannot create the output folder");
  std::vector<Row> rows;
  try {
    rows = all_rows(f, base);  // every output checked before any work
    // Weights too: without any, every row would fail on its own, each with the same message.
    for (Row& r : rows) r.options.run.weights = find_weights(r.options.run.weights);
  } catch (...) {
    if (created) fs::remove(f.output_dir, ec);  // a batch that cannot start leaves no folder behind
    throw;
  }
  if (!f.devices.empty()) return spawn_workers(args, split(f.devices, ','));
  SignalGuard signals;  // an interrupt between rows stops the batch after the next row's first iteration

  Session session([&base] { return choose_backend(base.device, base.precision, base.conv_algo); }, /*keep_weights=*/true);
  int done = 0, skipped = 0, failed = 0, mine = 0;
  std::vector<std::string> failures;
  for (const Row& r : rows) {
    if (int(r.index % f.shards) != f.shard) continue;
    if (int(mine++ % f.workers) != f.worker) continue;
    if (fs::exists(r.options.output)) {
      ++skipped;
      continue;
    }
    std::fprintf(stderr, "nst: batch: row %zu: %s -> %s\n", r.index, r.label.c_str(), r.options.output.c_str());
    // Each row checkpoints next to its output, so a preempted row continues where it stopped on the re-run;
    // its output appears only once it is complete.
    for (const std::string& file : {r.options.output, r.options.log, r.options.report, r.options.checkpoint})
      if (!file.empty()) fs::create_directories(fs::path(file).parent_path(), ec);  // portraits/a.png: portraits/ inside
    StylizeArgs o = r.options;
    const std::string ckpt = o.output + ".checkpoint.h5";
    if (o.checkpoint.empty()) o.checkpoint = ckpt;
    if (o.run.resume.empty() && fs::exists(o.checkpoint)) o.run.resume = o.checkpoint;
    try {
      int status = stylize(o, session);
      if (status == 0) {
        ++done;
        fs::remove(o.checkpoint, ec);
        continue;
      }
      if (status > 128) {  // interrupted: stylize wrote OUT.partial.png and the row's checkpoint; stop here
        std::fprintf(stderr, "nst: batch: interrupted at row %zu; run the batch again to continue it from %s\n", r.index, o.checkpoint.c_str());
        return status;
      }
      ++failed;
      failures.push_back("row " + std::to_string(r.index) + " (" + r.label + "): stopped with status " + std::to_string(status));
      std::fprintf(stderr, "nst: batch: row %zu failed (status %d); going on with the next\n", r.index, status);
    } catch (const std::exception& e) {
      ++failed;
      failures.push_back("row " + std::to_string(r.index) + " (" + r.label + "): " + error_message(e));
      std::fprintf(stderr, "nst: batch: row %zu failed: %s\n", r.index, error_message(e).c_str());  // now, not only in the summary
      fs::remove(r.options.output, ec);  // a failed row leaves nothing that a re-run would skip
    }
  }
  std::fprintf(stderr, "nst: batch: %d done, %d skipped, %d failed; style Grams computed %d, reused %d\n", done, skipped,
               failed, session.grams_computed(), session.grams_reused());
  for (const std::string& m : failures) std::fprintf(stderr, "  failed %s\n", m.c_str());
  return failed ? 1 : 0;
}

}  // namespace nst::app
