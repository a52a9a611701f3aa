#!/usr/bin/env bash
# The policy decision's cost in instructions, not nanoseconds: callgrind
# counts only count_batch (pick_bench --count), the decisions themselves, for
# the wasm2c build of fair.ts and for fair_ref.c. Instruction counts are
# exact and repeatable on a machine shared with other work, where the ns
# figures of `pick_bench` move with the load; the ratio is the one the goal
# (1.3x or less) is checked against.
#
#   count.sh PICK_BIN [ROUNDS]
#
#   BENCH policy_decision_wasm2c_instructions <n> instructions
#   BENCH policy_decision_c_instructions <n> instructions
#   BENCH policy_decision_wasm2c_instructions_ratio <r> x
set -euo pipefail
bin=$1 rounds=${2:-20000}
command -v valgrind >/dev/null || { echo "pick count: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Instructions per decision of one implementation (8 decisions a round).
per_decision() {
	local out=$tmp/callgrind.$1
	valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=count_batch \
		"$bin" --count "$1" --rounds "$rounds" >"$tmp/log.$1" 2>&1 || {
		echo "pick count: valgrind $bin --count $1 failed:" >&2
		tail -20 "$tmp/log.$1" >&2
		exit 1
	}
	# The profile's `totals:` line is the instructions (Ir) collected.
	local ir
	ir=$(awk '/^totals:/ { print $2 }' "$out")
	[ -n "$ir" ] && [ "$ir" -gt 0 ] || { echo "pick count: no instructions counted for $1 ($out)" >&2; exit 1; }
	awk -v ir="$ir" -v n="$((rounds * 8))" 'BEGIN { printf "%.1f\n", ir / n }'
}

w=$(per_decision wasm)
c=$(per_decision c)
echo "BENCH policy_decision_wasm2c_instructions $w instructions"
echo "BENCH policy_decision_c_instructions $c instructions"
awk -v w="$w" -v c="$c" 'BEGIN { printf "BENCH policy_decision_wasm2c_instructions_ratio %.2f x\n", w / c }'
