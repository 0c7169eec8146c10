#include "collection/durable_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <xxhash.h>

#include "arrowembed/error.h"

namespace arrowembed::collection {

namespace {

Error io_error(const std::string& what, const std::filesystem::path& path) {
  return Error("cannot " + what + " " + path.string() + ": " + std::strerror(errno));
}

// Closes the descriptor on every path out of a function.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void fsync_path(const std::filesystem::path& path, int flags) {
  Fd f{::open(path.c_str(), flags | O_CLOEXEC)};
  if (f.fd < 0) throw io_error("open", path);
  if (::fsync(f.fd) != 0) throw io_error("fsync", path);
}

}  // namespace

void fsync_file(const std::filesystem::path& path) { fsync_path(path, O_RDONLY); }
void fsync_dir(const std::filesystem::path& dir) { fsync_path(dir, O_RDONLY | O_DIRECTORY); }

void replace_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (f.fd < 0) throw io_error("create", tmp);
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(f.fd, bytes.data() + done, bytes.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw io_error("write", tmp);
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(f.fd) != 0) throw io_error("fsync", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw io_error("rename " + tmp.string() + " to", path);
  fsync_dir(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

std::string hex64(uint64_t value) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(value));
  return hex;
}

std::string file_checksum(const std::filesystem::path& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) throw io_error("open", path);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw io_error("stat", path);
  if (st.st_size == 0) return hex64(XXH3_64bits(nullptr, 0));
  void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, f.fd, 0);
  if (p == MAP_FAILED) throw io_error("map", path);
  ::madvise(p, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
  const uint64_t h = XXH3_64bits(p, static_cast<size_t>(st.st_size));
  ::munmap(p, static_cast<size_t>(st.st_size));
  return hex64(h);
}

}  // namespace arrowembed::collection
