"""Search: keyword (BM25) now; semantic and hybrid retrieval build on the same shapes."""
