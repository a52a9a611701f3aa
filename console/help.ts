// Help text for `crossguard console` (no imports: cli.ts loads it eagerly).
// Lines stay under 80 columns: yargs wraps anything longer.

export const CONSOLE_EPILOGUE = `Connections (--connect):
  tcp:HOST:PORT          crossguard run --console, a terminal server port
  unix:PATH              a Unix socket bridged to the line
  serial:DEV[@BAUD]      a serial port (stty BAUD raw -echo; default 115200)
  ssh://USER@HOST[:PORT][?cmd=COMMAND]
                         a console server or BMC joining SSH to the line.
                         Log in with --identity KEY, the agent (SSH_AUTH_SOCK)
                         or CROSSGUARD_SSH_PASSWORD (never an argument). The
                         host key must be in --known-hosts FILE (default
                         ~/.ssh/known_hosts) unless --insecure-host-key.
  ipmi-sol://USER@BMC[:PORT]
                         the BMC's serial-over-LAN (IPMI v2, ipmitool
                         sol activate; port 623). Password from
                         CG_BMC_PASSWORD, IPMI_PASSWORD or --password-file
                         FILE (never an argument). Enter ~ . also ends it.
Modes:
  (default)   raw passthrough: the monitor echoes, edits and keeps history;
              Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A, Ctrl-] detaches
              from a guest console
  --line      local line editing: history in ~/.crossguard_history, Tab
              completes commands, VM and policy names, replies as tables,
              console NAME attaches; Ctrl-D quits
  exec COMMAND [ARGS...] [--json]
              one request after hello; its reply on stdout, for scripts
Exit status:
  0  ok (exec: the monitor answered ok; interactive: you quit)
  1  the monitor answered ok:false (printed as crossguard: <error>)
  2  usage error (bad spec or option, a request the protocol cannot carry)
  3  no reply within --timeout
  4  connection failed or closed, or not a protocol-1 monitor`;
