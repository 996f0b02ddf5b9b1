#pragma once
// Request parameters, decoded by our own code from raw bytes: GET query strings, urlencoded
// bodies and multipart/form-data bodies all become one flat list and then one tree.
// Every malformed input throws domain::ApiError(ErrorCode::InvalidParameter, "<what is wrong>").

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdbemu::http {

/// Limits on decoded input; each is a command-line flag.
struct DecodeLimits {
  std::size_t max_body_bytes = 16 * 1024 * 1024;  ///< decoded body bytes
  std::size_t max_params = 200000;                ///< name=value pairs in one request
  std::uint64_t max_index = 1000000;              ///< largest list index accepted
  std::size_t max_depth = 16;                     ///< segments in one dotted name
  std::size_t max_value_bytes = 1024 * 1024;      ///< bytes in one decoded value
};

/// One decoded parameter: the name exactly as sent (after percent-decoding) and its value.
struct RawParam {
  std::string name;
  std::string value;
  bool from_file_part = false;  ///< a multipart part with a filename (an upload)
};
using RawParams = std::vector<RawParam>;

/// Appends the pairs of an application/x-www-form-urlencoded text (a query string or a body).
/// `+` is a space; `%XX` must be valid hex; names and values must be valid UTF-8 without NUL.
/// Empty pieces (`a=1&&b=2`) are skipped; a piece without `=` is a name with an empty value.
void decode_urlencoded(std::string_view text, const DecodeLimits &limits, RawParams &out);

/// The boundary of a multipart/form-data Content-Type header, if it names one.
std::optional<std::string> multipart_boundary(std::string_view content_type);

/// Appends the parts of a multipart/form-data body (RFC 7578): each part's
/// `Content-Disposition: form-data; name="..."` names it, its bytes are the value.
void decode_multipart(std::string_view body, std::string_view boundary,
                      const DecodeLimits &limits, RawParams &out);

/// How a body is to be read, judged by its content first and by its Content-Type second.
enum class BodyKind { Empty, UrlEncoded, Multipart, Json };

/// The kind of `body`; for a multipart body found without a usable header, `boundary` is set
/// from the body's first line.
BodyKind sniff_body(std::string_view body, std::string_view content_type, std::string &boundary);

/// The parameter tree: `srcInfo.0.dbInfo.1.table.0=t` is root → srcInfo[0] → dbInfo[1] → table[0].
/// `_` and `.` separate segments alike. An all-digit segment is a list index.
class ParamNode {
 public:
  enum class Kind { Value, Object, List };

  Kind kind() const { return kind_; }
  bool is_value() const { return kind_ == Kind::Value; }
  bool is_object() const { return kind_ == Kind::Object; }
  bool is_list() const { return kind_ == Kind::List; }

  /// The value of a leaf (empty for branches).
  const std::string &value() const { return value_; }
  /// Named children of an object node, sorted by name.
  const std::map<std::string, ParamNode, std::less<>> &fields() const { return fields_; }
  /// Items of a list node, in index order with gaps compacted.
  const std::vector<ParamNode> &items() const { return items_; }
  /// The named child, or nullptr.
  const ParamNode *find(std::string_view name) const;

  /// Builds the tree of `params`. Throws 4000 on: the same name twice with different values,
  /// a name that is both a value and a branch, a node that is both a list and an object,
  /// a non-canonical index (`01`, `1a`, `-1`), an index above max_index, an empty name,
  /// more than max_depth segments, more than max_params parameters.
  static ParamNode build(const RawParams &params, const DecodeLimits &limits);

 private:
  friend class TreeBuilder;
  Kind kind_ = Kind::Object;
  std::string value_;
  std::map<std::string, ParamNode, std::less<>> fields_;
  std::vector<ParamNode> items_;
};

/// RFC 3986 percent-encoding (everything but letters, digits and `-_.~`): what a client sends so
/// decode_urlencoded gives back exactly `text`.
std::string percent_encode(std::string_view text);

/// A name with every `_` replaced by `.`: the canonical form of a parameter name.
std::string canonical_name(std::string_view name);

}  // namespace cdbemu::http
