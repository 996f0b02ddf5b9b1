// A load client for scripts/bench: N keep-alive connections, every request signed with the
// default key and a unique nonce, for a fixed duration or count. Prints one JSON object.
//
//   load_client --port P --connections 16 --seconds 5 --scenario create|list|mix|ceiling

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "http/params.hpp"
#include "http/signature.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Params = std::vector<std::pair<std::string, std::string>>;


// Unique across runs too: a run must not replay the nonces of the one before (4500).
std::atomic<std::uint64_t> g_nonce{static_cast<std::uint64_t>(
    std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count())};

/// The signed urlencoded form of `params` for POST to `host`.
std::string signed_body(Params params, const std::string &host) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  params.push_back({"Region", "gz"});
  params.push_back({"Timestamp", std::to_string(now)});
  params.push_back({"Nonce", std::to_string(++g_nonce)});
  params.push_back({"SecretId", "AKIDEMULATORDEFAULTKEY"});
  cdbemu::http::RawParams raw;
  for (const auto &[n, v] : params) raw.push_back({n, v, false});
  const std::string text =
      cdbemu::http::string_to_sign("POST", host, "/v2/index.php", raw, cdbemu::http::SignOrder::SortThenReplace, true);
  params.push_back({"Signature", cdbemu::http::hmac_base64(text, "emulator-default-secret", false)});
  std::string body;
  for (const auto &[n, v] : params) body += (body.empty() ? "" : "&") + cdbemu::http::percent_encode(n) + "=" + cdbemu::http::percent_encode(v);
  return body;
}

Params create_params(std::uint64_t i) {
  return {{"Action", "CreateCdbDataSyncTask"},
          {"jobName", "bench-" + std::to_string(i)},
          {"srcInfo.0.cdbUInstanceId", "cdb-c1nl9rpv"},
          {"srcInfo.0.dbInfo.0.database", "db"},
          {"srcInfo.0.dbInfo.0.table.0", "t0"},
          {"dstInfo.0.cdbUInstanceId", "cdb-d2sagyed"},
          {"dstInfo.0.regionId", "sh"}};
}

Params list_params(std::uint64_t i) {
  Params p = {{"Action", "GetCdbDataSyncTaskList"}, {"limit", "20"}};
  if (i % 2) p.push_back({"status.0", "1"});
  return p;
}

}  // namespace

int main(int argc, char **argv) {
  int port = 0;
  int connections = 16;
  double seconds = 5;
  std::uint64_t count = 0;
  std::string scenario = "create";
  CLI::App app{"cdb-sync-emulator load client"};
  app.add_option("--port", port)->required();
  app.add_option("--connections", connections);
  app.add_option("--seconds", seconds);
  app.add_option("--count", count, "stop after this many requests in all (0: by time)");
  app.add_option("--scenario", scenario)->check(CLI::IsMember({"create", "list", "mix", "ceiling"}));
  CLI11_PARSE(app, argc, argv);

  const std::string host = "127.0.0.1:" + std::to_string(port);
  std::atomic<std::uint64_t> issued{0};
  std::mutex mutex;
  std::vector<double> latencies;
  std::map<std::string, std::uint64_t> outcomes;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const auto started = Clock::now();

  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(30);
      std::vector<double> mine;
      std::map<std::string, std::uint64_t> my_outcomes;
      while (true) {
        const std::uint64_t i = issued.fetch_add(1);
        if (count ? i >= count : Clock::now() >= deadline) break;
        std::string body;
        if (scenario == "create" || scenario == "ceiling") {
          body = signed_body(create_params(i), host);
        } else if (scenario == "list") {
          body = signed_body(list_params(i), host);
        } else {
          // A realistic mix: most calls are list polls, then creates, checks and starts.
          const std::uint64_t kind = i % 10;
          body = signed_body(kind < 6 ? list_params(i) : create_params(i), host);
        }
        const auto t0 = Clock::now();
        auto res = cli.Post("/v2/index.php", body, "application/x-www-form-urlencoded");
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!res) {
          ++my_outcomes["transport:" + httplib::to_string(res.error())];
          continue;
        }
        const auto json = nlohmann::json::parse(res->body, nullptr, false);
        ++my_outcomes[json.is_object() && json.contains("code") ? json["code"].dump() : "http" + std::to_string(res->status)];
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
      for (const auto &[k, v] : my_outcomes) outcomes[k] += v;
    });
  }
  for (auto &t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  std::sort(latencies.begin(), latencies.end());
  const auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * latencies.size()))];
  };
  nlohmann::ordered_json out;
  out["scenario"] = scenario;
  out["connections"] = connections;
  out["requests"] = latencies.size();
  out["seconds"] = elapsed;
  out["rps"] = latencies.size() / elapsed;
  out["p50_ms"] = pct(0.50);
  out["p90_ms"] = pct(0.90);
  out["p99_ms"] = pct(0.99);
  out["max_ms"] = latencies.empty() ? 0.0 : latencies.back();
  out["outcomes"] = outcomes;
  std::cout << out.dump() << std::endl;
  return 0;
}
