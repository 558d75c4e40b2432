// What opening a pack costs, through the C API: tp_pack_open's first call in this process (the
// file in the page cache, this process's heap not yet grown to the pack's size), then the best
// and median of `runs` more opens, and tp_pack_verify (every blob's SHA-256, which open leaves to
// each blob's first use) on a pack just opened.
// Usage: bench_pack_open PACK [runs] [--json OUT.json]. Prints a table; writes the numbers as
// JSON to OUT.json when given. Exit status 1 if the pack does not open or verify.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tritonpack/tritonpack.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Reads the file through a small buffer: it is then in the page cache, and the heap has not
// grown to the pack's size (which would make the first open look like a later one).
bool warm_page_cache(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char chunk[1 << 16];
  while (::read(fd, chunk, sizeof chunk) > 0) {
  }
  ::close(fd);
  return true;
}

// Milliseconds `call` takes, or a negative value (after printing the error) when it fails.
template <class Call>
double timed(const char* what, Call&& call) {
  const auto start = Clock::now();
  const tp_status status = call();
  const double ms = ms_since(start);
  if (status != TP_OK) {
    std::fprintf(stderr, "bench_pack_open: %s: %s: %s\n", what, tp_status_name(status), tp_last_error());
    return -1;
  }
  return ms;
}

struct Result {
  double first_open_ms = 0, best_open_ms = 0, median_open_ms = 0, verify_ms = 0;
  int runs = 0;
  long long bytes = 0;
};

// `text` as a JSON string, quotes included.
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool write_json(const std::string& path, const std::string& pack, const Result& r) {
  FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) return false;
  std::fprintf(out,
               "{\"benchmark\": \"pack_open\", \"pack\": %s, \"bytes\": %lld, \"runs\": %d,\n"
               " \"first_open_ms\": %.4f, \"best_open_ms\": %.4f, \"median_open_ms\": %.4f, \"verify_ms\": %.4f}\n",
               json_string(pack).c_str(), r.bytes, r.runs, r.first_open_ms, r.best_open_ms, r.median_open_ms, r.verify_ms);
  return std::fclose(out) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string pack_path, json_path;
  int runs = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (pack_path.empty()) {
      pack_path = arg;
    } else {
      runs = std::max(1, std::atoi(arg.c_str()));
    }
  }
  if (pack_path.empty()) {
    std::fprintf(stderr, "usage: %s PACK [runs] [--json OUT.json]\n", argv[0]);
    return 2;
  }
  if (!warm_page_cache(pack_path.c_str())) {
    std::fprintf(stderr, "bench_pack_open: cannot read '%s'\n", pack_path.c_str());
    return 1;
  }

  Result r;
  r.runs = runs;
  tp_pack* pack = nullptr;
  r.first_open_ms = timed("first open", [&] { return tp_pack_open(pack_path.c_str(), &pack); });
  if (r.first_open_ms < 0) return 1;
  tp_pack_close(pack);
  std::vector<double> opens;
  for (int i = 0; i < runs; ++i) {
    const double ms = timed("open", [&] { return tp_pack_open(pack_path.c_str(), &pack); });
    if (ms < 0) return 1;
    opens.push_back(ms);
    if (i + 1 < runs) tp_pack_close(pack);
  }
  r.verify_ms = timed("verify", [&] { return tp_pack_verify(pack); });
  tp_pack_close(pack);
  if (r.verify_ms < 0) return 1;
  std::sort(opens.begin(), opens.end());
  r.best_open_ms = opens.front();
  r.median_open_ms = opens[opens.size() / 2];
  if (FILE* f = std::fopen(pack_path.c_str(), "rb")) {
    std::fseek(f, 0, SEEK_END);
    r.bytes = std::ftell(f);
    std::fclose(f);
  }

  std::printf("pack %s: %.1f MiB\n", pack_path.c_str(), static_cast<double>(r.bytes) / (1 << 20));
  std::printf("| %-40s | %10s |\n", "tp_pack_open", "ms");
  std::printf("| %-40s | %10s |\n", "----------------------------------------", "----------");
  std::printf("| %-40s | %10.3f |\n", "first open in the process", r.first_open_ms);
  std::printf("| %-40s | %10.3f |\n", ("best of " + std::to_string(runs)).c_str(), r.best_open_ms);
  std::printf("| %-40s | %10.3f |\n", ("median of " + std::to_string(runs)).c_str(), r.median_open_ms);
  std::printf("| %-40s | %10.3f |\n", "tp_pack_verify (every blob's SHA-256)", r.verify_ms);
  if (!json_path.empty() && !write_json(json_path, pack_path, r)) {
    std::fprintf(stderr, "bench_pack_open: cannot write '%s'\n", json_path.c_str());
    return 1;
  }
  return 0;
}
