// What the fuzz targets share: a reader that takes fixed-width fields from
// the front of the input (zeros once it runs out, so every input is valid),
// the writer that makes seed inputs in the same format, checksums recomputed
// over mutated messages (so inputs reach the code behind them), heap memory
// that looks registered, and the --write-corpus mode.
//
// Seeds: every target defines make_seeds(); `<target> --write-corpus=DIR`
// writes them as DIR/seed-NN and exits (libFuzzer ignores flags that start
// with "--"). tests/fuzz/corpus/<name>/ holds what it wrote; regenerate it
// after a format change with tests/fuzz/write-corpus.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/crc32c.hpp"
#include "base/wire.hpp"
#include "fabric/fabric.hpp"

namespace ringcast::fuzz {

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const noexcept { return at_ >= size_; }
  std::size_t left() const noexcept { return empty() ? 0 : size_ - at_; }
  template <class T>
  T get() noexcept {
    std::byte buf[sizeof(T)] = {};
    const std::size_t n = std::min(sizeof(T), left());
    if (n > 0) std::memcpy(buf, data_ + at_, n);
    at_ += sizeof(T);
    return wire::get<T>(buf);
  }
  std::uint8_t u8() noexcept { return get<std::uint8_t>(); }
  std::uint16_t u16() noexcept { return get<std::uint16_t>(); }
  std::uint32_t u32() noexcept { return get<std::uint32_t>(); }
  std::uint64_t u64() noexcept { return get<std::uint64_t>(); }
  // Up to n bytes (fewer at the end of the input).
  std::span<const std::byte> bytes(std::size_t n) noexcept {
    const std::size_t k = std::min(n, left());
    const auto* p = reinterpret_cast<const std::byte*>(data_ + std::min(at_, size_));
    at_ += k;
    return {p, k};
  }
  std::span<const std::byte> rest() noexcept { return bytes(left()); }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

// Builds inputs in Reader's format, for seeds.
class Writer {
 public:
  template <class T>
  Writer& put(T value) {
    std::byte buf[sizeof(T)];
    wire::put<T>(buf, value);
    bytes_.insert(bytes_.end(), buf, buf + sizeof(T));
    return *this;
  }
  Writer& u8(std::uint8_t v) { return put(v); }
  Writer& u16(std::uint16_t v) { return put(v); }
  Writer& u32(std::uint32_t v) { return put(v); }
  Writer& u64(std::uint64_t v) { return put(v); }
  Writer& bytes(std::span<const std::byte> b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  std::vector<std::byte> take() { return std::move(bytes_); }

 private:
  std::vector<std::byte> bytes_;
};

// A crc32c over msg[0, at) written at `at`, when it fits.
inline void reseal_crc_at(std::span<std::byte> msg, std::size_t at) noexcept {
  if (at + 4 > msg.size()) return;
  wire::put<std::uint32_t>(msg.data() + at, crc32c(msg.first(at)));
}

// Heap memory with the MemoryRegion interface, for the state machines.
class HeapRegion final : public fabric::MemoryRegion {
 public:
  explicit HeapRegion(std::size_t bytes, fabric::Access access = fabric::Access::local_only)
      : storage_(new std::byte[bytes]) {
    std::memset(storage_.get(), 0, bytes);
    data_ = storage_.get();
    size_ = bytes;
    access_ = access;
    lkey_ = 1;
    rkey_ = 2;
  }
  std::span<std::byte> span() noexcept { return {data_, size_}; }

 private:
  std::unique_ptr<std::byte[]> storage_;
};

using Seeds = std::vector<std::vector<std::byte>>;

// Handles --write-corpus=DIR: writes the seeds and exits.
inline void write_corpus_if_asked(int argc, char** argv, Seeds (*make)()) {
  constexpr std::string_view kFlag = "--write-corpus=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, kFlag.size()) != kFlag) continue;
    const std::string dir(arg.substr(kFlag.size()));
    const Seeds seeds = make();
    for (std::size_t k = 0; k < seeds.size(); ++k) {
      char name[32];
      std::snprintf(name, sizeof name, "/seed-%02zu", k);
      std::FILE* f = std::fopen((dir + name).c_str(), "wb");
      if (f == nullptr || std::fwrite(seeds[k].data(), 1, seeds[k].size(), f) != seeds[k].size()) {
        std::perror((dir + name).c_str());
        std::exit(1);
      }
      std::fclose(f);
    }
    std::printf("%zu seeds written to %s\n", seeds.size(), dir.c_str());
    std::exit(0);
  }
}

}  // namespace ringcast::fuzz

// Each target defines its seeds; LLVMFuzzerInitialize (below) serves
// --write-corpus with them.
ringcast::fuzz::Seeds make_seeds();

#define RINGCAST_FUZZ_SEEDS()                                        \
  extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {     \
    ringcast::fuzz::write_corpus_if_asked(*argc, *argv, make_seeds); \
    return 0;                                                        \
  }
