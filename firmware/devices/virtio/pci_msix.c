/* MSI-X capability, table and pending bits: see pci_msix.h. */
#include <cg/errno.h>
#include <cg/string.h>
#include "devices/virtio/pci_msix.h"
#include <cg/unaligned.h>

/* Message control (capability + 2), high byte. */
#define MSIX_CTRL_ENABLE 0x80
#define MSIX_CTRL_MASKALL 0x40
#define MSIX_ENTRY_MASKED 1u

int pci_msix_init(struct pci_msix *m, struct pci_dev *d, u32 vectors, u32 bar, u32 pba_off,
		  int (*send)(struct vm *vm, u64 addr, u32 data), struct vm *vm)
{
	u32 c;

	memset(m, 0, sizeof(*m));
	if (!vectors || vectors > PCI_MSIX_VECTORS_MAX || bar >= PCI_BARS || (pba_off & 7) ||
	    pba_off < vectors * PCI_MSIX_ENTRY_SIZE)
		return -CG_EINVAL;
	c = pci_dev_add_cap(d, PCI_CAP_ID_MSIX, PCI_MSIX_CAP_LEN);
	if (!c)
		return -CG_EINVAL;
	m->pci = d;
	m->cap = (u8)c;
	m->vectors = (u16)vectors;
	m->pba_off = pba_off;
	m->send = send;
	m->vm = vm;
	/* Table size - 1 (read-only), then Enable and Function Mask. */
	d->cfg[c + 2] = (u8)(vectors - 1);
	d->wmask[c + 3] = MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL;
	le32_put(d->cfg + c + 4, bar);		/* table at offset 0, BIR */
	le32_put(d->cfg + c + 8, pba_off | bar);	/* PBA offset, BIR */
	for (u32 v = 0; v < vectors; v++)
		m->e[v].ctrl = MSIX_ENTRY_MASKED; /* 6.8.2.9: masked at reset */
	return 0;
}

static u8 ctrl(const struct pci_msix *m)
{
	return m->pci->cfg[m->cap + 3];
}

bool pci_msix_enabled(const struct pci_msix *m)
{
	return ctrl(m) & MSIX_CTRL_ENABLE;
}

static bool masked(const struct pci_msix *m, u32 vec)
{
	return (ctrl(m) & MSIX_CTRL_MASKALL) || (m->e[vec].ctrl & MSIX_ENTRY_MASKED);
}

static void send(struct pci_msix *m, u32 vec)
{
	const struct pci_msix_entry *e = &m->e[vec];

	/* An address or mode the platform cannot deliver is dropped there
	 * (irq_msi says so); the device goes on. */
	m->send(m->vm, (u64)e->addr_hi << 32 | e->addr_lo, e->data);
}

void pci_msix_signal(struct pci_msix *m, u32 vec)
{
	if (vec >= m->vectors)
		return;
	if (masked(m, vec))
		m->pba |= 1u << vec;
	else
		send(m, vec);
}

void pci_msix_flush(struct pci_msix *m)
{
	if (!pci_msix_enabled(m))
		return;
	for (u32 v = 0; v < m->vectors; v++) {
		if ((m->pba & (1u << v)) && !masked(m, v)) {
			m->pba &= ~(1u << v);
			send(m, v);
		}
	}
}

void pci_msix_clear_pending(struct pci_msix *m)
{
	m->pba = 0;
}

/* One dword of the BAR. */
static u32 dword(struct pci_msix *m, u64 o, bool write, u32 v)
{
	if (o >= m->pba_off)
		return !write && o == m->pba_off ? m->pba : 0;
	if (o / PCI_MSIX_ENTRY_SIZE >= m->vectors)
		return 0;
	struct pci_msix_entry *e = &m->e[o / PCI_MSIX_ENTRY_SIZE];
	u32 *f = (o & 15) == 0 ? &e->addr_lo : (o & 15) == 4 ? &e->addr_hi
		 : (o & 15) == 8 ? &e->data : &e->ctrl;

	if (!write)
		return *f;
	if (f != &e->ctrl) {
		*f = v;
	} else {
		bool was = e->ctrl & MSIX_ENTRY_MASKED;

		e->ctrl = v & MSIX_ENTRY_MASKED; /* the other bits are reserved */
		if (was && !(v & MSIX_ENTRY_MASKED))
			pci_msix_flush(m);
	}
	return 0;
}

void pci_msix_bar_access(struct pci_msix *m, u64 off, bool write, u32 size, u64 *val)
{
	u64 r = 0;

	/* 6.8.2: aligned dword or qword accesses only. */
	if ((size == 4 || size == 8) && !(off & (size - 1)))
		for (u32 k = 0; k < size / 4; k++)
			r |= (u64)dword(m, off + 4 * k, write, write ? (u32)(*val >> (32 * k)) : 0)
			     << (32 * k);
	if (!write)
		*val = r;
}
