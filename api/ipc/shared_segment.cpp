#include "ipc/shared_segment.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace ringcast::ipc {

unsigned required_seals(PeerAccess access) noexcept {
  unsigned seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
  if (access == PeerAccess::read_only) seals |= F_SEAL_FUTURE_WRITE;
  return seals;
}

std::size_t page_rounded(std::size_t bytes) noexcept {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

Mapping::Mapping(Mapping&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    reset();
    base_ = std::exchange(other.base_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void Mapping::reset() noexcept {
  if (base_ != nullptr) ::munmap(base_, bytes_);
  base_ = nullptr;
  bytes_ = 0;
}

namespace {

Result<Mapping> map_fd(int fd, std::size_t bytes, int prot, const char* what) {
  void* base = ::mmap(nullptr, bytes, prot, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return system_error("mmap", errno, what);
  return Mapping(base, bytes);
}

}  // namespace

Result<SharedSegment> create_sealed_segment(const std::string& name, std::size_t bytes,
                                            PeerAccess access) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (bytes == 0 || bytes % page != 0)
    return make_error(Errc::invalid_argument, "create_sealed_segment",
                      "size " + std::to_string(bytes) + " is not a positive multiple of the page");
  SharedSegment segment;
  segment.fd = UniqueFd(::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (segment.fd.get() < 0) return system_error("memfd_create", errno, name);
  if (::ftruncate(segment.fd.get(), static_cast<off_t>(bytes)) != 0)
    return system_error("ftruncate", errno, name);
  // Mapped before the seals: F_SEAL_FUTURE_WRITE forbids new writable maps.
  auto mapping = map_fd(segment.fd.get(), bytes, PROT_READ | PROT_WRITE, name.c_str());
  if (!mapping) return mapping.error();
  segment.mapping = std::move(*mapping);
  if (::fcntl(segment.fd.get(), F_ADD_SEALS, static_cast<int>(required_seals(access))) != 0)
    return system_error("fcntl(F_ADD_SEALS)", errno, name);
  return segment;
}

Result<UniqueFd> read_only_descriptor(const SharedSegment& segment) {
  const std::string path = "/proc/self/fd/" + std::to_string(segment.fd.get());
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return system_error("open", errno, path);
  return fd;
}

Result<Mapping> map_received(int fd, std::size_t bytes, PeerAccess access) {
  const int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0) return system_error("fcntl(F_GET_SEALS)", errno, "a received segment");
  const unsigned want = required_seals(access);
  if ((static_cast<unsigned>(seals) & want) != want)
    return make_error(
        Errc::protocol, "map_received",
        "segment lacks seals: has " + std::to_string(seals) + ", needs " + std::to_string(want));
  struct stat st {};
  if (::fstat(fd, &st) != 0) return system_error("fstat", errno, "a received segment");
  if (static_cast<std::uint64_t>(st.st_size) != bytes)
    return make_error(
        Errc::protocol, "map_received",
        "segment of " + std::to_string(st.st_size) + " bytes, expected " + std::to_string(bytes));
  const int prot = access == PeerAccess::read_only ? PROT_READ : PROT_READ | PROT_WRITE;
  return map_fd(fd, bytes, prot, "a received segment");
}

}  // namespace ringcast::ipc
