// CPU benchmarks: each VGG19 convolution (forward and backward-data) at one image size, and one full NST
// evaluation (forward, losses, backward to the image). Prints GFLOP/s; numbers, not pass/fail.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nst/backend.h"
#include "nst/network.h"
#include "nst/objective.h"
#include "nst/weights.h"

namespace {

double seconds_of(int reps, const auto& fn) {
  fn();  // warm-up: first-touch page faults, BLAS thread start
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

nst::Tensor random_tensor(nst::Shape s, unsigned seed) {
  nst::Tensor t = nst::Tensor::host(s);
  std::srand(seed);
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = float(std::rand()) / RAND_MAX;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  int size = argc > 1 ? std::atoi(argv[1]) : 256;
  int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  if (size < 32 || reps < 1) {
    std::fprintf(stderr, "usage: nst_bench_cpu [SIZE>=32] [REPS]\n");
    return 2;
  }
  auto be = nst::make_cpu_backend();
  nst::Weights w = nst::synthetic_weights({64, 128, 256, 512, 512}, 1, nst::torchvision_normalization());
  std::printf("%-8s %-18s %10s %10s %10s %10s\n", "layer", "input", "fwd ms", "fwd GF/s", "bwd ms", "bwd GF/s");
  int h = size, c = 3;
  for (const auto& l : nst::vgg19_layers()) {
    if (l.kind == nst::LayerKind::Pool) h /= 2;
    if (l.kind != nst::LayerKind::Conv) continue;
    const auto& cw = w.convs[l.conv];
    nst::Tensor x = random_tensor({1, c, h, h}, 1), y = be->alloc({1, cw.out, h, h});
    nst::Tensor wt = nst::Tensor::host({cw.out, cw.in, 3, 3}, cw.weight), bt = nst::Tensor::host({1, cw.out, 1, 1}, cw.bias);
    double flops = 2.0 * cw.out * cw.in * 9 * double(h) * h;
    double tf = seconds_of(reps, [&] { be->conv_forward(x, wt, bt, y); });
    double tb = seconds_of(reps, [&] { be->conv_backward_data(y, wt, x); });
    std::printf("%-8s %-18s %10.2f %10.1f %10.2f %10.1f\n", l.name.c_str(), x.shape().str().c_str(), tf * 1e3,
                flops / tf * 1e-9, tb * 1e3, flops / tb * 1e-9);
    c = cw.out;
  }
  nst::LossConfig cfg;
  cfg.tv_weight = 1e-3;
  nst::Objective obj(*be, w, cfg);
  nst::Tensor content = random_tensor({1, 3, size, size}, 2);
  obj.set_content(content);
  obj.set_styles({random_tensor({1, 3, size, size}, 3)});
  nst::Tensor X = random_tensor({1, 3, size, size}, 4), g = be->alloc(X.shape());
  double t = seconds_of(reps, [&] { obj.evaluate(X, g); });
  std::printf("full evaluation (VGG19 to relu5_1, content relu4_2, 5 style layers, backward) at %dx%d: %.3f s\n", size,
              size, t);
  return 0;
}
