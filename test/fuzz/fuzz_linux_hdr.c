/* Fuzz target: the bzImage setup-header check (loader/guest_linux_hdr.c),
 * which reads a kernel image named in the VM description.
 * Input: the error buffer size (1 byte: 1..256), then the image, in an
 * exactly-sized heap block.
 * Invariants beyond "no crash, nothing read past size":
 *  - 0 or -CG_EINVAL; the error text is NUL-terminated in its buffer and
 *    not empty on failure;
 *  - on success the parts the loader will copy lie inside the image
 *    (header end, setup and protected-mode parts), the protected-mode part
 *    is not empty, init_size covers it, kernel_alignment is a power of two
 *    between 4 KiB and 1 GiB and pref_address is below 2^52. */
#include <cg/errno.h>
#include "fuzz.h"
#include "loader/guest_linux_hdr.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t err_size = 1 + fuzz_u8(&in), n;
	char *err = malloc(err_size);
	u8 *img = fuzz_bytes(&in, 1 << 20, &n);
	struct bz_hdr h;
	int rc;

	if (!err)
		abort();
	memset(err, 'x', err_size);
	memset(&h, 0, sizeof(h));
	rc = linux_hdr_parse(img, n, &h, err, err_size);
	FUZZ_CHECK(rc == 0 || rc == -CG_EINVAL, "undocumented result");
	if (rc) {
		FUZZ_CHECK(memchr(err, 0, err_size) != NULL, "error text not terminated");
		FUZZ_CHECK(err_size == 1 || err[0] != 0, "failure without a reason");
	} else {
		FUZZ_CHECK(h.hdr_end >= HDR_MIN_END && h.hdr_end <= n, "setup header outside the image");
		FUZZ_CHECK(h.setup_len >= 512 && h.setup_len <= n && h.pm_len <= n - h.setup_len,
			   "setup or kernel part outside the image");
		FUZZ_CHECK(h.pm_len > 0 && h.init_size >= h.pm_len, "kernel size");
		FUZZ_CHECK(h.align >= PAGE_SIZE && h.align <= GIB && !(h.align & (h.align - 1)),
			   "kernel_alignment");
		FUZZ_CHECK(h.pref < (1ull << 52), "pref_address");
	}
	free(img);
	free(err);
	return 0;
}
