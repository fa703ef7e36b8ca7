// The roofline chart (Williams, Waterman & Patterson 2009) as one self-contained SVG: log-log, arithmetic
// intensity (FLOP per byte of minimal traffic) across, GFLOP/s up; the bandwidth slope and the compute
// ceiling; each convolution's forward (filled) and backward-data (open) pass as a point per size, labelled
// by layer, the other ops as small grey marks. Every mark has a <title> with its figures, shown on hover.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "results.h"

namespace nst::bench {
namespace {

constexpr double kWidth = 960, kHeight = 640;
constexpr double kLeft = 80, kRight = 210, kTop = 50, kBottom = 60;  // plot margins; the legend sits right
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

struct Axis {
  double lo, hi;  // decades: 10^lo .. 10^hi
  double a, b;    // pixel range
  double at(double v) const { return a + (std::log10(v) - lo) / (hi - lo) * (b - a); }
};

// The decade below lo/1.5 and above hi*1.5, so that no mark sits on the frame.
std::pair<double, double> decades(double lo, double hi) {
  double l = std::floor(std::log10(lo / 1.5)), h = std::ceil(std::log10(hi * 1.5));
  if (h <= l) h = l + 1;
  return {l, h};
}

std::string tick_label(double e) { return fmt("%g", std::pow(10.0, e)); }

struct Label {
  double x, y;
};

}  // namespace

std::string roofline_svg(const Results& r) {
  // Extent of the data and the ceilings.
  double xmin = 1e300, xmax = 0, ymin = 1e300, ymax = 0;
  for (const SizeResult& s : r.sizes)
    for (const OpResult& o : s.ops) {
      if (o.intensity() <= 0 || o.gflops() <= 0) continue;
      xmin = std::min(xmin, o.intensity()), xmax = std::max(xmax, o.intensity());
      ymin = std::min(ymin, o.gflops()), ymax = std::max(ymax, o.gflops());
    }
  const double peak = r.peak.gflops, bw = r.peak.gbs, ridge = peak > 0 && bw > 0 ? peak / bw : 0;
  if (xmax == 0) xmin = 0.1, xmax = 100, ymin = 1, ymax = 100;  // nothing measured: an empty frame
  if (ridge > 0) xmin = std::min(xmin, ridge), xmax = std::max(xmax, ridge);
  if (peak > 0) ymax = std::max(ymax, peak);
  auto [xl, xh] = decades(xmin, xmax);
  auto [yl, yh] = decades(ymin, ymax);
  const Axis X{xl, xh, kLeft, kWidth - kRight}, Y{yl, yh, kHeight - kBottom, kTop};

  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%g", kWidth) + "\" height=\"" + fmt("%g", kHeight) +
                  "\" viewBox=\"0 0 " + fmt("%g", kWidth) + " " + fmt("%g", kHeight) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<title>nst bench roofline: " + esc(r.device) + ", " + esc(r.precision) + "</title>\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<defs><clipPath id=\"plot\"><rect x=\"" + fmt("%g", X.a) + "\" y=\"" + fmt("%g", Y.b) + "\" width=\"" + fmt("%g", X.b - X.a) +
       "\" height=\"" + fmt("%g", Y.a - Y.b) + "\"/></clipPath></defs>\n";
  s += "<text x=\"" + fmt("%g", kLeft) + "\" y=\"28\" font-size=\"15\" font-weight=\"bold\">Roofline: " + esc(r.device_name) + " (" +
       esc(r.device) + ", " + esc(r.precision) + ")</text>\n";

  // Grid, ticks and axis titles.
  s += "<g stroke=\"#ddd\" stroke-width=\"1\">\n";
  for (double e = xl; e <= xh; ++e)
    s += "<line x1=\"" + fmt("%.1f", X.at(std::pow(10, e))) + "\" y1=\"" + fmt("%.1f", Y.a) + "\" x2=\"" + fmt("%.1f", X.at(std::pow(10, e))) +
         "\" y2=\"" + fmt("%.1f", Y.b) + "\"/>\n";
  for (double e = yl; e <= yh; ++e)
    s += "<line x1=\"" + fmt("%.1f", X.a) + "\" y1=\"" + fmt("%.1f", Y.at(std::pow(10, e))) + "\" x2=\"" + fmt("%.1f", X.b) + "\" y2=\"" +
         fmt("%.1f", Y.at(std::pow(10, e))) + "\"/>\n";
  s += "</g>\n<g fill=\"#333\">\n";
  for (double e = xl; e <= xh; ++e)
    s += "<text x=\"" + fmt("%.1f", X.at(std::pow(10, e))) + "\" y=\"" + fmt("%.1f", Y.a + 18) + "\" text-anchor=\"middle\">" + tick_label(e) + "</text>\n";
  for (double e = yl; e <= yh; ++e)
    s += "<text x=\"" + fmt("%.1f", X.a - 8) + "\" y=\"" + fmt("%.1f", Y.at(std::pow(10, e)) + 4) + "\" text-anchor=\"end\">" + tick_label(e) + "</text>\n";
  s += "<text x=\"" + fmt("%.1f", (X.a + X.b) / 2) + "\" y=\"" + fmt("%.1f", kHeight - 18) +
       "\" text-anchor=\"middle\">arithmetic intensity (FLOP / byte)</text>\n";
  s += "<text transform=\"translate(22 " + fmt("%.1f", (Y.a + Y.b) / 2) + ") rotate(-90)\" text-anchor=\"middle\">GFLOP/s</text>\n";
  s += "</g>\n<rect x=\"" + fmt("%g", X.a) + "\" y=\"" + fmt("%g", Y.b) + "\" width=\"" + fmt("%g", X.b - X.a) + "\" height=\"" +
       fmt("%g", Y.a - Y.b) + "\" fill=\"none\" stroke=\"#333\"/>\n";

  // The roof: min(peak, bandwidth x intensity), drawn in data space and clipped to the frame.
  if (peak > 0 && bw > 0) {
    double x0 = std::pow(10, xl), x1 = std::pow(10, xh);
    s += "<g clip-path=\"url(#plot)\">\n<polyline fill=\"none\" stroke=\"black\" stroke-width=\"2\" points=\"" + fmt("%.1f", X.at(x0)) + "," +
         fmt("%.1f", Y.at(bw * x0)) + " " + fmt("%.1f", X.at(ridge)) + "," + fmt("%.1f", Y.at(peak)) + " " + fmt("%.1f", X.at(x1)) + "," +
         fmt("%.1f", Y.at(peak)) + "\"/>\n</g>\n";
    s += "<text x=\"" + fmt("%.1f", X.b - 4) + "\" y=\"" + fmt("%.1f", Y.at(peak) - 6) + "\" text-anchor=\"end\">compute ceiling " +
         fmt("%.0f", peak) + " GFLOP/s</text>\n";
    // The slope's label at a third of the way up it, rotated to the slope's angle on screen.
    double xs = std::pow(10, xl + (std::log10(ridge) - xl) * 0.35);
    double ang = std::atan2(Y.at(bw * xs * 10) - Y.at(bw * xs), X.at(xs * 10) - X.at(xs)) * 180 / 3.14159265358979;
    if (Y.at(bw * xs) < Y.a && Y.at(bw * xs) > Y.b)
      s += "<text transform=\"translate(" + fmt("%.1f", X.at(xs)) + " " + fmt("%.1f", Y.at(bw * xs) - 6) + ") rotate(" + fmt("%.1f", ang) +
           ")\">bandwidth " + fmt("%.0f", bw) + " GB/s</text>\n";
  }

  // Marks: other ops first (underneath), then the convolutions with their labels.
  std::string marks = "<g clip-path=\"url(#plot)\">\n", labels = "<g font-size=\"9\">\n";
  std::vector<Label> placed;
  for (std::size_t k = 0; k < r.sizes.size(); ++k) {
    const SizeResult& sz = r.sizes[k];
    const std::string color = kColors[k % (sizeof kColors / sizeof kColors[0])];
    for (const OpResult& o : sz.ops) {
      if (o.intensity() <= 0 || o.gflops() <= 0 || o.op.rfind("conv_", 0) == 0) continue;
      double x = X.at(o.intensity()), y = Y.at(o.gflops());
      marks += "<rect x=\"" + fmt("%.1f", x - 2.5) + "\" y=\"" + fmt("%.1f", y - 2.5) + "\" width=\"5\" height=\"5\" fill=\"#aaa\"><title>" +
               esc(std::to_string(sz.size) + ": " + o.layer + " " + o.op + " " + o.shape + ": " + fmt("%.3f", o.seconds * 1e3) + " ms, " +
                   fmt("%.1f", o.gflops()) + " GFLOP/s, " + fmt("%.1f", o.gbs()) + " GB/s, " + fmt("%.2f", o.intensity()) + " FLOP/B") +
               "</title></rect>\n";
    }
    // One label per convolution shape, by its forward point: the layers of one shape (conv3_2..conv3_4)
    // land on one spot, so they share a label; labels that would overprint stack downwards.
    std::vector<std::string> shapes;
    for (const OpResult& o : sz.ops) {
      if (o.intensity() <= 0 || o.gflops() <= 0 || o.op.rfind("conv_", 0) != 0) continue;
      const bool fwd = o.op == "conv_forward";
      double x = X.at(o.intensity()), y = Y.at(o.gflops());
      marks += "<circle cx=\"" + fmt("%.1f", x) + "\" cy=\"" + fmt("%.1f", y) + "\" r=\"4.5\" stroke=\"" + color + "\" stroke-width=\"1.5\" fill=\"" +
               (fwd ? color : std::string("white")) + "\"><title>" +
               esc(std::to_string(sz.size) + ": " + o.layer + " " + o.op + " " + o.shape + ": " + fmt("%.3f", o.seconds * 1e3) + " ms, " +
                   fmt("%.1f", o.gflops()) + " GFLOP/s, " + fmt("%.2f", o.intensity()) + " FLOP/B" + (o.info.empty() ? "" : ", " + o.info)) +
               "</title></circle>\n";
      if (!fwd || std::find(shapes.begin(), shapes.end(), o.shape) != shapes.end()) continue;
      shapes.push_back(o.shape);
      std::string text = o.layer, last;
      for (const OpResult& p : sz.ops)
        if (p.op == "conv_forward" && p.shape == o.shape && p.layer != o.layer) last = p.layer;
      if (!last.empty()) text += ".." + last.substr(4);  // "conv3_2..3_4"
      Label l{x + 7, y + 3};
      for (bool moved = true; moved;) {
        moved = false;
        for (const Label& p : placed)
          if (std::abs(p.x - l.x) < 60 && std::abs(p.y - l.y) < 10) {
            l.y = p.y + 10;
            moved = true;
          }
      }
      placed.push_back(l);
      if (l.y > y + 8)  // moved away from its point: a leader line back to it
        labels += "<line x1=\"" + fmt("%.1f", x + 3) + "\" y1=\"" + fmt("%.1f", y + 3) + "\" x2=\"" + fmt("%.1f", l.x - 1) + "\" y2=\"" +
                  fmt("%.1f", l.y - 3) + "\" stroke=\"" + color + "\" stroke-opacity=\"0.4\" stroke-width=\"0.7\"/>\n";
      labels += "<text x=\"" + fmt("%.1f", l.x) + "\" y=\"" + fmt("%.1f", l.y) + "\" fill=\"" + color + "\">" + esc(text) + "</text>\n";
    }
  }
  s += marks + "</g>\n" + labels + "</g>\n";

  // Legend.
  double lx = kWidth - kRight + 20, ly = kTop + 10;
  s += "<g font-size=\"12\">\n";
  for (std::size_t k = 0; k < r.sizes.size(); ++k, ly += 20) {
    const std::string color = kColors[k % (sizeof kColors / sizeof kColors[0])];
    s += "<circle cx=\"" + fmt("%.1f", lx) + "\" cy=\"" + fmt("%.1f", ly) + "\" r=\"4.5\" fill=\"" + color + "\"/>";
    s += "<circle cx=\"" + fmt("%.1f", lx + 14) + "\" cy=\"" + fmt("%.1f", ly) + "\" r=\"4.5\" fill=\"white\" stroke=\"" + color + "\" stroke-width=\"1.5\"/>";
    s += "<text x=\"" + fmt("%.1f", lx + 26) + "\" y=\"" + fmt("%.1f", ly + 4) + "\">" + std::to_string(r.sizes[k].size) + "x" +
         std::to_string(r.sizes[k].size) + "</text>\n";
  }
  s += "<circle cx=\"" + fmt("%.1f", lx) + "\" cy=\"" + fmt("%.1f", ly) + "\" r=\"4.5\" fill=\"#555\"/><text x=\"" + fmt("%.1f", lx + 12) + "\" y=\"" +
       fmt("%.1f", ly + 4) + "\">conv forward</text>\n";
  ly += 20;
  s += "<circle cx=\"" + fmt("%.1f", lx) + "\" cy=\"" + fmt("%.1f", ly) + "\" r=\"4.5\" fill=\"white\" stroke=\"#555\" stroke-width=\"1.5\"/><text x=\"" +
       fmt("%.1f", lx + 12) + "\" y=\"" + fmt("%.1f", ly + 4) + "\">conv backward-data</text>\n";
  ly += 20;
  s += "<rect x=\"" + fmt("%.1f", lx - 2.5) + "\" y=\"" + fmt("%.1f", ly - 2.5) + "\" width=\"5\" height=\"5\" fill=\"#aaa\"/><text x=\"" +
       fmt("%.1f", lx + 12) + "\" y=\"" + fmt("%.1f", ly + 4) + "\">other ops</text>\n";
  ly += 30;
  s += "<text x=\"" + fmt("%.1f", lx - 5) + "\" y=\"" + fmt("%.1f", ly) + "\" font-size=\"10\" fill=\"#555\">ceilings:</text>\n";
  for (const std::string& line : {r.peak.gflops_source, r.peak.gbs_source}) {
    // Wrap the sources at about 30 characters so that they stay inside the margin.
    std::string rest = line;
    while (!rest.empty()) {
      ly += 13;
      std::size_t cut = rest.size() <= 30 ? rest.size() : rest.rfind(' ', 30);
      if (cut == std::string::npos || cut == 0) cut = std::min<std::size_t>(30, rest.size());
      s += "<text x=\"" + fmt("%.1f", lx - 5) + "\" y=\"" + fmt("%.1f", ly) + "\" font-size=\"10\" fill=\"#555\">" + esc(rest.substr(0, cut)) + "</text>\n";
      rest = rest.substr(cut);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
    }
    ly += 4;
  }
  s += "</g>\n</svg>\n";
  return s;
}

}  // namespace nst::bench
