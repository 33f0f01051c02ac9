/*
 * lib/ttyesc.h: bytes from outside (a container's log, an image's name) onto
 * root's terminal. An escape sequence among them would reach the terminal as
 * a command: the cursor moved up over lines it wants hidden, root's clipboard
 * written (OSC 52), an answer typed back into root's shell. So, as journalctl
 * and less do, controls are written as \xHH text: the C0 controls, DEL, and
 * the C1 controls (U+0080-U+009F in UTF-8, and a byte 0x80-0x9F that is no
 * part of a UTF-8 character: 0x9B is CSI on an 8-bit terminal). The rest,
 * UTF-8 included, goes through as it is.
 *
 * Shared by wispctl (init/wispctl/tty.c) and containerd-lite (its errors and
 * the names it lists), two programs that include nothing of each other's:
 * this header includes system headers only, ttyesc.c nothing else.
 */
#ifndef WISP_LIB_TTYESC_H
#define WISP_LIB_TTYESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The unit of text at P (N > 0 bytes there; END: none will follow): its length,
 * or 0 for the start of a UTF-8 character cut at N while more may follow.
 * *CTL: the control it is (a C0 code, 0x7f, a C1 code as a UTF-8 character or
 * as a byte outside UTF-8), or -1 for text that prints (a byte 0xa0-0xff that
 * is no UTF-8 prints too: a Latin-1 letter, or a terminal's U+FFFD). */
size_t tty_unit(const unsigned char *p, size_t n, bool end, int *ctl);

/* A stream to a terminal, written in pieces: a UTF-8 character (0xC2 | 0x9B:
 * a C1 control) or a CR LF cut by a piece's end is held until the next one. */
struct tty_esc {
	bool lines; /* lines of text: tab, line feed and CR LF go through */
	unsigned char held[4];
	size_t nheld;
};

void tty_esc_write(struct tty_esc *t, FILE *f, const void *buf, size_t len);
/* The stream's end: what is held, written (a cut character's bytes as bytes). */
void tty_esc_end(struct tty_esc *t, FILE *f);
/* A name in a line of a listing (an image's REF): every control escaped, a
 * tab and a line feed too, so that it cannot forge a column or a line. */
void tty_esc_name(FILE *f, const char *s);

#endif /* WISP_LIB_TTYESC_H */
