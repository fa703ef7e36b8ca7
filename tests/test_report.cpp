// The HTML report: self-contained (no scripts, no links), every image embedded losslessly, text escaped,
// loss curves on a log scale, and written atomically.
#include <stb/stb_image.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nst/error.h"
#include "nst/report.h"
#include "test_util.h"

using Catch::Contains;
using nst::ReportData;
using nst::ReportImage;

namespace {

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

std::string base64_decode(const std::string& s) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t v = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    std::size_t k = kAlphabet.find(c);
    if (k == std::string::npos) return "(not base64)";
    v = v << 6 | std::uint32_t(k), bits += 6;
    if (bits >= 8) bits -= 8, out += char((v >> bits) & 0xff);
  }
  return out;
}

// A gradient with a per-image seed so that every image differs.
ReportImage gradient(const std::string& caption, int h, int w, int seed) {
  ReportImage im{caption, std::vector<std::uint8_t>(std::size_t(h) * w * 3), h, w};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = &im.rgb[(std::size_t(y) * w + x) * 3];
      p[0] = std::uint8_t(255 * x / std::max(1, w - 1));
      p[1] = std::uint8_t(255 * y / std::max(1, h - 1));
      p[2] = std::uint8_t((x * y + seed * 53) % 256);
    }
  return im;
}

// Decaying losses, content starting at exactly 0 as when the run starts from the content image.
ReportData sample(int rows) {
  ReportData d;
  d.title = "nst stylize: content.png in the style of style.png";
  d.summary = "96x64 on cpu, " + std::to_string(rows - 1) + " iterations in 3s";
  d.options = {{"--size", "96"}, {"--style-weight", "1e4"}, {"--optimizer", "adam"}, {"--note", "<b>&\""}};
  d.inputs = {gradient("content: content.png", 64, 96, 1), gradient("style: style.png", 80, 80, 2)};
  d.snapshots = {gradient("iteration 10", 64, 96, 3), gradient("iteration 20", 64, 96, 4)};
  d.result = gradient("result", 64, 96, 5);
  for (int i = 0; i < rows; ++i) {
    nst::LossValues v;
    v.content = i == 0 ? 0.0 : 50.0 * (1 - std::exp(-i / 8.0));
    v.style = 3e4 * std::exp(-i / 6.0) + 40;
    v.tv = 2.0 + 0.5 * std::exp(-i / 20.0);
    v.total = v.content + v.style + v.tv;
    d.losses.push_back(v);
  }
  return d;
}

// The base64 payloads of the page's data URIs, in order.
std::vector<std::string> embedded(const std::string& html) {
  const std::string prefix = "data:image/png;base64,";
  std::vector<std::string> out;
  for (std::size_t at = html.find(prefix); at != std::string::npos; at = html.find(prefix, at + 1)) {
    std::size_t begin = at + prefix.size();
    out.push_back(html.substr(begin, html.find('"', begin) - begin));
  }
  return out;
}

}  // namespace

TEST_CASE("base64 matches the RFC 4648 test vectors", "[report]") {
  using nst::detail::base64_encode;
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  std::string all;
  for (int i = 0; i < 256; ++i) all += char(i);
  CHECK(base64_decode(base64_encode(all)) == all);
}

TEST_CASE("the report page is self-contained, embeds every image and escapes text", "[report]") {
  ReportData d = sample(50);
  std::string html = nst::render_report(d);
  CHECK(count(html, "<script") == 0);
  CHECK(count(html, "http") == 0);  // no links to anything, not even an SVG namespace
  CHECK(count(html, "src=\"data:image/png;base64,") == d.inputs.size() + d.snapshots.size() + 1);
  CHECK(count(html, "data:image/png;base64,") == d.inputs.size() + d.snapshots.size() + 1);
  CHECK(count(html, "<svg") == 1);
  CHECK(count(html, "<path") + count(html, "<polyline") == 4);
  CHECK_THAT(html, Contains("&lt;b&gt;&amp;&quot;"));
  CHECK(count(html, "<b>") == 0);
  CHECK_THAT(html, Contains("--style-weight"));
  CHECK_THAT(html, Contains("iteration 20"));
  CHECK_THAT(html, Contains(d.summary));
  CHECK(nst::detail::escape_html("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
}

TEST_CASE("an embedded PNG decodes to the original bytes", "[report]") {
  ReportData d = sample(5);
  std::vector<std::string> payloads = embedded(nst::render_report(d));
  // Page order: result, inputs, snapshots.
  std::vector<const ReportImage*> images = {&d.result};
  for (const ReportImage& im : d.inputs) images.push_back(&im);
  for (const ReportImage& im : d.snapshots) images.push_back(&im);
  REQUIRE(payloads.size() == images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    std::string png = base64_decode(payloads[i]);
    int w = 0, h = 0, c = 0;
    unsigned char* px = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(png.data()), int(png.size()), &w,
                                              &h, &c, 3);
    REQUIRE(px != nullptr);
    CHECK(w == images[i]->w);
    CHECK(h == images[i]->h);
    CHECK(std::vector<std::uint8_t>(px, px + std::size_t(w) * h * 3) == images[i]->rgb);
    stbi_image_free(px);
  }
}

TEST_CASE("the loss chart breaks at non-positive values and puts 10x one decade higher", "[report]") {
  nst::detail::LogAxis ax{-2, 3, 20, 320};
  CHECK(ax.y(1e-2) == Approx(320));
  CHECK(ax.y(1e3) == Approx(20));
  for (double v : {0.003, 0.5, 7.0, 123.0})
    CHECK(ax.y(v) - ax.y(10 * v) == Approx(60).epsilon(1e-12));  // 300 px over 5 decades

  // Content is 0 in row 0: its curve starts at row 1 with a move, never a line down to zero.
  ReportData d = sample(50);
  d.losses[20].style = 0;  // a gap in the middle breaks the style curve in two
  std::string html = nst::render_report(d);
  CHECK(count(html, "<path") == 4);
  CHECK(count(html, "d=\"M") == 4);
  CHECK(count(html, "\"#d62728\"") == 2);  // the style curve and its legend entry
  std::size_t style = html.find("<path", html.find("<path", html.find("<path") + 1) + 1);
  std::string style_d = html.substr(style, html.find("/>", style) - style);
  CHECK(count(style_d, "M") == 2);
  std::string svg = html.substr(html.find("<svg"), html.find("</svg>") - html.find("<svg"));
  CHECK(count(svg, "nan") == 0);
  CHECK(count(svg, "inf") == 0);

  // One row: each curve is a dot; the axis still spans a decade and the x-axis a step.
  d.losses.resize(1);
  html = nst::render_report(d);
  CHECK(count(html, "<path") == 3);  // content is 0 in row 0
  CHECK(count(html, "h0\"") == 3);

  // A series that is zero throughout is left out and says so in the legend.
  d = sample(50);
  for (nst::LossValues& v : d.losses) v.tv = 0;
  html = nst::render_report(d);
  CHECK(count(html, "<path") == 3);
  CHECK_THAT(html, Contains("TV (not plotted: never positive)"));
}

TEST_CASE("write_report replaces the file atomically and names the path on failure", "[report]") {
  nst::test::TempDir dir("report");
  ReportData d = sample(10);
  std::string path = dir.file("run.html");
  nst::write_report(path, d);
  std::ifstream f(path, std::ios::binary);
  std::stringstream text;
  text << f.rdbuf();
  CHECK(text.str() == nst::render_report(d));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  std::string missing = dir.file("no/such/folder/run.html");
  CHECK_THROWS_AS(nst::write_report(missing, d), nst::Error);
  CHECK_THROWS_WITH(nst::write_report(missing, d), Contains(missing));
  CHECK_FALSE(std::filesystem::exists(missing + ".tmp"));

  // A sample page to look at in a browser, when asked for: NST_REPORT_SAMPLE=/tmp/sample.html test_report
  if (const char* sample_path = std::getenv("NST_REPORT_SAMPLE")) nst::write_report(sample_path, sample(50));
}

TEST_CASE("a live page reloads itself and says so, the finished page does neither", "[report]") {
  ReportData d = sample(5);
  const std::string done = render_report(d);
  CHECK(done.find("http-equiv=\"refresh\"") == std::string::npos);
  CHECK(done.find("The run is going on") == std::string::npos);
  d.refresh_seconds = 10;
  const std::string live = render_report(d);
  const std::size_t meta = live.find("<meta http-equiv=\"refresh\" content=\"10\">");
  REQUIRE(meta != std::string::npos);
  CHECK(meta < live.find("</head>"));  // a browser obeys it only in the head
  CHECK(live.find("<p class=\"live\">The run is going on: this page reloads itself every 10 s") != std::string::npos);
}

// --- In a real browser: Debian's chromium, headless, takes a screenshot of the page; its pixels say that
// every image decoded and that the loss chart was drawn. Reported skipped where chromium is absent. ---

namespace {

ReportImage solid(const std::string& caption, int h, int w, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  ReportImage im{caption, std::vector<std::uint8_t>(std::size_t(h) * w * 3), h, w};
  for (std::size_t i = 0; i < im.rgb.size(); i += 3) im.rgb[i] = r, im.rgb[i + 1] = g, im.rgb[i + 2] = b;
  return im;
}

// Pixels of the screenshot within 12 of (r, g, b) in every channel.
std::size_t count_near(const unsigned char* px, int n, int r, int g, int b) {
  std::size_t c = 0;
  for (int i = 0; i < n; ++i, px += 4)
    c += std::abs(px[0] - r) <= 12 && std::abs(px[1] - g) <= 12 && std::abs(px[2] - b) <= 12;
  return c;
}

}  // namespace

TEST_CASE("in headless Chromium every image of the page decodes and the loss chart is drawn", "[report][browser]") {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) NST_SKIP("chromium is not installed (Debian: apt-get install chromium)");
  nst::test::TempDir dir("browser");
  // Each picture one colour found nowhere else on the page, so that its pixels show it was decoded and drawn.
  ReportData d = sample(40);
  d.result = solid("result", 64, 96, 255, 0, 255);                                     // magenta
  d.inputs = {solid("content", 64, 96, 0, 255, 0), solid("style", 80, 80, 0, 0, 255)};  // green, blue
  d.snapshots = {solid("iteration 10", 64, 96, 255, 128, 0)};                           // orange
  for (int live : {0, 10}) {
    INFO((live ? "live page" : "finished page"));
    d.refresh_seconds = live;
    const std::string page = dir.file("page.html"), shot = dir.file("shot.png");
    nst::write_report(page, d);
    std::filesystem::remove(shot);
    const std::string cmd = "timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1600 "
                            "--screenshot=" + shot + " file://" + page + " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    int w = 0, h = 0, comp = 0;
    unsigned char* px = stbi_load(shot.c_str(), &w, &h, &comp, 4);
    REQUIRE(px);
    const int n = w * h;
    // Images are drawn at least at their own size (96x64 = 6144 pixels); the chart's lines are 2 px wide
    // and hundreds long.
    CHECK(count_near(px, n, 255, 0, 255) >= 6144);   // the result
    CHECK(count_near(px, n, 0, 255, 0) >= 6144);     // the content
    CHECK(count_near(px, n, 0, 0, 255) >= 6400);     // the style
    CHECK(count_near(px, n, 255, 128, 0) >= 6144);   // the snapshot
    CHECK(count_near(px, n, 0xd6, 0x27, 0x28) >= 300);  // the style loss's curve and legend
    CHECK(count_near(px, n, 0x1f, 0x77, 0xb4) >= 300);  // the content loss's
    // The live page's line, in its own colour (#a40), only while the run goes on.
    const std::size_t banner = count_near(px, n, 0xaa, 0x44, 0x00);
    if (live) CHECK(banner >= 50);
    else CHECK(banner == 0);
    stbi_image_free(px);
  }
}
