#include "cpu/dnnl_conv.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>

#include "nst/cpu_backend.h"
#include "nst/error.h"

#if NST_HAVE_DNNL
#include <algorithm>
#include <chrono>
#include <vector>

#include <dnnl.hpp>
#endif

namespace nst::cpu {

namespace {

std::string decide() {
  const char* env = std::getenv("NST_CPU_CONV");
  std::string choice = env ? env : "auto";
  if (choice == "blas") return "NST_CPU_CONV=blas";
  if (choice != "auto" && choice != "onednn") return "NST_CPU_CONV=" + choice + " is none of auto, onednn, blas";
#if NST_HAVE_DNNL
  try {
    // AMX kernels segfault on our VMs (see the header); an ISA the user chose stands.
    if (!std::getenv("DNNL_MAX_CPU_ISA")) dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx512_core);
  } catch (const dnnl::error&) {
    // Too late (a primitive already exists) or not built in: what is effective is checked below.
  }
  const auto isa = dnnl::get_effective_cpu_isa();
  switch (isa) {
    case dnnl::cpu_isa::avx512_core:
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx:
      return {};
    default:
      return "oneDNN's ISA on this CPU is below avx512_core (code " + std::to_string(int(isa)) + ")";
  }
#else
  return "built without oneDNN";
#endif
}

}  // namespace

const std::string& DnnlConv::unavailable_reason() {
  static const std::string reason = decide();
  return reason;
}

#if NST_HAVE_DNNL

using dnnl::memory;
using Tag = memory::format_tag;
using DataType = memory::data_type;

namespace {

// 64-byte aligned, grown on demand, never shrunk: the blocked copies of one call's input and output.
class Scratch {
 public:
  float* get(std::size_t bytes) {
    if (bytes > size_) {
      ptr_.reset(static_cast<float*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)));
      if (!ptr_) throw Error("out of host memory allocating " + std::to_string(bytes >> 20) + " MiB for a oneDNN reorder buffer");
      size_ = bytes;
    }
    return ptr_.get();
  }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> ptr_;
  std::size_t size_ = 0;
};

// One convolution shape in one direction: the primitive, and our plain layouts next to oneDNN's choice.
struct Plan {
  bool bwd = false;
  dnnl::primitive conv;
  std::string impl;
  memory::desc plain_in, plain_out, in, out, weights;  // in/out: src/dst forward, diff_dst/diff_src backward
  dnnl::reorder to_blocked, from_blocked;
};

}  // namespace

struct DnnlConv::Impl {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream st{eng};
  const ConvAlgo choice;
  std::map<std::tuple<int, int, int, int, bool>, Plan> plans;
  struct WeightCopy {
    std::weak_ptr<const float> source;  // the plain weights' allocation: the copies go when it does
    std::vector<memory> blocked;        // one per layout the plans asked for (forward, backward, per algorithm)
  };
  std::map<std::uint64_t, WeightCopy> weights;  // by storage id
  std::size_t weight_bytes = 0;
  Scratch in_buf, out_buf;

  explicit Impl(ConvAlgo a) : choice(a) {}

  static memory::desc nchw(int c, int h, int w) { return {{1, c, h, w}, DataType::f32, Tag::nchw}; }

  dnnl::convolution_forward::primitive_desc forward_pd(int C, int O, int H, int W, dnnl::algorithm algo) {
    const memory::desc any_src({1, C, H, W}, DataType::f32, Tag::any), any_w({O, C, 3, 3}, DataType::f32, Tag::any),
        any_dst({1, O, H, W}, DataType::f32, Tag::any), bias({O}, DataType::f32, Tag::x);
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, algo, any_src, any_w, bias, any_dst, {1, 1}, {1, 1},
                                      {1, 1});
    return {d, eng};
  }

  // The direct plan, or the Winograd one where oneDNN has it for the shape: always (Winograd), or where it
  // ran faster here (Fastest: timed once, on data in the blocked layouts; the reorders are the same).
  Plan& plan(int C, int O, int H, int W, bool bwd) {
    auto key = std::make_tuple(C, O, H, W, bwd);
    auto it = plans.find(key);
    if (it != plans.end()) return it->second;
    Plan p = make_plan(C, O, H, W, bwd, dnnl::algorithm::convolution_direct);
    if (choice != ConvAlgo::Direct) {
      try {
        Plan q = make_plan(C, O, H, W, bwd, dnnl::algorithm::convolution_winograd);
        if (choice == ConvAlgo::Winograd || seconds(q, 2) < seconds(p, 2)) p = std::move(q);
      } catch (const dnnl::error&) {
        // No Winograd implementation for this shape here: direct it is.
      }
    }
    return plans.emplace(key, std::move(p)).first->second;
  }

  // Median seconds of `samples` runs of the plan's convolution alone (no reorders) on buffers filled with a
  // normal number (uninitialised memory can hold denormals, which slow FMA down by orders of magnitude):
  // the reorder buffers that forward() and backward_data() use anyway, so timing adds no peak memory
  // beyond a weight tensor's size.
  double seconds(Plan& p, int samples) {
    auto filled = [&](const memory::desc& d, float* at) {
      memory mem = at ? memory(d, eng, at) : memory(d, eng);
      std::fill_n(static_cast<float*>(mem.get_data_handle()), d.get_size() / sizeof(float), 0.01f);
      return mem;
    };
    const bool bwd = p.bwd;
    memory in = filled(p.in, in_buf.get(p.in.get_size())), out = filled(p.out, out_buf.get(p.out.get_size()));
    memory w = filled(p.weights, nullptr), b = filled({{p.plain_out.dims()[1]}, DataType::f32, Tag::x}, nullptr);
    auto once = [&] {
      if (!bwd) p.conv.execute(st, {{DNNL_ARG_SRC, in}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, out}});
      else p.conv.execute(st, {{DNNL_ARG_DIFF_DST, in}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, out}});
      st.wait();
    };
    once();
    std::vector<double> t;
    for (int i = 0; i < std::max(samples, 1); ++i) {
      auto t0 = std::chrono::steady_clock::now();
      once();
      t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
    return t[t.size() / 2];
  }

  Plan make_plan(int C, int O, int H, int W, bool bwd, dnnl::algorithm algo) {
    Plan p;
    p.bwd = bwd;
    auto fpd = forward_pd(C, O, H, W, algo);
    if (!bwd) {
      p.conv = dnnl::convolution_forward(fpd);
      p.impl = fpd.impl_info_str();
      p.plain_in = nchw(C, H, W), p.plain_out = nchw(O, H, W);
      p.in = fpd.src_desc(), p.out = fpd.dst_desc(), p.weights = fpd.weights_desc();
    } else {
      dnnl::convolution_backward_data::desc d(algo, memory::desc({1, C, H, W}, DataType::f32, Tag::any),
                                              memory::desc({O, C, 3, 3}, DataType::f32, Tag::any),
                                              memory::desc({1, O, H, W}, DataType::f32, Tag::any), {1, 1}, {1, 1}, {1, 1});
      dnnl::convolution_backward_data::primitive_desc bpd(d, eng, fpd);
      p.conv = dnnl::convolution_backward_data(bpd);
      p.impl = bpd.impl_info_str();
      p.plain_in = nchw(O, H, W), p.plain_out = nchw(C, H, W);
      p.in = bpd.diff_dst_desc(), p.out = bpd.diff_src_desc(), p.weights = bpd.weights_desc();
    }
    if (p.in != p.plain_in) p.to_blocked = dnnl::reorder(dnnl::reorder::primitive_desc(eng, p.plain_in, eng, p.in));
    if (p.out != p.plain_out) p.from_blocked = dnnl::reorder(dnnl::reorder::primitive_desc(eng, p.out, eng, p.plain_out));
    return p;
  }

  // The copy of w in the layout the plan wants: one weight tensor serves forward and backward, and images
  // of several sizes whose plans may choose other layouts (or, with winograd, other algorithms).
  memory& blocked_weights(const Tensor& w, const Plan& p) {
    auto it = weights.find(w.storage_id());
    if (it != weights.end())
      for (memory& m : it->second.blocked)
        if (m.get_desc() == p.weights) return m;
    for (auto i = weights.begin(); i != weights.end();) {  // copies of weights that are gone
      if (!i->second.source.expired()) {
        ++i;
        continue;
      }
      for (const memory& m : i->second.blocked) weight_bytes -= m.get_desc().get_size();
      i = weights.erase(i);
    }
    const Shape& s = w.shape();
    memory plain({{s.n, s.c, 3, 3}, DataType::f32, Tag::oihw}, eng, const_cast<float*>(w.data()));
    memory blocked(p.weights, eng);
    dnnl::reorder(plain, blocked).execute(st, plain, blocked);
    st.wait();
    weight_bytes += p.weights.get_size();
    WeightCopy& copy = weights[w.storage_id()];
    copy.source = w.storage_watch();
    copy.blocked.push_back(std::move(blocked));
    return copy.blocked.back();
  }

  // Reorders `src` (plain) into the plan's input layout, runs `conv` with the blocked input, weights and
  // output, and reorders the output back into `dst` (plain).
  void run(Plan& p, const float* src, float* dst, memory& w, const float* bias, bool bwd) {
    memory user_in(p.plain_in, eng, const_cast<float*>(src)), user_out(p.plain_out, eng, dst);
    memory in = p.in == p.plain_in ? user_in : memory(p.in, eng, in_buf.get(p.in.get_size()));
    memory out = p.out == p.plain_out ? user_out : memory(p.out, eng, out_buf.get(p.out.get_size()));
    if (p.in != p.plain_in) p.to_blocked.execute(st, user_in, in);
    if (!bwd) {
      memory b({{p.plain_out.dims()[1]}, DataType::f32, Tag::x}, eng, const_cast<float*>(bias));
      p.conv.execute(st, {{DNNL_ARG_SRC, in}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, out}});
    } else {
      p.conv.execute(st, {{DNNL_ARG_DIFF_DST, in}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, out}});
    }
    if (p.out != p.plain_out) p.from_blocked.execute(st, out, user_out);
    st.wait();
  }
};

DnnlConv::DnnlConv(ConvAlgo algo) : impl_(std::make_unique<Impl>(algo)) {}
DnnlConv::~DnnlConv() = default;

void DnnlConv::forward(const float* x, int C, int H, int W, const Tensor& w, const float* bias, float* y) {
  const int O = w.shape().n;
  NST_ASSERT(bias, "oneDNN forward convolution without a bias");
  try {
    Plan& p = impl_->plan(C, O, H, W, false);
    impl_->run(p, x, y, impl_->blocked_weights(w, p), bias, false);
  } catch (const dnnl::error& e) {
    throw Error("oneDNN forward convolution " + std::to_string(C) + "->" + std::to_string(O) + ": " + e.what());
  }
}

void DnnlConv::backward_data(const float* dy, int H, int W, const Tensor& w, float* dx) {
  const int O = w.shape().n, C = w.shape().c;
  try {
    Plan& p = impl_->plan(C, O, H, W, true);
    impl_->run(p, dy, dx, impl_->blocked_weights(w, p), nullptr, true);
  } catch (const dnnl::error& e) {
    throw Error("oneDNN backward-data convolution " + std::to_string(C) + "->" + std::to_string(O) + ": " + e.what());
  }
}

std::string DnnlConv::describe(int C, int O, int H, int W, bool bwd) {
  try {
    const Plan& p = impl_->plan(C, O, H, W, bwd);
    bool reorders = p.in != p.plain_in || p.out != p.plain_out;
    return "onednn " + p.impl + (reorders ? ", blocked layout" : ", nchw");
  } catch (const dnnl::error& e) {
    return std::string("onednn: ") + e.what();
  }
}

double DnnlConv::native_seconds(int C, int O, int H, int W, bool bwd, int samples) {
  return impl_->seconds(impl_->plan(C, O, H, W, bwd), samples);
}

std::size_t DnnlConv::bytes_held() const { return impl_->weight_bytes + impl_->in_buf.size() + impl_->out_buf.size(); }

#else  // built without oneDNN: never used, since unavailable_reason() is not empty.

struct DnnlConv::Impl {};
DnnlConv::DnnlConv(ConvAlgo) {}
DnnlConv::~DnnlConv() = default;
void DnnlConv::forward(const float*, int, int, int, const Tensor&, const float*, float*) { throw Error("built without oneDNN"); }
void DnnlConv::backward_data(const float*, int, int, const Tensor&, float*) { throw Error("built without oneDNN"); }
std::string DnnlConv::describe(int, int, int, int, bool) { return {}; }
double DnnlConv::native_seconds(int, int, int, int, bool, int) { return 0; }
std::size_t DnnlConv::bytes_held() const { return 0; }

#endif

}  // namespace nst::cpu

namespace nst {

CpuLibraryConvTimer::CpuLibraryConvTimer() = default;
CpuLibraryConvTimer::~CpuLibraryConvTimer() = default;

double CpuLibraryConvTimer::seconds(int C, int O, int H, int W, bool backward_data, int samples) {
  if (!cpu::DnnlConv::unavailable_reason().empty() || !cpu::DnnlConv::suits(C, O, backward_data)) return -1;
  if (!dnnl_) dnnl_ = std::make_unique<cpu::DnnlConv>();
  return dnnl_->native_seconds(C, O, H, W, backward_data, samples);
}

}  // namespace nst
