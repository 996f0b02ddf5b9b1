#pragma once
// API keys: from fixtures/credentials.json, --credential ID:KEY and CDB_EMU_CREDENTIALS.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cdbemu::domain {

/// One SecretId/SecretKey pair and what it may do.
struct Credential {
  std::string secret_id;
  std::string secret_key;
  bool enabled = true;
  std::string uin = "100000000001";  ///< the account the key belongs to
  std::int64_t app_id = 1250000000;
  bool sub_account = false;
  std::optional<std::set<std::string, std::less<>>> allowed_actions;    ///< none: every action
  std::optional<std::set<std::string, std::less<>>> allowed_instances;  ///< none: every instance

  bool may_call(std::string_view action) const { return !allowed_actions || allowed_actions->count(action) > 0; }
  bool may_access(std::string_view instance_id) const {
    return !allowed_instances || allowed_instances->count(instance_id) > 0;
  }
};

/// The keys the emulator accepts, by SecretId.
class Credentials {
 public:
  /// Adds `credential`, replacing any key with the same SecretId.
  void put(Credential credential);
  /// The key with this SecretId.
  const Credential *find(std::string_view secret_id) const;
  std::size_t size() const { return by_id_.size(); }

 private:
  std::map<std::string, Credential, std::less<>> by_id_;
};

/// A `--credential` value, `SECRET_ID:SECRET_KEY` (the key may contain `:`), as a main-account key.
/// Throws std::invalid_argument naming what is wrong.
Credential parse_credential_flag(std::string_view text);

}  // namespace cdbemu::domain
