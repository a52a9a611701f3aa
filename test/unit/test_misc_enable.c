/* IA32_MISC_ENABLE of a vCPU (firmware/arch/x86/vmx/misc_enable.h): the
 * power-on value, writes of the architectural bits (only "limit CPUID
 * maxval" changes; read-only and unbacked bits keep their value), and
 * #GP for any reserved bit with nothing changed. */
#include "check.h"
#include "arch/x86/vmx/misc_enable.h"

int main(void)
{
	u64 v = misc_enable_power_on();
	CHECK(v & MISC_ENABLE_FAST_STRINGS, "fast strings reads 1");
	CHECK((v & (MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)) ==
		      (MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL),
	      "no debug store: BTS and PEBS unavailable");
	CHECK(!(v & (MISC_ENABLE_PERF_MON | MISC_ENABLE_MONITOR | MISC_ENABLE_LIMIT_CPUID)),
	      "no PMU, no MONITOR, CPUID not limited");

	u64 out = 0;
	CHECK(misc_enable_write(v, v, &out) && out == v, "writing back what was read changes nothing");
	CHECK(misc_enable_write(v, 0, &out) && out == v, "clearing everything: read-only and ignored bits stay");
	CHECK(misc_enable_write(v, v | MISC_ENABLE_LIMIT_CPUID, &out) &&
		      out == (v | MISC_ENABLE_LIMIT_CPUID),
	      "limit CPUID maxval is taken");
	u64 limited = out;
	CHECK(misc_enable_write(limited, v, &out) && out == v, "and cleared again");
	CHECK(misc_enable_write(v, v | MISC_ENABLE_XD_DISABLE | MISC_ENABLE_MONITOR | MISC_ENABLE_EIST |
					   MISC_ENABLE_TCC | MISC_ENABLE_XTPR_DISABLE | MISC_ENABLE_PERF_MON,
				&out) &&
		      out == v,
	      "architectural bits the vCPU does not back: accepted, ignored");
	out = 12345;
	CHECK(!misc_enable_write(v, v | (1ULL << 1), &out) && out == 12345, "reserved bit 1: #GP, unchanged");
	CHECK(!misc_enable_write(v, v | (1ULL << 63), &out) && out == 12345, "reserved bit 63: #GP");
	CHECK(!misc_enable_write(v, v | (1ULL << 38), &out), "model-specific bit 38 (turbo): #GP");

	for (u32 i = 0; i < 100000; i++) {
		u64 value = check_rand() & (i & 1 ? MISC_ENABLE_DEFINED : ~0ULL);
		u64 old = misc_enable_power_on() | (check_rand() & MISC_ENABLE_WRITABLE);
		u64 res = 0;
		bool ok = misc_enable_write(old, value, &res);
		bool want_ok = !(value & ~MISC_ENABLE_DEFINED);
		if (ok != want_ok || (ok && ((res ^ old) & ~MISC_ENABLE_WRITABLE)) ||
		    (ok && (res & MISC_ENABLE_WRITABLE) != (value & MISC_ENABLE_WRITABLE))) {
			CHECK(false, "random writes: #GP exactly for reserved bits, only writable bits move");
			return check_summary();
		}
	}
	CHECK(true, "100000 random writes follow the rules");
	return check_summary();
}
