#include "nst/report.h"

#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "nst/atomic_file.h"
#include "nst/error.h"

namespace nst {
namespace detail {

std::string base64_encode(std::string_view bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 3; ++k) v = v << 8 | (k < n ? std::uint8_t(bytes[i + k]) : 0u);
    for (std::size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

double LogAxis::y(double v) const { return bottom - (std::log10(v) - lo) / (hi - lo) * (bottom - top); }

}  // namespace detail

namespace {

using detail::escape_html;

// printf into a std::string; every caller passes at least one argument and a short format.
template <typename... Args>
std::string fmt(const char* format, Args... args) {
  char buf[128];
  std::snprintf(buf, sizeof buf, format, args...);
  return buf;
}

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), std::size_t(size));
}

std::string figure(const ReportImage& im) {
  NST_ASSERT(im.h > 0 && im.w > 0 && im.rgb.size() == std::size_t(im.h) * im.w * 3, "report image byte count");
  std::string png;
  if (!stbi_write_png_to_func(append_bytes, &png, im.w, im.h, 3, im.rgb.data(), im.w * 3))
    throw Error("cannot encode the report image '" + im.caption + "' as PNG");
  std::string caption = escape_html(im.caption);
  return "<figure><img src=\"data:image/png;base64," + detail::base64_encode(png) + "\" width=\"" +
         std::to_string(im.w) + "\" height=\"" + std::to_string(im.h) + "\" alt=\"" + caption + "\"><figcaption>" +
         caption + " <span class=\"dim\">" + std::to_string(im.w) + "&times;" + std::to_string(im.h) +
         "</span></figcaption></figure>\n";
}

// A round step (1, 2 or 5 times a power of ten, at least 1) that cuts `range` into about `parts` pieces.
int nice_step(double range, int parts) {
  double raw = std::max(1.0, range / parts), mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * mag >= raw) return int(m * mag);
  return int(10 * mag);
}

bool plottable(double v) { return v > 0 && std::isfinite(v); }

struct Series {
  double LossValues::*member;
  const char* name;
  const char* colour;
};
constexpr Series kSeries[] = {{&LossValues::total, "total", "#222222"},
                              {&LossValues::content, "content", "#1f77b4"},
                              {&LossValues::style, "style", "#d62728"},
                              {&LossValues::tv, "TV", "#2ca02c"}};

// The four loss curves on one log10 axis; a value that is zero, negative or not finite breaks its curve. In
// a run of several stages the x axis counts iterations across them; each stage's curve starts afresh at its
// stage's first row (the enlarged image has other losses), under a dashed line that names the stage.
std::string loss_chart(const std::vector<LossValues>& rows, const std::vector<int>& stages) {
  auto stage = [&](std::size_t i) { return i < stages.size() ? stages[i] : 0; };
  std::vector<int> at(rows.size(), 0);  // each row's position on the x axis
  for (std::size_t i = 1; i < rows.size(); ++i) at[i] = at[i - 1] + (stage(i) == stage(i - 1) ? 1 : 0);
  double vmin = INFINITY, vmax = 0;
  for (const LossValues& r : rows)
    for (const Series& s : kSeries)
      if (plottable(r.*s.member)) vmin = std::min(vmin, r.*s.member), vmax = std::max(vmax, r.*s.member);
  if (vmax == 0) return "<p class=\"dim\">No positive loss values to plot.</p>\n";

  const double left = 72, right = 700, top = 16, bottom = 330, width = 860, height = 380;
  detail::LogAxis ax{int(std::floor(std::log10(vmin))), int(std::ceil(std::log10(vmax))), top, bottom};
  if (ax.hi == ax.lo) ++ax.hi;
  const int last = std::max<int>(1, rows.empty() ? 0 : at.back());
  auto x = [&](double i) { return left + i / last * (right - left); };

  std::string svg = fmt("<svg viewBox=\"0 0 %g %g\" width=\"%g\" height=\"%g\" ", width, height, width, height) +
                    "font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"loss curves\">\n";
  // Grid: every decade, with the 2..9 multiples as well when there are few decades; labels every `step`.
  int decades = ax.hi - ax.lo, step = (decades + 7) / 8;
  for (int d = ax.lo; d <= ax.hi; ++d) {
    for (int m = 2; decades <= 4 && d < ax.hi && m <= 9; ++m)
      svg += fmt("<line x1=\"%g\" x2=\"%g\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#f0f0f0\"/>\n", left, right,
                 ax.y(m * std::pow(10.0, d)), ax.y(m * std::pow(10.0, d)));
    double y = ax.y(std::pow(10.0, d));
    svg += fmt("<line x1=\"%g\" x2=\"%g\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d8d8d8\"/>\n", left - 5, right, y, y);
    if ((d - ax.lo) % step == 0)
      svg += fmt("<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">10<tspan dy=\"-6\" font-size=\"9\">", left - 8,
                 y + 4) + (d < 0 ? "&#8722;" : "") + std::to_string(std::abs(d)) + "</tspan></text>\n";
  }
  int xstep = nice_step(last, 8);
  for (int i = 0; i <= last; i += xstep)
    svg += fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%g\" y2=\"%g\" stroke=\"#888\"/>", x(i), x(i), bottom, bottom + 5) +
           fmt("<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%d</text>\n", x(i), bottom + 19, i);
  svg += fmt("<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#888\"/>\n", left, top,
             right - left, bottom - top);
  for (std::size_t i = 1; i < rows.size(); ++i)
    if (stage(i) != stage(i - 1))
      svg += fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%g\" y2=\"%g\" stroke=\"#aaa\" stroke-dasharray=\"4 3\"/>", x(at[i]), x(at[i]), top, bottom) +
             fmt("<text x=\"%.1f\" y=\"%g\" font-size=\"11\" fill=\"#666\">stage %d</text>\n", x(at[i]) + 3, top + 12, stage(i) + 1);
  svg += fmt("<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%s</text>\n", (left + right) / 2, bottom + 40,
             stage(rows.size() - 1) > 0 ? "iteration (all stages)" : "iteration");
  svg += fmt("<text transform=\"translate(16 %g) rotate(-90)\" text-anchor=\"middle\">loss (log scale)</text>\n",
             (top + bottom) / 2);

  double legend_y = top + 10;
  for (const Series& s : kSeries) {
    std::string d;
    int run = 0;  // points in the current unbroken piece; a lone point is drawn as a dot (round cap, h0)
    for (std::size_t i = 0; i <= rows.size(); ++i) {
      double v = i < rows.size() ? rows[i].*s.member : 0;
      if (i > 0 && i < rows.size() && stage(i) != stage(i - 1)) {  // a new stage: a new piece
        if (run == 1) d += "h0";
        run = 0;
      }
      if (plottable(v)) {
        d += fmt(run++ ? "L%.1f %.1f" : "M%.1f %.1f", x(double(at[i])), ax.y(v));
      } else {
        if (run == 1) d += "h0";
        run = 0;
      }
    }
    const LossValues* final_row = rows.empty() ? nullptr : &rows.back();
    std::string label = std::string(s.name) + (final_row && plottable(final_row->*s.member)
                                                   ? fmt(" %.4g", final_row->*s.member)
                                                   : d.empty() ? " (not plotted: never positive)" : "");
    if (!d.empty())
      svg += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + s.colour +
             "\" stroke-width=\"1.8\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
    svg += fmt("<line x1=\"%g\" x2=\"%g\" y1=\"%g\" y2=\"%g\" stroke-width=\"3\" ", right + 16, right + 40, legend_y,
               legend_y) + "stroke=\"" + s.colour + "\"/>" +
           fmt("<text x=\"%g\" y=\"%g\">", right + 46, legend_y + 4) + escape_html(label) + "</text>\n";
    legend_y += 22;
  }
  return svg + "</svg>\n";
}

constexpr const char* kCss = R"(
body{font:15px/1.45 system-ui,"Segoe UI",sans-serif;color:#222;background:#fafafa;max-width:1100px;margin:24px auto;padding:0 20px}
h1{font-size:22px;margin:0 0 4px;overflow-wrap:anywhere}
h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
figure{margin:0}
figcaption{font-size:13px;color:#444;margin-top:4px;overflow-wrap:anywhere}
.dim{color:#888}
.live{color:#a40;font-weight:600}
img{display:block;max-width:100%;height:auto;background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.3)}
.result img{min-width:min(100%,480px)}
.inputs{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-end}
.inputs img{max-height:260px;min-height:160px;width:auto}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:14px}
.grid img{width:100%}
svg{display:block;max-width:100%;height:auto;background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.15)}
table{border-collapse:collapse;font-size:14px}
td{border-bottom:1px solid #e3e3e3;padding:4px 16px 4px 0;vertical-align:top}
td:first-child{font-family:ui-monospace,monospace;white-space:nowrap}
td:last-child{overflow-wrap:anywhere}
)";

}  // namespace

std::string render_report(const ReportData& d) {
  const std::string refresh =
      d.refresh_seconds > 0 ? "<meta http-equiv=\"refresh\" content=\"" + std::to_string(d.refresh_seconds) + "\">\n" : "";
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" + refresh + "<title>" +
                     escape_html(d.title) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n<h1>" +
                     escape_html(d.title) + "</h1>\n";
  if (d.refresh_seconds > 0)
    html += "<p class=\"live\">The run is going on: this page reloads itself every " + std::to_string(d.refresh_seconds) +
            " s, and stays once the run has ended.</p>\n";
  if (!d.summary.empty()) html += "<p class=\"dim\">" + escape_html(d.summary) + "</p>\n";
  if (!d.result.rgb.empty()) html += "<h2>Result</h2>\n<div class=\"result\">\n" + figure(d.result) + "</div>\n";
  if (!d.inputs.empty()) {
    html += "<h2>Inputs</h2>\n<div class=\"inputs\">\n";
    for (const ReportImage& im : d.inputs) html += figure(im);
    html += "</div>\n";
  }
  html += "<h2>Loss</h2>\n" +
          (d.losses.empty() ? std::string("<p class=\"dim\">No loss values recorded.</p>\n") : loss_chart(d.losses, d.stages));
  if (!d.snapshots.empty()) {
    html += "<h2>Snapshots</h2>\n<div class=\"grid\">\n";
    for (const ReportImage& im : d.snapshots) html += figure(im);
    html += "</div>\n";
  }
  if (!d.options.empty()) {
    html += "<h2>Options</h2>\n<table>\n";
    for (const auto& [flag, value] : d.options)
      html += "<tr><td>" + escape_html(flag) + "</td><td>" + escape_html(value) + "</td></tr>\n";
    html += "</table>\n";
  }
  return html + "</body>\n</html>\n";
}

void write_report(const std::string& path, const ReportData& d) { write_file_atomic(path, render_report(d)); }

}  // namespace nst
