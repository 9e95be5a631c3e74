//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
//
// Format: "\x93NUMPY", major, minor, a header length (2 bytes in v1, 4 in v2
// and v3), and a Python dict literal {'descr': ..., 'fortran_order': ...,
// 'shape': (...)} padded so the data starts at a multiple of 64.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Npy.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

using namespace fovea::rt;

static std::optional<DType> npyDType(const std::string &descr) {
  if (descr == "<f4")
    return DType::F32;
  if (descr == "<f2")
    return DType::F16;
  if (descr == "bfloat16" || descr == "<bfloat16")
    return DType::BF16;
  if (descr == "|u1" || descr == "<u1")
    return DType::U8;
  if (descr == "<i4")
    return DType::I32;
  if (descr == "<i8")
    return DType::I64;
  return std::nullopt;
}

static const char *npyDescr(DType type) {
  switch (type) {
  case DType::F32:
    return "<f4";
  case DType::F16:
    return "<f2";
  case DType::BF16:
    return "bfloat16";
  case DType::U8:
    return "|u1";
  case DType::I32:
    return "<i4";
  case DType::I64:
    return "<i8";
  }
  return "";
}

/// The value after `'key':` in a header dict, up to the next top-level
/// comma or closing brace.
static std::optional<std::string> dictValue(const std::string &header,
                                            const std::string &key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return std::nullopt;
  size_t colon = header.find(':', at);
  if (colon == std::string::npos)
    return std::nullopt;
  size_t start = colon + 1;
  while (start < header.size() && header[start] == ' ')
    ++start;
  int depth = 0;
  size_t end = start;
  for (; end < header.size(); ++end) {
    char c = header[end];
    if (c == '(' || c == '[')
      ++depth;
    else if (c == ')' || c == ']')
      --depth;
    else if ((c == ',' || c == '}') && depth == 0)
      break;
  }
  std::string value = header.substr(start, end - start);
  while (!value.empty() && value.back() == ' ')
    value.pop_back();
  return value;
}

std::optional<Tensor> fovea::rt::readNpy(const std::string &path,
                                         std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open: " + std::strerror(errno);
    return std::nullopt;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string bytes = buffer.str();
  auto bad = [&](const std::string &what) {
    // Header text may hold any bytes: keep the message printable.
    std::string shown;
    for (unsigned char c : what) {
      if (c >= 0x20 && c < 0x7f) {
        shown += static_cast<char>(c);
      } else {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "\\x%02x", c);
        shown += hex;
      }
    }
    error = path + ": not a valid .npy file: " + shown;
    return std::nullopt;
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return bad("missing the \\x93NUMPY magic");
  int major = static_cast<unsigned char>(bytes[6]);
  size_t lengthBytes = major == 1 ? 2 : (major == 2 || major == 3) ? 4 : 0;
  if (!lengthBytes)
    return bad("unsupported format version " + std::to_string(major));
  size_t headerLength = 0;
  for (size_t i = 0; i < lengthBytes; ++i)
    headerLength |=
        static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i]))
        << (8 * i);
  size_t dataOffset = 8 + lengthBytes + headerLength;
  if (dataOffset > bytes.size())
    return bad("truncated header");
  std::string header = bytes.substr(8 + lengthBytes, headerLength);

  std::optional<std::string> descr = dictValue(header, "descr");
  std::optional<std::string> fortran = dictValue(header, "fortran_order");
  std::optional<std::string> shapeText = dictValue(header, "shape");
  if (!descr || !fortran || !shapeText)
    return bad("header lacks descr, fortran_order or shape");
  if (descr->size() < 2 || (*descr)[0] != '\'' || descr->back() != '\'')
    return bad("descr " + *descr + " is not a simple type string");
  std::optional<DType> type = npyDType(descr->substr(1, descr->size() - 2));
  if (!type)
    return bad("unsupported dtype " + *descr +
               " (f4, f2, bfloat16, u1, i4, i8 little-endian)");
  if (*fortran != "False")
    return bad("Fortran-order arrays are not supported");
  std::vector<int64_t> shape;
  std::string dims = *shapeText;
  if (dims.size() < 2 || dims.front() != '(' || dims.back() != ')')
    return bad("malformed shape " + dims);
  std::stringstream list(dims.substr(1, dims.size() - 2));
  std::string item;
  while (std::getline(list, item, ',')) {
    size_t first = item.find_first_not_of(' ');
    if (first == std::string::npos)
      continue;
    char *end = nullptr;
    long long v = std::strtoll(item.c_str() + first, &end, 10);
    if (v < 0 || (end && *end != '\0' && *end != ' ' && *end != 'L'))
      return bad("malformed shape " + dims);
    shape.push_back(v);
  }
  // The data size, checked before anything is allocated.
  size_t expected = dtypeSize(*type);
  for (int64_t d : shape)
    if (__builtin_mul_overflow(expected, static_cast<size_t>(d), &expected))
      return bad("shape " + formatShape(shape) + " is too large");
  if (bytes.size() - dataOffset != expected)
    return bad("expected " + std::to_string(expected) +
               " data bytes for shape " + formatShape(shape) + ", found " +
               std::to_string(bytes.size() - dataOffset));
  Tensor tensor(*type, shape);
  std::memcpy(tensor.data(), bytes.data() + dataOffset, tensor.byteSize());
  return tensor;
}

bool fovea::rt::writeNpy(const std::string &path, const Tensor &tensor,
                         std::string &error) {
  // A Python tuple: "()", "(3,)", "(2, 3)".
  std::string shape = "(";
  for (size_t i = 0; i < tensor.shape().size(); ++i)
    shape += (i ? ", " : "") + std::to_string(tensor.shape()[i]);
  shape += tensor.shape().size() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + npyDescr(tensor.dtype()) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Version 1 header: magic(6) version(2) length(2) header, padded with
  // spaces and a newline to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  // Written beside the target and renamed when complete: a failed write
  // leaves no file under the name. A path that exists and is no regular
  // file (/dev/stdout, a pipe) is written through.
  struct stat info;
  bool special = ::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode);
  std::string partial = special ? path : path + ".partial";
  std::ofstream out(partial, std::ios::binary);
  if (!out) {
    error = path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  out.write("\x93NUMPY\x01\x00", 8);
  uint16_t length = static_cast<uint16_t>(header.size());
  char lengthBytes[2] = {static_cast<char>(length & 0xFF),
                         static_cast<char>(length >> 8)};
  out.write(lengthBytes, 2);
  out << header;
  out.write(static_cast<const char *>(tensor.data()),
            static_cast<std::streamsize>(tensor.byteSize()));
  out.close();
  if (!out) {
    if (!special)
      std::remove(partial.c_str());
    error = path + ": write failed (disk full or file too large?)";
    return false;
  }
  if (!special && std::rename(partial.c_str(), path.c_str()) != 0) {
    error = path + ": cannot write: " + std::strerror(errno);
    std::remove(partial.c_str());
    return false;
  }
  return true;
}
