/*
 * lib/ytree.h: a YAML file as a small node tree (libyaml underneath),
 * kept up to a syntax error so that messages can name lines.
 */
#ifndef WISP_LIB_YTREE_H
#define WISP_LIB_YTREE_H

#include "base.h"

/* ---- yamltree.c: YAML file -> small node tree, kept on syntax errors - */

enum ytype { Y_SCALAR, Y_SEQ, Y_MAP, Y_ALIAS };

struct ynode {
	enum ytype type;
	bool done;	    /* its end was parsed; a syntax error leaves open nodes !done */
	bool plain;	    /* Y_SCALAR: plain and untagged, so YAML 1.1 may read it as a number,
			       a boolean or null (provision's cloud-config); quoted: a string */
	int line, col;	    /* 1-based position of its start */
	char *str;	    /* Y_SCALAR: the value; Y_ALIAS: the anchor name */
	struct ynode **kid; /* Y_SEQ: items; Y_MAP: key, value, key, value... */
	size_t n, cap;
};

struct yfile {
	struct ynode **doc; /* one root per document (NULL for an empty one) */
	size_t ndoc, cap;
	bool failed;	   /* a syntax error stopped the parse: the tree is cut there */
	int line, col;	   /* where */
	char problem[200]; /* what, in libyaml's words */
	void *mem;	   /* the chunks nodes, strings and arrays are carved from */
};

#define YAML_MAX_BYTES                                                                             \
	(1 << 20)	  /* a declaration is small; refuse to load a huge file into PID 1         \
			   */
#define YAML_MAX_DEPTH 32 /* and bound the nesting, so nothing here recurses deep */

/* Returns 0 (check y->failed for syntax errors) or -1 if the file cannot be read. */
int ytree_load(const char *path, struct yfile *y, struct err *e);
/* The same for len bytes at buf (a NUL need not follow), named name in messages: for a
 * process that reads no file (provision's parser child). */
int ytree_parse(const char *name, const char *buf, size_t len, struct yfile *y, struct err *e);
void ytree_free(struct yfile *y);
/* The value of key in mapping m, or NULL (also when m is NULL or not a mapping). */
const struct ynode *ytree_get(const struct ynode *m, const char *key);

#endif /* WISP_LIB_YTREE_H */
