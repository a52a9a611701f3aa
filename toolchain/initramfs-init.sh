#!/bin/sh
# /init of the Linux guests' test initramfs (toolchain/make-initramfs.sh).
# It prints stable `CG-LINUX ...` lines on the console for the tests:
#   CG-LINUX init
#   CG-LINUX cpus=<n>
#   CG-LINUX modules ok                      (virtio-blk and virtio-net modules loaded)
#   CG-LINUX disk-size sectors=<n>
#   CG-LINUX disk-read <hex of the first 16 bytes> sha256=<of sector 0>
#   CG-LINUX disk-before sector=<s> <hex of its first 16 bytes>
#   CG-LINUX disk-write ok sector=<s>        (marker written, read back from the device)
#   CG-LINUX seqread sectors=<n>             (with cg.seqread=1: the whole disk read once, for benchmarks)
#   CG-LINUX net-up eth0 mac=<mac> ip=<a.b.c.d> mtu=<n>   (with cg.ip)
#   CG-LINUX net-ping <ip> ok                (with cg.ping: 3 of 3 answered)
#   CG-LINUX net-ping-rtt <ip> avg_ms=<ms>   (their mean round trip, guest time)
#   CG-LINUX net-unreachable <ip>            (with cg.noreach: no answer)
#   CG-LINUX net-send-data bytes=<n> sha256=<hex>   (with cg.send: what it sends)
#   CG-LINUX net-ack sha256=<hex>            (the receiver's checksum of it)
#   CG-LINUX net-send-time seconds=<s>       (guest time from connecting to the ack)
#   CG-LINUX net-recv bytes=<n> sha256=<hex> (with cg.serve: what it received)
#   CG-LINUX uplink-up <if> mac=<mac> ip=<a.b.c.d> server=<ip>  (with cg.fetch: DHCP answered)
#   CG-LINUX uplink-fetch <file> bytes=<n> sha256=<hex>  (the file fetched over TFTP)
#   CG-LINUX done errors=<n>
#   CG-LINUX poweroff | reboot | shell
# and `CG-LINUX error <what>` for anything that failed; it always goes on to
# the action. Kernel command line (read from /proc/cmdline):
#   cg.action=poweroff|reboot|shell   what to do at the end (default poweroff)
#   cg.disk=vda                        the disk to test
#   cg.sector=<n>                      where the marker goes (default 1)
#   cg.tag=<word>                      written in the marker (default linux)
#   cg.write=0                         read only (for a read-only disk)
#   cg.wait=<seconds>                  how long to wait for the disk (default 20)
#   cg.seqread=1                       then read the whole disk sequentially (1 MiB blocks, no page cache)
#   cg.ip=<a.b.c.d>                    configure eth0 (the first virtio-net NIC) as a.b.c.d/24
#   cg.ping=<ip>[,<ip>...]             ping each until it answers (cg.netwait seconds), then 3 more
#   cg.noreach=<ip>[,<ip>...]          each must NOT answer 3 pings (another network)
#   cg.serve=<port>                    receive one TCP stream on port, print its size and
#                                      sha256, send the sha256 back to cg.ackto's port+1
#   cg.ackto=<ip>                      the sender, for cg.serve
#   cg.send=<ip>:<port>                send cg.sendmib MiB of random data to ip:port over
#                                      TCP, then wait for the receiver's sha256 on port+1
#   cg.sendmib=<n>                     default 4
#   cg.netwait=<seconds>               how long to wait for a peer (default 300)
#   cg.fetch=<if>:<file>               DHCP on <if> (a NIC on a network with an uplink), then
#                                      fetch <file> over TFTP from the DHCP server, beside the
#                                      checks above

/bin/busybox --install -s /bin
export PATH=/bin
# No redirections before this: /dev/null only exists once devtmpfs is mounted.
mount -t devtmpfs devtmpfs /dev
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

errors=0
say() { echo "CG-LINUX $*"; }
# Drop the page cache without its kernel message ("drop_caches: 3", loglevel
# info) on the console: the console prints it synchronously, while the tty
# may still be sending our previous CG-LINUX line at the VM's share of the
# serial line, so it would land in the middle of that line.
quiet_drop_caches() {
	read -r level rest </proc/sys/kernel/printk
	echo 4 >/proc/sys/kernel/printk
	echo 3 >/proc/sys/vm/drop_caches
	echo "$level" >/proc/sys/kernel/printk
}
fail() {
	say "error $*"
	errors=$((errors + 1))
}
# arg KEY DEFAULT: the value of cg.KEY= on the kernel command line.
arg() {
	for w in $(cat /proc/cmdline); do
		case "$w" in "cg.$1="*) echo "${w#*=}"; return ;; esac
	done
	echo "$2"
}
# hex16: the first 16 bytes of stdin as 32 hex digits.
hex16() { od -An -tx1 -N16 | tr -d ' \n'; }
# settle: give the tty time to send our last line before the kernel prints
# (power-off, reboot) straight to the console: at the VM's share of the
# paced serial line, a line still queued would be cut by the kernel's.
settle() { sleep 1; }

say init
say "cpus=$(grep -c '^processor' /proc/cpuinfo)"
action=$(arg action poweroff)
disk=$(arg disk vda)
sector=$(arg sector 1)
tag=$(arg tag linux)
wait=$(arg wait 20)
case "$action" in
poweroff | reboot | shell) ;;
*)
	fail "unknown cg.action=$action; use poweroff, reboot or shell"
	action=poweroff
	;;
esac

want=$(cat /etc/cg-kernel)
if [ "$(uname -r)" != "$want" ]; then
	fail "kernel $(uname -r) but the modules are for $want; rebuild with toolchain/make-initramfs.sh"
else
	ok=1
	while read -r m; do
		insmod "/lib/modules/$m.ko" || { fail "insmod $m"; ok=0; }
	done </etc/cg-modules
	[ $ok = 1 ] && say "modules ok"
fi

dev=/dev/$disk
i=0
while [ ! -b "$dev" ] && [ $i -lt "$wait" ]; do
	mdev -s 2>/dev/null
	[ -b "$dev" ] || sleep 1
	i=$((i + 1))
done
if [ ! -b "$dev" ]; then
	fail "no $dev after ${wait}s (no virtio-blk device found; is a disk attached?)"
else
	say "disk-size sectors=$(cat /sys/block/$disk/size)"
	if dd if="$dev" of=/tmp/s0 bs=512 count=1 2>/dev/null && [ -s /tmp/s0 ]; then
		say "disk-read $(hex16 </tmp/s0) sha256=$(sha256sum </tmp/s0 | cut -d' ' -f1)"
	else
		fail "disk-read: cannot read sector 0 of $dev"
	fi
	if dd if="$dev" of=/tmp/before bs=512 skip="$sector" count=1 2>/dev/null && [ -s /tmp/before ]; then
		say "disk-before sector=$sector $(hex16 </tmp/before)"
	else
		fail "disk-read: cannot read sector $sector of $dev"
	fi
	if [ "$(arg write 1)" != 0 ]; then
		# One sector: the marker text, zero-padded.
		echo "cg-mark $tag" | dd of=/tmp/mark bs=512 count=1 conv=sync 2>/dev/null
		if dd if=/tmp/mark of="$dev" bs=512 seek="$sector" count=1 conv=fsync 2>/dev/null; then
			# Read it back from the device, not the page cache.
			blockdev --flushbufs "$dev"
			quiet_drop_caches
			dd if="$dev" of=/tmp/back bs=512 skip="$sector" count=1 2>/dev/null
			if cmp -s /tmp/mark /tmp/back; then
				say "disk-write ok sector=$sector"
			else
				fail "disk-write: sector $sector read back differs: $(hex16 </tmp/back)"
			fi
		else
			fail "disk-write: writing sector $sector of $dev failed (a read-only disk? give cg.write=0)"
		fi
	fi
fi

if [ -b "$dev" ] && [ "$(arg seqread 0)" = 1 ]; then
	blockdev --flushbufs "$dev"
	quiet_drop_caches
	if dd if="$dev" of=/dev/null bs=1048576 2>/dev/null; then
		say "seqread sectors=$(cat /sys/block/$disk/size)"
	else
		fail "seqread: reading $dev failed"
	fi
fi

# Network: eth0 configured by hand (busybox ip), then pings and one TCP
# stream checked end to end with sha256 on both sides.
# listen PORT OUT: receive one TCP connection on PORT into OUT, in the
# background. Its stdin is a FIFO opened read-write: it never ends, so nc
# stays until the peer closes (an ended stdin would make it stop early).
listen() {
	rm -f /tmp/fifo.$1
	mkfifo /tmp/fifo.$1
	timeout "$netwait" nc -l -p "$1" <>/tmp/fifo.$1 >"$2" &
}
# connect IP PORT FILE: send FILE to IP:PORT, retrying while nobody listens.
connect() {
	j=0
	until nc "$1" "$2" <"$3" 2>/dev/null; do
		j=$((j + 1))
		[ $j -ge "$netwait" ] && return 1
		sleep 1
	done
}
net_checks() {
	serve=$(arg serve "")
	send=$(arg send "")
	if [ -n "$serve" ]; then
		listen "$serve" /tmp/rx
		srv=$!
	fi
	if [ -n "$send" ]; then
		listen $((${send#*:} + 1)) /tmp/ack
		ackp=$!
	fi
	for p in $(arg ping "" | tr , ' '); do
		j=0
		until ping -c 1 -W 1 "$p" >/dev/null 2>&1; do
			j=$((j + 1))
			[ $j -ge "$netwait" ] && break
		done
		out=$(ping -c 3 -W 2 "$p" 2>/dev/null)
		got=$(echo "$out" | grep -c 'bytes from')
		if [ "$got" = 3 ]; then say "net-ping $p ok"; else fail "net: ping $p: $got of 3 answered"; fi
		rtt=$(echo "$out" | sed -n 's|.*min/avg/max = [0-9.]*/\([0-9.]*\)/.*|\1|p')
		if [ -n "$rtt" ]; then say "net-ping-rtt $p avg_ms=$rtt"; fi
	done
	for p in $(arg noreach "" | tr , ' '); do
		if ping -c 3 -W 1 "$p" >/dev/null 2>&1; then
			fail "net: $p answered from another network"
		else
			say "net-unreachable $p"
		fi
	done
	if [ -n "$send" ]; then
		dd if=/dev/urandom of=/tmp/tx bs=1048576 count="$(arg sendmib 4)" 2>/dev/null
		say "net-send-data bytes=$(wc -c </tmp/tx) sha256=$(sha256sum </tmp/tx | cut -d' ' -f1)"
		t0=$(cut -d' ' -f1 /proc/uptime)
		connect "${send%:*}" "${send#*:}" /tmp/tx || fail "net: cannot send to $send"
		wait $ackp
		t1=$(cut -d' ' -f1 /proc/uptime)
		say "net-ack sha256=$(cut -d' ' -f1 </tmp/ack)"
		say "net-send-time seconds=$(awk "BEGIN { print $t1 - $t0 }")"
	fi
	if [ -n "$serve" ]; then
		wait $srv
		sum=$(sha256sum </tmp/rx | cut -d' ' -f1)
		say "net-recv bytes=$(wc -c </tmp/rx) sha256=$sum"
		echo "$sum" >/tmp/sum
		connect "$(arg ackto "")" $((serve + 1)) /tmp/sum || fail "net: cannot send the checksum back"
	fi
}

# Uplink: an address from a DHCP server outside the machine (through the
# monitor's bridge to its own NIC), then one file over TFTP from that
# server. Runs in the background beside net_checks; returns 1 on failure.
uplink_fetch() {
	ifc=${1%%:*}
	file=${1#*:}
	i=0
	while [ ! -e "/sys/class/net/$ifc" ] && [ $i -lt "$wait" ]; do
		sleep 1
		i=$((i + 1))
	done
	[ -e "/sys/class/net/$ifc" ] || { fail "no $ifc after ${wait}s (a second virtio-net nic?)"; return 1; }
	# udhcpc's script: only the address (no default route: the test
	# networks' own routes stay as they are).
	printf '#!/bin/sh\n[ "$1" = bound ] || exit 0\nip addr add "$ip/$mask" dev "$interface"\necho "$ip ${serverid:-$siaddr}" >/tmp/lease\n' >/tmp/dhcp.sh
	chmod +x /tmp/dhcp.sh
	ip link set "$ifc" up
	if ! udhcpc -i "$ifc" -n -q -t 20 -T 3 -s /tmp/dhcp.sh >/dev/null 2>&1 || [ ! -s /tmp/lease ]; then
		fail "uplink: no DHCP answer on $ifc"
		return 1
	fi
	read -r addr server </tmp/lease
	say "uplink-up $ifc mac=$(cat "/sys/class/net/$ifc/address") ip=$addr server=$server"
	if timeout "$netwait" tftp -g -r "$file" -l /tmp/fetched "$server" && [ -s /tmp/fetched ]; then
		say "uplink-fetch $file bytes=$(wc -c </tmp/fetched) sha256=$(sha256sum </tmp/fetched | cut -d' ' -f1)"
	else
		fail "uplink: tftp $file from $server failed"
		return 1
	fi
}

ip=$(arg ip "")
netwait=$(arg netwait 300)
fetch=$(arg fetch "")
if [ -n "$fetch" ]; then
	uplink_fetch "$fetch" &
	fetcher=$!
fi
if [ -n "$ip" ]; then
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt "$wait" ]; do
		sleep 1
		i=$((i + 1))
	done
	if [ ! -e /sys/class/net/eth0 ]; then
		fail "no eth0 after ${wait}s (no virtio-net device found; is a nic attached?)"
	elif ip link set lo up && ip addr add "$ip/24" dev eth0 && ip link set eth0 up; then
		say "net-up eth0 mac=$(cat /sys/class/net/eth0/address) ip=$ip mtu=$(cat /sys/class/net/eth0/mtu)"
		net_checks
	else
		fail "net: cannot configure eth0 as $ip/24"
	fi
fi

if [ -n "$fetch" ]; then
	wait $fetcher || errors=$((errors + 1))
fi

say "done errors=$errors"
case "$action" in
poweroff) ;;
reboot)
	say reboot
	sync
	settle
	reboot -f
	;;
shell)
	say shell
	setsid cttyhack sh
	;;
esac
say poweroff
sync
settle
poweroff -f
# Should power-off not work, stay here: /init must not exit (the kernel would panic).
while :; do sleep 3600; done
