#include "host.h"

#include <cblas.h>
#include <malloc.h>
#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <limits>
#include <vector>

namespace nst::bench {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// 2048^3 is 17 GFLOP: large enough for OpenBLAS to reach its plateau on every thread, small enough to take
// a fraction of a second. The first run (thread start, page faults) is dropped by taking the best.
double cpu_sgemm_gflops() {
  const int n = 2048;
  std::vector<float> a(std::size_t(n) * n), b(a.size()), c(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = float(i % 7) * 0.125f;
    b[i] = float(i % 5) * 0.25f;
  }
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < 4; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n);
    best = std::min(best, seconds_since(t0));
  }
  return 2.0 * n * n * n / best * 1e-9;
}

// 256 MiB, 8x the largest last-level caches we run on, copied by all threads in contiguous blocks.
double cpu_copy_gbs() {
  const std::size_t n = std::size_t(64) << 20;
  std::vector<float> src(n, 1.f), dst(n, 0.f);
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < 5; ++r) {
    auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel
    {
      std::size_t t = std::size_t(omp_get_thread_num()), nt = std::size_t(omp_get_num_threads());
      std::size_t lo = n * t / nt, hi = n * (t + 1) / nt;
      std::memcpy(dst.data() + lo, src.data() + lo, (hi - lo) * sizeof(float));
    }
    best = std::min(best, seconds_since(t0));
  }
  return 2.0 * double(n) * sizeof(float) / best * 1e-9;
}

std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    std::size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    std::size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "unknown CPU" : line.substr(start);
  }
  return "unknown CPU";
}

int cpu_threads() { return omp_get_max_threads(); }

bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  return f && (f << "5").flush();  // "5": reset the peak resident set size (VmHWM)
}

double peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  double kib = 0;
  while (in >> key) {
    if (key == "VmHWM:" && in >> kib) return kib * 1024;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) * 1024;
}

void release_free_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

CpuTimes cpu_times() {
  CpuTimes t;
  t.wall = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  std::ifstream in("/proc/stat");
  std::string cpu;
  double v[8] = {};  // user nice system idle iowait irq softirq steal
  if (in >> cpu && cpu == "cpu") {
    for (double& x : v) in >> x;
    const double hz = double(sysconf(_SC_CLK_TCK));
    t.machine_busy = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  t.self = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1e-6 * double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  return t;
}

double others_load(const CpuTimes& a, const CpuTimes& b) {
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  const double capacity = (b.wall - a.wall) * double(cpus > 0 ? cpus : 1);
  if (capacity <= 0 || b.machine_busy <= 0) return 0;
  return std::clamp(((b.machine_busy - a.machine_busy) - (b.self - a.self)) / capacity, 0.0, 1.0);
}

}  // namespace nst::bench
