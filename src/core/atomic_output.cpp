#include "reinforcer/core/atomic_output.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <pthread.h>
#include <functional>
#include <map>
#include <mutex>
#include <utility>
#include <sys/file.h>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reinforcer/core/errors.hpp"

namespace reinforcer {
std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void require_writable_destination(const std::string& path) {
  if (path.empty()) throw UsageError("-o/--output: an output path is required");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw PathError(path + ": is a directory; name the output file (e.g. " + path + "/out.h5)");
  const std::string dir = directory_of(path);
  if (::stat(dir.c_str(), &st) != 0)
    throw PathError(path + ": output directory '" + dir + "' does not exist; create it first");
  if (!S_ISDIR(st.st_mode)) throw PathError(path + ": '" + dir + "' is not a directory");
  if (::access(dir.c_str(), W_OK) != 0)
    throw PathError(path + ": output directory '" + dir + "' is not writable: " + std::strerror(errno));
  // Checked before the work: otherwise a whole run ends in a failed rename.
  const auto slash = path.find_last_of('/');
  const std::size_t name_bytes = slash == std::string::npos ? path.size() : path.size() - slash - 1;
  const long name_max = ::pathconf(dir.c_str(), _PC_NAME_MAX);
  if (name_max > 0 && name_bytes > static_cast<std::size_t>(name_max))
    throw PathError(path + ": the file name is " + std::to_string(name_bytes) + " bytes, more than the " +
                    std::to_string(name_max) + " this file system allows; name a shorter output");
}

namespace {
// Temporary files of unfinished outputs, for the signal handler: fixed slots of plain chars
// (a handler may not allocate or lock), claimed and released under a mutex.
constexpr int kTempSlots = 64;
constexpr std::size_t kTempPathMax = 4096;
struct TempSlot {
  std::atomic<int> used{0};
  char path[kTempPathMax];
};
TempSlot g_temps[kTempSlots];
std::mutex g_temps_mutex;

int register_temp(const std::string& path) {
  if (path.size() >= kTempPathMax) return -1;
  std::lock_guard<std::mutex> hold(g_temps_mutex);
  for (int i = 0; i < kTempSlots; ++i)
    if (g_temps[i].used.load() == 0) {
      std::memcpy(g_temps[i].path, path.c_str(), path.size() + 1);
      g_temps[i].used.store(1);
      return i;
    }
  return -1;  // more outputs in flight than slots: only the signal cleanup misses it
}

void release_temp(int slot) {
  if (slot < 0) return;
  std::lock_guard<std::mutex> hold(g_temps_mutex);
  g_temps[slot].used.store(0);
}

extern "C" void remove_temps_and_die(int sig) {
  for (TempSlot& t : g_temps)
    if (t.used.load() != 0) ::unlink(t.path);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// A name component of at most `limit` bytes that still tells long names apart.
std::string bounded_name(const std::string& base, std::size_t limit) {
  if (base.size() <= limit) return base;
  char tail[17];
  std::snprintf(tail, sizeof tail, "%016llx", static_cast<unsigned long long>(std::hash<std::string>{}(base)));
  return base.substr(0, limit - 17) + "-" + tail;
}

std::string base_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string sibling(const std::string& path, const std::string& name) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? name : path.substr(0, slash + 1) + name;
}

bool is_non_regular(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

// Holds SIGINT, SIGTERM and SIGHUP back for its life (delivered when it ends).
class DeferTerminatingSignals {
 public:
  DeferTerminatingSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, &previous_);
  }
  ~DeferTerminatingSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  DeferTerminatingSignals(const DeferTerminatingSignals&) = delete;
  DeferTerminatingSignals& operator=(const DeferTerminatingSignals&) = delete;

 private:
  sigset_t previous_{};
};

// Locks held by this process, by lock file; the file is removed on a signal like a temporary.
struct HeldLock {
  int fd = -1;
  int holders = 0;
  int temp_slot = -1;
};
std::mutex g_locks_mutex;
std::map<std::string, HeldLock> g_locks;
std::atomic<std::uint64_t> g_temp_counter{0};
// Each temporary's output, kept after the temporary is gone: an error about a temporary
// reaches the user after the AtomicOutput that made it has been destroyed.
std::mutex g_outputs_mutex;
std::map<std::string, std::string> g_output_of_temporary;

// Whether `text` is one or more decimal digits; their value in `value`.
bool parse_digits(const std::string& text, long long& value) {
  if (text.empty() || text.size() > 18) return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

// Removes the temporaries of this output left by runs that died without cleaning up (SIGKILL,
// a crash, power loss): names `prefix + PID + "." + N + suffix` whose PID is no live process.
// Called while holding the output's lock, so no other run is writing this output; a live
// process's temporary (a reused pid included) is left alone.
void remove_stale_temporaries(const std::string& directory, const std::string& prefix, const std::string& suffix) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string middle = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    const auto dot = middle.find('.');
    long long pid = 0, counter = 0;
    if (dot == std::string::npos || !parse_digits(middle.substr(0, dot), pid) ||
        !parse_digits(middle.substr(dot + 1), counter) || pid <= 0 || pid == ::getpid())
      continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
    const std::string path = directory + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::unlink(path.c_str());
  }
  ::closedir(dir);
}
}  // namespace

OutputLock::OutputLock(const std::string& path) {
  if (path == "-" || is_non_regular(path)) return;  // written directly: nothing is renamed
  const std::string lock_path = sibling(path, "." + bounded_name(base_of(path), 200) + ".lock");
  std::lock_guard<std::mutex> hold(g_locks_mutex);
  auto held = g_locks.find(lock_path);
  if (held != g_locks.end()) {
    ++held->second.holders;
    key_ = lock_path;
    return;
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    // From creating the lock file to registering it for the signal cleanup, SIGINT/SIGTERM
    // wait: arriving in between, they left the file behind (seen in the bad-input catalogue).
    const DeferTerminatingSignals defer;
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw PathError(path + ": cannot create its lock file " + lock_path + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      char pid[32] = {};
      const ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
      ::close(fd);
      const std::string who = n > 0 ? "pid " + std::string(pid, static_cast<std::size_t>(n)) : "another process";
      throw PathError(path + ": another run (" + who + ") is writing this output; wait for it to finish or name another output");
    }
    // The holder before us may have removed the file between our open and our lock: then
    // we hold a lock on a name nobody sees; start again on the current file.
    struct stat by_fd {}, by_name {};
    if (::fstat(fd, &by_fd) == 0 && ::stat(lock_path.c_str(), &by_name) == 0 && by_fd.st_ino == by_name.st_ino &&
        by_fd.st_dev == by_name.st_dev) {
      const std::string me = std::to_string(::getpid());
      if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, me.data(), me.size(), 0) < 0) {
        // the pid is only for the message of a run that waits; the lock holds without it
      }
      g_locks[lock_path] = HeldLock{fd, 1, register_temp(lock_path)};
      key_ = lock_path;
      return;
    }
    ::close(fd);
  }
  throw PathError(path + ": its lock file " + lock_path + " keeps changing; is another run starting and stopping?");
}

OutputLock::~OutputLock() {
  if (key_.empty()) return;
  std::lock_guard<std::mutex> hold(g_locks_mutex);
  auto held = g_locks.find(key_);
  if (held == g_locks.end()) return;
  if (--held->second.holders > 0) return;
  ::unlink(key_.c_str());  // while still locked: a run that opened it meanwhile re-checks the name
  release_temp(held->second.temp_slot);
  ::close(held->second.fd);
  g_locks.erase(held);
}

AtomicOutput::AtomicOutput(std::string final_path, OutputTarget target) : final_(std::move(final_path)) {
  if (final_ == "-") {
    if (target != OutputTarget::stream)
      throw UsageError("-o -: this output is a file format (HDF5) that cannot go to standard output; name a file");
    temp_ = "/dev/stdout";
    direct_ = true;
    return;
  }
  require_writable_destination(final_);
  if (is_non_regular(final_)) {
    // Renaming over a device or FIFO would replace it with a regular file.
    if (target != OutputTarget::stream)
      throw PathError(final_ + ": is not a regular file (a device, FIFO or socket); this output needs a regular file");
    temp_ = final_;
    direct_ = true;
    return;
  }
  lock_ = std::make_unique<OutputLock>(final_);
  const std::string base = base_of(final_);
  // Short and unique (pid and a counter), the extension kept last for writers that pick the
  // format by it.
  const auto dot = base.find_last_of('.');
  const std::string ext = dot != std::string::npos && dot > 0 && base.size() - dot <= 16 ? base.substr(dot) : "";
  const std::string prefix = "." + bounded_name(base, 100) + ".";
  remove_stale_temporaries(directory_of(final_), prefix, ".tmp" + ext);
  temp_ = sibling(final_, prefix + std::to_string(::getpid()) + "." + std::to_string(g_temp_counter.fetch_add(1)) +
                              ".tmp" + ext);
  temp_slot_ = register_temp(temp_);
  std::lock_guard<std::mutex> hold(g_outputs_mutex);
  g_output_of_temporary[temp_] = final_;
}

std::string with_output_names(std::string message) {
  std::lock_guard<std::mutex> hold(g_outputs_mutex);
  for (const auto& [temporary, output] : g_output_of_temporary)
    for (auto at = message.find(temporary); at != std::string::npos; at = message.find(temporary, at + output.size()))
      message.replace(at, temporary.size(), output);
  return message;
}

void install_temp_file_cleanup() {
  struct sigaction sa {};
  sa.sa_handler = remove_temps_and_die;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

AtomicOutput::~AtomicOutput() {
  if (!committed_ && !direct_) std::remove(temp_.c_str());
  release_temp(temp_slot_);
}

namespace {
// Data on disk before the name points at it: a crash right after the rename must not leave
// an empty or partial file under the final name.
void sync_to_disk(const std::string& path, const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw PathError(what + ": cannot open to flush it to disk: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Directories on some file systems do not support fsync (EINVAL): the rename is then as durable as it gets.
  if (rc != 0 && err != EINVAL) throw PathError(what + ": cannot flush it to disk: " + std::strerror(err));
}
}  // namespace

void AtomicOutput::commit() {
  if (direct_) {
    committed_ = true;
    return;
  }
  sync_to_disk(temp_, final_);
  if (std::rename(temp_.c_str(), final_.c_str()) != 0)
    throw PathError(final_ + ": cannot move the finished file into place: " + std::strerror(errno));
  committed_ = true;
  release_temp(std::exchange(temp_slot_, -1));
  sync_to_disk(directory_of(final_), final_);
}

}  // namespace reinforcer
