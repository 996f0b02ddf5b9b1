// The hostile request corpus: every tests/hostile/*.case file (format: tests/hostile/README.md)
// is sent on its own connection to one emulator while another client keeps sending valid signed
// requests. Each case's answer is checked exactly; afterwards the emulator still serves, its state
// is what it was before the corpus, and it exits cleanly (under ASan: without leaks).

#include <brotli/encode.h>
#include <doctest/doctest.h>
#include <signal.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "support.hpp"

using namespace cdbemu;
using namespace cdbemu::test;
using Json = nlohmann::json;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char *kCorpusDir = CDB_EMU_SOURCE_DIR "/tests/hostile";

/// How the emulator under attack runs (tests/hostile/README.md relies on these).
const std::vector<std::string> kEmulatorArgs = {"--port",         "0",
                                                "--db",           ":memory:",
                                                "--auth",         "off",
                                                "--clock",        "manual",
                                                "--clock-start",  "2017-02-23 15:04:10",
                                                "--read-timeout", "2",
                                                "--log-format",   "json"};

/// The values of ${list} and ${create}; with --auth off the placeholder credentials pass.
const std::string kCommon = "Region=gz&Timestamp=1700000000&Nonce=1&SecretId=x&Signature=x";
const std::string kList = "Action=GetCdbDataSyncTaskList&" + kCommon;
const std::string kCreate = "Action=CreateCdbDataSyncTask&" + kCommon +
                            "&jobName=hostile&srcInfo.0.cdbUInstanceId=cdb-c1nl9rpv"
                            "&dstInfo.0.cdbUInstanceId=cdb-d2sagyed&dstInfo.0.regionId=sh";

const std::set<std::string> kCategories = {
    "request-line", "headers", "content-length", "chunked",   "compression", "body-limit", "params", "index",
    "nesting",      "nul",     "utf8",           "multipart", "method",      "control",    "slow"};

struct CaseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --- byte expressions ----------------------------------------------------------------------------

/// One piece of a byte expression.
struct Node {
  enum class Kind { Bytes, Variable, Length, HexLength, Index, Generator, Block } kind = Kind::Bytes;
  std::string text;          ///< the bytes, a variable's name, or a block's or generator's name
  std::uint64_t number = 0;  ///< a block's or generator's argument
  std::vector<Node> children;
};

const std::set<std::string> kBlocks = {"repeat", "gzip", "deflate", "br", "cut", "skip", "chunked"};
const std::set<std::string> kNumbered = {"repeat", "cut", "skip", "chunked", "gzip-zeros"};

std::uint64_t parse_number(const std::string &text, const std::string &what) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw CaseError(what + " needs a number, not \"" + text + "\"");
  }
  return std::stoull(text);
}

/// Parses `text` from `pos` up to the end, or (in a block) up to its ${end}.
std::vector<Node> parse_expression(std::string_view text, std::size_t &pos, bool in_block) {
  std::vector<Node> nodes;
  const auto literal = [&]() -> std::string & {
    if (nodes.empty() || nodes.back().kind != Node::Kind::Bytes) nodes.push_back({});
    return nodes.back().text;
  };
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '\\') {
      if (pos + 1 >= text.size()) throw CaseError("a line ends in a lone backslash");
      const char e = text[pos + 1];
      pos += 2;
      switch (e) {
        case 'r':
          literal() += '\r';
          break;
        case 'n':
          literal() += '\n';
          break;
        case 't':
          literal() += '\t';
          break;
        case '0':
          literal() += '\0';
          break;
        case '\\':
          literal() += '\\';
          break;
        case '$':
          literal() += '$';
          break;
        case 'x': {
          const std::string hex(text.substr(pos, 2));
          if (hex.size() != 2 || !std::isxdigit(static_cast<unsigned char>(hex[0])) ||
              !std::isxdigit(static_cast<unsigned char>(hex[1]))) {
            throw CaseError("\\x needs two hex digits");
          }
          literal() += static_cast<char>(std::stoi(hex, nullptr, 16));
          pos += 2;
          break;
        }
        default:
          throw CaseError(std::string("unknown escape \\") + e);
      }
      continue;
    }
    if (c != '$' || text.substr(pos, 2) != "${") {
      literal() += c;
      ++pos;
      continue;
    }
    const std::size_t close = text.find('}', pos);
    if (close == std::string_view::npos) throw CaseError("\"${\" without \"}\"");
    const std::string directive(text.substr(pos + 2, close - pos - 2));
    pos = close + 1;
    const std::size_t space = directive.find(' ');
    const std::string op = directive.substr(0, space);
    const std::string arg = space == std::string::npos ? "" : directive.substr(space + 1);
    Node node;
    if (op == "end") {
      if (!in_block) throw CaseError("${end} without a block to end");
      return nodes;
    }
    if (op == "i") {
      node.kind = Node::Kind::Index;
    } else if (op == "len" || op == "hexlen") {
      node.kind = op == "len" ? Node::Kind::Length : Node::Kind::HexLength;
      node.text = arg;
    } else if (kBlocks.count(op) || op == "gzip-zeros") {
      node.kind = op == "gzip-zeros" ? Node::Kind::Generator : Node::Kind::Block;
      node.text = op;
      if (kNumbered.count(op)) {
        node.number = parse_number(arg, "${" + op + "}");
      } else if (!arg.empty()) {
        throw CaseError("${" + op + "} takes no argument");
      }
      if (node.kind == Node::Kind::Block) node.children = parse_expression(text, pos, true);
    } else {
      if (!arg.empty()) throw CaseError("unknown directive ${" + directive + "}");
      node.kind = Node::Kind::Variable;
      node.text = op;
    }
    nodes.push_back(std::move(node));
  }
  if (in_block) throw CaseError("a block is not closed by ${end} on the same line");
  return nodes;
}

/// zlib's deflate of `in`: window_bits 31 is gzip, 15 the zlib format, -15 raw deflate.
std::string deflate_bytes(const std::string &in, int window_bits, int flush = Z_FINISH) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    throw CaseError("deflateInit2");
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef *>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int ret = deflate(&z, flush);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  if (ret != (flush == Z_FINISH ? Z_STREAM_END : Z_OK)) throw CaseError("deflate failed");
  return out;
}

/// A gzip stream of `size` zero bytes, without compressing them all: one MiB is compressed and
/// ended by a full flush (which byte-aligns the output and forgets the history), so that block
/// repeated N times is N MiB of zeros; a final empty block and the gzip trailer close it.
std::string gzip_zeros(std::uint64_t size) {
  constexpr std::uint64_t kBlock = 1 << 20;
  if (size == 0 || size % kBlock != 0) throw CaseError("${gzip-zeros} takes a multiple of 1048576");
  const std::string zeros(kBlock, '\0');
  const std::string block = deflate_bytes(zeros, -15, Z_FULL_FLUSH);
  const std::string last = deflate_bytes("", -15);
  const uLong block_crc = crc32(0, reinterpret_cast<const Bytef *>(zeros.data()), kBlock);
  uLong crc = crc32(0, nullptr, 0);
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff", 10);
  out.reserve(out.size() + block.size() * (size / kBlock) + 16);
  for (std::uint64_t i = 0; i < size / kBlock; ++i) {
    out += block;
    crc = crc32_combine(crc, block_crc, kBlock);
  }
  out += last;
  for (const std::uint32_t word : {static_cast<std::uint32_t>(crc), static_cast<std::uint32_t>(size)}) {
    for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>((word >> shift) & 0xFF);
  }
  return out;
}

std::string brotli_bytes(const std::string &in) {
  std::string out(BrotliEncoderMaxCompressedSize(in.size()) + 64, '\0');
  std::size_t size = out.size();
  if (!BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, in.size(),
                             reinterpret_cast<const std::uint8_t *>(in.data()), &size,
                             reinterpret_cast<std::uint8_t *>(out.data()))) {
    throw CaseError("brotli compression failed");
  }
  out.resize(size);
  return out;
}

std::string chunk_bytes(const std::string &in, std::uint64_t size) {
  if (size == 0) throw CaseError("${chunked 0}");
  std::string out;
  char line[32];
  for (std::size_t at = 0; at < in.size(); at += size) {
    const std::size_t n = std::min<std::size_t>(size, in.size() - at);
    std::snprintf(line, sizeof(line), "%zx\r\n", n);
    out += line;
    out.append(in, at, n);
    out += "\r\n";
  }
  return out + "0\r\n\r\n";
}

struct Evaluation {
  const std::map<std::string, std::string> &variables;
  std::vector<std::uint64_t> indices;

  const std::string &variable(const std::string &name) const {
    const auto it = variables.find(name);
    if (it == variables.end()) throw CaseError("unknown variable ${" + name + "}");
    return it->second;
  }

  void run(const std::vector<Node> &nodes, std::string &out) {
    for (const Node &node : nodes) {
      switch (node.kind) {
        case Node::Kind::Bytes:
          out += node.text;
          break;
        case Node::Kind::Variable:
          out += variable(node.text);
          break;
        case Node::Kind::Length:
          out += std::to_string(variable(node.text).size());
          break;
        case Node::Kind::HexLength: {
          char hex[32];
          std::snprintf(hex, sizeof(hex), "%zx", variable(node.text).size());
          out += hex;
          break;
        }
        case Node::Kind::Index:
          if (indices.empty()) throw CaseError("${i} outside ${repeat}");
          out += std::to_string(indices.back());
          break;
        case Node::Kind::Generator:
          out += gzip_zeros(node.number);
          break;
        case Node::Kind::Block:
          block(node, out);
          break;
      }
    }
  }

  void block(const Node &node, std::string &out) {
    if (node.text == "repeat") {
      indices.push_back(0);
      for (std::uint64_t i = 0; i < node.number; ++i) {
        indices.back() = i;
        run(node.children, out);
      }
      indices.pop_back();
      return;
    }
    std::string inner;
    run(node.children, inner);
    if (node.text == "gzip") {
      out += deflate_bytes(inner, 31);
    } else if (node.text == "deflate") {
      out += deflate_bytes(inner, 15);
    } else if (node.text == "br") {
      out += brotli_bytes(inner);
    } else if (node.text == "cut") {
      if (node.number > inner.size()) throw CaseError("${cut} longer than what it cuts");
      out.append(inner, 0, inner.size() - node.number);
    } else if (node.text == "skip") {
      if (node.number > inner.size()) throw CaseError("${skip} longer than what it skips");
      out.append(inner, node.number);
    } else if (node.text == "chunked") {
      out += chunk_bytes(inner, node.number);
    }
  }
};

std::string expand(std::string_view text, const std::map<std::string, std::string> &variables) {
  std::size_t pos = 0;
  const std::vector<Node> nodes = parse_expression(text, pos, false);
  Evaluation evaluation{variables, {}};
  std::string out;
  evaluation.run(nodes, out);
  return out;
}

// --- case files ----------------------------------------------------------------------------------

/// What one answer must be.
struct Expected {
  int status = 200;
  std::optional<Json> code;
  std::optional<std::string> code_desc;
  std::optional<std::string> message;
  std::optional<std::string> body;
  std::vector<std::string> body_contains;
  std::vector<std::string> headers;
};

struct Step {
  enum class Kind { Send, Wait, Shutdown, Answer, NoAnswer };
  explicit Step(Kind k) : kind(k) {}
  Kind kind;
  std::string bytes;
  int wait_ms = 0;
  Expected expected;
};

struct Case {
  std::string name;
  std::string category;
  std::string about;
  std::string skip;
  std::string after;  ///< "closed" or "usable"; empty after a no-answer
  int timeout_ms = 3000;
  std::vector<Step> steps;
};

Case parse_case(const fs::path &path) {
  Case out;
  out.name = path.filename().string();
  std::ifstream in(path, std::ios::binary);
  std::map<std::string, std::string> variables = {{"list", kList}, {"create", kCreate}};
  std::string line;
  int number = 0;
  try {
    while (std::getline(in, line)) {
      ++number;
      if (line.empty() || line[0] == '#') continue;
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) throw CaseError("a line without \"key:\"");
      const std::string key = line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      Expected *answer = !out.steps.empty() && out.steps.back().kind == Step::Kind::Answer
                             ? &out.steps.back().expected
                             : nullptr;
      const auto need_answer = [&] {
        if (!answer) throw CaseError(key + " before expect-status");
        return answer;
      };
      if (key == "about") {
        out.about += (out.about.empty() ? "" : " ") + value;
      } else if (key == "category") {
        if (!kCategories.count(value)) throw CaseError("unknown category " + value);
        out.category = value;
      } else if (key == "skip") {
        out.skip = value;
      } else if (key == "timeout") {
        out.timeout_ms = static_cast<int>(parse_number(value, "timeout"));
      } else if (key.rfind("set ", 0) == 0) {
        const std::string name = key.substr(4);
        if (name == "list" || name == "create" || name == "i")
          throw CaseError("set cannot replace ${" + name + "}");
        variables[name] += expand(value, variables);
      } else if (key == "send") {
        if (out.steps.empty() || out.steps.back().kind != Step::Kind::Send)
          out.steps.emplace_back(Step::Kind::Send);
        out.steps.back().bytes += expand(value, variables);
      } else if (key == "wait") {
        out.steps.emplace_back(Step::Kind::Wait);
        out.steps.back().wait_ms = static_cast<int>(parse_number(value, "wait"));
      } else if (key == "shutdown") {
        out.steps.emplace_back(Step::Kind::Shutdown);
      } else if (key == "expect") {
        if (value != "no-answer")
          throw CaseError("expect takes no-answer (answers start with expect-status)");
        out.steps.emplace_back(Step::Kind::NoAnswer);
      } else if (key == "expect-status") {
        out.steps.emplace_back(Step::Kind::Answer);
        out.steps.back().expected.status = static_cast<int>(parse_number(value, "expect-status"));
      } else if (key == "expect-code") {
        need_answer()->code = Json(static_cast<std::int64_t>(parse_number(value, "expect-code")));
      } else if (key == "expect-codeDesc") {
        need_answer()->code_desc = value;
      } else if (key == "expect-message") {
        need_answer()->message = value;
      } else if (key == "expect-body") {
        need_answer()->body = value;
      } else if (key == "expect-body-contains") {
        need_answer()->body_contains.push_back(value);
      } else if (key == "expect-header") {
        need_answer()->headers.push_back(value);
      } else if (key == "after") {
        if (value != "closed" && value != "usable") throw CaseError("after takes closed or usable");
        out.after = value;
      } else {
        throw CaseError("unknown key \"" + key + "\"");
      }
    }
    if (out.category.empty() || out.about.empty()) throw CaseError("category and about are required");
    const auto answers = std::count_if(out.steps.begin(), out.steps.end(), [](const Step &s) {
      return s.kind == Step::Kind::Answer || s.kind == Step::Kind::NoAnswer;
    });
    if (answers == 0) throw CaseError("no expect-status or expect: no-answer");
    const bool silent_end = out.steps.back().kind == Step::Kind::NoAnswer;
    if (silent_end != out.after.empty()) throw CaseError("after is required, except after expect: no-answer");
    for (const Step &step : out.steps) {
      if (step.kind == Step::Kind::Answer && !step.expected.body && !step.expected.code) {
        throw CaseError("an answer needs expect-code (envelopes) or expect-body");
      }
      if (step.kind == Step::Kind::Answer && step.expected.code &&
          (!step.expected.code_desc || !step.expected.message)) {
        throw CaseError("an envelope answer states expect-code, expect-codeDesc and expect-message");
      }
    }
  } catch (const CaseError &e) {
    throw CaseError(out.name + ":" + std::to_string(number) + ": " + e.what());
  }
  return out;
}

std::vector<Case> load_corpus() {
  std::vector<fs::path> files;
  for (const auto &entry : fs::directory_iterator(kCorpusDir)) {
    if (entry.path().extension() == ".case") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<Case> cases;
  for (const auto &file : files) cases.push_back(parse_case(file));
  return cases;
}

// --- running a case ------------------------------------------------------------------------------

struct Reply {
  int status = 0;
  std::string head;  ///< status line and headers, each line ending in CRLF
  std::string body;
};

/// Takes one whole final response off the front of `buffer`; interim 1xx responses are dropped.
std::optional<Reply> take_reply(std::string &buffer) {
  for (;;) {
    const std::size_t end = buffer.find("\r\n\r\n");
    if (end == std::string::npos || buffer.compare(0, 9, "HTTP/1.1 ") != 0) return std::nullopt;
    Reply reply;
    reply.status = std::atoi(buffer.c_str() + 9);
    reply.head = buffer.substr(0, end + 2);
    if (reply.status >= 100 && reply.status < 200) {
      buffer.erase(0, end + 4);
      continue;
    }
    const std::size_t at = reply.head.find("\r\nContent-Length: ");
    if (at == std::string::npos) return std::nullopt;
    const std::size_t length = std::stoul(reply.head.substr(at + 18));
    if (buffer.size() < end + 4 + length) return std::nullopt;
    reply.body = buffer.substr(end + 4, length);
    buffer.erase(0, end + 4 + length);
    return reply;
  }
}

std::string shown(const std::string &bytes) {
  std::string out;
  for (const char c : bytes.substr(0, 1500)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n\n";
    } else if (u < 0x20 || u == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02X", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return bytes.size() > 1500 ? out + "...(" + std::to_string(bytes.size()) + " bytes)" : out;
}

/// What is wrong with `reply` as the answer `expected` (empty when nothing).
std::vector<std::string> compare(const Reply &reply, const Expected &expected) {
  std::vector<std::string> problems;
  if (reply.status != expected.status) {
    problems.push_back("HTTP status " + std::to_string(reply.status) + ", expected " +
                       std::to_string(expected.status));
  }
  for (const auto &header : expected.headers) {
    if (reply.head.find("\r\n" + header + "\r\n") == std::string::npos)
      problems.push_back("no header \"" + header + "\"");
  }
  if (expected.body && reply.body != *expected.body) problems.push_back("body differs from expect-body");
  for (const auto &part : expected.body_contains) {
    if (reply.body.find(part) == std::string::npos) problems.push_back("body lacks \"" + part + "\"");
  }
  if (expected.code) {
    const Json body = Json::parse(reply.body, nullptr, false);
    if (!body.is_object()) {
      problems.push_back("the body is no JSON object");
    } else {
      if (body.value("code", Json()) != *expected.code)
        problems.push_back("code " + body.value("code", Json()).dump());
      if (body.value("codeDesc", Json()) != *expected.code_desc) {
        problems.push_back("codeDesc " + body.value("codeDesc", Json()).dump());
      }
      if (body.value("message", Json()) != *expected.message) {
        problems.push_back(
            "message " + body.value("message", Json()).dump(-1, ' ', false, Json::error_handler_t::replace));
      }
      const bool success = *expected.code == 0;
      if (success != body.contains("data")) problems.push_back(success ? "no data" : "an error with data");
    }
  }
  if (!problems.empty()) problems.push_back("the answer was:\n" + shown(reply.head + "\r\n" + reply.body));
  return problems;
}

/// Runs `c` on a new connection; returns what went wrong (empty when the case passed).
std::vector<std::string> run_case(const Case &c, int port) {
  std::vector<std::string> problems;
  RawConnection connection(port);
  const milliseconds timeout(c.timeout_ms);
  std::string buffer;
  bool sending = true;
  int answer = 0;
  for (const Step &step : c.steps) {
    switch (step.kind) {
      case Step::Kind::Send:
        // The server may refuse and close before reading everything: that is not a failure.
        if (sending) sending = connection.send(step.bytes);
        break;
      case Step::Kind::Wait:
        std::this_thread::sleep_for(milliseconds(step.wait_ms));
        break;
      case Step::Kind::Shutdown:
        connection.shutdown_write();
        break;
      case Step::Kind::Answer: {
        ++answer;
        const auto deadline = Clock::now() + timeout;
        std::optional<Reply> reply = take_reply(buffer);
        while (!reply && Clock::now() < deadline) {
          const std::string more =
              connection.read_reply(std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
          if (more.empty()) break;  // closed, or nothing more within the timeout
          buffer += more;
          reply = take_reply(buffer);
        }
        if (!reply) {
          problems.push_back("answer " + std::to_string(answer) + ": none came (received: " + shown(buffer) +
                             ")");
          return problems;
        }
        for (auto &problem : compare(*reply, step.expected)) {
          problems.push_back("answer " + std::to_string(answer) + ": " + problem);
        }
        break;
      }
      case Step::Kind::NoAnswer: {
        buffer += connection.read_reply(timeout);
        if (!buffer.empty()) problems.push_back("expected no answer, received: " + shown(buffer));
        if (!connection.closed_by_server(milliseconds(100)))
          problems.push_back("the connection is still open");
        return problems;
      }
    }
  }
  if (c.after == "closed") {
    // An answer that said "Connection: close" ends the connection; nothing more may come.
    buffer += connection.read_reply(timeout);
    if (!buffer.empty()) problems.push_back("more after the last answer: " + shown(buffer));
    if (!connection.closed_by_server(milliseconds(100))) problems.push_back("the connection is still open");
  } else {
    if (!buffer.empty()) problems.push_back("more after the last answer: " + shown(buffer));
    // The connection is in step: a plain request on it is answered normally.
    if (!connection.send("GET /v2/index.php?" + kList + " HTTP/1.1\r\nHost: x\r\n\r\n")) {
      problems.push_back("the connection was closed, expected it usable");
      return problems;
    }
    std::string next = connection.read_reply(timeout);
    const std::optional<Reply> reply = take_reply(next);
    if (!reply) {
      problems.push_back("a plain List on the same connection got no answer: " + shown(next));
    } else if (Json::parse(reply->body, nullptr, false).value("code", Json()) != 0) {
      problems.push_back("a plain List on the same connection failed: " + shown(reply->body));
    }
  }
  return problems;
}

// --- the emulator and the client beside the corpus ----------------------------------------------

httplib::Client client_for(int port) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(5);
  cli.set_read_timeout(10);
  cli.set_url_encode(false);
  return cli;
}

Json signed_get(int port, Params params) {
  auto cli = client_for(port);
  auto res = cli.Get("/v2/index.php?" +
                     encode_query(sign(std::move(params), "GET", "127.0.0.1:" + std::to_string(port))));
  if (!res || res->status != 200) throw std::runtime_error("a signed request failed");
  return Json::parse(res->body);
}

Json control_get(int port, const std::string &path) {
  auto cli = client_for(port);
  auto res = cli.Get(path);
  if (!res || res->status != 200) throw std::runtime_error("GET " + path + " failed");
  return Json::parse(res->body);
}

Params seed_task(const std::string &job_name) {
  Params params = common_params("CreateCdbDataSyncTask");
  for (auto &p : seed_create_params())
    params.push_back(p.first == "jobName" ? std::pair{p.first, job_name} : p);
  return params;
}

/// The end of a long log.
std::string tail(const std::string &log) {
  return log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
}

/// A well-behaved client polling List while the corpus runs: every answer must be a success.
class SteadyClient {
 public:
  explicit SteadyClient(int port) : port_(port), thread_([this] { loop(); }) {}
  ~SteadyClient() { finish(); }

  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int served() const { return served_; }
  long slowest_ms() const { return slowest_ms_; }
  std::vector<std::string> failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
  }

 private:
  void loop() {
    httplib::Client cli = client_for(port_);
    cli.set_keep_alive(true);
    const std::string host = "127.0.0.1:" + std::to_string(port_);
    while (!stop_) {
      const auto start = Clock::now();
      auto res = cli.Get("/v2/index.php?" +
                         encode_query(sign(common_params("GetCdbDataSyncTaskList"), "GET", host)));
      slowest_ms_ =
          std::max<long>(slowest_ms_, std::chrono::duration_cast<milliseconds>(Clock::now() - start).count());
      std::string failure;
      if (!res) {
        failure = "no answer: " + httplib::to_string(res.error());
      } else {
        const Json body = Json::parse(res->body, nullptr, false);
        if (res->status != 200 || !body.is_object() || body.value("code", Json()) != 0 ||
            body["data"].value("totalCount", -1) != 2) {
          failure = "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300);
        }
      }
      if (failure.empty()) {
        ++served_;
      } else {
        std::lock_guard lock(mutex_);
        failures_.push_back(failure);
      }
      std::this_thread::sleep_for(milliseconds(2));
    }
  }

  int port_;
  std::atomic<bool> stop_{false};
  std::atomic<int> served_{0};
  std::atomic<long> slowest_ms_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> failures_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("hostile request corpus: no case crashes the server or changes state or starves other clients") {
  const auto started = Clock::now();
  const std::vector<Case> cases = load_corpus();
  REQUIRE(cases.size() >= 60);

  ChildEmulator emu(kEmulatorArgs);
  REQUIRE_MESSAGE(emu.ready(), emu.stderr_text());
  const int port = emu.port();

  // Some state the corpus must leave alone: two tasks, one of them verifying.
  REQUIRE(signed_get(port, seed_task("seed-one"))["data"]["jobId"] == 1);
  REQUIRE(signed_get(port, seed_task("seed-two"))["data"]["jobId"] == 2);
  Params check = common_params("CheckCdbDataSyncTask");
  check.push_back({"jobId", "2"});
  REQUIRE(signed_get(port, check)["code"] == 0);
  const Json before = control_get(port, "/_emulator/state");
  REQUIRE(before["tasks"].size() == 2);

  Json state = before;
  SteadyClient steady(port);
  std::map<std::string, std::pair<int, int>> per_category;  // run, skipped
  std::vector<std::pair<long, std::string>> durations;
  for (const Case &c : cases) {
    if (!c.skip.empty()) {
      ++per_category[c.category].second;
      MESSAGE("skipped " << c.name << ": " << c.skip);
      continue;
    }
    ++per_category[c.category].first;
    const auto case_start = Clock::now();
    std::vector<std::string> problems;
    try {
      problems = run_case(c, port);
    } catch (const std::exception &e) {
      problems.push_back(std::string("the runner failed: ") + e.what());
    }
    durations.emplace_back(std::chrono::duration_cast<milliseconds>(Clock::now() - case_start).count(),
                           c.name);
    // A crash shows at once, named after the case that caused it (an abort takes a moment).
    REQUIRE_MESSAGE(emu.wait_exit(milliseconds(problems.empty() ? 0 : 300)) < 0,
                    "the emulator died after tests/hostile/" << c.name << ":\n"
                                                             << tail(emu.stderr_text()));
    // So does a change of state.
    if (const Json now = control_get(port, "/_emulator/state"); now != state) {
      problems.push_back("the state changed: " + now.dump().substr(0, 2000));
      state = now;
    }
    std::string joined;
    for (const auto &problem : problems) joined += "\n  " + problem;
    CHECK_MESSAGE(problems.empty(), "tests/hostile/" << c.name << " (" << c.about << "):" << joined);
  }
  steady.finish();

  // The other client was served all along.
  CHECK(steady.served() > 0);
  const auto failures = steady.failures();
  CHECK_MESSAGE(failures.empty(), failures.size() << " requests of the steady client failed, first: "
                                                  << (failures.empty() ? "" : failures.front()));
  CHECK_MESSAGE(steady.slowest_ms() < 2000, "the steady client waited " << steady.slowest_ms() << " ms once");

  // Nothing changed: the same tasks, no task created, the id counter where it was.
  CHECK(control_get(port, "/_emulator/state") == before);
  CHECK(control_get(port, "/_emulator/health")["status"] == "ready");
  CHECK(signed_get(port, seed_task("after-the-corpus"))["data"]["jobId"] == 3);

  // It exits cleanly (under ASan, LeakSanitizer reports leaks and the exit code shows them).
  const int status = emu.stop(SIGTERM);
  const std::string log = emu.stderr_text();
  CHECK_MESSAGE(status == 0, "exit status " << status << "\n" << tail(log));
  for (const char *sanitizer : {"AddressSanitizer", "LeakSanitizer", "runtime error:"}) {
    const std::size_t at = log.find(sanitizer);
    CHECK_MESSAGE(at == std::string::npos, log.substr(std::min(at, log.size())));
  }

  std::sort(durations.rbegin(), durations.rend());
  std::ostringstream summary;
  summary << cases.size() << " cases in "
          << std::chrono::duration_cast<milliseconds>(Clock::now() - started).count()
          << " ms; per category (run/skipped):";
  for (const auto &[category, counts] : per_category)
    summary << " " << category << " " << counts.first << "/" << counts.second;
  summary << "; slowest:";
  for (std::size_t i = 0; i < std::min<std::size_t>(3, durations.size()); ++i) {
    summary << " " << durations[i].second << " " << durations[i].first << " ms";
  }
  summary << "; the steady client was served " << steady.served() << " times, slowest " << steady.slowest_ms()
          << " ms";
  MESSAGE(summary.str());
}
