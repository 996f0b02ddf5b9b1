// The doctest runner for the slow reliability suite (scripts/test --full).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
