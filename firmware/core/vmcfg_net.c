/* vms.cfg guest networks (contracts in vmcfg_vm.h): the top-level
 * network lines and the nic lines inside a vm block that attach to them.
 * A MAC written in the file is checked here as the monitor will use it:
 * unicast, not all zero, and unique in the set (auto MACs are derived and
 * checked when the VM is built, vm_net.c). */
#include "core/vmcfg_vm.h"
#include <cg/errno.h>
#include <cg/string.h>

/* An uplink names a host NIC as the monitor numbers them: nic0 .. nic3. */
static bool uplink_name(const char *v, size_t vn, u32 *index)
{
	if (vn != 4 || memcmp(v, "nic", 3) || v[3] < '0' || v[3] > '3')
		return false;
	*index = (u32)(v[3] - '0');
	return true;
}

int vmcfg_add_network(struct vmcfg_state *st, const char *v, size_t vn)
{
	struct vmcfg *c = st->out;
	struct vmcfg_network *net;
	const char *f[2];
	size_t fn[2];
	u32 nf = vmcfg_split_fields(v, vn, f, fn, 2), nic = 0;

	if (st->vm)
		return vmcfg_bad_val(st, "network inside vm ", st->vm->name, strlen(st->vm->name),
				     "; 'network' is a top-level line, put it before the first 'vm'");
	if (c->count)
		return vmcfg_bad(st, "network after a vm block; put the 'network' lines before the first 'vm'");
	if (nf < 1 || nf > 2)
		return vmcfg_bad(st, "'network' takes a name and an optional uplink; write 'network <name> [nic0]'");
	if (!vmcfg_valid_vm_name(f[0], fn[0]))
		return vmcfg_bad_val(st, "network name ", f[0], fn[0], " is not [a-z][a-z0-9_-]{0,30}; rename it");
	for (u32 i = 0; i < c->network_count; i++)
		if (vmcfg_word_is(f[0], fn[0], c->networks[i].name))
			return vmcfg_bad_val(st, "network name ", f[0], fn[0], " is used twice; names must be unique");
	if (nf == 2 && !uplink_name(f[1], fn[1], &nic))
		return vmcfg_bad_val(st, "uplink ", f[1], fn[1], " is no host NIC; write nic0 (the first NIC the monitor finds) up to nic3");
	for (u32 i = 0; nf == 2 && i < c->network_count; i++)
		if (c->networks[i].uplink == (s32)nic)
			return vmcfg_bad_val(st, "uplink ", f[1], fn[1], " is the uplink of another network already; give each network its own NIC");
	if (c->network_count >= VMCFG_MAX_NETWORKS)
		return vmcfg_bad(st, "more than 8 networks; put VMs on fewer networks");
	net = &c->networks[c->network_count++];
	vmcfg_copy_str(net->name, f[0], fn[0]);
	net->uplink = nf == 2 ? (s32)nic : -1;
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* xx:xx:xx:xx:xx:xx, hex digits of either case. */
static bool parse_mac(const char *s, size_t n, u8 *mac)
{
	if (n != 17)
		return false;
	for (u32 i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (u8)(hi << 4 | lo);
	}
	return true;
}

/* Whether a nic of the set so far (the open block included: it is
 * counted from its 'vm' line on) has mac. */
static bool mac_taken(const struct vmcfg *c, const u8 *mac)
{
	for (u32 i = 0; i < c->count; i++) {
		const struct vmcfg_vm *vm = &c->vms[i];

		for (u32 k = 0; k < vm->nic_count; k++)
			if (vm->nics[k].mac_given && !memcmp(vm->nics[k].mac, mac, 6))
				return true;
	}
	return false;
}

int vmcfg_add_nic(struct vmcfg_state *st, const char *v, size_t vn)
{
	struct vmcfg *c = st->out;
	struct vmcfg_vm *vm = st->vm;
	struct vmcfg_nic *d;
	const char *f[4];
	size_t fn[4];
	u32 nf, net = VMCFG_MAX_NETWORKS;
	u64 n;

	nf = vmcfg_split_fields(v, vn, f, fn, 4);
	for (u32 i = 0; i < nf && i < 4; i++)
		if (!fn[i])
			nf = 0;
	if (nf != 4)
		return vmcfg_bad(st, "'nic' takes four values; write 'nic <network> <mac|auto> <bytes_per_s> <packets_per_s>'");
	for (u32 i = 0; i < c->network_count; i++)
		if (vmcfg_word_is(f[0], fn[0], c->networks[i].name))
			net = i;
	if (net == VMCFG_MAX_NETWORKS)
		return vmcfg_bad_val(st, "nic network ", f[0], fn[0],
				     " is not declared; add 'network <name>' before the first 'vm'");
	if (vm->nic_count >= VMCFG_MAX_NICS)
		return vmcfg_bad(st, "more than 4 nics in one vm; remove some");
	d = &vm->nics[vm->nic_count];
	memset(d, 0, sizeof(*d));
	d->network = net;
	vmcfg_copy_str(d->network_name, c->networks[net].name, strlen(c->networks[net].name));
	if (!vmcfg_word_is(f[1], fn[1], "auto")) {
		if (!parse_mac(f[1], fn[1], d->mac))
			return vmcfg_bad_val(st, "nic mac ", f[1], fn[1],
					     " is not six hex bytes xx:xx:xx:xx:xx:xx; give one or write auto");
		if (d->mac[0] & 1)
			return vmcfg_bad_val(st, "nic mac ", f[1], fn[1],
					     " is a multicast address (bit 0 of the first byte); give a unicast one such as 02:...");
		if (!(d->mac[0] | d->mac[1] | d->mac[2] | d->mac[3] | d->mac[4] | d->mac[5]))
			return vmcfg_bad(st, "nic mac 00:00:00:00:00:00 is no address; give another or write auto");
		if (mac_taken(c, d->mac))
			return vmcfg_bad_val(st, "nic mac ", f[1], fn[1], " is used twice; MACs must be unique");
		d->mac_given = true;
	}
	if (!vmcfg_parse_u64(f[2], fn[2], VMCFG_BPS_MAX, &n) || (n && n < VMCFG_NIC_BPS_MIN))
		return vmcfg_bad_val(st, "nic bytes_per_s ", f[2], fn[2],
				     " is not 0 or a whole number from 1518 to 1000000000000; give one (0 = unlimited)");
	d->bytes_per_s = n;
	if (!vmcfg_parse_u64(f[3], fn[3], VMCFG_NIC_PPS_MAX, &n))
		return vmcfg_bad_val(st, "nic packets_per_s ", f[3], fn[3],
				     " is not a whole number from 0 to 10000000; give one (0 = unlimited)");
	d->packets_per_s = (u32)n;
	vm->nic_count++;
	return 0;
}
