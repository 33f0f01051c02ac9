/*
 * yamltree.c: a YAML file as a small tree of nodes with their positions.
 *
 * libyaml's own document loader gives up on a syntax error and returns
 * nothing; built from events, the tree keeps everything parsed before
 * the error, with every node that the error cut open marked !done. The
 * declaration reader can then keep the complete services of a file and
 * blame the error on the one it interrupted.
 *
 * PID 1 reads these files, so the input is bounded: the file size
 * (YAML_MAX_BYTES) and the nesting depth (YAML_MAX_DEPTH), which keeps
 * the recursive free below and the checks in decl.c shallow.
 */
#include "ytree.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

struct builder {
	struct yfile *y;
	struct ynode *open[YAML_MAX_DEPTH];
	int depth;
};

/*
 * The tree's nodes, strings and child arrays are carved from chunks that
 * ytree_free() releases together: one allocation per chunk instead of
 * three per node. musl's allocator maps small groups as they fill and
 * unmaps them as they empty, two system calls and a page fault each time:
 * per node allocations made that most of a parse's cost (bench/parse.sh).
 */
struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[];
};

#define CHUNK_BYTES 16384u

static void *take(struct yfile *y, size_t n)
{
	struct chunk *c = y->mem;
	void *p;

	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!c || c->size - c->used < n) {
		size_t size = n > CHUNK_BYTES / 4 ? n : CHUNK_BYTES - sizeof(*c);
		struct chunk *nc = malloc(sizeof(*nc) + size);
		if (!nc)
			return NULL;
		nc->used = 0;
		nc->size = size;
		/* A big one goes behind the current chunk, whose room stays in use. */
		if (c && size == n) {
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			y->mem = nc;
		}
		c = nc;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

void ytree_free(struct yfile *y)
{
	for (struct chunk *c = y->mem, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	y->mem = NULL;
	free(y->doc);
	y->doc = NULL;
	y->ndoc = y->cap = 0;
}

/* Room for need elements in array p: the array (maybe moved), or NULL with p untouched. */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *nv;

	if (need <= *cap)
		return p;
	ncap = *cap ? *cap * 2 : 8;
	nv = realloc(p, ncap * elem);
	if (nv)
		*cap = ncap;
	return nv;
}

/* The same for a node's children, in the tree's chunks (the old array stays there unused). */
static struct ynode **grow_kids(struct yfile *y, struct ynode *parent)
{
	size_t ncap;
	struct ynode **nv;

	if (parent->n < parent->cap)
		return parent->kid;
	ncap = parent->cap ? parent->cap * 2 : 4;
	nv = take(y, ncap * sizeof(*nv));
	if (!nv)
		return NULL;
	if (parent->n)
		memcpy(nv, parent->kid, parent->n * sizeof(*nv));
	parent->cap = ncap;
	return nv;
}

static void fail_at(struct yfile *y, int line, int col, const char *problem)
{
	y->failed = true;
	y->line = line;
	y->col = col;
	snprintf(y->problem, sizeof(y->problem), "%s", problem);
}

/* Hang n under the innermost open collection, or make it the document's root. */
static int attach(struct builder *b, struct ynode *n)
{
	struct yfile *y = b->y;
	struct ynode *parent, **kid;

	if (b->depth == 0) {
		/* Always so with libyaml: one root per document. */
		if (y->ndoc > 0 && !y->doc[y->ndoc - 1])
			y->doc[y->ndoc - 1] = n;
		return 0;
	}
	parent = b->open[b->depth - 1];
	kid = grow_kids(y, parent);
	if (!kid)
		return -1;
	parent->kid = kid;
	parent->kid[parent->n++] = n;
	return 0;
}

static struct ynode *node_new(struct yfile *y, enum ytype type, const yaml_mark_t *m)
{
	struct ynode *n = take(y, sizeof(*n));

	if (n) {
		memset(n, 0, sizeof(*n));
		n->type = type;
		n->line = (int)m->line + 1;
		n->col = (int)m->column + 1;
	}
	return n;
}

/* len bytes and a NUL, in the tree's chunks. */
static char *copy(struct yfile *y, const char *s, size_t len)
{
	char *d = take(y, len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

/* One event into the tree. Returns 0, 1 at the end of the stream, -1 on ENOMEM. */
static int build(struct builder *b, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	struct ynode *n, **doc;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		doc = grow(b->y->doc, &b->y->cap, b->y->ndoc + 1, sizeof(*b->y->doc));
		if (!doc)
			return -1;
		b->y->doc = doc;
		b->y->doc[b->y->ndoc++] = NULL;
		return 0;
	case YAML_SCALAR_EVENT:
		if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
			fail_at(b->y, (int)m->line + 1, (int)m->column + 1,
				"NUL character in a string");
			return 1;
		}
		if (!(n = node_new(b->y, Y_SCALAR, m)))
			return -1;
		n->done = true;
		/* Kept in the padding after done: PID 1's nodes do not grow. */
		n->plain = ev->data.scalar.plain_implicit;
		n->str = copy(b->y, (const char *)ev->data.scalar.value, ev->data.scalar.length);
		return n->str ? attach(b, n) : -1;
	case YAML_ALIAS_EVENT:
		if (!(n = node_new(b->y, Y_ALIAS, m)))
			return -1;
		n->done = true;
		n->str = copy(b->y, (const char *)ev->data.alias.anchor,
			      strlen((const char *)ev->data.alias.anchor));
		return n->str ? attach(b, n) : -1;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (b->depth == YAML_MAX_DEPTH) {
			fail_at(b->y, (int)m->line + 1, (int)m->column + 1, "nested too deep");
			return 1;
		}
		n = node_new(b->y, ev->type == YAML_SEQUENCE_START_EVENT ? Y_SEQ : Y_MAP, m);
		if (!n || attach(b, n) < 0)
			return -1;
		b->open[b->depth++] = n;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0)
			b->open[--b->depth]->done = true;
		return 0;
	default:
		return 0;
	}
}

/* libyaml's reader errors carry a byte offset, not a mark: count lines ourselves. */
static void offset_to_mark(const char *buf, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && buf[i]; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static void syntax_error(struct yfile *y, const yaml_parser_t *p, const char *buf)
{
	int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;

	if (p->error == YAML_READER_ERROR)
		offset_to_mark(buf, p->problem_offset, &line, &col);
	fail_at(y, line, col, p->problem ? p->problem : "unreadable YAML");
}

static int parse(struct yfile *y, const char *buf, size_t len, const char *path, struct err *e)
{
	struct builder b = {.y = y};
	yaml_parser_t p;
	int ret = 0;

	if (!yaml_parser_initialize(&p))
		return err_set(e, ENOMEM, "parse %s", path);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		yaml_event_t ev;
		int r;

		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_MEMORY_ERROR)
				ret = err_set(e, ENOMEM, "parse %s", path);
			else
				syntax_error(y, &p, buf);
			break;
		}
		r = build(&b, &ev);
		yaml_event_delete(&ev);
		if (r < 0)
			ret = err_set(e, ENOMEM, "parse %s", path);
		if (r != 0)
			break;
	}
	yaml_parser_delete(&p);
	return ret;
}

int ytree_load(const char *path, struct yfile *y, struct err *e)
{
	struct stat st;
	char *buf = NULL;
	int fd, ret = -1;
	size_t len = 0;

	memset(y, 0, sizeof(*y));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_set(e, errno, "open %s", path);
	if (fstat(fd, &st) < 0) {
		err_set(e, errno, "stat %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > YAML_MAX_BYTES) {
		err_set(e, 0, "%s: not a regular file of at most %d bytes", path, YAML_MAX_BYTES);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err_set(e, ENOMEM, "read %s", path);
		goto out;
	}
	/* Up to one byte more than stat said, to notice a file that grew. */
	while (len <= (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(e, errno, "read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > (size_t)st.st_size) {
		err_set(e, 0, "read %s: the file is changing", path);
		goto out;
	}
	buf[len] = '\0';
	ret = parse(y, buf, len, path, e);
	if (ret < 0)
		ytree_free(y);
out:
	free(buf);
	close(fd);
	return ret;
}

int ytree_parse(const char *name, const char *buf, size_t len, struct yfile *y, struct err *e)
{
	int ret;

	memset(y, 0, sizeof(*y));
	if (len > YAML_MAX_BYTES)
		return err_set(e, 0, "%s: more than %d bytes", name, YAML_MAX_BYTES);
	ret = parse(y, buf, len, name, e);
	if (ret < 0)
		ytree_free(y);
	return ret;
}

const struct ynode *ytree_get(const struct ynode *m, const char *key)
{
	for (size_t i = 0; m && m->type == Y_MAP && i + 1 < m->n; i += 2)
		if (m->kid[i]->type == Y_SCALAR && strcmp(m->kid[i]->str, key) == 0)
			return m->kid[i + 1];
	return NULL;
}
