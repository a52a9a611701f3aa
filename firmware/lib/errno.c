/* Names for the monitor's error codes, for log lines such as
 * "pmm_init: ENOMEM". */
#include <limits.h>
#include <cg/errno.h>

/* cg_strerror: the code's name ("EINVAL"), accepting err or -err; "OK" for 0
 * and "E?" for a value that is not a cg_err. Never returns NULL. */
const char *cg_strerror(int err)
{
	/* Negating INT_MIN would overflow; it is not a code anyway. */
	if (err < 0 && err != INT_MIN)
		err = -err;
	switch (err) {
	case CG_OK: return "OK";
	case CG_EINVAL: return "EINVAL";
	case CG_ENOMEM: return "ENOMEM";
	case CG_ENOENT: return "ENOENT";
	case CG_ERANGE: return "ERANGE";
	case CG_ENOTSUP: return "ENOTSUP";
	case CG_EBUSY: return "EBUSY";
	case CG_ETIMEDOUT: return "ETIMEDOUT";
	case CG_EIO: return "EIO";
	case CG_EDQUOT: return "EDQUOT";
	default: return "E?";
	}
}
