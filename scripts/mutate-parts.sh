#!/usr/bin/env bash
# Mutation testing of src/ one part at a time (see stryker.config.parts.mjs), then the score of all
# parts. A part whose report exists is skipped unless --again is given; extra arguments go to Stryker.
set -uo pipefail
cd "$(dirname "$0")/.."
again=false
if [ "${1:-}" = "--again" ]; then again=true; shift; fi
parts=(
  "steps-a:src/steps/[a-i]*.ts"
  "steps-b:src/steps/[j-z]*.ts"
  "modes:src/modes/**/*.ts"
  "azure:src/azure/**/*.ts"
  "inputs:src/inputs/**/*.ts"
  "auth:src/auth/**/*.ts"
  "runner:src/runner/**/*.ts"
  "pr-comment:src/pr-comment/**/*.ts"
  "top-a:src/[a-m]*.ts"
  "top-b:src/[n-z]*.ts"
)
for entry in "${parts[@]}"; do
  name="${entry%%:*}"
  if [ "$again" = false ] && [ -f "reports/mutation/parts/$name.json" ]; then
    echo "== $name: reported already (--again to run it again)"
    continue
  fi
  echo "== $name"
  MUTATE_NAME="$name" MUTATE_PART="${entry#*:}" npx stryker run stryker.config.parts.mjs "$@" || exit $?
done
node scripts/mutation-report.mjs reports/mutation/parts/*.json
