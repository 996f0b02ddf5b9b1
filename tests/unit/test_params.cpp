#include "http/params.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "domain/errors.hpp"

using cdbemu::domain::ApiError;
using cdbemu::http::BodyKind;
using cdbemu::http::DecodeLimits;
using cdbemu::http::ParamNode;
using cdbemu::http::RawParam;
using cdbemu::http::RawParams;

namespace {

/// The message of the 4000 error `action` throws, or "<no error>".
std::string error_of(const std::function<void()> &action) {
  try {
    action();
  } catch (const ApiError &error) {
    CHECK(error.code() == 4000);
    CHECK(error.code_desc() == "InvalidParameter");
    return error.message();
  }
  return "<no error>";
}

/// The pairs of an urlencoded text.
RawParams decode(std::string_view text, const DecodeLimits &limits = {}) {
  RawParams out;
  cdbemu::http::decode_urlencoded(text, limits, out);
  return out;
}

/// The tree of an urlencoded text.
ParamNode tree(std::string_view text, const DecodeLimits &limits = {}) {
  return ParamNode::build(decode(text, limits), limits);
}

/// The message of decoding `text` (urlencoded).
std::string decode_error(std::string_view text, const DecodeLimits &limits = {}) {
  return error_of([&] { decode(text, limits); });
}

/// The message of decoding and building `text` (urlencoded).
std::string tree_error(std::string_view text, const DecodeLimits &limits = {}) {
  return error_of([&] { tree(text, limits); });
}

/// The parts of a multipart body.
RawParams multipart(std::string_view body, std::string_view boundary = "XyZ") {
  RawParams out;
  cdbemu::http::decode_multipart(body, boundary, DecodeLimits{}, out);
  return out;
}

/// The message of decoding a multipart body.
std::string multipart_error(std::string_view body, std::string_view boundary = "XyZ") {
  return error_of([&] { multipart(body, boundary); });
}

/// A multipart body of one part with `headers` and `value`, boundary "XyZ".
std::string one_part(std::string_view headers, std::string_view value = "x") {
  return "--XyZ\r\n" + std::string(headers) + "\r\n\r\n" + std::string(value) + "\r\n--XyZ--\r\n";
}

/// The value of a dotted path of field names and list indices, or "<missing>".
std::string at(const ParamNode &root, std::initializer_list<std::string_view> path) {
  const ParamNode *node = &root;
  for (const std::string_view step : path) {
    if (node->is_list()) {
      const auto index = std::stoul(std::string(step));
      if (index >= node->items().size()) return "<missing>";
      node = &node->items()[index];
    } else {
      node = node->find(step);
      if (node == nullptr) return "<missing>";
    }
  }
  return node->is_value() ? node->value() : "<branch>";
}

/// A sniffed body kind and the boundary it set.
std::pair<BodyKind, std::string> sniff(std::string_view body, std::string_view content_type) {
  std::string boundary = "stale";
  const BodyKind kind = cdbemu::http::sniff_body(body, content_type, boundary);
  return {kind, boundary};
}

}  // namespace

TEST_SUITE("params") {
  TEST_CASE("urlencoded pairs keep order and decode plus and percent") {
    const RawParams params =
        decode("Action=Get&jobName=a+b%20c%2B&x=%e6%B5%8B&flag&&empty=&  sp = v ");
    REQUIRE(params.size() == 6);
    CHECK(params[0].name == "Action");
    CHECK(params[0].value == "Get");
    CHECK(params[1].value == "a b c+");
    CHECK(params[2].value == "\xE6\xB5\x8B");
    CHECK(params[3].name == "flag");
    CHECK(params[3].value.empty());
    CHECK(params[4].name == "empty");
    CHECK(params[4].value.empty());
    CHECK(params[5].name == "  sp ");
    CHECK(params[5].value == " v ");
    CHECK_FALSE(params[0].from_file_part);
  }

  TEST_CASE("a value keeps every equals sign after the first") {
    const RawParams params = decode("Signature=ab=cd=&b==");
    REQUIRE(params.size() == 2);
    CHECK(params[0].value == "ab=cd=");
    CHECK(params[1].value == "=");
  }

  TEST_CASE("exact duplicates are kept by the decoder and once by the tree") {
    const RawParams params = decode("a=1&a=1&a_b=2&a.b=2");
    CHECK(params.size() == 4);
    const ParamNode root = tree("x=1&x=1&a_b=2&a.b=2");
    CHECK(at(root, {"x"}) == "1");
    CHECK(at(root, {"a", "b"}) == "2");
    CHECK(root.fields().size() == 2);
  }

  TEST_CASE("bad percent escapes") {
    CHECK(decode_error("a=%zz") ==
          R"(invalid parameter: parameter "a": value has an invalid percent-escape "%zz" (a "%" must be followed by two hex digits))");
    CHECK(decode_error("a=1%4") ==
          R"(invalid parameter: parameter "a": value has an invalid percent-escape "%4" (a "%" must be followed by two hex digits))");
    CHECK(decode_error("a=%") ==
          R"(invalid parameter: parameter "a": value has an invalid percent-escape "%" (a "%" must be followed by two hex digits))");
    CHECK(decode_error("na%g1me=1") ==
          R"(invalid parameter: parameter "na%g1me": name has an invalid percent-escape "%g1" (a "%" must be followed by two hex digits))");
  }

  TEST_CASE("invalid UTF-8 and NUL are refused without echoing the bytes") {
    CHECK(decode_error("a=%C0%AF") ==
          R"(invalid parameter: parameter "a": value is not valid UTF-8 (overlong encoding at offset 0))");
    CHECK(decode_error("a=x%E0%80%AF") ==
          R"(invalid parameter: parameter "a": value is not valid UTF-8 (overlong encoding at offset 1))");
    CHECK(decode_error("a=%ED%A0%80") ==
          R"(invalid parameter: parameter "a": value is not valid UTF-8 (UTF-16 surrogate at offset 0))");
    CHECK(decode_error("a=%F4%90%80%80") ==
          R"(invalid parameter: parameter "a": value is not valid UTF-8 (code point above U+10FFFF at offset 0))");
    CHECK(decode_error("a=%E6%B5") ==
          R"(invalid parameter: parameter "a": value is not valid UTF-8 (truncated sequence at offset 0))");
    CHECK(decode_error("a=%80") ==
          R"(invalid parameter: parameter "a": value is not valid UTF-8 (unexpected continuation byte at offset 0))");
    CHECK(decode_error("a=%FF") ==
          R"(invalid parameter: parameter "a": value is not valid UTF-8 (invalid byte at offset 0))");
    CHECK(decode_error("a=x%00y") ==
          R"(invalid parameter: parameter "a": value contains a NUL byte at offset 1)");
    CHECK(decode_error("a%C0%AFb=1") ==
          R"(invalid parameter: parameter "a\xC0\xAFb": name is not valid UTF-8 (overlong encoding at offset 1))");
    CHECK(decode_error("a%00%0A%22%5C=1") ==
          R"(invalid parameter: parameter "a\x00\x0A\"\\": name contains a NUL byte at offset 1)");
    // U+0085 is a C1 control and is escaped, U+00A0 is shown as is.
    CHECK(tree_error("%E6%B5%8B%C2%85%C2%A0.01=1") ==
          "invalid parameter: parameter \"\xE6\xB5\x8B\\xC2\\x85\xC2\xA0.01\": index \"01\" is not a "
          "canonical non-negative integer");
    CHECK(decode("%E6%B5%8B=%F0%9F%98%80")[0].value == "\xF0\x9F\x98\x80");
  }

  TEST_CASE("empty names and long values and too many pairs") {
    CHECK(decode_error("=x") == "invalid parameter: a parameter has an empty name");
    CHECK(decode_error("a=1&=") == "invalid parameter: a parameter has an empty name");
    // Found by fuzz/fuzz_param_tree: the tree builder read the first byte of an empty name.
    CHECK(error_of([] { ParamNode::build({RawParam{"", "x", false}}, DecodeLimits{}); }) ==
          "invalid parameter: a parameter has an empty name");
    DecodeLimits limits;
    limits.max_value_bytes = 4;
    CHECK(decode("a=abcd", limits)[0].value == "abcd");
    CHECK(decode_error("a=a%20cde", limits) ==
          "invalid parameter: parameter \"a\": value is 5 bytes, above the limit of 4");
    limits.max_params = 3;
    CHECK(decode("a=1&&b=2&c=3&", limits).size() == 3);
    CHECK(decode_error("a=1&b=2&c=3&d=4", limits) == "invalid parameter: more than 3 parameters");
    RawParams three = decode("a=1&b=2&c=3");
    CHECK(error_of([&] { cdbemu::http::decode_urlencoded("d=4", limits, three); }) ==
          "invalid parameter: more than 3 parameters");
    CHECK(error_of([&] { ParamNode::build(decode("a=1&b=2&c=3&d=4"), limits); }) ==
          "invalid parameter: more than 3 parameters");
  }

  TEST_CASE("the tree has at most max_params nodes however the names nest") {
    DecodeLimits limits;
    limits.max_params = 4;
    // a, a.0, a.0.b, a.1: four nodes from two parameters.
    CHECK(ParamNode::build(decode("a.0.b=1&a.1=2"), limits).find("a")->items().size() == 2);
    CHECK(tree_error("a.0.b=1&a.1.c=2", limits) ==
          "invalid parameter: the parameter names make more than 4 nodes (distinct prefixes: a.0.b makes a, a.0 and "
          "a.0.b)");
    // 156,000 names 16 segments deep, each a new path, would make 2.5 million nodes (~800 MB).
    std::string deep;
    for (int i = 0; i < 20000; ++i) {
      deep += "x";
      for (int d = 0; d < 15; ++d) deep += "." + std::to_string((i * 7919 + d * 104729) % 1000000);
      deep += "=1&";
    }
    CHECK(tree_error(deep) ==
          "invalid parameter: the parameter names make more than 200000 nodes (distinct prefixes: a.0.b makes a, a.0 "
          "and a.0.b)");
  }

  TEST_CASE("a million pairs fail fast at the limit") {
    std::string text;
    text.reserve(4'000'000);
    for (int i = 0; i < 1'000'000; ++i) text += "a=1&";
    RawParams out;
    CHECK(error_of([&] { cdbemu::http::decode_urlencoded(text, DecodeLimits{}, out); }) ==
          "invalid parameter: more than 200000 parameters");
    CHECK(out.size() == 200000);
  }

  TEST_CASE("canonical names and find") {
    CHECK(cdbemu::http::canonical_name("srcInfo_0_dbInfo.1_table") == "srcInfo.0.dbInfo.1.table");
    const ParamNode root = tree("srcInfo_0_cdbUInstanceId=cdb-1&srcInfo.0.dbInfo.0.database=d");
    CHECK(root.is_object());
    CHECK(root.find("nope") == nullptr);
    const ParamNode *src = root.find("srcInfo");
    REQUIRE(src != nullptr);
    CHECK(src->is_list());
    REQUIRE(src->items().size() == 1);
    CHECK(src->items()[0].is_object());
    CHECK(at(root, {"srcInfo", "0", "cdbUInstanceId"}) == "cdb-1");
    CHECK(at(root, {"srcInfo", "0", "dbInfo", "0", "database"}) == "d");
  }

  TEST_CASE("indices in any order with gaps are compacted in index order") {
    const ParamNode root = tree("t.10=b&t.2=a&t.1000000=c&x.3.y=2&x.0.y=1");
    const ParamNode *t = root.find("t");
    REQUIRE(t != nullptr);
    REQUIRE(t->items().size() == 3);
    CHECK(t->items()[0].value() == "a");
    CHECK(t->items()[1].value() == "b");
    CHECK(t->items()[2].value() == "c");
    CHECK(at(root, {"x", "0", "y"}) == "1");
    CHECK(at(root, {"x", "1", "y"}) == "2");
  }

  TEST_CASE("fields are sorted by name in byte order") {
    const ParamNode root = tree("b=2&a=1&B=3");
    std::string order;
    for (const auto &[name, node] : root.fields()) order += name;
    CHECK(order == "Bab");
  }

  TEST_CASE("the same name with different values") {
    CHECK(tree_error("a=1&a=2") ==
          R"(invalid parameter: parameter "a": "a" is given twice with different values)");
    CHECK(tree_error("a_b=1&a.b=2") ==
          R"(invalid parameter: parameter "a.b": "a.b" is given twice with different values)");
    CHECK(tree_error("a.b=1&a_b=2") ==
          R"(invalid parameter: parameter "a_b": "a.b" is given twice with different values)");
  }

  TEST_CASE("value and branch in both orders") {
    CHECK(tree_error("x=1&x.0=2") ==
          R"(invalid parameter: parameter "x.0": "x" is both a value and a branch)");
    CHECK(tree_error("x.0=2&x=1") ==
          R"(invalid parameter: parameter "x": "x" is both a value and a branch)");
    CHECK(tree_error("a.b=1&a.b.c=2") ==
          R"(invalid parameter: parameter "a.b.c": "a.b" is both a value and a branch)");
    CHECK(tree_error("a.b.c=2&a_b=1") ==
          R"(invalid parameter: parameter "a_b": "a.b" is both a value and a branch)");
  }

  TEST_CASE("list and object") {
    CHECK(tree_error("x.0=a&x.b=c") ==
          R"(invalid parameter: parameter "x.b": "x" is both a list and an object)");
    CHECK(tree_error("x.b=c&x_0=a") ==
          R"(invalid parameter: parameter "x_0": "x" is both a list and an object)");
  }

  TEST_CASE("malformed names") {
    // A name with an empty segment is one opaque top-level name (jQuery's `_`, `__utm`, `x_`).
    const ParamNode opaque = tree("a..b=1&a__b=2&a.=3&_a=4&_=5&_=5&__utm=6&x.0=7&x_=8");
    CHECK(opaque.find("a..b")->value() == "1");
    CHECK(opaque.find("a__b")->value() == "2");
    CHECK(opaque.find("a.")->value() == "3");
    CHECK(opaque.find("_a")->value() == "4");
    CHECK(opaque.find("_")->value() == "5");
    CHECK(opaque.find("__utm")->value() == "6");
    CHECK(opaque.find("x")->items().at(0).value() == "7");
    CHECK(opaque.find("x_")->value() == "8");
    CHECK(tree_error("_=1&_=2") == R"(invalid parameter: parameter "_": "_" is given twice with different values)");
    CHECK(tree_error("srcInfo.0.dbInfo.01.database=d") ==
          R"(invalid parameter: parameter "srcInfo.0.dbInfo.01.database": index "01" is not a canonical non-negative integer)");
    CHECK(tree_error("t.1a=x") ==
          R"(invalid parameter: parameter "t.1a": index "1a" is not a canonical non-negative integer)");
    CHECK(tree_error("t.-1=x") ==
          R"(invalid parameter: parameter "t.-1": index "-1" is not a canonical non-negative integer)");
    CHECK(tree_error("t.%2B1=x") ==
          R"(invalid parameter: parameter "t.+1": index "+1" is not a canonical non-negative integer)");
    CHECK(tree_error("0=x") ==
          R"(invalid parameter: parameter "0": a name cannot start with a list index)");
    CHECK(tree_error("t.00=x") ==
          R"(invalid parameter: parameter "t.00": index "00" is not a canonical non-negative integer)");
    CHECK(tree("t.0=x").find("t")->items().size() == 1);
  }

  TEST_CASE("index and depth limits") {
    CHECK(tree_error("t.1000001=x") ==
          R"(invalid parameter: parameter "t.1000001": index "1000001" is above the limit of 1000000)");
    CHECK(tree_error("t.99999999999999999999999=x") ==
          R"(invalid parameter: parameter "t.99999999999999999999999": index "99999999999999999999999" is above the limit of 1000000)");
    DecodeLimits limits;
    limits.max_index = 0;
    CHECK(tree("t.0=x", limits).find("t")->items().size() == 1);
    CHECK(tree_error("t.1=x", limits) ==
          R"(invalid parameter: parameter "t.1": index "1" is above the limit of 0)");
    limits.max_depth = 3;
    CHECK(at(tree("a.b.c=1", limits), {"a", "b", "c"}) == "1");
    CHECK(tree_error("a.b_c.d=1", limits) ==
          R"(invalid parameter: parameter "a.b_c.d": 4 segments, above the limit of 3)");
  }

  TEST_CASE("long names are cut in messages") {
    const std::string name = std::string(150, 'n') + ".01";
    CHECK(tree_error(name + "=1") == "invalid parameter: parameter \"" + std::string(100, 'n') +
                                         "\"...: index \"01\" is not a canonical non-negative integer");
  }

  TEST_CASE("a hundred thousand params build in reverse index order") {
    std::string text;
    for (int i = 99999; i >= 0; --i) {
      text += "t." + std::to_string(i) + "=v" + std::to_string(i) + "&";
    }
    const ParamNode root = tree(text);
    const ParamNode *t = root.find("t");
    REQUIRE(t != nullptr);
    REQUIRE(t->items().size() == 100000);
    bool all = true;
    for (std::size_t i = 0; i < t->items().size(); ++i) {
      all = all && t->items()[i].value() == "v" + std::to_string(i);
    }
    CHECK(all);
  }

  TEST_CASE("multipart boundary from the Content-Type") {
    using cdbemu::http::multipart_boundary;
    CHECK(multipart_boundary("multipart/form-data; boundary=abc") == "abc");
    CHECK(multipart_boundary("Multipart/Form-Data;boundary=\"a b;c\"") == "a b;c");
    CHECK(multipart_boundary("multipart/form-data ; charset=UTF-8 ;  BOUNDARY = \"q\\\"x\" ") ==
          "q\"x");
    CHECK(multipart_boundary("multipart/form-data; boundary=" + std::string(70, 'b')) ==
          std::string(70, 'b'));
    CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'b')));
    CHECK_FALSE(multipart_boundary("multipart/form-data; boundary="));
    CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=\"abc"));
    CHECK_FALSE(multipart_boundary("multipart/form-data"));
    CHECK_FALSE(multipart_boundary("multipart/mixed; boundary=abc"));
    CHECK_FALSE(multipart_boundary("application/x-www-form-urlencoded"));
    CHECK_FALSE(multipart_boundary(""));
  }

  TEST_CASE("multipart with CRLF endings and a preamble and an epilogue") {
    const std::string body =
        "preamble\r\n--XyZ\r\n"
        "Content-Disposition: form-data; name=\"Action\"\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
        "GetCdbDataSyncTaskList\r\n"
        "--XyZ  \r\n"
        "content-disposition: Form-Data; name=jobName\r\n\r\n"
        "line1\r\nline2\r\n--XyZnot a delimiter\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"q\\\"d\"\r\n\r\n"
        "\r\n"
        "--XyZ--\r\nepilogue --XyZ";
    const RawParams params = multipart(body);
    REQUIRE(params.size() == 3);
    CHECK(params[0].name == "Action");
    CHECK(params[0].value == "GetCdbDataSyncTaskList");
    CHECK(params[1].name == "jobName");
    CHECK(params[1].value == "line1\r\nline2\r\n--XyZnot a delimiter");
    CHECK(params[2].name == "q\"d");
    CHECK(params[2].value.empty());
  }

  TEST_CASE("multipart with LF endings and no CRLF after the close") {
    const RawParams params = multipart(
        "--XyZ\nContent-Disposition: form-data; name=\"a\"\n\n1\n--XyZ\n"
        "Content-Disposition: form-data; name=\"b\"\n\n\n--XyZ--");
    REQUIRE(params.size() == 2);
    CHECK(params[0].value == "1");
    CHECK(params[1].value.empty());
  }

  TEST_CASE("multipart empty value without its CRLF") {
    const RawParams params =
        multipart("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n--XyZ--\r\n");
    REQUIRE(params.size() == 1);
    CHECK(params[0].value.empty());
  }

  TEST_CASE("multipart with a quoted boundary from the header") {
    const auto boundary =
        cdbemu::http::multipart_boundary("multipart/form-data; boundary=\"b:=?'()+_,-./ x\"");
    REQUIRE(boundary);
    const std::string body = "--" + *boundary +
                             "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--" +
                             *boundary + "--\r\n";
    const RawParams params = multipart(body, *boundary);
    REQUIRE(params.size() == 1);
    CHECK(params[0].value == "v");
  }

  TEST_CASE("multipart with two thousand parts") {
    std::string body;
    for (int i = 0; i < 2000; ++i) {
      body += "--XyZ\r\nContent-Disposition: form-data; name=\"srcInfo.0.dbInfo.0.table." +
              std::to_string(i) + "\"\r\n\r\nt" + std::to_string(i) + "\r\n";
    }
    body += "--XyZ--\r\n";
    const RawParams params = multipart(body);
    REQUIRE(params.size() == 2000);
    bool values = true;
    for (std::size_t i = 0; i < params.size(); ++i) {
      values = values && params[i].name == "srcInfo.0.dbInfo.0.table." + std::to_string(i) &&
               params[i].value == "t" + std::to_string(i);
    }
    CHECK(values);
    const ParamNode root = ParamNode::build(params, DecodeLimits{});
    const ParamNode *table = &root.find("srcInfo")->items()[0].find("dbInfo")->items()[0];
    REQUIRE(table->find("table") != nullptr);
    const auto &items = table->find("table")->items();
    REQUIRE(items.size() == 2000);
    bool tree_values = true;
    for (std::size_t i = 0; i < items.size(); ++i) {
      std::string expected = "t";
      expected += std::to_string(i);
      tree_values = tree_values && items[i].value() == expected;
    }
    CHECK(tree_values);
  }

  TEST_CASE("multipart file parts join the tree and must be text like any value") {
    const std::string text = "\xE6\xB5\x8B\r\nraw";
    const RawParams params = multipart(
        "--XyZ\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.txt\"\r\n"
        "Content-Type: text/plain\r\n\r\n" + text + "\r\n--XyZ--\r\n");
    REQUIRE(params.size() == 1);
    CHECK(params[0].from_file_part);
    CHECK(params[0].value == text);
    CHECK(ParamNode::build(params, DecodeLimits{}).find("upload")->value() == text);
    const std::string binary("a\x00" "b\xFF", 4);
    CHECK(multipart_error("--XyZ\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.bin\"\r\n\r\n" +
                          binary + "\r\n--XyZ--\r\n") ==
          R"(invalid parameter: parameter "upload": value contains a NUL byte at offset 1)");
  }

  TEST_CASE("malformed multipart bodies") {
    const std::string head = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n";
    CHECK(multipart_error("a=1&b=2") ==
          R"(invalid parameter: multipart body: no opening boundary line "--XyZ")");
    CHECK(multipart_error(" --XyZ\r\n") ==
          R"(invalid parameter: multipart body: no opening boundary line "--XyZ")");
    CHECK(multipart_error(head + "1\r\n") ==
          R"(invalid parameter: multipart body: part 1 is not closed by a "--XyZ" line (truncated body or missing final boundary))");
    CHECK(multipart_error(head + "1\r\n--XyZ") ==
          R"(invalid parameter: multipart body: part 1 is not closed by a "--XyZ" line (truncated body or missing final boundary))");
    CHECK(multipart_error(head + "1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"b\"\r\n") ==
          R"(invalid parameter: multipart body: part 2 is not closed by a "--XyZ" line (truncated body or missing final boundary))");
    CHECK(multipart_error(head + "1\r\n--XyZ\r\n") ==
          R"(invalid parameter: multipart body: part 2 is not closed by a "--XyZ" line (truncated body or missing final boundary))");
    CHECK(multipart_error(one_part("Content-Disposition: form-data; filename=\"f\"")) ==
          R"(invalid parameter: multipart body: part 1 has no name in its Content-Disposition header)");
    CHECK(multipart_error(one_part("Content-Type: text/plain")) ==
          R"(invalid parameter: multipart body: part 1 has no Content-Disposition header)");
    CHECK(multipart_error("--XyZ\r\n\r\nx\r\n--XyZ--") ==
          R"(invalid parameter: multipart body: part 1 has no Content-Disposition header)");
    CHECK(multipart_error(one_part("Content-Disposition: attachment; name=\"a\"")) ==
          R"(invalid parameter: multipart body: part 1 is not form-data (Content-Disposition "attachment"))");
    CHECK(multipart_error(one_part("Content-Disposition: form-data; name=\"a")) ==
          R"(invalid parameter: multipart body: part 1 has a malformed Content-Disposition header)");
    CHECK(multipart_error(one_part("Content-Disposition form-data")) ==
          R"(invalid parameter: multipart body: part 1 has a header line without ":")");
    CHECK(multipart_error(one_part("Content-Disposition: form-data; name=a\r\n"
                                   "Content-Disposition: form-data; name=b")) ==
          R"(invalid parameter: multipart body: part 1 has two Content-Disposition headers)");
    CHECK(multipart_error("--XyZ\r\nContent-Disposition: form-data; name=a\r\n--XyZ--\r\n") ==
          R"(invalid parameter: multipart body: part 1 has no blank line after its headers)");
    CHECK(multipart_error(one_part("X-Long: " + std::string(20000, 'h'))) ==
          R"(invalid parameter: multipart body: part 1 has headers longer than 16384 bytes)");
    CHECK(multipart_error("--XyZ\r\nX-Long: " + std::string(20000, 'h')) ==
          R"(invalid parameter: multipart body: part 1 has headers longer than 16384 bytes)");
    CHECK(multipart_error("--\r\n", "") ==
          R"(invalid parameter: multipart body: invalid boundary "")");
  }

  TEST_CASE("multipart names and values follow the urlencoded rules") {
    const auto part = [](std::string_view disposition, std::string_view value) {
      return one_part("Content-Disposition: form-data; " + std::string(disposition), value);
    };
    CHECK(multipart_error(part("name=\"\"", "x")) ==
          "invalid parameter: a parameter has an empty name");
    CHECK(multipart_error(part("name=\"a\"", "x\xC0\xAF")) ==
          R"(invalid parameter: parameter "a": value is not valid UTF-8 (overlong encoding at offset 1))");
    CHECK(multipart_error(part("name=\"a\"", std::string_view("x\0", 2))) ==
          R"(invalid parameter: parameter "a": value contains a NUL byte at offset 1)");
    CHECK(multipart_error(part("name=\"a\xED\xA0\x80\"; filename=\"f\"", "x")) ==
          R"(invalid parameter: parameter "a\xED\xA0\x80": name is not valid UTF-8 (UTF-16 surrogate at offset 1))");
    RawParams out;
    DecodeLimits limits;
    limits.max_value_bytes = 2;
    const std::string long_value = part("name=\"a\"", "xyz");
    CHECK(error_of([&] { cdbemu::http::decode_multipart(long_value, "XyZ", limits, out); }) ==
          R"(invalid parameter: parameter "a": value is 3 bytes, above the limit of 2)");
    limits = DecodeLimits{};
    limits.max_params = 1;
    const std::string two = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
                            "--XyZ\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n--XyZ--";
    out.clear();
    CHECK(error_of([&] { cdbemu::http::decode_multipart(two, "XyZ", limits, out); }) ==
          "invalid parameter: more than 1 parameters");
    CHECK(out.size() == 1);
  }

  TEST_CASE("sniffing bodies by content first") {
    using enum BodyKind;
    const std::string multipart_body =
        "--abc123\r\nContent-Disposition: form-data; name=\"Action\"\r\n\r\nX\r\n--abc123--\r\n";
    CHECK(sniff("", "application/x-www-form-urlencoded") == std::pair{Empty, std::string()});
    CHECK(sniff(" \r\n\t", "multipart/form-data; boundary=x") == std::pair{Empty, std::string()});
    CHECK(sniff("Action=X&Nonce=1", "application/json") == std::pair{UrlEncoded, std::string()});
    CHECK(sniff("Action=X", "") == std::pair{UrlEncoded, std::string()});
    CHECK(sniff(multipart_body, "multipart/form-data; boundary=abc123") ==
          std::pair{Multipart, std::string("abc123")});
    CHECK(sniff(multipart_body, "application/x-www-form-urlencoded") ==
          std::pair{Multipart, std::string("abc123")});
    CHECK(sniff(multipart_body, "multipart/form-data; boundary=other") ==
          std::pair{Multipart, std::string("abc123")});
    CHECK(sniff(multipart_body, "") == std::pair{Multipart, std::string("abc123")});
    CHECK(sniff("--abc\nname=x", "") == std::pair{UrlEncoded, std::string()});
    CHECK(sniff("  {\"Action\":\"X\"}", "application/x-www-form-urlencoded") ==
          std::pair{Json, std::string()});
    CHECK(sniff("[1]", "application/json") == std::pair{Json, std::string()});
  }
}
