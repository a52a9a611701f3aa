/* The hypercall ABI (docs/guest-abi.md "Hypercalls"): VMCALL at CPL 0,
 * RAX = call number, RBX, RCX, RDX = arguments, result in RAX (negative:
 * an error below); other registers are preserved. Shared by the monitor
 * (arch/x86/vmx/exit_vmcall.c, core/hypercall.c) and the 32-bit test
 * guests: plain C, #defines only. */
#ifndef CG_ABI_HYPERCALL_H
#define CG_ABI_HYPERCALL_H

/* Call numbers (RAX) */
#define HC_VERSION 0        /* -> HC_ABI_VERSION */
#define HC_CONSOLE_WRITE 1  /* RBX = guest-physical address, RCX = length -> bytes */
#define HC_EXIT 2           /* RBX = exit status; does not return */
#define HC_YIELD 3          /* -> 0, after other vCPUs had a chance to run */

/* What HC_VERSION returns (also CPUID leaf 0x40000001 EAX) */
#define HC_ABI_VERSION 1

/* Longest HC_CONSOLE_WRITE */
#define HC_CONSOLE_MAX 4096

/* Errors (RAX, negative; the Linux errno numbers) */
#define HC_EPERM (-1)    /* not at CPL 0 */
#define HC_EFAULT (-14)  /* a guest address that is not RAM */
#define HC_EINVAL (-22)  /* a bad argument */
#define HC_ENOSYS (-38)  /* no such call */

#endif
