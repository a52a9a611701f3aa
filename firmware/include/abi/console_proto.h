/* The console protocol's constants, mirrored by console/protocol.ts; the
 * prose is docs/console-protocol.md. */
#ifndef CG_CONSOLE_PROTO_H
#define CG_CONSOLE_PROTO_H

#define CONSOLE_PROTOCOL_VERSION 1
/* A request line: "@cg-req <id> <command> [<args>...]" */
#define CONSOLE_REQ_PREFIX "@cg-req "
/* Its one-line reply: "@cg-rsp {"id":N,"ok":true,"data":...}" or
 * "@cg-rsp {"id":N,"ok":false,"error":"..."}" */
#define CONSOLE_RSP_PREFIX "@cg-rsp "
/* Longest line, request included, without its newline */
#define CONSOLE_LINE_MAX 127
/* Request ids: 1..CONSOLE_ID_MAX; 0 answers a line that had none */
#define CONSOLE_ID_MAX 0xFFFFFFFFull
/* Byte that detaches an attached guest console (Ctrl-]) */
#define CONSOLE_DETACH 0x1D

#endif
