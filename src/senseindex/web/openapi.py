"""The JSON API described in OpenAPI 3.1 (served at /api/openapi.json and rendered at /api).

Field names are the CLI's --json field names: a hit is `Hit.to_dict()`, a report `SenseReport.to_dict()`,
an info object `senseindex info --json`, a label summary `senseindex labels list --json`.
"""

from __future__ import annotations

from functools import lru_cache

from .views import MAX_K, MAX_LABEL, MAX_QUERY, MAX_SENTENCES


def _q(name: str, description: str, schema: dict, required: bool = False, many: bool = False) -> dict:
    if many:
        schema = {"type": "array", "items": schema}
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema,
            **({"style": "form", "explode": True} if many else {})}


INDEX = _q("index", "Index name in this server (GET /api/indexes); default: the first.", {"type": "string"})
WORD = _q("word", "A word; its lemma's occurrences are used.", {"type": "string", "maxLength": 100}, True)
SENSE_PARAMS = [
    INDEX, WORD,
    _q("k", "Number of sense clusters, or auto.", {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 50},
                                                            {"const": "auto"}], "default": "auto"}),
    _q("min_size", "Smallest cluster kept as a sense.", {"type": "integer", "minimum": 1}),
    _q("seed", "Seed for sampling above 4,000 occurrences.", {"type": "integer", "minimum": 0, "default": 0}),
]
OVER_PARAMS = [
    INDEX, WORD,
    _q("by", "Metadata field to group by (year, genre, ...).", {"type": "string"}, True),
    _q("bin", "Group numbers this wide (10: decades).", {"type": "integer", "minimum": 1}),
    _q("of", "Senses as labels in effect or clusters.", {"enum": ["auto", "label", "cluster"], "default": "auto"}),
    _q("where", "Metadata filter, as --where.", {"type": "string", "maxLength": 1000}),
    _q("k", "Number of clusters with of=cluster, or auto.", {"oneOf": [{"type": "integer", "minimum": 1},
                                                                      {"const": "auto"}], "default": "auto"}),
]
ERRORS = {
    "400": {"description": "Bad input (the message says what)", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}},
    "404": {"description": "No index of that name", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}},
}
WRITE_ERRORS = {
    **ERRORS,
    "403": {"description": "Cross-origin request, missing CSRF token, or a read-only server",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "409": {"description": "Another process (e.g. `senseindex index`) is writing to the index; try again",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "413": {"description": "Request body too large", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}},
}


def _ok(description: str, schema: dict) -> dict:
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


@lru_cache(maxsize=1)
def openapi_spec() -> dict:
    from senseindex import __version__

    hit = {"type": "object", "properties": {
        "rank": {"type": "integer"}, "score": {"type": ["number", "null"]}, "text": {"type": "string"},
        "word": {"type": ["string", "null"]}, "lemma": {"type": ["string", "null"]},
        "start": {"type": ["integer", "null"]}, "end": {"type": ["integer", "null"]}, "doc": {"type": "string"},
        "line": {"type": "integer"}, "sentence_id": {"type": "integer"},
        "occurrence_id": {"type": ["integer", "null"]}, "label": {"type": ["string", "null"]},
        "label_source": {"type": ["string", "null"], "enum": ["review", "gold", "predicted", None]}},
        "required": ["rank", "score", "text", "doc", "line", "sentence_id"]}
    target = {"type": "object", "properties": {
        "text": {"type": "string"}, "start": {"type": "integer"}, "end": {"type": "integer"},
        "word": {"type": "string"}, "lemma": {"type": "string"},
        "how": {"type": "string", "description": "marked, --word or rarest"}}}
    label_write = {"type": "object", "description": (
        "One all-or-nothing write of review labels, by the same checks as `senseindex labels import`. "
        "Give exactly one of: `cluster` + `label` (+ `word`, `k`, `min_size`, `seed` as on the senses page) "
        "to label a whole cluster; `occurrence_ids` + `label` to label (move) lines; `restore` to write back "
        "the `before` of an earlier answer (undo); `rows` in the review file's columns."),
        "properties": {
            "index": {"type": "string"}, "word": {"type": "string"}, "cluster": {"type": "integer"},
            "label": {"type": "string", "maxLength": MAX_LABEL},
            "k": {"oneOf": [{"type": "integer"}, {"const": "auto"}]}, "min_size": {"type": "integer"},
            "seed": {"type": "integer"},
            "occurrence_ids": {"type": "array", "items": {"type": "integer"}},
            "restore": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
            "rows": {"type": "array", "items": {"type": "object"}}}}
    write_result = {"type": "object", "properties": {
        "rows": {"type": "integer"}, "labelled": {"type": "integer"}, "from_cluster_labels": {"type": "integer"},
        "changed": {"type": "integer"}, "unchanged": {"type": "integer"}, "unlabelled": {"type": "integer"},
        "cleared": {"type": "integer"},
        "before": {"type": "object", "additionalProperties": {"type": ["string", "null"]},
                   "description": "Review label of each touched occurrence before the write (null: none)"},
        "summary": _ref("LabelSummary")}}
    summary = {"type": "object", "properties": {
        "lemma": {"type": "string"}, "occurrences": {"type": "integer"}, "labelled": {"type": "integer"},
        "labels": {"type": "array", "items": {"type": "object", "properties": {
            "label": {"type": "string"}, "review": {"type": "integer"}, "gold": {"type": "integer"},
            "predicted": {"type": "integer"}, "effective": {"type": "integer"}}}}}}
    paths = {
        "/api/indexes": {"get": {"summary": "The indexes this server serves", "operationId": "indexes",
                                 "responses": _ok("Index names", {"type": "object", "properties": {
                                     "indexes": {"type": "array", "items": {"type": "string"}},
                                     "read_only": {"type": "boolean"}}})}},
        "/api/info": {"get": {"summary": "What the index holds (senseindex info --json)", "operationId": "info",
                              "parameters": [INDEX, _q("word", "Also this word's occurrences and per million.",
                                                       {"type": "string"})],
                              "responses": {**_ok("Counts, model, size", {"type": "object"}), **ERRORS}}},
        "/api/search": {"get": {
            "summary": "Occurrences of the target word in the same sense (senseindex search --json)",
            "operationId": "search",
            "parameters": [
                INDEX,
                _q("q", "Query sentence; mark the target like [mole], else `word`, else its rarest indexed word. "
                   "A query that starts like a CQL token ([lemma=...]) is taken as `cql`.",
                   {"type": "string", "maxLength": MAX_QUERY}),
                _q("cql", "A CQL token query, e.g. [lemma=\"bank\" & pos=\"NOUN\"] (docs/concordance.md); with `q` "
                   "the matches are ranked by similarity to the example, without it they come in corpus order.",
                   {"type": "string", "maxLength": MAX_QUERY}),
                _q("k", "At most this many lines, after the filters.",
                   {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 10}),
                _q("label", "Only occurrences with this label in effect ((none): without a label).", {"type": "string"}),
                _q("doc", "Only occurrences in this document (its stored path).", {"type": "string"}),
                _q("where", "Only occurrences in this metadata selection or @subcorpus (senseindex subcorpus), "
                   "applied before ranking and the cap.", {"type": "string", "maxLength": 1000}),
                _q("any_pos", "Every part of speech (default: the target's only).", {"type": "boolean"}),
                _q("word", "The target word when the query is not marked.", {"type": "string"}),
                _q("any_word", "Search every occurrence, not only the target's lemma.", {"type": "boolean"}),
                _q("static", "Rank by the static GloVe view (sentence vectors).", {"type": "boolean"}),
                _q("compare", "Contextual and static results side by side.", {"type": "boolean"})],
            "responses": {**_ok("Target and hits (`contextual` and `static` instead of `hits` with compare)", {
                "type": "object", "properties": {
                    "index": {"type": "string"}, "target": _ref("Target"),
                    "counts": {"type": "object", "description": (
                        "total: occurrences before any filter; matching: after the filters; shown: lines "
                        "returned (k); pos_left_out: left out for their part of speech")},
                    "hits": {"type": "array", "items": _ref("Hit")},
                    "contextual": {"type": "array", "items": _ref("Hit")},
                    "static": {"type": "array", "items": _ref("Hit")}}}), **ERRORS}}},
        "/api/collocates": {"get": {
            "summary": "Window collocates of each sense with logDice (senseindex collocates --json), and the "
                       "word's frequencies per million (senseindex freq --json)",
            "operationId": "collocates",
            "parameters": [INDEX, WORD,
                           _q("by", "Group by sense cluster or label.", {"enum": ["cluster", "label"]}),
                           _q("window", "Tokens left and right.", {"type": "integer", "default": 5}),
                           _q("top", "Collocates per sense.", {"type": "integer", "default": 15}),
                           _q("min_count", "Least co-occurrences.", {"type": "integer", "default": 1}),
                           _q("item", "Collocates by lemma or word form.", {"enum": ["lemma", "word"]})],
            "responses": {**_ok("Groups with collocates; frequency", {"type": "object"}), **ERRORS}}},
        "/api/words": {"get": {
            "summary": "The words of a sentence with their lemma and occurrences in the index (0: not indexed)",
            "operationId": "words", "parameters": [INDEX, _q("q", "A sentence.", {"type": "string"}, True)],
            "responses": {**_ok("Words", {"type": "object"}), **ERRORS}}},
        "/api/context": {"get": {
            "summary": "A sentence with its neighbours in its document",
            "operationId": "context",
            "parameters": [INDEX, _q("sentence_id", "The sentence.", {"type": "integer"}, True),
                           _q("around", "Sentences before and after.", {"type": "integer", "default": 2})],
            "responses": {**_ok("Sentences", {"type": "object"}), **ERRORS}}},
        "/api/senses": {"get": {
            "summary": "A word's sense clusters (senseindex senses --json), with review names and counts per document",
            "operationId": "senses",
            "parameters": [*SENSE_PARAMS, _q("rows", "Include every occurrence with its cluster and label.",
                                             {"type": "boolean"})],
            "responses": {**_ok("SenseReport", {"type": "object"}), **ERRORS}}},
        "/api/senses/plot": {"get": {
            "summary": "2-D map of the word's occurrences (PCA, as senseindex plot), in page coordinates",
            "operationId": "plot", "parameters": SENSE_PARAMS,
            "responses": {**_ok("Points", {"type": "object"}), **ERRORS}}},
        "/api/over": {"get": {
            "summary": "Senses of a word over metadata: share, Wilson interval and per million per bin "
                       "(senseindex over --json)",
            "operationId": "sensesOver", "parameters": OVER_PARAMS,
            "responses": {**_ok("Table", {"type": "object"}), **ERRORS}}},
        "/api/over/lines": {"get": {
            "summary": "The occurrences behind one bin and sense of /api/over",
            "operationId": "sensesOverLines", "parameters": [
                *OVER_PARAMS, _q("value", "The bin, as /api/over names it (1990-1999) or by its value.",
                                 {"type": "string"}, True),
                _q("sense", "The sense (label or cluster name).", {"type": "string", "maxLength": MAX_LABEL}, True)],
            "responses": {**_ok("Lines", {"type": "object"}), **ERRORS}}},
        "/api/labels": {
            "get": {"summary": "Labels of a word by source and in effect (senseindex labels list --json)",
                    "operationId": "labelSummary", "parameters": [INDEX, WORD],
                    "responses": {**_ok("Summary", _ref("LabelSummary")), **ERRORS}},
            "post": {"summary": "Store review labels (all or nothing; needs X-CSRF-Token)",
                     "operationId": "writeLabels",
                     "parameters": [_q("X-CSRF-Token", "GET /api/csrf", {"type": "string"}, True) | {"in": "header"}],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": label_write}}},
                     "responses": {**_ok("What was written, and what to restore for an undo", write_result),
                                   **WRITE_ERRORS}}},
        "/api/labels/export": {"get": {
            "summary": "Stored labels with their sentences (senseindex labels export --json)",
            "operationId": "labelExport",
            "parameters": [INDEX, _q("word", "Only this word's lemma.", {"type": "string"}),
                           _q("source", "Only these sources.", {"enum": ["review", "gold", "predicted"]},
                              many=True)],
            "responses": {**_ok("Rows", {"type": "array", "items": {"type": "object"}}), **ERRORS}}},
        "/api/labels/import": {"post": {
            "summary": "Import a reviewed CSV/JSONL file (senseindex labels import; needs X-CSRF-Token)",
            "operationId": "importLabels",
            "parameters": [INDEX, _q("X-CSRF-Token", "GET /api/csrf", {"type": "string"}, True) | {"in": "header"}],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}},
            "responses": {**_ok("Import summary (senseindex labels import --json)", {"type": "object"}),
                          **WRITE_ERRORS}}},
        "/api/explain": {"get": {
            "summary": "Contextual and static cosine matrices of marked words (senseindex explain --json)",
            "operationId": "explain",
            "parameters": [INDEX, _q("s", f"2 to {MAX_SENTENCES} sentences, each with a [marked] word.",
                                     {"type": "string", "maxLength": MAX_QUERY}, True, many=True),
                           _q("neighbours", "Nearest words per occurrence.",
                              {"type": "integer", "minimum": 0, "maximum": 50, "default": 8})],
            "responses": {**_ok("Matrices and neighbours", {"type": "object"}), **ERRORS}}},
        "/api/review": {
            "get": {"summary": "The next occurrences of a word to label, active review (senseindex review --json)",
                    "operationId": "reviewQuestions",
                    "parameters": [INDEX, WORD, _q("n", "Occurrences to propose.",
                                                   {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10})],
                    "responses": {**_ok("ReviewBatch: questions, senses so far, status", {"type": "object"}),
                                  **ERRORS}},
            "post": {"summary": "Store answers to review questions as review labels, then label the rest by k-NN "
                                "(senseindex review --answer; needs X-CSRF-Token)",
                     "operationId": "reviewAnswers",
                     "parameters": [_q("X-CSRF-Token", "GET /api/csrf", {"type": "string"}, True) | {"in": "header"}],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["word"], "properties": {
                             "index": {"type": "string"}, "word": {"type": "string"},
                             "answers": {"type": "object", "additionalProperties": {"type": "string"},
                                         "description": "occurrence id -> sense name, or \"skip\" (an occurrence "
                                                        "answered before gets the new answer: an edit)"},
                             "undo": {"type": "object", "additionalProperties": {"type": ["string", "null"]},
                                      "description": "instead of answers: the `before` of an earlier answer, "
                                                     "written back (null: no review label, not skipped)"}}}}}},
                     "responses": {**_ok("Counts stored, `before` (for an undo) and the status after them; "
                                         "`status.stop` is the stopping rule", {"type": "object"}),
                                   **WRITE_ERRORS}}},
        "/api/review/status": {"get": {
            "summary": "Who labelled a word's occurrences, and the estimated accuracy (senseindex review --status --json)",
            "operationId": "reviewStatus", "parameters": [INDEX, WORD],
            "responses": {**_ok("Status", {"type": "object"}), **ERRORS}}},
        "/api/csrf": {"get": {"summary": "The token POST requests send in X-CSRF-Token", "operationId": "csrf",
                              "responses": _ok("Token", {"type": "object", "properties": {
                                  "csrf_token": {"type": "string"}}})}},
        "/api/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                      "responses": _ok("OpenAPI 3.1", {"type": "object"})}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "senseindex workbench API", "version": __version__,
                 "description": "Sense-aware search, senses and review labels over the indexes this server "
                                "serves. Field names follow the CLI's --json output."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": {"Hit": hit, "Target": target, "LabelSummary": summary,
                                   "Error": {"type": "object", "properties": {"error": {"type": "string"}},
                                             "required": ["error"]}}},
    }
