// What `nst bench` asks of the host: the CPU's ceilings, measured (SGEMM throughput with OpenBLAS on all OpenMP
// threads, the bandwidth of a large parallel copy), its name and threads, the process's peak memory, and how
// busy other processes kept the CPUs (a benchmark sharing two cores with a compiler measures the compiler).
#pragma once
#include <string>

namespace nst::bench {

double cpu_sgemm_gflops();  // best of a few 2048^3 SGEMMs
double cpu_copy_gbs();      // best of a few 256 MiB copies, bytes read + written
std::string cpu_name();     // /proc/cpuinfo's model name
int cpu_threads();          // omp_get_max_threads()

// Peak resident memory of the process: reset_peak_rss() restarts the high-water mark (Linux's
// /proc/self/clear_refs; false where that is not allowed, and then peak_rss_bytes() is the process lifetime's
// peak from getrusage).
bool reset_peak_rss();
double peak_rss_bytes();
// Hands the allocator's free memory back to the system (glibc's malloc_trim), so that one size's peak does not
// start from the last size's leftovers.
void release_free_memory();

// CPU time of the whole machine (busy, including time stolen by the hypervisor) and of this process.
struct CpuTimes {
  double wall = 0, machine_busy = 0, self = 0;  // seconds
};
CpuTimes cpu_times();

// The share of the machine's CPU capacity that other processes (or the hypervisor) took between a and b.
double others_load(const CpuTimes& a, const CpuTimes& b);

}  // namespace nst::bench
