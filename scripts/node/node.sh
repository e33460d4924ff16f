#!/bin/sh
# node_modules/.bin/node: npm puts node_modules/.bin first on PATH for every npm script, so every `node`
# (and every `#!/usr/bin/env node` tool: tsc, vitest, npm itself) starts here. select-node.mjs, run by the
# first other `node` on PATH, prints which binary to use (downloading a pinned one when the system Node is
# too old); the choice is exported, so nested calls skip the lookup.
if [ -n "${BANKGATE_NODE_BIN:-}" ] && [ -x "$BANKGATE_NODE_BIN" ]; then exec "$BANKGATE_NODE_BIN" "$@"; fi
self=$(readlink -f "$0")
here=$(dirname "$self")
system=""
saved_ifs=$IFS
IFS=:
for dir in $PATH; do
  [ -n "$dir" ] && [ -x "$dir/node" ] || continue
  [ "$(readlink -f "$dir/node")" = "$self" ] && continue
  system="$dir/node"
  break
done
IFS=$saved_ifs
if [ -z "$system" ]; then
  echo "bankgate: no node on PATH besides $0; install Node 22.19+ or 24" >&2
  exit 127
fi
chosen=$("$system" "$here/select-node.mjs") || exit $?
BANKGATE_NODE_BIN=$chosen
export BANKGATE_NODE_BIN
exec "$chosen" "$@"
