/* vms.cfg: the VM set the toolchain packs as a boot module (see
 * docs/vm-config.md). A line-oriented text format:
 *
 *   cgvms 1
 *   policy rt                  (optional, before the first vm)
 *   image base base.img        (optional, before the first vm: a disk
 *                               image and the module holding it)
 *   network lab0 nic0          (optional, before the first vm: a guest
 *                               network, one switch in the monitor;
 *                               optional uplink: a host NIC, nic0-nic3)
 *   vm web1
 *   mem 64
 *   vcpus 1
 *   kernel web1.kernel
 *   cmdline /path/kernel.elf args
 *   module web1.m0 initrd args
 *   on_triple_fault stop
 *   on_unassigned_access stop  (optional: ignore, the default, or stop)
 *   weight 100                 (optional, like the three below)
 *   cap 500
 *   rt_budget_us 2000
 *   rt_period_us 10000
 *   disk base rw discard 200 1048576 64  (image, ro|rw, keep|discard,
 *                               iops, bytes per second; 0 = unlimited;
 *                               optional overlay quota in MiB, 0 or
 *                               absent = the image's size)
 *   nic lab0 auto 0 0          (network, MAC or auto, bytes per
 *                               second, packets per second; 0 = unlimited)
 *   end
 *
 * Every other module is found by the basename of the first word of its
 * Multiboot cmdline (vmcfg_basename). The parser is pure and bounded: no
 * allocation, nothing read past len, nothing ever silently truncated. */
#ifndef CG_VMCFG_H
#define CG_VMCFG_H

#include <cg/types.h>

#define VMCFG_VERSION 1
#define VMCFG_MAX_VMS 16
#define VMCFG_MAX_MODULES 8
#define VMCFG_NAME_SIZE 32      /* [a-z][a-z0-9_-]{0,30} + NUL */
#define VMCFG_MODNAME_SIZE 49   /* [A-Za-z0-9._-]{1,48} + NUL */
#define VMCFG_CMDLINE_SIZE 256
#define VMCFG_MODCMDLINE_SIZE 128
#define VMCFG_MEM_MIN 2u
/* Guest RAM is one range from 0 and must end below the PCI MMIO window
 * at 0xE0000000 (3584 MiB) until RAM above 4 GiB is mapped around it. */
#define VMCFG_MEM_MAX 3584u
#define VMCFG_VCPUS_MAX 16u
/* The config module's own name (basename of its Multiboot cmdline). */
#define VMCFG_MODULE_NAME "vms.cfg"

struct vmcfg_module {
	char name[VMCFG_MODNAME_SIZE];
	char cmdline[VMCFG_MODCMDLINE_SIZE]; /* what the guest sees for it */
};

enum vmcfg_triple { VMCFG_TRIPLE_STOP, VMCFG_TRIPLE_RESET };
/* A guest data access to a physical address with neither RAM nor a device:
 * ignore (the guest goes on as on QEMU: reads give all ones, writes are
 * dropped) or stop
 * the VM. Instruction fetches from there always stop it. */
enum vmcfg_unassigned { VMCFG_UNASSIGNED_IGNORE, VMCFG_UNASSIGNED_STOP };

#define VMCFG_MAX_IMAGES 8
#define VMCFG_MAX_DISKS 4
#define VMCFG_IOPS_MAX 1000000u
#define VMCFG_BPS_MIN 512ull		/* one sector a second */
#define VMCFG_BPS_MAX 1000000000000ull
/* Overlay quota: at most the largest image the toolchain packs (2 GiB)
 * plus its index pages, in MiB, rounded up. */
#define VMCFG_OVERLAY_MAX_MIB 2053u

/* image <name> <module>: a raw disk image, one module shared by every VM
 * that attaches it. */
struct vmcfg_image {
	char name[VMCFG_NAME_SIZE];	/* [a-z][a-z0-9_-]{0,30} */
	char module[VMCFG_MODNAME_SIZE];
};

/* disk <image> <ro|rw> <keep|discard> <iops> <bytes_per_s> [<overlay_max_mib>]:
 * a virtio-blk device on the image; rw writes go to the VM's own overlay,
 * which a VM reset keeps or discards (ro: always keep), and which may hold
 * at most overlay_max_mib MiB (rw only; 0 or absent: the image's size,
 * index pages included). The image's names are copied here so a VM's
 * description stands alone. */
struct vmcfg_disk {
	u32 image;			/* index into vmcfg.images */
	char image_name[VMCFG_NAME_SIZE];
	char module[VMCFG_MODNAME_SIZE];
	bool rw;
	bool discard;
	u32 iops;			/* 0 = unlimited, else 1..VMCFG_IOPS_MAX */
	u64 bytes_per_s;		/* 0 = unlimited, else BPS_MIN..BPS_MAX */
	u32 overlay_max_mib;		/* 0 = the image's size, else 1..OVERLAY_MAX_MIB */
};

#define VMCFG_MAX_NETWORKS 8
#define VMCFG_MAX_NICS 4
/* A NIC's bytes_per_s: 0, or enough for one largest frame a second. */
#define VMCFG_NIC_BPS_MIN 1518ull
#define VMCFG_NIC_PPS_MAX 10000000u

/* network <name> [nicN]: a guest network (a switch in the monitor), and
 * the host NIC that is its uplink, if any. */
struct vmcfg_network {
	char name[VMCFG_NAME_SIZE];	/* [a-z][a-z0-9_-]{0,30} */
	s32 uplink;			/* host NIC index (nicN), -1 = none */
};

/* nic <network> <mac|auto> <bytes_per_s> <packets_per_s>: a virtio-net
 * device on that network's switch; auto: the monitor derives the MAC. */
struct vmcfg_nic {
	u32 network;			/* index into vmcfg.networks */
	char network_name[VMCFG_NAME_SIZE];
	bool mac_given;
	u8 mac[6];			/* unicast, not all zero */
	u64 bytes_per_s;		/* 0 = unlimited, else NIC_BPS_MIN..BPS_MAX */
	u32 packets_per_s;		/* 0 = unlimited, else 1..NIC_PPS_MAX */
};

struct vmcfg_vm {
	char name[VMCFG_NAME_SIZE];
	u32 mem_mib;
	u32 vcpus;
	char kernel[VMCFG_MODNAME_SIZE];   /* module name of the kernel */
	char cmdline[VMCFG_CMDLINE_SIZE];  /* the guest's Multiboot cmdline */
	u32 module_count;
	struct vmcfg_module modules[VMCFG_MAX_MODULES];
	enum vmcfg_triple on_triple_fault;
	enum vmcfg_unassigned on_unassigned; /* on_unassigned_access */
	u32 weight;        /* 1..10000; 0 = not given (VMCFG_WEIGHT_DEFAULT) */
	u32 cap_permille;  /* 0 = no cap, else 1..1000 per mille of one CPU */
	u32 rt_budget_us;  /* reservation: budget per period, 0 = none */
	u32 rt_period_us;
	u32 disk_count;
	struct vmcfg_disk disks[VMCFG_MAX_DISKS];
	u32 nic_count;
	struct vmcfg_nic nics[VMCFG_MAX_NICS];
};

#define VMCFG_WEIGHT_DEFAULT 100
#define VMCFG_POLICY_SIZE 32

struct vmcfg {
	char policy[VMCFG_POLICY_SIZE]; /* scheduler policy; "" = the image's default */
	u32 image_count;
	struct vmcfg_image images[VMCFG_MAX_IMAGES];
	u32 network_count;
	struct vmcfg_network networks[VMCFG_MAX_NETWORKS];
	u32 count;
	struct vmcfg_vm vms[VMCFG_MAX_VMS];
};

/* vmcfg_parse: parse len bytes of text into out (fully overwritten).
 * Returns 0, or -CG_EINVAL with err holding one line
 * "vms.cfg line N: <what is wrong and the fix>" (always NUL-terminated when
 * err_size > 0; out is then unspecified). */
int vmcfg_parse(const char *text, size_t len, struct vmcfg *out, char *err, size_t err_size);

/* vmcfg_basename: the basename (text after the last '/') of the first
 * space-separated word of a Multiboot module cmdline, copied into buf.
 * Returns buf, or NULL when there is no first word, it ends in '/', or the
 * basename does not fit in size - 1 bytes. */
const char *vmcfg_basename(const char *cmdline, char *buf, size_t size);

/* vmcfg_find: the VM named name, or NULL. */
const struct vmcfg_vm *vmcfg_find(const struct vmcfg *cfg, const char *name);

#endif
