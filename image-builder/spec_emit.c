/* spec_emit.c: re-emit the spec's services list as /etc/wisp/image.yaml.
 *
 * The services are passed to init verbatim: the builder does not interpret
 * them (init owns that format), it only moves the YAML nodes into a
 * document of their own, keeping scalar and collection styles so that a
 * quoted '123' stays a string.
 */
#include "image-builder.h"

#include <errno.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 64 /* aliases can make cycles; YAML nesting is never this deep */

struct buf {
	char *p;
	size_t len, cap;
};

static int write_handler(void *data, unsigned char *s, size_t n)
{
	struct buf *b = data;

	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 1024) + n;
		char *p = realloc(b->p, cap);

		if (!p)
			return 0;
		b->p = p, b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 1;
}

/* Default tags are left implicit; anything else is written out. */
static yaml_char_t *tag_of(const yaml_node_t *n, const char *dflt)
{
	if (!n->tag || strcmp((const char *)n->tag, dflt) == 0)
		return NULL;
	return n->tag;
}

static int emit_node(yaml_emitter_t *em, yaml_document_t *doc, yaml_node_t *n, int depth);

static int emit_scalar(yaml_emitter_t *em, yaml_node_t *n)
{
	yaml_event_t ev;
	yaml_char_t *tag = tag_of(n, YAML_DEFAULT_SCALAR_TAG);

	yaml_scalar_event_initialize(&ev, NULL, tag, n->data.scalar.value,
				     (int)n->data.scalar.length, !tag, !tag, n->data.scalar.style);
	return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_sequence(yaml_emitter_t *em, yaml_document_t *doc, yaml_node_t *n, int depth)
{
	yaml_event_t ev;
	yaml_char_t *tag = tag_of(n, YAML_DEFAULT_SEQUENCE_TAG);

	yaml_sequence_start_event_initialize(&ev, NULL, tag, !tag, n->data.sequence.style);
	if (!yaml_emitter_emit(em, &ev))
		return -1;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++)
		if (emit_node(em, doc, yaml_document_get_node(doc, *it), depth + 1) < 0)
			return -1;
	yaml_sequence_end_event_initialize(&ev);
	return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_mapping(yaml_emitter_t *em, yaml_document_t *doc, yaml_node_t *n, int depth)
{
	yaml_event_t ev;
	yaml_char_t *tag = tag_of(n, YAML_DEFAULT_MAPPING_TAG);

	yaml_mapping_start_event_initialize(&ev, NULL, tag, !tag, n->data.mapping.style);
	if (!yaml_emitter_emit(em, &ev))
		return -1;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		if (emit_node(em, doc, yaml_document_get_node(doc, p->key), depth + 1) < 0 ||
		    emit_node(em, doc, yaml_document_get_node(doc, p->value), depth + 1) < 0)
			return -1;
	}
	yaml_mapping_end_event_initialize(&ev);
	return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_node(yaml_emitter_t *em, yaml_document_t *doc, yaml_node_t *n, int depth)
{
	if (depth > MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return emit_scalar(em, n);
	case YAML_SEQUENCE_NODE:
		return emit_sequence(em, doc, n, depth);
	case YAML_MAPPING_NODE:
		return emit_mapping(em, doc, n, depth);
	default:
		return -1;
	}
}

static int emit_simple(yaml_emitter_t *em, yaml_event_t *ev)
{
	return yaml_emitter_emit(em, ev) ? 0 : -1;
}

static int emit_document(yaml_emitter_t *em, yaml_document_t *doc, yaml_node_t *services)
{
	yaml_event_t ev;

	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (emit_simple(em, &ev) < 0)
		return -1;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if (emit_simple(em, &ev) < 0)
		return -1;
	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	if (emit_simple(em, &ev) < 0)
		return -1;
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)"services", 8, 1, 1,
				     YAML_PLAIN_SCALAR_STYLE);
	if (emit_simple(em, &ev) < 0 || emit_node(em, doc, services, 0) < 0)
		return -1;
	yaml_mapping_end_event_initialize(&ev);
	if (emit_simple(em, &ev) < 0)
		return -1;
	yaml_document_end_event_initialize(&ev, 1);
	if (emit_simple(em, &ev) < 0)
		return -1;
	yaml_stream_end_event_initialize(&ev);
	return emit_simple(em, &ev);
}

int ib_spec_emit_services(struct yaml_document_s *doc, struct yaml_node_s *services, char **out,
			  size_t *len, struct ib_err *err)
{
	yaml_emitter_t em;
	struct buf b = {0};
	int ret;

	if (!yaml_emitter_initialize(&em))
		return ib_err_set(err, ENOMEM, "yaml emitter");
	yaml_emitter_set_output(&em, write_handler, &b);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1); /* never fold long commands */
	errno = 0;
	ret = emit_document(&em, doc, services);
	if (ret < 0) {
		if (errno == ELOOP)
			ib_err_set(err, 0, "nested too deeply (recursive alias?)");
		else
			ib_err_set(err, 0, "cannot re-emit as YAML: %s",
				   em.problem ? em.problem : "out of memory");
		free(b.p);
	} else {
		*out = b.p;
		*len = b.len;
	}
	yaml_emitter_delete(&em);
	return ret;
}
