/* The context detectors' driver: cuts the text into overlapping windows,
 * turns each into a stream of folded tokens that the date-of-birth,
 * address and name detectors read in one pass, and finds the values the
 * conversation already knows wherever they come again. */
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pii/chars.h"
#include "pii/context.h"

/* Window sizes: each window owns WIN bytes and sees BEHIND bytes before
 * and AHEAD bytes after them, enough for the cue words before a value and
 * for a whole multi-line address after its start. */
#define WIN    ((size_t)64 * 1024)
#define BEHIND ((size_t)256)
#define AHEAD  ((size_t)1024)
/* How far back from a wanted cut we look for white space. */
#define SLACK ((size_t)512)
/* Tokens held on the stack (4 KiB): enough for most chat messages. */
#define LOCAL_TOKENS ((size_t)64)

/* Copies the lower-case ASCII letters from text[j] to fold + *n, 8 bytes
 * at a time while they fit (the byte loop after it does the rest), with
 * zeros after them as a token's key needs; returns where it stopped. */
static size_t lower_run8(const char *text, size_t hi, size_t j, char *fold, size_t *n)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t high = 0x8080808080808080u;
    while (hi - j >= 8 && *n + 8 <= CTX_FOLD_MAX) {
        uint64_t w, x, low, other;
        size_t k;
        memcpy(&w, text + j, 8);
        /* per byte, without carries between them: high bit set in `low`
         * for 'a'..'z' (>= 0x61 and not >= 0x7B, and ASCII) */
        x = w & ~high;
        low = (x + 0x1F1F1F1F1F1F1F1Fu) & ~(x + 0x0505050505050505u) & ~w & high;
        other = ~low & high;
        k = other ? (size_t)__builtin_ctzll(other) / 8 : 8;
        if (k < 8)
            w &= ((uint64_t)1 << (8 * k)) - 1;
        memcpy(fold + *n, &w, 8);
        *n += k;
        j += k;
        if (k < 8)
            break;
    }
#else
    (void)text, (void)hi, (void)fold, (void)n;
#endif
    return j;
}

/* The last bytes of a window, zero-padded: what read_word() reads 32
 * bytes at a time from when fewer than 32 are left (the text may end
 * there). */
struct tail {
    size_t at; /* where bytes[0] is in the text */
    unsigned char bytes[64];
};

#if defined(__SSE2__)
/* Set bits of x: no popcnt instruction is assumed. */
static inline size_t popcount32(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (size_t)((x * 0x01010101u) >> 24);
}

/* Bit k set for each byte k of the 32 at p in [lo, lo + span). */
static inline uint32_t in_range32(__m128i a, __m128i b, char lo, char span)
{
    /* unsigned "x - lo < span" by signed compares, offset by -128 */
    const __m128i off = _mm_set1_epi8((char)(-lo - 128)), lim = _mm_set1_epi8((char)(span - 128));
    uint32_t ma = (uint32_t)_mm_movemask_epi8(_mm_cmplt_epi8(_mm_add_epi8(a, off), lim));
    uint32_t mb = (uint32_t)_mm_movemask_epi8(_mm_cmplt_epi8(_mm_add_epi8(b, off), lim));
    return ma | mb << 16;
}

/* The run of ASCII letters and digits a word starts with: its length and
 * which of its bytes are letters, upper-case letters and digits. */
struct ascii_run {
    size_t len;
    uint32_t letter, upper, digit;
};

/* Finds that run, most words whole, classifying 32 bytes at a time from
 * p, and stores its folded form (zero-padded) in t->fold; false (nothing
 * done) when it is 32 bytes or longer, or there is none. */
static inline bool ascii_run(const unsigned char *p, struct ctx_tok *t, struct ascii_run *r)
{
    __m128i a = _mm_loadu_si128((const __m128i *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(p + 16));
    const __m128i case_bit = _mm_set1_epi8(0x20);
    uint32_t letter = in_range32(_mm_or_si128(a, case_bit), _mm_or_si128(b, case_bit), 'a', 26);
    uint32_t upper = in_range32(a, b, 'A', 26), digit = in_range32(a, b, '0', 10);
    uint32_t run = letter | digit, keep;
    size_t len;
    __m128i up_a, up_b, idx_a, idx_b, n_vec;
    if (run == UINT32_MAX || !(run & 1))
        return false;
    len = (size_t)__builtin_ctz(~run);
    keep = ((uint32_t)1 << len) - 1;
    /* lower case: the case bit added to the upper-case letters; bytes
     * past the run cleared */
    up_a = _mm_cmplt_epi8(_mm_add_epi8(a, _mm_set1_epi8((char)(-'A' - 128))),
                          _mm_set1_epi8((char)(26 - 128)));
    up_b = _mm_cmplt_epi8(_mm_add_epi8(b, _mm_set1_epi8((char)(-'A' - 128))),
                          _mm_set1_epi8((char)(26 - 128)));
    idx_a = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    idx_b = _mm_add_epi8(idx_a, _mm_set1_epi8(16));
    n_vec = _mm_set1_epi8((char)len);
    a = _mm_and_si128(_mm_or_si128(a, _mm_and_si128(up_a, case_bit)), _mm_cmplt_epi8(idx_a, n_vec));
    b = _mm_and_si128(_mm_or_si128(b, _mm_and_si128(up_b, case_bit)), _mm_cmplt_epi8(idx_b, n_vec));
    _mm_storeu_si128((__m128i *)t->fold, a);
    _mm_storeu_si128((__m128i *)(t->fold + 16), b);
    r->len = len;
    r->letter = letter & keep;
    r->upper = upper & keep;
    r->digit = digit & keep;
    return true;
}
#endif

/* Reads the word starting at text[i] into *t, which it fills (`shape`:
 * the flags known before it); returns where it ends. Inner apostrophes
 * and hyphens stay in the word when a letter or digit follows. */
static size_t read_word(const char *text, size_t hi, size_t i, const struct tail *tail,
                        uint16_t shape, struct ctx_tok *t)
{
    size_t n = 0, letters = 0, uppers = 0;
    bool first = true, digits_only = true, prev_letter = false;
    t->start = i;
    t->lex = 0;
    t->used = 0;
    t->suffix = 0;
#if defined(__SSE2__)
    {
        const unsigned char *p =
            hi - i >= 32 ? (const unsigned char *)text + i : tail->bytes + (i - tail->at);
        struct ascii_run r;
        if (ascii_run(p, t, &r)) {
            unsigned char next;
            i += r.len;
            next = i < hi ? (unsigned char)text[i] : 0;
            /* Most words end at an ASCII byte that cannot be inside one:
             * their flags from the masks, with no branch on them (what
             * the end of this function does from the counts). */
            if (next < 0x80 && next != '\'' && next != '-') {
                shape |= (uint16_t)((r.upper & 1) * SH_CAP);
                shape |= (uint16_t)((r.digit != 0) * SH_DIGIT);
                shape |= (uint16_t)(((r.letter & (r.letter - 1)) != 0 && r.upper == r.letter) *
                                    SH_UPPER);
                shape |= (uint16_t)((r.letter != 0 && r.digit == 0) * SH_ALPHA);
                t->shape = shape;
                t->end = i;
                t->flen = (uint8_t)r.len;
                t->kind = r.letter ? CTX_WORD : CTX_NUM;
                return i;
            }
            n = r.len;
            letters = popcount32(r.letter);
            uppers = popcount32(r.upper);
            first = false;
            digits_only = letters == 0;
            prev_letter = (r.letter >> (r.len - 1)) & 1;
            shape |= (uint16_t)((r.upper & 1) ? SH_CAP : 0);
            shape |= (uint16_t)(r.digit ? SH_DIGIT : 0);
        } else {
            memset(t->fold, 0, sizeof(t->fold));
        }
    }
#else
    (void)tail;
    memset(t->fold, 0, sizeof(t->fold));
#endif
    t->shape = shape;
    while (i < hi) {
        unsigned char b = (unsigned char)text[i];
        int32_t cp;
        size_t k;
        enum cp_class c;
        bool after_letter;
        /* A run of ASCII lower-case letters, most of any word: copied as
         * it is, the general path below reduced to what it does for them. */
        if ((unsigned)(b - 'a') < 26u) {
            size_t j = i, room = (t->shape & SH_LONG) ? 0 : CTX_FOLD_MAX - n, copied;
            if (!(t->shape & SH_LONG))
                j = lower_run8(text, hi, j, t->fold, &n);
            /* copied while there is room, then only counted: more is too long */
            while (j < hi && j - i < room && (unsigned)((unsigned char)text[j] - 'a') < 26u)
                t->fold[n++] = text[j++];
            copied = j;
            while (j < hi && (unsigned)((unsigned char)text[j] - 'a') < 26u)
                j++;
            if (j > copied)
                t->shape |= SH_LONG;
            letters += j - i;
            digits_only = false;
            prev_letter = true;
            first = false;
            i = j;
            continue;
        }
        /* Any other ASCII letter or digit: the same, one at a time. */
        if (b < 0x80 && (pii_ascii_class[b] == C_LETTER || pii_ascii_class[b] == C_DIGIT)) {
            if (pii_ascii_class[b] == C_LETTER) {
                letters++;
                if (b <= 'Z') {
                    uppers++;
                    if (first)
                        t->shape |= SH_CAP;
                }
                digits_only = false;
                prev_letter = true;
                b = (unsigned char)(b | (b <= 'Z' ? 0x20 : 0));
            } else {
                t->shape |= SH_DIGIT;
                prev_letter = false;
            }
            first = false;
            if (!(t->shape & SH_LONG)) {
                if (n < CTX_FOLD_MAX)
                    t->fold[n++] = (char)b;
                else
                    t->shape |= SH_LONG;
            }
            i++;
            continue;
        }
        k = decode(text, hi, i, &cp);
        c = classify(cp);
        after_letter = prev_letter;
        prev_letter = prev_letter && c == C_MARK;
        if (c == C_INNER) {
            int32_t nx;
            if (i + k >= hi)
                break;
            (void)decode(text, hi, i + k, &nx);
            /* between letters only: "Jean-Pierre", "m'appelle", not "1985-06-15" */
            if (!after_letter || classify(nx) != C_LETTER)
                break;
            cp = cp == '-' || cp == 0x2010 || cp == 0x2011 ? '-' : '\'';
            digits_only = false;
        } else if (c == C_LETTER) {
            letters++;
            prev_letter = true;
            if (is_upper(cp)) {
                uppers++;
                if (first)
                    t->shape |= SH_CAP;
            }
            first = false;
            digits_only = false;
        } else if (c == C_DIGIT) {
            t->shape |= SH_DIGIT;
            first = false;
        } else if (c != C_MARK) {
            break;
        }
        if (cp < 0x80 && n < CTX_FOLD_MAX) {
            /* ASCII folds to one byte: no call (what fold_cp() would do) */
            if (!(t->shape & SH_LONG))
                t->fold[n++] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
        } else if (!(t->shape & SH_LONG)) {
            int m = fold_cp(cp, t->fold + n, CTX_FOLD_MAX - n);
            if (m < 0)
                t->shape |= SH_NOFOLD;
            else if (m == 0)
                t->shape |= SH_LONG;
            else
                n += (size_t)m;
        }
        i += k;
    }
    t->end = i;
    t->fold[n] = '\0';
    t->flen = (uint8_t)n;
    t->kind = digits_only ? CTX_NUM : CTX_WORD;
    if (letters >= 2 && uppers == letters)
        t->shape |= SH_UPPER;
    if (letters && !(t->shape & SH_DIGIT))
        t->shape |= SH_ALPHA;
    else
        t->shape &= (uint16_t)~SH_ALPHA;
    return i;
}

/* Sets a word's flags from the word lists. */
static void lookup(struct ctx_tok *t)
{
    if (t->kind == CTX_WORD && !(t->shape & (SH_LONG | SH_NOFOLD)))
        t->lex = pii_ctx_lookup(t->fold, t->flen);
}

/* A period after these does not end the sentence: "Mr. Smith", "J. Doe". */
static bool abbreviation(const struct ctx_tok *t)
{
    return t->kind == CTX_WORD && ((t->lex & LX_TITLE) || t->flen == 1);
}

/* Doubles the token array, up to s->max: from the caller's small array to
 * the heap, then on the heap. False when it cannot (s->oom when out of
 * memory). */
static bool grow(struct ctx_scan *s)
{
    size_t cap = s->cap * 2 < s->max ? s->cap * 2 : s->max;
    struct ctx_tok *t;
    if (cap <= s->cap)
        return false;
    if (s->t == s->local) {
        t = parley__mallocarray(cap, sizeof(*t));
        if (t)
            memcpy(t, s->t, s->nt * sizeof(*t));
    } else {
        t = parley__realloc(s->t, cap * sizeof(*t));
    }
    if (!t) {
        s->oom = true;
        return false;
    }
    s->t = t;
    s->cap = cap;
    return true;
}

/* Tokenizes text[lo, hi) into s->t (grown up to a token per byte). */
static void tokenize(struct ctx_scan *s, size_t lo, size_t hi)
{
    const char *text = s->text;
    uint16_t pending = 0;
    bool sent = true;
    size_t i = lo, word = SIZE_MAX;
    struct tail tail = {0};

    tail.at = hi - lo > 32 ? hi - 32 : lo;
    memcpy(tail.bytes, text + tail.at, hi - tail.at);
    s->nt = 0;
    while (i < hi) {
        int32_t cp;
        size_t k;
        enum cp_class c;
        struct ctx_tok *t;

        if (text[i] == ' ') { /* the commonest character between tokens */
            pending |= SH_SPACE;
            i++;
            continue;
        }
        k = decode(text, hi, i, &cp);
        c = classify(cp);

        if (c == C_SPACE || c == C_BAD || c == C_MARK) {
            pending |= (uint16_t)(c == C_SPACE ? SH_SPACE : 0);
            i += k;
            continue;
        }
        if (c == C_NL) {
            pending |= SH_NL | SH_SPACE;
            sent = true;
            i += k;
            continue;
        }
        if (s->nt == s->cap && !grow(s))
            break; /* out of memory (or over a token per byte: cannot happen) */
        /* A word is looked up one token late: right after its folded bytes
         * were stored one by one, its key (read 8 bytes at a time) would
         * wait for those stores. */
        if (word != SIZE_MAX)
            lookup(&s->t[word]);
        word = SIZE_MAX;
        t = &s->t[s->nt++];
        if (c == C_LETTER || c == C_DIGIT) {
            i = read_word(text, hi, i, &tail, pending, t);
            pending = 0;
            word = s->nt - 1;
            if (sent && t->kind == CTX_WORD)
                t->shape |= SH_SENT;
            sent = false;
            continue;
        }
        memset(t, 0, sizeof(*t));
        t->shape = pending;
        pending = 0;
        t->kind = CTX_PUNCT;
        t->start = i;
        t->end = i + k;
        if (cp < 0x80) /* ASCII punctuation: no case to fold */
            t->fold[0] = (char)cp;
        else if (fold_cp(cp, t->fold, CTX_FOLD_MAX) <= 0)
            t->fold[0] = '?';
        if (cp == '.' || cp == '!' || cp == '?' || cp == 0x2026 || cp == 0xBF || cp == 0xA1)
            sent = !(cp == '.' && s->nt >= 2 && abbreviation(&s->t[s->nt - 2]) &&
                     ctx_adjacent(s, s->nt - 1));
        i += k;
    }
    if (word != SIZE_MAX)
        lookup(&s->t[word]);
}

void pii_ctx_emit_bytes(struct ctx_scan *s, parley_pii_type type, size_t start, size_t end,
                        float conf, const char *detector)
{
    if (s->oom || !(s->types & PARLEY_PII_BIT(type)) || start < s->own_lo || start >= s->own_hi ||
        end <= start || end > s->len)
        return;
    if (!pii_hits_add(s->out, type, start, end, conf, detector))
        s->oom = true;
}

void pii_ctx_emit(struct ctx_scan *s, parley_pii_type type, size_t a, size_t b, float conf,
                  const char *detector)
{
    pii_ctx_emit_bytes(s, type, s->t[a].start, s->t[b].end, conf, detector);
}

/* ---- known values ---------------------------------------------------- */

static bool word_char(const char *text, size_t len, size_t i)
{
    int32_t cp;
    enum cp_class c;
    (void)decode(text, len, i, &cp);
    c = classify(cp);
    return c == C_LETTER || c == C_DIGIT || c == C_MARK;
}

/* True when text[i] starts a new word (or a non-word character). */
static bool word_start(const char *text, size_t i)
{
    size_t j = i;
    int32_t cp;
    enum cp_class c;
    if (i == 0)
        return true;
    /* Step back to the start of the previous character. */
    do
        j--;
    while (j > 0 && ((unsigned char)text[j] & 0xC0) == 0x80 && i - j < 4);
    (void)decode(text, i, j, &cp);
    c = classify(cp);
    return !(c == C_LETTER || c == C_DIGIT || c == C_MARK);
}

/* Digits of a phone-like value (only digits, spaces and + ( ) . - /),
 * at least 6 of them, into d; else 0. */
static size_t phone_digits(const char *v, char *d, size_t cap)
{
    size_t n = 0;
    for (; *v; v++) {
        if (*v >= '0' && *v <= '9') {
            if (n == cap)
                return 0;
            d[n++] = *v;
        } else if (!strchr(" +().-/", *v)) {
            return 0;
        }
    }
    return n >= 6 ? n : 0;
}

/* The same number, as people write it: equal digits, or one ends with the
 * other when that has 9 or more (a national number and its E.164 form). */
static bool same_number(const char *a, size_t na, const char *b, size_t nb)
{
    if (na == nb)
        return memcmp(a, b, na) == 0;
    if (na > nb)
        return nb >= 9 && na - nb <= 4 && memcmp(a + na - nb, b, nb) == 0;
    return na >= 9 && nb - na <= 4 && memcmp(b + nb - na, a, na) == 0;
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Finds the known number kd[0..nk) in every phone-like run of the text:
 * digits joined by up to two separators ("(555) 123-4567", "+1 555..."). */
static void known_phone(struct ctx_scan *s, const parley_pii_known *k, const char *kd, size_t nk)
{
    const char *text = s->text;
    size_t i = 0;
    while (i < s->len && !s->oom) {
        char d[40];
        size_t n = 0, start = i, end = i, j = i, seps = 0;
        bool lead = (text[i] == '+' || text[i] == '(') && i + 1 < s->len && digit(text[i + 1]);
        if ((!digit(text[i]) && !lead) ||
            (i > 0 && (digit(text[i - 1]) || word_char(text, s->len, i - 1)))) {
            i++;
            continue;
        }
        if (lead)
            j++;
        while (j < s->len) {
            if (digit(text[j])) {
                if (n < sizeof(d))
                    d[n] = text[j];
                n++;
                end = ++j;
                seps = 0;
            } else if (strchr(" +().-/", text[j]) && text[j] != '\0' && seps < 2) {
                seps++;
                j++;
            } else {
                break;
            }
        }
        /* a closing parenthesis right after the number belongs to it only
         * when the run opened one; a trailing separator never does */
        if (n <= sizeof(d) && same_number(d, n, kd, nk) &&
            (end == s->len || !word_char(text, s->len, end)) &&
            !pii_hits_add(s->out, k->type, start, end, 0.95f, "known"))
            s->oom = true;
        i = end > i ? end : i + 1;
    }
}

/* Matches folded `v` against the text at i, folding the text as it goes;
 * white space in `v` matches any run of white space or hyphens. Returns
 * the end of the match, or 0. */
static size_t match_folded(const char *text, size_t len, size_t i, const char *v, size_t nv)
{
    size_t p = 0;
    while (p < nv) {
        int32_t cp;
        size_t k;
        char f[32];
        int m;
        if (i >= len)
            return 0;
        k = decode(text, len, i, &cp);
        if (v[p] == ' ') {
            enum cp_class c = classify(cp);
            if (c != C_SPACE && c != C_NL && cp != '-')
                return 0;
            while (i < len) {
                k = decode(text, len, i, &cp);
                c = classify(cp);
                if (c != C_SPACE && c != C_NL && cp != '-')
                    break;
                i += k;
            }
            p++;
            continue;
        }
        if (cp < 0)
            return 0;
        m = fold_cp(cp, f, sizeof(f));
        if (m < 0)
            m = 0; /* a mark or ignorable: nothing to compare */
        if ((size_t)m > nv - p || memcmp(f, v + p, (size_t)m) != 0)
            return 0;
        p += (size_t)m;
        i += k;
    }
    return i;
}

/* Folds a known value: case and accents dropped, white space collapsed. */
static size_t fold_value(const char *v, char *out, size_t cap)
{
    size_t n = 0, len = strlen(v), i = 0;
    bool space = false;
    while (i < len) {
        int32_t cp;
        size_t k = decode(v, len, i, &cp);
        enum cp_class c = classify(cp);
        int m;
        i += k;
        if (c == C_SPACE || c == C_NL || c == C_BAD) {
            space = n > 0;
            continue;
        }
        if (space) {
            if (n + 1 >= cap)
                return 0;
            out[n++] = ' ';
            space = false;
        }
        m = fold_cp(cp, out + n, cap - 1 - n);
        if (m == 0)
            return 0;
        if (m > 0)
            n += (size_t)m;
    }
    out[n] = '\0';
    return n;
}

static void known_text(struct ctx_scan *s, const parley_pii_known *k, const char *fv, size_t nv)
{
    bool alnum_first = word_char(fv, nv, 0);
    for (size_t i = 0; i < s->len && !s->oom; i++) {
        size_t e;
        if (((unsigned char)s->text[i] & 0xC0) == 0x80)
            continue;
        /* most positions fail on their first byte: an ASCII letter that is
         * not the value's first (folded) one */
        if ((unsigned char)fv[0] < 0x80 && (unsigned char)s->text[i] < 0x80 &&
            (char)(s->text[i] >= 'A' && s->text[i] <= 'Z' ? s->text[i] + 32 : s->text[i]) != fv[0])
            continue;
        if (alnum_first && !word_start(s->text, i))
            continue;
        e = match_folded(s->text, s->len, i, fv, nv);
        if (!e ||
            (e < s->len && word_char(s->text, s->len, e) && word_char(s->text, s->len, e - 1)))
            continue;
        if (!pii_hits_add(s->out, k->type, i, e, 0.95f, "known"))
            s->oom = true;
        i = e - 1;
    }
}

static void find_known(struct ctx_scan *s, const parley_pii_known *known, size_t n_known)
{
    for (size_t i = 0; i < n_known && !s->oom; i++) {
        char buf[256];
        size_t n;
        if (!known[i].value || (unsigned)known[i].type >= PARLEY_PII_N_TYPES ||
            !(s->types & PARLEY_PII_BIT(known[i].type)))
            continue;
        n = phone_digits(known[i].value, buf, 32);
        if (n) {
            known_phone(s, &known[i], buf, n);
            continue;
        }
        n = fold_value(known[i].value, buf, sizeof(buf));
        if (n >= 2)
            known_text(s, &known[i], buf, n);
    }
}

/* ---- windows ---------------------------------------------------------- */

/* A cut point at or before `i` (not before `floor`): just after white
 * space when there is some near, else on a character boundary. */
static size_t cut_at(const char *text, size_t i, size_t floor)
{
    for (size_t j = i; j > floor && i - j < SLACK; j--)
        if (text[j - 1] == ' ' || text[j - 1] == '\n')
            return j;
    while (i > floor && ((unsigned char)text[i] & 0xC0) == 0x80)
        i--;
    return i;
}

int pii_detect_context(const char *text, size_t len, unsigned types, const parley_pii_known *known,
                       size_t n_known, struct pii_hits *out)
{
    const unsigned mine = PARLEY_PII_BIT(PARLEY_PII_DOB) | PARLEY_PII_BIT(PARLEY_PII_ADDRESS) |
                          PARLEY_PII_BIT(PARLEY_PII_NAME);
    /* Tokens of a short text (a chat message) on the stack: no allocation
     * per call; longer texts move to the heap as they need. */
    struct ctx_tok local[LOCAL_TOKENS];
    struct ctx_scan s = {text, len, local, 0, 0, 0, local, 0, 0, types, out, false};
    size_t lo = 0;

    if (!text || len == 0)
        return 1;
    pii_chars_init();
    if (n_known && known)
        find_known(&s, known, n_known);
    if (!(types & mine) || s.oom)
        goto out;
    pii_ctx_words_init();
    /* A window holds at most one token per byte: WIN, BEHIND, AHEAD and the
     * SLACK a cut may move back; short texts need little. */
    s.max = len < WIN + BEHIND + AHEAD + SLACK ? len : WIN + BEHIND + AHEAD + SLACK;
    s.cap = s.max < LOCAL_TOKENS ? s.max : LOCAL_TOKENS;
    while (lo < len && !s.oom) {
        size_t hi = len - lo > WIN ? cut_at(text, lo + WIN, lo + 1) : len;
        size_t from = lo > BEHIND ? cut_at(text, lo - BEHIND, 0) : 0;
        size_t to = len - hi > AHEAD ? cut_at(text, hi + AHEAD, hi) : len;
        s.own_lo = lo;
        s.own_hi = hi;
        tokenize(&s, from, to);
        if (types & PARLEY_PII_BIT(PARLEY_PII_ADDRESS) || types & PARLEY_PII_BIT(PARLEY_PII_NAME))
            pii_ctx_address(&s);
        if (types & PARLEY_PII_BIT(PARLEY_PII_DOB))
            pii_ctx_dob(&s);
        if (types & PARLEY_PII_BIT(PARLEY_PII_NAME))
            pii_ctx_names(&s);
        lo = hi;
    }
out:
    if (s.t != local)
        parley__free(s.t);
    return !s.oom;
}
