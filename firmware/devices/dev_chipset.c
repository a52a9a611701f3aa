/* The chipset's I/O-port devices glued to their pure models: the CMOS RTC
 * (dev_rtc.c) and the reset / power-off registers (dev_sysctl.c). One
 * lock per VM covers both; the VM ends outside it. */
#include "core/dev.h"
#include "core/arch.h"
#include "lib/log.h"
#include "core/vm.h"
#include <cg/spinlock.h>

enum dev_result dev_rtc_io(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	struct vm_devices *d = &v->vm->dev;
	/* The wall clock may read the host RTC: not under the VM's lock. */
	u64 wall = __atomic_load_n(&d->rtc_ready, __ATOMIC_ACQUIRE) ? 0 : arch_wallclock_seconds();
	u64 now = dev_now_ns();

	spin_lock(&d->chipset_lock);
	if (!d->rtc_ready) {
		rtc_reset(&d->rtc, now, wall);
		__atomic_store_n(&d->rtc_ready, true, __ATOMIC_RELEASE);
	}
	if (in)
		*val = rtc_read(&d->rtc, port, now) | (size > 1 ? 0xFFFFFF00u : 0);
	else
		rtc_write(&d->rtc, port, (u8)*val, now);
	spin_unlock(&d->chipset_lock);
	return DEV_OK;
}

enum dev_result dev_sysctl_io(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	struct vm_devices *d = &v->vm->dev;
	enum sysctl_action act = SYSCTL_NONE;
	u8 typ;

	spin_lock(&d->chipset_lock);
	if (in)
		*val = sysctl_read(&d->sysctl, port, size);
	else
		act = sysctl_write(&d->sysctl, port, size, *val);
	typ = d->sysctl.sleep_typ;
	spin_unlock(&d->chipset_lock);

	switch (act) {
	case SYSCTL_RESET:
		/* Asked for by the guest: always a reset, whatever
		 * on_triple_fault says. */
		vm_end(v->vm, VM_END_RESET, 0, "guest-reset");
		return DEV_VM_ENDED;
	case SYSCTL_POWEROFF:
		vm_end(v->vm, VM_END_EXIT, 0, "poweroff");
		return DEV_VM_ENDED;
	case SYSCTL_SLEEP_IGNORED:
		kprintf("vm %s: ACPI sleep type %u requested; only soft-off (%u) exists, ignored\n",
			v->vm->name, typ, SYSCTL_SLP_TYP_S5);
		return DEV_OK;
	default:
		return DEV_OK;
	}
}
