#include "nst/backend.h"

namespace nst {

Tensor Backend::to_device(const Tensor& host) {
  Tensor t = alloc(host.shape());
  upload(host, t);
  return t;
}

Tensor Backend::to_host(const Tensor& t) {
  Tensor h = Tensor::host(t.shape());
  download(t, h);
  return h;
}

}  // namespace nst
