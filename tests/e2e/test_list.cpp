// GetCdbDataSyncTaskList over 250 tasks, checked against a model the test keeps itself.
//
// One emulator with a manual clock is filled once (the first test case that needs it pays for
// it): 250 Creates across three regions, four sources, seven destinations and 29 names (so names
// repeat), the clock moved between Creates so submit times vary (with ties, a jump across a day
// and one across months); then some tasks are checked, started, deleted, so that every status
// the emulator can reach without a failing replication (1 2 3 4 5 6 9) is present. The model is
// built only from what the test sent and what Create answered; a task's status in the model is
// computed from when the test called Check and Start and the configured phase durations.
// Every List answer is then compared with the model, row by row.

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "support.hpp"

using namespace cdbemu;
using namespace cdbemu::test;

namespace {

// ---- phase durations the emulator is started with --------------------------------------------
constexpr std::int64_t kVerify = 3;
constexpr std::int64_t kReady = 2;
constexpr std::int64_t kStep = 5;
constexpr std::int64_t kRun = kReady + 6 * kStep;  // from Start to status 9

constexpr const char *kClockStart = "2017-02-23 15:04:10";
constexpr std::int64_t kZone = 8 * 3600;  // +08:00

// ---- wall times in +08:00, computed with libc, not with the emulator's code ------------------
std::int64_t unix_of(const std::string &text) {
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  REQUIRE(std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s) == 6);
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<std::int64_t>(timegm(&tm)) - kZone;
}

std::string beijing(std::int64_t unix_seconds) {
  const auto shifted = static_cast<std::time_t>(unix_seconds + kZone);
  std::tm tm{};
  gmtime_r(&shifted, &tm);
  char out[32];
  std::strftime(out, sizeof(out), "%Y-%m-%d %H:%M:%S", &tm);
  return out;
}

// ---- the fixtures' instances, as documented -----------------------------------------------------
struct InstanceInfo {
  std::string region;  // short name
  int region_id;
  std::string version;
  bool empty;
};

const std::map<std::string, InstanceInfo> &instances() {
  static const std::map<std::string, InstanceInfo> map = {
      {"cdb-c1nl9rpv", {"gz", 1, "5.7", true}}, {"cdb-5u7czxdx", {"gz", 1, "5.7", true}},
      {"cdb-m4st3rsh", {"sh", 4, "5.7", true}}, {"cdb-m4st3rbj", {"bj", 8, "8.0", true}},
      {"cdb-d2sagyed", {"sh", 4, "5.7", true}}, {"cdb-ek0t57qd", {"sh", 4, "5.7", true}},
      {"cdb-drgz0003", {"gz", 1, "5.7", true}}, {"cdb-drhk0001", {"hk", 5, "5.7", true}},
      {"cdb-drfull01", {"sh", 4, "5.7", false}}, {"cdb-drv56001", {"sh", 4, "5.6", true}},
      {"cdb-drbj0002", {"bj", 8, "8.0", true}},
  };
  return map;
}

const std::vector<std::string> kNames = {
    "alpha",  "Alpha", "ALPHA",   "beta",     "gamma",    "delta",     "job 1",     "job 10",
    "job 2",  "job 9", "同步任务", "同步任务-上海", "灾备", "z",        "Z",         "a",
    "aa",     "a b",   "sync+plus&amp=%20", "order_1", "order.2", "myJobName", "nightly", "nightly-2",
    "bravo",  "charlie", "echo", "foxtrot", "golf"};

const std::vector<std::string> kMainDestinations = {"cdb-d2sagyed", "cdb-ek0t57qd", "cdb-drgz0003",
                                                    "cdb-drhk0001", "cdb-drfull01", "cdb-drv56001"};

// ---- the model ------------------------------------------------------------------------------------
struct ModelTask {
  std::int64_t job_id = 0;
  std::string region;  // short name of the source's region
  std::string name;
  std::string src;
  std::string dst;
  std::int64_t submit = 0;
  std::int64_t check_at = -1;  // -1: never checked
  std::int64_t start_at = -1;  // -1: never started
  bool check_fails = false;
  bool deleted = false;

  /// Status at `now` from the times of Check and Start and the phase durations.
  int status(std::int64_t now) const {
    if (start_at >= 0) {
      const std::int64_t d = now - start_at;
      return d < kReady ? 5 : d < kRun ? 6 : 9;
    }
    if (check_at >= 0) return now - check_at < kVerify ? 2 : check_fails ? 3 : 4;
    return 1;
  }
};

/// A List request: each set field is sent; the model interprets them independently.
struct Query {
  std::string region = "gz";
  std::optional<std::string> job_id, job_name, src, dst, from, to, order, seq, offset, limit;
  Params statuses;  ///< (name, value) pairs: status.0=..., status.3=...
};

std::string short_region(const std::string &region) {
  static const std::map<std::string, std::string> longs = {
      {"ap-guangzhou", "gz"}, {"ap-shanghai", "sh"}, {"ap-beijing", "bj"}, {"ap-hongkong", "hk"}};
  const auto it = longs.find(region);
  return it == longs.end() ? region : it->second;
}

Params list_params(const Query &q) {
  Params p = common_params("GetCdbDataSyncTaskList", q.region);
  const auto add = [&p](const char *name, const std::optional<std::string> &value) {
    if (value) p.push_back({name, *value});
  };
  add("jobId", q.job_id);
  add("jobName", q.job_name);
  for (const auto &status : q.statuses) p.push_back(status);
  add("srcUInstanceId", q.src);
  add("dstUInstanceId", q.dst);
  add("submitTimeStart", q.from);
  add("submitTimeEnd", q.to);
  add("order", q.order);
  add("orderSeq", q.seq);
  add("offset", q.offset);
  add("limit", q.limit);
  return p;
}

/// The request without its common parameters, for failure messages.
std::string describe(const Params &params) {
  Params shown;
  for (const auto &p : params) {
    if (p.first == "Region" || (!p.first.empty() && std::islower(static_cast<unsigned char>(p.first[0])))) {
      shown.push_back(p);
    }
  }
  return encode_query(shown);
}

struct Answer {
  std::int64_t total = 0;
  std::vector<const ModelTask *> all;   ///< every match, sorted
  std::vector<const ModelTask *> page;  ///< the requested page of it
};

std::string row(std::int64_t job_id, int status, const std::string &name, const std::string &src,
                const std::string &dst, int src_region, int dst_region, const std::string &submit) {
  return std::to_string(job_id) + " | " + std::to_string(status) + " | " + name + " | " + src + " -> " + dst +
         " | " + std::to_string(src_region) + " -> " + std::to_string(dst_region) + " | " + submit + "\n";
}

std::string rows_of(const nlohmann::json &job_list) {
  std::string out;
  for (const auto &job : job_list) {
    const auto &detail = job.at("detail");
    out += row(job.at("jobId").get<std::int64_t>(), job.at("status").get<int>(), detail.at("jobName").get<std::string>(),
               detail.at("srcInfo").at("cdbUInstanceId").get<std::string>(),
               detail.at("dstInfo").at("cdbUInstanceId").get<std::string>(),
               detail.at("srcInfo").at("regionId").get<int>(), detail.at("dstInfo").at("regionId").get<int>(),
               detail.at("submitTime").get<std::string>());
  }
  return out;
}

class World {
 public:
  World() : emu(config()) { build(); }

  LiveEmulator emu;
  std::vector<ModelTask> tasks;
  std::int64_t now = unix_of(kClockStart);

  /// What the model says `q` must answer.
  Answer expect(const Query &q) const {
    const auto given = [](const std::optional<std::string> &v) { return v && !v->empty(); };
    std::optional<std::set<int>> statuses;
    for (const auto &[name, value] : q.statuses) {
      if (value.empty()) continue;
      if (!statuses) statuses.emplace();
      const long long status = std::stoll(value);
      if (status >= 0 && status <= 9) statuses->insert(static_cast<int>(status));
    }
    const std::string region = short_region(q.region);
    Answer out;
    for (const auto &t : tasks) {
      if (t.deleted || t.region != region) continue;
      if (given(q.job_id) && t.job_id != std::stoll(*q.job_id)) continue;
      if (given(q.job_name) && t.name != *q.job_name) continue;
      if (statuses && !statuses->count(t.status(now))) continue;
      if (given(q.src) && t.src != *q.src) continue;
      if (given(q.dst) && t.dst != *q.dst) continue;
      if (given(q.from) && t.submit < unix_of(*q.from)) continue;
      if (given(q.to) && t.submit > unix_of(*q.to)) continue;
      out.all.push_back(&t);
    }
    const std::string order = given(q.order) ? *q.order : "jobId";
    const bool descending = !given(q.seq) || *q.seq == "DESC";
    const auto ascending_less = [&](const ModelTask *a, const ModelTask *b) {
      if (order == "status" && a->status(now) != b->status(now)) return a->status(now) < b->status(now);
      if (order == "jobName" && a->name != b->name) return a->name < b->name;
      if (order == "submitTime" && a->submit != b->submit) return a->submit < b->submit;
      return a->job_id < b->job_id;
    };
    std::sort(out.all.begin(), out.all.end(), [&](const ModelTask *a, const ModelTask *b) {
      return descending ? ascending_less(b, a) : ascending_less(a, b);
    });
    out.total = static_cast<std::int64_t>(out.all.size());
    const std::size_t offset = given(q.offset) ? std::stoul(*q.offset) : 0;
    const std::size_t limit = given(q.limit) ? std::stoul(*q.limit) : 20;
    for (std::size_t i = offset; i < out.all.size() && i < offset + limit; ++i) out.page.push_back(out.all[i]);
    return out;
  }

  std::string rows_of(const std::vector<const ModelTask *> &page) const {
    std::string out;
    for (const auto *t : page) {
      out += row(t->job_id, t->status(now), t->name, t->src, t->dst, instances().at(t->src).region_id,
                 instances().at(t->dst).region_id, beijing(t->submit));
    }
    return out;
  }

  /// The live (not deleted) tasks of a region in the model.
  std::vector<const ModelTask *> live(const std::string &region) const {
    std::vector<const ModelTask *> out;
    for (const auto &t : tasks) {
      if (!t.deleted && t.region == region) out.push_back(&t);
    }
    return out;
  }

 private:
  static Config config() {
    Config cfg = LiveEmulator::default_config();
    cfg.clock = "manual";
    cfg.clock_start = kClockStart;
    cfg.timezone = "+08:00";
    cfg.progression = "time";
    cfg.verify_seconds = kVerify;
    cfg.ready_seconds = kReady;
    cfg.step_seconds = kStep;
    return cfg;
  }

  nlohmann::json clock_state() {
    auto cli = emu.client();
    const auto res = cli.Get("/_emulator/clock");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return nlohmann::json::parse(res->body);
  }

  void advance(std::int64_t seconds) {
    auto cli = emu.client();
    const auto res = cli.Post("/_emulator/clock", "{\"advanceSeconds\":" + std::to_string(seconds) + "}",
                              "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    now += seconds;
    REQUIRE(nlohmann::json::parse(res->body).at("unix").get<std::int64_t>() == now);
  }

  void act(const char *action, const ModelTask &t) {
    Params p = common_params(action, t.region);
    p.push_back({"jobId", std::to_string(t.job_id)});
    INFO(action, " jobId ", t.job_id);
    REQUIRE(emu.get_text(p) == R"({"code":0,"message":"","codeDesc":"Success","data":[]})");
  }
  void check(ModelTask &t) {
    REQUIRE(t.status(now) == 1);
    act("CheckCdbDataSyncTask", t);
    t.check_at = now;
  }
  void start(ModelTask &t) {
    REQUIRE(t.status(now) == 4);
    act("StartCdbDataSyncTask", t);
    t.start_at = now;
  }
  void remove(ModelTask &t) {
    act("DelCdbDataSyncTask", t);
    t.deleted = true;
  }

  ModelTask &first(const std::string &src, const std::string &dst, int status) {
    for (auto &t : tasks) {
      if (!t.deleted && t.src == src && t.dst == dst && t.status(now) == status) return t;
    }
    FAIL("no task " << src << " -> " << dst << " at status " << status);
    return tasks.front();
  }

  void build() {
    REQUIRE(clock_state().at("unix").get<std::int64_t>() == now);
    std::int64_t last_id = 0;
    for (int i = 0; i < 250; ++i) {
      std::int64_t delta = i % 6 == 0 ? 0 : 1 + (i * 37) % 11;  // every sixth Create shares a second
      if (i == 120) delta = 12 * 3600 + 17;                       // past midnight
      if (i == 200) delta = 40 * 86400;                           // into April
      if (i > 0 && delta > 0) advance(delta);

      ModelTask t;
      const int r = i % 10;
      if (r < 6) {
        t.region = "gz";
        t.src = (i / 10) % 2 == 0 ? "cdb-c1nl9rpv" : "cdb-5u7czxdx";
        t.dst = kMainDestinations[static_cast<std::size_t>((i / 3) % 6)];
      } else if (r < 9) {
        t.region = "sh";
        t.src = "cdb-m4st3rsh";
        t.dst = kMainDestinations[static_cast<std::size_t>((i / 3) % 6)];
      } else {
        t.region = "bj";
        t.src = "cdb-m4st3rbj";
        t.dst = (i / 10) % 4 == 0 ? "cdb-d2sagyed" : "cdb-drbj0002";
      }
      t.name = kNames[static_cast<std::size_t>((i * 7) % static_cast<int>(kNames.size()))];
      const auto &src = instances().at(t.src);
      const auto &dst = instances().at(t.dst);
      t.check_fails = src.version != dst.version || !dst.empty;

      Params p = common_params("CreateCdbDataSyncTask", t.region);
      p.push_back({"jobName", t.name});
      p.push_back({"srcInfo.0.cdbUInstanceId", t.src});
      if (i % 3 == 0) p.push_back({"srcInfo.0.dbInfo.0.database", "db" + std::to_string(i)});
      p.push_back({"dstInfo.0.cdbUInstanceId", t.dst});
      p.push_back({"dstInfo.0.regionId", dst.region});
      const auto body = emu.get(p);
      INFO("Create #", i, ": ", body.dump());
      REQUIRE(body.at("code") == 0);
      t.job_id = body.at("data").at("jobId").get<std::int64_t>();
      REQUIRE(t.job_id > last_id);
      last_id = t.job_id;
      t.submit = now;
      tasks.push_back(t);
    }

    // To 9: one at a time (a running task holds its instances).
    int done = 0;
    for (std::size_t i = 0; i < tasks.size() && done < 8; ++i) {
      auto &t = tasks[i];
      if (i % 23 != 5 || t.check_fails) continue;
      check(t);
      advance(kVerify);
      start(t);
      advance(kRun + static_cast<std::int64_t>(i % 3));
      REQUIRE(t.status(now) == 9);
      ++done;
    }
    // To 4.
    int verified = 0;
    for (std::size_t i = 0; i < tasks.size() && verified < 25; ++i) {
      auto &t = tasks[i];
      if (i % 9 != 4 || t.check_fails || t.status(now) != 1) continue;
      check(t);
      advance(kVerify + static_cast<std::int64_t>(i % 2));
      ++verified;
    }
    // To 3: destinations with data, another MySQL version.
    int failed = 0;
    for (std::size_t i = 0; i < tasks.size() && failed < 10; ++i) {
      auto &t = tasks[i];
      if (i % 4 != 1 || !t.check_fails || t.status(now) != 1) continue;
      check(t);
      advance(kVerify);
      REQUIRE(t.status(now) == 3);
      ++failed;
    }
    // Deletes: some at 1, and the first at 3, 4 and 9.
    for (std::size_t i = 7; i < tasks.size(); i += 50) {
      if (tasks[i].status(now) == 1) remove(tasks[i]);
    }
    for (const int status : {3, 4, 9}) {
      for (auto &t : tasks) {
        if (!t.deleted && t.status(now) == status) {
          remove(t);
          break;
        }
      }
    }
    // The busy ones, on pairwise different instances: A at 6, B at 5, C and D at 2.
    auto &a = first("cdb-c1nl9rpv", "cdb-d2sagyed", 1);
    check(a);
    advance(kVerify);
    start(a);
    auto &b = first("cdb-5u7czxdx", "cdb-ek0t57qd", 1);
    check(b);
    advance(kVerify);
    start(b);
    check(first("cdb-m4st3rsh", "cdb-drhk0001", 1));
    check(first("cdb-m4st3rbj", "cdb-drbj0002", 1));

    std::set<int> seen;
    for (const auto &t : tasks) {
      if (!t.deleted) seen.insert(t.status(now));
    }
    REQUIRE(seen == std::set<int>{1, 2, 3, 4, 5, 6, 9});
    REQUIRE(clock_state().at("unix").get<std::int64_t>() == now);
  }
};

World &world() {
  static World w;
  return w;
}

/// Sends `q` and compares totalCount and every row of the page with the model; returns the body.
nlohmann::json check_list(const Query &q) {
  World &w = world();
  const Params params = list_params(q);
  const std::string what = describe(params);
  INFO(what);
  const auto body = w.emu.get(params);
  const Answer want = w.expect(q);
  REQUIRE(body.at("code") == 0);
  CHECK(body.at("data").at("totalCount").get<std::int64_t>() == want.total);
  CHECK(rows_of(body.at("data").at("jobList")) == w.rows_of(want.page));
  return body;
}

std::string e9003(const std::string &detail) {
  nlohmann::ordered_json body;
  body["code"] = 9003;
  body["message"] = "parameter error: " + detail;
  body["codeDesc"] = "InvalidParameter";
  return body.dump();
}

const std::vector<std::string> kRegions = {"gz", "sh", "bj"};
const std::vector<std::string> kOrders = {"jobId", "status", "jobName", "submitTime"};

}  // namespace

TEST_CASE("list over 250 tasks: no filter gives jobId DESC and pages of 20") {
  for (const auto &region : kRegions) {
    Query q;
    q.region = region;
    check_list(q);
    for (const char *offset : {"0", "5", "20", "37"}) {
      q.offset = offset;
      check_list(q);
    }
  }
}

TEST_CASE("list over 250 tasks: every filter alone matches the model") {
  World &w = world();
  for (const auto &region : kRegions) {
    // jobId: every tenth task and every deleted one, asked in its region and in this one.
    for (std::size_t i = 0; i < w.tasks.size(); ++i) {
      const auto &t = w.tasks[i];
      if (i % 10 != 3 && !t.deleted) continue;
      Query q;
      q.region = region;
      q.job_id = std::to_string(t.job_id);
      check_list(q);
    }
    Query unknown;
    unknown.region = region;
    unknown.job_id = std::to_string(w.tasks.back().job_id + 1000);
    CHECK(check_list(unknown)["data"]["totalCount"] == 0);

    // jobName: exact and case-sensitive.
    std::vector<std::string> names = kNames;
    names.insert(names.end(), {"ALPHa", "alpha ", "job", "nope"});
    for (const auto &name : names) {
      Query q;
      q.region = region;
      q.job_name = name;
      q.limit = "100";
      check_list(q);
    }
    // status.0 alone, every value.
    for (int status = 0; status <= 9; ++status) {
      Query q;
      q.region = region;
      q.statuses = {{"status.0", std::to_string(status)}};
      q.limit = "100";
      check_list(q);
    }
    // srcUInstanceId and dstUInstanceId: every instance, and an unknown one.
    for (const auto &[id, info] : instances()) {
      Query q;
      q.region = region;
      q.src = id;
      q.limit = "100";
      check_list(q);
      Query d;
      d.region = region;
      d.dst = id;
      d.limit = "100";
      check_list(d);
    }
    Query nobody;
    nobody.region = region;
    nobody.src = "cdb-nothere0";
    CHECK(check_list(nobody)["data"]["totalCount"] == 0);
    // submitTimeStart and submitTimeEnd alone.
    for (std::size_t i = 0; i < w.tasks.size(); i += 31) {
      Query from;
      from.region = region;
      from.from = beijing(w.tasks[i].submit);
      from.limit = "100";
      check_list(from);
      Query to;
      to.region = region;
      to.to = beijing(w.tasks[i].submit);
      to.limit = "100";
      check_list(to);
    }
  }
}

TEST_CASE("list over 250 tasks: filters combined match the model") {
  World &w = world();
  std::mt19937 rng(20170223);
  const auto pick = [&rng](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  std::vector<std::string> ids;
  for (const auto &[id, info] : instances()) ids.push_back(id);
  int nonempty = 0;
  for (int round = 0; round < 300; ++round) {
    Query q;
    q.region = kRegions[pick(3)];
    // Values drawn mostly from the region's own tasks, so that many answers are not empty.
    const auto live = w.live(q.region);
    const ModelTask &t = *live[pick(live.size())];
    if (pick(8) == 0) q.job_id = std::to_string(t.job_id);
    if (pick(3) == 0) q.job_name = pick(4) ? t.name : kNames[pick(kNames.size())];
    if (pick(3) == 0) {
      const std::size_t n = 1 + pick(3);
      for (std::size_t k = 0; k < n; ++k) {
        const int status = k == 0 && pick(2) ? t.status(w.now) : static_cast<int>(pick(12)) - 1;
        q.statuses.push_back({"status." + std::to_string(k), std::to_string(status)});
      }
    }
    if (pick(3) == 0) q.src = pick(4) ? t.src : ids[pick(ids.size())];
    if (pick(3) == 0) q.dst = pick(4) ? t.dst : ids[pick(ids.size())];
    if (pick(3) == 0) q.from = beijing(w.tasks[pick(w.tasks.size())].submit + static_cast<std::int64_t>(pick(3)) - 1);
    if (pick(3) == 0) q.to = beijing(w.tasks[pick(w.tasks.size())].submit + static_cast<std::int64_t>(pick(3)) - 1);
    if (pick(2) == 0) q.order = kOrders[pick(4)];
    if (pick(2) == 0) q.seq = pick(2) ? "ASC" : "DESC";
    if (pick(3) == 0) q.offset = std::to_string(pick(12));
    q.limit = std::to_string(1 + pick(100));
    const auto body = check_list(q);
    if (body["data"]["totalCount"].get<int>() > 0) ++nonempty;
  }
  // The draw must exercise real matches, not only empty answers.
  CHECK(nonempty > 150);
}

TEST_CASE("list over 250 tasks: every order and orderSeq pages through with limit 7") {
  World &w = world();
  std::vector<Query> bases;
  for (const auto &region : kRegions) {
    Query q;
    q.region = region;
    bases.push_back(q);
  }
  Query filtered;  // a filtered result pages the same way
  filtered.statuses = {{"status.0", "1"}, {"status.1", "4"}};
  filtered.src = "cdb-c1nl9rpv";
  bases.push_back(filtered);
  for (const auto &base : bases) {
    for (const auto &order : kOrders) {
      for (const char *seq : {"ASC", "DESC"}) {
        Query q = base;
        q.order = order;
        q.seq = seq;
        const Answer whole = w.expect(q);
        REQUIRE(whole.total > 7);
        std::string pages;
        std::set<std::int64_t> ids;
        std::size_t count = 0;
        for (std::int64_t offset = 0; offset < whole.total; offset += 7) {
          q.offset = std::to_string(offset);
          q.limit = "7";
          const auto body = check_list(q);
          const auto &list = body["data"]["jobList"];
          CHECK(list.size() == static_cast<std::size_t>(std::min<std::int64_t>(7, whole.total - offset)));
          pages += rows_of(list);
          for (const auto &job : list) ids.insert(job["jobId"].get<std::int64_t>());
          count += list.size();
        }
        INFO(describe(list_params(q)));
        CHECK(count == static_cast<std::size_t>(whole.total));
        CHECK(ids.size() == count);  // no duplicates
        CHECK(pages == w.rows_of(whole.all));
      }
    }
  }
}

TEST_CASE("list over 250 tasks: offset past the end gives an empty page with the real totalCount") {
  World &w = world();
  for (const auto &region : kRegions) {
    const auto total = static_cast<std::int64_t>(w.live(region).size());
    for (const std::int64_t offset : {total, total + 1, total + 1000, std::int64_t{999999999999999999}}) {
      Query q;
      q.region = region;
      q.offset = std::to_string(offset);
      const auto body = check_list(q);
      CHECK(body["data"]["totalCount"] == total);
      CHECK(body["data"]["jobList"] == nlohmann::json::array());
    }
    Query last;  // the last item alone
    last.region = region;
    last.offset = std::to_string(total - 1);
    last.order = "jobName";
    CHECK(check_list(last)["data"]["jobList"].size() == 1);
  }
  Query filtered;
  filtered.job_name = "alpha";
  filtered.offset = "50";
  const auto body = check_list(filtered);
  CHECK(body["data"]["totalCount"].get<int>() > 0);
  CHECK(body["data"]["jobList"].empty());
}

TEST_CASE("list over 250 tasks: empty-string filters mean absent") {
  for (const auto &region : kRegions) {
    Query q;
    q.region = region;
    q.job_id = q.job_name = q.src = q.dst = q.from = q.to = q.order = q.seq = q.offset = q.limit = "";
    const auto body = check_list(q);
    CHECK(body["data"]["jobList"].size() == 20);  // the default limit
    Query plain;
    plain.region = region;
    CHECK(body["data"] == world().emu.get(list_params(plain))["data"]);
  }
  // Empty ones next to real ones.
  Query mixed;
  mixed.job_name = "";
  mixed.statuses = {{"status.0", "1"}};
  mixed.src = "";
  mixed.dst = "cdb-d2sagyed";
  mixed.order = "";
  mixed.seq = "ASC";
  mixed.limit = "";
  check_list(mixed);
  // A plain empty status is absent too.
  Params p = list_params(Query{});
  p.push_back({"status", ""});
  Query none;
  CHECK(world().emu.get(p)["data"] == world().emu.get(list_params(none))["data"]);
  // An empty item next to a real one is skipped.
  Query item;
  item.statuses = {{"status.0", ""}, {"status.1", "4"}};
  item.limit = "100";
  check_list(item);
}

TEST_CASE("list over 250 tasks: a status list of only empty items means no status filter") {
  // The same rule as every other filter: an empty value means absent (API.md: an empty array is absent).
  for (const auto &region : kRegions) {
    Query q;
    q.region = region;
    q.statuses = {{"status.0", ""}};
    q.limit = "100";
    check_list(q);
    q.statuses = {{"status.0", ""}, {"status.1", ""}};
    check_list(q);
  }
}

TEST_CASE("list over 250 tasks: status.N with out-of-range and repeated values") {
  const std::vector<Params> cases = {
      {{"status.0", "10"}},
      {{"status.0", "-1"}},
      {{"status.0", "1000000000"}},
      {{"status.0", "-1"}, {"status.1", "10"}, {"status.2", "42"}},
      {{"status.0", "1"}, {"status.1", "1"}},
      {{"status.0", "4"}, {"status.1", "99"}, {"status.2", "-3"}},
      {{"status.0", "9"}, {"status.1", "2"}, {"status.2", "9"}, {"status.3", "2"}},
      {{"status.0", "1"}, {"status.5", "4"}},  // a gap in the indices
      {{"status.0", "0"}, {"status.1", "7"}, {"status.2", "8"}},  // statuses nothing is in
      {{"status.0", "1"}, {"status.1", "2"}, {"status.2", "3"}, {"status.3", "4"}, {"status.4", "5"},
       {"status.5", "6"}, {"status.6", "9"}},
      {{"status.0", "-0"}},
  };
  for (const auto &region : kRegions) {
    for (const auto &statuses : cases) {
      Query q;
      q.region = region;
      q.statuses = statuses;
      q.limit = "100";
      q.order = "status";
      q.seq = "ASC";
      check_list(q);
    }
  }
  Query nothing;
  nothing.statuses = {{"status.0", "10"}};
  CHECK(check_list(nothing)["data"]["totalCount"] == 0);
  // Repeating a value counts each task once.
  Query once;
  once.statuses = {{"status.0", "1"}};
  Query twice;
  twice.statuses = {{"status.0", "1"}, {"status.1", "1"}, {"status.2", "1"}};
  CHECK(check_list(once)["data"]["totalCount"] == check_list(twice)["data"]["totalCount"]);
}

TEST_CASE("list over 250 tasks: submitTime bounds are inclusive") {
  World &w = world();
  // Tasks sharing a submit second: every sixth Create did not move the clock.
  std::map<std::int64_t, int> per_second;
  for (const auto &t : w.tasks) {
    if (!t.deleted && t.region == "gz") ++per_second[t.submit];
  }
  int ties = 0;
  for (const auto &[second, count] : per_second) {
    if (count < 2) continue;
    ++ties;
    const std::string at = beijing(second);
    Query exact;
    exact.from = exact.to = at;
    exact.order = "submitTime";
    CHECK(check_list(exact)["data"]["totalCount"] == count);
    Query after;  // a second later excludes them
    after.from = after.to = beijing(second + 1);
    check_list(after);
    Query before;
    before.from = beijing(second - 1);
    before.to = beijing(second - 1);
    check_list(before);
    Query start_only;
    start_only.from = at;
    start_only.order = "submitTime";
    start_only.seq = "ASC";
    check_list(start_only);
    Query end_only;
    end_only.to = at;
    end_only.order = "submitTime";
    check_list(end_only);
  }
  CHECK(ties > 5);
  const auto live = w.live("gz");
  const auto [first_it, last_it] = std::minmax_element(
      live.begin(), live.end(), [](const ModelTask *a, const ModelTask *b) { return a->submit < b->submit; });
  Query all;
  all.from = beijing((*first_it)->submit);
  all.to = beijing((*last_it)->submit);
  CHECK(check_list(all)["data"]["totalCount"] == static_cast<std::int64_t>(live.size()));
  Query inverted;  // start after end: nothing
  inverted.from = beijing((*last_it)->submit);
  inverted.to = beijing((*first_it)->submit);
  CHECK(check_list(inverted)["data"]["totalCount"] == 0);
  // Across the day jump and the month jump.
  for (const char *from : {"2017-02-23 00:00:00", "2017-02-24 00:00:00", "2017-03-01 00:00:00", "2017-04-01 00:00:00"}) {
    for (const char *to : {"2017-02-23 23:59:59", "2017-02-28 23:59:59", "2017-12-31 23:59:59"}) {
      for (const auto &region : kRegions) {
        Query q;
        q.region = region;
        q.from = from;
        q.to = to;
        q.limit = "100";
        q.order = "submitTime";
        check_list(q);
      }
    }
  }
}

TEST_CASE("list over 250 tasks: each region sees only its own tasks") {
  World &w = world();
  for (const std::string region :
       {"gz", "sh", "bj", "hk", "ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-hongkong"}) {
    std::set<std::int64_t> want;
    for (const auto *t : w.live(short_region(region))) want.insert(t->job_id);
    std::set<std::int64_t> got;
    for (std::int64_t offset = 0;; offset += 100) {
      Query q;
      q.region = region;
      q.offset = std::to_string(offset);
      q.limit = "100";
      const auto body = check_list(q);
      CHECK(body["data"]["totalCount"] == static_cast<std::int64_t>(want.size()));
      for (const auto &job : body["data"]["jobList"]) got.insert(job["jobId"].get<std::int64_t>());
      if (body["data"]["jobList"].size() < 100) break;
    }
    CAPTURE(region);
    CHECK(got == want);
  }
  CHECK(w.live("hk").empty());
  // Another region's task by jobId, source or destination is not there.
  for (const auto &t : w.tasks) {
    if (t.deleted || t.region != "sh") continue;
    Query q;
    q.region = "gz";
    q.job_id = std::to_string(t.job_id);
    CHECK(check_list(q)["data"]["totalCount"] == 0);
    break;
  }
  Query sh_source;
  sh_source.region = "gz";
  sh_source.src = "cdb-m4st3rsh";
  CHECK(check_list(sh_source)["data"]["totalCount"] == 0);
  Query bj_dest;
  bj_dest.region = "sh";
  bj_dest.dst = "cdb-drbj0002";
  CHECK(check_list(bj_dest)["data"]["totalCount"] == 0);
}

TEST_CASE("list over 250 tasks: every malformed parameter is 9003 with its exact body") {
  World &w = world();
  const std::string max_id = "999999999999999999";
  struct Case {
    Params params;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {{{"jobId", "abc"}}, "jobId must be an integer from 1 to " + max_id},
      {{{"jobId", "0"}}, "jobId must be an integer from 1 to " + max_id},
      {{{"jobId", "-1"}}, "jobId must be an integer from 1 to " + max_id},
      {{{"jobId", "01"}}, "jobId must be an integer from 1 to " + max_id},
      {{{"jobId", "1.0"}}, "jobId must be an integer from 1 to " + max_id},
      {{{"jobId", " 1"}}, "jobId must be an integer from 1 to " + max_id},
      {{{"jobId", "99999999999999999999"}}, "jobId must be an integer from 1 to " + max_id},
      {{{"jobId.0", "1"}}, "jobId must be a single value, not a list or object"},
      {{{"jobName.0", "alpha"}}, "jobName must be a single value, not a list or object"},
      {{{"srcUInstanceId.0", "cdb-c1nl9rpv"}}, "srcUInstanceId must be a single value, not a list or object"},
      {{{"dstUInstanceId.x", "cdb-d2sagyed"}}, "dstUInstanceId must be a single value, not a list or object"},
      {{{"status.0", "abc"}}, "status.N must be an integer from -999999999999999999 to 999999999999999999"},
      {{{"status.0", "1.5"}}, "status.N must be an integer from -999999999999999999 to 999999999999999999"},
      {{{"status.0", "01"}}, "status.N must be an integer from -999999999999999999 to 999999999999999999"},
      {{{"status.0", "1"}, {"status.1", "x"}}, "status.N must be an integer from -999999999999999999 to 999999999999999999"},
      {{{"status.0", " 4"}}, "status.N must be an integer from -999999999999999999 to 999999999999999999"},
      {{{"status.a", "1"}}, "status must be an indexed list (status.0=1&status.1=4)"},
      {{{"status.0.x", "1"}}, "status.N must be integers"},
      {{{"submitTimeStart", "2017-02-23"}}, "submitTimeStart must be a time as yyyy-mm-dd hh:mm:ss"},
      {{{"submitTimeStart", "2017-02-30 10:00:00"}}, "submitTimeStart must be a time as yyyy-mm-dd hh:mm:ss"},
      {{{"submitTimeStart", "2017/02/23 15:04:10"}}, "submitTimeStart must be a time as yyyy-mm-dd hh:mm:ss"},
      {{{"submitTimeStart", "2017-02-23T15:04:10"}}, "submitTimeStart must be a time as yyyy-mm-dd hh:mm:ss"},
      {{{"submitTimeStart", "2017-02-23 24:00:00"}}, "submitTimeStart must be a time as yyyy-mm-dd hh:mm:ss"},
      {{{"submitTimeStart", "1487833450"}}, "submitTimeStart must be a time as yyyy-mm-dd hh:mm:ss"},
      {{{"submitTimeEnd", "2017-2-23 15:04:10"}}, "submitTimeEnd must be a time as yyyy-mm-dd hh:mm:ss"},
      {{{"submitTimeEnd", "2017-02-23 15:04:10 "}}, "submitTimeEnd must be a time as yyyy-mm-dd hh:mm:ss"},
      {{{"submitTimeEnd", "2017-02-23 15:60:00"}}, "submitTimeEnd must be a time as yyyy-mm-dd hh:mm:ss"},
      {{{"order", "foo"}}, "order must be jobId, status, jobName or submitTime"},
      {{{"order", "JobId"}}, "order must be jobId, status, jobName or submitTime"},
      {{{"order", "submittime"}}, "order must be jobId, status, jobName or submitTime"},
      {{{"order", "job_id"}}, "order must be jobId, status, jobName or submitTime"},
      {{{"order", "updateTime"}}, "order must be jobId, status, jobName or submitTime"},
      {{{"orderSeq", "up"}}, "orderSeq must be ASC or DESC"},
      {{{"orderSeq", "Asc"}}, "orderSeq must be ASC or DESC"},
      {{{"orderSeq", "DESCENDING"}}, "orderSeq must be ASC or DESC"},
      {{{"orderSeq", "0"}}, "orderSeq must be ASC or DESC"},
      {{{"offset", "-1"}}, "offset must be an integer from 0 to " + max_id},
      {{{"offset", "a"}}, "offset must be an integer from 0 to " + max_id},
      {{{"offset", "1.0"}}, "offset must be an integer from 0 to " + max_id},
      {{{"offset", "01"}}, "offset must be an integer from 0 to " + max_id},
      {{{"offset", "99999999999999999999"}}, "offset must be an integer from 0 to " + max_id},
      {{{"limit", "0"}}, "limit must be an integer from 1 to 100"},
      {{{"limit", "101"}}, "limit must be an integer from 1 to 100"},
      {{{"limit", "-5"}}, "limit must be an integer from 1 to 100"},
      {{{"limit", "abc"}}, "limit must be an integer from 1 to 100"},
      {{{"limit", "20.0"}}, "limit must be an integer from 1 to 100"},
      {{{"limit", "1e2"}}, "limit must be an integer from 1 to 100"},
      {{{"limit", "007"}}, "limit must be an integer from 1 to 100"},
      {{{"limit", "1000000"}}, "limit must be an integer from 1 to 100"},
  };
  for (const auto &region : {"gz", "sh"}) {
    for (const auto &c : cases) {
      Params p = common_params("GetCdbDataSyncTaskList", region);
      for (const auto &param : c.params) p.push_back(param);
      const std::string what = describe(p);
      CAPTURE(what);
      CHECK(w.emu.get_text(p) == e9003(c.detail));
    }
  }
  // The bounds themselves are fine.
  for (const char *limit : {"1", "100"}) {
    Query q;
    q.limit = limit;
    check_list(q);
  }
}

TEST_CASE("list over 250 tasks: rendered fields of the items match the model") {
  World &w = world();
  // The first Create happened at the clock's start, shown in +08:00.
  Query first;
  first.job_id = std::to_string(w.tasks.front().job_id);
  const auto body = check_list(first);
  REQUIRE(body["data"]["jobList"].size() == 1);
  const auto &job = body["data"]["jobList"][0];
  CHECK(job["jobId"] == w.tasks.front().job_id);
  CHECK(job["jobId"].is_number_integer());
  CHECK(job["status"].is_number_integer());
  CHECK(job["type"] == 10);
  CHECK(job["detail"]["submitTime"] == kClockStart);
  CHECK(job["detail"]["jobName"] == w.tasks.front().name);
  CHECK(job["detail"]["srcInfo"]["cdbUInstanceId"] == w.tasks.front().src);
  CHECK(job["detail"]["dstInfo"]["cdbUInstanceId"] == w.tasks.front().dst);

  // Every live task, one page of up to 100 at a time per region, with the status-dependent parts.
  for (const auto &region : kRegions) {
    for (std::int64_t offset = 0; offset < static_cast<std::int64_t>(w.live(region).size()); offset += 100) {
      Query q;
      q.region = region;
      q.order = "jobId";
      q.seq = "ASC";
      q.offset = std::to_string(offset);
      q.limit = "100";
      const auto page = check_list(q);
      for (const auto &item : page["data"]["jobList"]) {
        const auto id = item["jobId"].get<std::int64_t>();
        const auto it = std::find_if(w.tasks.begin(), w.tasks.end(), [id](const ModelTask &t) { return t.job_id == id; });
        REQUIRE(it != w.tasks.end());
        const int status = it->status(w.now);
        CAPTURE(id);
        CAPTURE(status);
        const int flag = status == 1 || status == 2 ? 0 : status == 3 ? 2 : 1;
        CHECK(item["detail"]["checkInfo"]["checkFlag"] == flag);
        CHECK(item["detail"]["submitTime"] == beijing(it->submit));
        if (status == 9) {
          CHECK(item["progress"] == 100);
          CHECK(item["detail"]["jobOutput"]["status"] == "normal_finish");
        } else if (status < 5) {
          CHECK(item["detail"]["jobOutput"] == nlohmann::json::array());
        }
      }
    }
  }
}
