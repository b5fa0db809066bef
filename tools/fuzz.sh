#!/usr/bin/env sh
# Longer local fuzz run (issue 15): the FuzzTests case with more cases and time.
# Usage: tools/fuzz.sh [cases] [seconds] [seed]   (defaults: 100000 cases, 600 s, seed 1)
# Prints: cases, how many ran / were refused, hangs, exceptions by type, and the most frequent
# refusal messages. A crash aborts the test run; a problem case's file is kept under /tmp/salient-fuzz*.
set -e
cd "$(dirname "$0")/.."
SALIENT_FUZZ_CASES="${1:-100000}" SALIENT_FUZZ_SECONDS="${2:-600}" SALIENT_FUZZ_SEED="${3:-1}" \
  dotnet test tests/Salient.Tests -c Release --filter "FullyQualifiedName~Hardening.FuzzTests" \
  --logger "console;verbosity=detailed"
