#!/bin/sh
# web.chat_refuel_fr: a French data refuel in the standalone chat page, in
# headless Chromium against the real `parley serve --demo` (see
# chat_refuel_fr.mjs and lib/run.sh).
set -eu
. "$(dirname "$0")/lib/run.sh"
run_web_test chat_refuel_fr.mjs
