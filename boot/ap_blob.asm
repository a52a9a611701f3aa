; The assembled AP trampoline, carried inside the monitor image.
global ap_trampoline_start, ap_trampoline_end
section .rodata
ap_trampoline_start:
	incbin "ap_trampoline.bin"
ap_trampoline_end:
