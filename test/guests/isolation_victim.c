/* isolation_victim: fills a 4 MiB buffer with a known pattern, then keeps
 * re-checking its checksum for `rounds=N` rounds (default about a second
 * under QEMU TCG). Run next to isolation_attacker: if the attacker's
 * stray writes ever reached this VM's memory, the checksum would change. */
#include "guest.h"

#define WORDS (4u << 20) / 4
#define DEFAULT_ROUNDS 300 /* about 1 s under QEMU TCG, 7 M instructions each */
#define SEED 0x5EED1234u

static u32 buffer[WORDS];

static u32 checksum(void)
{
	u32 sum = 0;

	/* Rotate-xor-add: order-sensitive, so swapped words also show. */
	for (u32 i = 0; i < WORDS; i++)
		sum = ((sum << 5) | (sum >> 27)) + (buffer[i] ^ i);
	return sum;
}

int main(void)
{
	u32 rounds = cmdline_uint("rounds", DEFAULT_ROUNDS);

	for (u32 i = 0; i < WORDS; i++)
		buffer[i] = (i * 0x9E3779B1u) ^ SEED;
	u32 want = checksum();
	report_info("victim: 4 MiB at 0x%x, checksum 0x%x, %u rounds", (u32)buffer, want, rounds);

	u32 bad_rounds = 0;
	for (u32 r = 1; r <= rounds; r++) {
		if (checksum() != want)
			bad_rounds++;
		if (r % 25 == 0 || r == rounds)
			printf("victim: round %u of %u\n", r, rounds);
	}
	report(bad_rounds == 0, "checksum intact over %u rounds (%u bad)", rounds, bad_rounds);

	u32 bad_words = 0;
	for (u32 i = 0; i < WORDS; i++)
		if (buffer[i] != ((i * 0x9E3779B1u) ^ SEED))
			bad_words++;
	report(bad_words == 0, "every word still holds its pattern (%u changed)", bad_words);
	return report_summary();
}
