#!/usr/bin/env bash
# Issue #8: the figures of the restructuring's "before" (787c360^, the last commit with
# the flat collector/ folder) against today's build, in one run (bench/compare_rev.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
bench/compare_rev.sh 787c360^ 3
