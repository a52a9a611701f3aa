#!/usr/bin/env bash
# fuzz-smoke's runner: every harness for SECONDS on a fresh copy of its seeds
# (the repository is never written), saved crashes read too so one that is
# back fails at once. JOBS harnesses run at a time (one per core: libFuzzer
# is single-threaded, and `make test` has a time budget); each one's result
# line is printed as it ends, the count last.
#
#   smoke.sh OUT_DIR FUZZ_DIR SECONDS JOBS "RUN_FLAGS" NAME...
set -u
out=$1 dir=$2 seconds=$3 jobs=$4 flags=$5
shift 5

# One harness; its result line on stdout, status 0 when it found nothing.
one() {
	local n=$1 work=$out/smoke/$1 art=$out/artifacts/$1/ crashes=
	rm -rf "$work"
	mkdir -p "$work" "$art"
	cp "$dir"/corpus/"$n"/* "$work"/ 2>/dev/null
	[ -d "$dir/crashes/$n" ] && crashes=$dir/crashes/$n
	# shellcheck disable=SC2086 # flags is a list of libFuzzer options
	if "$out/fuzz_$n" $flags -max_total_time="$seconds" -artifact_prefix="$art" "$work" $crashes >"$out/smoke/$n.log" 2>&1; then
		echo "fuzz-smoke: $n ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/smoke/$n.log" | grep -o '[0-9]*$') runs)"
		return 0
	fi
	echo "FUZZ FAILED: $n (log $out/smoke/$n.log, input in $art)"
	grep -E 'FUZZ INVARIANT|ERROR|SUMMARY|runtime error|Test unit written' "$out/smoke/$n.log" | head -20
	return 1
}

mkdir -p "$out/smoke"
failed=0 passed=0
declare -A running=()
# Waits for one running harness and counts its result.
reap() {
	local pid
	wait -n -p pid
	local rc=$?
	if [ "${running[$pid]:-}" ]; then
		unset "running[$pid]"
		if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	fi
}
for n in "$@"; do
	while [ ${#running[@]} -ge "$jobs" ]; do reap; done
	one "$n" &
	running[$!]=$n
done
while [ ${#running[@]} -gt 0 ]; do reap; done
echo "fuzz-smoke: $passed passed, $failed failed"
exit $failed
