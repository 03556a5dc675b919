"""The web layer: HTML pages (and later the JSON API and feeds) over the domain packages."""
