// GGUF reader: parses and validates the header, metadata and tensor table of a GGUF
// file (spec: ggml docs/gguf.md) into views over the bytes. Bounds every count by the
// bytes left before reserving anything, so a 160-byte file cannot ask for a gigabyte.
#include "gguf/gguf_file.h"

#include <algorithm>
#include <limits>

#include "core/checked.h"
#include "core/format.h"
#include "gguf/byte_reader.h"
#include "gguf/known_keys.h"

namespace loom::gguf {

// Smallest encodings, used to bound counts before allocating: a key-value pair is a
// key length (8), one key byte, a type (4) and a one-byte value; a tensor info is a
// name length (8), one name byte, n_dims (4), type (4) and offset (8).
constexpr uint64_t kMinKeyValueBytes = 8 + 1 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 4 + 8;
constexpr uint64_t kMinNestedArrayBytes = 4 + 8;

// Byte position of a tensor info's offset field: after name, n_dims, dims and type.
static uint64_t offset_field_position(const TensorInfo& t) {
    return t.info_offset + 8 + t.name.size() + 4 + 8ull * t.n_dims + 4;
}

class Parser {
public:
    Parser(GgufFile& file, const ReadOptions& options)
        : file_(file), options_(options), in_(file.bytes_, file.source_) {}

    void run() {
        read_header();
        read_metadata();
        read_alignment();
        read_tensor_infos();
        locate_tensor_data();
    }

private:
    void read_header();
    void read_metadata();
    Value read_value(ValueType type, uint32_t depth);
    Array read_array(uint32_t depth);
    ValueType read_value_type(std::string_view field);
    void read_alignment();
    void read_tensor_infos();
    TensorInfo read_tensor_info(uint64_t index);
    void locate_tensor_data();

    GgufFile& file_;
    const ReadOptions& options_;
    ByteReader in_;
    uint64_t tensor_count_ = 0;
    uint64_t kv_count_ = 0;
    uint64_t nested_elements_ = 0;
};

void Parser::read_header() {
    in_.set_context("header");
    const uint8_t* magic = in_.take(4, "magic");
    if (std::memcmp(magic, "GGUF", 4) != 0) {
        std::string got(reinterpret_cast<const char*>(magic), 4);
        std::string hint = std::memcmp(magic, "FUGG", 4) == 0
                               ? " (this looks like a big-endian GGUF; only little-endian "
                                 "files are supported)"
                               : "";
        in_.fail_at(0, "magic", "expected \"GGUF\", got " + quote_for_message(got) + hint);
    }
    file_.version_ = in_.read<uint32_t>("version");
    if (file_.version_ != 2 && file_.version_ != 3) {
        std::string hint;
        uint32_t swapped = __builtin_bswap32(file_.version_);
        if (swapped == 2 || swapped == 3) {
            hint = " (this looks like a big-endian GGUF; only little-endian files are "
                   "supported)";
        } else if (file_.version_ == 1) {
            hint = " (GGUF v1 used 32-bit counts; re-convert the model with a current "
                   "converter)";
        }
        in_.fail_at(4, "version",
                    "unsupported GGUF version " + std::to_string(file_.version_) +
                        ", expected 2 or 3" + hint,
                    ErrorCode::Unsupported);
    }
    tensor_count_ = in_.read<uint64_t>("tensor_count");
    kv_count_ = in_.read<uint64_t>("metadata_kv_count");
    if (kv_count_ > kMaxKeyValues) {
        in_.fail_at(16, "metadata_kv_count",
                    std::to_string(kv_count_) + " entries exceed the limit of " +
                        std::to_string(kMaxKeyValues));
    }
    if (tensor_count_ > kMaxTensors) {
        in_.fail_at(8, "tensor_count",
                    std::to_string(tensor_count_) + " tensors exceed the limit of " +
                        std::to_string(kMaxTensors));
    }
    if (kv_count_ > in_.remaining() / kMinKeyValueBytes) {
        in_.fail_at(16, "metadata_kv_count",
                    std::to_string(kv_count_) + " entries cannot fit in the " +
                        std::to_string(in_.remaining()) + " bytes left in the file");
    }
    if (tensor_count_ > in_.remaining() / kMinTensorInfoBytes) {
        in_.fail_at(8, "tensor_count",
                    std::to_string(tensor_count_) + " tensors cannot fit in the " +
                        std::to_string(in_.remaining()) + " bytes left in the file");
    }
}

ValueType Parser::read_value_type(std::string_view field) {
    uint64_t at = in_.offset();
    auto id = in_.read<uint32_t>(field);
    if (id >= kValueTypeCount) {
        in_.fail_at(at, field,
                    "unknown value type " + std::to_string(id) + " (valid: 0-12)");
    }
    return static_cast<ValueType>(id);
}

static bool is_valid_key(std::string_view key) {
    return std::all_of(key.begin(), key.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7f;
    });
}

void Parser::read_metadata() {
    file_.metadata_.reserve(kv_count_);
    file_.key_index_.reserve(kv_count_);
    for (uint64_t i = 0; i < kv_count_; ++i) {
        uint64_t at = in_.offset();
        in_.set_context("metadata entry " + std::to_string(i));
        in_.set_element(-1);
        std::string_view key = in_.read_string("key", kMaxKeyLength);
        if (key.empty()) in_.fail_at(at, "key", "is empty");
        if (!is_valid_key(key)) {
            in_.fail_at(at, "key", quote_for_message(key) +
                                       " has characters other than printable ASCII");
        }
        in_.set_context("metadata key " + quote_for_message(key));
        auto [it, inserted] = file_.key_index_.emplace(key, file_.metadata_.size());
        if (!inserted) {
            in_.fail_at(at, "key", "duplicate key (first at byte " +
                                       std::to_string(file_.metadata_[it->second].offset) +
                                       ")");
        }
        ValueType type = read_value_type("value type");
        file_.metadata_.push_back(KeyValue{key, read_value(type, 0), at});
    }
    in_.set_element(-1);
}

Value Parser::read_value(ValueType type, uint32_t depth) {
    switch (type) {
        case ValueType::U8: return Value(in_.read<uint8_t>("u8 value"));
        case ValueType::I8: return Value(in_.read<int8_t>("i8 value"));
        case ValueType::U16: return Value(in_.read<uint16_t>("u16 value"));
        case ValueType::I16: return Value(in_.read<int16_t>("i16 value"));
        case ValueType::U32: return Value(in_.read<uint32_t>("u32 value"));
        case ValueType::I32: return Value(in_.read<int32_t>("i32 value"));
        case ValueType::F32: return Value(in_.read<float>("f32 value"));
        case ValueType::U64: return Value(in_.read<uint64_t>("u64 value"));
        case ValueType::I64: return Value(in_.read<int64_t>("i64 value"));
        case ValueType::F64: return Value(in_.read<double>("f64 value"));
        case ValueType::Bool: {
            uint64_t at = in_.offset();
            auto b = in_.read<uint8_t>("bool value");
            if (b > 1) in_.fail_at(at, "bool value", "is " + std::to_string(b) + ", expected 0 or 1");
            return Value(b == 1);
        }
        case ValueType::String:
            return Value(in_.read_string("string value", std::numeric_limits<uint64_t>::max()));
        case ValueType::Array:
            return Value(read_array(depth + 1));
    }
    return Value();  // unreachable: read_value_type admits only the 13 types
}

Array Parser::read_array(uint32_t depth) {
    uint64_t at = in_.offset();
    if (depth > options_.max_array_depth) {
        in_.fail_at(at, "array", "nested arrays deeper than " +
                                     std::to_string(options_.max_array_depth) + " levels");
    }
    Array arr;
    arr.elem_type = read_value_type("array element type");
    uint64_t count_at = in_.offset();
    arr.count = in_.read<uint64_t>("array count");
    uint32_t elem_size = value_type_size(arr.elem_type);
    uint64_t min_elem_bytes = elem_size != 0 ? elem_size
                              : arr.elem_type == ValueType::String ? 8
                                                                   : kMinNestedArrayBytes;
    uint64_t need = 0;
    if (!checked_mul(arr.count, min_elem_bytes, need) || need > in_.remaining()) {
        in_.fail_at(count_at, "array count",
                    std::to_string(arr.count) + " elements of type " +
                        std::string(value_type_name(arr.elem_type)) + " cannot fit in the " +
                        std::to_string(in_.remaining()) + " bytes left in the file");
    }
    if (elem_size != 0) {
        arr.data = in_.take(need, "array data");
        if (arr.elem_type == ValueType::Bool) {
            for (uint64_t i = 0; i < arr.count; ++i) {
                if (arr.data[i] > 1) {
                    in_.set_element(static_cast<int64_t>(i));
                    in_.fail_at(count_at + 8 + i, "bool value",
                                "is " + std::to_string(arr.data[i]) + ", expected 0 or 1");
                }
            }
        }
    } else if (arr.elem_type == ValueType::String) {
        arr.strings.reserve(arr.count);
        for (uint64_t i = 0; i < arr.count; ++i) {
            in_.set_element(static_cast<int64_t>(i));
            arr.strings.push_back(
                in_.read_string("string value", std::numeric_limits<uint64_t>::max()));
        }
    } else {
        nested_elements_ += arr.count;
        if (nested_elements_ > options_.max_nested_elements) {
            in_.fail_at(count_at, "array count",
                        "nested arrays hold more than " +
                            std::to_string(options_.max_nested_elements) + " elements in all");
        }
        arr.arrays.reserve(arr.count);
        for (uint64_t i = 0; i < arr.count; ++i) {
            in_.set_element(static_cast<int64_t>(i));
            arr.arrays.push_back(Value(read_array(depth + 1)));
        }
    }
    in_.set_element(-1);
    return arr;
}

void Parser::read_alignment() {
    auto it = file_.key_index_.find("general.alignment");
    if (it == file_.key_index_.end()) return;
    const KeyValue& kv = file_.metadata_[it->second];
    const auto* value = kv.value.get_if<uint32_t>();
    in_.set_context("metadata key \"general.alignment\"");
    const uint64_t value_at = kv.offset + 8 + kv.key.size() + 4;  // after key and type
    if (value == nullptr) {
        in_.fail_at(value_at, "value",
                    "expected u32, found " + kv.value.type_description());
    }
    if (!is_power_of_two(*value) || *value > kMaxAlignment) {
        in_.fail_at(value_at, "value",
                    "alignment " + std::to_string(*value) +
                        " must be a power of two no larger than " +
                        std::to_string(kMaxAlignment));
    }
    file_.alignment_ = *value;
}

void Parser::read_tensor_infos() {
    file_.tensors_.reserve(tensor_count_);
    file_.tensor_index_.reserve(tensor_count_);
    for (uint64_t i = 0; i < tensor_count_; ++i) {
        TensorInfo info = read_tensor_info(i);
        auto [it, inserted] = file_.tensor_index_.emplace(info.name, file_.tensors_.size());
        if (!inserted) {
            in_.fail_at(info.info_offset, "name",
                        "duplicate tensor name (first at byte " +
                            std::to_string(file_.tensors_[it->second].info_offset) + ")");
        }
        file_.tensors_.push_back(info);
    }
}

TensorInfo Parser::read_tensor_info(uint64_t index) {
    TensorInfo info;
    info.info_offset = in_.offset();
    in_.set_context("tensor info " + std::to_string(index));
    info.name = in_.read_string("name", kMaxTensorNameLength);
    if (info.name.empty()) in_.fail_at(info.info_offset, "name", "is empty");
    in_.set_context("tensor " + quote_for_message(info.name));

    uint64_t dims_at = in_.offset();
    info.n_dims = in_.read<uint32_t>("n_dims");
    if (info.n_dims > kMaxDims) {
        in_.fail_at(dims_at, "n_dims", "is " + std::to_string(info.n_dims) + ", at most " +
                                           std::to_string(kMaxDims) + " allowed");
    }
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < info.n_dims; ++d) {
        uint64_t at = in_.offset();
        std::string field = "ne[" + std::to_string(d) + "]";
        info.ne[d] = in_.read<uint64_t>(field);
        if (info.ne[d] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            in_.fail_at(at, field, "dimension " + std::to_string(info.ne[d]) +
                                       " is larger than 2^63-1");
        }
        if (!checked_mul(n_elements, info.ne[d], n_elements) ||
            n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            std::string read_so_far;
            for (uint32_t k = 0; k <= d; ++k) read_so_far += (k ? ", " : "") + std::to_string(info.ne[k]);
            in_.fail_at(dims_at, "shape",
                        "element count overflows 64 bits (dimensions [" + read_so_far + "...])");
        }
    }
    info.n_elements = n_elements;

    uint64_t type_at = in_.offset();
    auto type_id = in_.read<uint32_t>("type");
    auto traits = ggml_type_traits(type_id);
    if (!traits) {
        in_.fail_at(type_at, "type",
                    "unknown ggml type id " + std::to_string(type_id) +
                        " (the file may need a newer Loom, or it uses a type removed "
                        "from GGUF)",
                    ErrorCode::Unsupported);
    }
    info.type = traits->type;
    if (info.ne[0] % traits->block_size != 0) {
        in_.fail_at(dims_at, "ne[0]",
                    std::to_string(info.ne[0]) + " is not a multiple of the " +
                        std::string(traits->name) + " block size " +
                        std::to_string(traits->block_size));
    }
    uint64_t blocks = n_elements / traits->block_size;
    if (!checked_mul(blocks, traits->block_bytes, info.n_bytes)) {
        in_.fail_at(dims_at, "shape", "byte size overflows 64 bits");
    }
    info.offset = in_.read<uint64_t>("offset");
    return info;
}

void Parser::locate_tensor_data() {
    uint64_t end_of_infos = in_.offset();
    uint64_t data_offset = 0;
    if (!checked_align_up(end_of_infos, file_.alignment_, data_offset)) {
        in_.fail_at(end_of_infos, "data section", "offset overflows 64 bits");
    }
    const uint64_t file_size = in_.size();
    if (file_.tensors_.empty()) {
        // Vocabulary-only files may end right after the header, without padding.
        file_.data_offset_ = std::min(data_offset, file_size);
        return;
    }
    in_.set_context("data section");
    if (data_offset > file_size) {
        in_.fail_at(end_of_infos, "start",
                    "tensor data would start at byte " + std::to_string(data_offset) +
                        ", past the end of the file (" + std::to_string(file_size) +
                        " bytes)");
    }
    file_.data_offset_ = data_offset;
    const uint64_t data_size = file_size - data_offset;
    for (TensorInfo& t : file_.tensors_) {
        in_.set_context("tensor " + quote_for_message(t.name));
        uint64_t offset_field = offset_field_position(t);
        if (t.offset % file_.alignment_ != 0) {
            in_.fail_at(offset_field, "offset",
                        std::to_string(t.offset) + " is not a multiple of the alignment " +
                            std::to_string(file_.alignment_));
        }
        uint64_t end = 0;
        if (!checked_add(t.offset, t.n_bytes, end) || end > data_size) {
            in_.fail_at(offset_field, "offset",
                        "data [" + std::to_string(t.offset) + ", +" +
                            std::to_string(t.n_bytes) + " bytes) lies outside the " +
                            std::to_string(data_size) + "-byte data section (file truncated?)");
        }
        t.data = file_.bytes_.subspan(data_offset + t.offset, t.n_bytes);
    }
    std::vector<const TensorInfo*> by_offset;
    by_offset.reserve(file_.tensors_.size());
    for (const TensorInfo& t : file_.tensors_) {
        if (t.n_bytes != 0) by_offset.push_back(&t);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
        const TensorInfo& prev = *by_offset[i - 1];
        const TensorInfo& cur = *by_offset[i];
        if (prev.offset + prev.n_bytes > cur.offset) {
            in_.set_context("tensor " + quote_for_message(cur.name));
            in_.fail_at(offset_field_position(cur), "offset",
                        "data at " + std::to_string(cur.offset) + " overlaps tensor " +
                            quote_for_message(prev.name) + " [" +
                            std::to_string(prev.offset) + ", " +
                            std::to_string(prev.offset + prev.n_bytes) + ")");
        }
    }
}

std::string TensorInfo::shape_string() const {
    std::string s = "[";
    for (uint32_t d = 0; d < n_dims; ++d) {
        if (d) s += ", ";
        s += std::to_string(ne[d]);
    }
    return s + "]";
}

GgufFile GgufFile::open(const std::filesystem::path& path, const ReadOptions& options) {
    auto mapping = std::make_unique<MappedFile>(MappedFile::open(path));
    std::span<const uint8_t> bytes = mapping->bytes();
    GgufFile file = parse(bytes, path.string(), options);
    file.mapping_ = std::move(mapping);
    return file;
}

GgufFile GgufFile::parse(std::span<const uint8_t> bytes, std::string source,
                         const ReadOptions& options) {
    GgufFile file;
    file.bytes_ = bytes;
    file.source_ = std::move(source);
    Parser(file, options).run();
    if (options.validate_known_keys) validate_known_keys(file);
    return file;
}

const Value* GgufFile::find(std::string_view key) const {
    auto it = key_index_.find(key);
    return it == key_index_.end() ? nullptr : &metadata_[it->second].value;
}

void GgufFile::fail_key(std::string_view key, const std::string& problem, ErrorCode code) const {
    throw Error(code, source_ + ": key " + std::string(key) + ": " + problem);
}

template <typename T>
T GgufFile::get(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) fail_key(key, "missing", ErrorCode::NotFound);
    const T* typed = v->get_if<T>();
    if (typed == nullptr) {
        constexpr ValueType expected = value_type_of<T>();
        fail_key(key, "expected " + std::string(value_type_name(expected)) + ", found " +
                          v->type_description());
    }
    return *typed;
}

template uint8_t GgufFile::get<uint8_t>(std::string_view) const;
template int8_t GgufFile::get<int8_t>(std::string_view) const;
template uint16_t GgufFile::get<uint16_t>(std::string_view) const;
template int16_t GgufFile::get<int16_t>(std::string_view) const;
template uint32_t GgufFile::get<uint32_t>(std::string_view) const;
template int32_t GgufFile::get<int32_t>(std::string_view) const;
template float GgufFile::get<float>(std::string_view) const;
template bool GgufFile::get<bool>(std::string_view) const;
template std::string_view GgufFile::get<std::string_view>(std::string_view) const;
template uint64_t GgufFile::get<uint64_t>(std::string_view) const;
template int64_t GgufFile::get<int64_t>(std::string_view) const;
template double GgufFile::get<double>(std::string_view) const;

std::optional<uint64_t> GgufFile::find_uint(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (const auto* u = v->get_if<uint64_t>()) return *u;
    int64_t i = 0;
    if (!v->as_int64(i)) {
        fail_key(key, "expected an unsigned integer, found " + v->type_description());
    }
    if (i < 0) fail_key(key, "is negative (" + std::to_string(i) + ")", ErrorCode::OutOfRange);
    return static_cast<uint64_t>(i);
}

uint64_t GgufFile::get_uint(std::string_view key) const {
    auto v = find_uint(key);
    if (!v) fail_key(key, "missing", ErrorCode::NotFound);
    return *v;
}

std::optional<double> GgufFile::find_float(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (const auto* f = v->get_if<float>()) return *f;
    if (const auto* d = v->get_if<double>()) return *d;
    fail_key(key, "expected f32 or f64, found " + v->type_description());
}

double GgufFile::get_float(std::string_view key) const {
    auto v = find_float(key);
    if (!v) fail_key(key, "missing", ErrorCode::NotFound);
    return *v;
}

std::optional<std::string_view> GgufFile::find_string(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (const auto* s = v->string()) return *s;
    fail_key(key, "expected string, found " + v->type_description());
}

const Array& GgufFile::get_array(std::string_view key, ValueType elem) const {
    const Value* v = find(key);
    if (v == nullptr) fail_key(key, "missing", ErrorCode::NotFound);
    const Array* arr = v->array();
    if (arr == nullptr || arr->elem_type != elem) {
        fail_key(key, "expected array[" + std::string(value_type_name(elem)) + "], found " +
                          v->type_description());
    }
    return *arr;
}

std::string_view GgufFile::architecture() const {
    return find_string("general.architecture").value_or(std::string_view());
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& GgufFile::tensor(std::string_view name) const {
    const TensorInfo* t = find_tensor(name);
    if (t == nullptr) {
        throw Error(ErrorCode::NotFound, source_ + ": tensor " + std::string(name) + ": missing");
    }
    return *t;
}

}  // namespace loom::gguf
