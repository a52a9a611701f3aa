/* Error codes returned (negated) by monitor set-up functions. */
#ifndef CG_ERRNO_H
#define CG_ERRNO_H

enum cg_err {
	CG_OK = 0,
	CG_EINVAL = 1,   /* malformed input: bad magic, checksum, length */
	CG_ENOMEM = 2,   /* allocator or fixed table exhausted */
	CG_ENOENT = 3,   /* a table or tag that must exist was not found */
	CG_ERANGE = 4,   /* an address or size outside what the caller allows */
	CG_ENOTSUP = 5,  /* hardware lacks a required feature */
	CG_EBUSY = 6,    /* already done / in use (double free, double start) */
	CG_ETIMEDOUT = 7,/* a device or CPU did not answer in time */
	CG_EIO = 8,      /* a hardware instruction reported failure */
	CG_EDQUOT = 9,   /* a per-VM quota would be exceeded (disk overlay) */
};

/* cg_strerror: name of an error code, positive or negated; "E?" if unknown. */
const char *cg_strerror(int err);

#endif
