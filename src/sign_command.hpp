#pragma once
// `cdb-sync-emulator sign`: signs a hand-made request the way the SDKs do and prints it.

#include <iosfwd>
#include <string>

namespace cdbemu {

struct SignOptions {
  std::string url;  ///< http(s)://host[:port]/v2/index.php?Action=...
  std::string method = "GET";
  std::string secret_id = "AKIDEMULATORDEFAULTKEY";
  std::string secret_key = "emulator-default-secret";
  std::string signature_method;  ///< "", HmacSHA1 or HmacSHA256
  std::string sign_host;         ///< host to sign for; default: the URL's host[:port]
};

/// Prints the signed URL (GET) or body (POST), the string that was signed, and a curl line.
/// Returns the process exit code.
int run_sign_command(const SignOptions &options, std::ostream &out, std::ostream &err);

}  // namespace cdbemu
