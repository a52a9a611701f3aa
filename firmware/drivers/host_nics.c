/* The host NICs the monitor drives: the scan's functions handed to the
 * first driver that matches, numbered nic0, nic1, ... in scan order (bus,
 * device, function ascending from bus 0: the order is the machine's own
 * and stays the same from boot to boot). See nic.h. */
#include <cg/errno.h>
#include <cg/string.h>
#include "drivers/e1000.h"
#include "drivers/nic.h"
#include "lib/log.h"

static const struct host_nic_ops *const drivers[] = { &e1000_nic_ops, &e1000e_nic_ops };

static struct host_nic nics[HOST_NIC_MAX];
static u32 nic_count;
static struct pci_host_dev devs[PCI_HOST_MAX_DEVS];

static const struct host_nic_ops *driver_for(const struct pci_host_dev *d)
{
	for (u32 i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (drivers[i]->match(d->vendor, d->device))
			return drivers[i];
	return NULL;
}

/* MSI to the boot CPU when the function lists it (MSI-X alone, as on
 * the server NICs, is not set up: the NIC is polled). */
static void msi_setup(struct host_nic *nic, const struct pci_cfg *cfg, const struct pci_host_dev *d,
		      const struct host_nic_irq *irq)
{
	u8 vector;
	int rc;

	if (!irq || !d->msi)
		return;
	vector = (u8)(irq->vector_base + nic->index);
	rc = pci_host_msi_enable(cfg, d->bdf, irq->apic_id, vector);
	if (rc)
		kprintf("nic: nic%u: MSI not set up (%s); polled\n", nic->index, cg_strerror(rc));
	else
		nic->vector = vector;
}

u32 host_nics_probe(const struct pci_cfg *cfg, const struct host_nic_irq *irq)
{
	u32 found = pci_host_scan(cfg, devs, PCI_HOST_MAX_DEVS), kept;

	kept = found < PCI_HOST_MAX_DEVS ? found : PCI_HOST_MAX_DEVS;
	kprintf("pci: %u functions through %s%s\n", found, cfg->how,
		found > kept ? " (the first 64 kept)" : "");
	for (u32 i = 0; i < kept && nic_count < HOST_NIC_MAX; i++) {
		const struct pci_host_dev *d = &devs[i];
		const struct host_nic_ops *ops = driver_for(d);
		struct host_nic *nic = &nics[nic_count];
		const u8 *m = nic->mac;
		int rc;

		if (!ops)
			continue;
		memset(nic, 0, sizeof(*nic));
		nic->ops = ops;
		nic->index = nic_count;
		nic->bdf = d->bdf;
		nic->vendor = d->vendor;
		nic->device = d->device;
		nic->msi = d->msi || d->msix;
		rc = ops->probe(nic, cfg, d);
		if (rc) {
			kprintf("nic: %s %04x:%04x at %02x:%02x.%u not used: %s\n", ops->name, d->vendor,
				d->device, d->bdf >> 8, (d->bdf >> 3) & 31, d->bdf & 7, nic->why);
			continue;
		}
		msi_setup(nic, cfg, d, irq);
		cg_marker("host-nic", "index=%u driver=%s pci=%02x:%02x.%u id=%04x:%04x mac=%02x:%02x:%02x:%02x:%02x:%02x msi=%u link=%s irq=%s",
			  nic->index, ops->name, d->bdf >> 8, (d->bdf >> 3) & 31, d->bdf & 7, d->vendor,
			  d->device, m[0], m[1], m[2], m[3], m[4], m[5], nic->msi,
			  ops->link(nic) ? "up" : "down", nic->vector ? "msi" : "poll");
		__atomic_store_n(&nic_count, nic_count + 1, __ATOMIC_RELEASE);
	}
	return nic_count;
}

struct host_nic *host_nic_get(u32 index)
{
	return index < __atomic_load_n(&nic_count, __ATOMIC_ACQUIRE) ? &nics[index] : NULL;
}

u32 host_nic_count(void)
{
	return __atomic_load_n(&nic_count, __ATOMIC_ACQUIRE);
}
