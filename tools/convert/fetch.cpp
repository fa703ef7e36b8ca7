// `nst weights fetch`: the published VGG19s named in weights/manifest.csv, downloaded with the system's
// curl or wget (no HTTP code of our own), checked against the manifest and converted to SPEC §1's file.
#include "convert/fetch.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "convert/convert.h"
#include "nst/error.h"
#include "nst/text.h"

namespace nst {
namespace fs = std::filesystem;

namespace {

const char* const kDefaultManifest = "weights/manifest.csv";
const char* const kDefaultSource = "torchvision";

// The same rows as weights/manifest.csv (test_fetch checks it), for an nst run outside the repository.
const char* const kBuiltinManifest =
    "name,url,file,size,sha256,md5,sha256_prefix,license,preprocessing\n"
    "torchvision,https://download.pytorch.org/models/vgg19-dcbb9e9d.pth,vgg19-dcbb9e9d.pth,574673361,"
    "dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44,,dcbb9e9d,BSD-3-Clause,torchvision\n"
    "caffe,http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_19_layers.caffemodel,"
    "VGG_ILSVRC_19_layers.caffemodel,574671192,,b5c644beabd7cf06bdd9065cfd674c97,,CC-BY-NC-4.0,caffe\n"
    "keras,https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
    "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5,vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5,"
    "80134624,,253f8cb515780f3b799900260a226db6,,CC-BY-4.0 (weights) + MIT (Keras code),keras\n";

const char* const kColumns[] = {"name", "url", "file", "size", "sha256", "md5", "sha256_prefix", "license",
                                "preprocessing"};

std::vector<std::string> split_csv(const std::string& line, const std::string& where) {
  bool unterminated = false;
  std::vector<std::string> fields = csv_fields(line, &unterminated);
  if (unterminated) throw Error(where + ": unterminated quoted field");
  return fields;
}

bool is_hex(const std::string& s) {
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<SourceInfo> parse_manifest(std::istream& in, const std::string& path) {
  std::vector<SourceInfo> rows;
  std::map<std::string, std::size_t> col;  // column name -> index
  std::size_t ncols = 0;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string where = path + ":" + std::to_string(lineno);
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    std::vector<std::string> f = split_csv(line, where);
    if (col.empty()) {
      for (std::size_t i = 0; i < f.size(); ++i)
        if (!col.emplace(f[i], i).second) throw Error(where + ": column '" + f[i] + "' appears twice in the header");
      for (const char* c : kColumns)
        if (!col.count(c)) throw Error(where + ": the header has no column '" + c + "'");
      ncols = f.size();
      continue;
    }
    if (f.size() != ncols)
      throw Error(where + ": " + std::to_string(f.size()) + " fields, expected " + std::to_string(ncols));
    auto get = [&](const char* name) { return f[col.at(name)]; };
    SourceInfo s;
    s.name = get("name");
    s.url = get("url");
    s.file = get("file");
    s.sha256 = lower(get("sha256"));
    s.md5 = lower(get("md5"));
    s.sha256_prefix = lower(get("sha256_prefix"));
    s.license = get("license");
    s.preprocessing = get("preprocessing");
    std::string size = get("size");
    if (s.name.empty()) throw Error(where + ": empty name");
    for (const SourceInfo& r : rows)
      if (r.name == s.name) throw Error(where + ": source '" + s.name + "' is listed twice");
    if (s.url.empty()) throw Error(where + ": " + s.name + " has no url");
    // The file lands in the downloads folder under this name: a plain name, nothing that leaves the folder.
    if (s.file.empty() || s.file == "." || s.file == ".." || s.file.find('/') != std::string::npos)
      throw Error(where + ": " + s.name + ": file '" + s.file + "' is not a plain file name");
    if (!size.empty()) {
      if (size.size() > 19 || size.find_first_not_of("0123456789") != std::string::npos)
        throw Error(where + ": " + s.name + ": size '" + size + "' is not a number of bytes");
      s.size = std::stoull(size);
    }
    if (!s.sha256.empty() && (s.sha256.size() != 64 || !is_hex(s.sha256)))
      throw Error(where + ": " + s.name + ": sha256 '" + s.sha256 + "' is not 64 hex digits");
    if (!s.md5.empty() && (s.md5.size() != 32 || !is_hex(s.md5)))
      throw Error(where + ": " + s.name + ": md5 '" + s.md5 + "' is not 32 hex digits");
    if (!s.sha256_prefix.empty() && (s.sha256_prefix.size() > 64 || !is_hex(s.sha256_prefix)))
      throw Error(where + ": " + s.name + ": sha256_prefix '" + s.sha256_prefix + "' is not hex digits");
    if (!s.sha256.empty() && s.sha256.compare(0, s.sha256_prefix.size(), s.sha256_prefix) != 0)
      throw Error(where + ": " + s.name + ": sha256 does not start with sha256_prefix " + s.sha256_prefix);
    rows.push_back(std::move(s));
  }
  if (col.empty()) throw Error(path + ": no header line");
  if (rows.empty()) throw Error(path + ": no sources listed");
  return rows;
}

// A word for /bin/sh: 'text' with any ' escaped.
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
  return s;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (::access(((dir.empty() ? std::string(".") : dir) + "/" + program).c_str(), X_OK) == 0) return true;
  return false;
}

// Runs a shell command; its exit status, or -1 when it did not exit normally.
int run_shell(const std::string& cmd) {
  std::fflush(stdout);
  std::fflush(stderr);
  int st = std::system(cmd.c_str());
  return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::uintmax_t size_or_zero(const fs::path& p) {
  std::error_code ec;
  std::uintmax_t n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

// Where the download failed: one line saying so, then what to run by hand.
int download_failed(const std::string& why, const SourceInfo& s, const fs::path& dest, const std::string& output) {
  std::string convert = s.preprocessing.empty() ? s.name : s.preprocessing;
  std::fprintf(stderr,
               "nst: could not download the %s weights from %s (%s)\n"
               "  download them by hand, then convert them:\n"
               "    curl -fL -C - -o %s %s\n"
               "    nst weights convert %s %s --source %s\n",
               s.name.c_str(), s.url.c_str(), why.c_str(), shell_quote(dest.string()).c_str(),
               shell_quote(s.url).c_str(), shell_quote(dest.string()).c_str(), shell_quote(output).c_str(),
               convert.c_str());
  return 1;
}

}  // namespace

std::string user_weights_path() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return (fs::path(x) / "nst" / "vgg19.h5").string();
  if (const char* h = std::getenv("HOME"); h && *h) return (fs::path(h) / ".local" / "share" / "nst" / "vgg19.h5").string();
  return {};
}

std::string default_weights_output() {
  std::error_code ec;
  if (fs::is_directory("weights", ec)) return "weights/vgg19.h5";
  const std::string user = user_weights_path();
  return user.empty() ? "weights/vgg19.h5" : user;
}

std::vector<SourceInfo> read_manifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open the weights manifest");
  return parse_manifest(in, path);
}

std::vector<SourceInfo> builtin_manifest() {
  std::istringstream in(kBuiltinManifest);
  return parse_manifest(in, "(built-in manifest)");
}

void verify_download(const std::string& file, const SourceInfo& s) {
  std::error_code ec;
  std::uintmax_t size = fs::file_size(file, ec);
  if (ec) throw Error(file + ": cannot read the download: " + ec.message());
  auto reject = [&](const std::string& what, const std::string& actual, const std::string& expected) {
    fs::remove(file, ec);
    throw Error(file + ": " + what + " is " + actual + ", expected " + expected + " for " + s.name + " (" + s.url +
                "); the file was removed, fetch it again");
  };
  if (s.size != 0 && size != s.size) reject("size", std::to_string(size) + " bytes", std::to_string(s.size) + " bytes");
  if (!s.sha256.empty() || !s.sha256_prefix.empty()) {
    std::string actual = sha256_file(file);
    if (!s.sha256.empty() && actual != s.sha256) reject("sha256", actual, s.sha256);
    if (actual.compare(0, s.sha256_prefix.size(), s.sha256_prefix) != 0)
      reject("sha256", actual, "one starting with " + s.sha256_prefix);
  }
  if (!s.md5.empty()) {
    std::string actual = md5_file(file);
    if (actual != s.md5) reject("md5", actual, s.md5);
  }
  if (s.sha256.empty() && s.sha256_prefix.empty() && s.md5.empty())
    std::fprintf(stderr, "nst: warning: no checksum is known for the %s weights: checked %s by its %s only\n",
                 s.name.c_str(), file.c_str(), s.size ? "size" : "existence");
}

int fetch_weights(const std::string& source_arg, const std::string& output_arg, const std::string& manifest_path) {
  std::vector<SourceInfo> manifest;
  std::string manifest_name = manifest_path;
  if (!manifest_path.empty()) {
    manifest = read_manifest(manifest_path);
  } else if (fs::exists(kDefaultManifest)) {
    manifest = read_manifest(manifest_name = kDefaultManifest);
  } else {
    manifest = builtin_manifest();
    manifest_name = "the built-in manifest";
  }
  std::string source = source_arg.empty() ? kDefaultSource : source_arg;
  const SourceInfo* found = nullptr;
  std::string names;
  for (const SourceInfo& s : manifest) {
    if (s.name == source) found = &s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  if (!found) throw UsageError("unknown weights source '" + source + "': " + manifest_name + " lists " + names);
  const SourceInfo& s = *found;

  std::string output = output_arg.empty() ? default_weights_output() : output_arg;
  fs::path dir = fs::path(output).parent_path() / "downloads";
  fs::create_directories(dir);
  fs::path dest = dir / s.file;
  fs::path part = dest;
  part += ".part";

  bool have = false;
  if (fs::exists(dest)) {
    try {
      verify_download(dest.string(), s);
      std::printf("using the verified download %s\n", dest.c_str());
      have = true;
    } catch (const Error& e) {
      std::fprintf(stderr, "nst: %s\n", e.what());
    }
  }
  if (!have) {
    // A part as long as the whole file needs no more bytes (curl -C - would get 416); a longer one is junk.
    std::uintmax_t held = size_or_zero(part);
    if (s.size != 0 && held > s.size) fs::remove(part), held = 0;
    if (s.size == 0 || held != s.size) {
      std::string cmd, tool;
      const char* custom = std::getenv("NST_FETCH_CMD");
      std::string url = shell_quote(s.url), out = shell_quote(part.string());
      if (custom && *custom) {
        tool = "NST_FETCH_CMD";
        cmd = replace_all(replace_all(custom, "{url}", url), "{out}", out);
      } else if (on_path("curl")) {
        // A progress meter only for a person watching: in a log it is hundreds of carriage-return lines.
        tool = "curl";
        cmd = std::string("curl -fL --retry 3 ") + (::isatty(2) ? "" : "--no-progress-meter ") + "-C - -o " + out + " " + url;
      } else if (on_path("wget")) {
        tool = "wget";
        cmd = std::string("wget --tries=3 ") + (::isatty(2) ? "" : "-nv ") + "-c -O " + out + " " + url;
      } else {
        return download_failed("neither curl nor wget is on PATH", s, dest, output);
      }
      std::printf("downloading %s (%s%s, license %s)\n  from %s\n  to %s\n", s.name.c_str(),
                  s.size ? std::to_string(s.size).c_str() : "unknown size", s.size ? " bytes" : "", s.license.c_str(),
                  s.url.c_str(), part.c_str());
      int rc = run_shell(cmd);
      if (rc == 33 && tool == "curl") {  // CURLE_RANGE_ERROR: the server cannot resume; start over
        fs::remove(part);
        rc = run_shell(cmd);
      }
      if (rc != 0)
        return download_failed(tool + (rc < 0 ? " did not finish" : " exit status " + std::to_string(rc)), s, dest,
                               output);
      if (!fs::exists(part)) return download_failed(tool + " wrote no file", s, dest, output);
    }
    verify_download(part.string(), s);
    fs::rename(part, dest);
    std::printf("verified %s\n", dest.c_str());
  }

  convert_weights(dest.string(), output, s.preprocessing.empty() ? s.name : s.preprocessing);
  if (output_arg.empty())
    std::printf("wrote %s (from %s): nst stylize uses it by default\n", output.c_str(), s.file.c_str());
  else
    std::printf("wrote %s (from %s): use it with nst stylize --weights %s\n", output.c_str(), s.file.c_str(),
                output.c_str());
  return 0;
}

}  // namespace nst
