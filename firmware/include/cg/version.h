#ifndef CG_VERSION_H
#define CG_VERSION_H
/* Set by the Makefile from package.json and git; this is the fallback. */
#ifndef CG_VERSION
#define CG_VERSION "0.0.0-unknown"
#endif
#endif
