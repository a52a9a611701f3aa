/* Reset and power-off registers (dev_sysctl.h). */
#include "devices/dev_sysctl.h"

void sysctl_reset(struct sysctl *s)
{
	*s = (struct sysctl){ 0 };
}

static u32 sysctl_widen(u8 v, u32 size)
{
	return size >= 4 ? (0xFFFFFF00u | v) : ((1u << (size * 8)) - 1) & (0xFFFFFF00u | v);
}

u32 sysctl_read(struct sysctl *s, u16 port, u32 size)
{
	u8 v;

	switch (port) {
	case SYSCTL_PORT_KBD_DATA:
		v = 0;
		break;
	case SYSCTL_PORT_KBD_CMD:
		v = SYSCTL_KBD_STATUS_SYS | SYSCTL_KBD_STATUS_UNLOCKED |
		    (s->kbd_data_last ? 0 : SYSCTL_KBD_STATUS_CMD);
		break;
	case SYSCTL_PORT_RST_CNT:
		if (size != 1)
			return sysctl_widen(0xFF, size);
		v = s->rst_cnt;
		break;
	case SYSCTL_PORT_SLEEP_CTL:
		v = 0; /* SLP_EN and SLP_TYPx are write-only */
		break;
	case SYSCTL_PORT_SLEEP_STS:
		v = s->wak_sts;
		break;
	default:
		v = 0xFF;
	}
	return sysctl_widen(v, size);
}

/* Command byte to port 0x64. */
static enum sysctl_action sysctl_kbd_command(struct sysctl *s, u8 cmd)
{
	s->kbd_data_last = false;
	s->kbd_output_next = cmd == SYSCTL_KBD_WRITE_OUTPUT;
	/* 0xF0-0xFF pulse the output lines whose bit is 0; line 0 is reset. */
	if ((cmd & 0xF0) == 0xF0 && !(cmd & 1))
		return SYSCTL_RESET;
	return SYSCTL_NONE;
}

/* Data byte to port 0x60: the output port after 0xD1, else a byte for a
 * keyboard that is not there. */
static enum sysctl_action sysctl_kbd_data(struct sysctl *s, u8 v)
{
	bool output = s->kbd_output_next;

	s->kbd_data_last = true;
	s->kbd_output_next = false;
	/* Output port bit 0 is the system reset line, active low. */
	return output && !(v & 1) ? SYSCTL_RESET : SYSCTL_NONE;
}

static enum sysctl_action sysctl_sleep(struct sysctl *s, u8 v)
{
	if (!(v & SYSCTL_SLP_EN))
		return SYSCTL_NONE;
	s->sleep_typ = (u8)((v & SYSCTL_SLP_TYP_MASK) >> SYSCTL_SLP_TYP_SHIFT);
	if (s->sleep_typ == SYSCTL_SLP_TYP_S5)
		return SYSCTL_POWEROFF;
	s->wak_sts = SYSCTL_WAK_STS;
	return SYSCTL_SLEEP_IGNORED;
}

enum sysctl_action sysctl_write(struct sysctl *s, u16 port, u32 size, u32 value)
{
	u8 v = (u8)value;

	switch (port) {
	case SYSCTL_PORT_KBD_DATA:
		return sysctl_kbd_data(s, v);
	case SYSCTL_PORT_KBD_CMD:
		return sysctl_kbd_command(s, v);
	case SYSCTL_PORT_RST_CNT:
		if (size != 1)
			return SYSCTL_NONE;
		s->rst_cnt = v;
		return v & SYSCTL_RST_CPU ? SYSCTL_RESET : SYSCTL_NONE;
	case SYSCTL_PORT_SLEEP_CTL:
		return sysctl_sleep(s, v);
	case SYSCTL_PORT_SLEEP_STS:
		s->wak_sts &= (u8)~(v & SYSCTL_WAK_STS);
		return SYSCTL_NONE;
	default:
		return SYSCTL_NONE;
	}
}
