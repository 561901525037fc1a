#!/usr/bin/env bash
# Fails when the committed Azure Pipelines task (task/task.json from action.yml, the bundle in
# task/dist from src/) differs from a fresh build.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx scripts/build-task.ts >/dev/null
if [ -n "$(git status --porcelain -- task)" ]; then
  echo "task/ does not match action.yml and src/. Run 'npm run build:task' and commit task/." >&2
  git status --short -- task >&2
  git diff --stat -- task >&2
  exit 1
fi
echo "task/ matches action.yml and the source."
