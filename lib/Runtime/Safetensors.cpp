//===- Safetensors.cpp - Memory-mapped safetensors checkpoints ------------===//
//
// Format: an 8-byte little-endian header length N, N bytes of JSON mapping
// each tensor name to {dtype, shape, data_offsets: [begin, end)} (offsets
// relative to the data section after the header), then the data.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Safetensors.h"

#include "fovea/Runtime/Json.h"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <sstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

using namespace fovea::rt;

static std::optional<DType> safetensorsDType(const std::string &name) {
  if (name == "F32")
    return DType::F32;
  if (name == "F16")
    return DType::F16;
  if (name == "BF16")
    return DType::BF16;
  if (name == "U8")
    return DType::U8;
  if (name == "I32")
    return DType::I32;
  if (name == "I64")
    return DType::I64;
  return std::nullopt;
}

static bool isDirectory(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

static std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

namespace {
/// The mappings of the open archives, for dropMappedPages.
struct OpenMappings {
  std::mutex mutex;
  std::vector<std::pair<const uint8_t *, size_t>> ranges;
};

OpenMappings &openMappings() {
  static OpenMappings instance;
  return instance;
}
} // namespace

SafetensorsArchive::~SafetensorsArchive() {
  OpenMappings &open = openMappings();
  std::lock_guard<std::mutex> lock(open.mutex);
  for (Mapping &m : mappings) {
    auto *base = static_cast<const uint8_t *>(m.base);
    open.ranges.erase(
        std::remove_if(open.ranges.begin(), open.ranges.end(),
                       [&](const auto &range) { return range.first == base; }),
        open.ranges.end());
    ::munmap(m.base, m.size);
  }
}

void fovea::rt::dropMappedPages(const void *data, size_t bytes) {
  const auto *begin = static_cast<const uint8_t *>(data);
  const uint8_t *end = begin + bytes;
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  OpenMappings &open = openMappings();
  std::lock_guard<std::mutex> lock(open.mutex);
  for (auto [base, size] : open.ranges) {
    if (begin < base || end > base + size)
      continue;
    // The pages wholly inside the range: its first and last pages may hold
    // neighbouring tensors.
    uintptr_t first =
        (reinterpret_cast<uintptr_t>(begin) + page - 1) & ~(page - 1);
    uintptr_t last = reinterpret_cast<uintptr_t>(end) & ~(page - 1);
    if (first < last)
      ::madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
    return;
  }
}

bool SafetensorsArchive::addFile(const std::string &file, std::string &error) {
  int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) {
    error = file + ": cannot open: " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    error = file + ": cannot stat: " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    error = file + ": truncated (" + std::to_string(size) +
            " bytes, no safetensors header)";
    return false;
  }
  void *base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) {
    error = file + ": cannot map: " + std::strerror(errno);
    return false;
  }
  mappings.push_back({base, size});
  {
    OpenMappings &open = openMappings();
    std::lock_guard<std::mutex> lock(open.mutex);
    open.ranges.emplace_back(static_cast<const uint8_t *>(base), size);
  }
  const auto *bytes = static_cast<const uint8_t *>(base);
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | bytes[i];
  if (headerSize > size - 8 || headerSize > (100u << 20)) {
    error = file + ": header size " + std::to_string(headerSize) +
            " exceeds the file (" + std::to_string(size) + " bytes)";
    return false;
  }
  std::string jsonError;
  std::optional<JsonValue> header = parseJson(
      std::string_view(reinterpret_cast<const char *>(bytes + 8), headerSize),
      jsonError);
  if (!header || !header->isObject()) {
    error = file + ": malformed header: " +
            (header ? std::string("not a JSON object") : jsonError);
    return false;
  }
  const uint8_t *dataStart = bytes + 8 + headerSize;
  size_t dataSize = size - 8 - headerSize;
  for (const auto &member : header->object()) {
    const std::string &name = member.first;
    const JsonValue &info = member.second;
    if (name == "__metadata__")
      continue;
    auto bad = [&](const std::string &what) {
      error = file + ": tensor '" + name + "': " + what;
      return false;
    };
    const JsonValue *dtype = info.get("dtype");
    const JsonValue *shape = info.get("shape");
    const JsonValue *offsets = info.get("data_offsets");
    if (!dtype || !dtype->isString() || !shape || !shape->isArray() ||
        !offsets || !offsets->isArray() || offsets->array().size() != 2)
      return bad("expected dtype, shape and data_offsets");
    std::optional<DType> type = safetensorsDType(dtype->string());
    if (!type)
      return bad("unsupported dtype " + dtype->string());
    Entry entry{file, *type, {}, nullptr, 0};
    // Overflow-checked: a product that wraps would match a short span.
    for (const JsonValue &d : shape->array()) {
      std::optional<int64_t> v = d.integer();
      if (!v || *v < 0)
        return bad("invalid shape");
      entry.shape.push_back(*v);
    }
    size_t bytes = dtypeSize(*type);
    for (int64_t d : entry.shape)
      if (__builtin_mul_overflow(bytes, static_cast<size_t>(d), &bytes))
        return bad("shape " + formatShape(entry.shape) + " of " +
                   dtype->string() + " has more bytes than fit in memory");
    std::optional<int64_t> begin = offsets->array()[0].integer();
    std::optional<int64_t> end = offsets->array()[1].integer();
    if (!begin || !end || *begin < 0 || *end < *begin)
      return bad("invalid data_offsets");
    if (static_cast<size_t>(*end) > dataSize)
      return bad("data [" + std::to_string(*begin) + ", " +
                 std::to_string(*end) + ") runs past the end of the file (" +
                 std::to_string(dataSize) + " data bytes; truncated?)");
    entry.size = static_cast<size_t>(*end - *begin);
    if (entry.size != bytes)
      return bad("data_offsets span " + std::to_string(entry.size) +
                 " bytes but shape " + formatShape(entry.shape) + " of " +
                 dtype->string() + " needs " + std::to_string(bytes));
    entry.data = dataStart + *begin;
    if (entries.count(name))
      return bad("defined twice (also in " + entries[name].file + ")");
    entries.emplace(name, std::move(entry));
  }
  return true;
}

std::unique_ptr<SafetensorsArchive>
SafetensorsArchive::open(const std::string &path, std::string &error) {
  std::string target = path;
  if (isDirectory(path)) {
    std::string index = path + "/model.safetensors.index.json";
    std::string single = path + "/model.safetensors";
    if (exists(index)) {
      target = index;
    } else if (exists(single)) {
      target = single;
    } else {
      error = path + ": no model.safetensors.index.json or model.safetensors";
      return nullptr;
    }
  }
  std::unique_ptr<SafetensorsArchive> archive(new SafetensorsArchive());
  bool isIndex =
      target.size() > 5 && target.compare(target.size() - 5, 5, ".json") == 0;
  if (!isIndex) {
    if (!archive->addFile(target, error))
      return nullptr;
    return archive;
  }
  std::ifstream in(target);
  if (!in) {
    error = target + ": cannot read the shard index";
    return nullptr;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string jsonError;
  std::optional<JsonValue> index = parseJson(text.str(), jsonError);
  const JsonValue *map = index ? index->get("weight_map") : nullptr;
  if (!map || !map->isObject()) {
    error = target + ": malformed shard index: " +
            (index ? std::string("no weight_map object") : jsonError);
    return nullptr;
  }
  std::map<std::string, bool> shards;
  for (const auto &[name, file] : map->object()) {
    if (!file.isString()) {
      error = target + ": weight_map['" + name + "'] is not a file name";
      return nullptr;
    }
    shards[file.string()] = true;
  }
  std::string dir = directoryOf(target);
  for (const auto &[file, _] : shards)
    if (!archive->addFile(dir + "/" + file, error))
      return nullptr;
  for (const auto &[name, file] : map->object()) {
    const Entry *entry = archive->find(name);
    if (!entry) {
      error = target + ": '" + name + "' is listed in " + file.string() +
              " but that shard does not contain it";
      return nullptr;
    }
  }
  return archive;
}

const SafetensorsArchive::Entry *
SafetensorsArchive::find(const std::string &name) const {
  auto it = entries.find(name);
  return it == entries.end() ? nullptr : &it->second;
}

const std::string *
SafetensorsArchive::firstWithPrefix(const std::string &prefix) const {
  auto it = entries.lower_bound(prefix);
  if (it == entries.end() || it->first.compare(0, prefix.size(), prefix) != 0)
    return nullptr;
  return &it->first;
}

const void *SafetensorsArchive::view(const std::string &name, DType dtype,
                                     const std::vector<int64_t> &shape) const {
  const Entry *entry = find(name);
  if (!entry || entry->dtype != dtype || entry->shape != shape ||
      reinterpret_cast<uintptr_t>(entry->data) % dtypeSize(dtype) != 0)
    return nullptr;
  return entry->data;
}

bool SafetensorsArchive::read(const std::string &name, Tensor &out,
                              std::string &error) const {
  const Entry *entry = find(name);
  if (!entry) {
    error = "checkpoint: missing tensor '" + name + "'";
    return false;
  }
  if (entry->shape != out.shape()) {
    error = entry->file + ": tensor '" + name + "' has shape " +
            formatShape(entry->shape) + ", the module expects " +
            formatShape(out.shape());
    return false;
  }
  if (!convertElements(entry->data, entry->dtype, out.data(), out.dtype(),
                       out.numElements())) {
    error = entry->file + ": tensor '" + name + "' has dtype " +
            dtypeName(entry->dtype) + ", the module expects " +
            dtypeName(out.dtype());
    return false;
  }
  return true;
}
