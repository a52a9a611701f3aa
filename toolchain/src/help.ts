// Help texts shared by the CLI declarations and the commands (no imports, so
// cli.ts stays cheap to load).

export const ESCAPE_HINT = 'Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A';

export const RUN_EPILOGUE = `Exit status:
  0  --until matched, or the session ended normally (machine exited, Ctrl-A x)
  1  other errors (build failed, emulator missing or failed to start)
  2  usage error (bad option, --boot elf with Bochs)
  3  timeout (--timeout passed before --until matched)
  4  the emulator exited before --until matched (its diagnostics go to stderr)
  130/143  interrupted by SIGINT/SIGTERM (the machine is stopped)
On a terminal, keystrokes go to the guest's COM1; ${ESCAPE_HINT}.
With --kernel (like qemu-system-x86_64 -kernel: 128 MiB of guest RAM unless --mem,
reads outside RAM and devices give all ones and writes there are dropped;
guest statuses are odd, QEMU's (v << 1) | 1):
  s  the guest's exit status; 0 --until matched; 124 timeout; 125 the emulator
     or monitor died; 126 the monitor stopped the VM; 2 usage error or bad description
With --vms: 0 every VM ended (summary on stderr) or --until matched; 124 timeout;
  125 the monitor died.`;
