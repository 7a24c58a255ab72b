#!/bin/sh
# web.agent_handoff: a customer asks for a person in the chat page, an agent
# answers from the console, the customer sees it live, the agent closes; in
# headless Chromium against the real `parley serve --demo` (see
# agent_handoff.mjs and lib/run.sh).
set -eu
. "$(dirname "$0")/lib/run.sh"
run_web_test agent_handoff.mjs
