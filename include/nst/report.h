// A stylization's report: one self-contained HTML page (no scripts, no network, no other files)
// with the inputs, snapshots and result embedded as PNG data URIs, the options used, and the loss curves
// drawn as inline SVG on a log scale.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nst/objective.h"

namespace nst {

struct ReportImage {
  std::string caption;
  std::vector<std::uint8_t> rgb;  // H*W*3 interleaved RGB bytes
  int h = 0, w = 0;
};

struct ReportData {
  std::string title;                                         // "nst stylize: content.png in the style of ..."
  std::vector<std::pair<std::string, std::string>> options;  // flag -> value, shown as a table
  std::vector<ReportImage> inputs;                           // content, styles (and init if a file)
  std::vector<ReportImage> snapshots;                        // captions such as "iteration 100"
  ReportImage result;
  std::vector<LossValues> losses;  // the CSV log's rows: row 0 the starting image, then one per iteration
  std::vector<int> stages;         // each row's stage (0, 1, ..); empty or all 0: one stage
  std::string summary;             // "512x341 on cuda:0, 500 iterations in 1m20s"
  // While the run goes on, the page is written at every snapshot and reloads itself this often in a
  // browser (a meta refresh), with a line saying it is live; 0 (the finished page): it stays as it is.
  int refresh_seconds = 0;
};

// The page's HTML text.
std::string render_report(const ReportData& d);

// Writes render_report(d) via PATH.tmp + rename; throws nst::Error naming the path on failure.
void write_report(const std::string& path, const ReportData& d);

namespace detail {

std::string base64_encode(std::string_view bytes);  // RFC 4648, with '=' padding
std::string escape_html(std::string_view text);     // & < > " '

// A log10 value axis: decades [lo, hi] (powers of ten) span pixel rows [bottom, top] (top < bottom).
struct LogAxis {
  int lo = 0, hi = 1;
  double top = 0, bottom = 1;
  double y(double v) const;  // v > 0
};

}  // namespace detail
}  // namespace nst
