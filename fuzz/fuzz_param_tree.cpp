// Fuzz target: the dotted-name tree builder (ParamNode::build) and canonical_name.
// Input: `name=value&...`, split without the decoder's checks (fuzz_support.hpp's
// split_leniently), so the builder also sees names no decoder lets through: empty, with NUL,
// invalid UTF-8.
// Invariants: the tree has exactly one leaf per distinct name (canonical, or as sent for a name
// with an empty segment), holding that name's value, so never more leaves than parameters; the
// same parameters in reverse order build the same tree or are refused too; lists and objects are
// never empty and no deeper than max_depth; a refusal is a clean 4000.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/errors.hpp"
#include "fuzz_support.hpp"
#include "http/params.hpp"

namespace {

using cdbemu::domain::ApiError;
using cdbemu::http::DecodeLimits;
using cdbemu::http::ParamNode;
using cdbemu::http::RawParams;

/// Limits small enough for a fuzzer to cross: an index of 4 digits, 6 segments.
constexpr DecodeLimits kLimits{.max_body_bytes = 1 << 20,
                               .max_params = 256,
                               .max_index = 1000,
                               .max_depth = 6,
                               .max_value_bytes = 1 << 20};

/// The tree of `params`, or nullopt when it is refused (the refusal is checked).
std::optional<ParamNode> build(const RawParams &params) {
  try {
    return ParamNode::build(params, kLimits);
  } catch (const ApiError &error) {
    cdbemu::fuzz::check_refusal(error);
    return std::nullopt;
  }
}

/// Checks the shape of `node` at `depth` and appends its leaf values.
void collect_leaves(const ParamNode &node, std::size_t depth, std::vector<std::string> &leaves) {
  FUZZ_CHECK(depth <= kLimits.max_depth);
  switch (node.kind()) {
    case ParamNode::Kind::Value:
      FUZZ_CHECK(depth > 0);
      FUZZ_CHECK(node.fields().empty() && node.items().empty());
      leaves.push_back(node.value());
      break;
    case ParamNode::Kind::Object:
      FUZZ_CHECK(node.items().empty() && node.value().empty());
      FUZZ_CHECK(depth == 0 || !node.fields().empty());
      for (const auto &[name, child] : node.fields()) {
        FUZZ_CHECK(!name.empty());
        FUZZ_CHECK(node.find(name) == &child);
        collect_leaves(child, depth + 1, leaves);
      }
      break;
    case ParamNode::Kind::List:
      FUZZ_CHECK(depth > 0);
      FUZZ_CHECK(node.fields().empty() && node.value().empty());
      FUZZ_CHECK(!node.items().empty());
      for (const auto &item : node.items()) collect_leaves(item, depth + 1, leaves);
      break;
  }
}

/// Whether two trees are the same.
bool same_tree(const ParamNode &a, const ParamNode &b) {
  if (a.kind() != b.kind() || a.value() != b.value() || a.fields().size() != b.fields().size() ||
      a.items().size() != b.items().size()) {
    return false;
  }
  for (auto x = a.fields().begin(), y = b.fields().begin(); x != a.fields().end(); ++x, ++y) {
    if (x->first != y->first || !same_tree(x->second, y->second)) return false;
  }
  for (std::size_t i = 0; i < a.items().size(); ++i) {
    if (!same_tree(a.items()[i], b.items()[i])) return false;
  }
  return true;
}

/// The path a parameter's leaf stands for: the canonical name, or the name as sent when the
/// canonical one has an empty segment.
std::string leaf_key(const std::string &name) {
  std::string canonical = cdbemu::http::canonical_name(name);
  FUZZ_CHECK(canonical.size() == name.size());
  FUZZ_CHECK(canonical.find('_') == std::string::npos);
  const bool opaque = canonical.empty() || canonical.front() == '.' || canonical.back() == '.' ||
                      canonical.find("..") != std::string::npos;
  return opaque ? name : canonical;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const RawParams params = cdbemu::fuzz::split_leniently(cdbemu::fuzz::as_text(data, size));
  const std::optional<ParamNode> tree = build(params);
  const std::optional<ParamNode> reversed = build(RawParams(params.rbegin(), params.rend()));
  FUZZ_CHECK(tree.has_value() == reversed.has_value());
  if (!tree) return 0;
  FUZZ_CHECK(same_tree(*tree, *reversed));
  FUZZ_CHECK(tree->is_object());

  std::vector<std::string> leaves;
  collect_leaves(*tree, 0, leaves);
  FUZZ_CHECK(leaves.size() <= params.size());
  std::map<std::string, std::string> values;  // leaf path → value
  for (const auto &param : params) {
    const auto [it, added] = values.emplace(leaf_key(param.name), param.value);
    FUZZ_CHECK(added || it->second == param.value);
  }
  std::vector<std::string> expected;
  for (const auto &entry : values) expected.push_back(entry.second);
  std::ranges::sort(leaves);
  std::ranges::sort(expected);
  FUZZ_CHECK(leaves == expected);
  return 0;
}
