#include "http/params.hpp"

#include <algorithm>

#include "domain/errors.hpp"
#include "domain/text.hpp"

namespace cdbemu::http {
namespace {

using domain::quote_for_message;
using domain::text_fault;

constexpr std::string_view kOws = " \t";
/// Most bytes of one multipart part's header block.
constexpr std::size_t kMaxPartHeaderBytes = 16 * 1024;
/// Most bytes in a multipart boundary (RFC 2046).
constexpr std::size_t kMaxBoundaryBytes = 70;

[[noreturn]] void invalid(const std::string &detail) {
  throw domain::ApiError(domain::ErrorCode::InvalidParameter, detail);
}

/// `text` without leading and trailing spaces and tabs.
std::string_view trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(kOws);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kOws) - first + 1);
}

/// `c` lower-cased if it is an ASCII letter.
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

/// Whether `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, {}, ascii_lower, ascii_lower);
}

/// Whether `text` contains `needle` ignoring ASCII case.
bool icontains(std::string_view text, std::string_view needle) {
  const auto same = [](char a, char b) { return ascii_lower(a) == ascii_lower(b); };
  return std::search(text.begin(), text.end(), needle.begin(), needle.end(), same) != text.end();
}

/// The value of hex digit `c`, or -1.
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Throws unless `out` has room for one more parameter.
void check_room(const DecodeLimits &limits, const RawParams &out) {
  if (out.size() >= limits.max_params) {
    invalid("more than " + std::to_string(limits.max_params) + " parameters");
  }
}

/// Throws unless `name` is a non-empty UTF-8 text without NUL.
void check_name(std::string_view name) {
  if (name.empty()) invalid("a parameter has an empty name");
  if (const std::string fault = text_fault(name); !fault.empty()) {
    invalid("parameter " + quote_for_message(name) + ": name " + fault);
  }
}

/// Throws if `value` is too long or not UTF-8 without NUL. File parts too: no API 2.0
/// parameter is binary, and every value may be stored and echoed as JSON text.
void check_value(std::string_view name, std::string_view value, const DecodeLimits &limits) {
  if (value.size() > limits.max_value_bytes) {
    invalid("parameter " + quote_for_message(name) + ": value is " + std::to_string(value.size()) +
            " bytes, above the limit of " + std::to_string(limits.max_value_bytes));
  }
  if (const std::string fault = text_fault(value); !fault.empty()) {
    invalid("parameter " + quote_for_message(name) + ": value " + fault);
  }
}

/// Decodes `+` and `%XX` of `raw` into `out`; returns the offset of a bad escape, or npos.
std::size_t percent_decode(std::string_view raw, std::string &out) {
  out.reserve(raw.size());
  std::size_t i = 0;
  while (i < raw.size()) {
    const std::size_t special = raw.find_first_of("+%", i);
    out.append(raw.substr(i, special - i));
    if (special == std::string_view::npos) break;
    i = special;
    if (raw[i] == '+') {
      out += ' ';
      i += 1;
      continue;
    }
    const int high = i + 1 < raw.size() ? hex_value(raw[i + 1]) : -1;
    const int low = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
    if (high < 0 || low < 0) return i;
    out += static_cast<char>(high * 16 + low);
    i += 3;
  }
  return std::string_view::npos;
}

/// The detail for a bad percent-escape at `at` in `raw`.
std::string bad_escape(std::string_view raw, std::size_t at) {
  return "invalid percent-escape " + quote_for_message(raw.substr(at, 3)) +
         " (a \"%\" must be followed by two hex digits)";
}

/// A header value split into its leading token and its `;`-separated parameters.
struct HeaderValue {
  std::string_view token;
  std::vector<std::pair<std::string, std::string>> params;  ///< lower-cased key, unquoted value
};

/// Parses `token; key=value; key="quoted \" value"`; nullopt if a quoted string is malformed.
std::optional<HeaderValue> parse_header_value(std::string_view text) {
  HeaderValue out;
  std::size_t pos = std::min(text.find(';'), text.size());
  out.token = trim(text.substr(0, pos));
  while (pos < text.size()) {
    ++pos;  // past the ';'
    const std::size_t key_end = std::min(text.find_first_of("=;", pos), text.size());
    std::string key(trim(text.substr(pos, key_end - pos)));
    std::ranges::transform(key, key.begin(), ascii_lower);
    pos = key_end;
    std::string value;
    if (pos < text.size() && text[pos] == '=') {
      pos = std::min(text.find_first_not_of(kOws, pos + 1), text.size());
      if (pos < text.size() && text[pos] == '"') {
        bool closed = false;
        for (++pos; pos < text.size() && !closed; ++pos) {
          if (text[pos] == '\\' && pos + 1 < text.size()) {
            value += text[++pos];
          } else if (text[pos] == '"') {
            closed = true;
          } else {
            value += text[pos];
          }
        }
        pos = std::min(text.find_first_not_of(kOws, pos), text.size());
        if (!closed || (pos < text.size() && text[pos] != ';')) return std::nullopt;
      } else {
        const std::size_t end = std::min(text.find(';', pos), text.size());
        value = trim(text.substr(pos, end - pos));
        pos = end;
      }
    }
    if (!key.empty() || !value.empty()) out.params.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

/// Whether `boundary` is 1..70 printable ASCII bytes not ending in a space.
bool valid_boundary(std::string_view boundary) {
  return !boundary.empty() && boundary.size() <= kMaxBoundaryBytes && boundary.back() != ' ' &&
         std::ranges::all_of(boundary, [](char c) { return c >= 0x20 && c < 0x7F; });
}

/// What follows a `--boundary` match: a part delimiter line, the close delimiter, the end of a
/// cut-off body, or other text (then the match was no delimiter).
enum class Delimiter { None, Part, Close, Cut };

/// Classifies `rest`, the bytes after a `--boundary` match; for Part, `consumed` is the length
/// of the rest of the delimiter line.
Delimiter classify_delimiter(std::string_view rest, std::size_t &consumed) {
  if (rest.starts_with("--")) return Delimiter::Close;
  const std::size_t eol = std::min(rest.find_first_not_of(kOws), rest.size());
  const std::string_view tail = rest.substr(eol);
  if (tail.empty() || tail == "\r") return Delimiter::Cut;
  if (tail.starts_with("\n") || tail.starts_with("\r\n")) {
    consumed = eol + (tail[0] == '\r' ? 2 : 1);
    return Delimiter::Part;
  }
  return Delimiter::None;
}

/// The offset of the next `\n--boundary` delimiter line at or after `from` (`line` is the
/// `\n--boundary` text), or npos; sets `kind` and `after` (the first byte of the next part).
std::size_t find_delimiter(std::string_view body, std::string_view line, std::size_t from,
                           Delimiter &kind, std::size_t &after) {
  // `line` holds its only '\n' at the front, so partial matches never overlap: linear time.
  for (std::size_t at = body.find(line, from); at != std::string_view::npos;
       at = body.find(line, at + 1)) {
    std::size_t consumed = 0;
    kind = classify_delimiter(body.substr(at + line.size()), consumed);
    if (kind != Delimiter::None) {
      after = at + line.size() + consumed;
      return at;
    }
  }
  return std::string_view::npos;
}

[[noreturn]] void part_not_closed(std::size_t part, std::string_view dash_boundary) {
  invalid("multipart body: part " + std::to_string(part) + " is not closed by a " +
          quote_for_message(dash_boundary) + " line (truncated body or missing final boundary)");
}

/// The name of a multipart part and where its value starts.
struct PartHead {
  std::string name;
  bool from_file = false;
  std::size_t value_start = 0;
};

/// Reads the headers of part number `part` starting at `start`.
PartHead read_part_head(std::string_view body, std::size_t start, std::size_t part,
                        std::string_view dash_boundary) {
  const std::string where = "multipart body: part " + std::to_string(part);
  std::optional<std::string_view> disposition;
  std::size_t pos = start;
  for (;;) {
    const std::size_t eol = body.find('\n', pos);
    if (eol == std::string_view::npos && body.size() - start <= kMaxPartHeaderBytes) {
      part_not_closed(part, dash_boundary);
    }
    if (eol == std::string_view::npos || eol + 1 - start > kMaxPartHeaderBytes) {
      invalid(where + " has headers longer than " + std::to_string(kMaxPartHeaderBytes) + " bytes");
    }
    std::string_view line = body.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) break;
    if (line.starts_with(dash_boundary)) invalid(where + " has no blank line after its headers");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) invalid(where + " has a header line without \":\"");
    if (iequals(trim(line.substr(0, colon)), "content-disposition")) {
      if (disposition) invalid(where + " has two Content-Disposition headers");
      disposition = trim(line.substr(colon + 1));
    }
  }
  if (!disposition) invalid(where + " has no Content-Disposition header");
  const std::optional<HeaderValue> header = parse_header_value(*disposition);
  if (!header) invalid(where + " has a malformed Content-Disposition header");
  if (!iequals(header->token, "form-data")) {
    invalid(where + " is not form-data (Content-Disposition " + quote_for_message(header->token) + ")");
  }
  PartHead head;
  bool named = false;
  for (const auto &[key, value] : header->params) {
    if (key == "name" && !named) {
      head.name = value;
      named = true;
    } else if (key == "filename" || key == "filename*") {
      head.from_file = true;
    }
  }
  if (!named) invalid(where + " has no name in its Content-Disposition header");
  head.value_start = pos;
  return head;
}

/// The boundary named by the body's first line when it opens a multipart part, or nullopt.
std::optional<std::string> boundary_in_body(std::string_view body) {
  body.remove_prefix(std::min(body.find_first_not_of("\r\n"), body.size()));
  const std::size_t eol = body.find('\n');
  if (eol == std::string_view::npos || !body.starts_with("--")) return std::nullopt;
  std::string_view boundary = body.substr(2, eol - 2);
  if (boundary.ends_with('\r')) boundary.remove_suffix(1);
  const bool plausible = !boundary.empty() && boundary.size() <= kMaxBoundaryBytes &&
                         std::ranges::all_of(boundary, [](char c) { return c > 0x20 && c < 0x7F; });
  if (!plausible || !icontains(body.substr(eol + 1, kMaxPartHeaderBytes), "content-disposition")) {
    return std::nullopt;
  }
  return std::string(boundary);
}

}  // namespace

/// Builds a ParamNode tree through ordered maps, so indices may come in any order and with gaps.
class TreeBuilder {
 public:
  explicit TreeBuilder(const DecodeLimits &limits) : limits_(limits) {}

  /// Adds one parameter to the tree.
  void add(const RawParam &param);
  /// The finished tree.
  ParamNode finish() { return convert(std::move(root_)); }

 private:
  /// A node under construction; `kind` is unset until a parameter decides it.
  struct Node {
    std::optional<ParamNode::Kind> kind;
    std::string value;
    std::map<std::string, Node, std::less<>> fields;
    std::map<std::uint64_t, Node> items;
  };

  /// The ParamNode of `node`; recursion depth is bounded by max_depth.
  static ParamNode convert(Node &&node);

  /// Counts a node just made; the tree may have at most max_params of them (its root aside), so
  /// its memory follows the limits however the names nest.
  void count_node() {
    if (++nodes_ > limits_.max_params) {
      invalid("the parameter names make more than " + std::to_string(limits_.max_params) +
              " nodes (distinct prefixes: a.0.b makes a, a.0 and a.0.b)");
    }
  }

  const DecodeLimits &limits_;
  Node root_{ParamNode::Kind::Object, {}, {}, {}};
  std::size_t nodes_ = 0;
};

void TreeBuilder::add(const RawParam &param) {
  // The decoders refuse empty names already; a list built by other code may still hold one.
  if (param.name.empty()) invalid("a parameter has an empty name");
  std::string path = canonical_name(param.name);
  // A name with an empty segment (jQuery's `_` cache-buster, `__utm`, `name_`) is no dotted path:
  // it stays one opaque top-level name, as PHP and the SDKs keep such names.
  const bool opaque = path.front() == '.' || path.back() == '.' || path.find("..") != std::string::npos;
  if (opaque) path = param.name;
  const auto fail = [&](const std::string &what) {
    invalid("parameter " + quote_for_message(param.name) + ": " + what);
  };
  const std::size_t depth = opaque ? 1 : static_cast<std::size_t>(std::ranges::count(path, '.')) + 1;
  if (depth > limits_.max_depth) {
    fail(std::to_string(depth) + " segments, above the limit of " +
         std::to_string(limits_.max_depth));
  }
  Node *node = &root_;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = opaque ? path.size() : std::min(path.find('.', start), path.size());
    const std::string_view segment = std::string_view(path).substr(start, dot - start);
    const auto parent = [&] { return quote_for_message(std::string_view(path).substr(0, start - 1)); };
    const bool is_index = !opaque && std::ranges::all_of(segment, [](char c) { return c >= '0' && c <= '9'; });
    const char first = segment.front();
    if (!opaque && ((is_index && segment.size() > 1 && first == '0') ||
                    (!is_index && ((first >= '0' && first <= '9') || first == '+' || first == '-')))) {
      fail("index " + quote_for_message(segment) + " is not a canonical non-negative integer");
    }
    if (node->kind == ParamNode::Kind::Value) {
      fail(parent() + " is both a value and a branch");
    }
    if (is_index) {
      if (start == 0) fail("a name cannot start with a list index");
      std::uint64_t index = 0;
      for (const char digit : segment) {
        const auto d = static_cast<std::uint64_t>(digit - '0');
        if (d > limits_.max_index || index > (limits_.max_index - d) / 10) {
          fail("index " + quote_for_message(segment) + " is above the limit of " +
               std::to_string(limits_.max_index));
        }
        index = index * 10 + d;
      }
      if (node->kind == ParamNode::Kind::Object) fail(parent() + " is both a list and an object");
      node->kind = ParamNode::Kind::List;
      const auto [item, made] = node->items.try_emplace(index);
      if (made) count_node();
      node = &item->second;
    } else {
      if (node->kind == ParamNode::Kind::List) fail(parent() + " is both a list and an object");
      node->kind = ParamNode::Kind::Object;
      auto it = node->fields.lower_bound(segment);
      if (it == node->fields.end() || it->first != segment) {
        it = node->fields.emplace_hint(it, std::string(segment), Node{});
        count_node();
      }
      node = &it->second;
    }
    if (dot == path.size()) break;
    start = dot + 1;
  }
  if (!node->kind) {
    node->kind = ParamNode::Kind::Value;
    node->value = param.value;
  } else if (node->kind != ParamNode::Kind::Value) {
    fail(quote_for_message(path) + " is both a value and a branch");
  } else if (node->value != param.value) {
    fail(quote_for_message(path) + " is given twice with different values");
  }
}

ParamNode TreeBuilder::convert(Node &&node) {
  ParamNode out;
  out.kind_ = node.kind.value();
  out.value_ = std::move(node.value);
  while (!node.fields.empty()) {
    auto field = node.fields.extract(node.fields.begin());
    out.fields_.emplace_hint(out.fields_.end(), std::move(field.key()),
                             convert(std::move(field.mapped())));
  }
  out.items_.reserve(node.items.size());
  for (auto &item : node.items) out.items_.push_back(convert(std::move(item.second)));
  return out;
}

void decode_urlencoded(std::string_view text, const DecodeLimits &limits, RawParams &out) {
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('&', start), text.size());
    const std::string_view piece = text.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) continue;
    check_room(limits, out);
    const std::size_t eq = std::min(piece.find('='), piece.size());
    const std::string_view raw_name = piece.substr(0, eq);
    const std::string_view raw_value = piece.substr(std::min(eq + 1, piece.size()));
    RawParam param;
    if (const std::size_t bad = percent_decode(raw_name, param.name);
        bad != std::string_view::npos) {
      invalid("parameter " + quote_for_message(raw_name) + ": name has an " + bad_escape(raw_name, bad));
    }
    check_name(param.name);
    if (const std::size_t bad = percent_decode(raw_value, param.value);
        bad != std::string_view::npos) {
      invalid("parameter " + quote_for_message(param.name) + ": value has an " + bad_escape(raw_value, bad));
    }
    check_value(param.name, param.value, limits);
    out.push_back(std::move(param));
  }
}

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  const std::optional<HeaderValue> header = parse_header_value(content_type);
  if (!header || !iequals(header->token, "multipart/form-data")) return std::nullopt;
  for (const auto &[key, value] : header->params) {
    if (key == "boundary") return valid_boundary(value) ? std::optional(value) : std::nullopt;
  }
  return std::nullopt;
}

void decode_multipart(std::string_view body, std::string_view boundary, const DecodeLimits &limits,
                      RawParams &out) {
  if (!valid_boundary(boundary)) invalid("multipart body: invalid boundary " + quote_for_message(boundary));
  const std::string line = "\n--" + std::string(boundary);
  const std::string_view dash_boundary = std::string_view(line).substr(1);
  Delimiter kind = Delimiter::None;
  std::size_t after = 0;
  std::size_t consumed = 0;
  if (body.starts_with(dash_boundary) &&
      (kind = classify_delimiter(body.substr(dash_boundary.size()), consumed)) != Delimiter::None) {
    after = dash_boundary.size() + consumed;
  } else if (find_delimiter(body, line, 0, kind, after) == std::string_view::npos) {
    invalid("multipart body: no opening boundary line " + quote_for_message(dash_boundary));
  }
  for (std::size_t part = 1; kind != Delimiter::Close; ++part) {
    if (kind == Delimiter::Cut) part_not_closed(part, dash_boundary);
    check_room(limits, out);
    PartHead head = read_part_head(body, after, part, dash_boundary);
    // Searching from the blank line's own '\n' also accepts an empty value sent without its CRLF.
    const std::size_t at = find_delimiter(body, line, head.value_start - 1, kind, after);
    if (at == std::string_view::npos || kind == Delimiter::Cut) {
      part_not_closed(part, dash_boundary);
    }
    std::size_t value_end = std::max(at, head.value_start);
    if (value_end > head.value_start && body[value_end - 1] == '\r') --value_end;
    const std::string_view value = body.substr(head.value_start, value_end - head.value_start);
    check_name(head.name);
    check_value(head.name, value, limits);
    out.push_back(RawParam{std::move(head.name), std::string(value), head.from_file});
  }
}

BodyKind sniff_body(std::string_view body, std::string_view content_type, std::string &boundary) {
  boundary.clear();
  const std::size_t start = body.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return BodyKind::Empty;
  if (std::optional<std::string> declared = multipart_boundary(content_type);
      declared && body.find("--" + *declared) != std::string_view::npos) {
    boundary = std::move(*declared);
    return BodyKind::Multipart;
  }
  if (std::optional<std::string> found = boundary_in_body(body)) {
    boundary = std::move(*found);
    return BodyKind::Multipart;
  }
  return body[start] == '{' || body[start] == '[' ? BodyKind::Json : BodyKind::UrlEncoded;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += c;
    } else {
      out += {'%', kHex[byte >> 4], kHex[byte & 15]};
    }
  }
  return out;
}

std::string canonical_name(std::string_view name) {
  std::string out(name);
  std::ranges::replace(out, '_', '.');
  return out;
}

const ParamNode *ParamNode::find(std::string_view name) const {
  const auto it = fields_.find(name);
  return it == fields_.end() ? nullptr : &it->second;
}

ParamNode ParamNode::build(const RawParams &params, const DecodeLimits &limits) {
  if (params.size() > limits.max_params) {
    invalid("more than " + std::to_string(limits.max_params) + " parameters");
  }
  TreeBuilder builder(limits);
  for (const RawParam &param : params) builder.add(param);
  return builder.finish();
}

}  // namespace cdbemu::http
