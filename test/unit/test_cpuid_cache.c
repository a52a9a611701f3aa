/* The per-CPU cache of finished CPUID answers (arch/x86/vmx/cpuid_cache.h)
 * and which leaves may go in it (cpuid_policy_cacheable): an initialized
 * cache answers nothing (not even leaf 0, which a zeroed slot's key would
 * be, nor the leaf each empty slot holds the key of), a hit needs
 * the same leaf and subleaf, a collision evicts, and the leaves guests ask
 * most share no slot; the per-vCPU leaves and 0xD are never cacheable. */
#include <stddef.h>
#include "check.h"
#include "arch/x86/vmx/cpuid_cache.h"
#include "arch/x86/vmx/cpuid_policy.h"

static struct cpuid_regs regs(u32 seed)
{
	return (struct cpuid_regs){ seed, seed + 1, seed + 2, seed + 3 };
}

static bool same(const struct cpuid_regs *a, struct cpuid_regs b)
{
	return a && a->eax == b.eax && a->ebx == b.ebx && a->ecx == b.ecx && a->edx == b.edx;
}

int main(void)
{
	CHECK(sizeof(struct cpuid_cache_slot) == 32 && offsetof(struct cpuid_cache_slot, r) == 0,
	      "a slot is 32 bytes with the answer first (one shift from its index)");
	static struct cpuid_cache c; /* zeroed, as the monitor's are before exit_cpuid_bind */
	cpuid_cache_init(&c);
	CHECK(!cpuid_cache_get(&c, 0, 0), "an empty cache has no leaf 0 (zeroed keys are not answers)");
	CHECK(!cpuid_cache_get(&c, 0x80000000u, 0), "nor any other leaf");
	bool none = true;
	for (u32 l = 0; l < 2 * CPUID_CACHE_SLOTS; l++)
		for (u32 s = 0; s < 2; s++)
			none = none && !cpuid_cache_get(&c, l, s) &&
			       !cpuid_cache_get(&c, 0x80000000u + l, s) &&
			       !cpuid_cache_get(&c, 0x40000000u + l, s);
	for (u32 i = 0; i < 256; i++)
		none = none && !cpuid_cache_get(&c, check_rand(), i & 1 ? check_rand() : 0);
	CHECK(none, "no leaf or subleaf hits an empty slot (each holds a key another slot takes)");

	cpuid_cache_put(&c, 0, 0, &(struct cpuid_regs){ 0x16, 0x756E6547, 0x6C65746E, 0x49656E69 });
	CHECK(same(cpuid_cache_get(&c, 0, 0), (struct cpuid_regs){ 0x16, 0x756E6547, 0x6C65746E, 0x49656E69 }),
	      "a put leaf is answered");
	CHECK(!cpuid_cache_get(&c, 0, 1), "another subleaf misses");
	CHECK(!cpuid_cache_get(&c, 16, 0), "a leaf sharing its slot misses");

	cpuid_cache_put(&c, 4, 1, &(struct cpuid_regs){ 1, 2, 3, 4 });
	cpuid_cache_put(&c, 4, 2, &(struct cpuid_regs){ 5, 6, 7, 8 });
	CHECK(!cpuid_cache_get(&c, 4, 1), "a subleaf of the same leaf evicts the other (direct-mapped)");
	CHECK(same(cpuid_cache_get(&c, 4, 2), (struct cpuid_regs){ 5, 6, 7, 8 }), "and is answered");

	/* The basic leaves 0-7 and the extended 0x80000000-7 all at once. */
	static struct cpuid_cache d;
	cpuid_cache_init(&d);
	for (u32 i = 0; i < 8; i++) {
		cpuid_cache_put(&d, i, 0, &(struct cpuid_regs){ 0 });
		*(struct cpuid_regs *)cpuid_cache_get(&d, i, 0) = regs(i * 8);
		cpuid_cache_put(&d, 0x80000000u + i, 0, &(struct cpuid_regs){ 0 });
		*(struct cpuid_regs *)cpuid_cache_get(&d, 0x80000000u + i, 0) = regs(1000 + i * 8);
	}
	bool all = true;
	for (u32 i = 0; i < 8; i++)
		all = all && same(cpuid_cache_get(&d, i, 0), regs(i * 8)) &&
		      same(cpuid_cache_get(&d, 0x80000000u + i, 0), regs(1000 + i * 8));
	CHECK(all, "leaves 0-7 and 0x80000000-7 share no slot");
	const struct cpuid_cache_slot *s = cpuid_cache_slot_of(&d, 0x80000003u);
	CHECK(cpuid_cache_slot_holds(s, 0x80000003u, 0) && !cpuid_cache_slot_holds(s, 0x80000003u, 1) &&
		      &s->r == cpuid_cache_get(&d, 0x80000003u, 0),
	      "the exit's slot test agrees with cpuid_cache_get");
	for (u32 i = 0; i < 64; i++)
		CHECK(cpuid_cache_index(check_rand()) < CPUID_CACHE_SLOTS, "a slot index is in the table");

	CHECK(!cpuid_policy_cacheable(1) && !cpuid_policy_cacheable(7) &&
		      !cpuid_policy_cacheable(0x80000001u),
	      "per-vCPU leaves (APIC ID, CR4 mirrors, RDTSCP) are not cacheable");
	CHECK(!cpuid_policy_cacheable(0xD), "leaf 0xD (EBX follows the guest's XCR0) is not cacheable");
	CHECK(cpuid_policy_cacheable(0) && cpuid_policy_cacheable(4) && cpuid_policy_cacheable(0x15) &&
		      cpuid_policy_cacheable(0x40000000u) && cpuid_policy_cacheable(0x80000008u),
	      "the host's, made-up and crossguard leaves are");
	return check_summary();
}
