/* The VM's TSC offset arithmetic (firmware/arch/x86/vmx/vmx_tsc.h): the
 * one offset must behave as the SDM's TSC and IA32_TSC_ADJUST pair does
 * (Vol 3B 18.17.3: a TSC write adds its delta to TSC_ADJUST, a TSC_ADJUST
 * write moves the TSC by its delta), modulo 2^64; and a TSC-deadline in
 * guest units must become the host TSC at which the guest's TSC reaches
 * it, never earlier, with a past deadline due at once. */
#include "check.h"
#include "arch/x86/vmx/vmx_tsc.h"

/* The SDM's model, kept apart from ours: the guest TSC and TSC_ADJUST as
 * two numbers, the TSC advancing with the host's. */
struct sdm_tsc {
	u64 tsc_at_host0; /* guest TSC = host + tsc_at_host0 */
	u64 adjust;
};

static void test_fixed_cases(void)
{
	CHECK(tsc_guest(1000, 0) == 1000, "offset 0: the host's TSC");
	u64 off = tsc_offset_for_write(5000, 1000);
	CHECK(tsc_guest(1000, off) == 5000, "reads what was written, at the write");
	CHECK(tsc_guest(1100, off) == 5100, "and counts on at the host's rate");
	CHECK(tsc_adjust_read(off) == 4000, "TSC_ADJUST took the delta");
	off = tsc_offset_for_write(10, 1000);
	CHECK(tsc_guest(1000, off) == 10, "a write backwards");
	CHECK(tsc_adjust_read(off) == (u64)-990, "TSC_ADJUST went negative");
	off = tsc_offset_for_adjust(0);
	CHECK(tsc_guest(1234, off) == 1234, "TSC_ADJUST 0: back to the host's TSC");

	/* deadlines */
	CHECK(tsc_host_deadline(1500, 1000, 0) == 1500, "offset 0: the same value");
	CHECK(tsc_host_deadline(5500, 1000, 4000) == 1500, "guest ahead: host deadline earlier");
	CHECK(tsc_host_deadline(600, 1000, (u64)-500) == 1100, "guest behind: later");
	CHECK(tsc_host_deadline(900, 1000, 0) == 1000, "past: due now");
	CHECK(tsc_host_deadline(1000, 1000, 0) == 1000, "now: due now");
	CHECK(tsc_host_deadline(5, 0, 10) == 1, "due now at host TSC 0 is 1, not 'disarmed'");
	CHECK(tsc_host_deadline(~0ULL, 1000, 0) == ~0ULL, "the farthest deadline");
	CHECK(tsc_host_deadline(~0ULL, ~0ULL - 10, (u64)-100) == ~0ULL, "saturates instead of wrapping");
	/* A guest TSC about to wrap: a deadline past the wrap is small, so
	 * already reached, as the CPU's unsigned compare says. */
	CHECK(tsc_host_deadline(50, 1000, (u64)-1010) == 1000, "wrapped deadline is due now");
}

static void test_against_sdm(void)
{
	struct sdm_tsc sdm = { 0, 0 };
	u64 offset = 0, host = 1000000;
	for (u32 i = 0; i < 200000; i++) {
		host += check_rand_below(1u << 20);
		u64 r = check_rand();
		u64 value = (r & 3) == 0 ? check_rand_below(1u << 16) : check_rand();
		u64 before = host + sdm.tsc_at_host0;
		if (r & 4) {
			/* WRMSR IA32_TIME_STAMP_COUNTER: the SDM adds the delta to
			 * TSC_ADJUST */
			sdm.adjust += value - before;
			sdm.tsc_at_host0 = value - host;
			offset = tsc_offset_for_write(value, host);
		} else {
			/* WRMSR IA32_TSC_ADJUST: the TSC moves by the delta */
			sdm.tsc_at_host0 += value - sdm.adjust;
			sdm.adjust = value;
			offset = tsc_offset_for_adjust(value);
		}
		if (tsc_guest(host, offset) != host + sdm.tsc_at_host0 ||
		    tsc_adjust_read(offset) != sdm.adjust) {
			CHECK(false, "one offset follows the SDM's TSC and TSC_ADJUST");
			return;
		}
		u64 later = host + check_rand_below(1u << 30);
		if (tsc_guest(later, offset) != later + sdm.tsc_at_host0) {
			CHECK(false, "the guest TSC runs at the host's rate");
			return;
		}
	}
	CHECK(true, "200000 random writes of TSC and TSC_ADJUST agree with the SDM");
}

static void test_deadline_property(void)
{
	for (u32 i = 0; i < 200000; i++) {
		u64 host_now = check_rand_below(1ULL << 62) + 1, offset = check_rand();
		u64 guest_now = tsc_guest(host_now, offset);
		u64 deadline = (i & 1) ? guest_now + check_rand_below(1ULL << 40) : check_rand();
		u64 h = tsc_host_deadline(deadline, host_now, offset);
		bool ok;
		if (deadline <= guest_now)
			ok = h == host_now;
		else if (h == ~0ULL)
			ok = deadline - guest_now >= ~0ULL - host_now;
		else
			ok = h > host_now && tsc_guest(h, offset) == deadline &&
			     tsc_guest(h - 1, offset) < deadline;
		if (!ok) {
			CHECK(false, "host deadline: reached exactly there, not before");
			return;
		}
	}
	CHECK(true, "200000 random deadlines land where the guest TSC reaches them");
}

int main(void)
{
	test_fixed_cases();
	test_against_sdm();
	test_deadline_property();
	return check_summary();
}
