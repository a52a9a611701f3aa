/* vmcfg_check FILE: runs the monitor's vms.cfg parser on FILE (as the
 * toolchain wrote it) and prints "OK <n> vms" or the parser's error.
 * Exit 0 when accepted, 1 when rejected, 2 on usage or I/O errors. Used by
 * test/toolchain/vms.test.ts to check the TypeScript emitter. */
#include <stdio.h>
#include <stdlib.h>
#include <cg/errno.h>
#include "core/vmcfg.h"

static struct vmcfg cfg;
static char text[1 << 20];

int main(int argc, char **argv)
{
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: vmcfg_check FILE\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	size_t n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (vmcfg_parse(text, n, &cfg, err, sizeof(err))) {
		printf("%s\n", err);
		return 1;
	}
	printf("OK %u vms\n", cfg.count);
	for (unsigned i = 0; i < cfg.count; i++) {
		const struct vmcfg_vm *v = &cfg.vms[i];
		printf("vm %s mem=%u vcpus=%u kernel=%s modules=%u triple=%s unassigned=%s cmdline=%s\n", v->name,
		       v->mem_mib, v->vcpus, v->kernel, v->module_count,
		       v->on_triple_fault == VMCFG_TRIPLE_RESET ? "reset" : "stop",
		       v->on_unassigned == VMCFG_UNASSIGNED_STOP ? "stop" : "ignore", v->cmdline);
		for (unsigned k = 0; k < v->nic_count; k++) {
			const struct vmcfg_nic *n = &v->nics[k];

			printf("nic %s network=%s mac=", v->name, n->network_name);
			if (n->mac_given)
				printf("%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1], n->mac[2], n->mac[3],
				       n->mac[4], n->mac[5]);
			else
				printf("auto");
			printf(" bytes_per_s=%llu packets_per_s=%u\n", (unsigned long long)n->bytes_per_s,
			       n->packets_per_s);
		}
	}
	return 0;
}
