#!/bin/sh
# web.agent_review: a customer's message the bot does not understand lands in
# the console's Review tab; the agent labels it with the intent it meant and
# it leaves the queue; in headless Chromium against the real `parley serve
# --demo` (see agent_review.mjs and lib/run.sh).
set -eu
. "$(dirname "$0")/lib/run.sh"
run_web_test agent_review.mjs
