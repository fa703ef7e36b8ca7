// `nst weights fetch`: download a published VGG19 (weights/manifest.csv), verify it, convert it (SPEC §1).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nst {

// One row of weights/manifest.csv. Empty checksum fields mean "not known"; size 0 means unknown.
struct SourceInfo {
  std::string name;           // torchvision | caffe | keras (what `nst weights fetch NAME` takes)
  std::string url;            // where to download it (a local path works too, for tests via NST_FETCH_CMD)
  std::string file;           // file name under the downloads folder
  std::uint64_t size = 0;     // bytes
  std::string sha256;         // 64 hex digits
  std::string md5;            // 32 hex digits
  std::string sha256_prefix;  // leading hex digits of the sha256 (torch.hub's check: in the file name)
  std::string license;
  std::string preprocessing;  // the SPEC §1 preset convert_weights gets: torchvision | caffe | keras
};

// Reads the manifest: a header naming the nine columns (any order), then one row per source; blank lines
// and lines starting with '#' are skipped; fields may be "quoted" ("" inside for a quote). Any malformed
// row is an nst::Error naming the file and line.
std::vector<SourceInfo> read_manifest(const std::string& path);

// The manifest that `nst weights fetch` uses when given none: weights/manifest.csv under the current
// folder when it is there, else this copy compiled into nst (tests check that both agree).
std::vector<SourceInfo> builtin_manifest();

// Checks a downloaded file against what the manifest knows: its size, then its sha256 (or the sha256
// prefix), then its md5. A mismatch removes the file and throws nst::Error naming the expected and the
// actual value. With no checksum known it checks the size only and prints a warning line on stderr.
void verify_download(const std::string& file, const SourceInfo& s);

// Where nst keeps its weights outside a checkout: $XDG_DATA_HOME/nst/vgg19.h5, else
// $HOME/.local/share/nst/vgg19.h5 (the XDG default); empty when neither variable is set.
std::string user_weights_path();
// Where `nst weights fetch` writes by default: weights/vgg19.h5 when run from a checkout (a weights/
// folder here, where tools/demo.sh and the README expect it), else user_weights_path().
std::string default_weights_output();

// Downloads `source` (default torchvision) into the folder `downloads/` next to `output` (default
// weights/vgg19.h5, where `nst stylize` looks, so weights/downloads/), verifies it, converts it with
// convert_weights and prints where the result is. The download goes to FILE.part with curl (resumed with
// -C -) or wget (-c), whichever is on PATH, or with $NST_FETCH_CMD, a shell template with {url} and {out};
// a verified FILE already there is reused. Returns 0, or 1 after printing why the download failed and the
// commands to run by hand. A file that fails verification is an nst::Error (the file is removed), an
// unknown source an nst::UsageError. `manifest_path` empty: see builtin_manifest().
int fetch_weights(const std::string& source, const std::string& output, const std::string& manifest_path);

}  // namespace nst
