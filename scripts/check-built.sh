#!/usr/bin/env bash
# Fails when a committed build output differs from a fresh build of what it is built from:
#   check-built.sh dist   -> dist/ from src/ (npm run build)
#   check-built.sh task   -> task/task.json from action.yml, task/dist from src/ (npm run build:task)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  dist) build=(npm run build --silent) what='dist/' from='the source' command='npm run build' ;;
  task) build=(npx tsx scripts/build-task.ts) what='task/' from='action.yml and the source' command='npm run build:task' ;;
  *) echo "usage: check-built.sh dist|task" >&2; exit 2 ;;
esac
if ! output=$("${build[@]}" 2>&1); then
  echo "'$command' failed, so whether $what matches $from is unknown:" >&2
  echo "$output" >&2
  exit 1
fi
if [ -n "$(git status --porcelain -- "$1")" ]; then
  echo "$what does not match $from. Run '$command' and commit $what." >&2
  git status --short -- "$1" >&2
  git diff --stat -- "$1" >&2
  exit 1
fi
echo "$what matches $from."
