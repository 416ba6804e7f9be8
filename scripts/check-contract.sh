#!/usr/bin/env bash
# The contract's hygiene: buf lint, and buf breaking (wire and JSON compatibility) against the contract
# of the previous commit, so a change that would break another language's agents fails the tests.
set -euo pipefail
cd "$(dirname "$0")/../proto"
npx buf lint
if git rev-parse -q --verify HEAD~1 >/dev/null; then
  npx buf breaking --against "../.git#ref=HEAD~1,subdir=proto"
else
  echo "contract: no previous commit to compare with"
fi
echo "contract: buf lint and buf breaking passed"
