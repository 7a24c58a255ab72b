/* Connector definition lifecycle: loading from memory or a file (see
 * def_yaml.c, def_check.c, def_parse.c), freeing, and accessors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "connect/internal.h"

/* ---- Public ---------------------------------------------------------- */

static void free_op(struct connect_op *op)
{
    parley__free(op->name);
    parley__free(op->path);
    parley__free(op->body);
    for (size_t i = 0; i < op->nparams; i++)
        parley__free(op->params[i].name);
    parley__free(op->params);
    for (size_t i = 0; i < op->nfields; i++) {
        parley__free(op->fields[i].name);
        parley__free(op->fields[i].path);
        parley__connect_free_segs(op->fields[i].segs, op->fields[i].nsegs);
    }
    parley__free(op->fields);
}

void parley_connect_def_free(parley_connect_def *def)
{
    if (!def)
        return;
    parley__free(def->name);
    parley__free(def->base_url);
    parley__free(def->token_env);
    parley__free(def->token_file);
    if (def->ops)
        for (size_t i = 0; i < def->nops; i++)
            free_op(&def->ops[i]);
    parley__free(def->ops);
    parley__free(def);
}

parley_err parley_connect_def_load_memory(const char *name, const void *buf, size_t len,
                                          parley_connect_def **out, parley_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    int parser_ok = 0, doc_ok = 0;
    struct loader ld;
    parley_connect_def *d = NULL;
    parley_err rc = PARLEY_OK;

    if (!name || (!buf && len) || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot load connector: bad argument");
    if (len > PARLEY_CONNECT_MAX_DEF)
        return parley_error_set(err, PARLEY_ERR_LIMIT,
                                "cannot load connector '%s': larger than %d bytes", name,
                                PARLEY_CONNECT_MAX_DEF);
    memset(&ld, 0, sizeof(ld));
    ld.file = name;
    ld.doc = &doc;
    if (!yaml_parser_initialize(&parser)) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load connector '%s': out of memory",
                              name);
        goto out;
    }
    parser_ok = 1;
    yaml_parser_set_input_string(&parser,
                                 buf ? (const unsigned char *)buf : (const unsigned char *)"", len);
    if (!yaml_parser_load(&parser, &doc)) {
        if (parser.error == YAML_MEMORY_ERROR)
            rc = parley_error_set(err, PARLEY_ERR_NOMEM,
                                  "cannot load connector '%s': out of memory", name);
        else
            rc = parley_error_set(err, PARLEY_ERR_FORMAT, "%s:%lu:%lu: invalid YAML: %s", name,
                                  (unsigned long)parser.problem_mark.line + 1,
                                  (unsigned long)parser.problem_mark.column + 1,
                                  parser.problem ? parser.problem : "syntax error");
        goto out;
    }
    doc_ok = 1;
    d = parley__calloc(1, sizeof(*d));
    if (!d) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load connector '%s': out of memory",
                              name);
        goto out;
    }
    parley__connect_parse_root(&ld, yaml_document_get_root_node(&doc), d);
    if (ld.nomem) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load connector '%s': out of memory",
                              name);
        goto out;
    }
    if (ld.problems == 1) {
        rc = parley_error_set(err, PARLEY_ERR_FORMAT, "%s", ld.first);
        goto out;
    }
    if (ld.problems > 1) {
        rc = parley_error_set(err, PARLEY_ERR_FORMAT, "%s (and %u more problem%s)", ld.first,
                              ld.problems - 1, ld.problems == 2 ? "" : "s");
        goto out;
    }
    *out = d;
    d = NULL;
out:
    parley_connect_def_free(d);
    if (doc_ok)
        yaml_document_delete(&doc);
    if (parser_ok)
        yaml_parser_delete(&parser);
    return rc;
}

parley_err parley_connect_def_load(const char *path, parley_connect_def **out, parley_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    parley_err rc;
    if (!path || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot load connector: bad argument");
    rc = parley__read_file(path, PARLEY_CONNECT_MAX_DEF, &buf, &len, err);
    if (rc != PARLEY_OK) {
        if (rc == PARLEY_ERR_LIMIT)
            (void)parley_error_set(err, rc, "cannot load connector '%s': larger than %d bytes",
                                   path, PARLEY_CONNECT_MAX_DEF);
        return rc;
    }
    rc = parley_connect_def_load_memory(path, buf, len, out, err);
    parley__free(buf);
    return rc;
}

const char *parley_connect_def_name(const parley_connect_def *def)
{
    return def ? def->name : NULL;
}

size_t parley_connect_def_op_count(const parley_connect_def *def)
{
    return def ? def->nops : 0;
}

const char *parley_connect_def_op_name(const parley_connect_def *def, size_t i)
{
    return def && i < def->nops ? def->ops[i].name : NULL;
}

size_t parley_connect_def_param_count(const parley_connect_def *def, const char *op)
{
    const struct connect_op *o = def && op ? parley__connect_find_op(def, op) : NULL;
    return o ? o->nparams : 0;
}

const char *parley_connect_def_param_name(const parley_connect_def *def, const char *op, size_t i)
{
    const struct connect_op *o = def && op ? parley__connect_find_op(def, op) : NULL;
    return o && i < o->nparams ? o->params[i].name : NULL;
}

size_t parley_connect_def_fact_count(const parley_connect_def *def, const char *op)
{
    const struct connect_op *o = def && op ? parley__connect_find_op(def, op) : NULL;
    return o ? o->nfields : 0;
}

const char *parley_connect_def_fact_name(const parley_connect_def *def, const char *op, size_t i)
{
    const struct connect_op *o = def && op ? parley__connect_find_op(def, op) : NULL;
    return o && i < o->nfields ? o->fields[i].name : NULL;
}

parley_connect_sensitivity parley_connect_def_fact_sensitivity(const parley_connect_def *def,
                                                               const char *op, size_t i)
{
    const struct connect_op *o = def && op ? parley__connect_find_op(def, op) : NULL;
    return o && i < o->nfields ? o->fields[i].sensitivity : PARLEY_CONNECT_PUBLIC;
}

int parley_connect_def_op_is_write(const parley_connect_def *def, const char *op)
{
    const struct connect_op *o = def && op ? parley__connect_find_op(def, op) : NULL;
    return o && o->write;
}

const struct connect_op *parley__connect_find_op(const parley_connect_def *def, const char *name)
{
    for (size_t i = 0; i < def->nops; i++)
        if (def->ops[i].name && strcmp(def->ops[i].name, name) == 0)
            return &def->ops[i];
    return NULL;
}

const char *parley__connect_method_name(enum connect_method m)
{
    static const char *const names[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    return (unsigned)m < 5 ? names[m] : "GET";
}
