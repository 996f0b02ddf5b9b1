#pragma once
// JSON written straight into a string, byte for byte what nlohmann::ordered_json::dump() writes
// for the same values (compact, keys in the order written). The List page and the state export
// use it: building a JSON tree first cost more than half of a List request in allocations.

#include <cassert>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/text.hpp"

namespace cdbemu::api {

class JsonOut {
 public:
  explicit JsonOut(std::string &out) : out_(out) {}

  JsonOut &object() { return open('{'); }
  JsonOut &end_object() { return close('}'); }
  JsonOut &array() { return open('['); }
  JsonOut &end_array() { return close(']'); }

  /// The name of the next value in the current object: a name of ours, written as it is, so it
  /// must need no escaping (no quote, backslash or control byte).
  JsonOut &key(std::string_view name) {
    assert(name.find_first_of("\"\\") == std::string_view::npos);
    separate();
    out_ += '"';
    out_ += name;
    out_ += "\":";
    after_key_ = true;
    return *this;
  }

  JsonOut &string(std::string_view text) {
    separate();
    domain::append_json_string(out_, text);
    return *this;
  }
  JsonOut &number(std::int64_t value) {
    separate();
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    out_.append(digits, end);
    return *this;
  }
  /// JSON text made elsewhere (a whole value).
  JsonOut &raw(std::string_view json) {
    separate();
    out_ += json;
    return *this;
  }

  JsonOut &field(std::string_view name, std::string_view text) { return key(name).string(text); }
  JsonOut &field(std::string_view name, const char *text) { return key(name).string(text); }
  JsonOut &field(std::string_view name, std::int64_t value) { return key(name).number(value); }
  JsonOut &field(std::string_view name, int value) { return key(name).number(value); }

 private:
  /// A comma before every value but the first of its object or array, and none after a key.
  void separate() {
    if (after_key_) {
      after_key_ = false;
    } else if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }
  JsonOut &open(char bracket) {
    separate();
    out_ += bracket;
    first_.push_back(true);
    return *this;
  }
  JsonOut &close(char bracket) {
    out_ += bracket;
    first_.pop_back();
    return *this;
  }

  std::string &out_;
  std::vector<bool> first_;  ///< per open object or array: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace cdbemu::api
