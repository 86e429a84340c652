/* The hot loops of cleaning, compiled: a text's visible lines (segment.visible_spans), the
 * columns of a block's word and character features found without building their names
 * (ngrams.OwnColumns), the rule branches a block's hints allow (shape.RuleChecks), what
 * its shape is made from (shape.shape_parts), what its neighbours show it
 * (model.neighbour_sums), how much of its topic the article's paragraphs share
 * (context.cohesion_bins) and both stages' probabilities of a pass (model.two_stages).
 *
 * Each has a Python form giving the same results; this module is optional (the package
 * installs and runs without a C compiler, only slower). A feature is identified by its kind and
 * the text after its prefix ("w:" + word, "c:" + four characters, ...): both are hashed to 64
 * bits and looked up in an open-addressing table built from the vocabulary. Two vocabulary
 * features with one hash are refused when the table is built; a feature outside the vocabulary
 * that shares a hash with one inside it (about 1 in 10^14 lookups) would read that column.
 * tests/test_features.py checks that both forms give exactly the columns of own_features.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Feature kinds: the order of ngrams.COMPILED_KINDS. */
enum { WORD = 0, TAIL, PAIR, FIRST, LAST, LEAD, END, NWORDS, KINDS };

/* The table is one bytes object: this header, then `capacity` slots. */
typedef struct {
    int64_t capacity; /* a power of two */
    int64_t head_words, tail_words, pair_words, head_chars, tail_chars;
    int64_t bins_count;
    int64_t bins[16];
} Header;

typedef struct {
    uint64_t key; /* 0: empty */
    int64_t column;
} Slot;

/* Hot loops are written once as an always-inlined function of the string's kind and called
 * once per kind: with the kind a constant, PyUnicode_READ reads without testing it. */
#define INLINE static inline __attribute__((always_inline))
#define BY_KIND(kind, call)                                                \
    switch (kind) {                                                        \
    case PyUnicode_1BYTE_KIND: { const int KIND = PyUnicode_1BYTE_KIND; call; break; } \
    case PyUnicode_2BYTE_KIND: { const int KIND = PyUnicode_2BYTE_KIND; call; break; } \
    default: { const int KIND = PyUnicode_4BYTE_KIND; call; break; }       \
    }

#define MAX_HEAD 64
#define MAX_TAIL 16
#define MAX_FOUND 512

static inline uint64_t start_hash(int kind) {
    return 0xcbf29ce484222325ULL ^ ((uint64_t)(kind + 1) * 0x9e3779b97f4a7c15ULL);
}

static inline uint64_t add_char(uint64_t h, Py_UCS4 c) {
    h ^= (uint64_t)c;
    return h * 0x100000001b3ULL;
}

static inline uint64_t finish_hash(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

INLINE uint64_t hash_span(int kind, int ukind, const void *data, Py_ssize_t from, Py_ssize_t to) {
    uint64_t h = start_hash(kind);
    for (Py_ssize_t i = from; i < to; i++) h = add_char(h, PyUnicode_READ(ukind, data, i));
    return finish_hash(h);
}

static int64_t lookup(const Header *header, uint64_t key) {
    const Slot *slots = (const Slot *)(header + 1);
    uint64_t mask = (uint64_t)header->capacity - 1;
    for (uint64_t i = key & mask;; i = (i + 1) & mask) {
        if (slots[i].key == key) return slots[i].column;
        if (slots[i].key == 0) return -1;
    }
}

/* table(ranges, head_words, tail_words, pair_words, head_chars, tail_chars, bins) -> bytes
 * ranges: a list of (kind, names, prefix length, column of the first name); the names of a
 * range have consecutive columns, as the vocabulary's sorted names do. */
static PyObject *table(PyObject *self, PyObject *args) {
    PyObject *ranges, *bins;
    Header header;
    memset(&header, 0, sizeof header);
    if (!PyArg_ParseTuple(args, "O!LLLLLO!", &PyList_Type, &ranges, &header.head_words,
                          &header.tail_words, &header.pair_words, &header.head_chars,
                          &header.tail_chars, &PyTuple_Type, &bins))
        return NULL;
    if (header.head_words > MAX_HEAD || header.tail_words > MAX_TAIL || header.head_words < 0 ||
        header.tail_words < 1 || header.pair_words > header.head_words || header.head_chars < 0 ||
        header.tail_chars < 0 || PyTuple_GET_SIZE(bins) > 9) {
        PyErr_SetString(PyExc_ValueError, "feature sizes out of range");
        return NULL;
    }
    header.bins_count = PyTuple_GET_SIZE(bins);
    for (Py_ssize_t i = 0; i < header.bins_count; i++) {
        header.bins[i] = PyLong_AsLongLong(PyTuple_GET_ITEM(bins, i));
        if (header.bins[i] == -1 && PyErr_Occurred()) return NULL;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t r = 0; r < PyList_GET_SIZE(ranges); r++) {
        PyObject *range = PyList_GET_ITEM(ranges, r);
        if (!PyTuple_Check(range) || PyTuple_GET_SIZE(range) != 4 ||
            !PyList_Check(PyTuple_GET_ITEM(range, 1))) {
            PyErr_SetString(PyExc_TypeError, "a range is (kind, names, prefix length, column)");
            return NULL;
        }
        total += PyList_GET_SIZE(PyTuple_GET_ITEM(range, 1));
    }
    int64_t capacity = 16;
    while (capacity < 2 * (int64_t)total + 16) capacity *= 2;
    header.capacity = capacity;
    Py_ssize_t size = (Py_ssize_t)(sizeof(Header) + (size_t)capacity * sizeof(Slot));
    PyObject *result = PyBytes_FromStringAndSize(NULL, size);
    if (result == NULL) return NULL;
    char *raw = PyBytes_AS_STRING(result);
    memset(raw, 0, (size_t)size);
    memcpy(raw, &header, sizeof header);
    Slot *slots = (Slot *)(raw + sizeof(Header));
    uint64_t mask = (uint64_t)capacity - 1;
    for (Py_ssize_t r = 0; r < PyList_GET_SIZE(ranges); r++) {
        int kind;
        PyObject *names;
        Py_ssize_t skip;
        long long first;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(ranges, r), "iO!nL", &kind, &PyList_Type, &names,
                              &skip, &first))
            goto fail;
        if (kind < 0 || kind >= KINDS) {
            PyErr_SetString(PyExc_ValueError, "unknown feature kind");
            goto fail;
        }
        for (Py_ssize_t e = 0; e < PyList_GET_SIZE(names); e++) {
            PyObject *name = PyList_GET_ITEM(names, e);
            if (!PyUnicode_Check(name) || PyUnicode_GET_LENGTH(name) < skip) {
                PyErr_SetString(PyExc_ValueError, "a feature name shorter than its prefix");
                goto fail;
            }
            uint64_t key = hash_span(kind, PyUnicode_KIND(name), PyUnicode_DATA(name), skip,
                                     PyUnicode_GET_LENGTH(name));
            uint64_t i = key & mask;
            while (slots[i].key != 0) {
                if (slots[i].key == key) {
                    PyErr_SetString(PyExc_ValueError, "two features share a hash");
                    goto fail;
                }
                i = (i + 1) & mask;
            }
            slots[i].key = key;
            slots[i].column = first + e;
        }
    }
    return result;
fail:
    Py_DECREF(result);
    return NULL;
}

typedef struct {
    Py_ssize_t from, to;
} Span;

/* Py_UNICODE_ISALNUM is three lookups in Python's character database; ASCII is most text. */
static inline int is_alnum(Py_UCS4 c) {
    if (c < 128) return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    return Py_UNICODE_ISALNUM(c);
}

static inline int is_apostrophe(Py_UCS4 c) { return c == '\'' || c == 0x2019; }

typedef struct {
    int64_t items[MAX_FOUND];
    int count;
} Found;

/* Add a feature's hash, and start fetching its slot of the table: the table is a few MB, so
 * each lookup is a cache miss, and fetching while the next features are hashed overlaps them. */
static inline void want(const Header *header, Found *wanted, uint64_t key) {
    const Slot *slots = (const Slot *)(header + 1);
    __builtin_prefetch(&slots[key & ((uint64_t)header->capacity - 1)]);
    if (wanted->count < MAX_FOUND) wanted->items[wanted->count++] = (int64_t)key;
}

/* Fill `found` with the columns of the distinct wanted hashes, in their first order, dropping
 * those not in the table. One hash is one feature and one column, so the hashes are made
 * distinct, in a small set: sorting the columns to find repeats cost a third of the call. */
static void look_up_distinct(const Header *header, const Found *wanted, Found *found) {
    uint64_t seen[2 * MAX_FOUND];
    uint64_t size = 16;
    while (size < 2 * (uint64_t)wanted->count) size *= 2;
    memset(seen, 0, size * sizeof(uint64_t));
    found->count = 0;
    for (int k = 0; k < wanted->count; k++) {
        uint64_t key = (uint64_t)wanted->items[k]; /* never 0: see finish_hash */
        uint64_t i = key & (size - 1);
        while (seen[i] && seen[i] != key) i = (i + 1) & (size - 1);
        if (seen[i]) continue;
        seen[i] = key;
        int64_t column = lookup(header, key);
        if (column >= 0) found->items[found->count++] = column;
    }
}

static int by_value(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Fill `found` with the distinct columns of the word, pair, edge-word,
 * character n-gram and word-count features of `norm`, a block's normalized lower-case text. */
INLINE void find_columns_of(const Header *header, int ukind, const void *data, Py_ssize_t n,
                            Found *found) {

    /* Words as ngrams.WORD finds them: runs of letters and digits, joined by an apostrophe
     * that has a letter or digit on both sides (so a word's ends are known from its
     * neighbouring characters alone, reading forward or backward). The first head_words are
     * kept, and the words are counted up to the count the features read (`enough`); the last
     * tail_words are kept in a ring, or found by reading backward from the end when the count
     * stops before it (long paragraphs: their middle is never read). */
    Span head[MAX_HEAD], tail[MAX_TAIL], last[MAX_TAIL];
    Py_ssize_t enough = header->head_words + header->tail_words;
    if (header->bins_count && header->bins[header->bins_count - 1] > enough)
        enough = header->bins[header->bins_count - 1];
    Py_ssize_t count = 0;
    Py_ssize_t i = 0;
    while (i < n && count < enough) {
        if (!is_alnum(PyUnicode_READ(ukind, data, i))) {
            i++;
            continue;
        }
        Span word = {i, i};
        for (;;) {
            while (i < n && is_alnum(PyUnicode_READ(ukind, data, i))) i++;
            if (i + 1 < n && is_apostrophe(PyUnicode_READ(ukind, data, i)) &&
                is_alnum(PyUnicode_READ(ukind, data, i + 1))) {
                i++;
                continue;
            }
            break;
        }
        word.to = i;
        if (count < header->head_words) head[count] = word;
        tail[count % header->tail_words] = word;
        count++;
    }
    Py_ssize_t tails = header->tail_words;
    if (count >= enough && i < n) {
        Py_ssize_t j = n;
        for (Py_ssize_t got = 0; got < tails && j > 0; got++) {
            while (j > 0 && !is_alnum(PyUnicode_READ(ukind, data, j - 1))) j--;
            Py_ssize_t to = j;
            for (;;) {
                while (j > 0 && is_alnum(PyUnicode_READ(ukind, data, j - 1))) j--;
                if (j >= 2 && is_apostrophe(PyUnicode_READ(ukind, data, j - 1)) &&
                    is_alnum(PyUnicode_READ(ukind, data, j - 2))) {
                    j--;
                    continue;
                }
                break;
            }
            last[tails - 1 - got] = (Span){j, to};
        }
    } else if (count > header->head_words) {
        for (Py_ssize_t k = 0; k < tails; k++) last[k] = tail[(count - tails + k) % tails];
    }

    Found wanted; /* the features' hashes first, then their columns */
    wanted.count = 0;
    Py_ssize_t heads = count < header->head_words ? count : header->head_words;
    for (Py_ssize_t w = 0; w < heads; w++)
        want(header, &wanted, hash_span(WORD, ukind, data, head[w].from, head[w].to));
    if (count > header->head_words) {
        for (Py_ssize_t k = 0; k < tails; k++)
            want(header, &wanted, hash_span(TAIL, ukind, data, last[k].from, last[k].to));
    }
    Py_ssize_t pairs = heads < header->pair_words ? heads : header->pair_words;
    for (Py_ssize_t w = 0; w + 1 < pairs; w++) {
        uint64_t h = start_hash(PAIR);
        for (Py_ssize_t k = head[w].from; k < head[w].to; k++)
            h = add_char(h, PyUnicode_READ(ukind, data, k));
        h = add_char(h, ' ');
        for (Py_ssize_t k = head[w + 1].from; k < head[w + 1].to; k++)
            h = add_char(h, PyUnicode_READ(ukind, data, k));
        want(header, &wanted, finish_hash(h));
    }
    if (count) {
        want(header, &wanted, hash_span(FIRST, ukind, data, head[0].from, head[0].to));
        Span final = count > header->head_words ? last[tails - 1] : head[count - 1];
        want(header, &wanted, hash_span(LAST, ukind, data, final.from, final.to));
    }

    /* Character 4-grams of "^" + the first head_chars characters. */
    Py_UCS4 edge[80];
    Py_ssize_t lead = n < header->head_chars ? n : header->head_chars;
    if (lead > 78) lead = 78;
    edge[0] = '^';
    for (Py_ssize_t k = 0; k < lead; k++) edge[k + 1] = PyUnicode_READ(ukind, data, k);
    for (Py_ssize_t k = 0; k + 4 <= lead + 1; k++) {
        uint64_t h = start_hash(LEAD);
        for (int m = 0; m < 4; m++) h = add_char(h, edge[k + m]);
        want(header, &wanted, finish_hash(h));
    }
    /* Character 3-grams of the last tail_chars characters + "$". */
    Py_ssize_t end = n < header->tail_chars ? n : header->tail_chars;
    if (end > 78) end = 78;
    for (Py_ssize_t k = 0; k < end; k++) edge[k] = PyUnicode_READ(ukind, data, n - end + k);
    edge[end] = '$';
    for (Py_ssize_t k = 0; k + 3 <= end + 1; k++) {
        uint64_t h = start_hash(END);
        for (int m = 0; m < 3; m++) h = add_char(h, edge[k + m]);
        want(header, &wanted, finish_hash(h));
    }
    /* The word count's bin, named by its index as shape.bin_of returns it. */
    int64_t bin = 0;
    while (bin < header->bins_count && count >= header->bins[bin]) bin++;
    want(header, &wanted, finish_hash(add_char(start_hash(NWORDS), (Py_UCS4)('0' + bin))));
    look_up_distinct(header, &wanted, found);
}

static void find_columns(const Header *header, PyObject *norm, Found *found) {
    const void *data = PyUnicode_DATA(norm);
    Py_ssize_t n = PyUnicode_GET_LENGTH(norm);
    BY_KIND(PyUnicode_KIND(norm), find_columns_of(header, KIND, data, n, found));
}

/* The feature table in `buffer`, or NULL with ValueError if it is too short to be one. */
static const Header *header_of(Py_buffer *buffer) {
    if ((size_t)buffer->len < sizeof(Header)) {
        PyErr_SetString(PyExc_ValueError, "not a feature table");
        return NULL;
    }
    return (const Header *)buffer->buf;
}

/* columns(table, norm) -> list[int]: the columns of find_columns, sorted. */
static PyObject *columns(PyObject *self, PyObject *args) {
    Py_buffer buffer;
    PyObject *norm;
    if (!PyArg_ParseTuple(args, "y*U", &buffer, &norm)) return NULL;
    const Header *header = header_of(&buffer);
    if (header == NULL) {
        PyBuffer_Release(&buffer);
        return NULL;
    }
    Found found;
    find_columns(header, norm, &found);
    PyBuffer_Release(&buffer);
    qsort(found.items, (size_t)found.count, sizeof(int64_t), by_value);
    PyObject *result = PyList_New(0);
    if (result == NULL) return NULL;
    for (int k = 0; k < found.count; k++) {
        PyObject *value = PyLong_FromLongLong(found.items[k]);
        if (value == NULL || PyList_Append(result, value) < 0) {
            Py_XDECREF(value);
            Py_DECREF(result);
            return NULL;
        }
        Py_DECREF(value);
    }
    return result;
}

/* row_sums(table, norms, extras, weights, labels) -> bytes: for each normalized text of
 * `norms`, the sum of the weight rows of its distinct columns (find_columns') and of the
 * columns in the matching list of `extras`, as `labels` doubles; `weights` is a C-contiguous
 * float64 buffer of `labels` columns. What model.column_sums does over columns(), in one call
 * a document instead of a gather and a reduceat over Python lists. */
static PyObject *row_sums(PyObject *self, PyObject *args) {
    Py_buffer buffer, weights;
    PyObject *norms, *extras;
    Py_ssize_t labels;
    if (!PyArg_ParseTuple(args, "y*O!O!y*n", &buffer, &PyList_Type, &norms, &PyList_Type,
                          &extras, &weights, &labels))
        return NULL;
    PyObject *result = NULL;
    const Header *header = header_of(&buffer);
    Py_ssize_t texts = PyList_GET_SIZE(norms);
    Py_ssize_t rows = labels > 0 ? weights.len / (Py_ssize_t)sizeof(double) / labels : 0;
    if (header == NULL) goto done;
    if (labels <= 0 || weights.len % ((Py_ssize_t)sizeof(double) * labels) ||
        PyList_GET_SIZE(extras) != texts) {
        PyErr_SetString(PyExc_ValueError, "weights, labels and extras do not fit");
        goto done;
    }
    result = PyBytes_FromStringAndSize(NULL, texts * labels * (Py_ssize_t)sizeof(double));
    if (result == NULL) goto done;
    double *out = (double *)PyBytes_AS_STRING(result);
    const double *w = (const double *)weights.buf;
    for (Py_ssize_t t = 0; t < texts; t++) {
        PyObject *norm = PyList_GET_ITEM(norms, t), *extra = PyList_GET_ITEM(extras, t);
        if (!PyUnicode_Check(norm) || !PyList_Check(extra)) {
            PyErr_SetString(PyExc_TypeError, "norms must be str and extras lists of int");
            Py_CLEAR(result);
            goto done;
        }
        Found found;
        find_columns(header, norm, &found);
        double *row = out + t * labels;
        memset(row, 0, (size_t)labels * sizeof(double));
        for (int k = 0; k < found.count; k++) {
            if (found.items[k] >= rows) {
                PyErr_SetString(PyExc_IndexError, "the table's column is past the weights");
                Py_CLEAR(result);
                goto done;
            }
            const double *from = w + found.items[k] * labels;
            for (Py_ssize_t l = 0; l < labels; l++) row[l] += from[l];
        }
        for (Py_ssize_t k = 0; k < PyList_GET_SIZE(extra); k++) {
            Py_ssize_t column = PyLong_AsSsize_t(PyList_GET_ITEM(extra, k));
            if (column < 0 || column >= rows) {
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "column out of range");
                Py_CLEAR(result);
                goto done;
            }
            const double *from = w + column * labels;
            for (Py_ssize_t l = 0; l < labels; l++) row[l] += from[l];
        }
    }
done:
    PyBuffer_Release(&buffer);
    PyBuffer_Release(&weights);
    return result;
}

/* Hints: the substrings of which every match of a rule branch holds one (see rules.py). */
#define HINT_WORDS 4 /* 64-bit words of a hint bit set */
#define MAX_HINTS (64 * HINT_WORDS)
#define MAX_HINT_CHARS 32
#define MAX_BRANCHES 64
typedef struct {
    int32_t count;
    int32_t by_one[128];         /* hints of one character, by that character: first id */
    int32_t by_two[128 * 128];   /* longer hints, by their first two characters: first id */
    int32_t next[MAX_HINTS];     /* the next hint id with the same start, or -1 */
    int32_t length[MAX_HINTS];
    char text[MAX_HINTS][MAX_HINT_CHARS];
    int32_t branches;
    uint64_t branch_hints[MAX_BRANCHES][HINT_WORDS]; /* each rule branch's hints; none: always run */
} Hints;

/* hint_table(hints, branches) -> bytes: the lookup of up to 256 ASCII hints, by their first
 * characters, and of up to 64 rule branches, each given as the four 64-bit words of the bit
 * set of its hints, lowest first. */
static PyObject *hint_table(PyObject *self, PyObject *args) {
    PyObject *hints, *branches;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &hints, &PyList_Type, &branches))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(hints);
    if (n > MAX_HINTS || PyList_GET_SIZE(branches) > MAX_BRANCHES) {
        PyErr_SetString(PyExc_ValueError, "too many hints or branches");
        return NULL;
    }
    PyObject *result = PyBytes_FromStringAndSize(NULL, sizeof(Hints));
    if (result == NULL) return NULL;
    Hints *table = (Hints *)PyBytes_AS_STRING(result);
    memset(table, 0, sizeof(Hints));
    for (int c = 0; c < 128; c++) table->by_one[c] = -1;
    for (int c = 0; c < 128 * 128; c++) table->by_two[c] = -1;
    table->count = (int32_t)n;
    for (Py_ssize_t h = n - 1; h >= 0; h--) {
        PyObject *hint = PyList_GET_ITEM(hints, h);
        Py_ssize_t size = PyUnicode_Check(hint) ? PyUnicode_GET_LENGTH(hint) : 0;
        if (size < 1 || size >= MAX_HINT_CHARS || !PyUnicode_IS_ASCII(hint)) {
            PyErr_SetString(PyExc_ValueError, "a hint must be ASCII text of 1 to 31 characters");
            Py_DECREF(result);
            return NULL;
        }
        const char *chars = (const char *)PyUnicode_DATA(hint);
        memcpy(table->text[h], chars, (size_t)size);
        table->length[h] = (int32_t)size;
        int32_t *head = size == 1 ? &table->by_one[(int)chars[0]]
                                  : &table->by_two[(int)chars[0] * 128 + (int)chars[1]];
        table->next[h] = *head;
        *head = (int32_t)h;
    }
    table->branches = (int32_t)PyList_GET_SIZE(branches);
    for (Py_ssize_t b = 0; b < table->branches; b++) {
        unsigned long long words[HINT_WORDS];
        if (!PyArg_ParseTuple(PyList_GET_ITEM(branches, b), "KKKK", &words[0], &words[1],
                              &words[2], &words[3])) {
            Py_DECREF(result);
            return NULL;
        }
        for (int w = 0; w < HINT_WORDS; w++) table->branch_hints[b][w] = words[w];
    }
    return result;
}

/* Set bit h of `bits` for each hint h that occurs in the text of this kind, data and length. */
INLINE void find_hints_of(const Hints *table, int ukind, const void *data, Py_ssize_t n,
                          uint64_t bits[HINT_WORDS]) {
    for (int w = 0; w < HINT_WORDS; w++) bits[w] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(ukind, data, i);
        if (c >= 128) continue;
        for (int32_t h = table->by_one[c]; h >= 0; h = table->next[h]) bits[h >> 6] |= 1ULL << (h & 63);
        if (i + 1 >= n) continue;
        Py_UCS4 d = PyUnicode_READ(ukind, data, i + 1);
        if (d >= 128) continue;
        for (int32_t h = table->by_two[c * 128 + d]; h >= 0; h = table->next[h]) {
            int32_t size = table->length[h];
            if (i + size > n) continue;
            int32_t k = 2;
            while (k < size && PyUnicode_READ(ukind, data, i + k) == (Py_UCS4)table->text[h][k]) k++;
            if (k == size) bits[h >> 6] |= 1ULL << (h & 63);
        }
    }
}

/* Set bit h of `bits` for each hint h that occurs in `text`. */
static void find_hints(const Hints *table, PyObject *text, uint64_t bits[HINT_WORDS]) {
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    BY_KIND(PyUnicode_KIND(text), find_hints_of(table, KIND, data, n, bits));
}

/* candidates(table, text) -> list[int]: the branches that may match `text`, in order: those
 * with a hint in it, and those with no hints. */
static PyObject *candidates(PyObject *self, PyObject *args) {
    Py_buffer buffer;
    PyObject *text;
    if (!PyArg_ParseTuple(args, "y*U", &buffer, &text)) return NULL;
    if ((size_t)buffer.len != sizeof(Hints)) {
        PyBuffer_Release(&buffer);
        PyErr_SetString(PyExc_ValueError, "not a hint table");
        return NULL;
    }
    const Hints *table = (const Hints *)buffer.buf;
    uint64_t bits[HINT_WORDS];
    find_hints(table, text, bits);
    PyObject *result = PyList_New(0);
    for (int32_t b = 0; result != NULL && b < table->branches; b++) {
        const uint64_t *mask = table->branch_hints[b];
        uint64_t any = 0, shared = 0;
        for (int w = 0; w < HINT_WORDS; w++) {
            any |= mask[w];
            shared |= mask[w] & bits[w];
        }
        if (any && !shared) continue;
        PyObject *value = PyLong_FromLong(b);
        if (value == NULL || PyList_Append(result, value) < 0) Py_CLEAR(result);
        Py_XDECREF(value);
    }
    PyBuffer_Release(&buffer);
    return result;
}

typedef struct {
    Py_ssize_t letters, capitals, words, capitalized;
} CaseCounts;

/* The letters and capitals among the first letter_chars characters, and the words (split on
 * whitespace, as str.split does) and those starting with a capital among the first word_chars,
 * as shape.shape_parts_in_python counts them. */
INLINE CaseCounts count_cases(int ukind, const void *data, Py_ssize_t n, Py_ssize_t letter_chars,
                         Py_ssize_t word_chars) {
    CaseCounts counts = {0, 0, 0, 0};
    Py_ssize_t end = n < letter_chars ? n : letter_chars;
    for (Py_ssize_t i = 0; i < end; i++) {
        Py_UCS4 c = PyUnicode_READ(ukind, data, i);
        counts.letters += Py_UNICODE_ISALPHA(c) != 0;
        counts.capitals += Py_UNICODE_ISUPPER(c) != 0;
    }
    end = n < word_chars ? n : word_chars;
    int in_word = 0;
    for (Py_ssize_t i = 0; i < end; i++) {
        Py_UCS4 c = PyUnicode_READ(ukind, data, i);
        if (Py_UNICODE_ISSPACE(c)) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            counts.words++;
            counts.capitalized += Py_UNICODE_ISUPPER(c) != 0;
        }
    }
    return counts;
}

/* The quote characters of rules.OPEN_QUOTES and rules.CLOSE_QUOTES. */
static int is_open_quote(Py_UCS4 c) {
    return c == '"' || c == 0x201C || c == 0x2018 || c == '\'' || c == 0xAB;
}

static int is_close_quote(Py_UCS4 c) {
    return c == '"' || c == 0x201D || c == 0x2019 || c == '\'' || c == 0xBB;
}

/* shape.char_class: a coarse class of one character, as the character it is named by. */
static Py_UCS4 char_class(Py_UCS4 c) {
    if (Py_UNICODE_ISUPPER(c)) return 'U';
    if (Py_UNICODE_ISALPHA(c)) return 'l';
    if (Py_UNICODE_ISDIGIT(c)) return '9';
    if (is_open_quote(c) || is_close_quote(c)) return 'q';
    switch (c) {
    case '.': case ',': case ':': case ';': case '!': case '?': case ')': case ']': case '-':
    case '|': case '>': case 0x2026:
        return c;
    default:
        return 'o';
    }
}

typedef struct {
    Py_ssize_t opens, closes, sentences;
} Marks;

/* The curly and angle quotes that open and close, and the sentence breaks (". "). */
INLINE Marks count_marks(int ukind, const void *data, Py_ssize_t n) {
    Marks marks = {0, 0, 0};
    Py_UCS4 previous = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(ukind, data, i);
        if (c > 0x7F) {
            marks.opens += c == 0x201C || c == 0xAB;
            marks.closes += c == 0x201D || c == 0xBB;
        } else if (c == ' ' && previous == '.') {
            marks.sentences++;
        }
        previous = c;
    }
    return marks;
}

/* shape_parts(text, letter_chars, word_chars) -> (letters, capitals, words, capitalized,
 * end class, first class, opening quotes, closing quotes, ". " count up to 3): what
 * shape.shape_of reads of a block, as shape.shape_parts_in_python counts it. */
static PyObject *shape_parts(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_ssize_t letter_chars, word_chars;
    if (!PyArg_ParseTuple(args, "Unn", &text, &letter_chars, &word_chars)) return NULL;
    int ukind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n == 0) {
        PyErr_SetString(PyExc_IndexError, "an empty block has no shape");
        return NULL;
    }
    CaseCounts counts;
    Marks marks;
    BY_KIND(ukind, (counts = count_cases(KIND, data, n, letter_chars, word_chars),
                    marks = count_marks(KIND, data, n)));
    Py_UCS4 first = PyUnicode_READ(ukind, data, 0), last = PyUnicode_READ(ukind, data, n - 1);
    Py_ssize_t opens = is_open_quote(first) + marks.opens;
    Py_ssize_t closes = is_close_quote(last) + marks.closes;
    Py_ssize_t sentences = marks.sentences > 3 ? 3 : marks.sentences;
    return Py_BuildValue("nnnnCCnnn", counts.letters, counts.capitals, counts.words,
                         counts.capitalized, (int)char_class(last), (int)char_class(first),
                         opens, closes, sentences);
}

#define MAX_LABELS 64
#define MAX_OFFSETS 16

/* Read a sequence of up to MAX_OFFSETS ints into `offsets`; return how many, or -1 with an
 * exception set. */
static Py_ssize_t read_offsets(PyObject *sequence, Py_ssize_t offsets[MAX_OFFSETS]) {
    PyObject *fast = PySequence_Fast(sequence, "offsets must be a sequence of int");
    if (fast == NULL) return -1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
    if (count < 1 || count > MAX_OFFSETS) {
        PyErr_SetString(PyExc_ValueError, "offsets do not fit: 1 to 16 are read");
        count = -1;
    }
    for (Py_ssize_t j = 0; j < count; j++) {
        offsets[j] = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(fast, j));
        if (offsets[j] == -1 && PyErr_Occurred()) count = -1;
    }
    Py_DECREF(fast);
    return count;
}

/* neighbour_sums(rows, table, offsets) -> bytes: for each block i of a document, the sum over
 * the offsets j of table[rows[i + offsets[j]], j] (a row of labels doubles), for the
 * neighbours inside the document: what its neighbours show block i (model.LinearBlockModel's
 * `shown` table). rows: intp, one per block; table: a C-contiguous float64 array of shape
 * (table rows, len(offsets), labels). One call a pass instead of a gather and an add per offset. */
static PyObject *neighbour_sums(PyObject *self, PyObject *args) {
    Py_buffer rows, table;
    PyObject *table_object, *offsets_seq;
    if (!PyArg_ParseTuple(args, "y*OO", &rows, &table_object, &offsets_seq)) return NULL;
    if (PyObject_GetBuffer(table_object, &table, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&rows);
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t offsets[MAX_OFFSETS], count = read_offsets(offsets_seq, offsets);
    if (count < 0) goto done;
    if (table.ndim != 3 || table.shape[1] != count || table.format == NULL ||
        strcmp(table.format, "d") != 0 || rows.len % (Py_ssize_t)sizeof(Py_ssize_t)) {
        PyErr_SetString(PyExc_ValueError, "rows, table and offsets do not fit");
        goto done;
    }
    Py_ssize_t n = rows.len / (Py_ssize_t)sizeof(Py_ssize_t), labels = table.shape[2];
    Py_ssize_t width = count * labels; /* doubles in one row of the table */
    const Py_ssize_t *row = rows.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (row[i] < 0 || row[i] >= table.shape[0]) {
            PyErr_SetString(PyExc_IndexError, "a row past the table");
            goto done;
        }
    }
    result = PyBytes_FromStringAndSize(NULL, n * labels * (Py_ssize_t)sizeof(double));
    if (result == NULL) goto done;
    double *out = (double *)PyBytes_AS_STRING(result);
    memset(out, 0, (size_t)(n * labels) * sizeof(double));
    const double *t = table.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        for (Py_ssize_t j = 0; j < count; j++) {
            Py_ssize_t at = i + offsets[j];
            if (at < 0 || at >= n) continue;
            const double *from = t + row[at] * width + j * labels;
            for (Py_ssize_t c = 0; c < labels; c++) out[i * labels + c] += from[c];
        }
    }
done:
    PyBuffer_Release(&rows);
    PyBuffer_Release(&table);
    return result;
}

/* A character that takes no space on screen: Python's whitespace (as the re module's \s) or
 * one of `invisible` (segment.INVISIBLE). */
static inline int is_blank(Py_UCS4 c, int ikind, const void *idata, Py_ssize_t icount) {
    if (Py_UNICODE_ISSPACE(c)) return 1;
    if (c < 128) return 0;
    for (Py_ssize_t k = 0; k < icount; k++)
        if (PyUnicode_READ(ikind, idata, k) == c) return 1;
    return 0;
}

INLINE PyObject *visible_lines_of(int ukind, const void *data, Py_ssize_t n, PyObject *invisible) {
    int ikind = PyUnicode_KIND(invisible);
    const void *idata = PyUnicode_DATA(invisible);
    Py_ssize_t icount = PyUnicode_GET_LENGTH(invisible);
    PyObject *spans = PyList_New(0);
    for (Py_ssize_t i = 0; spans != NULL && i < n; i++) { /* i: a line's first character */
        Py_ssize_t first = -1, last = -1;
        for (; i < n; i++) {
            Py_UCS4 c = PyUnicode_READ(ukind, data, i);
            if (c == '\n' || c == '\r') break;
            if (!is_blank(c, ikind, idata, icount)) {
                if (first < 0) first = i;
                last = i;
            }
        }
        if (first < 0) continue;
        PyObject *start = PyLong_FromSsize_t(first), *end = PyLong_FromSsize_t(last + 1);
        if (start == NULL || end == NULL || PyList_Append(spans, start) < 0 ||
            PyList_Append(spans, end) < 0)
            Py_CLEAR(spans);
        Py_XDECREF(start);
        Py_XDECREF(end);
    }
    return spans;
}

/* visible_lines(text, invisible) -> list[int]: the start and end of every block of
 * segment.segment_text, flat: each line (split at \n or \r only) from its first visible
 * character to its last, lines with none left out. What segment.VISIBLE_LINE finds, without
 * a regex scan. */
static PyObject *visible_lines(PyObject *self, PyObject *args) {
    PyObject *text, *invisible;
    if (!PyArg_ParseTuple(args, "UU", &text, &invisible)) return NULL;
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *spans = NULL;
    BY_KIND(PyUnicode_KIND(text), spans = visible_lines_of(KIND, data, n, invisible));
    return spans;
}

/* Softmax of `scores` (k values) in place. */
static void softmax_row(double *scores, Py_ssize_t k) {
    double top = scores[0], total = 0.0;
    for (Py_ssize_t c = 1; c < k; c++) if (scores[c] > top) top = scores[c];
    for (Py_ssize_t c = 0; c < k; c++) total += scores[c] = exp(scores[c] - top);
    for (Py_ssize_t c = 0; c < k; c++) scores[c] /= total;
}

/* row += scale * the weight row `at` (k values), skipped when scale is 0. */
static inline void add_row(double *row, const double *weights, Py_ssize_t at, double scale,
                           Py_ssize_t k) {
    if (scale == 0.0) return;
    const double *from = weights + at * k;
    for (Py_ssize_t c = 0; c < k; c++) row[c] += scale * from[c];
}

/* two_stages(scores, bias, prose, short, offsets, weights, context_bias) -> bytes: the
 * probabilities of model.LinearBlockModel.probabilities from the blocks' summed first-stage
 * weights (n x k float64), as n x k float64. The first stage is softmax(scores + bias); the
 * second reads, per block, the first-stage probabilities at each offset (a column past the
 * document's edge saying it is outside), the block's place towards the prose (outside, ahead,
 * behind, prose, short) and its probabilities when outside: model.context_matrix's columns,
 * times the context weights, without building that matrix. prose and short are one byte per
 * block (numpy bool). One call a pass instead of a dozen small numpy operations. */
static PyObject *two_stages(PyObject *self, PyObject *args) {
    Py_buffer scores, bias, prose, shorts, weights, context_bias;
    PyObject *offsets_seq;
    if (!PyArg_ParseTuple(args, "y*y*y*y*Oy*y*", &scores, &bias, &prose, &shorts, &offsets_seq,
                          &weights, &context_bias))
        return NULL;
    PyObject *result = NULL;
    double *first = NULL;
    Py_ssize_t k = bias.len / (Py_ssize_t)sizeof(double);
    Py_ssize_t n = prose.len, width = k + 1;
    Py_ssize_t offsets[MAX_OFFSETS], count = read_offsets(offsets_seq, offsets);
    if (count < 0) goto done;
    Py_ssize_t span_at = count * width, cross_at = span_at + 5, columns = cross_at + k;
    if (k < 1 || k > MAX_LABELS || bias.len != k * (Py_ssize_t)sizeof(double) ||
        scores.len != n * k * (Py_ssize_t)sizeof(double) || shorts.len != n ||
        context_bias.len != bias.len ||
        weights.len != columns * k * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "scores, flags, offsets and weights do not fit");
        goto done;
    }
    first = PyMem_Malloc((size_t)(n ? n : 1) * (size_t)k * sizeof(double));
    if (first == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const double *s = scores.buf, *b = bias.buf, *w = weights.buf;
    const char *is_prose = prose.buf, *is_short = shorts.buf;
    Py_ssize_t lead = n, tail = 0; /* the first prose block, and one past the last */
    for (Py_ssize_t i = 0; i < n; i++) {
        for (Py_ssize_t c = 0; c < k; c++) first[i * k + c] = s[i * k + c] + b[c];
        softmax_row(first + i * k, k);
        if (is_prose[i]) {
            if (lead == n) lead = i;
            tail = i + 1;
        }
    }
    result = PyBytes_FromStringAndSize(NULL, n * k * (Py_ssize_t)sizeof(double));
    if (result == NULL) goto done;
    double *out = (double *)PyBytes_AS_STRING(result);
    for (Py_ssize_t i = 0; i < n; i++) {
        double *row = out + i * k;
        memcpy(row, context_bias.buf, (size_t)k * sizeof(double));
        for (Py_ssize_t j = 0; j < count; j++) {
            Py_ssize_t at = i + offsets[j];
            if (at < 0 || at >= n) {
                add_row(row, w, j * width + k, 1.0, k);
                continue;
            }
            for (Py_ssize_t c = 0; c < k; c++) add_row(row, w, j * width + c, first[at * k + c], k);
        }
        int ahead = i < lead, behind = i >= tail, outside = ahead || behind;
        add_row(row, w, span_at, outside, k);
        add_row(row, w, span_at + 1, ahead, k);
        add_row(row, w, span_at + 2, behind, k);
        add_row(row, w, span_at + 3, is_prose[i] != 0, k);
        add_row(row, w, span_at + 4, is_short[i] != 0, k);
        if (outside)
            for (Py_ssize_t c = 0; c < k; c++) add_row(row, w, cross_at + c, first[i * k + c], k);
        softmax_row(row, k);
    }
done:
    PyMem_Free(first);
    PyBuffer_Release(&scores);
    PyBuffer_Release(&bias);
    PyBuffer_Release(&prose);
    PyBuffer_Release(&shorts);
    PyBuffer_Release(&weights);
    PyBuffer_Release(&context_bias);
    return result;
}

/* The words that can tie a block to its article (context.topic_words): runs of 4 or more
 * characters matched by [^\W\d_] in the block's first `max_chars` characters, lowered as
 * str.lower() lowers them, minus the common words; hashed. */
#define TOPIC_SEED 0x5bd1e995u
#define COMMON_SLOTS 512 /* a power of two, at least twice the common words */

static inline int is_topic_char(Py_UCS4 c) {
    if (c < 128) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    return Py_UNICODE_ISALNUM(c) && !Py_UNICODE_ISDECIMAL(c);
}

/* The slot of `key` in an open-addressing table of `size` (a power of two) hashes. */
static inline uint64_t slot_of(const uint64_t *keys, uint64_t size, uint64_t key) {
    uint64_t at = key & (size - 1);
    while (keys[at] && keys[at] != key) at = (at + 1) & (size - 1);
    return at;
}

/* The most topic words `chars` characters can hold: 4 letters and a separator each. */
static inline Py_ssize_t most_words(Py_ssize_t chars) { return chars / 5 + 1; }

/* Write the topic-word hashes of the first `n` characters to `words`, repeats included;
 * return how many. ASCII text is lowered here as it is read (str.lower() maps only A-Z). */
INLINE Py_ssize_t scan_topic_words(int kind, const void *data, Py_ssize_t n, int lower_ascii,
                                   const uint64_t *common, uint64_t *words) {
    Py_ssize_t start = 0, count = 0;
    uint64_t h = start_hash(TOPIC_SEED);
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_UCS4 c = i < n ? PyUnicode_READ(kind, data, i) : ' ';
        if (lower_ascii && c >= 'A' && c <= 'Z') c |= 0x20;
        if (i < n && is_topic_char(c)) {
            h = add_char(h, c);
            continue;
        }
        if (i - start >= 4) {
            uint64_t key = finish_hash(h);
            if (common[slot_of(common, COMMON_SLOTS, key)] != key) words[count++] = key;
        }
        start = i + 1;
        h = start_hash(TOPIC_SEED);
    }
    return count;
}

static Py_ssize_t topic_hashes(PyObject *lowered, Py_ssize_t limit, int lower_ascii,
                               const uint64_t *common, uint64_t *words) {
    const void *data = PyUnicode_DATA(lowered);
    Py_ssize_t n = PyUnicode_GET_LENGTH(lowered), count = 0;
    if (n > limit) n = limit;
    BY_KIND(PyUnicode_KIND(lowered),
            count = scan_topic_words(KIND, data, n, lower_ascii, common, words));
    return count;
}

/* The hash of one common word (ASCII, lowercase), as topic_hashes would find it. */
static uint64_t word_hash(PyObject *word) {
    uint64_t h = start_hash(TOPIC_SEED);
    int ukind = PyUnicode_KIND(word);
    const void *data = PyUnicode_DATA(word);
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(word); i++)
        h = add_char(h, PyUnicode_READ(ukind, data, i));
    return finish_hash(h);
}

/* Does str.lower() change a character of the first `n` beyond ASCII? Its full mapping differs
 * from the simple one (Py_UNICODE_TOLOWER) only where the simple one changes the character
 * too (U+0130, and U+03A3 by its context): curly quotes and dashes need no call to lower(). */
INLINE int lowers_beyond_ascii(int kind, const void *data, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= 128 && Py_UNICODE_TOLOWER(c) != c) return 1;
    }
    return 0;
}

/* One block's topic-word hashes (see topic_hashes): its first max_chars characters, lowered. */
static Py_ssize_t block_topic_hashes(PyObject *text, Py_ssize_t max_chars, const uint64_t *common,
                                     uint64_t *words) {
    /* Text that only str.lower()'s ASCII mapping would change is read in place, lowered as it
     * is read; other text is cut, then lowered. */
    Py_ssize_t length = PyUnicode_GET_LENGTH(text), head_chars = length < max_chars ? length : max_chars;
    int lowers = 0;
    if (!PyUnicode_IS_ASCII(text))
        BY_KIND(PyUnicode_KIND(text),
                lowers = lowers_beyond_ascii(KIND, PyUnicode_DATA(text), head_chars));
    if (!lowers) return topic_hashes(text, max_chars, 1, common, words);
    PyObject *head = length <= max_chars ? (Py_INCREF(text), text)
                                         : PyUnicode_Substring(text, 0, max_chars);
    if (head == NULL) return -1;
    PyObject *lowered = PyObject_CallMethod(head, "lower", NULL);
    Py_DECREF(head);
    if (lowered == NULL) return -1;
    /* lower() grows a character to 3 at most: the room the caller made for the words. */
    Py_ssize_t count = topic_hashes(lowered, 3 * max_chars, 0, common, words);
    Py_DECREF(lowered);
    return count;
}

/* A word of the document: how many prose blocks hold it, and the last blocks that counted it
 * (repeats within a block count once). */
typedef struct {
    int prose_blocks;
    Py_ssize_t counted_in, shared_by;
} WordCount;

/* cohesion(texts, prose, common words, max_chars, bin edges, none bin) -> list of int: per
 * block, the share of its topic words found in the other prose blocks, binned as
 * context.cohesion_bins_in_python bins it. */
static PyObject *cohesion(PyObject *self, PyObject *args) {
    PyObject *texts, *prose, *common_words, *edges;
    Py_ssize_t max_chars, none_bin;
    if (!PyArg_ParseTuple(args, "O!O!O!nO!n", &PyList_Type, &texts, &PyList_Type, &prose,
                          &PyTuple_Type, &common_words, &max_chars, &PyTuple_Type, &edges,
                          &none_bin))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(texts), edge_count = PyTuple_GET_SIZE(edges);
    if (PyList_GET_SIZE(prose) != n || PyTuple_GET_SIZE(common_words) > COMMON_SLOTS / 2
        || edge_count > 16 || max_chars < 1) {
        PyErr_SetString(PyExc_ValueError, "texts and prose differ in length, or too many words");
        return NULL;
    }
    uint64_t common[COMMON_SLOTS] = {0};
    double edge[16];
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(common_words); i++) {
        PyObject *word = PyTuple_GET_ITEM(common_words, i);
        if (!PyUnicode_Check(word)) return PyErr_Format(PyExc_TypeError, "common words are str");
        uint64_t key = word_hash(word);
        common[slot_of(common, COMMON_SLOTS, key)] = key;
    }
    for (Py_ssize_t i = 0; i < edge_count; i++) {
        edge[i] = PyFloat_AsDouble(PyTuple_GET_ITEM(edges, i));
        if (edge[i] == -1.0 && PyErr_Occurred()) return NULL;
    }
    /* Each block's hashes at its own offset of one array, sized for the most words its first
     * characters can hold once lowered. */
    Py_ssize_t *offsets = PyMem_Malloc((size_t)(n + 1) * sizeof(Py_ssize_t));
    char *is_prose = PyMem_Malloc((size_t)(n ? n : 1));
    uint64_t *words = NULL, *keys = NULL;
    WordCount *counts = NULL;
    PyObject *result = NULL;
    if (offsets == NULL || is_prose == NULL) { PyErr_NoMemory(); goto done; }
    offsets[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *text = PyList_GET_ITEM(texts, i);
        if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "texts are str"); goto done; }
        Py_ssize_t length = PyUnicode_GET_LENGTH(text);
        offsets[i + 1] = offsets[i] + most_words(3 * (length < max_chars ? length : max_chars));
    }
    words = PyMem_Malloc((size_t)(offsets[n] ? offsets[n] : 1) * sizeof(uint64_t));
    if (words == NULL) { PyErr_NoMemory(); goto done; }
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int flag = PyObject_IsTrue(PyList_GET_ITEM(prose, i));
        if (flag < 0) goto done;
        is_prose[i] = (char)flag;
        Py_ssize_t found = block_topic_hashes(PyList_GET_ITEM(texts, i), max_chars, common,
                                              words + offsets[i]);
        if (found < 0) goto done;
        /* The next block starts where this one's words end: starting earlier than planned
         * leaves it at least the room it was planned with. */
        offsets[i + 1] = offsets[i] + found;
        total += found;
    }
    uint64_t size = 16;
    while (size < 2 * (uint64_t)total) size *= 2;
    keys = PyMem_Calloc(size, sizeof(uint64_t));
    counts = PyMem_Malloc(size * sizeof(WordCount));
    if (keys == NULL || counts == NULL) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t i = 0; i < n; i++) {
        for (Py_ssize_t k = offsets[i]; k < offsets[i + 1]; k++) {
            uint64_t at = slot_of(keys, size, words[k]);
            if (keys[at] == 0) {
                keys[at] = words[k];
                counts[at] = (WordCount){0, -1, -1};
            }
            if (is_prose[i] && counts[at].counted_in != i) {
                counts[at].counted_in = i;
                counts[at].prose_blocks++;
            }
        }
    }
    result = PyList_New(n);
    if (result == NULL) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t distinct = 0, shared = 0, bin = none_bin;
        for (Py_ssize_t k = offsets[i]; k < offsets[i + 1]; k++) {
            WordCount *count = &counts[slot_of(keys, size, words[k])];
            if (count->shared_by == i) continue;
            count->shared_by = i;
            distinct++;
            /* A paragraph's own words count once: in another paragraph only if twice. */
            shared += count->prose_blocks > is_prose[i];
        }
        if (distinct) {
            double share = (double)shared / (double)distinct;
            bin = 0;
            while (bin < edge_count && share >= edge[bin]) bin++;
        }
        PyObject *value = PyLong_FromSsize_t(bin);
        if (value == NULL) { Py_CLEAR(result); goto done; }
        PyList_SET_ITEM(result, i, value);
    }
done:
    PyMem_Free(offsets);
    PyMem_Free(is_prose);
    PyMem_Free(words);
    PyMem_Free(keys);
    PyMem_Free(counts);
    return result;
}

static PyMethodDef methods[] = {
    {"shape_parts", shape_parts, METH_VARARGS, "Return what a block's shape is made from."},
    {"hint_table", hint_table, METH_VARARGS, "Build the lookup of up to 128 ASCII hints."},
    {"candidates", candidates, METH_VARARGS, "Return the rule branches that may match a text."},
    {"table", table, METH_VARARGS, "Build the lookup table of a vocabulary's own features."},
    {"columns", columns, METH_VARARGS, "Return the columns of a normalized block's own features."},
    {"row_sums", row_sums, METH_VARARGS, "Return the summed weight rows of normalized blocks."},
    {"two_stages", two_stages, METH_VARARGS, "Return both stages' label probabilities."},
    {"visible_lines", visible_lines, METH_VARARGS, "Return the spans of a text's visible lines."},
    {"neighbour_sums", neighbour_sums, METH_VARARGS, "Return what each block's neighbours show it."},
    {"cohesion", cohesion, METH_VARARGS, "Return how much of each block's topic the prose shares."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_own", NULL, -1, methods};

PyMODINIT_FUNC PyInit__own(void) { return PyModule_Create(&module); }
