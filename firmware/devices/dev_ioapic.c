/* The VM's I/O APIC. Register layout from the 82093AA datasheet: ID (0),
 * version (1), arbitration (2), redirection table at 0x10 + 2 * pin (low
 * dword) and + 1 (high dword). Input levels are "asserted" levels: the
 * polarity bit is kept for the guest to read but devices report logical
 * assertion, so it never inverts anything. */
#include "devices/dev_ioapic.h"
#include <cg/errno.h>
#include <cg/spinlock.h>

#define IOREGSEL 0x00
#define IOWIN 0x10
#define REG_ID 0x00
#define REG_VERSION 0x01
#define REG_ARB 0x02
#define REG_REDIR 0x10
#define IOAPIC_VERSION (0x11u | ((IOAPIC_PINS - 1u) << 16))

#define RTE_VECTOR(x) ((u8)((x) & 0xFF))
#define RTE_MODE(x) (((x) >> 8) & 7)
#define RTE_LOGICAL (1ULL << 11)
#define RTE_DELIVERY_STATUS (1ULL << 12)
#define RTE_REMOTE_IRR (1ULL << 14)
#define RTE_LEVEL (1ULL << 15)
#define RTE_MASKED (1ULL << 16)
#define RTE_DEST(x) ((u32)((x) >> 56))
/* Bits the guest may write: everything but delivery status and Remote IRR */
#define RTE_WRITABLE (~(RTE_DELIVERY_STATUS | RTE_REMOTE_IRR) & 0xFF0000000001FFFFULL)
/* Only fixed and lowest-priority entries are level-triggered: NMI, SMI,
 * INIT and ExtINT are edges whatever the trigger-mode bit says (82093AA
 * datasheet 3.2.4), so they never wait for an EOI in Remote IRR. */
static bool rte_level(u64 rte)
{
	u32 mode = RTE_MODE(rte);
	return (rte & RTE_LEVEL) && (mode == IOAPIC_MODE_FIXED || mode == IOAPIC_MODE_LOWEST);
}

void ioapic_reset(struct ioapic *io, u32 id)
{
	io->id = id & 0xF;
	io->sel = 0;
	io->pin_level = 0;
	io->delivered = 0;
	for (u32 i = 0; i < IOAPIC_PINS; i++)
		io->redir[i] = RTE_MASKED;
}

/* Deliveries found under the lock are made after it is dropped: a
 * delivery may wake a vCPU through the scheduler. */
struct pending {
	u64 rte[IOAPIC_PINS];
	u32 n;
};

/* pin may interrupt now: unmasked, asserted, and for level-triggered
 * pins not waiting for an EOI. Marks Remote IRR for level pins. */
static void ioapic_try(struct ioapic *io, u32 pin, struct pending *p)
{
	u64 *rte = &io->redir[pin];
	if ((*rte & RTE_MASKED) || !(io->pin_level & (1U << pin)))
		return;
	if (rte_level(*rte)) {
		if (*rte & RTE_REMOTE_IRR)
			return;
		*rte |= RTE_REMOTE_IRR;
	}
	p->rte[p->n++] = *rte;
}

static void ioapic_send(struct ioapic *io, const struct ioapic_env *env, const struct pending *p)
{
	for (u32 i = 0; i < p->n; i++) {
		u64 rte = p->rte[i];
		env->deliver(env->vm, RTE_DEST(rte), rte & RTE_LOGICAL, RTE_MODE(rte), RTE_VECTOR(rte),
			     rte_level(rte));
		__atomic_fetch_add(&io->delivered, 1, __ATOMIC_RELAXED);
	}
}

void ioapic_line(struct ioapic *io, const struct ioapic_env *env, u32 pin, bool level)
{
	if (pin >= IOAPIC_PINS)
		return;
	struct pending p = { .n = 0 };
	spin_lock(&io->lock);
	u32 bit = 1U << pin;
	bool was = io->pin_level & bit;
	io->pin_level = level ? io->pin_level | bit : io->pin_level & ~bit;
	if (level && (!was || rte_level(io->redir[pin])))
		ioapic_try(io, pin, &p);
	spin_unlock(&io->lock);
	ioapic_send(io, env, &p);
}

void ioapic_eoi(struct ioapic *io, const struct ioapic_env *env, u8 vector)
{
	struct pending p = { .n = 0 };
	spin_lock(&io->lock);
	for (u32 pin = 0; pin < IOAPIC_PINS; pin++) {
		u64 *rte = &io->redir[pin];
		if (rte_level(*rte) && (*rte & RTE_REMOTE_IRR) && RTE_VECTOR(*rte) == vector) {
			*rte &= ~RTE_REMOTE_IRR;
			ioapic_try(io, pin, &p);
		}
	}
	spin_unlock(&io->lock);
	ioapic_send(io, env, &p);
}

static u32 ioapic_read(struct ioapic *io)
{
	u32 r = io->sel;
	if (r >= REG_REDIR && r < REG_REDIR + 2 * IOAPIC_PINS) {
		u64 rte = io->redir[(r - REG_REDIR) / 2];
		return (r & 1) ? (u32)(rte >> 32) : (u32)rte;
	}
	switch (r) {
	case REG_ID:
	case REG_ARB:
		return io->id << 24;
	case REG_VERSION:
		return IOAPIC_VERSION;
	default:
		return 0;
	}
}

static void ioapic_write(struct ioapic *io, u32 val, struct pending *p)
{
	u32 r = io->sel;
	if (r == REG_ID) {
		io->id = (val >> 24) & 0xF;
		return;
	}
	if (r < REG_REDIR || r >= REG_REDIR + 2 * IOAPIC_PINS)
		return; /* version and arbitration are read-only */
	u32 pin = (r - REG_REDIR) / 2;
	u64 *rte = &io->redir[pin];
	u64 want = (r & 1) ? ((u64)val << 32) | (u32)*rte : (*rte & ~0xFFFFFFFFULL) | val;
	*rte = (*rte & ~RTE_WRITABLE) | (want & RTE_WRITABLE);
	if (!rte_level(*rte))
		*rte &= ~RTE_REMOTE_IRR;
	/* An unmasked level-triggered pin that is asserted interrupts now;
	 * an edge that came while masked is lost, as on the chip. */
	if (rte_level(*rte))
		ioapic_try(io, pin, p);
}

int ioapic_mmio(struct ioapic *io, const struct ioapic_env *env, u64 off, bool write, u32 size,
		u64 *val)
{
	if (size != 4 || (off & 3))
		return -CG_EINVAL;
	struct pending p = { .n = 0 };
	spin_lock(&io->lock);
	if (off == IOREGSEL) {
		if (write)
			io->sel = (u32)*val & 0xFF;
		else
			*val = io->sel;
	} else if (off == IOWIN) {
		if (write)
			ioapic_write(io, (u32)*val, &p);
		else
			*val = ioapic_read(io);
	} else if (!write) {
		*val = 0;
	}
	spin_unlock(&io->lock);
	ioapic_send(io, env, &p);
	return 0;
}
