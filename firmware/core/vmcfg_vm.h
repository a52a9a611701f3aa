/* The vms.cfg lines that describe VMs and their disks (vmcfg_vm.c): a
 * vm ... end block and its keys, and the top-level image lines the disk
 * lines refer to. Internal to the parser: called by vmcfg.c's line loop;
 * other callers use vmcfg.h. Each takes the value part of its line (v, vn
 * bytes, printable) and on a rejection returns -CG_EINVAL with st->msg
 * holding the one-line error. */
#ifndef CG_VMCFG_VM_H
#define CG_VMCFG_VM_H

#include "core/vmcfg_lex.h"

/* vmcfg_begin_vm: "vm NAME": open a block for a new VM. Returns 0, or
 * -CG_EINVAL for a block already open, a bad or repeated name, or more
 * than VMCFG_MAX_VMS. */
int vmcfg_begin_vm(struct vmcfg_state *st, const char *v, size_t vn);

/* vmcfg_end_vm: "end": close the open block once it has mem, vcpus and
 * kernel and a whole reservation (budget and period, budget <= period).
 * Returns 0, or -CG_EINVAL naming what is missing or wrong. */
int vmcfg_end_vm(struct vmcfg_state *st);

/* vmcfg_add_image: "image NAME MODULE": top level, before the first vm.
 * Returns 0, or -CG_EINVAL for a misplaced line, bad or repeated names,
 * or more than VMCFG_MAX_IMAGES. */
int vmcfg_add_image(struct vmcfg_state *st, const char *v, size_t vn);

/* vmcfg_add_network: "network NAME [nicN]": top level, before the first
 * vm (vmcfg_net.c). Returns 0, or -CG_EINVAL for a misplaced line, a bad
 * or repeated name, an uplink that is not nic0-nic3 or is another
 * network's already, or more than VMCFG_MAX_NETWORKS. */
int vmcfg_add_network(struct vmcfg_state *st, const char *v, size_t vn);

/* vmcfg_add_nic: "nic NETWORK MAC|auto BYTES_PER_S PACKETS_PER_S" inside
 * the open block (vmcfg_net.c). Returns 0, or -CG_EINVAL for an
 * undeclared network, a bad MAC (not xx:xx:xx:xx:xx:xx hex, multicast or
 * all zero, or repeated in the set), a bad rate, or more than
 * VMCFG_MAX_NICS. */
int vmcfg_add_nic(struct vmcfg_state *st, const char *v, size_t vn);

/* vmcfg_vm_key: key k (kn bytes) inside the open block (st->vm), with
 * has_val = the line had a value part. Returns 0, -CG_EINVAL for a bad or
 * repeated value, or -CG_ENOENT (no message) when k is no vm key. */
int vmcfg_vm_key(struct vmcfg_state *st, const char *k, size_t kn, const char *v, size_t vn, bool has_val);

/* vmcfg_is_vm_key: k belongs inside vm ... end; with valued, only the keys
 * that need a value (cmdline and module may be empty). */
bool vmcfg_is_vm_key(const char *k, size_t n, bool valued);

#endif
