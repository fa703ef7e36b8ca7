#include "nst/backend.h"

#include <cmath>

namespace nst {

Tensor Backend::to_device(const Tensor& host) {
  Tensor t = alloc(host.shape());
  upload(host, t);
  return t;
}

AdamScalars adam_scalars(const AdamState& s) {
  AdamScalars a;
  a.b1 = float(s.beta1);
  a.b2 = float(s.beta2);
  a.a1 = float(1 - s.beta1);
  a.a2 = float(1 - s.beta2);
  a.bc2_sqrt = float(std::sqrt(1 - std::pow(s.beta2, s.step)));
  a.step_size = float(s.lr / (1 - std::pow(s.beta1, s.step)));
  a.eps = float(s.eps);
  return a;
}

Tensor Backend::to_host(const Tensor& t) {
  Tensor h = Tensor::host(t.shape());
  download(t, h);
  return h;
}

}  // namespace nst
