// Colour control (Gatys et al. 2017 §5): YIQ, luminance-only transfer and colour histogram matching,
// checked against statistics computed here in double, on random, smooth and natural-like images of odd
// sizes.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <random>
#include <vector>

#include "nst/color.h"
#include "nst/error.h"
#include "test_util.h"

using namespace nst;
using nst::detail::Mat3;
using nst::detail::Vec3;
using nst::test::random_tensor;
using nst::test::rel_err;

namespace {

constexpr double kY[3] = {0.299, 0.587, 0.114};

std::size_t pixels(const Tensor& t) { return std::size_t(t.shape().h) * t.shape().w; }

// Smooth, structured colour: low-frequency waves with different phases per channel, plus a ramp.
Tensor smooth_image(int h, int w, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(0, 6.28);
  Tensor t = Tensor::host({1, 3, h, w});
  std::size_t n = pixels(t);
  for (int c = 0; c < 3; ++c) {
    double p1 = u(gen), p2 = u(gen), f1 = 1 + u(gen) / 3, f2 = 1 + u(gen) / 2;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double v = 0.5 + 0.25 * std::sin(f1 * 6.28 * x / w + p1) * std::cos(f2 * 6.28 * y / h + p2) +
                   0.15 * (double(x) / w - 0.5) * (c - 1);
        t.data()[c * n + std::size_t(y) * w + x] = float(v);
      }
  }
  return t;
}

// Like a photograph: one strong luminance signal shared by all channels and weak, noisy colour, so the
// RGB covariance is badly conditioned (its smallest eigenvalue is ~1e-3 of the largest).
Tensor natural_image(int h, int w, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> noise(0, 0.01);
  Tensor t = Tensor::host({1, 3, h, w});
  std::size_t n = pixels(t);
  const double tint[3] = {1.0, 0.9, 0.75};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double base = 0.45 + 0.3 * std::sin(3.0 * x / w + 1) * std::sin(5.0 * y / h + 0.5);
      double warm = 0.04 * std::cos(4.0 * y / h);
      for (int c = 0; c < 3; ++c)
        t.data()[c * n + std::size_t(y) * w + x] = float(tint[c] * base + (c == 0 ? warm : -warm / 2) + noise(gen));
    }
  return t;
}

// R = G = B.
Tensor grey_image(int h, int w, unsigned seed) {
  Tensor t = random_tensor({1, 3, h, w}, seed, 0.f, 1.f);
  std::size_t n = pixels(t);
  for (std::size_t i = 0; i < n; ++i) t.data()[n + i] = t.data()[2 * n + i] = t.data()[i];
  return t;
}

// Mean and covariance written out naively (one pass over centred values; independent of color_stats).
struct Stats {
  Vec3 mean{};
  Mat3 cov{};
};
Stats stats(const Tensor& t) {
  std::size_t n = pixels(t);
  Stats s;
  for (int c = 0; c < 3; ++c) {
    for (std::size_t i = 0; i < n; ++i) s.mean[c] += t.data()[c * n + i];
    s.mean[c] /= double(n);
  }
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      for (std::size_t i = 0; i < n; ++i)
        s.cov[a][b] += (t.data()[a * n + i] - s.mean[a]) * (t.data()[b * n + i] - s.mean[b]);
      s.cov[a][b] /= double(n);
    }
  return s;
}

std::vector<double> flat(const Mat3& m) {
  std::vector<double> v;
  for (const auto& row : m) v.insert(v.end(), row.begin(), row.end());
  return v;
}
std::vector<double> flat(const Vec3& v) { return {v.begin(), v.end()}; }

// Y of every pixel from the luminance weights, in double.
std::vector<double> luma(const Tensor& t) {
  std::size_t n = pixels(t);
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i)
    y[i] = kY[0] * t.data()[i] + kY[1] * t.data()[n + i] + kY[2] * t.data()[2 * n + i];
  return y;
}

void mean_std(const std::vector<double>& v, double& mean, double& sd) {
  mean = 0;
  for (double x : v) mean += x;
  mean /= double(v.size());
  double q = 0;
  for (double x : v) q += (x - mean) * (x - mean);
  sd = std::sqrt(q / double(v.size()));
}

// One channel of an image as doubles.
std::vector<double> channel(const Tensor& t, int c) {
  std::size_t n = pixels(t);
  return std::vector<double>(t.data() + c * n, t.data() + (c + 1) * n);
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

Mat3 random_rotation(std::mt19937& gen) {
  std::normal_distribution<double> g;
  Mat3 q;
  for (auto& row : q)
    for (double& v : row) v = g(gen);
  // Gram-Schmidt on the columns.
  for (int j = 0; j < 3; ++j) {
    for (int k = 0; k < j; ++k) {
      double d = 0;
      for (int i = 0; i < 3; ++i) d += q[i][j] * q[i][k];
      for (int i = 0; i < 3; ++i) q[i][j] -= d * q[i][k];
    }
    double nrm = 0;
    for (int i = 0; i < 3; ++i) nrm += q[i][j] * q[i][j];
    for (int i = 0; i < 3; ++i) q[i][j] /= std::sqrt(nrm);
  }
  return q;
}

Mat3 with_spectrum(const Mat3& q, const Vec3& l) {
  Mat3 d{};
  for (int i = 0; i < 3; ++i) d[i][i] = l[i];
  return detail::matmul(q, detail::matmul(d, detail::transpose(q)));
}

}  // namespace

TEST_CASE("the YIQ matrices: luminance weights, I and Q zero on greys, an exact inverse", "[color][yiq]") {
  const Mat3& m = detail::rgb_to_yiq_matrix();
  const Mat3& inv = detail::yiq_to_rgb_matrix();
  for (int c = 0; c < 3; ++c) CHECK(m[0][c] == kY[c]);
  CHECK(std::abs(m[1][0] + m[1][1] + m[1][2]) < 1e-15);
  CHECK(std::abs(m[2][0] + m[2][1] + m[2][2]) < 1e-15);
  Mat3 p = detail::matmul(m, inv), q = detail::matmul(inv, m);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      CHECK(std::abs(p[i][j] - (i == j)) < 1e-15);
      CHECK(std::abs(q[i][j] - (i == j)) < 1e-15);
    }
  // Y = 1, I = Q = 0 is white.
  for (int c = 0; c < 3; ++c) CHECK(std::abs(inv[c][0] - 1) < 1e-15);
}

TEST_CASE("YIQ round trips and gives the luminance weights for primaries", "[color][yiq]") {
  const Tensor images[] = {random_tensor({1, 3, 37, 53}, 1, 0.f, 1.f), smooth_image(41, 29, 2),
                           natural_image(1, 1, 3), random_tensor({1, 3, 7, 5}, 4, -0.5f, 1.5f)};
  for (const Tensor& x : images) {
    DYNAMIC_SECTION(x.shape().str()) {
      Tensor back = yiq_to_rgb(rgb_to_yiq(x));
      auto a = back.to_vector(), b = x.to_vector();
      double worst = 0;
      for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
      CAPTURE(worst);
      CHECK(worst <= 1e-6);
      NST_CHECK_CLOSE(a, b, 1e-6);
    }
  }

  // Red, green, blue, white, black, and greys.
  const float px[][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 1}, {0, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.2f, 0.2f, 0.2f}};
  const int np = int(std::size(px));
  Tensor rgb = Tensor::host({1, 3, 1, np});
  for (int i = 0; i < np; ++i)
    for (int c = 0; c < 3; ++c) rgb.data()[c * np + i] = px[i][c];
  auto yiq = rgb_to_yiq(rgb).to_vector();
  for (int c = 0; c < 3; ++c) CHECK(std::abs(yiq[c] - kY[c]) < 1e-7);  // Y of pure R, G, B
  CHECK(std::abs(yiq[3] - 1.0) < 1e-7);                                   // white
  CHECK(yiq[4] == 0.0f);                                                  // black
  CHECK(std::abs(yiq[5] - 0.5) < 1e-7);
  CHECK(std::abs(yiq[6] - 0.2) < 1e-7);
  for (int i = 3; i < np; ++i) {  // greys: no chroma
    CHECK(std::abs(yiq[np + i]) < 1e-7);
    CHECK(std::abs(yiq[2 * np + i]) < 1e-7);
  }
}

TEST_CASE("luminance_image is grey with the Y channel", "[color][luminance]") {
  Tensor x = smooth_image(23, 31, 5);
  Tensor g = luminance_image(x);
  REQUIRE(g.shape() == x.shape());
  auto y = channel(rgb_to_yiq(x), 0);
  for (int c = 0; c < 3; ++c) {
    CHECK(channel(g, c) == channel(g, 0));
    CHECK(max_abs_diff(channel(g, c), y) < 1e-7);
  }
  CHECK(max_abs_diff(channel(g, 0), luma(x)) < 1e-7);
}

TEST_CASE("match_luminance gives the style's Y the content's mean and standard deviation", "[color][luminance]") {
  struct Case {
    const char* name;
    Tensor style, content;
  };
  Case cases[] = {{"random to smooth", random_tensor({1, 3, 37, 53}, 6, 0.f, 1.f), smooth_image(29, 41, 7)},
                  {"smooth to natural", smooth_image(17, 64, 8), natural_image(33, 35, 9)},
                  {"natural to random", natural_image(51, 19, 10), random_tensor({1, 3, 9, 11}, 11, 0.f, 1.f)}};
  for (const Case& k : cases) {
    DYNAMIC_SECTION(k.name) {
      Tensor out = match_luminance(k.style, k.content);
      REQUIRE(out.shape() == k.style.shape());
      for (int c = 1; c < 3; ++c) CHECK(channel(out, c) == channel(out, 0));
      double mo, so, mc, sc;
      mean_std(channel(out, 0), mo, so);
      mean_std(luma(k.content), mc, sc);
      CAPTURE(rel_err(mo, mc), rel_err(so, sc));
      CHECK(rel_err(mo, mc) <= 1e-5);
      CHECK(rel_err(so, sc) <= 1e-5);
      // A linear remap of the style's own Y: correlation 1 with it.
      std::vector<double> ys = luma(k.style), yo = channel(out, 0);
      double ms, ss;
      mean_std(ys, ms, ss);
      double corr = 0;
      for (std::size_t i = 0; i < ys.size(); ++i) corr += (ys[i] - ms) * (yo[i] - mo);
      corr /= double(ys.size()) * ss * so;
      CHECK(corr > 1 - 1e-6);
    }
  }

  SECTION("a constant style maps to the content's mean Y") {
    Tensor style = Tensor::host({1, 3, 5, 7}, std::vector<float>(105, 0.3f));
    Tensor content = smooth_image(13, 11, 12);
    Tensor out = match_luminance(style, content);
    REQUIRE(all_finite(out));
    double mc, sc;
    mean_std(luma(content), mc, sc);
    for (float v : out.to_vector()) CHECK(std::abs(v - mc) < 1e-7);
  }
}

TEST_CASE("recombine_luminance keeps the content's I and Q and takes the result's mean channel as Y",
          "[color][luminance]") {
  Tensor content = natural_image(37, 29, 13);
  // A stylised result: not grey, as the network's output from a grey input is not, and partly out of [0,1].
  Tensor result = random_tensor(content.shape(), 14, -0.1f, 1.1f);
  Tensor out = recombine_luminance(result, content);
  REQUIRE(out.shape() == content.shape());
  Tensor yiq_out = rgb_to_yiq(out), yiq_content = rgb_to_yiq(content);
  double di = max_abs_diff(channel(yiq_out, 1), channel(yiq_content, 1));
  double dq = max_abs_diff(channel(yiq_out, 2), channel(yiq_content, 2));
  std::size_t n = pixels(result);
  std::vector<double> mean_channel(n);
  for (std::size_t i = 0; i < n; ++i)
    mean_channel[i] = (double(result.data()[i]) + result.data()[n + i] + result.data()[2 * n + i]) / 3;
  double dy = max_abs_diff(channel(yiq_out, 0), mean_channel);
  CAPTURE(di, dq, dy);
  CHECK(di <= 1e-6);
  CHECK(dq <= 1e-6);
  CHECK(dy <= 1e-6);

  // I and Q annihilate greys, so the recombination is the content shifted by the change in Y.
  auto yc = luma(content);
  for (int c = 0; c < 3; ++c) {
    auto expect = channel(content, c);
    for (std::size_t i = 0; i < n; ++i) expect[i] += mean_channel[i] - yc[i];
    CHECK(max_abs_diff(channel(out, c), expect) <= 1e-6);
  }

  // With the content's own luminance the content comes back.
  NST_CHECK_CLOSE(recombine_luminance(luminance_image(content), content).to_vector(), content.to_vector(), 1e-6);

  CHECK_THROWS_AS(recombine_luminance(random_tensor({1, 3, 29, 37}, 15, 0.f, 1.f), content), Error);
}

TEST_CASE("match_color_histogram gives the style the content's channel means and covariance", "[color][histogram]") {
  struct Case {
    const char* name;
    Tensor style, content;
  };
  Case cases[] = {{"random to smooth", random_tensor({1, 3, 37, 53}, 16, 0.f, 1.f), smooth_image(29, 41, 17)},
                  {"smooth to random", smooth_image(31, 27, 18), random_tensor({1, 3, 19, 23}, 19, 0.f, 1.f)},
                  {"smooth to smooth", smooth_image(64, 33, 20), smooth_image(45, 45, 21)},
                  {"natural to smooth", natural_image(47, 39, 22), smooth_image(25, 61, 23)},
                  {"smooth to natural", smooth_image(21, 17, 24), natural_image(53, 43, 25)}};
  for (const Case& k : cases) {
    DYNAMIC_SECTION(k.name) {
      Tensor out = match_color_histogram(k.style, k.content);
      REQUIRE(out.shape() == k.style.shape());
      Stats so = stats(out), sc = stats(k.content);
      auto cm = nst::test::compare(flat(so.mean), flat(sc.mean));
      auto cc = nst::test::compare(flat(so.cov), flat(sc.cov));
      // Smallest eigenvalue of the style's covariance: how degenerate the case is.
      auto ev = detail::eigen_sym3(stats(k.style).cov).values;
      double lmin = std::min({ev[0], ev[1], ev[2]});
      CAPTURE(cm.rel, cc.rel, lmin);
      CHECK(cm.rel <= 1e-5);
      CHECK(cc.rel <= 1e-4);
    }
  }

  SECTION("a style equal to the content is left as it is") {
    for (const Tensor& x : {random_tensor({1, 3, 37, 53}, 26, 0.f, 1.f), smooth_image(29, 41, 27), natural_image(33, 31, 28)}) {
      auto cmp = nst::test::compare(match_color_histogram(x, x).to_vector(), x.to_vector());
      CAPTURE(x.shape().str(), cmp.rel);
      CHECK(cmp.rel <= 1e-5);
    }
  }

  SECTION("a grey style gives finite values with the content's means") {
    Tensor style = grey_image(27, 33, 29), content = natural_image(31, 25, 30);
    Tensor out = match_color_histogram(style, content);
    REQUIRE(all_finite(out));
    auto cm = nst::test::compare(flat(stats(out).mean), flat(stats(content).mean));
    CAPTURE(cm.rel);
    CHECK(cm.rel <= 1e-5);
    // Only the style's one direction of variation survives, scaled to a content-like spread: the output
    // stays within a few content standard deviations of its mean.
    Stats sc = stats(content);
    for (int c = 0; c < 3; ++c)
      for (double v : channel(out, c)) CHECK(std::abs(v - sc.mean[c]) < 10 * std::sqrt(sc.cov[c][c] + sc.cov[0][0]));
  }

  SECTION("a constant style becomes the content's mean colour") {
    Tensor style = Tensor::host({1, 3, 3, 5}, std::vector<float>(45, 0.7f));
    Tensor content = smooth_image(9, 13, 31);
    Tensor out = match_color_histogram(style, content);
    REQUIRE(all_finite(out));
    Stats sc = stats(content);
    for (int c = 0; c < 3; ++c)
      for (double v : channel(out, c)) CHECK(std::abs(v - sc.mean[c]) < 1e-6);
  }

  SECTION("a grey content gives a grey output") {
    Tensor out = match_color_histogram(smooth_image(21, 23, 32), grey_image(17, 19, 33));
    REQUIRE(all_finite(out));
    CHECK(max_abs_diff(channel(out, 0), channel(out, 1)) < 1e-6);
    CHECK(max_abs_diff(channel(out, 0), channel(out, 2)) < 1e-6);
  }
}

TEST_CASE("color_stats matches a naive mean and covariance", "[color][histogram]") {
  for (const Tensor& x : {random_tensor({1, 3, 1, 1}, 34, 0.f, 1.f), smooth_image(37, 53, 35), natural_image(19, 7, 36)}) {
    auto got = detail::color_stats(x);
    Stats expect = stats(x);
    NST_CHECK_CLOSE(flat(got.mean), flat(expect.mean), 1e-12);
    if (x.numel() > 3) NST_CHECK_CLOSE(flat(got.cov), flat(expect.cov), 1e-12);
  }
  CHECK_THROWS_AS(detail::color_stats(Tensor::host({1, 4, 3, 3})), Error);
  CHECK_THROWS_AS(match_color_histogram(Tensor::host({2, 3, 3, 3}), smooth_image(3, 3, 1)), Error);
  CHECK_THROWS_AS(rgb_to_yiq(Tensor()), Error);
}

TEST_CASE("Jacobi eigen-decomposition and symmetric square roots of 3x3 SPD matrices", "[color][sqrt]") {
  std::mt19937 gen(37);
  std::uniform_real_distribution<double> expo(-8, 0);
  std::vector<Mat3> mats;
  for (int k = 0; k < 200; ++k) {
    Mat3 q = random_rotation(gen);
    if (k < 100) mats.push_back(with_spectrum(q, {std::pow(10, expo(gen)), std::pow(10, expo(gen)), std::pow(10, expo(gen))}));
    else if (k < 150) mats.push_back(with_spectrum(q, {0.3, 0.3, 0.01 + k * 1e-3}));  // repeated eigenvalue
    else mats.push_back(with_spectrum(q, {1, 1e-4, 0}));                             // singular (PSD)
  }
  mats.push_back(Mat3{{{2, 0, 0}, {0, 3, 0}, {0, 0, 0.5}}});  // already diagonal
  mats.push_back(Mat3{{{1, 1, 1}, {1, 1, 1}, {1, 1, 1}}});    // a grey image's covariance, rank 1
  mats.push_back(Mat3{});                                      // a constant image's

  double worst_eig = 0, worst_orth = 0, worst_sqrt = 0, worst_inv = 0;
  for (const Mat3& a : mats) {
    auto e = detail::eigen_sym3(a);
    Mat3 d{};
    for (int i = 0; i < 3; ++i) d[i][i] = e.values[i];
    Mat3 back = detail::matmul(e.vectors, detail::matmul(d, detail::transpose(e.vectors)));
    Mat3 vtv = detail::matmul(detail::transpose(e.vectors), e.vectors);
    Mat3 eye{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
    double frob = 0;
    for (double v : flat(a)) frob += v * v;
    double scale = std::max(1.0, std::sqrt(frob));
    worst_eig = std::max(worst_eig, max_abs_diff(flat(back), flat(a)) / scale);
    worst_orth = std::max(worst_orth, max_abs_diff(flat(vtv), flat(eye)));

    Mat3 s = detail::sym_sqrt(a);
    CHECK(max_abs_diff(flat(s), flat(detail::transpose(s))) < 1e-15);
    auto cmp = nst::test::compare(flat(detail::matmul(s, s)), flat(a));
    worst_sqrt = std::max(worst_sqrt, cmp.rel);

    auto smallest = *std::min_element(e.values.begin(), e.values.end());
    if (smallest > 1e-6) {  // well away from the floor: the inverse root is exact
      Mat3 r = detail::sym_inv_sqrt(a, 1e-300);
      Mat3 id = detail::matmul(r, detail::matmul(a, r));
      // Error grows with the condition number; these go up to 1e6.
      worst_inv = std::max(worst_inv, max_abs_diff(flat(id), flat(eye)) / (1e-16 * std::max({e.values[0], e.values[1], e.values[2]}) / smallest));
    }
  }
  CAPTURE(worst_eig, worst_orth, worst_sqrt, worst_inv);
  CHECK(worst_eig <= 1e-14);
  CHECK(worst_orth <= 1e-14);
  CHECK(worst_sqrt <= 1e-9);
  CHECK(worst_inv <= 100);  // |R A R - I| <= 100 eps * cond

  // The floor: an eigenvalue under it gets a gain of 1/sqrt(floor), one above it is untouched.
  Mat3 a{{{4, 0, 0}, {0, 1e-9, 0}, {0, 0, 0}}};
  Mat3 r = detail::sym_inv_sqrt(a, 1e-6);
  CHECK(std::abs(r[0][0] - 0.5) < 1e-15);
  CHECK(std::abs(r[1][1] - 1e3) < 1e-9);
  CHECK(std::abs(r[2][2] - 1e3) < 1e-9);
}
