/* Private to the context detectors (context*.c): the token stream they
 * share, the word-list flags, and each detector's entry point. */
#ifndef PARLEY_PII_CONTEXT_H
#define PARLEY_PII_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pii/internal.h"

/* Longest folded form kept for a token; longer words match no list. */
#define CTX_FOLD_MAX 31

enum ctx_kind {
    CTX_WORD = 0, /* letters (and digits, inner ' and -) */
    CTX_NUM = 1,  /* digits only */
    CTX_PUNCT = 2 /* one other visible character */
};

/* Shape of a token. */
enum ctx_shape {
    SH_CAP = 1 << 0,    /* first letter upper case */
    SH_UPPER = 1 << 1,  /* two or more letters, all upper case */
    SH_DIGIT = 1 << 2,  /* contains a digit */
    SH_ALPHA = 1 << 3,  /* letters only (with inner ' and -) */
    SH_NL = 1 << 4,     /* a line break between the previous token and this one */
    SH_SENT = 1 << 5,   /* first word of a sentence: its capital is no evidence */
    SH_SPACE = 1 << 6,  /* white space right before it */
    SH_LONG = 1 << 7,   /* longer than CTX_FOLD_MAX once folded */
    SH_NOFOLD = 1 << 8, /* held an invalid byte or a character we cannot fold */
};

/* What the word lists say about a folded word (context_words.c). */
enum ctx_lex {
    LX_GIVEN = 1u << 0,        /* a common given name */
    LX_SURNAME = 1u << 1,      /* a common surname */
    LX_AMBIG = 1u << 2,        /* also an ordinary word or a place: needs more evidence */
    LX_NOTNAME = 1u << 3,      /* never a name (months, days, greetings, product words...) */
    LX_TITLE = 1u << 4,        /* Mr, Mme, Sra, Herr... */
    LX_PARTICLE = 1u << 5,     /* de, van, von... inside a name */
    LX_ST_AFTER = 1u << 6,     /* street type after the name: "Baker Street" */
    LX_ST_BEFORE = 1u << 7,    /* street type before the name: "rue de la Paix" */
    LX_UNIT = 1u << 8,         /* apartment, suite, floor... */
    LX_DOB = 1u << 9,          /* a birth context word */
    LX_MONTH = 1u << 10,       /* a month name (value in ctx_month()) */
    LX_DIR = 1u << 11,         /* compass suffix of a US street: NW, SE... */
    LX_ADDR_CUE = 1u << 12,    /* "address", "adresse", "dirección", "Anschrift"... */
    LX_NAME_SUFFIX = 1u << 13, /* Jr, Sr, MD, PhD after a name */
    LX_POBOX = 1u << 14,       /* "box", "postfach", "apartado"... */
    LX_STOP = 1u << 15,        /* a function word: ends a run of name or place words */
    LX_US_STATE = 1u << 16,    /* a US state code */
    LX_CUE = 1u << 17,         /* the last word of a name cue ("is" in "my name is") */
    LX_LABEL = 1u << 18,       /* a label before ':' and a name ("Name:", "Nom :") */
    LX_GREET = 1u << 19,       /* a greeting or speech verb before a name */
    LX_COORD = 1u << 20,       /* "and", "et", "y", "und"... between names */
    LX_PLACE_PRE = 1u << 21,   /* "Saint", "San", "Port": the name after it is a place */
    LX_ORG = 1u << 22,         /* "Inc", "LLC", "GmbH": the names before it are a firm */
    LX_ADDR_START = 1u << 23,  /* first word of a PO box, military or corner address */
    LX_SPEECH = 1u << 24,      /* a speech verb before a speaker: "said Thea", "dit Marie" */
    LX_WARM = 1u << 25,        /* a greeting a name always follows: "Dear", "Cher", "Liebe" */
    LX_SPOKE = 1u << 26,       /* a verb after a speaker: "Jouko said", "Ana wrote" */
    LX_HERE = 1u << 27,        /* "here", "ici", "aqui", "hier": "Judy here" */
    LX_THING = 1u << 28,       /* something personal a person has: "Soib's address" */
    LX_NAME_LABEL = 1u << 29,  /* a label that announces a name for sure: "Name:", "Vorname:" */
};

struct ctx_tok {
    size_t start, end; /* bytes in the whole text */
    uint32_t lex;      /* enum ctx_lex */
    uint16_t shape;    /* enum ctx_shape */
    uint8_t kind;      /* enum ctx_kind */
    uint8_t flen;
    uint8_t used;                /* inside an address already found: names skip it */
    uint8_t suffix;              /* street-word ending: 0 not looked at yet, 1 no, 2 yes */
    char fold[CTX_FOLD_MAX + 1]; /* case and accent folded, NUL-terminated */
};

/* One window of the text being scanned. Findings are kept only when they
 * start in [own_lo, own_hi), so that windows can overlap for context. */
struct ctx_scan {
    const char *text;
    size_t len;
    struct ctx_tok *t;
    size_t nt, cap;
    size_t max;            /* most tokens a window can hold: one per byte */
    struct ctx_tok *local; /* the caller's small array: t starts there */
    size_t own_lo, own_hi;
    unsigned types;
    struct pii_hits *out;
    bool oom;
};

/* Builds the word lists' table, once per process (thread-safe); before
 * any pii_ctx_lookup(). */
void pii_ctx_words_init(void);
/* Word-list flags of the folded word fold[0..n); `fold` holds
 * CTX_FOLD_MAX + 1 bytes, zero after the word (as a token's). 0 for none. */
uint32_t pii_ctx_lookup(const char *fold, size_t n);
/* Month 1..12 of a folded word with LX_MONTH, else 0. */
int pii_ctx_month(const char *fold);

/* True when token i is the folded word `w`. */
static inline bool ctx_is(const struct ctx_scan *s, size_t i, const char *w)
{
    const char *f;
    size_t k = 0;
    if (i >= s->nt || s->t[i].kind == CTX_PUNCT)
        return false;
    /* compared here, not by strcmp(): `w` is a short literal, and the
     * first byte settles most comparisons */
    f = s->t[i].fold;
    while (w[k] && f[k] == w[k])
        k++;
    return f[k] == w[k];
}

/* True when token i is the punctuation character `c`. */
static inline bool ctx_punct(const struct ctx_scan *s, size_t i, char c)
{
    return i < s->nt && s->t[i].kind == CTX_PUNCT && s->t[i].fold[0] == c &&
           s->t[i].fold[1] == '\0';
}

/* True when token i follows token i-1 with nothing in between. */
static inline bool ctx_adjacent(const struct ctx_scan *s, size_t i)
{
    return i > 0 && i < s->nt && s->t[i].start == s->t[i - 1].end;
}

/* Appends a finding of type `type` for tokens [a, b] if the mask asks for
 * it and it starts in the window's own range. */
/* The same for bytes [start, end), which must be character boundaries. */
void pii_ctx_emit_bytes(struct ctx_scan *s, parley_pii_type type, size_t start, size_t end,
                        float conf, const char *detector);
void pii_ctx_emit(struct ctx_scan *s, parley_pii_type type, size_t a, size_t b, float conf,
                  const char *detector);

void pii_ctx_dob(struct ctx_scan *s);
void pii_ctx_address(struct ctx_scan *s);
void pii_ctx_names(struct ctx_scan *s);

#endif
