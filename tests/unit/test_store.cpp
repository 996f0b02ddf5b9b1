#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <vector>
#include <unistd.h>

#include "store/sqlite.hpp"
#include "store/store.hpp"

using namespace cdbemu::store;

namespace {

TaskRecord sample_task() {
  TaskRecord task;
  task.region = "ap-guangzhou";
  task.job_name = "名字 with 'quotes'";
  task.status = 1;
  task.src_instance_id = "cdb-c1nl9rpv";
  task.src_region_id = 1;
  task.src_db_info = {{"db1", {"t1", "t2"}}, {"db2", {}}};
  task.dst_instance_id = "cdb-d2sagyed";
  task.dst_region_id = 4;
  task.dst_zone_id = 200001;
  task.submit_time = 1700000000;
  task.update_time = 1700000000;
  return task;
}

}  // namespace

TEST_CASE("a task round-trips through the store") {
  Store store(":memory:");
  const auto id = store.insert_task(sample_task());
  CHECK(id == 1);
  const auto back = store.find_task(id);
  REQUIRE(back);
  CHECK(back->job_name == "名字 with 'quotes'");
  REQUIRE(back->src_db_info.size() == 2);
  CHECK(back->src_db_info[0].tables == std::vector<std::string>{"t1", "t2"});
  CHECK(back->src_db_info[1].tables.empty());
  CHECK(back->dst_zone_id == 200001);
  CHECK_FALSE(store.find_task(2));
  CHECK(store.count_tasks() == 1);
}

TEST_CASE("ids never go down and are not reused after a delete") {
  Store store(":memory:");
  store.raise_next_job_id(50);
  CHECK(store.insert_task(sample_task()) == 50);
  store.raise_next_job_id(10);
  CHECK(store.insert_task(sample_task()) == 51);
}

TEST_CASE("migrations are applied once and a newer database is refused") {
  const std::string path = "/tmp/cdbemu-unit-" + std::to_string(::getpid()) + ".db";
  {
    Store store(path);
    CHECK(store.schema_version() >= 1);
  }
  {
    Store again(path);  // re-opening applies nothing twice
    CHECK(again.schema_version() >= 1);
    Database db(path);
    db.exec("INSERT INTO schema_migrations (version, name) VALUES (999, '999_future.sql')");
  }
  CHECK_THROWS_WITH_AS(Store{path}, doctest::Contains("written by a newer version"), StoreError);
  for (const char *suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

TEST_CASE("instances and zones are replaced as a whole") {
  Store store(":memory:");
  InstanceRecord a{"cdb-a", "ap-shanghai", 200001, "dr"};
  a.engine_version = "8.0";
  a.is_empty = false;
  a.app_id = 42;
  a.uin = "77";
  const InstanceRecord b{"cdb-b", "ap-guangzhou", 100001, "master"};
  store.replace_fixtures({a, b}, {{100004, false}});
  const auto back = store.find_instance("cdb-a");
  REQUIRE(back);
  CHECK(back->zone_id == 200001);
  CHECK(back->engine_version == "8.0");
  CHECK_FALSE(back->is_empty);
  CHECK(back->app_id == 42);
  CHECK(back->uin == "77");
  CHECK(store.find_zone(100004)->disaster_recovery == false);
  CHECK_FALSE(store.find_zone(100001));
  store.replace_fixtures({b}, {});
  CHECK_FALSE(store.find_instance("cdb-a"));
  CHECK_FALSE(store.find_zone(100004));
  CHECK(store.find_instance("cdb-b")->role == "master");
}

TEST_CASE("the in-memory instance catalog follows writes, rollbacks and restores") {
  Store store(":memory:");
  const InstanceRecord a{"cdb-a", "ap-shanghai", 200001, "dr"};
  const InstanceRecord b{"cdb-b", "ap-guangzhou", 100001, "master"};
  store.replace_fixtures({a}, {{200001, true}});
  store.put_instance(b);
  CHECK(store.find_instance("cdb-b"));
  CHECK(store.instances().size() == 2);
  // A transaction that fails takes its instance writes back, from the catalog too.
  CHECK_THROWS_AS(store.transaction([&] {
    store.delete_instance("cdb-a");
    store.put_instance(InstanceRecord{"cdb-c", "ap-beijing", 300001, "master"});
    throw std::runtime_error("refused");
  }),
                  std::runtime_error);
  CHECK(store.find_instance("cdb-a"));
  CHECK_FALSE(store.find_instance("cdb-c"));
  // A restore brings back the snapshot's instances.
  const auto snapshot = store.copy_to(":memory:");
  CHECK(store.delete_instance("cdb-a"));
  CHECK_FALSE(store.find_instance("cdb-a"));
  store.copy_from(*snapshot);
  CHECK(store.find_instance("cdb-a"));
  CHECK(store.find_zone(200001));
}

TEST_CASE("concurrent transactions share commits, yet each is committed when it returns") {
  const std::string path = "/tmp/cdbemu-unit-batch-" + std::to_string(::getpid()) + ".db";
  {
    Store store(path);
    constexpr int kThreads = 8;
    constexpr int kEach = 40;
    std::atomic<int> invisible{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Every thread is "serving a request" throughout, so leaders wait for the others.
        const Store::Pending pending(store);
        Database reader(path, true);
        for (int i = 0; i < kEach; ++i) {
          if (t == 0 && i % 4 == 0) {
            // A transaction that fails inside a batch takes only its own work back.
            try {
              store.transaction([&] {
                store.insert_task(sample_task());
                throw std::runtime_error("refused");
              });
            } catch (const std::runtime_error &) {
            }
            continue;
          }
          const std::int64_t id = store.insert_task(sample_task());
          // Another connection sees only committed data: the row must be there already.
          Statement find(reader.handle(), "SELECT count(*) FROM tasks WHERE job_id = ?");
          find.bind(1, id);
          if (!find.step() || find.column_int(0) != 1) ++invisible;
        }
      });
    }
    for (auto &thread : threads) thread.join();
    CHECK(invisible == 0);
    CHECK(store.count_tasks() == kThreads * kEach - kEach / 4);
  }
  for (const char *suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}
